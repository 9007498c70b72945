"""The annual monitoring report (Excel and PDF) of the hand-built county (conftest.py).

The figures come from the fixture's rows, as worked out in test_services.py: nhc-07 2 of 4
visits at 基层 (50%), nhc-08 7,780 of 22,080 yuan (35.235507%), nhc-10 10,000 yuan over 2
stays (5,000 yuan), all for 2025; visits only in March.
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from openpyxl import load_workbook
from pypdf import PdfReader

from yigongti.indicators import definitions, reports, rules
from yigongti.indicators.services import do_compute

NATIONAL = ["紧密型", "同质化", "促分工", "提效能", "保健康"]
XLSX_NAME = "青禾县-2025-医共体监测报告.xlsx"


def dimensions() -> list[str]:
    seen: list[str] = []
    for indicator in definitions.INDICATORS:
        if indicator.dimension not in seen:
            seen.append(indicator.dimension)
    return seen


def row_of(sheet: Any, code: str) -> int:
    """The first row whose column A holds ``code`` (the dimension's main table)."""
    for (cell,) in sheet.iter_rows(min_col=1, max_col=1):
        if cell.value == code:
            return int(cell.row)
    raise AssertionError(f"{code} not in {sheet.title}")


def section_rows(sheet: Any, title: str) -> list[tuple[Any, ...]]:
    """The data rows of the table under the section ``title`` (up to the next blank row)."""
    rows = list(sheet.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == title)
    out = []
    for r in rows[start + 2 :]:
        if r[0] is None:
            break
        out.append(r)
    return out


def pdf_text(content: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(content))
    text = "".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), re.sub(r"\s+", "", text)


@pytest.mark.parametrize(
    ("status", "indicator_status", "has_value", "verdict", "label"),
    [
        (rules.GREEN, "computed", True, "", "达标"),
        (rules.AMBER, "computed", True, "", "接近"),
        (rules.RED, "computed", True, "", "未达标"),
        (rules.NONE, "computed", True, "", "无目标"),
        (rules.NONE, "computed", False, "", "无数据"),
        (rules.NONE, "pending", False, "", "待接入数据"),
        (rules.NONE, "evidence", False, "", "待评估"),
        (rules.NONE, "evidence", False, "基本达标", "基本达标"),
    ],
)
def test_status_label(
    status: str, indicator_status: str, has_value: bool, verdict: str, label: str
) -> None:
    assert rules.status_label(status, indicator_status, has_value, verdict) == label


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        ("35.235507", "%", "35.24%"),
        ("5000", "元", "¥5,000.00"),
        ("3.2", "人/万人", "3.20 人/万人"),
        ("-37.44", "元", "-¥37.44"),  # nhc-10g's numerator in the demo; before, "¥-37.44"
        (None, "%", "—"),
    ],
)
def test_format_value(value: str | None, unit: str, text: str) -> None:
    from decimal import Decimal

    assert reports.format_value(Decimal(value) if value else None, unit) == text


def test_content_disposition_keeps_the_chinese_name() -> None:
    header = reports.content_disposition(XLSX_NAME)
    assert header == (
        'attachment; filename="qinghexian-2025-report.xlsx"; '
        "filename*=UTF-8''%E9%9D%92%E7%A6%BE%E5%8E%BF-2025-"
        "%E5%8C%BB%E5%85%B1%E4%BD%93%E7%9B%91%E6%B5%8B%E6%8A%A5%E5%91%8A.xlsx"
    )


@pytest.mark.django_db
def test_excel_sheets_values_formats_and_caliber(county: Path, settings: Any) -> None:
    settings.SNAPSHOT_ROOT = county
    do_compute("2025", root=county, breakdown=True)
    report = reports.build_report("2025")
    assert report.county_name == "青禾县"
    assert reports.file_name(report, "xlsx") == XLSX_NAME
    book = load_workbook(io.BytesIO(reports.render_xlsx(report)))

    assert book.sheetnames == ["封面", *dimensions()]
    assert book.sheetnames[1:6] == NATIONAL
    cover = book["封面"]
    assert cover["A1"].value == "青禾县2025年度紧密型县域医共体监测报告"
    facts = {r[0]: r[1] for r in cover.iter_rows(min_row=3, max_row=10, values_only=True)}
    assert facts["报告年度"] == "2025"
    assert facts["数据截至"] == "2025-07"  # the snapshot manifest: S3 is the last encounter

    # the overview with a unit column: "6,120.00" alone did not say 人次/千人
    header = next(r for r in cover.iter_rows(values_only=True) if r[0] == "编码")
    assert header == ("编码", "维度", "指标", "值", "单位", "目标", "状态")
    overview = {r[0]: r[3:] for r in cover.iter_rows(values_only=True) if r[0]}
    assert overview["nhc-07"] == (0.5, "%", 0.65, "未达标")
    assert overview["op-01"][1:] == ("人次/千人", "—", "无目标")

    sheet = book["促分工"]
    assert [c.value for c in sheet[4]][:11] == list(reports.MAIN_HEADERS)
    # the monthly and ranking tables follow: the overview's header is not frozen over them
    # nor repeated on their printed pages; a sheet of pending indicators only keeps both
    assert sheet.freeze_panes is None and sheet.print_title_rows is None
    pending = book["同质化"]
    assert pending.freeze_panes == "A5" and pending.print_title_rows == "$4:$4"
    r = row_of(sheet, "nhc-07")
    value, num, den, target, status = (sheet.cell(r, c) for c in (4, 5, 6, 7, 8))
    assert (value.value, value.number_format) == (0.5, "0.00%")
    assert (num.value, num.number_format) == (2, "#,##0")
    assert (den.value, den.number_format) == (4, "#,##0")
    assert (target.value, target.number_format) == (0.65, "0.00%")
    assert status.value == "未达标"
    assert sheet.cell(r, 9).value == "据原文推定"  # [I], as the dashboard reads it
    assert sheet.cell(r, 10).value == definitions.get("nhc-07").caliber
    assert "基层医疗卫生机构" in sheet.cell(r, 10).value
    assert sheet.cell(r, 11).value == (
        "《南县全面推进紧密型县域医疗卫生共同体建设实施方案》：到2026年底县域就诊率90%、"
        "基层诊疗人次占比65%〔原文〕"
    )

    r = row_of(sheet, "nhc-08")
    value, num, den, target, status = (sheet.cell(r, c) for c in (4, 5, 6, 7, 8))
    assert (value.value, value.number_format) == (0.35235507, "0.00%")
    assert (num.value, num.number_format) == (7780, '"¥"#,##0.00')
    assert (den.value, den.number_format) == (22080, '"¥"#,##0.00')
    assert (target.value, status.value) == ("—", "无目标")
    assert sheet.cell(r, 10).value.endswith("不含定点药店")

    # monthly values: visits only in March
    months = {row[0]: row[2:14] for row in section_rows(sheet, "月度值（全县）")}
    assert months["nhc-07"] == ("—", "—", 0.5, *["—"] * 9)
    # the 基层 shares are county figures: no township or institution tables under them
    assert not [r for r in sheet.iter_rows(values_only=True) if str(r[0]).startswith("按")]

    sheet = book["提效能"]
    # breakdowns: 河口乡 1 (E2) of 2; institutions best first, ties by code
    towns = section_rows(sheet, "按乡镇：nhc-12 县域内中医类诊疗量占比")
    assert [(t[1], t[3], t[4], t[5]) for t in towns] == [("河口乡", 0.5, 1, 2)]
    insts = section_rows(sheet, "按机构：nhc-12 县域内中医类诊疗量占比")
    assert [(i[2], i[3]) for i in insts] == [
        ("QH0002", 1.0),
        ("QH1002", 1.0),
        ("QH0001", 0.0),
        ("QH2003", 0.0),
    ]
    r = row_of(sheet, "nhc-10")
    assert (sheet.cell(r, 4).value, sheet.cell(r, 4).number_format) == (5000, '"¥"#,##0.00')
    # the growth rate is computed like any other: its township and institution tables are
    # there (no stays a year earlier: "—"); before, the report treated it as not computed
    towns = section_rows(sheet, "按乡镇：nhc-10g 参保人县域内住院人均费用增长率")
    # no value, so no parts either: "—" as on the dashboard, not "¥0.00 / ¥0.00"
    assert [(t[1], t[3], t[4], t[5]) for t in towns] == [("河口乡", "—", "—", "—")]
    # ... and no rank: a row with no value ranks nowhere (was 1)
    assert [t[0] for t in towns] == ["—"]
    # the county's own row too: no parts beside "—" (was ¥0.00 / ¥0.00)
    g = row_of(sheet, "nhc-10g")
    assert [sheet.cell(g, c).value for c in (4, 5, 6)] == ["—", "—", "—"]
    items = dict(report.dimensions)["提效能"]
    growth = next(i for i in items if i.indicator.code == "nhc-10g")
    assert growth.computed and len(growth.breakdowns) == 2
    assert sheet.cell(r, 6).value == 2 and sheet.cell(r, 6).number_format == "#,##0"
    # print setup: A4 landscape, one page wide (no repeated header: tables follow it)
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.paperSize == 9
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    # fitToWidth is left out when 1 (the OOXML default); 0 pages tall = as many as needed
    assert sheet.page_setup.fitToWidth is None and sheet.page_setup.fitToHeight == 0
    assert sheet.print_title_rows is None

    # qualitative and pending indicators: their status text, never a number
    sheet = book["紧密型"]
    r = row_of(sheet, "nhc-01")
    assert [sheet.cell(r, c).value for c in (4, 5, 6, 8)] == ["—", "—", "—", "待评估"]
    sheet = book["保健康"]
    r = row_of(sheet, "nhc-13")
    assert [sheet.cell(r, c).value for c in (4, 5, 6, 8)] == ["—", "—", "—", "待接入数据"]


@pytest.mark.django_db
def test_pdf_pages_and_text(county: Path, settings: Any) -> None:
    settings.SNAPSHOT_ROOT = county
    do_compute("2025", root=county, breakdown=True)
    content = reports.render_pdf(reports.build_report("2025"))
    assert content.startswith(b"%PDF-")
    pages, text = pdf_text(content)
    # the overview, one page per dimension (more where charts and tables run on), the notes
    assert len(dimensions()) + 2 <= pages <= len(dimensions()) * 3 + 2
    assert "青禾县2025年度紧密型县域医共体监测报告" in text
    assert "数据截至2025-07" in text
    for name in ("县域内基层医疗卫生机构诊疗人次数占比", "医保基金县域内支出占比（不含药店）"):
        assert name in text
    assert "50.00%" in text and "35.24%" in text and "¥5,000.00" in text
    assert "分子2，分母4" in text and "分子¥7,780.00，分母¥22,080.00" in text
    assert "未达标" in text and "待接入数据" in text and "待评估" in text
    # a ranking row with no value has no rank (nhc-10g: no stays a year earlier)
    assert "—河口乡———" in text and "1河口乡———" not in text
    assert f"第1页，共{pages}页" in text and f"第{pages}页，共{pages}页" in text
    # no command lines or parameter keys in a document for officials
    for developer in ("yigongti", "--breakdown", "indicators.amber_band"):
        assert developer not in text


@pytest.mark.django_db
def test_command_writes_both_and_refuses_a_year_without_results(
    county: Path, settings: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.SNAPSHOT_ROOT = county
    do_compute("2025", root=county, breakdown=True)
    out = tmp_path / "r.xlsx"
    call_command("indicators", "report", "--year", "2025", "--format", "xlsx", "--out", str(out))
    assert "已生成 2025 年度监测报告（青禾县" in capsys.readouterr().out
    assert load_workbook(out).sheetnames[0] == "封面"
    pdf = tmp_path / "r.pdf"
    call_command("indicators", "report", "--year", "2025", "--format", "pdf", "--out", str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF-")

    missing = tmp_path / "none.xlsx"
    with pytest.raises(CommandError, match="2024 年没有指标结果：请先计算该年度的指标"):
        call_command(
            "indicators", "report", "--year", "2024", "--format", "xlsx", "--out", str(missing)
        )
    with pytest.raises(CommandError, match="年度“25”无效"):
        call_command("indicators", "report", "--year", "25", "--out", str(missing))
    with pytest.raises(
        CommandError,
        match="2025 年没有县“439902000000”的指标结果或您无权查看，可选：439901000000（青禾县）",
    ):
        call_command("indicators", "report", "--year", "2025", "--county", "439902000000")
    assert not missing.exists()
    call_command(
        "indicators", "report", "--year", "2025", "--county", "439901000000", "--out", str(out)
    )
    assert "已生成 2025 年度监测报告（青禾县" in capsys.readouterr().out


@pytest.mark.django_db
def test_download_from_the_dashboard_and_refusals(world: Any, county: Path, settings: Any) -> None:
    settings.SNAPSHOT_ROOT = county
    do_compute("2025", root=county, breakdown=True)
    client = Client()
    client.force_login(world.users["county_admin"])
    page = client.get("/indicators/?period=2025").content.decode()
    assert 'href="/indicators/report/?year=2025&amp;format=xlsx"' in page
    assert 'href="/indicators/report/?year=2025&amp;format=pdf"' in page

    response = client.get("/indicators/report/?year=2025&format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == reports.CONTENT_TYPES["xlsx"]
    assert f"filename*=UTF-8''{quote(XLSX_NAME)}" in response["Content-Disposition"]
    assert load_workbook(io.BytesIO(response.content)).sheetnames[:2] == ["封面", "紧密型"]
    response = client.get("/indicators/report/?year=2025&format=pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    assert quote("青禾县-2025-医共体监测报告.pdf") in response["Content-Disposition"]

    # a year without results and an unknown format go back to the dashboard with the reason
    response = client.get("/indicators/report/?year=2024&format=xlsx", follow=True)
    assert response.redirect_chain == [("/indicators/", 302)]
    shown = response.content.decode()
    # in words for officials: no field name ("year：") and no command line
    assert "2024 年没有指标结果：请先计算该年度的指标（由信息中心在数据快照后计算）" in shown
    assert "year：" not in shown and "yigongti indicators" not in shown
    response = client.get("/indicators/report/?year=2025&format=docx", follow=True)
    assert "报告格式“docx”不可用" in response.content.decode()

    doctor = Client()
    doctor.force_login(world.users["family_doctor"])
    response = doctor.get("/indicators/report/?year=2025&format=xlsx")
    assert response.status_code == 403
    assert "年度监测报告供县级管理员" in response.content.decode()


@pytest.mark.django_db
def test_chart_labels_are_numbers_with_the_unit_on_the_axis(county: Path, settings: Any) -> None:
    settings.SNAPSHOT_ROOT = county
    do_compute("2025", root=county, breakdown=True)
    report = reports.build_report("2025")
    item = next(i for i in report.indicators if i.indicator.code == "op-01")
    svg = base64.b64decode(reports.trend_svg(item).split(",", 1)[1]).decode()
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    shown = [v for _, v in item.months if v is not None]
    assert shown  # the fixture has monthly visits
    for value in shown:
        assert f"{value:,.2f}" in labels  # the number alone, not "… 人次/千人"
    assert labels.count("人次/千人") == 1  # once, on the axis
