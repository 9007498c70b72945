"""HTML to PDF with WeasyPrint, in the one CJK font every machine carries.

WeasyPrint is imported on first use: it loads Pango through its own FFI, and a machine without
Pango (``./dev test`` installs libpango-1.0-0 and libpangoft2-1.0-0) should still serve every
page that prints nothing. Templates reference the font with an ``@font-face`` on
``font_file().as_uri()`` and the family ``FONT_FAMILY``.
"""

from __future__ import annotations

from pathlib import Path

from yigongti.core.errors import DomainError

# Debian's fonts-wqy-microhei (./dev installs it): WeasyPrint and matplotlib read this file.
FONT_FILE = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FONT_FAMILY = "WenQuanYi Micro Hei"


def font_file() -> Path:
    """The font file; DomainError (Chinese) when the package is missing."""
    if not FONT_FILE.exists():
        raise DomainError(
            f"找不到中文字体 {FONT_FILE}：请安装 fonts-wqy-microhei（./dev test 会自动安装）",
            field="format",
        )
    return FONT_FILE


def html_to_pdf(html: str, base_url: str | None = None) -> bytes:
    """The PDF of a complete HTML document; DomainError (Chinese) when Pango is missing."""
    try:
        import weasyprint
    except OSError as exc:  # WeasyPrint fails to load Pango's libraries
        raise DomainError(
            f"无法生成 PDF：缺少 WeasyPrint 所需的系统库（{exc}）。请安装 libpango-1.0-0 和 "
            "libpangoft2-1.0-0",
            field="format",
        ) from None
    return bytes(weasyprint.HTML(string=html, base_url=base_url).write_pdf())
