"""The annual monitoring report (年度监测报告) as Excel and PDF, from stored results only.

``build_report(year)`` gathers what the dashboard shows for a year through ``queries`` (the
county value of every indicator against its target, the monthly values, the township and
institution breakdowns, the categories of a broken-down indicator); ``render_xlsx`` writes a
formatted workbook — a cover sheet, then one sheet per dimension in the order of
``definitions.INDICATORS`` — and ``render_pdf`` prints an A4 document with WeasyPrint from
``templates/indicators/report.html``, one monthly trend chart per computed indicator drawn
server-side as SVG with matplotlib. Nothing reads person-level rows; qualitative and pending
indicators show their status text, never a number.
"""

from __future__ import annotations

import base64
import io
import math
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import xlsxwriter
from django.template.loader import render_to_string
from django.utils import timezone
from pypinyin import Style, lazy_pinyin

from yigongti.accounts.rules import Scope
from yigongti.core import clock
from yigongti.core.errors import DomainError
from yigongti.core.pdf import FONT_FAMILY, font_file, html_to_pdf
from yigongti.indicators import definitions, queries, rules

FORMATS = ("xlsx", "pdf")
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
TITLE = "医共体监测报告"
LEVEL_NAMES = {definitions.TOWNSHIP: "乡镇", definitions.INSTITUTION: "机构"}
STATUS_COLOURS = {  # RAG fill and text colours (Excel's good / neutral / bad cell styles)
    rules.GREEN: ("#C6EFCE", "#006100"),
    rules.AMBER: ("#FFEB9C", "#9C5700"),
    rules.RED: ("#FFC7CE", "#9C0006"),
}
_YEAR = re.compile(r"^\d{4}$")
EVERYTHING = Scope(institution_paths=None, division_prefixes=None)


@dataclass(frozen=True)
class Breakdown:
    """One ranking table (township, institution: best first) or the categories of an
    indicator (in display order). Rows: rank (``_numbered``), name, code (the org code or the
    category's description), value, numerator, denominator."""

    title: str
    key_label: str
    code_label: str
    rows: list[dict[str, Any]]
    ranked: bool = True


@dataclass(frozen=True)
class ReportIndicator:
    indicator: definitions.Indicator
    value: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None
    status: str  # rules.GREEN / AMBER / RED / NONE
    status_label: str
    months: list[tuple[str, Decimal | None]] = field(default_factory=list)
    breakdowns: list[Breakdown] = field(default_factory=list)

    @property
    def computed(self) -> bool:
        """Computed by the engine: a measure, or a growth rate of another's (nhc-10g)."""
        return self.indicator.computed


@dataclass(frozen=True)
class Report:
    year: str
    county_code: str
    county_name: str
    data_until: str
    taken_at: str
    snapshot_id: str
    generated_at: str
    amber_band: Decimal
    dimensions: list[tuple[str, list[ReportIndicator]]]

    @property
    def title(self) -> str:
        return f"{self.county_name}{self.year}年度紧密型县域医共体监测报告"

    @property
    def indicators(self) -> list[ReportIndicator]:
        return [item for _, items in self.dimensions for item in items]


def _numbered(rows: list[dict[str, Any]], ranked: bool = True) -> list[dict[str, Any]]:
    """Breakdown rows with ``rank``, the number both formats print first. Ranked: 1, 2, …
    over the rows with a value (best first, as ``queries.list_ranking`` orders them), ``None``
    ("—") for a row with none, which ranks nowhere (the 2024 report ranked every township
    1, 2, … on "—"); categories: 1, 2, … in display order."""
    ranks = iter(range(1, len(rows) + 1))
    return [{**r, "rank": None if ranked and r["value"] is None else next(ranks)} for r in rows]


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    """A breakdown row as both formats print it: no value, no parts — "—" as on the dashboard
    (not "¥0.00 / 0") for a category or an institution with nothing to divide by."""
    return {**row, "numerator": None, "denominator": None} if row["value"] is None else row


def build_report(year: str, scope: Scope = EVERYTHING, county: str = "") -> Report:
    """The report of a county's year from its stored results; DomainError (Chinese) when the
    year is malformed, has no results, or ``county`` (a division code; "" = the first the
    scope may see) is not one of its counties. ``scope`` also picks the evidence register whose
    verdicts the qualitative indicators show (the viewer's; the command line sees all)."""
    year = (year or "").strip()
    if not _YEAR.match(year):
        raise DomainError(f"年度“{year}”无效，应为四位年份，如 2025", field="year")
    counties = queries.list_counties(year, scope)
    chosen = rules.choose_county(counties, county)
    if chosen is None:
        raise DomainError(
            # a page shows it too: no command line (the CLI's users know `indicators compute`)
            f"{year} 年没有指标结果：请先计算该年度的指标（由信息中心在数据快照后计算）",
            field="year",
        )
    if county and chosen[0] != county:
        choices = "、".join(f"{code}（{name}）" for code, name in counties)
        raise DomainError(
            f"{year} 年没有县“{county}”的指标结果或您无权查看，可选：{choices}", field="county"
        )
    code = chosen[0]
    by_dimension: dict[str, list[ReportIndicator]] = {}
    for row in queries.with_verdicts(queries.list_overview(year, code), scope, year, code):
        indicator = row.indicator
        computed = indicator.computed  # a growth rate too: its value, trend and rankings
        breakdowns = []
        if computed:
            for level in (definitions.TOWNSHIP, definitions.INSTITUTION):
                if level in indicator.levels:
                    breakdowns.append(
                        Breakdown(
                            f"按{LEVEL_NAMES[level]}：{indicator.code} {indicator.name}",
                            LEVEL_NAMES[level],
                            "编码",
                            _numbered(
                                [
                                    _shown({**r, "code": r["org_code"]})
                                    for r in queries.list_ranking(indicator.code, year, level, code)
                                ]
                            ),
                        )
                    )
            if indicator.category_label:
                breakdowns.append(
                    Breakdown(
                        f"按{indicator.category_label}：{indicator.code} {indicator.name}",
                        indicator.category_label,
                        "说明",
                        _numbered(
                            [
                                _shown(
                                    {
                                        "name": c.label,
                                        "code": c.name,
                                        "value": c.value,
                                        "numerator": c.numerator,
                                        "denominator": c.denominator,
                                    }
                                )
                                for c in queries.list_category_breakdown(indicator, year, code)
                            ],
                            ranked=False,
                        ),
                        ranked=False,
                    )
                )
        by_dimension.setdefault(indicator.dimension, []).append(
            ReportIndicator(
                indicator,
                row.value,
                # no value (a zero denominator): "—", not "¥0.00 / ¥0.00", as on the dashboard
                row.numerator if row.value is not None else None,
                row.denominator if row.value is not None else None,
                rules.VERDICT_STATUS.get(row.verdict, row.status),
                rules.status_label(
                    row.status, indicator.status, row.value is not None, row.verdict_label
                )
                # as the dashboard warns: a 达标 verdict with criteria that have no evidence
                + (f"（缺 {row.gaps} 项佐证）" if row.gaps else ""),
                queries.list_trend(indicator.code, year, code) if computed else [],
                breakdowns,
            )
        )
    stamp = queries.snapshot_stamp()
    return Report(
        year=year,
        county_code=chosen[0],
        county_name=chosen[1],
        data_until=rules.data_until_in(stamp["data_until"], int(year)) or "—",
        taken_at=stamp["taken_at"] or "—",
        snapshot_id=stamp["snapshot_id"] or "—",
        generated_at=timezone.localtime(clock.now()).strftime("%Y-%m-%d %H:%M"),
        amber_band=queries.get_amber_band(year),  # in force on 31 December, as the dashboard
        dimensions=list(by_dimension.items()),
    )


def file_name(report: Report, fmt: str) -> str:
    """``青禾县-2025-医共体监测报告.xlsx``."""
    return f"{report.county_name}-{report.year}-{TITLE}.{fmt}"


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback (the county in pinyin: ``qinghexian-2025-
    report.xlsx``) and the UTF-8 name (RFC 5987 / RFC 6266)."""
    spelled = "".join(lazy_pinyin(name.replace(TITLE, "report"), style=Style.NORMAL))
    fallback = re.sub(r"[^A-Za-z0-9.-]+", "", spelled) or "report"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def render(report: Report, fmt: str) -> bytes:
    if fmt == "xlsx":
        return render_xlsx(report)
    if fmt == "pdf":
        return render_pdf(report)
    raise DomainError(f"报告格式“{fmt}”不可用，可选：{'、'.join(FORMATS)}", field="format")


# ---------------------------------------------------------------------------
# Text formatting (PDF) and number formats (Excel)
# ---------------------------------------------------------------------------


def format_value(value: Decimal | None, unit: str) -> str:
    """``50.00%``, ``¥5,000.00``, ``3.20 人/万人``; ``—`` without a value."""
    if value is not None and unit == "元":
        return _yuan(value)
    return rules.value_text(value, unit)


def _yuan(amount: Decimal) -> str:
    """``¥5,000.00``; a negative amount ``-¥37.44``, not ``¥-37.44``."""
    return f"-¥{-amount:,.2f}" if amount < 0 else f"¥{amount:,.2f}"


def format_amount(amount: Decimal | None, unit: str, per: int = 1) -> str:
    """A numerator or denominator: yuan with two decimals; otherwise ``rules.amount_text`` with
    thousands separators (a whole count without decimals, ``5,475 床日`` converted)."""
    if amount is not None and unit == "元":
        return _yuan(amount)
    return rules.amount_text(amount, unit, per, grouped=True)


def band_percent(band: Decimal) -> str:
    """``0.9`` → ``90%``."""
    return f"{(band * 100).normalize():f}%"


def format_target(indicator: definitions.Indicator) -> str:
    if not indicator.target:
        return "—"
    return format_value(Decimal(indicator.target), indicator.unit).replace(".00", "")


PERCENT = "0.00%"
YUAN = '"¥"#,##0.00'
NUMBER = "#,##0.00"
COUNT = "#,##0"


def value_format(unit: str) -> str:
    return PERCENT if unit == "%" else YUAN if unit == "元" else NUMBER


def excel_value(value: Decimal, unit: str) -> float:
    """Percent values are stored in points (50.0); Excel's percent format wants 0.5."""
    return float(value / 100) if unit == "%" else float(value)


def amount_format(amount: Decimal, unit: str, per: int = 1) -> str:
    if unit == "元":
        return YUAN
    whole = rules.is_count(unit, per) and amount == amount.to_integral_value()
    digits = COUNT if whole else NUMBER
    return digits if per == 1 else f'{digits}" {unit}"'


# ---------------------------------------------------------------------------
# Excel
# ---------------------------------------------------------------------------

MONTH_LABELS = [f"{m}月" for m in range(1, 13)]
# Dimension sheet columns: 编码, 指标, 单位, 值, 分子, 分母, 目标, 状态, 来源, 口径, 目标依据,
# then the months run on to column N in the monthly table.
MAIN_HEADERS = (
    "编码",
    "指标",
    "单位",
    "值",
    "分子",
    "分母",
    "目标",
    "状态",
    "来源",
    "口径",
    "目标依据",
)
WIDTHS = (9, 34, 14, 13, 15, 15, 11, 11, 9, 48, 36, 11, 11, 11)
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _width(text: str) -> int:
    """Display width: CJK and full-width characters count twice."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _lines(text: str, width: int) -> int:
    return max(1, math.ceil(_width(text) / max(width - 1, 1)))


class _Book:
    """The workbook's formats, made once."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        base = {"font_name": FONT_FAMILY, "font_size": 10, "valign": "vcenter"}
        self._base = base
        self.title = book.add_format({**base, "bold": True, "font_size": 16})
        self.subtitle = book.add_format({**base, "font_color": "#595959"})
        self.section = book.add_format({**base, "bold": True, "font_size": 12})
        self.label = book.add_format({**base, "bold": True, "bg_color": "#F2F2F2", "border": 1})
        self.header = book.add_format(
            {
                **base,
                "bold": True,
                "font_color": "#FFFFFF",
                "bg_color": "#1F4E78",
                "border": 1,
                "align": "center",
                "text_wrap": True,
            }
        )
        self.text = book.add_format({**base, "border": 1})
        self.wrap = book.add_format({**base, "border": 1, "text_wrap": True})
        self.centre = book.add_format({**base, "border": 1, "align": "center"})
        self.muted = book.add_format(
            {**base, "border": 1, "align": "center", "font_color": "#7F7F7F"}
        )
        self.note = book.add_format({**base, "font_color": "#7F7F7F", "italic": True})
        self._numbers: dict[str, Any] = {}
        self._status: dict[str, Any] = {}

    def number(self, num_format: str) -> Any:
        if num_format not in self._numbers:
            self._numbers[num_format] = self.book.add_format(
                {**self._base, "border": 1, "num_format": num_format}
            )
        return self._numbers[num_format]

    def status(self, status: str) -> Any:
        if status not in self._status:
            fill, colour = STATUS_COLOURS.get(status, ("#FFFFFF", "#7F7F7F"))
            self._status[status] = self.book.add_format(
                {
                    **self._base,
                    "border": 1,
                    "align": "center",
                    "bg_color": fill,
                    "font_color": colour,
                    "bold": status in STATUS_COLOURS,
                }
            )
        return self._status[status]


def _sheet_name(name: str, taken: set[str]) -> str:
    base = _SHEET_BAD.sub("", name)[:31] or "维度"
    candidate, n = base, 2
    while candidate in taken:
        candidate = f"{base[:28]}-{n}"
        n += 1
    taken.add(candidate)
    return candidate


def _print_setup(
    sheet: Any, header_row: int | None, last_row: int, last_col: int, title: str
) -> None:
    """A4 landscape, one page wide; ``header_row`` repeated on every page (None: no row)."""
    sheet.set_paper(9)  # A4
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)  # one page wide, as many tall as needed
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    if header_row is not None:
        sheet.repeat_rows(header_row)
    sheet.set_header(f"&L&8{title}")
    sheet.set_footer("&C&8第 &P 页，共 &N 页")
    sheet.print_area(0, 0, last_row, last_col)


def _write_value(
    sheet: Any, f: _Book, row: int, col: int, value: Decimal | None, unit: str
) -> None:
    if value is None:
        sheet.write_string(row, col, "—", f.muted)
    else:
        sheet.write_number(row, col, excel_value(value, unit), f.number(value_format(unit)))


def _write_amount(
    sheet: Any, f: _Book, row: int, col: int, amount: Decimal | None, unit: str, per: int = 1
) -> None:
    if amount is None:
        sheet.write_string(row, col, "—", f.muted)
    else:
        shown = rules.shown_amount(amount, per)
        sheet.write_number(row, col, float(shown), f.number(amount_format(shown, unit, per)))


def _cover(book: xlsxwriter.Workbook, f: _Book, report: Report, taken: set[str]) -> None:
    sheet = book.add_worksheet(_sheet_name("封面", taken))
    sheet.hide_gridlines(2)
    for col, width in enumerate((14, 10, 50, 14, 11, 12, 12)):
        sheet.set_column(col, col, width)
    sheet.merge_range(0, 0, 0, 6, report.title, f.title)
    sheet.set_row(0, 30)
    facts = [
        ("县（区）", report.county_name),
        ("区划编码", report.county_code),
        ("报告年度", report.year),
        ("数据截至", report.data_until),
        ("分析快照", f"{report.snapshot_id}（{report.taken_at}）"),
        ("生成时间", report.generated_at),
        (
            "状态判定",
            f"越高越好：达到目标为达标，达到目标的 {band_percent(report.amber_band)} 为接近，否则未达标；"
            "越低越好反之。无目标或无数据的指标只列数值。",
        ),
        ("口径来源", "[V] 原文  [S] 二手资料  [I] 据原文推定；各维度工作表逐项列出口径"),
    ]
    row = 2
    for label, value in facts:
        sheet.write_string(row, 0, label, f.label)
        sheet.merge_range(row, 1, row, 6, value, f.wrap)
        sheet.set_row(row, 15 * _lines(value, 95))
        row += 1
    row += 1
    sheet.write_string(row, 0, "指标总览（全县年度值）", f.section)
    row += 1
    header_row = row
    sheet.write_row(row, 0, ("编码", "维度", "指标", "值", "单位", "目标", "状态"), f.header)
    for item in report.indicators:
        row += 1
        ind = item.indicator
        sheet.write_string(row, 0, ind.code, f.text)
        sheet.write_string(row, 1, ind.dimension, f.text)
        sheet.write_string(row, 2, ind.name, f.wrap)
        sheet.set_row(row, 15 * _lines(ind.name, 50))
        _write_value(sheet, f, row, 3, item.value, ind.unit)
        sheet.write_string(row, 4, ind.unit or "—", f.centre)
        _target(sheet, f, row, 5, ind)
        sheet.write_string(row, 6, item.status_label, f.status(item.status))
    sheet.freeze_panes(header_row + 1, 0)
    _print_setup(sheet, header_row, row, 6, report.title)


def _target(sheet: Any, f: _Book, row: int, col: int, ind: definitions.Indicator) -> None:
    if ind.target:
        _write_value(sheet, f, row, col, Decimal(ind.target), ind.unit)
    else:
        sheet.write_string(row, col, "—", f.muted)


def _dimension(
    book: xlsxwriter.Workbook,
    f: _Book,
    report: Report,
    dimension: str,
    items: list[ReportIndicator],
    taken: set[str],
) -> None:
    sheet = book.add_worksheet(_sheet_name(dimension, taken))
    for col, width in enumerate(WIDTHS):
        sheet.set_column(col, col, width)
    last = len(MAIN_HEADERS) - 1
    sheet.merge_range(
        0, 0, 0, last, f"{dimension} — {report.county_name} {report.year} 年度", f.title
    )
    sheet.set_row(0, 26)
    sheet.merge_range(
        1,
        0,
        1,
        last,
        f"数据截至 {report.data_until}；值为全县年度结果，百分比保留两位小数，金额单位为元；"
        "“—”表示没有数据或不适用。",
        f.subtitle,
    )
    header_row = 3
    sheet.write_row(header_row, 0, MAIN_HEADERS, f.header)
    row = header_row
    for item in items:
        row += 1
        ind = item.indicator
        sheet.write_string(row, 0, ind.code, f.text)
        sheet.write_string(row, 1, ind.name, f.wrap)
        sheet.write_string(row, 2, ind.unit or "—", f.centre)
        _write_value(sheet, f, row, 3, item.value, ind.unit)
        _write_amount(sheet, f, row, 4, item.numerator, ind.numerator_unit, ind.numerator_per)
        _write_amount(sheet, f, row, 5, item.denominator, ind.denominator_unit, ind.denominator_per)
        _target(sheet, f, row, 6, ind)
        sheet.write_string(row, 7, item.status_label, f.status(item.status))
        sheet.write_string(row, 8, rules.tag_label(ind.source_tag), f.centre)
        caliber, target_source = rules.cite(ind.caliber), rules.cite(ind.target_source)
        sheet.write_string(row, 9, caliber, f.wrap)
        sheet.write_string(row, 10, target_source or "—", f.wrap)
        lines = max(
            _lines(ind.name, WIDTHS[1]),
            _lines(caliber, WIDTHS[9]),
            _lines(target_source, WIDTHS[10]),
        )
        sheet.set_row(row, 15 * lines + 2)
    computed = [item for item in items if item.computed]
    # The overview's header stays in view (and heads every printed page) only where nothing
    # follows it: above the monthly and ranking tables, with their own columns, it misread
    # them ("编码" over the ranks, "单位" over the codes).
    repeated = None if computed else header_row
    if repeated is not None:
        sheet.freeze_panes(repeated + 1, 0)

    if computed:
        row += 2
        sheet.write_string(row, 0, "月度值（全县）", f.section)
        row += 1
        sheet.write_row(row, 0, ("编码", "指标", *MONTH_LABELS), f.header)
        for item in computed:
            row += 1
            sheet.write_string(row, 0, item.indicator.code, f.text)
            sheet.write_string(row, 1, item.indicator.name, f.wrap)
            sheet.set_row(row, 15 * _lines(item.indicator.name, WIDTHS[1]) + 2)
            for m, (_, value) in enumerate(item.months):
                _write_value(sheet, f, row, 2 + m, value, item.indicator.unit)
        last = max(last, 2 + len(MONTH_LABELS) - 1)
    for item in computed:
        ind = item.indicator
        for table in item.breakdowns:
            row += 2
            sheet.write_string(row, 0, table.title, f.section)
            row += 1
            sheet.write_row(
                row,
                0,
                (
                    "排名" if table.ranked else "序号",
                    table.key_label,
                    table.code_label,
                    "值",
                    "分子",
                    "分母",
                ),
                f.header,
            )
            if not table.rows:
                row += 1
                sheet.merge_range(row, 0, row, 5, "该年度没有结果", f.muted)
            for r in table.rows:
                row += 1
                if r["rank"] is None:
                    sheet.write_string(row, 0, "—", f.centre)
                else:
                    sheet.write_number(row, 0, r["rank"], f.centre)
                sheet.write_string(row, 1, r["name"], f.text)
                sheet.write_string(row, 2, r["code"], f.text)
                _write_value(sheet, f, row, 3, r["value"], ind.unit)
                _write_amount(
                    sheet, f, row, 4, r["numerator"], ind.numerator_unit, ind.numerator_per
                )
                _write_amount(
                    sheet, f, row, 5, r["denominator"], ind.denominator_unit, ind.denominator_per
                )
    _print_setup(sheet, repeated, row, last, report.title)


def render_xlsx(report: Report) -> bytes:
    """The workbook: 封面, then one sheet per dimension."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    book.set_properties(
        {
            "title": report.title,
            "subject": TITLE,
            "company": report.county_name,
            "comments": f"数据截至 {report.data_until}；快照 {report.snapshot_id}",
        }
    )
    f = _Book(book)
    taken: set[str] = set()
    _cover(book, f, report, taken)
    for dimension, items in report.dimensions:
        _dimension(book, f, report, dimension, items, taken)
    book.close()
    return out.getvalue()


# ---------------------------------------------------------------------------
# PDF: charts (matplotlib, SVG) and the page (WeasyPrint)
# ---------------------------------------------------------------------------

_FONT_LOCK = threading.Lock()
_font_added = False


def trend_svg(item: ReportIndicator) -> str:
    """The monthly trend of one indicator as a ``data:`` URI of an SVG whose text stays text
    in the WQY family (WeasyPrint sets it with the @font-face of the page: small and
    searchable); ``""`` when the year has no monthly value."""
    if not any(v is not None for _, v in item.months):
        return ""
    from matplotlib import font_manager, rc_context
    from matplotlib.figure import Figure

    global _font_added
    with _FONT_LOCK:
        if not _font_added:
            font_manager.fontManager.addfont(str(font_file()))
            _font_added = True
        ind = item.indicator
        values = [float(v) if v is not None else math.nan for _, v in item.months]
        with rc_context(
            {
                "font.family": FONT_FAMILY,
                "font.size": 8,
                "svg.fonttype": "none",  # text stays text: WeasyPrint sets it in the WQY font
                "axes.unicode_minus": False,
                "svg.hashsalt": ind.code,  # stable ids: the same data gives the same SVG
            }
        ):
            fig = Figure(figsize=(7.0, 2.3))
            ax = fig.add_subplot()
            x = list(range(12))
            ax.plot(x, values, marker="o", color="#1F4E78", linewidth=1.6, label=ind.name)
            target = float(ind.target) if ind.target else None
            for xi, v in zip(x, values, strict=True):
                if not math.isnan(v):
                    # below the target, the label goes under the point, away from the dashed
                    # target line that struck it through (nhc-07 at 60 % under 65 %), as on
                    # the dashboard; on a white box where a line still crosses it
                    under = target is not None and v < target
                    # the number alone (a percentage keeps its sign): the unit is on the axis,
                    # and "15.62 人次/千人" overlapped its neighbours
                    ax.annotate(
                        rules.value_text(Decimal(str(v)), "%" if ind.unit == "%" else ""),
                        (xi, v),
                        textcoords="offset points",
                        xytext=(0, -6 if under else 5),
                        ha="center",
                        va="top" if under else "bottom",
                        fontsize=7,
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"},
                        zorder=4,
                    )
            if target is not None:
                ax.axhline(
                    target,
                    color="#9C0006",
                    linestyle="--",
                    linewidth=1,
                    zorder=1,
                    label=f"目标 {format_target(ind)}",
                )
            ax.set_xticks(x, MONTH_LABELS)
            ax.set_xlim(-0.5, 11.5)
            shown = [v for v in values if not math.isnan(v)]
            shown += [float(ind.target)] if ind.target else []
            low, high = min(shown), max(shown)
            # From zero where nothing is negative, with room above for the value labels.
            bottom = 0.0 if low >= 0 else low * 1.2
            top = high * 1.2 if high > 0 else 1.0
            ax.set_ylim(bottom, top)
            unit = {"%": "%", "元": "元"}.get(ind.unit, ind.unit)
            if unit:
                ax.set_ylabel(unit)
            ax.grid(axis="y", color="#DDDDDD", linewidth=0.6)
            ax.spines[["top", "right"]].set_visible(False)
            ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), fontsize=7, frameon=False, ncols=2)
            fig.tight_layout()
            buf = io.BytesIO()
            fig.savefig(buf, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


CHINESE_NUMERALS = "一二三四五六七八九十"


def _section_number(n: int) -> str:
    if n <= 10:
        return CHINESE_NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return (
        (CHINESE_NUMERALS[tens - 1] if tens > 1 else "")
        + "十"
        + (CHINESE_NUMERALS[ones - 1] if ones else "")
    )


def _pdf_item(item: ReportIndicator) -> dict[str, Any]:
    ind = item.indicator
    return {
        "item": item,
        "value": format_value(item.value, ind.unit),
        "numerator": format_amount(item.numerator, ind.numerator_unit, ind.numerator_per),
        "denominator": format_amount(item.denominator, ind.denominator_unit, ind.denominator_per),
        "target": format_target(ind),
        "chart": trend_svg(item) if item.computed else "",
        "breakdowns": [
            {
                "title": table.title,
                "key_label": table.key_label,
                "ranked": table.ranked,
                "rows": [
                    {
                        "rank": r["rank"] or "—",
                        "name": r["name"] if table.ranked else f"{r['name']} {r['code']}".strip(),
                        "value": format_value(r["value"], ind.unit),
                        "numerator": format_amount(
                            r["numerator"], ind.numerator_unit, ind.numerator_per
                        ),
                        "denominator": format_amount(
                            r["denominator"], ind.denominator_unit, ind.denominator_per
                        ),
                    }
                    for r in table.rows
                ],
            }
            for table in item.breakdowns
        ],
    }


def render_html(report: Report) -> str:
    """The report page that WeasyPrint prints (also handy to look at in a browser)."""
    font_url = font_file().as_uri()
    sections = [
        {
            "number": _section_number(n),
            "dimension": dimension,
            "items": [_pdf_item(item) for item in items],
        }
        for n, (dimension, items) in enumerate(report.dimensions, start=2)
    ]
    overview = [
        {
            "item": item,
            "value": format_value(item.value, item.indicator.unit),
            "target": format_target(item.indicator),
            "numerator": format_amount(
                item.numerator, item.indicator.numerator_unit, item.indicator.numerator_per
            ),
            "denominator": format_amount(
                item.denominator, item.indicator.denominator_unit, item.indicator.denominator_per
            ),
        }
        for item in report.indicators
    ]
    return render_to_string(
        "indicators/report.html",
        {
            "report": report,
            "font_url": font_url,
            "font_family": FONT_FAMILY,
            "overview": overview,
            "sections": sections,
            "notes_number": _section_number(len(sections) + 2),
            "band_percent": band_percent(report.amber_band),
        },
    )


def render_pdf(report: Report) -> bytes:
    """The A4 PDF (WeasyPrint; see ``core.pdf``)."""
    return html_to_pdf(render_html(report))
