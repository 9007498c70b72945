"""Readers of stored indicator results (dashboards never read person-level rows)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from yigongti.accounts.rules import Scope
from yigongti.analytics.queries import get_manifest
from yigongti.core import clock
from yigongti.core.queries import get_parameter, prefix_q
from yigongti.encounters.choices import ExternalKind, Setting
from yigongti.encounters.models import Encounter, ExternalSettlement
from yigongti.encounters.queries import get_code_names, list_icd10_chapters
from yigongti.geo.choices import DivisionLevel
from yigongti.geo.models import Division
from yigongti.geo.rules import prefix_of
from yigongti.indicators import definitions, rules
from yigongti.indicators.drilldown import Contribution
from yigongti.indicators.models import EvidenceAssessment, EvidenceItem, IndicatorResult
from yigongti.organizations.models import Department, Institution, Medcom
from yigongti.referrals.models import Referral
from yigongti.residents.models import Resident
from yigongti.residents.queries import deidentified_row, masked_row
from yigongti.scheduling.models import BedBooking, Booking, Schedule
from yigongti.scheduling.rules import BED_SHARE_KEY, parse_share, reserved_count
from yigongti.staff.models import Practitioner


@dataclass(frozen=True)
class OverviewRow:
    indicator: definitions.Indicator
    numerator: Decimal | None
    denominator: Decimal | None
    value: Decimal | None
    status: str
    # nhc-01 … nhc-03: the current verdict of the period's year ("" = 待评估), see with_verdicts.
    verdict: str = ""
    verdict_label: str = ""
    gaps: int = 0  # criteria with no evidence under a 达标 verdict (RegisterEntry.met_with_gaps)


def list_periods() -> list[str]:
    """Periods with results, newest first: years, then quarters, then months."""
    periods = set(IndicatorResult.objects.values_list("period", flat=True).distinct())
    return sorted(periods, key=lambda p: (p[:4], len(p) == 4, p), reverse=True)


def default_period() -> str:
    years = [p for p in list_periods() if len(p) == 4]
    return years[0] if years else ""


def list_counties(period: str, scope: Scope) -> list[tuple[str, str]]:
    """``(division code, name)`` of the counties with results for the period that the scope
    may see (``rules.county_visible``), by code: a deployment may hold several counties."""
    codes = set(
        IndicatorResult.objects.filter(
            period=period, level=definitions.COUNTY, category=""
        ).values_list("org_code", flat=True)
    )
    return [
        (d.code, d.name)
        for d in Division.objects.filter(code__in=codes).order_by("code")
        if rules.county_visible(d.prefix, scope.division_prefixes)
    ]


def get_amber_band(period: str) -> Decimal:
    """The share of its target at which a value reads 接近 (the policy parameter
    ``indicators.amber_band`` in force at the period's end; today for no period)."""
    try:
        end = rules.parse_period(period).end
    except ValueError:
        end = dt.date.today()
    return Decimal(str(get_parameter("indicators.amber_band", end)))


def list_overview(period: str, county: str) -> list[OverviewRow]:
    """Every indicator with the county's value for the period (none where not computed)."""
    found = {
        r.indicator_code: r
        for r in IndicatorResult.objects.filter(
            period=period, level=definitions.COUNTY, category="", org_code=county
        )
    }
    band = get_amber_band(period)
    rows = []
    for indicator in definitions.INDICATORS:
        result = found.get(indicator.code)
        value = result.value if result else None
        target = Decimal(indicator.target) if indicator.target else None
        rows.append(
            OverviewRow(
                indicator,
                result.numerator if result else None,
                result.denominator if result else None,
                value,
                rules.status(value, target, indicator.direction, band),
            )
        )
    return rows


def list_trend(code: str, year: str, county: str) -> list[tuple[str, Decimal | None]]:
    """The county's value in each month of the year (``None`` where there is no result)."""
    values = {
        r.period: r.value
        for r in IndicatorResult.objects.filter(
            indicator_code=code,
            level=definitions.COUNTY,
            category="",
            org_code=county,
            period__startswith=f"{year}-",
        )
        if len(r.period) == 7 and "Q" not in r.period
    }
    return [(f"{year}-{m:02d}", values.get(f"{year}-{m:02d}")) for m in range(1, 13)]


def list_ranking(code: str, period: str, level: str, county: str) -> list[dict[str, Any]]:
    """The county's institutions (or townships) by value, best first for the indicator's
    direction; those of other counties are left out."""
    indicator = definitions.get(code)
    within = Division.objects.filter(code=county).values_list("prefix", flat=True).first()
    if within is None:
        return []
    stored = list(
        IndicatorResult.objects.filter(indicator_code=code, period=period, level=level, category="")
    )
    codes = [r.org_code for r in stored]
    # institutions by the name the drill-down pages use (Institution.label: 县人民医院)
    names: dict[str, str] = (
        {
            i.code: i.label
            for i in Institution.objects.filter(
                code__in=codes, division__prefix__startswith=within
            ).only("code", "name", "short_name")
        }
        if level == definitions.INSTITUTION
        else dict(
            Division.objects.filter(code__in=codes, prefix__startswith=within).values_list(
                "code", "name"
            )
        )
    )
    results = [r for r in stored if r.org_code in names]
    lower_first = indicator.direction == "lower"

    def order(r: IndicatorResult) -> tuple[bool, Decimal, str]:
        value = r.value if r.value is not None else Decimal(0)
        return (r.value is None, value if lower_first else -value, r.org_code)

    return [
        {
            "org_code": r.org_code,
            "name": names[r.org_code],
            "numerator": r.numerator,
            "denominator": r.denominator,
            "value": r.value,
        }
        for r in sorted(results, key=order)
    ]


def category_names(indicator: definitions.Indicator) -> dict[str, tuple[str, str]]:
    """category → (label, name) of a broken-down indicator, in display order: the institution
    tiers (县级 / 乡镇 / 村 / 其他) or the ICD-10 chapters of the catalogue (I … XXII)."""
    if indicator.category_label == definitions.TIER_LABEL:
        return {k: (label, rules.TIER_NAMES[k]) for k, label in rules.TIER_LABELS.items()}
    if indicator.category_label == definitions.CHAPTER_LABEL:
        chapters = list_icd10_chapters()
        return {c: (c, chapters[c]) for c in sorted(chapters, key=rules.chapter_number)}
    return {}


@dataclass(frozen=True)
class CategoryRow:
    category: str
    label: str  # 县级 | IX …
    name: str  # what the tier holds | the chapter's name
    numerator: Decimal
    denominator: Decimal
    value: Decimal | None  # None: no result or a zero denominator ("—")


def list_category_breakdown(
    indicator: definitions.Indicator, period: str, county: str
) -> list[CategoryRow]:
    """The county's results of a broken-down indicator for every category in display order
    (no value where it has none), then any other stored category (e.g. 未知)."""
    stored = {
        r.category: r
        for r in IndicatorResult.objects.filter(
            indicator_code=indicator.code,
            period=period,
            level=definitions.COUNTY,
            org_code=county,
        ).exclude(category="")
    }
    names = category_names(indicator)
    rows = []
    for category in [*names, *sorted(set(stored) - set(names))]:
        label, name = names.get(category, (category, ""))
        r = stored.get(category)
        rows.append(
            CategoryRow(
                category,
                label,
                name,
                r.numerator if r else Decimal(0),
                r.denominator if r else Decimal(0),
                r.value if r else None,
            )
        )
    return rows


# The six columns, then the category of a broken-down indicator ("" for totals).
EXPORT_COLUMNS = (
    "indicator_code",
    "period",
    "org_code",
    "numerator",
    "denominator",
    "value",
    "category",
)


def list_export_rows(
    period: str,
) -> list[tuple[str, str, str, Decimal, Decimal, Decimal | None, str]]:
    """Every stored result of a period, in indicator, level, org and category order."""
    order = definitions.LEVEL_ORDER
    results = sorted(
        IndicatorResult.objects.filter(period=period),
        key=lambda r: (r.indicator_code, order.get(r.level, 9), r.org_code, r.category),
    )
    return [
        (r.indicator_code, r.period, r.org_code, r.numerator, r.denominator, r.value, r.category)
        for r in results
    ]


def has_results(period: str) -> bool:
    """Results of the period from the current snapshot exist."""
    snapshot_id = get_manifest().get("snapshot_id")
    return bool(snapshot_id) and (
        IndicatorResult.objects.filter(period=period, snapshot_id=snapshot_id).exists()
    )


def local_moment(text: str) -> str:
    """An ISO moment of the manifest as the county reads it: local time (Asia/Shanghai),
    to the minute; a moment with no offset is taken as local already; "" stays ""."""
    if not text:
        return ""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text[:16].replace("T", " ")
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return f"{moment:%Y-%m-%d %H:%M}"


def snapshot_stamp() -> dict[str, str]:
    """数据截至: the snapshot's last month and when it was taken (local time)."""
    manifest = get_manifest()
    return {
        "data_until": manifest.get("data_until", ""),
        "taken_at": local_moment(manifest.get("taken_at", "")),
        "snapshot_id": manifest.get("snapshot_id", ""),
    }


# ---------------------------------------------------------------------------
# Drill-down: county → township → institution from stored results; the records page loads
# the person-level rows of the ids the measure returned (drilldown.read_records).
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DrillOrg:
    """An organisation of the drill-down: a county or township (a division), an institution
    or a doctor, with the county and township it rolls up to (as ``places()`` in services.py
    places it: by the area the institution serves). A doctor's ``institution`` is their
    employer (人事所在机构), which lists them and whose scope covers them."""

    level: str
    code: str
    name: str
    pk: int  # the id in the snapshot (division_id, institution_id or practitioner_id)
    county: Division | None
    township: Division | None
    institution: Institution | None = None


def _up(division: Division | None, wanted: str) -> Division | None:
    while division is not None and division.level != wanted:
        division = division.parent
    return division


# an institution's served division up to its county, read with it
_SERVED = ("service_division", "service_division__parent", "service_division__parent__parent")


def _at(inst: Institution, level: str, code: str, name: str, pk: int) -> DrillOrg:
    """An institution or one of its doctors, placed by the area the institution serves."""
    served = inst.service_division
    return DrillOrg(
        level,
        code,
        name,
        pk,
        _up(served, DivisionLevel.COUNTY),
        _up(served, DivisionLevel.TOWNSHIP),
        inst,
    )


def list_area_institutions(org: DrillOrg) -> list[Institution]:
    """The institutions a county's or township's records may be narrowed to (the records
    page's 机构 filter): those serving an area within it, in the order of the tree (总院 →
    分院 → 村卫生室); ``[]`` below the township."""
    if org.level not in (definitions.COUNTY, definitions.TOWNSHIP):
        return []
    return list(
        Institution.objects.filter(service_division__code__startswith=prefix_of(org.code)).order_by(
            "path", "code"
        )
    )


def get_drill_org(level: str, code: str) -> DrillOrg | None:
    """The organisation behind a result's ``(level, org_code)``; ``None`` when unknown."""
    if level in (definitions.COUNTY, definitions.TOWNSHIP):
        wanted = DivisionLevel.COUNTY if level == definitions.COUNTY else DivisionLevel.TOWNSHIP
        division = (
            Division.objects.select_related("parent", "parent__parent")
            .filter(code=code, level=wanted)
            .first()
        )
        if division is None:
            return None
        township = division if level == definitions.TOWNSHIP else None
        return DrillOrg(
            level,
            division.code,
            division.name,
            division.pk,
            _up(division, DivisionLevel.COUNTY),
            township,
        )
    if level == definitions.INSTITUTION:
        inst = Institution.objects.select_related(*_SERVED).filter(code=code).first()
        return None if inst is None else _at(inst, level, inst.code, inst.label, inst.pk)
    if level == definitions.DOCTOR:
        doctor = (
            Practitioner.objects.select_related(*(f"employer__{s}" for s in _SERVED), "employer")
            .filter(code=code)
            .first()
        )
        if doctor is None:
            return None
        return _at(doctor.employer, level, doctor.code, doctor.name, doctor.pk)
    return None


def get_result(
    code: str, period: str, level: str, org_code: str, category: str = ""
) -> IndicatorResult | None:
    return IndicatorResult.objects.filter(
        indicator_code=code, period=period, level=level, org_code=org_code, category=category
    ).first()


@dataclass(frozen=True)
class ChildRow:
    level: str
    code: str
    name: str
    numerator: Decimal
    denominator: Decimal
    value: Decimal | None


def _institutions_under(org: DrillOrg, *, direct_only: bool) -> dict[str, str]:
    """Institution code → name of the institutions placed in ``org`` (a county or township);
    ``direct_only`` (a county): only those that roll up to no township, i.e. serve the county."""
    area = org.township if org.level == definitions.TOWNSHIP else org.county
    if area is None:
        return {}
    out = {}
    for inst in Institution.objects.select_related(*_SERVED).filter(
        service_division__prefix__startswith=area.prefix
    ):
        township = _up(inst.service_division, DivisionLevel.TOWNSHIP)
        county = _up(inst.service_division, DivisionLevel.COUNTY)
        if org.level == definitions.TOWNSHIP:
            placed = township is not None and township.pk == area.pk
        else:
            placed = county is not None and county.pk == area.pk
            placed = placed and (township is None or not direct_only)
        if placed:
            out[inst.code] = inst.label
    return out


def list_drill_children(
    indicator: definitions.Indicator, period: str, org: DrillOrg, category: str = ""
) -> list[ChildRow]:
    """The stored results one level down from a county, township or institution, in code
    order: a county's townships and the institutions that serve the whole county (or, for an
    indicator without the township level, every institution of the county); a township's
    institutions; an institution's doctors (for an indicator with the doctor level)."""
    wanted: dict[str, dict[str, str]] = {}
    if org.level == definitions.COUNTY and org.county is not None:
        if definitions.TOWNSHIP in indicator.levels:
            wanted[definitions.TOWNSHIP] = dict(
                Division.objects.filter(
                    parent=org.county, level=DivisionLevel.TOWNSHIP
                ).values_list("code", "name")
            )
        if definitions.INSTITUTION in indicator.levels:
            wanted[definitions.INSTITUTION] = _institutions_under(
                org, direct_only=definitions.TOWNSHIP in indicator.levels
            )
    elif org.level == definitions.TOWNSHIP and definitions.INSTITUTION in indicator.levels:
        wanted[definitions.INSTITUTION] = _institutions_under(org, direct_only=False)
    elif (
        org.level == definitions.INSTITUTION
        and definitions.DOCTOR in indicator.levels
        and org.institution is not None
    ):
        # the doctors it employs (人事所在机构), each with all their member-institution work
        wanted[definitions.DOCTOR] = dict(
            Practitioner.objects.filter(employer=org.institution).values_list("code", "name")
        )
    rows = []
    for level, names in wanted.items():
        results = IndicatorResult.objects.filter(
            indicator_code=indicator.code,
            period=period,
            level=level,
            category=category,
            org_code__in=list(names),
        ).order_by("org_code")
        rows += [
            ChildRow(level, r.org_code, names[r.org_code], r.numerator, r.denominator, r.value)
            for r in results
        ]
    return rows


KIND_LABELS = {
    "encounter": "医共体内诊疗",
    "settlement": "县域外结算",
    "resident": "居民",
    "referral": "转诊单",
    "schedule": "出诊排班",
    "booking": "预约",
    "bed_booking": "床位占用",
    "ward": "病区",
}


@dataclass(frozen=True)
class RecordRow:
    """One contributing record as the records page shows it (the resident masked)."""

    kind: str
    kind_label: str
    record_id: int
    found: bool  # False: the snapshot names a record the database no longer has, or a kind
    # this page cannot show
    date: dt.date | None = None
    end_date: dt.date | None = None
    institution: str = ""
    setting: str = ""
    code: str = ""
    diagnosis: str = ""
    total: Decimal | None = None
    fund: Decimal | None = None
    # residents.queries.masked_row, or deidentified_row for an aggregate role
    resident: dict[str, str] | None = None
    category: str = ""
    numerator: Decimal = Decimal(0)
    denominator: Decimal = Decimal(0)
    reference: str = ""  # the record's own number where it has one (a referral's 转诊单号)

    @property
    def total_yuan(self) -> str:
        return yuan(self.total)

    @property
    def fund_yuan(self) -> str:
        return yuan(self.fund)


# The kinds of record whose rows carry a principal diagnosis, and those that carry costs; a
# records page shows those columns only when one of its rows can fill them (a page of bookings
# and wards has neither).
DIAGNOSED_KINDS = frozenset({"encounter", "settlement", "referral"})
BILLED_KINDS = frozenset({"encounter", "settlement"})


@dataclass(frozen=True)
class RecordColumns:
    diagnosis: bool = True
    money: bool = True

    @property
    def span(self) -> int:
        """The cells from 日期 to the last money column (a row whose record is gone)."""
        return 4 + self.diagnosis + 2 * self.money


def record_columns(rows: list[RecordRow]) -> RecordColumns:
    """The optional columns of a records page, by the kinds of record on it (all of them for
    an empty page)."""
    kinds = {r.kind for r in rows}
    if not kinds:
        return RecordColumns()
    return RecordColumns(diagnosis=bool(kinds & DIAGNOSED_KINDS), money=bool(kinds & BILLED_KINDS))


def yuan(value: Decimal | None) -> str:
    """``¥1,234.56`` (DESIGN.md UI conventions); ``—`` for no amount."""
    return "—" if value is None else f"¥{value:,.2f}"


def _local_date(moment: dt.datetime | None) -> dt.date | None:
    return timezone.localtime(moment).date() if moment else None


def _short(institution: Institution) -> str:
    return institution.label


def _unit(institution: Institution, department: Department) -> str:
    return f"{_short(institution)} · {department.name}"


def list_record_rows(
    contributions: list[Contribution],
    *,
    deidentify_on: dt.date | None = None,
) -> list[RecordRow]:
    """The records behind one page of contributions, in its order: encounters, external settlements,
    residents (per-resident measures), and for the referral indicators the referrals, bookings, bed
    bookings, sessions and wards; residents masked; with ``deidentify_on`` (an aggregate role's
    view) de-identified instead: sex and age band only, on the record's own date, or on
    ``deidentify_on`` (the period's last day) for a resident counted in a population. A ward shows
    its reserved beds under today's share (as the snapshot counts them) and the days its denominator
    counts them for. Only call it for a page the caller has authorised and audited
    (services.do_read_indicator_records)."""

    def person(resident: Resident, on: dt.date | None) -> dict[str, str]:
        if deidentify_on is None:
            return masked_row(resident)
        return deidentified_row(resident, on or deidentify_on)

    ids: dict[str, list[int]] = {}
    for c in contributions:
        ids.setdefault(c.record_kind, []).append(c.record_id)
    resident_related = ("resident__division", "resident__division__parent")
    encounters = Encounter.objects.select_related("institution", *resident_related).in_bulk(
        ids.get("encounter", [])
    )
    settlements = ExternalSettlement.objects.select_related(*resident_related).in_bulk(
        ids.get("settlement", [])
    )
    residents = Resident.objects.select_related("division", "division__parent").in_bulk(
        ids.get("resident", [])
    )
    referrals = Referral.objects.select_related(
        "from_institution", "to_institution", *resident_related
    ).in_bulk(ids.get("referral", []))
    unit = ("institution", "department")
    bookings = Booking.objects.select_related(
        *(f"schedule__{u}" for u in unit), "slot", *resident_related
    ).in_bulk(ids.get("booking", []))
    beds = BedBooking.objects.select_related("department__institution", *resident_related).in_bulk(
        ids.get("bed_booking", [])
    )
    schedules = Schedule.objects.select_related(*unit).in_bulk(ids.get("schedule", []))
    wards = Department.objects.select_related("institution").in_bulk(ids.get("ward", []))
    names = get_code_names(
        [e.principal_diagnosis for e in encounters.values()]
        + [s.principal_diagnosis for s in settlements.values()]
        + [r.diagnosis_code for r in referrals.values()]
    )
    settings_label = dict(Setting.choices)
    external_label = dict(ExternalKind.choices)
    bed_share = parse_share(get_parameter(BED_SHARE_KEY, clock.today()))
    rows = []
    for c in contributions:
        base: dict[str, Any] = {
            "kind": c.record_kind,
            "kind_label": KIND_LABELS.get(c.record_kind, c.record_kind),
            "record_id": c.record_id,
            "category": c.category,
            "numerator": c.numerator,
            "denominator": c.denominator,
        }
        if c.record_kind == "encounter" and c.record_id in encounters:
            e = encounters[c.record_id]
            row = RecordRow(
                found=True,
                date=e.visit_date,
                end_date=e.discharge_date,
                institution=_short(e.institution),
                setting=settings_label.get(e.setting, e.setting),
                code=e.principal_diagnosis,
                diagnosis=names.get(e.principal_diagnosis, ""),
                total=e.total_cost,
                fund=e.fund_paid,
                resident=person(e.resident, e.visit_date),
                **base,
            )
        elif c.record_kind == "settlement" and c.record_id in settlements:
            s = settlements[c.record_id]
            row = RecordRow(
                found=True,
                # a stay from admission to discharge, as an encounter's; else the day settled
                # (before: the settlement day "至" the discharge, 2025-12-31 至 2025-12-31)
                date=s.admission_date or s.settlement_date,
                end_date=s.discharge_date if s.admission_date else None,
                institution=f"{s.institution_name}（{external_label.get(s.kind, s.kind)}）",
                setting=settings_label.get(s.setting, s.setting),
                code=s.principal_diagnosis,
                diagnosis=names.get(s.principal_diagnosis, ""),
                total=s.total_cost,
                fund=s.fund_paid,
                resident=person(s.resident, s.settlement_date),
                **base,
            )
        elif c.record_kind == "resident" and c.record_id in residents:
            row = RecordRow(found=True, resident=person(residents[c.record_id], None), **base)
        elif c.record_kind == "referral" and c.record_id in referrals:
            r = referrals[c.record_id]
            sent = _local_date(r.submitted_at)
            row = RecordRow(
                found=True,
                reference=r.number,
                date=sent,
                institution=f"{_short(r.from_institution)} → "
                + (_short(r.to_institution) if r.to_institution else r.out_of_county_name),
                # 上转 / 下转 / 转县外: the direction without its explanation in brackets
                setting=f"{r.get_direction_display().split('（')[0]}·{r.get_status_display()}",
                code=r.diagnosis_code,
                diagnosis=names.get(r.diagnosis_code, ""),
                resident=person(r.resident, sent),
                **base,
            )
        elif c.record_kind == "booking" and c.record_id in bookings:
            b = bookings[c.record_id]
            row = RecordRow(
                found=True,
                reference=f"第 {b.slot.seq} 号",
                date=b.schedule.day,
                institution=_unit(b.schedule.institution, b.schedule.department),
                setting=f"{b.get_pool_display()}号源·{b.get_status_display()}",
                resident=person(b.resident, b.schedule.day),
                **base,
            )
        elif c.record_kind == "bed_booking" and c.record_id in beds:
            d = beds[c.record_id]
            admitted = _local_date(d.admitted_at)
            row = RecordRow(
                found=True,
                date=admitted,
                end_date=_local_date(d.closed_at),
                institution=_unit(d.department.institution, d.department),
                setting=f"{d.get_pool_display()}床位·{d.get_status_display()}",
                resident=person(d.resident, admitted),
                **base,
            )
        elif c.record_kind == "schedule" and c.record_id in schedules:
            h = schedules[c.record_id]
            row = RecordRow(
                found=True,
                date=h.day,
                institution=_unit(h.institution, h.department),
                setting=f"{h.get_session_display()}出诊·"
                f"号源 {h.slot_count} 个，基层预留 {h.reserved_count} 个",
                **base,
            )
        elif c.record_kind == "ward" and c.record_id in wards:
            w = wards[c.record_id]
            # ref-06 counts a ward's reserved beds × the seconds they were on offer in the period
            reserved = reserved_count(w.beds, bed_share)
            days = c.denominator / (reserved * 86400) if reserved else Decimal(0)
            row = RecordRow(
                found=True,
                institution=_unit(w.institution, w),
                setting=f"床位 {w.beds} 张，基层预留 {reserved} 张，计 {days:.0f} 天",
                **base,
            )
        else:
            row = RecordRow(found=False, **base)
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------
# Evidence register of nhc-01 … nhc-03
# ---------------------------------------------------------------------------


def list_register_medcoms(scope: Scope) -> list[Medcom]:
    """The medcoms with a member institution inside the scope (whose registers it sees)."""
    paths = scope.institution_paths
    members = Institution.objects.filter(medcom__isnull=False)
    if paths is not None:
        members = (
            members.filter(path__in=paths)
            if scope.exact
            else members.filter(prefix_q("path", paths))
        )
    ids = members.values_list("medcom_id", flat=True).distinct()
    return list(Medcom.objects.filter(id__in=ids).select_related("division").order_by("code"))


def can_see_evidence(scope: Scope, item: EvidenceItem) -> bool:
    """An item of a medcom in the scope, about the whole medcom or an institution in it."""
    if item.medcom_id not in {m.pk for m in list_register_medcoms(scope)}:
        return False
    return item.institution is None or scope.covers_institution(item.institution.path)


def list_current_verdicts(medcom_id: int, year: int) -> dict[str, EvidenceAssessment]:
    """indicator code → the current assessment of that year."""
    return {
        a.indicator_code: a
        for a in EvidenceAssessment.objects.filter(medcom_id=medcom_id, year=year, is_current=True)
    }


@dataclass(frozen=True)
class CriterionRow:
    criterion: definitions.Criterion
    evidence_count: int  # items not withdrawn, whoever may see them


@dataclass(frozen=True)
class RegisterEntry:
    indicator: definitions.Indicator
    checklist: list[CriterionRow]
    items: list[EvidenceItem]  # those the viewer may see, withdrawn ones included
    current: EvidenceAssessment | None
    history: list[EvidenceAssessment]  # superseded assessments, newest first

    @property
    def covered(self) -> int:
        return sum(1 for row in self.checklist if row.evidence_count)

    @property
    def met_with_gaps(self) -> int:
        """The criteria without evidence when the current verdict is 达标 (else 0): the page
        warns, the county's verdict stands."""
        met = self.current is not None and self.current.verdict == "met"
        return len(self.checklist) - self.covered if met else 0


def get_register(medcom: Medcom, year: int, scope: Scope) -> list[RegisterEntry]:
    """nhc-01 … nhc-03 for one medcom and year: checklist, visible items, assessments."""
    items = list(
        EvidenceItem.objects.filter(medcom=medcom, year=year).select_related(
            "institution", "uploaded_by", "withdrawn_by"
        )
    )
    assessments = list(
        EvidenceAssessment.objects.filter(medcom=medcom, year=year).select_related("assessed_by")
    )
    entries = []
    for indicator in definitions.INDICATORS:
        criteria = definitions.criteria_of(indicator.code)
        if not criteria:
            continue
        own = [i for i in items if i.indicator_code == indicator.code]
        counts = {c.key: 0 for c in criteria}
        for item in own:
            if not item.is_withdrawn and item.criterion in counts:
                counts[item.criterion] += 1
        mine = [a for a in assessments if a.indicator_code == indicator.code]
        entries.append(
            RegisterEntry(
                indicator=indicator,
                checklist=[CriterionRow(c, counts[c.key]) for c in criteria],
                items=[
                    i
                    for i in own
                    if i.institution is None or scope.covers_institution(i.institution.path)
                ],
                current=next((a for a in mine if a.is_current), None),
                history=[a for a in mine if not a.is_current],
            )
        )
    return entries


def list_result_categories(
    indicator: definitions.Indicator, period: str, level: str, org_code: str
) -> list[tuple[str, str]]:
    """(category, how users read it) of the categories with a stored result at this org, in
    display order (category_names: the tiers by their label, 县级 …; the ICD-10 chapters I …
    XXII with their names, "IX 循环系统疾病"), then any other stored category (e.g. 未知)."""
    stored = set(
        IndicatorResult.objects.filter(
            indicator_code=indicator.code, period=period, level=level, org_code=org_code
        )
        .exclude(category="")
        .values_list("category", flat=True)
    )
    names = category_names(indicator)
    listed = [c for c in names if c in stored] + sorted(stored - set(names))
    named = indicator.category_label == definitions.CHAPTER_LABEL

    def text(category: str) -> str:
        label, name = names.get(category, (category, ""))
        return f"{label} {name}" if named and name else label

    return [(c, text(c)) for c in listed]


def get_institution_paths(codes: list[str]) -> dict[str, str]:
    """Institution code → tree path (for scope checks of ranking links)."""
    return dict(Institution.objects.filter(code__in=codes).values_list("code", "path"))


def with_verdicts(
    rows: list[OverviewRow], scope: Scope, period: str, county_code: str = ""
) -> list[OverviewRow]:
    """The overview rows with the current verdict of the qualitative indicators for the
    period's year, from the register of the county's medcom among those in the viewer's scope
    (``rules.register_of``; the first of them when no county is given)."""
    medcoms = list_register_medcoms(scope)
    if not medcoms or not period[:4].isdigit():
        return rows
    at: int | None = 0
    if county_code:
        at = rules.register_of([m.division.code for m in medcoms], county_code)
    if at is None:
        return rows
    year = int(period[:4])
    verdicts = list_current_verdicts(medcoms[at].pk, year)
    covered = set(
        EvidenceItem.objects.filter(medcom_id=medcoms[at].pk, year=year, withdrawn_at__isnull=True)
        .values_list("indicator_code", "criterion")
        .distinct()
    )

    def gaps(code: str) -> int:
        """As the register warns: criteria without evidence under a 达标 verdict."""
        if verdicts[code].verdict != "met":
            return 0
        return sum(1 for c in definitions.criteria_of(code) if (code, c.key) not in covered)

    return [
        dataclasses.replace(
            row,
            verdict=verdicts[code].verdict,
            verdict_label=verdicts[code].get_verdict_display(),
            gaps=gaps(code),
        )
        if (code := row.indicator.code) in verdicts
        else row
        for row in rows
    ]
