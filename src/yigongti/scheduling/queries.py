"""Readers of schedules, bookings and the bed board.

Schedules are not person-level data: a user sees those of the institutions in their scope and
of every hospital of their own medcom (the pools are released to its grassroots). Bookings and
beds are person-level: lists are bounded by scope and show masked names only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from yigongti.accounts.queries import Actor
from yigongti.core import clock
from yigongti.core import rules as kernel
from yigongti.core.queries import get_parameter, prefix_q
from yigongti.organizations.choices import GRASSROOTS_TYPES, PatientGroup
from yigongti.organizations.models import Department, Institution
from yigongti.residents.models import Resident
from yigongti.scheduling import rules
from yigongti.scheduling.choices import BookingStatus, Channel, Pool, ScheduleStatus
from yigongti.scheduling.models import BedBooking, Booking, Schedule
from yigongti.scheduling.services import PoolPolicy, bed_grace_days, times_of
from yigongti.staff.models import Practitioner

SIDE_HOSPITAL = "hospital"  # the receiving hospital's worklist
SIDE_BOOKER = "booker"  # the bookings my institution made
SIDES = (SIDE_HOSPITAL, SIDE_BOOKER)


def _scope_q(field: str, actor: Actor) -> Q | None:
    """Rows whose institution path ``field`` the actor's scope covers (None: no limit)."""
    paths = actor.scope.institution_paths
    if paths is None:
        return None
    if actor.scope.exact:
        return Q(**{f"{field}__in": list(paths)})
    return prefix_q(field, paths)


def _in_scope(qs: QuerySet[Any], field: str, actor: Actor) -> QuerySet[Any]:
    cond = _scope_q(field, actor)
    return qs if cond is None else qs.filter(cond)


def visible_schedules(actor: Actor) -> QuerySet[Schedule]:
    """Schedules of institutions in the actor's scope and of their own medcom's hospitals."""
    cond = _scope_q("institution__path", actor)
    if cond is None:
        return Schedule.objects.all()
    inst = actor.institution
    if inst is not None and inst.medcom_id is not None:
        cond |= Q(institution__medcom_id=inst.medcom_id)
    return Schedule.objects.filter(cond)


def can_see_schedule(actor: Actor, schedule: Schedule) -> bool:
    inst = actor.institution
    return actor.scope.covers_institution(schedule.institution.path) or (
        inst is not None
        and inst.medcom_id is not None
        and inst.medcom_id == schedule.institution.medcom_id
    )


def get_schedule(schedule_id: int) -> Schedule | None:
    return (
        Schedule.objects.select_related("institution", "department", "doctor")
        .filter(pk=schedule_id)
        .first()
    )


def _with_counts(qs: QuerySet[Schedule]) -> QuerySet[Schedule]:
    live = Q(bookings__status__in=rules.LIVE_BOOKING)
    return qs.select_related("institution", "department", "doctor").annotate(
        taken_reserved=Count("bookings", filter=live & Q(bookings__pool=Pool.RESERVED)),
        taken_public=Count("bookings", filter=live & Q(bookings__pool=Pool.PUBLIC)),
    )


def list_schedules(
    actor: Actor,
    day_from: dt.date,
    day_to: dt.date,
    institution: str | None = None,
    department: str | None = None,
    q: str = "",
) -> QuerySet[Schedule]:
    """Visible schedules from ``day_from`` to ``day_to`` in time order, each annotated with
    ``taken_reserved`` and ``taken_public`` (live bookings); filters by institution code,
    department code and a department or doctor name fragment. Page it, then call
    ``schedule_availability`` per row."""
    qs = visible_schedules(actor).filter(day__gte=day_from, day__lte=day_to)
    if institution:
        qs = qs.filter(institution__code=institution)
    if department:
        qs = qs.filter(department__code=department)
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(department__name__contains=q) | Q(doctor__name__contains=q))
    return _with_counts(qs).order_by("day", "starts_at", "department__code", "pk")


def managed_schedules(
    actor: Actor,
    day_from: dt.date,
    day_to: dt.date,
    department_id: int | None = None,
) -> QuerySet[Schedule]:
    """The schedules of the institutions the actor manages (scope only, not the medcom)."""
    qs = _in_scope(Schedule.objects.all(), "institution__path", actor).filter(
        day__gte=day_from, day__lte=day_to
    )
    if department_id:
        qs = qs.filter(department_id=department_id)
    return _with_counts(qs).order_by("day", "starts_at", "department__code", "pk")


def with_counts(schedule: Schedule) -> Schedule:
    """The schedule again, annotated like the rows of ``list_schedules``."""
    return _with_counts(Schedule.objects.filter(pk=schedule.pk)).get()


def schedule_availability(
    schedule: Schedule, channel: str, now: dt.datetime | None = None
) -> rules.Availability:
    """Free slots per pool and whether ``channel`` may book now (rows of ``list_schedules``)."""
    reserved = schedule.reserved_count
    return rules.availability(
        channel,
        timezone.localtime(now or clock.now()),
        times_of(schedule),
        is_open=schedule.status == ScheduleStatus.OPEN,
        total={Pool.RESERVED: reserved, Pool.PUBLIC: schedule.slot_count - reserved},
        taken={
            Pool.RESERVED: getattr(schedule, "taken_reserved", 0),
            Pool.PUBLIC: getattr(schedule, "taken_public", 0),
        },
    )


def patients_note(department: Department, on: dt.date) -> str:
    """``rules.patients_note`` of the department, with the age limit in force on ``on``."""
    if department.patients == PatientGroup.ALL:
        return ""
    limit = int(get_parameter(rules.CHILD_AGE_KEY, on))
    return rules.patients_note(department.patients, child_max_age=limit)


def schedule_row(schedule: Schedule, channel: str, now: dt.datetime) -> dict[str, Any]:
    """One schedule as the API and pages show it, with the channel's verdict and whom the
    department sees (``patients``, ``patients_note``)."""
    seen = schedule_availability(schedule, channel, now)
    local = timezone.localtime
    doctor = schedule.doctor
    return {
        "id": schedule.pk,
        "institution": {"code": schedule.institution.code, "name": schedule.institution.name},
        "department": {"code": schedule.department.code, "name": schedule.department.name},
        "patients": schedule.department.patients,
        "patients_note": patients_note(schedule.department, schedule.day),
        "doctor": {"code": doctor.code, "name": doctor.name} if doctor else None,
        "day": schedule.day,
        "session": schedule.session,
        "session_label": schedule.get_session_display(),
        "starts_at": local(schedule.starts_at),
        "ends_at": local(schedule.ends_at),
        "slot_count": schedule.slot_count,
        "reserved_count": schedule.reserved_count,
        "public_count": schedule.slot_count - schedule.reserved_count,
        "free_reserved": seen.free[Pool.RESERVED],
        "free_public": seen.free[Pool.PUBLIC],
        "fee": f"{schedule.fee:.2f}",
        "status": schedule.status,
        "status_label": schedule.get_status_display(),
        "reserved_opens_at": local(schedule.reserved_opens_at),
        "public_opens_at": local(schedule.public_opens_at),
        "cutoff_at": local(schedule.cutoff_at),
        "channel": channel,
        "channel_label": Channel(channel).label,
        "can_book": seen.can_book,
        "bookable_pools": list(seen.pools),
        "refusal": seen.refusal,
        "opens_at": local(seen.opens_at) if seen.opens_at else None,
    }


def schedule_institutions(actor: Actor) -> list[Institution]:
    """Hospitals whose schedules the actor can see (the week view's institution choice)."""
    ids = visible_schedules(actor).values("institution_id")
    return list(Institution.objects.filter(pk__in=ids).order_by("code"))


def managed_departments(actor: Actor) -> list[Department]:
    """Departments where the actor may publish schedules: county-level institutions in scope."""
    qs = _in_scope(
        Department.objects.select_related("institution").exclude(
            institution__inst_type__in=GRASSROOTS_TYPES
        ),
        "institution__path",
        actor,
    )
    return list(qs.filter(institution__is_active=True).order_by("institution__code", "code"))


def list_departments(institution_code: str) -> list[Department]:
    return list(Department.objects.filter(institution__code=institution_code).order_by("code"))


def practitioner_id(code: str) -> int | None:
    """The practitioner behind a staff number (工号), for the publish form."""
    return Practitioner.objects.filter(code=code).values_list("pk", flat=True).first()


def hospital_institutions(actor: Actor) -> list[Institution]:
    """County-level institutions in the actor's scope (worklist and bed board choices)."""
    qs = _in_scope(
        Institution.objects.exclude(inst_type__in=GRASSROOTS_TYPES), "path", actor
    ).filter(is_active=True)
    return list(qs.order_by("code"))


# Bookings -----------------------------------------------------------------------------------


def get_booking(booking_id: int) -> Booking | None:
    return _booking_qs(Booking.objects.filter(pk=booking_id)).first()


def can_see_booking(actor: Actor, booking: Booking) -> bool:
    """The hospital's side (its schedule) or the booking side (the institution that booked)."""
    return actor.scope.covers_institution(booking.schedule.institution.path) or (
        booking.from_institution is not None
        and actor.scope.covers_institution(booking.from_institution.path)
    )


def _booking_qs(qs: QuerySet[Booking]) -> QuerySet[Booking]:
    return qs.select_related(
        "slot",
        "schedule",
        "schedule__institution",
        "schedule__department",
        "schedule__doctor",
        "resident",
        "from_institution",
    )


def list_bookings(
    actor: Actor,
    side: str,
    *,
    day_from: dt.date | None = None,
    day_to: dt.date | None = None,
    institution: str | None = None,
    department: str | None = None,
    status: str | None = None,
    live_only: bool = False,
) -> QuerySet[Booking]:
    """``hospital``: bookings into the schedules of institutions in scope, in slot-time order
    (the day's worklist). ``booker``: bookings made by institutions in scope, newest first.
    ``live_only`` leaves out cancelled bookings."""
    if side not in SIDES:
        raise ValueError(f"未知的列表类型“{side}”")
    field = "schedule__institution__path" if side == SIDE_HOSPITAL else "from_institution__path"
    qs = _in_scope(Booking.objects.all(), field, actor)
    if day_from:
        qs = qs.filter(schedule__day__gte=day_from)
    if day_to:
        qs = qs.filter(schedule__day__lte=day_to)
    if institution:
        qs = qs.filter(schedule__institution__code=institution)
    if department:
        qs = qs.filter(schedule__department__code=department)
    if status:
        qs = qs.filter(status=status)
    if live_only:
        qs = qs.exclude(status=BookingStatus.CANCELLED)
    order = (
        ["slot__starts_at", "schedule__department__code", "pk"]
        if side == SIDE_HOSPITAL
        else ["-booked_at", "-pk"]
    )
    return _booking_qs(qs).order_by(*order)


def booking_row(booking: Booking) -> dict[str, Any]:
    """One booking as lists show it: the resident's name masked."""
    schedule = booking.schedule
    local = timezone.localtime
    source = booking.from_institution
    return {
        "id": booking.pk,
        "schedule_id": schedule.pk,
        "institution": {"code": schedule.institution.code, "name": schedule.institution.name},
        "department": {"code": schedule.department.code, "name": schedule.department.name},
        "doctor": schedule.doctor.name if schedule.doctor else "",
        "day": schedule.day,
        "session": schedule.session,
        "session_label": schedule.get_session_display(),
        "seq": booking.slot.seq,
        "starts_at": local(booking.slot.starts_at),
        "ends_at": local(booking.slot.ends_at),
        "resident": {
            "mpi_id": booking.resident.mpi_id,
            "name": kernel.mask_name(booking.resident.name),
        },
        "channel": booking.channel,
        "channel_label": booking.get_channel_display(),
        "pool": booking.pool,
        "pool_label": booking.get_pool_display(),
        "status": booking.status,
        "status_label": booking.get_status_display(),
        "priority": booking.priority,
        "fee_waived": booking.fee_waived,
        "fee": f"{booking.fee:.2f}",
        "note": booking.note,
        "from_institution": {"code": source.code, "name": source.name} if source else None,
        "booked_at": local(booking.booked_at),
        "closed_at": local(booking.closed_at) if booking.closed_at else None,
        "cancel_reason": booking.cancel_reason,
        "can_cancel": booking.status == BookingStatus.BOOKED
        and booking.slot.starts_at > clock.now(),
    }


def get_live_resident(mpi_id: str) -> Resident | None:
    """The live (unmerged) resident behind an MPI number; the booking service checks that the
    actor may act for them (and audits a refusal)."""
    return Resident.objects.filter(mpi_id=mpi_id, merged_into__isnull=True).first()


# Beds ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WardRow:
    """One ward of the bed board: capacity and use per pool, and its held/admitted beds."""

    department: Department
    beds: int
    capacity: dict[str, int]
    used: dict[str, int]
    free: dict[str, int]
    holds: list[dict[str, Any]]


def bed_row(bed: BedBooking, lapsed: bool = False) -> dict[str, Any]:
    """A hold or admission on the board; ``lapsed``: a hold past its grace (rules.hold_lapsed),
    no longer taking a bed."""
    return {
        "lapsed": lapsed,
        "id": bed.pk,
        "resident": kernel.mask_name(bed.resident.name),
        "mpi_id": bed.resident.mpi_id,
        "pool": bed.pool,
        "pool_label": bed.get_pool_display(),
        "up_referral": bed.up_referral,
        "status": bed.status,
        "status_label": bed.get_status_display(),
        "expected_on": bed.expected_on,
        "admitted_at": timezone.localtime(bed.admitted_at) if bed.admitted_at else None,
        "from_institution": bed.from_institution.label if bed.from_institution else "",
    }


def bed_board(institution: Institution, today: dt.date | None = None) -> list[WardRow]:
    """Every ward (department with beds) of the institution: the reserved share in force
    today (rules.bed_capacity), the beds held or occupied per pool (rules.beds_used, as services.bed_usage)."""
    today = today or clock.today()
    share = PoolPolicy.on(today).bed_share
    wards = list(institution.departments.filter(beds__gt=0).order_by("code"))
    holds: dict[int, list[dict[str, Any]]] = {w.pk: [] for w in wards}
    active = (
        BedBooking.objects.filter(department__in=wards, status__in=rules.ACTIVE_BED)
        .select_related("resident", "from_institution")
        .order_by("status", "expected_on", "pk")
    )
    grace = bed_grace_days(today)
    booked: dict[int, list[tuple[str, str, dt.date | None]]] = {w.pk: [] for w in wards}
    for bed in active:
        lapsed = rules.hold_lapsed(bed.status, bed.expected_on, today, grace)
        holds[bed.department_id].append(bed_row(bed, lapsed))
        booked[bed.department_id].append((bed.pool, bed.status, bed.expected_on))
    rows = []
    for ward in wards:
        capacity = rules.bed_capacity(ward.beds, share)
        used = rules.beds_used(booked[ward.pk], today, grace)  # as services.bed_usage
        free = {pool: max(0, capacity[pool] - used.get(pool, 0)) for pool in capacity}
        rows.append(WardRow(ward, ward.beds, capacity, used, free, holds[ward.pk]))
    return rows


def get_ward(department_id: int) -> Department | None:
    return (
        Department.objects.select_related("institution")
        .filter(pk=department_id, beds__gt=0)
        .first()
    )


def get_bed(bed_id: int) -> BedBooking | None:
    return (
        BedBooking.objects.select_related("department__institution", "resident")
        .filter(pk=bed_id)
        .first()
    )
