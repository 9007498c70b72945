"""The indicator definitions: metadata as data, numerator and denominator as Ibis expressions.

Each computed indicator has a ``measure(t, period)`` that returns an Ibis table with one row per
contributing record: ``county_id``, ``township_id``, ``institution_id`` (null for what no member
institution did, e.g. a stay outside the county), ``doctor_id`` (the encounter's doctor; null for
any other record, or an encounter with no doctor recorded), ``category`` (``""`` unless the
indicator is broken down by a category such as the ICD-10 chapter), ``record_kind`` and
``record_id`` (the encounter or external settlement behind the row, for drill-down, or — kind
``resident``, id the resident's — a resident counted in a per-1,000 population), ``numerator`` and
``denominator``; the engine sums them up to each level the indicator rolls up to, per category.
Codes ``nhc-01`` … ``nhc-14`` follow reference/standards.md §2 in order;
the names are verbatim [V], the 口径 (numerator and denominator) are inferred [I] as written there
and in docs/indicators.md. Indicators whose data later work adds are listed with status
``pending`` and no measure: the engine skips them and never invents a value.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ibis
from ibis import _

from yigongti.encounters.choices import ExternalKind, Setting
from yigongti.indicators.rules import TIER_COUNTY, TIER_TOWNSHIP, Period
from yigongti.residents.choices import InsuranceType

# A measure's numerator and denominator per record: 18 digits hold any one record's amount and
# are stored as 64-bit integers, so the engines sum them about a fifth faster than 38-digit
# decimals (bench/indicators.py); the sums come back wider (DuckDB decimal(38, 2), Spark
# decimal(28, 2)), exact either way.
MONEY = "decimal(18, 2)"
VISITS = (str(Setting.OUTPATIENT), str(Setting.EMERGENCY))  # 诊疗人次: 门急诊人次 [I]
INPATIENT = str(Setting.INPATIENT)
OUT_OF_COUNTY = str(ExternalKind.OUT_OF_COUNTY)
UNINSURED = str(InsuranceType.NONE)
COUNTY, TOWNSHIP, INSTITUTION, DOCTOR = "county", "township", "institution", "doctor"
LEVEL_WORDS = {COUNTY: "县", TOWNSHIP: "乡镇", INSTITUTION: "机构", DOCTOR: "医生"}
LEVEL_ORDER = {level: n for n, level in enumerate(LEVEL_WORDS)}  # county first, doctor last
OPERATIONAL = "运行"  # the dimension of the operational indicators op-01 …
REFERRAL_DIMENSION = "转诊"  # the two-way referral indicators ref-01 … (issue #6 item 7)
TIER_LABEL = "机构级别"  # categories: rules.TIER_LABELS keys
CHAPTER_LABEL = "ICD-10 章"  # categories: ICD-10 chapters (I … XXII)


@dataclass(frozen=True)
class Tables:
    """The snapshot as Ibis tables (see analytics/services.py for the columns), plus
    ``places``: institution_id → township_id, county_id, grassroots, tier (县级/乡镇/村, see
    ``rules.institution_tier``); ``homes``: resident_id → county_id, township_id of the home
    division, ``counted`` (in the population: not merged into another record, not deceased);
    ``diagnoses``: the ICD-10 catalogue (code, chapter, chapter_name)."""

    encounters: Any
    settlements: Any
    places: Any
    homes: Any
    diagnoses: Any
    # Two-way referral and the slot/bed pools (issue #6): whole tables of the snapshot.
    referrals: Any
    schedules: Any
    bookings: Any
    bed_bookings: Any
    wards: Any
    # The joins most measures start from (``_member``, ``_external``, ``_homes``), built once
    # per opened snapshot: Ibis builds a join in milliseconds, and 19 measures ask for it.
    shared: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)


def _shared(build: Callable[[Tables], Any]) -> Callable[[Tables], Any]:
    """``build(t)`` once per ``Tables``: the same expression every time it is asked for."""

    @functools.wraps(build)
    def once(t: Tables) -> Any:
        if build.__name__ not in t.shared:
            t.shared[build.__name__] = build(t)
        return t.shared[build.__name__]

    return once


Measure = Callable[[Tables, Period], Any]


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    dimension: str
    unit: str  # "%" | "元" | "人/万人" | "人次/千人" | ""
    direction: str  # "higher" | "lower" | ""
    scale: int  # value = numerator / denominator × scale
    target: str  # "" when the seeds set none
    target_source: str
    levels: tuple[str, ...]
    caliber: str  # 口径, in Chinese, as on the dashboard
    source_tag: str  # [V] / [S] / [I]
    status: str  # computed | evidence | pending
    measure: Measure | None = None
    # A category breakdown (e.g. "ICD-10 章"): results per category besides the total ("").
    category_label: str = ""
    # A growth rate of another indicator's per-unit value against the same period a year
    # earlier (its code): computed by the engine from that indicator's sums, no measure.
    growth_of: str = ""
    # "元" where the numerator or denominator is money (formatted as yuan in the reports);
    # "" for counts (人次).
    numerator_unit: str = ""
    denominator_unit: str = ""
    # What is stored per unit shown: ref-06 stores bed-seconds and shows 床日 (86,400), ref-04
    # seconds as 小时 and its 3,600 a referral as 件. Pages and reports divide; the stored
    # results and the CSV/XLSX export keep what the engine summed.
    numerator_per: int = 1
    denominator_per: int = 1
    # What the drill-down says of the institutions listed under the county, when the
    # indicator's own places differ from the levels' (ref-06: county-level hospitals only).
    children_note: str = ""
    # What the township ranking says of how townships are made up, when not the usual
    # (TOWNSHIP_NOTE: by the institutions in them, the county hospitals in none).
    township_note: str = ""

    @property
    def ranking_note(self) -> str:
        """The note under the township ranking."""
        return self.township_note or TOWNSHIP_NOTE

    @property
    def computed(self) -> bool:
        """The engine computes it (from a measure, or as the growth of another indicator)."""
        return self.measure is not None or bool(self.growth_of)

    @property
    def operational(self) -> bool:
        """An operational indicator (shown under the national ones)."""
        return self.dimension in (OPERATIONAL, REFERRAL_DIMENSION)

    @property
    def drill_path(self) -> str:
        """The drill-down's steps as the dashboard names them, by the levels it rolls up to,
        e.g. "县 › 机构 › 明细" for an indicator with no township level."""
        return " › ".join([*(LEVEL_WORDS[lv] for lv in self.levels if lv in LEVEL_WORDS), "明细"])


# The township ranking's notes (Indicator.ranking_note): townships made up of the
# institutions in them, or of the residents living in them.
TOWNSHIP_NOTE = (
    "乡镇排名只含乡镇卫生院和村卫生室；县级医院服务全县，不计入任何乡镇，所以各乡镇的值与全县"
    "不同，分母之和也小于全县。"
)
HOME_NOTE = (
    "乡镇按居民户籍所在地统计：居民在县级医院或县外就诊也计入其户籍所在乡镇，各乡镇之和即全县。"
)

ENCOUNTER, SETTLEMENT, RESIDENT = "encounter", "settlement", "resident"
REFERRAL, SCHEDULE, BOOKING, BED, WARD = "referral", "schedule", "booking", "bed_booking", "ward"
RECORD_IDS = {
    ENCOUNTER: "encounter_id",
    SETTLEMENT: "settlement_id",
    RESIDENT: "resident_id",
    REFERRAL: "referral_id",
    SCHEDULE: "schedule_id",
    BOOKING: "booking_id",
    BED: "bed_booking_id",
    WARD: "department_id",
}
# Record kinds placed at a member institution (the others at the county or township only).
AT_INSTITUTION = frozenset({ENCOUNTER, REFERRAL, SCHEDULE, BOOKING, BED, WARD})


def _shape(
    table: Any,
    numerator: Any,
    denominator: Any,
    *,
    outside: bool = False,
    category: Any = None,
    kind: str = "",
    home: bool = False,
) -> Any:
    """The measure's columns; ``outside`` rows (external settlements, no member institution)
    count for the county only. ``kind`` names the record behind a row placed by the table's own
    ``county_id``/``township_id`` (e.g. a resident's home): ``SETTLEMENT`` for a settlement,
    ``RESIDENT`` for a resident counted in a population (record_id = resident_id); only encounter
    rows carry an institution, and only an encounter row its doctor. ``home``: an encounter placed
    by the patient's home (``_member``'s ``home_county_id``/``home_township_id``), not by its
    institution."""
    kind = kind or (SETTLEMENT if outside else ENCOUNTER)
    at_member = kind in AT_INSTITUTION and not outside
    by_doctor = kind == ENCOUNTER and not outside
    county, township = (
        (_.home_county_id, _.home_township_id) if home else (_.county_id, _.township_id)
    )
    return table.select(
        county_id=county.cast("int64"),
        township_id=(ibis.null() if outside else township).cast("int64"),
        institution_id=(_.institution_id if at_member else ibis.null()).cast("int64"),
        doctor_id=(_.doctor_id if by_doctor else ibis.null()).cast("int64"),
        category=(ibis.literal("") if category is None else category).cast("string"),
        record_kind=ibis.literal(kind),
        record_id=table[RECORD_IDS[kind]].cast("int64"),
        numerator=numerator.cast(MONEY),
        denominator=denominator.cast(MONEY),
    )


@_shared
def _placed(t: Tables) -> Any:
    """Encounters with the place of their institution, without the patient's home: for a
    measure that reads nothing of the home (``_member``'s join to the homes keeps every row,
    one home a resident, so the rows are the same and the query is spared that join)."""
    return t.encounters.join(t.places, "institution_id")


@_shared
def _member(t: Tables) -> Any:
    """Encounters with the place of their institution and the patient's home in a county the
    member institutions serve (``home_resident_id``, ``home_county_id``, ``home_township_id``;
    null for a patient from elsewhere): one join for every encounter measure, so the engine
    computes them in one pass."""
    homes = _homes(t).select(
        home_resident_id=_.resident_id,
        home_county_id=_.county_id,
        home_township_id=_.township_id,
    )
    member = _placed(t)
    return member.left_join(homes, member.resident_id == homes.home_resident_id)


@_shared
def _external(t: Tables) -> Any:
    """Out-of-county settlements (pharmacies excluded) with the resident's home county."""
    return t.settlements.join(t.homes, "resident_id").filter(_.kind == OUT_OF_COUNTY)


def _visits(t: Tables, p: Period) -> Any:
    return _member(t).filter(_.setting.isin(VISITS), _.visit_date.between(p.start, p.end))


def grassroots_visit_share(t: Tables, p: Period) -> Any:
    """nhc-07: 基层 诊疗人次 ÷ all 诊疗人次 at member institutions (visit date in period)."""
    v = _visits(t, p)
    return _shape(v, v.grassroots.cast("int64"), ibis.literal(1))


def tcm_visit_share(t: Tables, p: Period) -> Any:
    """nhc-12: 中医类 诊疗人次 ÷ all 诊疗人次 at member institutions."""
    v = _visits(t, p)
    return _shape(v, v.is_tcm.cast("int64"), ibis.literal(1))


def _settled_in(p: Period) -> Any:
    """An encounter is settled on discharge (stays) or on the visit day."""
    return ibis.coalesce(_.discharge_date, _.visit_date).between(p.start, p.end)


def in_county_fund_share(t: Tables, p: Period) -> Any:
    """nhc-08: fund paid at member institutions ÷ (that + fund paid outside the county);
    pharmacies excluded on both sides."""
    inside = _member(t).filter(_settled_in(p))
    outside = _external(t).filter(_.settlement_date.between(p.start, p.end))
    return _shape(inside, inside.fund_paid, inside.fund_paid).union(
        _shape(outside, ibis.literal(0), outside.fund_paid, outside=True), distinct=False
    )


def grassroots_fund_share(t: Tables, p: Period) -> Any:
    """nhc-09: fund paid at 基层 member institutions ÷ fund paid at all member institutions."""
    inside = _member(t).filter(_settled_in(p))
    grassroots_fund = ibis.ifelse(inside.grassroots, inside.fund_paid, 0)
    return _shape(inside, grassroots_fund, inside.fund_paid)


def _insured_stays(t: Tables, p: Period, member: Any = None) -> Any:
    return (_member(t) if member is None else member).filter(
        _.setting == INPATIENT,
        _.insurance_type != UNINSURED,
        _.discharge_date.between(p.start, p.end),
    )


def in_county_cost_per_stay(t: Tables, p: Period) -> Any:
    """nhc-10: total cost of insured residents' in-county stays ÷ those stays (discharged in
    the period); the growth rate compares with the same period a year earlier."""
    s = _insured_stays(t, p)
    return _shape(s, s.total_cost, ibis.literal(1))


def _stay_share(t: Tables, p: Period, *, by_chapter: bool) -> Any:
    # Joins first, filters after: the engine plans measures whose period filters sit on top
    # of a shared join as one pass (services._split).
    member, external = _member(t), _external(t)
    if by_chapter:  # its own query, reading nothing of the home
        member, external = _with_chapter(t, _placed(t)), _with_chapter(t, external)
    inside = _insured_stays(t, p, member)
    outside = external.filter(
        _.setting == INPATIENT,
        _.insurance_type != UNINSURED,
        _.settlement_date.between(p.start, p.end),
    )
    return _shape(
        inside, ibis.literal(1), ibis.literal(1), category=inside.chapter if by_chapter else None
    ).union(
        _shape(
            outside,
            ibis.literal(0),
            ibis.literal(1),
            outside=True,
            category=outside.chapter if by_chapter else None,
        ),
        distinct=False,
    )


def in_county_stay_share(t: Tables, p: Period) -> Any:
    """nhc-11: insured residents' in-county stays ÷ all their stays (in county + out of
    county, by discharge or settlement date in the period)."""
    return _stay_share(t, p, by_chapter=False)


# Operational indicators (dimension 运行, source [I]): what county managers watch besides the
# national list (issue 5 item 2); no seed sets a target for any of them.


def _with_chapter(t: Tables, table: Any) -> Any:
    """The table with ``chapter``: the ICD-10 chapter of its principal diagnosis (null — the
    engine's "未知" category — when the diagnosis is missing or not in the catalogue)."""
    d = t.diagnoses.select(dx_code=_.code, chapter=_.chapter)
    return table.left_join(d, table.principal_diagnosis == d.dx_code)


def in_county_stay_share_by_chapter(t: Tables, p: Period) -> Any:
    """op-06: nhc-11 per ICD-10 chapter of the principal diagnosis."""
    return _stay_share(t, p, by_chapter=True)


@_shared
def _homes(t: Tables) -> Any:
    """Residents' homes in the counties the member institutions serve (a resident from
    another county belongs to no population here)."""
    return t.homes.filter(_.county_id.isin(t.places.county_id))


def _per_resident(t: Tables, encounters: list[Any], settlements: list[Any]) -> Any:
    """Events of an area's residents (by home, wherever they were treated; numerator 1) and
    the area's residents (record kind ``resident``; denominator 1), placed by the home's
    county and township: the population is the snapshot's residents dimension.
    ``encounters`` and ``settlements``: the predicates choosing the events (applied after the
    join with the homes, so every per-resident measure shares one pass)."""
    inside = _member(t).filter(_.home_resident_id.notnull(), *encounters)
    # The settlements as ``_external`` joins them (same pass), of residents of served counties.
    outside = _external(t).filter(_.county_id.isin(t.places.county_id), *settlements)
    people = _homes(t).filter(_.counted)
    one, zero = ibis.literal(1), ibis.literal(0)
    return (
        _shape(inside, one, zero, home=True)
        .union(_shape(outside, one, zero, kind=SETTLEMENT), distinct=False)
        .union(_shape(people, zero, one, kind=RESIDENT), distinct=False)
    )


def visits_per_thousand(t: Tables, p: Period) -> Any:
    """op-01: 门急诊人次 of the area's residents (at member institutions by visit date, out of
    the county by settlement date; pharmacies excluded) per 1,000 residents."""
    return _per_resident(
        t,
        [_.setting.isin(VISITS), _.visit_date.between(p.start, p.end)],
        [_.setting.isin(VISITS), _.settlement_date.between(p.start, p.end)],
    )


def stays_per_thousand(t: Tables, p: Period) -> Any:
    """op-02: 住院人次 of the area's residents (in the county by discharge date, out of the
    county by settlement date) per 1,000 residents."""
    return _per_resident(
        t,
        [_.setting == INPATIENT, _.discharge_date.between(p.start, p.end)],
        [_.setting == INPATIENT, _.settlement_date.between(p.start, p.end)],
    )


def cost_per_visit(t: Tables, p: Period) -> Any:
    """op-03: total cost of 门急诊 at member institutions ÷ those visits, by tier."""
    v = _visits(t, p)
    return _shape(v, v.total_cost, ibis.literal(1), category=v.tier)


def cost_per_stay(t: Tables, p: Period) -> Any:
    """op-04: total cost of stays at member institutions (all patients, discharged in the
    period) ÷ those stays, by tier."""
    s = _member(t).filter(_.setting == INPATIENT, _.discharge_date.between(p.start, p.end))
    return _shape(s, s.total_cost, ibis.literal(1), category=s.tier)


def drug_share(t: Tables, p: Period) -> Any:
    """op-05: drug cost ÷ total cost of the encounters settled at member institutions."""
    e = _member(t).filter(_settled_in(p))
    return _shape(e, e.drug_cost, e.total_cost)


# Two-way referral (ref-01 … ref-06) ---------------------------------------------------------

UP, DOWN = "up", "down"
NOT_SENT = ("draft", "cancelled")  # a draft or a cancelled referral was never a referral
LIVE_BOOKING = ("booked", "attended", "no_show")
LOCAL = dt.timezone(dt.timedelta(hours=8))  # Asia/Shanghai has no daylight saving
LOCAL_OFFSET_SECONDS = 8 * 3600


def _epochs(p: Period) -> tuple[int, int]:
    """The period as [start, end) epoch seconds of local (UTC+8) midnights: timestamps are
    compared as integers, which every engine computes alike."""
    start = dt.datetime.combine(p.start, dt.time(0), LOCAL)
    end = dt.datetime.combine(p.end + dt.timedelta(days=1), dt.time(0), LOCAL)
    return int(start.timestamp()), int(end.timestamp())


def _local_day(moment: Any) -> Any:
    """The local (UTC+8) calendar day of a timestamp, from its epoch seconds by integer
    arithmetic, which every engine computes alike (DuckDB and Spark checked equal at the
    16:00 UTC boundary); a date, so a period filters it with ``between`` and the engine plans
    it like any other date (services._split)."""
    days = _local_day_number(moment.epoch_seconds())
    return (ibis.date(1970, 1, 1) + days.as_interval("D")).cast("date")


def _local_day_number(seconds: Any) -> Any:
    """Local (UTC+8) days since 1970-01-01 of epoch ``seconds``, in integers."""
    return (seconds + LOCAL_OFFSET_SECONDS) // 86400


def _referrals_at(t: Tables, by: str) -> Any:
    """Referrals placed at the ``by`` institution (from_institution_id / to_institution_id)."""
    return t.referrals.mutate(institution_id=_[by]).join(t.places, "institution_id")


def _sent(t: Tables, p: Period, direction: str, by: str) -> Any:
    """Referrals of a direction submitted in the period (local days), placed at the ``by``
    institution."""
    return _referrals_at(t, by).filter(
        _.direction == direction,
        ~_.status.isin(NOT_SENT),
        _.submitted_at.notnull(),
        lambda r: _local_day(r.submitted_at).between(p.start, p.end),
    )


def _discharges(t: Tables, p: Period, grassroots: bool) -> Any:
    return _member(t).filter(
        _.setting == INPATIENT,
        _.discharge_date.between(p.start, p.end),
        _.grassroots == grassroots,
    )


def up_referral_rate(t: Tables, p: Period) -> Any:
    """ref-01: up-referrals sent by the township tier (乡镇卫生院, 社区卫生服务中心) ÷ their
    inpatient discharges (calibration §6: about 3–6% of THC inpatients). Both sides from the
    same institutions: a village clinic's up-referrals have no stays to be a share of (they
    made the county read 21 % in the demo, its townships above their own centres)."""
    sent = _sent(t, p, UP, "from_institution_id").filter(_.tier == TIER_TOWNSHIP)
    stays = _discharges(t, p, True).filter(_.tier == TIER_TOWNSHIP)
    one, zero = ibis.literal(1), ibis.literal(0)
    return _shape(sent, one, zero, kind=REFERRAL).union(_shape(stays, zero, one), distinct=False)


def down_referral_rate(t: Tables, p: Period) -> Any:
    """ref-02: down-referrals sent by county-level institutions ÷ their inpatient discharges
    (calibration §6: about 1–3% of county-hospital discharges)."""
    sent = _sent(t, p, DOWN, "from_institution_id")
    stays = _discharges(t, p, False)
    one, zero = ibis.literal(1), ibis.literal(0)
    return _shape(sent, one, zero, kind=REFERRAL).union(_shape(stays, zero, one), distinct=False)


def down_share(t: Tables, p: Period) -> Any:
    """ref-03: down-referrals ÷ (up + down) referrals sent in the period (county)."""
    up = _sent(t, p, UP, "from_institution_id")
    down = _sent(t, p, DOWN, "from_institution_id")
    one, zero = ibis.literal(1), ibis.literal(0)
    return _shape(down, one, one, kind=REFERRAL).union(
        _shape(up, zero, one, kind=REFERRAL), distinct=False
    )


def acceptance_hours(t: Tables, p: Period) -> Any:
    """ref-04: mean hours from submission to acceptance of the referrals accepted in the
    period, at the receiving institution: Σ seconds ÷ Σ 3600."""
    r = _referrals_at(t, "to_institution_id").filter(
        _.accepted_at.notnull(),
        _.submitted_at.notnull(),
        lambda r: _local_day(r.accepted_at).between(p.start, p.end),
    )
    waited = r.accepted_at.epoch_seconds() - r.submitted_at.epoch_seconds()
    return _shape(r, waited, ibis.literal(3600), kind=REFERRAL)


def reserved_slot_use(t: Tables, p: Period) -> Any:
    """ref-05: live bookings made by the grassroots (channel) in the reserved pool ÷ reserved
    slots, sessions in the period; a public booking of a leftover after the cut-off is not
    the grassroots' use of its pool."""
    open_in_period = [_.session_status == "open", _.day.between(p.start, p.end)]
    schedules = t.schedules.select(
        "schedule_id", "institution_id", "day", "reserved_count", session_status=_.status
    )
    sessions = schedules.join(t.places, "institution_id").filter(*open_in_period)
    used = (
        t.bookings.join(schedules, "schedule_id")
        .join(t.places, "institution_id")
        .filter(
            _.pool == "reserved",
            _.channel == "grassroots",
            _.status.isin(LIVE_BOOKING),
            *open_in_period,
        )
    )
    zero = ibis.literal(0)
    return _shape(used, ibis.literal(1), zero, kind=BOOKING).union(
        _shape(sessions, zero, sessions.reserved_count, kind=SCHEDULE), distinct=False
    )


def _local_midnight(seconds: Any) -> Any:
    """The epoch seconds of the local (UTC+8) midnight that starts the day of ``seconds``."""
    return _local_day_number(seconds) * 86400 - LOCAL_OFFSET_SECONDS


def reserved_bed_use(t: Tables, p: Period) -> Any:
    """ref-06: bed-seconds occupied in the reserved pool (admitted until released, clipped to
    the period) ÷ reserved beds × the seconds they were on offer in the period, at the
    county-level hospitals: the seed's pool is the lead hospital's beds kept for the
    grassroots (seeds/004 §9), and a township centre's wards, which take no up-referrals from
    it, would dilute the county figure and rank at 0 %.

    The beds are on offer from the county's go-live of the bed board: the day (local) of the
    first admission into any bed of its county-level hospitals [I]. Before it the platform has
    no bed records, and counting the whole period would read a county's first year on the
    platform as near 0 % (the demo: 0.23 % for 2025 with four weeks of stays); a period wholly
    before it, or a county with no admission yet, has no row ("—")."""
    start, end = _epochs(p)
    hospitals = t.places.filter(_.tier == TIER_COUNTY)
    at_hospitals = t.bed_bookings.join(
        t.wards.select("department_id", "institution_id"), "department_id"
    ).join(hospitals, "institution_id")
    live = (
        at_hospitals.filter(_.admitted_at.notnull())
        .group_by("county_id")
        .aggregate(live_at=lambda b: _local_midnight(b.admitted_at.epoch_seconds().min()))
    )
    # Only the beds occupied during the period, and the wards on offer in it, are its records:
    # the others would add 0 to both sides and fill its records page with other months' stays
    # (the demo's 2024 listed December 2025's beds at 0 床日), and a period before the go-live
    # has no row at all ("—", nothing to drill into). Deferred: the same two expressions
    # select the beds and, in _shape, measure their stay.
    admitted = _.admitted_at.epoch_seconds()
    released = ibis.coalesce(_.closed_at.epoch_seconds(), ibis.literal(end))  # still in: end
    beds = at_hospitals.filter(
        _.pool == "reserved", _.admitted_at.notnull(), admitted < end, released > start
    )
    occupied = ibis.least(released, ibis.literal(end)) - ibis.greatest(
        admitted, ibis.literal(start)
    )
    on_offer = t.wards.join(hospitals, "institution_id").join(live, "county_id")
    wards = on_offer.filter(on_offer.live_at < end)
    offered = ibis.literal(end) - ibis.greatest(wards.live_at, ibis.literal(start))
    return _shape(beds, occupied, ibis.literal(0), kind=BED).union(
        _shape(wards, ibis.literal(0), wards.reserved_beds * offered, kind=WARD),
        distinct=False,
    )


ALL_LEVELS = (COUNTY, TOWNSHIP, INSTITUTION)
# Down to the doctor as well (issue 5 item 2, "doctor where it makes sense"): the per-unit
# costs and the drug share, which a doctor's own prescribing and treatment decide; a share of
# visits by tier (nhc-07), 中医类 (nhc-12) or fund would be 0 % or 100 % per doctor, and a
# population (op-01, op-02) has no doctor. A doctor's row sums the encounters they recorded at
# every member institution (多点执业 included) and is listed under their employer (docs/
# indicators.md "医生层级").
BY_DOCTOR = (*ALL_LEVELS, DOCTOR)
# Targets [V]: seed 002 (县医共体实施方案): "到2026年底…县域就诊率提高至90%…基层医疗卫生机构诊疗
# 人次占总诊疗人次的比例达到65%"; seed 000 set the same 90% / 65% for 2020.
TARGET_SOURCE = "seeds/002：到2026年底县域就诊率90%、基层诊疗人次占比65% [V]"

INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "nhc-01",
        "资源统一管理",
        "紧密型",
        "",
        "",
        1,
        "",
        "",
        (COUNTY,),
        "人事、财务、业务、药品、信息统一管理的制度安排与组织实施佐证",
        "[V]",
        "evidence",
    ),
    Indicator(
        "nhc-02",
        "医共体内部民主决策",
        "紧密型",
        "",
        "",
        1,
        "",
        "",
        (COUNTY,),
        "决策机构与决策记录佐证",
        "[V]",
        "evidence",
    ),
    Indicator(
        "nhc-03",
        "服务协同联动",
        "紧密型",
        "",
        "",
        1,
        "",
        "",
        (COUNTY,),
        "转诊、共享中心、医防协同运行佐证",
        "[V]",
        "evidence",
    ),
    Indicator(
        "nhc-04",
        "二级及以上医疗卫生机构中级及以上医师到基层医疗卫生机构派驻人数（人）/每万常住人口",
        "同质化",
        "人/万人",
        "higher",
        10000,
        "",
        "",
        (COUNTY,),
        "派驻基层的中级及以上医师人数 ÷ 常住人口 × 10000（需派驻台账）",
        "[I]",
        "pending",
    ),
    Indicator(
        "nhc-05",
        "影像心电中心服务开展与心电设备村级覆盖率",
        "同质化",
        "%",
        "higher",
        100,
        "",
        "",
        (COUNTY,),
        "配备联网心电设备的村卫生室 ÷ 全部村卫生室（需设备台账）",
        "[I]",
        "pending",
    ),
    Indicator(
        "nhc-06",
        "基层医疗卫生机构人均收入与牵头医院人均收入的比值",
        "同质化",
        "",
        "higher",
        1,
        "",
        "",
        (COUNTY,),
        "基层人均收入 ÷ 牵头医院人均收入（需薪酬数据）",
        "[I]",
        "pending",
    ),
    Indicator(
        "nhc-07",
        "县域内基层医疗卫生机构诊疗人次数占比",
        "促分工",
        "%",
        "higher",
        100,
        "65",
        TARGET_SOURCE,
        (COUNTY,),
        "基层医疗卫生机构（乡镇卫生院、社区卫生服务中心/站、村卫生室）门急诊人次 ÷ 县域内成员机构门急诊人次",
        "[I]",
        "computed",
        grassroots_visit_share,
    ),
    Indicator(
        "nhc-08",
        "医保基金县域内支出占比（不含药店）",
        "促分工",
        "%",
        "higher",
        100,
        "",
        "",
        (COUNTY,),
        "县域内成员机构医保统筹基金支出 ÷（县域内 + 县域外医疗机构统筹基金支出），不含定点药店",
        "[I]",
        "computed",
        in_county_fund_share,
        numerator_unit="元",
        denominator_unit="元",
    ),
    Indicator(
        "nhc-09",
        "县域内基层医疗卫生机构医保基金支出占比",
        "促分工",
        "%",
        "higher",
        100,
        "",
        "",
        (COUNTY,),
        "基层医疗卫生机构医保统筹基金支出 ÷ 县域内成员机构医保统筹基金支出",
        "[I]",
        "computed",
        grassroots_fund_share,
        numerator_unit="元",
        denominator_unit="元",
    ),
    Indicator(
        "nhc-10",
        "参保人在县域内住院人均费用（元）及增长率",
        "提效能",
        "元",
        "lower",
        1,
        "",
        "",
        BY_DOCTOR,
        "参保人县域内住院总费用 ÷ 出院人次（按出院日期）；增长率见 nhc-10g",
        "[I]",
        "computed",
        in_county_cost_per_stay,
        numerator_unit="元",
    ),
    Indicator(
        "nhc-10g",
        "参保人县域内住院人均费用增长率",
        "提效能",
        "%",
        "lower",
        100,
        "",
        "",
        ALL_LEVELS,
        "（本期参保人县域内住院人均费用 − 上年同期人均费用）÷ 上年同期人均费用 × 100%，"
        "两期人均费用均先四舍五入到分；上年同期或本期无出院人次时不计算（—）",
        "[I]",
        "computed",
        growth_of="nhc-10",
        numerator_unit="元",
        denominator_unit="元",
        township_note="各乡镇的增长率按其乡镇卫生院、村卫生室本期与上年同期的住院人均费用计算，"
        "县级医院不计入任何乡镇；分子为两期人均费用之差（元），分母为上年同期人均费用（元）。",
    ),
    Indicator(
        "nhc-11",
        "参保人县域内住院人次占比",
        "提效能",
        "%",
        "higher",
        100,
        "90",
        TARGET_SOURCE,
        (COUNTY,),
        "参保人县域内住院人次 ÷（县域内 + 县域外住院人次）",
        "[I]",
        "computed",
        in_county_stay_share,
    ),
    Indicator(
        "nhc-12",
        "县域内中医类诊疗量占比",
        "提效能",
        "%",
        "higher",
        100,
        "",
        "",
        ALL_LEVELS,
        "中医类门急诊人次 ÷ 县域内成员机构门急诊人次",
        "[I]",
        "computed",
        tcm_visit_share,
    ),
    Indicator(
        "nhc-13",
        "县域内慢性病健康管理人群住院率",
        "保健康",
        "%",
        "lower",
        100,
        "",
        "",
        (COUNTY,),
        "纳入管理的高血压、2型糖尿病患者中年内住院者 ÷ 纳入管理人数（需慢病登记）",
        "[I]",
        "pending",
    ),
    Indicator(
        "nhc-14",
        "县域内四类慢性病过早死亡率",
        "保健康",
        "%",
        "lower",
        100,
        "",
        "",
        (COUNTY,),
        "30–70岁人群因心脑血管疾病、癌症、慢性呼吸系统疾病和糖尿病死亡的概率（需死因监测）",
        "[I]",
        "pending",
    ),
    # Operational indicators [I] (docs/indicators.md "运行指标"): no seed sets a target.
    # Residents: the snapshot's residents dimension by home division, merged and deceased
    # records left out (the current register; the snapshot has no dates of death).
    Indicator(
        "op-01",
        "每千居民门急诊人次",
        OPERATIONAL,
        "人次/千人",
        "",
        1000,
        "",
        "",
        (COUNTY, TOWNSHIP),
        "辖区居民门急诊人次（县域内成员机构按就诊日期，县域外门诊结算按结算日期，不含药店）"
        " ÷ 辖区在册居民数 × 1000；居民按户籍所在区划归属乡镇；季度、月度值为当期人次，未折算为全年",
        "[I]",
        "computed",
        visits_per_thousand,
        township_note=HOME_NOTE,
    ),
    Indicator(
        "op-02",
        "每千居民住院人次",
        OPERATIONAL,
        "人次/千人",
        "",
        1000,
        "",
        "",
        (COUNTY, TOWNSHIP),
        "辖区居民住院人次（县域内按出院日期，县域外住院结算按结算日期）÷ 辖区在册居民数 × 1000；"
        "季度、月度值为当期人次，未折算为全年",
        "[I]",
        "computed",
        stays_per_thousand,
        township_note=HOME_NOTE,
    ),
    Indicator(
        "op-03",
        "次均门急诊费用",
        OPERATIONAL,
        "元",
        "lower",
        1,
        "",
        "",
        BY_DOCTOR,
        "成员机构门急诊总费用 ÷ 门急诊人次（按就诊日期），按机构级别（县级/乡镇/村）分列",
        "[I]",
        "computed",
        cost_per_visit,
        category_label=TIER_LABEL,
        numerator_unit="元",
    ),
    Indicator(
        "op-04",
        "次均住院费用",
        OPERATIONAL,
        "元",
        "lower",
        1,
        "",
        "",
        BY_DOCTOR,
        "成员机构住院总费用 ÷ 出院人次（按出院日期，含未参保患者），按机构级别（县级/乡镇/村）分列",
        "[I]",
        "computed",
        cost_per_stay,
        category_label=TIER_LABEL,
        numerator_unit="元",
    ),
    Indicator(
        "op-05",
        "药占比",
        OPERATIONAL,
        "%",
        "lower",
        100,
        "",
        "",
        BY_DOCTOR,
        "成员机构药品费用 ÷ 医疗总费用（门急诊按就诊日期、住院按出院日期）",
        "[I]",
        "computed",
        drug_share,
        numerator_unit="元",
        denominator_unit="元",
    ),
    Indicator(
        "op-06",
        "参保人县域内住院人次占比（按疾病章）",
        OPERATIONAL,
        "%",
        "higher",
        100,
        "",
        "",
        (COUNTY,),
        "同 nhc-11，按主要诊断的 ICD-10 章分列：各章参保人县域内住院人次 ÷ 该章县域内外住院人次；"
        "无主要诊断的县域外结算归“未知”",
        "[I]",
        "computed",
        in_county_stay_share_by_chapter,
        category_label=CHAPTER_LABEL,
    ),
    Indicator(
        "ref-01",
        "基层上转率",
        REFERRAL_DIMENSION,
        "%",
        "",
        100,
        "",
        "",
        ALL_LEVELS,
        # the usual range: reference/calibration.md §6 [EST]
        "乡镇卫生院、社区卫生服务中心提交的上转人次 ÷ 其出院人次（按提交日期、出院日期）；"
        "村卫生室、社区卫生服务站没有住院，其上转不计入；一般为 3%–6%（参考值 [EST]）",
        "[I]",
        "computed",
        up_referral_rate,
        township_note="只统计乡镇卫生院、社区卫生服务中心的上转和出院，各乡镇之和即全县。",
    ),
    Indicator(
        "ref-02",
        "县级医院下转率",
        REFERRAL_DIMENSION,
        "%",
        "higher",
        100,
        "",
        "",
        (COUNTY, INSTITUTION),
        # the usual range: reference/calibration.md §6 [EST]
        "县级医院提交的下转人次 ÷ 县级医院出院人次；一般为 1%–3%（参考值 [EST]）",
        "[I]",
        "computed",
        down_referral_rate,
    ),
    Indicator(
        "ref-03",
        "下转人次占比",
        REFERRAL_DIMENSION,
        "%",
        "higher",
        100,
        "",
        "",
        (COUNTY,),
        "下转人次 ÷（上转 + 下转人次），按提交日期；不含草稿和已取消",
        "[I]",
        "computed",
        down_share,
    ),
    Indicator(
        "ref-04",
        "转诊平均接收时长（小时）",
        REFERRAL_DIMENSION,
        "小时",
        "lower",
        1,
        "",
        "",
        (COUNTY, INSTITUTION),
        # stored as seconds ÷ 3,600 a referral (numerator_per / denominator_per below;
        # the CSV/XLSX export keeps them: docs/indicators.md)
        "本期同意接收的转诊单从提交到同意的时长之和（小时）÷ 单数（按接收机构）；"
        "急诊转诊提交即由系统接收，计 0 小时",
        "[I]",
        "computed",
        acceptance_hours,
        numerator_unit="小时",
        denominator_unit="件",
        numerator_per=3600,
        denominator_per=3600,
    ),
    Indicator(
        "ref-05",
        "预留号源使用率",
        REFERRAL_DIMENSION,
        "%",
        "higher",
        100,
        "",
        "",
        (COUNTY, INSTITUTION),
        "本期出诊排班中基层渠道预约的基层预留号源有效预约数（已预约、已到诊、爽约；截止后转给公众的余号不计）÷ 基层预留号源数"
        "（seeds/004 §9：至少 1/3 门诊号源预留基层）",
        "[I]",
        "computed",
        reserved_slot_use,
    ),
    Indicator(
        "ref-06",
        "预留床位使用率",
        REFERRAL_DIMENSION,
        "%",
        "higher",
        100,
        "",
        "",
        (COUNTY, INSTITUTION),
        "县级医院预留床位在本期内的占用时长（入院至出院，截取在本期内）÷（预留床位数 × 本期内"
        "开放时长）；开放时长自本县床位看板启用（县级医院首次办理入院之日）起计，此前无床位记录；"
        # the share: policy parameter scheduling.reserved_bed_share in force on the snapshot day
        "预留床位数按快照时的预留床位比例（seeds/004 §9：至少 1/4）",
        "[I]",
        "computed",
        reserved_bed_use,
        numerator_unit="床日",
        denominator_unit="床日",
        numerator_per=86400,
        denominator_per=86400,
        children_note="该指标只统计县级医院的预留床位，各医院直接列在县下。",
    ),
)


def get(code: str) -> Indicator:
    for indicator in INDICATORS:
        if indicator.code == code:
            return indicator
    raise KeyError(f"未知指标“{code}”")


# ---------------------------------------------------------------------------
# Evidence criteria of the qualitative indicators nhc-01 … nhc-03 (the evidence register)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Criterion:
    """One sub-criterion (评判要点) of a qualitative indicator: the register shows whether it
    has evidence. ``source`` cites the seed that states it."""

    key: str
    label: str
    hint: str  # what counts as evidence, shown under the checklist item
    source: str


# standards.md §2 [V]: 紧密型 "推进人事、财务、业务、药品、信息等统一管理，通过政策文件、实物及
# 资料佐证、访谈调查等综合评判，以有明确的制度安排并已组织实施为标准". The split of nhc-02 and
# nhc-03 into points is inferred [I] from the seeds cited per point.
EVIDENCE_CRITERIA: dict[str, tuple[Criterion, ...]] = {
    "nhc-01": (
        Criterion(
            "personnel",
            "人员统一管理",
            "统一招聘、培训、调配、岗位设置与县管乡用的制度和执行记录",
            "seeds/002 三(一)2；seeds/004 5 [V]",
        ),
        Criterion(
            "finance",
            "财务统一管理",
            "统一管理、集中核算或统一账户的制度，预决算与内审记录",
            "seeds/002 三(一)3；seeds/000 13 [V]",
        ),
        Criterion(
            "business",
            "业务统一管理",
            "统一技术规范、质量控制、双向转诊流程等业务管理制度及落实材料",
            "seeds/002 三(一)4 [V]",
        ),
        Criterion(
            "drugs",
            "药品统一管理",
            "统一用药目录、统一采购配送、统一支付货款，中心药房运行材料",
            "seeds/002 三(一)6；seeds/000 3 [V]",
        ),
        Criterion(
            "information",
            "信息统一管理",
            "医共体信息平台建设与互联互通、数据共享的制度和运行材料",
            "seeds/002 三(一)8；seeds/004 8 [V]",
        ),
    ),
    "nhc-02": (
        Criterion(
            "charter",
            "章程与议事规则",
            "医共体章程、议事决策制度、权责清单",
            "seeds/000 5；seeds/002 三(一)1；seeds/004 4 [V]",
        ),
        Criterion(
            "body",
            "决策机构组建",
            "管理委员会、理事会或决策机制成员的组建文件，牵头医院与成员单位共同参与",
            "seeds/000 5；seeds/001 理事会；seeds/002 二(三)1-2 [V]",
        ),
        Criterion(
            "meetings",
            "定期会议与决策记录",
            "例会、临时会议的通知、签到和会议纪要（如每月例会、每季度理事会）",
            "seeds/002 二(三)3；seeds/001 理事会每季度至少1次 [V]",
        ),
        Criterion(
            "follow_up",
            "议定事项落实",
            "议定事项的分解、督办和落实情况记录",
            "seeds/002 二(三)3「负责落实决策机制议定的事项」[V]",
        ),
    ),
    "nhc-03": (
        Criterion(
            "referral",
            "双向转诊协同",
            "双向转诊制度、流程、绿色通道及运行统计",
            "seeds/002 三(一)4(2)；seeds/004 9 [V]",
        ),
        Criterion(
            "shared_centres",
            "资源共享中心与结果互认",
            "检验、影像、心电、病理、消毒供应等共享中心运行及检查检验结果互认材料",
            "seeds/002 二(四)2(1)；seeds/000 3；seeds/004 9 [V]",
        ),
        Criterion(
            "prevention",
            "医防协同",
            "公共卫生科设置、医防融合服务、与疾控协作及家庭医生签约服务材料",
            "seeds/002 四(一)；seeds/004 11 [V]",
        ),
        Criterion(
            "remote",
            "远程医疗协作",
            "远程会诊、远程影像和心电等服务的制度与运行记录",
            "seeds/002 三(一)8(3)；seeds/004 8 [V]",
        ),
    ),
}


def criteria_of(code: str) -> tuple[Criterion, ...]:
    """The evidence criteria of a qualitative indicator; ``()`` for any other code."""
    return EVIDENCE_CRITERIA.get(code, ())
