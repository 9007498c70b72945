"""core.pdf: HTML to PDF in the WQY font, with Chinese refusals when the font or Pango is
missing."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from yigongti.core import pdf
from yigongti.core.errors import DomainError


def test_html_to_pdf_sets_chinese_text() -> None:
    html = (
        f'<style>@font-face {{ font-family: "{pdf.FONT_FAMILY}"; '
        f'src: url("{pdf.font_file().as_uri()}"); }} '
        f'body {{ font-family: "{pdf.FONT_FAMILY}"; }}</style><p>青禾县 50.00%</p>'
    )
    content = pdf.html_to_pdf(html)
    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 1
    assert reader.pages[0].extract_text().strip() == "青禾县 50.00%"


def test_missing_font_is_refused_in_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf, "FONT_FILE", Path("/nonexistent/wqy.ttc"))
    with pytest.raises(
        DomainError, match=r"找不到中文字体 /nonexistent/wqy\.ttc：请安装 fonts-wqy"
    ):
        pdf.font_file()


class _NoPango:
    """A finder that fails the way WeasyPrint does when Pango's libraries are missing."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0'")


def test_missing_pango_is_refused_in_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "weasyprint", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_NoPango(), *sys.meta_path])
    with pytest.raises(DomainError, match="无法生成 PDF：缺少 WeasyPrint 所需的系统库"):
        pdf.html_to_pdf("<p>x</p>")
