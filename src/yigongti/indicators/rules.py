"""Pure indicator rules: periods and values. No ORM, no clock."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from yigongti.accounts.choices import Role
from yigongti.geo.rules import is_within
from yigongti.organizations.choices import InstitutionType

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    code: str  # 2025 | 2025-Q3 | 2025-07
    start: dt.date
    end: dt.date  # inclusive


def parse_period(text: str) -> Period:
    """``2025``, ``2025-Q3`` or ``2025-07``; ValueError with a Chinese message otherwise."""
    value = (text or "").strip().upper()
    if m := _YEAR.match(value):
        year = int(m.group(1))
        return Period(value, dt.date(year, 1, 1), dt.date(year, 12, 31))
    if m := _QUARTER.match(value):
        year, quarter = int(m.group(1)), int(m.group(2))
        first = 3 * quarter - 2
        last = first + 2
        return Period(
            value,
            dt.date(year, first, 1),
            dt.date(year, last, calendar.monthrange(year, last)[1]),
        )
    if (m := _MONTH.match(value)) and 1 <= int(m.group(2)) <= 12:
        year, month = int(m.group(1)), int(m.group(2))
        return Period(
            value,
            dt.date(year, month, 1),
            dt.date(year, month, calendar.monthrange(year, month)[1]),
        )
    raise ValueError(f"统计期“{text}”无效，应为 2025、2025-Q3 或 2025-07")


def months_of(period: Period) -> list[str]:
    """The ``YYYY-MM`` months a period spans (the trend chart marks a quarter's or a month's
    on the year's line)."""
    out, day = [], period.start.replace(day=1)
    while day <= period.end:
        out.append(f"{day:%Y-%m}")
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return out


def parts_of_year(period: Period) -> list[Period]:
    """The quarters and months of a year period (for trends)."""
    if len(period.code) != 4:
        raise ValueError(f"只有年度统计期可以细分到季度和月份：{period.code}")
    year = period.code
    return [parse_period(f"{year}-Q{q}") for q in range(1, 5)] + [
        parse_period(f"{year}-{m:02d}") for m in range(1, 13)
    ]


def previous_year(period: Period) -> Period:
    """The same period one year earlier (for growth rates)."""
    year = period.start.year - 1
    return parse_period(str(year) + period.code[4:])


VALUE_PLACES = Decimal("0.000001")


def ratio(numerator: Decimal, denominator: Decimal, scale: int = 1) -> Decimal | None:
    """``numerator / denominator × scale`` to six decimals; ``None`` for a zero denominator
    (shown as "—", never an error)."""
    if denominator == 0:
        return None
    return (Decimal(numerator) * scale / Decimal(denominator)).quantize(
        VALUE_PLACES, rounding=ROUND_HALF_UP
    )


def shown_amount(amount: Decimal, per: int = 1) -> Decimal:
    """A stored numerator or denominator in the unit users read: ÷ ``per`` (the stored units
    in one shown unit, e.g. 86,400 bed-seconds a 床日) to two decimals; as stored if 1."""
    if per == 1:
        return amount
    return (Decimal(amount) / per).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def amount_text(
    amount: Decimal | None, unit: str = "", per: int = 1, *, grouped: bool = False
) -> str:
    """A numerator or denominator on a page: "—" if none; a count (人次, 件) whole without
    decimals and otherwise with two (``12``, ``12.50``); money (元) and a measure converted to
    another unit (小时, 床日) always with two, so a column reads alike (``2.00 小时`` beside
    ``2.60 小时``); converted amounts with their unit (``2.50 床日``, ``475 件``); ``grouped``:
    thousands separators (the reports)."""
    if amount is None:
        return "—"
    value = shown_amount(Decimal(amount), per)
    sep = "," if grouped else ""
    places = 0 if is_count(unit, per) and value == value.to_integral_value() else 2
    text = f"{value:{sep}.{places}f}"
    return text if per == 1 else f"{text} {unit}"


def outside_data(period: Period, data_from: str, data_until: str) -> bool:
    """Whether the period has no month in the snapshot's data (``YYYY-MM`` to ``YYYY-MM``;
    no data at all when either is ``""``)."""
    if not data_from or not data_until:
        return True
    return period.end < parse_period(data_from).start or period.start > parse_period(data_until).end


def data_until_in(data_until: str, year: int) -> str:
    """The "数据截至" of a year's report: the snapshot's last month (``YYYY-MM``), or the
    year's December when the data go beyond it (the 2024 report of a snapshot up to 2025-12
    read "数据截至 2025-12")."""
    last = f"{year:04d}-12"
    return last if data_until > last else data_until


def value_text(value: Decimal | None, unit: str = "") -> str:
    """An indicator's value on a page: two decimals with thousands separators and its unit
    (``60.61%``, ``6,028.92 元``, ``6,120.00 人次/千人``); "—" without one (a zero
    denominator; "" is how a template passes a missing result)."""
    if value is None or value == "":
        return "—"
    text = f"{Decimal(value):,.2f}"
    return f"{text}%" if unit == "%" else f"{text} {unit}" if unit else text


COUNT_UNITS = frozenset({"件"})


def is_count(unit: str, per: int = 1) -> bool:
    """Whether an amount counts things (shown whole when whole): stored as is and not money,
    or converted to a unit of things (件)."""
    return unit in COUNT_UNITS if per != 1 else unit != "元"


GREEN, AMBER, RED, NONE = "green", "amber", "red", "none"


def status(value: Decimal | None, target: Decimal | None, direction: str, band: Decimal) -> str:
    """Red/amber/green against the target: for "higher is better" green at or above the
    target, amber at or above ``band`` × target, else red; "lower is better" mirrors it (amber
    up to target ÷ band). ``none`` without a value or a target."""
    if value is None or target is None or direction not in ("higher", "lower"):
        return NONE
    if direction == "higher":
        if value >= target:
            return GREEN
        return AMBER if value >= target * band else RED
    if value <= target:
        return GREEN
    return AMBER if value * band <= target else RED


STATUS_LABELS = {GREEN: "达标", AMBER: "接近", RED: "未达标"}


def status_label(
    status: str, indicator_status: str, has_value: bool, verdict_label: str = ""
) -> str:
    """The status text of the dashboard and the reports: 达标/接近/未达标 against a target;
    for a qualitative indicator the county's verdict (待评估 before one); otherwise why there
    is no status (data not yet connected, no value, no target) — never a made-up number."""
    if status in STATUS_LABELS:
        return STATUS_LABELS[status]
    if indicator_status == "pending":
        return "待接入数据"
    if indicator_status == "evidence":
        return verdict_label or "待评估"
    return "无目标" if has_value else "无数据"


# The county's verdict on a qualitative indicator (choices.Verdict values) as a RAG status.
VERDICT_STATUS = {"met": GREEN, "partly_met": AMBER, "not_met": RED}


# ---------------------------------------------------------------------------
# Evidence register (nhc-01 … nhc-03): file checks and assessment checks
# ---------------------------------------------------------------------------

PDF, DOCX, XLSX, JPG, PNG = "pdf", "docx", "xlsx", "jpg", "png"  # choices.EvidenceKind values
EVIDENCE_EXTENSIONS = {
    ".pdf": PDF,
    ".docx": DOCX,
    ".xlsx": XLSX,
    ".jpg": JPG,
    ".jpeg": JPG,
    ".png": PNG,
}
ZIP_MAGIC = b"PK\x03\x04"
_MAGIC = {
    PDF: b"%PDF-",
    JPG: b"\xff\xd8\xff",
    PNG: b"\x89PNG\r\n\x1a\n",
    DOCX: ZIP_MAGIC,
    XLSX: ZIP_MAGIC,
}
# The part every Office Open XML package of that kind holds (ECMA-376).
_OOXML_PART = {DOCX: "word/document.xml", XLSX: "xl/workbook.xml"}
EVIDENCE_TYPES_TEXT = "PDF、Word（.docx）、Excel（.xlsx）、JPG 或 PNG"


def evidence_kind(filename: str) -> str | None:
    """The evidence kind by extension (case-insensitive); ``None`` when not accepted."""
    name = (filename or "").strip().lower()
    dot = name.rfind(".")
    return EVIDENCE_EXTENSIONS.get(name[dot:]) if dot >= 0 else None


def content_matches(kind: str, head: bytes, zip_names: frozenset[str] | None) -> bool:
    """The file's first bytes (and, for .docx/.xlsx, the names inside the ZIP package; ``None``
    when it is not a readable ZIP) fit its kind, so a renamed file of another type is refused."""
    magic = _MAGIC.get(kind)
    if magic is None or not head.startswith(magic):
        return False
    part = _OOXML_PART.get(kind)
    return part is None or (zip_names is not None and part in zip_names)


def check_evidence_file(
    filename: str,
    size: int,
    max_mb: int,
    head: bytes,
    zip_names: frozenset[str] | None,
) -> dict[str, list[str]]:
    """Field errors for an uploaded evidence file (empty when it is acceptable)."""
    kind = evidence_kind(filename)
    if kind is None:
        return {"file": [f"不支持的文件类型“{filename}”，只接受 {EVIDENCE_TYPES_TEXT}"]}
    if size <= 0:
        return {"file": ["上传的文件是空的"]}
    if size > max_mb * 1024 * 1024:
        return {"file": [f"文件大小 {size / 1024 / 1024:.1f} MB，超过上限 {max_mb} MB"]}
    if not content_matches(kind, head, zip_names):
        return {"file": [f"文件内容与扩展名不符（不是有效的 {kind.upper()} 文件）"]}
    return {}


MET = "met"  # choices.Verdict.MET
# The first tight-medcom pilots ran from 2019 (seed 000, the national pilot 指导方案) [I]: no
# register year before that.
FIRST_REGISTER_YEAR = 2019

# Who uses the register: the dashboard's roles view it and download files; the county's
# management roles and institution admins (for their own institution) upload; only the county
# admin assesses (issue #5 item 2: "an assessment with a verdict and comment by the county").
EVIDENCE_VIEW_ROLES = frozenset(
    {Role.COUNTY_ADMIN, Role.CENTRE_STAFF, Role.INSTITUTION_ADMIN, Role.INSURANCE_REVIEWER}
)
EVIDENCE_UPLOAD_ROLES = frozenset({Role.COUNTY_ADMIN, Role.CENTRE_STAFF, Role.INSTITUTION_ADMIN})
EVIDENCE_ASSESS_ROLES = frozenset({Role.COUNTY_ADMIN})


def can_view_evidence(role: str) -> bool:
    return role in EVIDENCE_VIEW_ROLES


def can_upload_evidence(role: str) -> bool:
    return role in EVIDENCE_UPLOAD_ROLES


def can_assess_evidence(role: str) -> bool:
    return role in EVIDENCE_ASSESS_ROLES


def check_register_year(year: int, today: dt.date) -> dict[str, list[str]]:
    """A register year from 2019 up to the current year."""
    if not FIRST_REGISTER_YEAR <= year <= today.year:
        return {"year": [f"年度应在 {FIRST_REGISTER_YEAR} 至 {today.year} 之间"]}
    return {}


def check_assessment(verdict: str, comment: str, verdicts: frozenset[str]) -> dict[str, list[str]]:
    """Field errors for an assessment: a known verdict; a comment for anything but 达标."""
    if verdict not in verdicts:
        return {"verdict": ["请选择评估结论：达标、基本达标或未达标"]}
    if verdict != MET and not comment.strip():
        return {"comment": ["评估结论不是“达标”时必须填写评估意见"]}
    return {}


# Drill-down (issue 5 item 4): county management, the management centre and the insurance
# reviewer open every level of the county their scope covers; an institution administrator
# opens only the records of the institutions in their own scope (their institution and, for a
# subtree scope, the clinics under it). Everyone else sees no drill-down.
DRILL_COUNTY_ROLES = frozenset({"county_admin", "centre_staff", "insurance_reviewer"})
DRILL_INSTITUTION_ROLES = frozenset({"institution_admin"})


# The five policy documents (shared/seeds/) that definitions cite as ``seeds/NNN``: shown to
# users by their titles (``cite``), never as file numbers.
SEED_TITLES = {
    "000": "《关于开展紧密型县域医疗卫生共同体建设试点的指导方案》",
    "001": "《张店区区域医疗卫生机构组建医疗集团实施方案（试行）》",
    "002": "《南县全面推进紧密型县域医疗卫生共同体建设实施方案》",
    "003": "《玉溪市持续深化紧密型县域医疗卫生共同体建设17条措施》",
    "004": "《贵州省加快推进紧密型城市医疗集团建设工作方案》",
}
# Source tags (shared/reference: [V] verbatim, [S] secondary, [I] inferred, [M] recalled,
# [EST] estimated) as users read them.
SOURCE_TAG_LABELS = {
    "V": "原文",
    "S": "二手资料",
    "I": "据原文推定",
    "M": "待核实",
    "EST": "估算",
}
_NUMBERED_ITEM = re.compile(r"seeds/(\d{3})(?:\s*§\s*|\s+)(\d+)(?![\d(（])")
_SEED = re.compile(r"seeds/(\d{3}) ?")
_TAG = re.compile(r"\s*\[(V|S|I|M|EST)\]")


def tag_label(tag: str) -> str:
    """``[I]`` → ``据原文推定``; anything else unchanged."""
    return SOURCE_TAG_LABELS.get(tag.strip().strip("[]"), tag)


def cite(text: str) -> str:
    """A definition's source text as users read it: ``seeds/004 §9`` → ``《…工作方案》第9条``,
    ``seeds/002 三(一)2`` → ``《…实施方案》三(一)2``, a tag ``[V]`` → ``〔原文〕``."""

    def item(m: re.Match[str]) -> str:
        title = SEED_TITLES.get(m.group(1))
        return f"{title}第{m.group(2)}条" if title else m.group(0)

    text = _NUMBERED_ITEM.sub(item, text)
    text = _SEED.sub(lambda m: SEED_TITLES.get(m.group(1), m.group(0)), text)
    return _TAG.sub(lambda m: f"〔{SOURCE_TAG_LABELS[m.group(1)]}〕", text)


def county_visible(county_prefix: str, division_prefixes: tuple[str, ...] | None) -> bool:
    """A county's aggregate values are shown to a scope whose areas lie in the county (an
    institution or township user sees their own county) or contain it (a region sees its
    counties); ``None`` — no area limit — sees every county. Never another county."""
    if division_prefixes is None:
        return True
    return any(
        p.startswith(county_prefix) or county_prefix.startswith(p) for p in division_prefixes
    )


def choose_county(counties: list[tuple[str, str]], wanted: str = "") -> tuple[str, str] | None:
    """The county a dashboard or report shows, of ``(code, name)`` those the viewer may see
    (``queries.list_counties``): ``wanted`` when it is one of them, else the first; ``None``
    when there is none."""
    return next((c for c in counties if c[0] == wanted), counties[0] if counties else None)


def register_of(divisions: list[str], county: str) -> int | None:
    """Which evidence register (nhc-01 … nhc-03) speaks for ``county``: of the viewer's medcoms,
    each given by its division's code, the index of the first whose division is the county,
    else the first whose division contains it (an urban group of a city), else ``None``:
    another county's verdict is never shown for this one."""
    exact = next((i for i, code in enumerate(divisions) if code == county), None)
    if exact is not None:
        return exact
    return next((i for i, code in enumerate(divisions) if is_within(county, code)), None)


def drill_refusal(role: str, level: str, in_scope: bool) -> str:
    """Why ``role`` may not open ``level`` (county | township | institution | doctor) of an
    org (``in_scope``: the actor's data scope covers it — for a doctor, their employer);
    ``""`` when it may."""
    if role in DRILL_COUNTY_ROLES:
        return "" if in_scope else "该区划或机构不在您的数据范围内"
    if role in DRILL_INSTITUTION_ROLES:
        if level not in ("institution", "doctor"):
            return "机构管理员只能查看本机构及下属机构的指标明细，不能查看县或乡镇汇总下钻"
        return (
            ""
            if in_scope
            else "机构管理员只能查看本机构及下属机构的指标明细，该机构不在您的数据范围内"
        )
    return "指标下钻和明细供县级管理员、管理中心、医保审核员和机构管理员使用"


CENTS = Decimal("0.01")


def per_unit(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    """``numerator / denominator`` rounded half-up to cents (e.g. cost per stay); ``None`` for
    a zero denominator."""
    if denominator == 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(CENTS, rounding=ROUND_HALF_UP)


Pair = tuple[Decimal, Decimal]


def growth(current: Pair | None, previous: Pair | None) -> Pair:
    """The growth of a per-unit value against the same period a year earlier, as
    ``(this year's − last year's, last year's)`` with both values rounded to cents first, so
    that ``ratio(…, 100)`` is the growth rate in %. ``(0, 0)`` — no value, "—" — when either
    period has nothing to divide by (e.g. no stays a year earlier)."""
    this = per_unit(*current) if current is not None else None
    last = per_unit(*previous) if previous is not None else None
    if this is None or last is None or last == 0:
        return Decimal(0), Decimal(0)
    return this - last, last


# Institution tiers for the cost-per-visit/stay breakdown (县级 / 乡镇 / 村) [I]: county
# hospitals and county public-health institutions are 县级; 乡镇卫生院 and 社区卫生服务中心 are
# the township tier; 村卫生室 and 社区卫生服务站 the village tier (the 县乡村 three-tier network
# of seeds/002); private institutions fit none of the three.
TIER_COUNTY, TIER_TOWNSHIP, TIER_VILLAGE, TIER_OTHER = "county", "township", "village", "other"
TIER_LABELS = {TIER_COUNTY: "县级", TIER_TOWNSHIP: "乡镇", TIER_VILLAGE: "村", TIER_OTHER: "其他"}
TIER_NAMES = {
    TIER_COUNTY: "县级医院、县级专业公共卫生机构",
    TIER_TOWNSHIP: "乡镇卫生院、社区卫生服务中心",
    TIER_VILLAGE: "村卫生室、社区卫生服务站",
    TIER_OTHER: "民营医疗机构",
}
_TIERS: dict[str, str] = {
    InstitutionType.GENERAL_HOSPITAL: TIER_COUNTY,
    InstitutionType.TCM_HOSPITAL: TIER_COUNTY,
    InstitutionType.MCH_HOSPITAL: TIER_COUNTY,
    InstitutionType.PUBLIC_HEALTH: TIER_COUNTY,
    InstitutionType.TOWNSHIP_HEALTH_CENTRE: TIER_TOWNSHIP,
    InstitutionType.COMMUNITY_HEALTH_CENTRE: TIER_TOWNSHIP,
    InstitutionType.COMMUNITY_HEALTH_STATION: TIER_VILLAGE,
    InstitutionType.VILLAGE_CLINIC: TIER_VILLAGE,
    InstitutionType.PRIVATE: TIER_OTHER,
}


def institution_tier(inst_type: str) -> str:
    """The tier (``TIER_LABELS`` key) of an institution type; ``other`` for a type not listed."""
    return _TIERS.get(inst_type, TIER_OTHER)


_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50}


def chapter_number(chapter: str) -> int:
    """The number of an ICD-10 chapter written in Roman numerals (``IX`` → 9), for ordering;
    0 for anything else (e.g. the "未知" category)."""
    text = (chapter or "").upper()
    if not text or any(c not in _ROMAN for c in text):
        return 0
    total = 0
    for here, after in zip(text, [*text[1:], ""], strict=True):
        value = _ROMAN[here]
        total += -value if after and _ROMAN[after] > value else value
    return total
