"""The lead hospital's outpatient schedules, some bookings and bed holds (issue #6 item 8).

Two weeks of sessions from a start day are published through ``scheduling.services`` by the
county administrator persona, exactly as the 排班管理 page does, so the pools follow the policy
parameters in force; then the grassroots personas (the family doctor, the two township doctors)
book residents they have a care relationship with into the reserved pool, the hospital's desk
(the cardiologist persona) books the public pool where it is open, and a few ward beds are held.

Deterministic: one ``numpy.random.Generator(PCG64(seed))``, rows read in a fixed order, and the
clock is whatever the caller fixed (the generator's ``AS_OF_TIME``). Idempotent: a session that
already exists (department, day, session) is not published again and gets no new bookings, so
``yigongti demoschedules`` can roll the demo forward to the real today every time it starts.
"""

from __future__ import annotations

import datetime as dt
import heapq
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from django.db.models import Q

from yigongti.accounts.models import User
from yigongti.accounts.queries import Actor, get_actor
from yigongti.core import clock
from yigongti.core.errors import AccessDenied, DomainError
from yigongti.organizations.choices import TreeLink
from yigongti.organizations.models import Department, Institution
from yigongti.residents.models import CareRelationship, Resident
from yigongti.scheduling.choices import BedStatus, BookingStatus, Session
from yigongti.scheduling.models import BedBooking, Booking, Schedule
from yigongti.scheduling.rules import ACTIVE_BED
from yigongti.scheduling.services import (
    ScheduleInput,
    check_patient,
    do_book_slot,
    do_cancel_booking,
    do_hold_bed,
    do_mark_attended,
    do_mark_no_show,
    do_move_bed,
    do_publish_schedule,
)
from yigongti.staff.choices import Profession, TitleGrade
from yigongti.staff.models import Practitioner
from yigongti.synth.personas import MEDCOM_CODE

DAYS = 14
# (session, start, end, slots): a morning of 20 and an afternoon of 15 ten-minute slots.
SESSIONS = (
    (Session.MORNING, dt.time(8, 0), dt.time(11, 20), 20),
    (Session.AFTERNOON, dt.time(14, 30), dt.time(17, 0), 15),
)
WEEKDAY_DEPARTMENTS = ("NEI", "XNK", "WAI", "FUC", "ERK", "QKY")  # 急诊科 takes no bookings
WEEKEND_DEPARTMENTS = ("NEI", "ERK")  # Saturday and Sunday mornings only
# Registration fee by the doctor's title [I]: county 普通号 about ¥8, 副主任/主任医师 ¥15/¥20.
FEES: dict[str, Decimal] = {
    TitleGrade.SENIOR: Decimal("20.00"),
    TitleGrade.ASSOCIATE_SENIOR: Decimal("15.00"),
}
DEFAULT_FEE = Decimal("8.00")
GRASSROOTS_BOOKERS = ("wangys", "zhaom", "chenli")  # family doctor, two township doctors
DESK = "lixy"  # the lead hospital's cardiologist registering patients (public channel)
PUBLISHER = "admin"


@dataclass
class ScheduleSummary:
    schedules: int = 0
    slots: int = 0
    bookings: int = 0
    refused: int = 0
    beds: int = 0
    withdrawn: int = 0  # outpatient bookings cancelled because the resident was admitted


def _lead_hospital() -> Institution | None:
    return Institution.objects.filter(medcom__code=MEDCOM_CODE, tree_link=TreeLink.ROOT).first()


def _actor(username: str) -> Actor | None:
    user = User.objects.filter(username=username, is_active=True).first()
    return get_actor(user, channel="cli") if user else None


def _candidates(actor: Actor, today: dt.date, limit: int) -> list[Resident]:
    """Residents the booker's institution may act for today (a care relationship), in id
    order: the pool the grassroots bookings draw from."""
    user = actor.user
    if user.institution_id is None:
        return []
    ids = (
        CareRelationship.objects.filter(institution_id=user.institution_id, valid_from__lte=today)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        .filter(Q(practitioner__isnull=True) | Q(practitioner_id=user.practitioner_id))
        .values_list("resident_id", flat=True)
        .distinct()
        .order_by("resident_id")[:limit]
    )
    return list(Resident.objects.filter(pk__in=list(ids), merged_into__isnull=True).order_by("pk"))


def _doctors(lead: Institution) -> dict[str, list[Practitioner]]:
    by_code: dict[str, list[Practitioner]] = {}
    for doctor in (
        Practitioner.objects.filter(
            employer=lead, profession=Profession.PHYSICIAN, is_active=True, department__isnull=False
        )
        .select_related("department")
        .order_by("code")
    ):
        assert doctor.department is not None
        by_code.setdefault(doctor.department.code, []).append(doctor)
    return by_code


def build_schedules(
    *, start: dt.date, seed: int, days: int = DAYS, beds: bool = True
) -> ScheduleSummary:
    """Publish ``days`` days of the lead hospital's sessions from ``start`` and book into them,
    and (``beds``) hold a few ward beds (the caller fixes the clock and owns the
    transaction)."""
    summary = ScheduleSummary()
    lead = _lead_hospital()
    publisher = _actor(PUBLISHER)
    if lead is None or publisher is None:
        return summary
    rng = np.random.Generator(np.random.PCG64(seed))
    departments = {d.code: d for d in lead.departments.all()}
    doctors = _doctors(lead)
    existing = set(
        Schedule.objects.filter(institution=lead, day__gte=start).values_list(
            "department__code", "day", "session"
        )
    )
    published: list[Schedule] = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        weekend = day.weekday() >= 5
        for index, (session, begin, end, slots) in enumerate(SESSIONS):
            if weekend and session != Session.MORNING:
                continue
            for code in WEEKEND_DEPARTMENTS if weekend else WEEKDAY_DEPARTMENTS:
                if code not in departments or (code, day, session) in existing:
                    continue
                pool = doctors.get(code, [])
                doctor = pool[(offset * 2 + index) % len(pool)] if pool else None
                fee = FEES.get(doctor.title_grade, DEFAULT_FEE) if doctor else DEFAULT_FEE
                try:
                    schedule = do_publish_schedule(
                        publisher,
                        ScheduleInput(
                            department_id=departments[code].pk,
                            day=day,
                            session=session,
                            start=begin,
                            end=end,
                            slot_count=slots,
                            fee=fee,
                            doctor_id=doctor.pk if doctor else None,
                        ),
                    )
                except (DomainError, AccessDenied):
                    continue  # a day already past for this clock
                published.append(schedule)
                summary.slots += slots
    summary.schedules = len(published)
    if published:
        _book(published, rng, summary)
        if beds:
            _hold_beds(lead, published[0].day, rng, summary)
    return summary


def _book(published: list[Schedule], rng: np.random.Generator, summary: ScheduleSummary) -> None:
    today = clock.today()
    bookers = [a for a in (_actor(u) for u in GRASSROOTS_BOOKERS) if a is not None]
    desk = _actor(DESK)
    pools = {a.user.username: _candidates(a, today, 400) for a in bookers}
    used: dict[str, int] = dict.fromkeys(pools, 0)
    county = list(
        Resident.objects.filter(merged_into__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:5000]
    )

    def attempt(
        actor: Actor, schedule: Schedule, resident: Resident, *, green: bool = False
    ) -> None:
        try:
            # nobody books an adult into 儿科 or a man into 妇产科: such a pick is skipped
            check_patient(schedule.department, resident, schedule.day)
        except DomainError:
            return
        if BedBooking.objects.filter(resident=resident, status__in=ACTIVE_BED).exists():
            return  # held for a ward or on one: no outpatient appointment meanwhile
        try:
            do_book_slot(actor, schedule.pk, resident, fee_waived=green, priority=green)
            summary.bookings += 1
        except (DomainError, AccessDenied):
            summary.refused += 1

    # 张德福 (the elderly persona) up-referred by his family doctor: green channel (一免三优先).
    zhang = Resident.objects.filter(id_number="439901195103150033").first()
    family = next((a for a in bookers if a.user.username == "wangys"), None)
    cardiology = [s for s in published if s.department.code == "XNK"]
    if zhang and family and cardiology:
        attempt(family, cardiology[0], zhang, green=True)
    for schedule in published:
        nearness = 1 - (schedule.day - published[0].day).days / (DAYS + 1)
        for actor in bookers:
            people = pools[actor.user.username]
            share = float(rng.uniform(0.05, 0.35)) * nearness
            for _ in range(round(schedule.reserved_count * share)):
                if used[actor.user.username] >= len(people):
                    break
                attempt(actor, schedule, people[used[actor.user.username]])
                used[actor.user.username] += 1
        if desk is not None and county and schedule.public_opens_at <= clock.now():
            public = schedule.slot_count - schedule.reserved_count
            for _ in range(round(public * float(rng.uniform(0.2, 0.7)) * nearness)):
                pk = county[int(rng.integers(0, len(county)))]
                resident = Resident.objects.get(pk=pk)
                attempt(desk, schedule, resident)


def _hold_beds(
    lead: Institution, first_day: dt.date, rng: np.random.Generator, summary: ScheduleSummary
) -> None:
    """A few holds on the cardiology and internal-medicine wards: up-referrals from the township
    doctors into the reserved beds, the desk's own patients into public beds; some admitted."""
    desk = _actor(DESK)
    active = BedBooking.objects.filter(department__institution=lead, status__in=ACTIVE_BED)
    if desk is None or active.exists():
        return  # once: a later roll-forward leaves the board as the hospital left it
    today = clock.today()
    for ward_code, count in (("XNK", 6), ("NEI", 8)):
        ward = lead.departments.filter(code=ward_code, beds__gt=0).first()
        if ward is None:
            continue
        for actor in [a for a in (_actor(u) for u in GRASSROOTS_BOOKERS[1:]) if a is not None]:
            for resident in _candidates(actor, today, 400)[-2:]:
                expected = first_day + dt.timedelta(days=int(rng.integers(0, 3)))
                _hold(actor, ward, resident, expected, True, summary)
        people = list(
            Resident.objects.filter(merged_into__isnull=True)
            .order_by("-pk")
            .values_list("pk", flat=True)[: count * 3]
        )
        for index, pk in enumerate(people[::3]):
            expected = first_day + dt.timedelta(days=int(rng.integers(0, 5)))
            bed = _hold(desk, ward, Resident.objects.get(pk=pk), expected, False, summary)
            if bed is not None and index % 2 == 0:
                _admit(desk, bed.pk, None, summary)


ADMITTED_REASON = "患者已住院，取消门诊预约"


def _admit(
    desk: Actor, bed_id: int, until: dt.datetime | None, summary: ScheduleSummary
) -> BedBooking:
    """The desk admits a held bed and cancels the resident's outpatient bookings of the stay
    (to ``until``, or all to come): nobody on a ward keeps an appointment in a consulting
    room, and bookings made later pass over residents in a bed (``_book``)."""
    bed = do_move_bed(desk, bed_id, BedStatus.ADMITTED)
    booked = Booking.objects.filter(
        resident_id=bed.resident_id, status=BookingStatus.BOOKED, slot__starts_at__gte=clock.now()
    )
    if until is not None:
        booked = booked.filter(slot__starts_at__lt=until)
    for pk in booked.order_by("pk").values_list("pk", flat=True):
        do_cancel_booking(desk, pk, ADMITTED_REASON)
        summary.withdrawn += 1
    return bed


def _hold(
    actor: Actor,
    ward: Department,
    resident: Resident,
    expected_on: dt.date,
    up_referral: bool,
    summary: ScheduleSummary,
) -> BedBooking | None:
    """A hold through the service, counted; a refusal (the resident already in a bed, the
    pool full) is skipped."""
    try:
        bed = do_hold_bed(
            actor, ward.pk, resident, expected_on=expected_on, up_referral=up_referral
        )
    except (DomainError, AccessDenied):
        return None
    summary.beds += 1
    return bed


# The weeks before the demo's day, as they went (build_history) -------------------------------

HISTORY_WEEKS = 4
# Product defaults for the synthetic history [I]; no seed or calibration figure sets them:
ATTENDED_SHARE = 0.9  # a booked patient comes (the rest 爽约)
BED_CANCELLED_SHARE = 0.1  # a hold cancelled instead of admitted
STAY_DAYS = (3, 9)  # a stay on the ward, days (inclusive)
# Times of day in UTC (青禾县 is UTC+8): published and held at 08:00 the day before a week,
# admitted at 10:00 and released at 09:00 on their days, attendance marked at 18:00 after the
# afternoon sessions (17:00).
PUBLISH_AT, ADMIT_AT, RELEASE_AT, MARK_AT = dt.time(0), dt.time(2), dt.time(1), dt.time(10)


@dataclass
class HistorySummary(ScheduleSummary):
    attended: int = 0
    no_show: int = 0
    admitted: int = 0
    released: int = 0
    cancelled: int = 0
    days: tuple[dt.date, dt.date] | None = field(default=None)


def _at(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=dt.UTC)


def build_history(*, until: dt.date, seed: int, weeks: int = HISTORY_WEEKS) -> HistorySummary:
    """The ``weeks`` weeks of the lead hospital's sessions ending on ``until``, as they went,
    each step through the services with the clock set to its moment: every week published and
    booked (``build_schedules``, no beds) the day before it starts; each day's bookings marked
    已到诊 or 爽约 by the desk that evening; each week some up-referred residents held in the
    reserved beds and the desk's patients in public beds, admitted on the expected day (a few
    cancelled), and released after a stay of ``STAY_DAYS``, on ``until`` at the latest, so the
    board the demo starts from has no stays left over. Gives the indicators of the slot and bed
    pools (ref-05, ref-06) records in the year before the demo's day. Nothing happens after
    ``until``'s evening; the caller owns the transaction and restores the clock after."""
    summary = HistorySummary()
    lead = _lead_hospital()
    desk = _actor(DESK)
    if lead is None or desk is None or weeks <= 0:
        return summary
    rng = np.random.Generator(np.random.PCG64([seed, 2]))
    first = until - dt.timedelta(days=7 * weeks - 1)
    summary.days = (first, until)
    # (moment, order, what, data): a heap, so every step runs at its own time, in time order
    steps: list[tuple[dt.datetime, int, str, Any]] = []
    order = 0

    def later(at: dt.datetime, what: str, data: Any) -> None:
        nonlocal order
        order += 1
        heapq.heappush(steps, (at, order, what, data))

    for week in range(weeks):
        start = first + dt.timedelta(days=7 * week)
        later(_at(start - dt.timedelta(days=1), PUBLISH_AT), "week", (week, start))
    while steps:
        at, _order, what, data = heapq.heappop(steps)
        with clock.frozen(at):
            if what == "week":
                week, start = data
                part = build_schedules(start=start, seed=seed + 1 + week, days=7, beds=False)
                summary.schedules += part.schedules
                summary.slots += part.slots
                summary.bookings += part.bookings
                summary.refused += part.refused
                for offset in range(7):
                    later(
                        _at(start + dt.timedelta(days=offset), MARK_AT),
                        "mark",
                        start + dt.timedelta(days=offset),
                    )
                for bed in _history_holds(lead, desk, week, start, rng, summary):
                    if rng.random() < BED_CANCELLED_SHARE:
                        later(_at(bed.expected_on, ADMIT_AT), "cancel", bed.pk)
                    else:
                        later(_at(bed.expected_on, ADMIT_AT), "admit", bed.pk)
            elif what == "mark":
                _mark_day(lead, data, desk, rng, summary)
            elif what == "admit":
                stay = int(rng.integers(STAY_DAYS[0], STAY_DAYS[1] + 1))
                out = _at(min(at.date() + dt.timedelta(days=stay), until), RELEASE_AT)
                _admit(desk, data, out, summary)
                summary.admitted += 1
                later(out, "release", data)
            elif what == "release":
                do_move_bed(desk, data, BedStatus.RELEASED)
                summary.released += 1
            else:
                do_move_bed(desk, data, BedStatus.CANCELLED, reason="患者未按期入院")
                summary.cancelled += 1
    return summary


def _history_holds(
    lead: Institution,
    desk: Actor,
    week: int,
    start: dt.date,
    rng: np.random.Generator,
    summary: ScheduleSummary,
) -> list[BedBooking]:
    """The week's holds on the cardiology and internal-medicine wards: up to two up-referred
    residents from each grassroots booker into the reserved beds and three of the desk's
    patients into public beds, each expected on one of the week's first five days; picks
    rotate from week to week (a resident already in a bed is refused by the service and
    skipped)."""
    bookers = [a for a in (_actor(u) for u in GRASSROOTS_BOOKERS) if a is not None]
    today = clock.today()
    # each booker's residents, read once for both wards
    candidates = [(actor, _candidates(actor, today, 400)) for actor in bookers]
    held: list[BedBooking] = []
    people = list(
        Resident.objects.filter(merged_into__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:600]
    )

    def rotate(items: list[Any], at: int, count: int) -> list[Any]:
        return (
            list(dict.fromkeys(items[(at + k) % len(items)] for k in range(count))) if items else []
        )

    for index, ward_code in enumerate(("XNK", "NEI")):
        ward = lead.departments.filter(code=ward_code, beds__gt=0).first()
        if ward is None:
            continue
        picks: list[tuple[Actor, Resident, bool]] = []
        for actor, theirs in candidates:
            picks += [(actor, r, True) for r in rotate(theirs, week * 4 + index * 2, 2)]
        mine = rotate(people, 37 * (week * 6 + index * 3) + 200, 3 * 53)[::53]
        picks += [(desk, Resident.objects.get(pk=pk), False) for pk in mine]
        for actor, resident, up in picks:
            expected = start + dt.timedelta(days=int(rng.integers(0, 5)))
            if (bed := _hold(actor, ward, resident, expected, up, summary)) is not None:
                held.append(bed)
    return held


def _mark_day(
    lead: Institution, day: dt.date, desk: Actor, rng: np.random.Generator, summary: HistorySummary
) -> None:
    """The desk closes the day: each booking still 已预约 is 已到诊 or 爽约."""
    booked = Booking.objects.filter(
        schedule__institution=lead, schedule__day=day, status=BookingStatus.BOOKED
    ).order_by("pk")
    for pk in booked.values_list("pk", flat=True):
        if rng.random() < ATTENDED_SHARE:
            do_mark_attended(desk, pk)
            summary.attended += 1
        else:
            do_mark_no_show(desk, pk)
            summary.no_show += 1
