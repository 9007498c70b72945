"""Writers of schedules, bookings and bed reservations (the only ones).

Every booking chooses its slot while holding a lock on the schedule row
(``select_for_update``), so concurrent bookers of one session queue; the partial unique
constraints of models.py (one live booking per slot, one open booking per resident and session)
stand behind it. Beds likewise lock the ward's department row. Each booking is a person-level
write: the booker needs a care relationship with the resident (or is the hospital itself
registering its patient), and every write is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from yigongti.accounts.choices import Role
from yigongti.accounts.queries import Actor
from yigongti.core import clock
from yigongti.core.choices import AccessBasis, AuditAction
from yigongti.core.errors import AccessDenied, DomainError
from yigongti.core.queries import get_parameter
from yigongti.core.services import do_record_audit
from yigongti.organizations.choices import GRASSROOTS_TYPES
from yigongti.organizations.models import Department, Institution
from yigongti.residents.models import Resident
from yigongti.residents.rules import age_on
from yigongti.residents.services import check_read_access
from yigongti.scheduling import rules
from yigongti.scheduling.choices import (
    BedStatus,
    BookingStatus,
    Channel,
    ScheduleStatus,
    Session,
)
from yigongti.scheduling.models import BedBooking, Booking, Schedule, Slot
from yigongti.staff.models import Practitioner

PUBLISH_ROLES = rules.PUBLISH_ROLES
FRONT_DESK_ROLES = rules.FRONT_DESK_ROLES
BOOKING_RESOURCE = "booking"
BED_RESOURCE = "bed_booking"


@dataclass(frozen=True)
class PoolPolicy:
    """The pool parameters in force on a day (see rules.py for their meaning)."""

    slot_share: Any
    bed_share: Any
    public_days: int
    lead_days: int
    cutoff_hours: int
    no_show_grace: int

    @classmethod
    def on(cls, day: dt.date) -> PoolPolicy:
        return cls(
            rules.parse_share(get_parameter(rules.SLOT_SHARE_KEY, day)),
            rules.parse_share(get_parameter(rules.BED_SHARE_KEY, day)),
            int(get_parameter(rules.PUBLIC_DAYS_KEY, day)),
            int(get_parameter(rules.LEAD_DAYS_KEY, day)),
            int(get_parameter(rules.CUTOFF_HOURS_KEY, day)),
            int(get_parameter(rules.NO_SHOW_GRACE_KEY, day)),
        )


def channel_of(actor: Actor) -> str:
    """Grassroots institutions and family-doctor teams book through the reserved pool."""
    inst = actor.institution
    if actor.role in (Role.FAMILY_DOCTOR, Role.VILLAGE_DOCTOR) or (
        inst is not None and inst.inst_type in GRASSROOTS_TYPES
    ):
        return Channel.GRASSROOTS
    return Channel.PUBLIC


def times_of(schedule: Schedule) -> rules.ReleaseTimes:
    """The schedule's release times in local time (they are shown to users)."""
    local = timezone.localtime
    return rules.ReleaseTimes(
        local(schedule.reserved_opens_at),
        local(schedule.public_opens_at),
        local(schedule.cutoff_at),
        local(schedule.starts_at),
    )


def _aware(value: dt.datetime) -> dt.datetime:
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _check_institution_manager(actor: Actor, institution: Institution) -> None:
    if actor.role not in PUBLISH_ROLES:
        raise AccessDenied("只有县级管理员、管理中心和机构管理员可以发布或停诊排班")
    if not actor.scope.covers_institution(institution.path):
        raise AccessDenied("该机构不在您的管理范围内")


@dataclass(frozen=True)
class ScheduleInput:
    department_id: int
    day: dt.date
    session: str
    start: dt.time
    end: dt.time
    slot_count: int
    fee: Decimal = Decimal("0")
    doctor_id: int | None = None


def do_publish_schedule(actor: Actor, data: ScheduleInput) -> Schedule:
    """Publish one session with its slots split into the reserved and public pools by the
    policy in force on its day; refused for a grassroots institution (the pools are the
    county hospitals' duty), a day in the past, or bad times."""
    department = (
        Department.objects.select_related("institution").filter(pk=data.department_id).first()
    )
    if department is None:
        raise DomainError("科室不存在", field="department_id")
    institution = department.institution
    _check_institution_manager(actor, institution)
    errors: dict[str, list[str]] = {}
    if institution.inst_type in GRASSROOTS_TYPES:
        errors.setdefault("department_id", []).append(
            "基层医疗卫生机构不发布预留号源排班；请选择县级医院的科室"
        )
    if data.session not in Session.values:
        errors.setdefault("session", []).append("时段应为上午、下午或晚间")
    today = clock.today()
    if data.day < today:
        errors.setdefault("day", []).append("出诊日期不能早于今天")
    if data.fee < 0:
        errors.setdefault("fee", []).append("挂号费不能为负数")
    doctor = None
    if data.doctor_id is not None:
        doctor = Practitioner.objects.filter(pk=data.doctor_id).first()
        if doctor is None or doctor.employer_id != institution.pk:
            errors.setdefault("doctor_id", []).append("出诊医生不属于该机构")
    try:
        times = rules.slot_times(data.start, data.end, data.slot_count, data.day)
    except ValueError as exc:
        errors.setdefault("slot_count", []).append(str(exc))
        times = []
    if errors:
        raise DomainError(errors)
    policy = PoolPolicy.on(data.day)
    reserved = rules.reserved_count(data.slot_count, policy.slot_share)
    starts = _aware(times[0][0])
    release = rules.release_times(
        starts,
        public_days=policy.public_days,
        lead_days=policy.lead_days,
        cutoff_hours=policy.cutoff_hours,
    )
    with transaction.atomic():
        schedule = Schedule.objects.create(
            institution=institution,
            department=department,
            doctor=doctor,
            day=data.day,
            session=data.session,
            starts_at=starts,
            ends_at=_aware(times[-1][1]),
            slot_count=data.slot_count,
            reserved_count=reserved,
            fee=data.fee,
            reserved_opens_at=release.reserved_opens,
            public_opens_at=release.public_opens,
            cutoff_at=release.cutoff,
            created_by=actor.user,
            created_at=clock.now(),
        )
        Slot.objects.bulk_create(
            [
                Slot(
                    schedule=schedule,
                    seq=seq,
                    starts_at=_aware(begin),
                    ends_at=_aware(end),
                    pool=pool,
                )
                for seq, ((begin, end), pool) in enumerate(
                    zip(times, rules.slot_pools(data.slot_count, reserved), strict=True), start=1
                )
            ]
        )
        do_record_audit(
            actor.audit_context(),
            action=AuditAction.CREATE,
            resource_type="schedule",
            resource_id=schedule.pk,
            detail={"slots": data.slot_count, "reserved": reserved},
        )
    return schedule


def do_cancel_schedule(actor: Actor, schedule_id: int, reason: str) -> int:
    """停诊: the schedule closes and its open bookings are cancelled with the reason; returns
    how many bookings were cancelled."""
    schedule = Schedule.objects.select_related("institution").filter(pk=schedule_id).first()
    if schedule is None:
        raise DomainError("排班不存在", field="schedule")
    _check_institution_manager(actor, schedule.institution)
    if not reason.strip():
        raise DomainError("停诊须填写原因", field="reason")
    now = clock.now()
    with transaction.atomic():
        updated = Schedule.objects.filter(pk=schedule.pk, status=ScheduleStatus.OPEN).update(
            status=ScheduleStatus.CANCELLED
        )
        if not updated:
            raise DomainError("该排班已停诊", field="schedule")
        cancelled = Booking.objects.filter(schedule=schedule, status=BookingStatus.BOOKED).update(
            status=BookingStatus.CANCELLED, closed_at=now, cancel_reason=f"停诊：{reason}"[:200]
        )
        do_record_audit(
            actor.audit_context(),
            action=AuditAction.UPDATE,
            resource_type="schedule",
            resource_id=schedule.pk,
            detail={"status": ScheduleStatus.CANCELLED, "bookings_cancelled": cancelled},
            purpose=reason,
        )
    return cancelled


def _booking_basis(actor: Actor, resident: Resident, institution: Institution) -> str:
    """A care relationship with the resident, or the hospital's own desk registering them."""
    try:
        return check_read_access(actor, resident, today=clock.today())
    except AccessDenied as exc:
        if (
            actor.role in FRONT_DESK_ROLES
            and actor.user.institution_id == institution.pk
            and actor.scope.covers_division(resident.division_code)
        ):
            return AccessBasis.DATA_ENTRY
        if exc.can_break_glass:  # a booking never breaks the glass: no purpose to offer
            raise AccessDenied(
                "您与该居民没有诊疗、签约、转诊或公共卫生服务关系，不能为其预约"
            ) from None
        raise


def check_patient(department: Department, resident: Resident, on: dt.date) -> None:
    """Refuse (Chinese) a resident the department does not see on ``on``: 儿科 above the
    policy's age (``scheduling.child_max_age``), 妇产科 a man (``Department.patients``)."""
    refusal = rules.patient_refusal(
        department.name,
        department.patients,
        sex=resident.sex,
        age=age_on(resident.birth_date, on),
        child_max_age=int(get_parameter(rules.CHILD_AGE_KEY, on)),
    )
    if refusal:
        raise DomainError(refusal, field="resident")


def do_book_slot(
    actor: Actor,
    schedule_id: int,
    resident: Resident,
    *,
    note: str = "",
    fee_waived: bool = False,
    priority: bool = False,
) -> Booking:
    """Book the first free slot of the pools the actor's channel may use now (a grassroots
    booker takes a reserved slot first). Refused in Chinese when the session is closed, not yet
    open to this channel, full, or the resident already holds a slot in it. A refusal for want
    of a care relationship is audited (``denied``), like a refused read of the record."""
    try:
        return _book_slot(
            actor, schedule_id, resident, note=note, fee_waived=fee_waived, priority=priority
        )
    except AccessDenied as exc:
        do_record_audit(
            actor.audit_context(),
            action=AuditAction.DENIED,
            resource_type=BOOKING_RESOURCE,
            resource_id=f"schedule:{schedule_id}",
            subject_resident_id=resident.pk,
            detail={"reason": exc.reason},
        )
        raise


def _book_slot(
    actor: Actor,
    schedule_id: int,
    resident: Resident,
    *,
    note: str,
    fee_waived: bool,
    priority: bool,
) -> Booking:
    channel = channel_of(actor)
    now = clock.now()
    with transaction.atomic():
        schedule = (
            Schedule.objects.select_for_update()
            .select_related("institution", "department")
            .filter(pk=schedule_id)
            .first()
        )
        if schedule is None:
            raise DomainError("排班不存在", field="schedule")
        basis = _booking_basis(actor, resident, schedule.institution)
        if schedule.status != ScheduleStatus.OPEN:
            raise DomainError("该排班已停诊，不能预约")
        check_patient(schedule.department, resident, schedule.day)
        pools = rules.bookable_pools(channel, now, times_of(schedule))
        if not pools:
            raise DomainError(rules.booking_refusal(channel, now, times_of(schedule)))
        if Booking.objects.filter(
            schedule=schedule, resident=resident, status=BookingStatus.BOOKED
        ).exists():
            raise DomainError("该居民已预约本时段，不能重复预约", field="resident")
        taken = set(
            Booking.objects.filter(schedule=schedule, status__in=rules.LIVE_BOOKING).values_list(
                "slot_id", flat=True
            )
        )
        free = [
            s
            for s in Slot.objects.filter(schedule=schedule, pool__in=pools).order_by("seq")
            if s.pk not in taken and s.starts_at > now
        ]
        free.sort(key=lambda s: (pools.index(s.pool), s.seq))
        if not free:
            raise DomainError("该时段可预约号源已约满")
        # the resident's other booked slots in this session's hours, any department or hospital
        busy = list(
            Booking.objects.filter(
                resident=resident,
                status=BookingStatus.BOOKED,
                slot__starts_at__lt=schedule.ends_at,
                slot__ends_at__gt=schedule.starts_at,
            ).values_list("slot__starts_at", "slot__ends_at")
        )
        free = [s for s in free if not rules.clashes(s.starts_at, s.ends_at, busy)]
        if not free:
            raise DomainError(
                "该居民在本时段已有其他科室的预约，剩余号源的时间都与之冲突", field="resident"
            )
        slot = free[0]
        try:
            with transaction.atomic():
                booking = Booking.objects.create(
                    slot=slot,
                    schedule=schedule,
                    resident=resident,
                    channel=channel,
                    pool=slot.pool,
                    booked_by=actor.user,
                    from_institution=actor.institution,
                    fee=Decimal(0) if fee_waived else schedule.fee,
                    fee_waived=fee_waived,
                    priority=priority,
                    note=note[:200],
                    booked_at=now,
                )
        except IntegrityError:  # the constraint caught a race the lock should have prevented
            raise DomainError("该号源刚被他人预约，请重试") from None
        do_record_audit(
            actor.audit_context(),
            action=AuditAction.CREATE,
            resource_type=BOOKING_RESOURCE,
            resource_id=booking.pk,
            subject_resident_id=resident.pk,
            basis=basis,
            detail={"schedule": schedule.pk, "slot": slot.seq, "pool": slot.pool},
        )
    return booking


def _move_booking(
    actor: Actor, booking_id: int, wanted: str, *, reason: str = "", hospital_only: bool
) -> Booking:
    booking = (
        Booking.objects.select_related("schedule__institution", "slot", "from_institution")
        .filter(pk=booking_id)
        .first()
    )
    if booking is None:
        raise DomainError("预约不存在", field="booking")
    hospital = booking.schedule.institution
    mine = actor.scope.covers_institution(hospital.path) or (
        not hospital_only
        and booking.from_institution is not None
        and actor.scope.covers_institution(booking.from_institution.path)
    )
    if not mine:
        raise AccessDenied("该预约不在您的管理范围内")
    now = clock.now()
    grace = PoolPolicy.on(booking.schedule.day).no_show_grace
    refusal = rules.booking_move_refusal(
        booking.status,
        wanted,
        now=now,
        slot_starts=booking.slot.starts_at,
        grace_minutes=grace,
        reason=reason,
    )
    if refusal:
        raise DomainError(refusal, field="status")
    with transaction.atomic():
        moved = Booking.objects.filter(pk=booking.pk, status=booking.status).update(
            status=wanted, closed_at=now, cancel_reason=reason[:200]
        )
        if not moved:  # someone else moved it first
            raise DomainError("预约状态已被他人更改，请刷新后重试", field="status")
        do_record_audit(
            actor.audit_context(),
            action=AuditAction.UPDATE,
            resource_type=BOOKING_RESOURCE,
            resource_id=booking.pk,
            subject_resident_id=booking.resident_id,
            basis=AccessBasis.DATA_ENTRY,
            detail={"status": wanted},
            purpose=reason,
        )
    booking.refresh_from_db()
    return booking


def do_cancel_booking(actor: Actor, booking_id: int, reason: str) -> Booking:
    """Cancel before the slot starts (the booking side or the hospital); the slot is free again."""
    return _move_booking(
        actor, booking_id, BookingStatus.CANCELLED, reason=reason, hospital_only=False
    )


def do_mark_attended(actor: Actor, booking_id: int) -> Booking:
    return _move_booking(actor, booking_id, BookingStatus.ATTENDED, hospital_only=True)


def do_mark_no_show(actor: Actor, booking_id: int) -> Booking:
    """爽约: the hospital records it after the slot start plus the policy's grace."""
    return _move_booking(actor, booking_id, BookingStatus.NO_SHOW, hospital_only=True)


# Beds -----------------------------------------------------------------------------------------


def bed_grace_days(on: dt.date) -> int:
    return int(get_parameter(rules.BED_GRACE_KEY, on))


def bed_usage(department: Department, today: dt.date | None = None) -> dict[str, int]:
    """Beds taken per pool: the admitted and the holds not lapsed (``rules.hold_lapsed``)."""
    today = today or clock.today()
    beds = BedBooking.objects.filter(department=department, status__in=rules.ACTIVE_BED)
    return rules.beds_used(
        beds.values_list("pool", "status", "expected_on"), today, bed_grace_days(today)
    )


def do_hold_bed(
    actor: Actor,
    department_id: int,
    resident: Resident,
    *,
    expected_on: dt.date,
    up_referral: bool,
) -> BedBooking:
    """Hold a bed of the ward for the resident: an up-referred patient takes a reserved bed
    first (at least the policy's share of the ward's beds), others only public beds."""
    with transaction.atomic():
        department = (
            Department.objects.select_for_update()
            .select_related("institution")
            .filter(pk=department_id)
            .first()
        )
        if department is None:
            raise DomainError("病区不存在", field="department")
        if department.beds <= 0:
            raise DomainError("该科室没有开放床位", field="department")
        basis = _booking_basis(actor, resident, department.institution)
        today = clock.today()
        if expected_on < today:
            raise DomainError("预计入院日期不能早于今天", field="expected_on")
        check_patient(department, resident, expected_on)
        grace = bed_grace_days(today)
        active = list(
            BedBooking.objects.filter(
                department__institution=department.institution,
                resident=resident,
                status__in=rules.ACTIVE_BED,
            ).select_related("department")
        )
        lapsed = [b for b in active if rules.hold_lapsed(b.status, b.expected_on, today, grace)]
        held = next((b for b in active if b not in lapsed), None)
        if held is not None:  # one bed a patient in a hospital, whichever ward
            where = "本病区" if held.department_id == department.pk else held.department.name
            raise DomainError(f"该居民在{where}已有床位预约或在院", field="resident")
        if any(b.department_id == department.pk for b in lapsed):
            # the ward's own lapsed hold stays until the ward cancels or admits it
            raise DomainError(
                "该居民在本病区有逾期未入院的床位预留，请先在床位看板取消或办理入院",
                field="resident",
            )
        policy = PoolPolicy.on(expected_on)
        capacity = rules.bed_capacity(department.beds, policy.bed_share)
        pool = rules.choose_bed_pool(up_referral, capacity, bed_usage(department, today))
        if pool is None:
            raise DomainError(
                "该病区" + ("上转预留床位与公众床位" if up_referral else "公众床位") + "已满",
                field="department",
            )
        bed = BedBooking.objects.create(
            department=department,
            resident=resident,
            pool=pool,
            up_referral=up_referral,
            expected_on=expected_on,
            from_institution=actor.institution,
            booked_by=actor.user,
            booked_at=clock.now(),
        )
        do_record_audit(
            actor.audit_context(),
            action=AuditAction.CREATE,
            resource_type=BED_RESOURCE,
            resource_id=bed.pk,
            subject_resident_id=resident.pk,
            basis=basis,
            detail={"department": department.pk, "pool": pool},
        )
    return bed


BED_MOVES: dict[str, frozenset[str]] = {
    BedStatus.HELD: frozenset({BedStatus.ADMITTED, BedStatus.CANCELLED}),
    BedStatus.ADMITTED: frozenset({BedStatus.RELEASED}),
}


def do_move_bed(actor: Actor, bed_id: int, wanted: str, *, reason: str = "") -> BedBooking:
    """入院 (held → admitted), 出院释放 (admitted → released) or cancel a hold (reason
    required); the hospital's staff only."""
    bed = BedBooking.objects.select_related("department__institution").filter(pk=bed_id).first()
    if bed is None:
        raise DomainError("床位预约不存在", field="bed")
    if not actor.scope.covers_institution(bed.department.institution.path):
        raise AccessDenied("该床位预约不在您的管理范围内")
    labels = dict(BedStatus.choices)
    if wanted not in BED_MOVES.get(bed.status, frozenset()):
        raise DomainError(
            f"床位预约当前为“{labels[bed.status]}”，不能改为“{labels.get(wanted, wanted)}”",
            field="status",
        )
    if wanted == BedStatus.CANCELLED and not reason.strip():
        raise DomainError("取消床位预约须填写原因", field="reason")
    today = clock.today()
    if wanted == BedStatus.ADMITTED and rules.hold_lapsed(
        bed.status, bed.expected_on, today, bed_grace_days(today)
    ):
        # a lapsed hold took no bed: admitting it needs a free one in its pool now
        capacity = rules.bed_capacity(bed.department.beds, PoolPolicy.on(today).bed_share)
        if bed_usage(bed.department, today)[bed.pool] >= capacity[bed.pool]:
            raise DomainError(
                f"该预留已逾期未入院，{bed.get_pool_display()}床位已满，不能入院", field="status"
            )
    now = clock.now()
    stamp: dict[str, Any] = {"status": wanted, "reason": reason[:200]}
    stamp["admitted_at" if wanted == BedStatus.ADMITTED else "closed_at"] = now
    with transaction.atomic():
        if not BedBooking.objects.filter(pk=bed.pk, status=bed.status).update(**stamp):
            raise DomainError("床位预约状态已被他人更改，请刷新后重试", field="status")
        do_record_audit(
            actor.audit_context(),
            action=AuditAction.UPDATE,
            resource_type=BED_RESOURCE,
            resource_id=bed.pk,
            subject_resident_id=bed.resident_id,
            basis=AccessBasis.DATA_ENTRY,
            detail={"status": wanted},
            purpose=reason,
        )
    bed.refresh_from_db()
    return bed
