"""Pure rules of the slot and bed pools (no ORM, no clock: time is passed in).

Seed 004 §9 [V]: "原则上牵头医院至少将1/3的门诊号源和1/4的住院床位预留家庭医生签约服务团队或基层
医疗卫生机构". The shares, how many days earlier the reserved pool opens, when unused reserved
slots return to the public pool and the no-show grace are versioned policy parameters (keys in
``PARAMETER_KEYS``; defaults in core/rules.py DEFAULT_PARAMETERS with their sources).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from yigongti.accounts.choices import Role
from yigongti.organizations.choices import PatientGroup
from yigongti.residents.choices import Sex
from yigongti.scheduling.choices import BedStatus, BookingStatus, Channel, Pool

SLOT_SHARE_KEY = "scheduling.reserved_slot_share"
BED_SHARE_KEY = "scheduling.reserved_bed_share"
CHILD_AGE_KEY = "scheduling.child_max_age"
BED_GRACE_KEY = "scheduling.bed_hold_grace_days"
PUBLIC_DAYS_KEY = "scheduling.public_release_days"
LEAD_DAYS_KEY = "scheduling.reserved_lead_days"
CUTOFF_HOURS_KEY = "scheduling.reserved_cutoff_hours"
NO_SHOW_GRACE_KEY = "scheduling.no_show_grace_minutes"
PARAMETER_KEYS = (
    SLOT_SHARE_KEY,
    BED_SHARE_KEY,
    PUBLIC_DAYS_KEY,
    LEAD_DAYS_KEY,
    CUTOFF_HOURS_KEY,
    NO_SHOW_GRACE_KEY,
)

MAX_SLOTS = 200  # one session of one doctor; more is a typing mistake

# Who does what (pages and API check these before the services check the row's scope).
PUBLISH_ROLES = frozenset({Role.COUNTY_ADMIN, Role.CENTRE_STAFF, Role.INSTITUTION_ADMIN})
# The hospital's own desk: registers its patients, works the outpatient list and the beds.
FRONT_DESK_ROLES = frozenset({Role.INSTITUTION_ADMIN, Role.DOCTOR, Role.COUNTY_ADMIN})
# Book a slot for a resident (a care relationship or the hospital desk is checked per booking).
BOOKING_ROLES = FRONT_DESK_ROLES | {Role.FAMILY_DOCTOR, Role.VILLAGE_DOCTOR}


def can_publish(role: str) -> bool:
    return role in PUBLISH_ROLES


def can_book(role: str) -> bool:
    return role in BOOKING_ROLES


def can_work_hospital_side(role: str) -> bool:
    """The outpatient worklist and the bed board (person-level rows, names masked)."""
    return role in FRONT_DESK_ROLES


def parse_share(value: object) -> Fraction:
    """A share written as "1/3", "0.25" or a number; refused outside [0, 1]."""
    try:
        share = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"预留比例“{value}”无法识别，应写作 1/3 或 0.25") from None
    if not 0 <= share <= 1:
        raise ValueError(f"预留比例“{value}”应在 0 与 1 之间")
    return share


def reserved_count(total: int, share: Fraction) -> int:
    """At least ``share`` of ``total`` ("至少1/3"): rounded up."""
    return min(total, math.ceil(total * share))


def slot_pools(total: int, reserved: int) -> list[str]:
    """The pool of each slot in time order: the reserved ones spread evenly over the session,
    so grassroots patients get early and late times alike (slot i is reserved when the running
    quota floor((i+1)·r/n) steps up)."""
    if not 0 <= reserved <= total:
        raise ValueError("预留号源数应在 0 与总号源数之间")
    return [
        Pool.RESERVED if (i + 1) * reserved // total > i * reserved // total else Pool.PUBLIC
        for i in range(total)
    ]


def slot_times(
    start: dt.time, end: dt.time, count: int, day: dt.date
) -> list[tuple[dt.datetime, dt.datetime]]:
    """``count`` equal consecutive slots from ``start`` to ``end`` (naive datetimes)."""
    if count < 1 or count > MAX_SLOTS:
        raise ValueError(f"号源数应在 1 与 {MAX_SLOTS} 之间")
    first = dt.datetime.combine(day, start)
    last = dt.datetime.combine(day, end)
    if last <= first:
        raise ValueError("结束时间应晚于开始时间")
    step = (last - first) / count
    if step < dt.timedelta(minutes=1):
        raise ValueError("每个号源至少 1 分钟")
    return [(first + i * step, first + (i + 1) * step) for i in range(count)]


@dataclass(frozen=True)
class ReleaseTimes:
    """When a session's pools open and when unused reserved slots return to the public."""

    reserved_opens: dt.datetime
    public_opens: dt.datetime
    cutoff: dt.datetime  # reserved slots still free at this time join the public pool
    starts: dt.datetime


def release_times(
    starts: dt.datetime, *, public_days: int, lead_days: int, cutoff_hours: int
) -> ReleaseTimes:
    """Public slots open ``public_days`` before the session (at the same clock time), the
    reserved pool ``lead_days`` earlier still, and the reserved pool's leftovers go public
    ``cutoff_hours`` before the start (never before the public pool opens)."""
    if public_days < 0 or lead_days < 0 or cutoff_hours < 0:
        raise ValueError("放号天数与截止小时数不能为负数")
    public_opens = starts - dt.timedelta(days=public_days)
    cutoff = max(starts - dt.timedelta(hours=cutoff_hours), public_opens)
    return ReleaseTimes(public_opens - dt.timedelta(days=lead_days), public_opens, cutoff, starts)


def bookable_pools(channel: str, now: dt.datetime, times: ReleaseTimes) -> tuple[str, ...]:
    """The pools a channel may book from now, in the order they are offered: a grassroots
    booking takes a reserved slot first, keeping public slots for walk-in patients; a public
    booking takes a public slot first and the reserved leftovers only after the cut-off when
    the public ones are gone, so a late grassroots booking still finds them."""
    if now >= times.starts:
        return ()
    public_open = now >= times.public_opens
    reserved_open = (channel == Channel.GRASSROOTS and now >= times.reserved_opens) or (
        now >= times.cutoff and public_open
    )
    pools = []
    if reserved_open:
        pools.append(Pool.RESERVED)
    if public_open:
        pools.append(Pool.PUBLIC)
    return tuple(pools if channel == Channel.GRASSROOTS else reversed(pools))


def booking_refusal(channel: str, now: dt.datetime, times: ReleaseTimes) -> str:
    """Why nothing can be booked now (Chinese), for a session with no bookable pool."""
    if now >= times.starts:
        return "该时段已开始或已结束，不能再预约"
    fmt = "%m月%d日 %H:%M"
    if channel == Channel.GRASSROOTS:
        return f"号源尚未开放：基层预留号源于 {times.reserved_opens.strftime(fmt)} 开放"
    return (
        f"号源尚未开放：公众号源于 {times.public_opens.strftime(fmt)} 开放"
        f"（基层预留号源未用部分于 {times.cutoff.strftime(fmt)} 转为公众号源）"
    )


@dataclass(frozen=True)
class Availability:
    """What a channel sees of one session now: free slots per pool, whether it may book, and
    if not, why (Chinese) and when its first pool opens."""

    free: dict[str, int]
    pools: tuple[str, ...]  # the pools the channel may book from now, in booking order
    can_book: bool
    refusal: str  # "" when ``can_book``
    opens_at: dt.datetime | None  # set when the channel's first pool opens later


def availability(
    channel: str,
    now: dt.datetime,
    times: ReleaseTimes,
    *,
    is_open: bool,
    total: dict[str, int],
    taken: dict[str, int],
) -> Availability:
    """Free counts per pool (``total`` minus live bookings ``taken``) and the channel's verdict."""
    free = {pool: max(0, total.get(pool, 0) - taken.get(pool, 0)) for pool in Pool.values}
    if not is_open:
        return Availability(free, (), False, "已停诊", None)
    pools = bookable_pools(channel, now, times)
    if not pools:
        opens = times.reserved_opens if channel == Channel.GRASSROOTS else times.public_opens
        return Availability(
            free,
            (),
            False,
            booking_refusal(channel, now, times),
            opens if now < opens else None,
        )
    if not any(free[pool] for pool in pools):
        # Say when more slots may come: the public pool opening (grassroots), or the reserved
        # leftovers joining the public pool at the cut-off (public channel).
        fmt = "%m月%d日 %H:%M"
        if Pool.PUBLIC not in pools and now < times.public_opens:
            later = times.public_opens
            note = f"；公众号源于 {later.strftime(fmt)} 开放"
        elif Pool.RESERVED not in pools and free[Pool.RESERVED] and now < times.cutoff:
            later = times.cutoff
            note = f"；基层预留号源未用部分于 {later.strftime(fmt)} 转为公众号源"
        else:
            return Availability(free, pools, False, "可预约号源已约满", None)
        return Availability(free, pools, False, "可预约号源已约满" + note, later)
    return Availability(free, pools, True, "", None)


# Booking life: booked → cancelled (before the slot starts) | attended | no-show (after the
# slot started plus the grace). Nothing leaves a final state.
BOOKING_MOVES: dict[str, frozenset[str]] = {
    BookingStatus.BOOKED: frozenset(
        {BookingStatus.CANCELLED, BookingStatus.ATTENDED, BookingStatus.NO_SHOW}
    ),
    BookingStatus.CANCELLED: frozenset(),
    BookingStatus.ATTENDED: frozenset(),
    BookingStatus.NO_SHOW: frozenset(),
}
LIVE_BOOKING = (BookingStatus.BOOKED, BookingStatus.ATTENDED, BookingStatus.NO_SHOW)


def booking_move_refusal(
    current: str,
    wanted: str,
    *,
    now: dt.datetime,
    slot_starts: dt.datetime,
    grace_minutes: int,
    reason: str = "",
) -> str:
    """Why a booking cannot move from ``current`` to ``wanted`` now ("" when it can)."""
    labels = dict(BookingStatus.choices)
    if wanted not in BOOKING_MOVES.get(current, frozenset()):
        return f"预约当前为“{labels.get(current, current)}”，不能改为“{labels.get(wanted, wanted)}”"
    if wanted == BookingStatus.CANCELLED:
        if not reason.strip():
            return "取消预约须填写原因"
        if now >= slot_starts:
            return "就诊时间已到，不能取消；未到诊请登记爽约"
    if wanted == BookingStatus.NO_SHOW and now < slot_starts + dt.timedelta(minutes=grace_minutes):
        return f"就诊时间后 {grace_minutes} 分钟内不能登记爽约"
    if wanted == BookingStatus.ATTENDED and now < slot_starts - dt.timedelta(hours=12):
        return "尚未到就诊日，不能登记到诊"
    return ""


# Beds ---------------------------------------------------------------------------------------

ACTIVE_BED = (BedStatus.HELD, BedStatus.ADMITTED)


def hold_lapsed(status: str, expected_on: dt.date | None, today: dt.date, grace_days: int) -> bool:
    """A hold whose patient has not come ``grace_days`` after the expected admission day
    (policy parameter ``scheduling.bed_hold_grace_days``): it no longer takes a bed, and the
    board flags it for the ward to cancel or admit. An admission never lapses."""
    if status != BedStatus.HELD or expected_on is None:
        return False
    return today > expected_on + dt.timedelta(days=grace_days)


def beds_used(
    beds: Iterable[tuple[str, str, dt.date | None]], today: dt.date, grace_days: int
) -> dict[str, int]:
    """Beds taken per pool from a ward's live bookings (pool, status, expected day): the
    admitted and the holds not lapsed (``hold_lapsed``)."""
    used = {Pool.RESERVED.value: 0, Pool.PUBLIC.value: 0}
    for pool, status, expected_on in beds:
        if not hold_lapsed(status, expected_on, today, grace_days):
            used[pool] += 1
    return used


def bed_capacity(total: int, share: Fraction) -> dict[str, int]:
    """The ward's beds split into the reserved pool (at least ``share``) and the public."""
    reserved = reserved_count(total, share)
    return {Pool.RESERVED: reserved, Pool.PUBLIC: total - reserved}


def bed_pools_for(up_referral: bool) -> tuple[str, ...]:
    """An up-referred patient takes a reserved bed first, then a public one; others only the
    public pool."""
    return (Pool.RESERVED, Pool.PUBLIC) if up_referral else (Pool.PUBLIC,)


def choose_bed_pool(
    up_referral: bool, capacity: dict[str, int], used: dict[str, int]
) -> str | None:
    """The first pool with a free bed, or None when the ward is full for this patient."""
    for pool in bed_pools_for(up_referral):
        if used.get(pool, 0) < capacity.get(pool, 0):
            return pool
    return None


def patients_note(patients: str, *, child_max_age: int) -> str:
    """What the week view and the booking page say of whom a department sees (Chinese), before
    anyone tries to book: "" for a department open to all."""
    if patients == PatientGroup.CHILDREN:
        return f"仅接诊 {child_max_age} 周岁及以下患者"
    if patients == PatientGroup.WOMEN:
        return "仅接诊女性患者"
    return ""


def patient_refusal(
    department: str, patients: str, *, sex: str, age: int, child_max_age: int
) -> str:
    """Why the department cannot see this resident (Chinese), or "" if it can: a children's
    department sees residents up to ``child_max_age`` completed years on the day (policy
    parameter ``scheduling.child_max_age``), a women's department sees women."""
    if patients == PatientGroup.CHILDREN and age > child_max_age:
        return (
            f"{department}只接诊 {child_max_age} 周岁及以下的患者，该居民 {age} 岁，请改约其他科室"
        )
    if patients == PatientGroup.WOMEN and sex == Sex.MALE:
        return f"{department}只接诊女性患者，请改约其他科室"
    return ""


def clashes(
    starts: dt.datetime, ends: dt.datetime, busy: list[tuple[dt.datetime, dt.datetime]]
) -> bool:
    """Whether the slot [starts, ends) overlaps one of the resident's other booked slots: a
    patient is in one consulting room at a time."""
    return any(starts < other_ends and other_starts < ends for other_starts, other_ends in busy)
