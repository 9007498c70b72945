"""Writers of referrals, their transitions and follow-up tasks (the only ones).

A transition is a conditional UPDATE on the status read (``_move``): if someone else moved the
referral in between, nothing changes and the user is told to refresh. Each transition writes a
``ReferralEvent`` and an audit event. Submitting grants the receiving institution a referral
care relationship (time-boxed: it ends ``access.referral_days_after_close`` days after the
referral ends); slots and beds are booked through the scheduling services, with the green
channel's fee waiver and priority for patients up-referred by their own family doctor.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from yigongti.accounts import rules as access
from yigongti.accounts.choices import Role
from yigongti.accounts.queries import Actor
from yigongti.core import clock
from yigongti.core.choices import AccessBasis, AuditAction
from yigongti.core.errors import AccessDenied, DomainError
from yigongti.core.queries import get_parameter
from yigongti.core.services import AuditContext, do_record_audit
from yigongti.encounters.models import DiagnosisCode
from yigongti.encounters.queries import list_resident_timeline
from yigongti.organizations.choices import GRASSROOTS_TYPES, InstitutionType
from yigongti.organizations.models import Department, Institution
from yigongti.referrals import rules
from yigongti.referrals.choices import Direction, Level, Status, TaskKind, TaskStatus, Urgency
from yigongti.referrals.models import FollowUpTask, Referral, ReferralEvent
from yigongti.residents.models import CareRelationship, Resident
from yigongti.residents.services import (
    check_read_access,
    do_end_care_relationships,
    do_grant_care_relationship,
)
from yigongti.scheduling import services as scheduling
from yigongti.scheduling.choices import BedStatus, BookingStatus

RESOURCE = "referral"
CARE_SOURCE = "referral"
REFERRING_ROLES = frozenset(
    {Role.DOCTOR, Role.VILLAGE_DOCTOR, Role.FAMILY_DOCTOR, Role.INSTITUTION_ADMIN}
)
SUMMARY_ENCOUNTERS = 5
ACCESS_DAYS_KEY = "access.referral_days_after_close"


@dataclass(frozen=True)
class ReferralInput:
    direction: str
    resident_id: int
    diagnosis_code: str
    reason: str
    consent: bool
    to_institution_id: int | None = None
    to_department_id: int | None = None
    urgency: str = Urgency.ROUTINE
    impression: str = ""
    history: str = ""
    treatment: str = ""
    contact_phone: str = ""
    out_of_county_name: str = ""
    out_of_county_region: str = ""
    filing_number: str = ""
    schedule_id: int | None = None  # book a slot of this schedule on submission
    bed_department_id: int | None = None  # or hold a bed of this ward
    expected_admission: dt.date | None = None
    deductible_paid: Decimal = Decimal(0)
    rehab_plan: str = ""


def _param(key: str) -> Any:
    return get_parameter(key, clock.today())


def side_of(actor: Actor, referral: Referral) -> str | None:
    """Whether the actor acts for the sending or the receiving institution."""
    inst_id = actor.user.institution_id
    if inst_id is not None and inst_id == referral.from_institution_id:
        return rules.SENDER
    if inst_id is not None and inst_id == referral.to_institution_id:
        return rules.RECEIVER
    return None


def can_see(actor: Actor, referral: Referral) -> bool:
    """The two institutions' staff, and managers whose scope covers either institution."""
    if side_of(actor, referral) is not None:
        return True
    if actor.role not in (Role.COUNTY_ADMIN, Role.CENTRE_STAFF, Role.INSTITUTION_ADMIN):
        return False
    places = [referral.from_institution] + (
        [referral.to_institution] if referral.to_institution else []
    )
    return any(actor.scope.covers_institution(i.path) for i in places)


def is_contracted_family_doctor(actor: Actor, resident: Resident, today: dt.date) -> bool:
    """The resident's signed family-doctor contract is with the actor (or their clinic)."""
    user = actor.user
    if user.institution_id is None:
        return False
    return (
        CareRelationship.objects.filter(
            resident=resident,
            institution_id=user.institution_id,
            kind=AccessBasis.FAMILY_DOCTOR,
            valid_from__lte=today,
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        .filter(Q(practitioner__isnull=True) | Q(practitioner_id=user.practitioner_id))
        .exists()
    )


def _summary(resident: Resident) -> dict[str, Any]:
    """近期诊疗摘要 attached to every referral: the latest encounters and settlements."""
    return {
        "recent": [
            {
                "date": e.date.isoformat(),
                "end_date": e.end_date.isoformat() if e.end_date else "",
                "setting": e.setting,
                "institution": e.institution_name,
                "diagnosis": e.principal_diagnosis,
                "total_cost": str(e.total_cost),
            }
            for e in list_resident_timeline(resident)[:SUMMARY_ENCOUNTERS]
        ],
        "chronic": [
            label
            for flag, label in (
                (resident.has_hypertension, "高血压"),
                (resident.has_diabetes, "2型糖尿病"),
            )
            if flag
        ],
    }


def _event(
    referral: Referral, before: str, after: str, by: AuditContext, user: Any, note: str = ""
) -> None:
    ReferralEvent.objects.create(
        referral=referral,
        from_status=before,
        to_status=after,
        at=clock.now(),
        by=user,
        by_name=by.username,
        note=note[:200],
    )
    do_record_audit(
        by,
        action=AuditAction.UPDATE if before else AuditAction.CREATE,
        resource_type=RESOURCE,
        resource_id=referral.number,
        subject_resident_id=referral.resident_id,
        basis=AccessBasis.REFERRAL if before else AccessBasis.DATA_ENTRY,
        detail={"from": before, "to": after},
        purpose=note,
    )


def _validate(actor: Actor, data: ReferralInput) -> tuple[Resident, Institution | None, str]:
    errors: dict[str, list[str]] = {}

    def err(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if actor.role not in REFERRING_ROLES or actor.institution is None:
        raise AccessDenied("只有医疗机构的医生或机构管理员可以开具转诊单")
    resident = Resident.objects.select_related("division").filter(pk=data.resident_id).first()
    if resident is None:
        raise DomainError("居民不存在", field="resident")
    basis = check_read_access(actor, resident, today=clock.today())
    if data.direction not in Direction.values:
        err("direction", "转诊方向应为上转、下转或转县外")
    if data.urgency not in Urgency.values:
        err("urgency", "紧急程度无效")
    target = None
    if data.to_institution_id is not None:
        target = Institution.objects.filter(pk=data.to_institution_id, is_active=True).first()
        if target is None:
            err("to_institution", "接收机构不存在")
        elif target.medcom_id != actor.institution.medcom_id:
            err("to_institution", "接收机构不在本医共体内；县外转诊请选择“转县外”")
    elif data.direction in (Direction.UP, Direction.DOWN):
        err("to_institution", "请选择接收机构")
    if data.direction in Direction.values and "to_institution" not in errors:
        refusal = rules.direction_allowed(
            data.direction,
            actor.institution.inst_type in GRASSROOTS_TYPES,
            None if target is None else target.inst_type in GRASSROOTS_TYPES,
        )
        if refusal:
            err("direction", refusal)
    if data.direction == Direction.OUT:
        if not data.out_of_county_name.strip():
            err("out_of_county_name", "请填写县外接收医院")
        if not data.out_of_county_region.strip():
            err("out_of_county_region", "请填写县外医院所在地区")
    if data.to_department_id is not None and (
        target is None
        or not Department.objects.filter(pk=data.to_department_id, institution=target).exists()
    ):
        err("to_department", "接收科室不属于接收机构")
    if not DiagnosisCode.objects.filter(code=data.diagnosis_code.strip().upper()).exists():
        err("diagnosis_code", f"诊断编码“{data.diagnosis_code}”不在 ICD-10 目录中")
    if not data.reason.strip():
        err("reason", "请填写主要现病史（转出原因）")
    if not data.consent:
        err("consent", "须经患者（或家属）知情同意")
    if data.direction == Direction.DOWN and not data.rehab_plan.strip():
        err("rehab_plan", "下转须填写下一步治疗方案及康复建议")
    if data.deductible_paid < 0:
        err("deductible_paid", "已付起付线不能为负数")
    if data.schedule_id is not None and data.bed_department_id is not None:
        err("schedule", "门诊号源与住院床位只能预约一项")
    if errors:
        raise DomainError(errors)
    return resident, target, basis


def do_create_referral(actor: Actor, data: ReferralInput, *, submit: bool = True) -> Referral:
    """Open a referral (and submit it, booking the slot or bed asked for). Refusals change
    nothing: the booking happens in the same transaction."""
    resident, target, _basis = _validate(actor, data)
    sender = actor.institution
    assert sender is not None  # _validate refused an actor without an institution
    now = clock.now()
    today = clock.today()
    green = rules.green_channel(
        data.direction,
        is_contracted_family_doctor(actor, resident, today),
        _param(rules.GREEN_CHANNEL_KEY),
    )
    ctx = actor.audit_context()
    with transaction.atomic():
        referral = Referral.objects.create(
            number=f"TMP-{now.timestamp()}"[:20],
            direction=data.direction,
            urgency=data.urgency,
            resident=resident,
            from_institution=sender,
            from_practitioner=actor.user.practitioner,
            to_institution=target,
            to_department_id=data.to_department_id,
            out_of_county_name=data.out_of_county_name.strip(),
            out_of_county_region=data.out_of_county_region.strip(),
            filing_number=data.filing_number.strip(),
            diagnosis_code=data.diagnosis_code.strip().upper(),
            impression=data.impression.strip(),
            reason=data.reason.strip(),
            history=data.history.strip(),
            treatment=data.treatment.strip(),
            contact_phone=data.contact_phone.strip(),
            consent=data.consent,
            rehab_plan=data.rehab_plan.strip(),
            green_channel=green,
            deductible_paid=data.deductible_paid,
            summary=_summary(resident),
            created_at=now,
            created_by=actor.user,
        )
        referral.number = f"ZZ{timezone.localdate(now):%Y%m%d}{referral.pk:06d}"
        referral.save(update_fields=["number"])
        _event(referral, "", Status.DRAFT, ctx, actor.user)
        if submit:
            _submit(actor, referral, data)
    return referral


def do_submit(actor: Actor, referral_id: int) -> Referral:
    """Submit a draft (no booking: drafts book on the referral page after submission)."""
    referral = _get(actor, referral_id)
    with transaction.atomic():
        _submit(actor, referral, None)
    return referral


def _submit(actor: Actor, referral: Referral, data: ReferralInput | None) -> None:
    now = clock.now()
    today = clock.today()
    _move(actor, referral, Status.SUBMITTED, rules.SENDER)
    referral.submitted_at = now
    referral.deadline_at = rules.acceptance_deadline(
        now, referral.urgency, int(_param(rules.ACCEPT_HOURS_KEY))
    )
    if referral.to_institution is not None:
        do_grant_care_relationship(
            referral.resident,
            referral.to_institution,
            AccessBasis.REFERRAL,
            source=CARE_SOURCE,
            source_ref=referral.number,
            valid_from=today,
        )
    if data is not None and data.schedule_id is not None:
        booking = scheduling.do_book_slot(
            actor,
            data.schedule_id,
            referral.resident,
            note=f"转诊单 {referral.number}",
            fee_waived="免挂号费" in referral.green_channel,
            priority="优先接诊" in referral.green_channel,
        )
        if referral.to_institution_id != booking.schedule.institution_id:
            raise DomainError("预约的号源不属于接收机构", field="schedule")
        referral.booking = booking
        referral.appointment_at = booking.slot.starts_at
    if data is not None and data.bed_department_id is not None:
        if data.expected_admission is None:
            raise DomainError("预约床位须填写预计入院日期", field="expected_admission")
        bed = scheduling.do_hold_bed(
            actor,
            data.bed_department_id,
            referral.resident,
            expected_on=data.expected_admission,
            up_referral=referral.direction == Direction.UP,
        )
        if referral.to_institution_id != bed.department.institution_id:
            raise DomainError("预约的床位不属于接收机构", field="bed")
        referral.bed = bed
        referral.appointment_at = timezone.make_aware(
            dt.datetime.combine(data.expected_admission, dt.time(9, 0))
        )
    if referral.direction == Direction.UP:
        FollowUpTask.objects.create(
            referral=referral,
            resident=referral.resident,
            institution=referral.from_institution,
            kind=TaskKind.AFTER_UP,
            due_on=rules.follow_up_due(today, int(_param(rules.FOLLOW_UP_UP_DAYS_KEY))),
        )
    elif referral.direction == Direction.DOWN and referral.to_institution is not None:
        # The receiving grassroots institution sees the patient within the policy's days.
        FollowUpTask.objects.create(
            referral=referral,
            resident=referral.resident,
            institution=referral.to_institution,
            kind=TaskKind.AFTER_DOWN,
            due_on=rules.follow_up_due(today, int(_param(rules.FOLLOW_UP_DOWN_DAYS_KEY))),
        )
    referral.save()
    if referral.urgency == Urgency.EMERGENCY:  # accepted on submission, phone first
        _move(actor, referral, Status.ACCEPTED, rules.SYSTEM, note="急危重症：提交即接收")
        referral.accepted_at = now
        referral.save(update_fields=["accepted_at"])
        _schedule_if_booked(actor, referral, rules.SYSTEM)


def _schedule_if_booked(actor: Actor, referral: Referral, side: str) -> None:
    if referral.status == Status.ACCEPTED and (referral.booking_id or referral.bed_id):
        _move(actor, referral, Status.SCHEDULED, side if side != rules.SYSTEM else rules.SENDER)


def _get(actor: Actor, referral_id: int, *, lock: bool = False) -> Referral:
    qs = Referral.objects.select_related(
        "resident", "from_institution", "to_institution", "booking__slot", "bed"
    )
    referral = qs.filter(pk=referral_id).first()
    if referral is None or not can_see(actor, referral):
        raise AccessDenied("该转诊单不存在或不在您的数据范围内")
    return referral


def _move(
    actor: Actor | None,
    referral: Referral,
    wanted: str,
    side: str,
    *,
    reason: str = "",
    note: str = "",
) -> None:
    """Check and make one transition; a concurrent change makes it fail without effect."""
    refusal = rules.move_refusal(referral.status, wanted, side, reason)
    if refusal:
        raise DomainError(refusal, field="status")
    before = referral.status
    moved = Referral.objects.filter(pk=referral.pk, status=before).update(status=wanted)
    if not moved:
        raise DomainError("转诊单状态已被他人更改，请刷新后重试", field="status")
    referral.status = wanted
    ctx = actor.audit_context() if actor is not None else AuditContext.system("referrals")
    _event(referral, before, wanted, ctx, actor.user if actor else None, reason or note)


def _end_access(referral: Referral) -> None:
    """The receiving institution's access ends the policy's days after the referral ends."""
    days = int(_param(ACCESS_DAYS_KEY))
    do_end_care_relationships(
        source=CARE_SOURCE,
        source_ref=referral.number,
        valid_to=clock.today() + dt.timedelta(days=days),
    )


def _cancel_holds(actor: Actor | None, referral: Referral, reason: str) -> None:
    """Free the referral's slot and bed (a cancelled or refused referral keeps nothing)."""
    if referral.booking_id:
        from yigongti.scheduling.models import Booking

        Booking.objects.filter(pk=referral.booking_id, status=BookingStatus.BOOKED).update(
            status=BookingStatus.CANCELLED, closed_at=clock.now(), cancel_reason=reason[:200]
        )
    if referral.bed_id:
        from yigongti.scheduling.models import BedBooking

        BedBooking.objects.filter(pk=referral.bed_id, status=BedStatus.HELD).update(
            status=BedStatus.CANCELLED, closed_at=clock.now(), reason=reason[:200]
        )
    FollowUpTask.objects.filter(referral=referral, status=TaskStatus.OPEN).update(
        status=TaskStatus.CANCELLED
    )


def _act(actor: Actor, referral_id: int) -> tuple[Referral, str]:
    referral = _get(actor, referral_id)
    side = side_of(actor, referral)
    if side is None:
        raise AccessDenied("只有转出或接收机构的人员可以办理该转诊单")
    if actor.role not in access.CLINICAL_ROLES | {Role.INSTITUTION_ADMIN}:
        raise AccessDenied("您的角色不能办理转诊")
    return referral, side


def do_receive(actor: Actor, referral_id: int) -> Referral:
    referral, side = _act(actor, referral_id)
    with transaction.atomic():
        _move(actor, referral, Status.RECEIVED, side)
    return referral


def do_accept(actor: Actor, referral_id: int, note: str = "") -> Referral:
    """同意接收; a referral with a booked slot or bed is then 已预约 at once."""
    referral, side = _act(actor, referral_id)
    with transaction.atomic():
        _move(actor, referral, Status.ACCEPTED, side, note=note)
        referral.accepted_at = clock.now()
        referral.save(update_fields=["accepted_at"])
        _schedule_if_booked(actor, referral, side)
    return referral


def do_reject(actor: Actor, referral_id: int, reason: str) -> Referral:
    referral, side = _act(actor, referral_id)
    with transaction.atomic():
        _move(actor, referral, Status.REJECTED, side, reason=reason)
        _finish(actor, referral, reason)
    return referral


def do_cancel(actor: Actor, referral_id: int, reason: str) -> Referral:
    referral, side = _act(actor, referral_id)
    with transaction.atomic():
        _move(actor, referral, Status.CANCELLED, side, reason=reason)
        _finish(actor, referral, reason)
    return referral


def _finish(actor: Actor | None, referral: Referral, reason: str) -> None:
    referral.closed_at = clock.now()
    referral.end_reason = reason[:200]
    referral.save(update_fields=["closed_at", "end_reason"])
    _cancel_holds(actor, referral, reason)
    _end_access(referral)


def do_arrive(actor: Actor, referral_id: int) -> Referral:
    """到诊: the booked slot is recorded as attended."""
    referral, side = _act(actor, referral_id)
    with transaction.atomic():
        _move(actor, referral, Status.ARRIVED, side)
        referral.arrived_at = clock.now()
        referral.save(update_fields=["arrived_at"])
        if referral.booking is not None and referral.booking.status == BookingStatus.BOOKED:
            scheduling.do_mark_attended(actor, referral.booking.pk)
    return referral


def do_admit(actor: Actor, referral_id: int, department_id: int | None = None) -> Referral:
    """治疗中 (入院): the held bed becomes admitted; without a held bed, one is held now in the
    given ward (reserved first for an up-referral) and admitted."""
    referral, side = _act(actor, referral_id)
    with transaction.atomic():
        _move(actor, referral, Status.IN_TREATMENT, side)
        if not referral.bed_id and department_id is not None:
            bed = scheduling.do_hold_bed(
                actor,
                department_id,
                referral.resident,
                expected_on=clock.today(),
                up_referral=referral.direction == Direction.UP,
            )
            referral.bed = bed
            referral.save(update_fields=["bed"])
        if referral.bed_id:
            scheduling.do_move_bed(actor, referral.bed_id, BedStatus.ADMITTED)
    return referral


def do_complete(
    actor: Actor,
    referral_id: int,
    *,
    result_diagnosis: str = "",
    inpatient_number: str = "",
    findings: str = "",
) -> Referral:
    """诊疗结束 (出院): the bed is released and the 回转单 fields recorded."""
    referral, side = _act(actor, referral_id)
    with transaction.atomic():
        _move(actor, referral, Status.COMPLETED, side)
        referral.completed_at = clock.now()
        referral.result_diagnosis = result_diagnosis.strip()[:200]
        referral.inpatient_number = inpatient_number.strip()[:32]
        referral.findings = findings.strip()
        referral.save(
            update_fields=["completed_at", "result_diagnosis", "inpatient_number", "findings"]
        )
        if referral.bed_id:
            from yigongti.scheduling.models import BedBooking

            if BedBooking.objects.filter(pk=referral.bed_id, status=BedStatus.ADMITTED).exists():
                scheduling.do_move_bed(actor, referral.bed_id, BedStatus.RELEASED)
    return referral


def default_down_target(up: Referral) -> Institution:
    """Back to the grassroots: a village clinic's patient returns to its township centre (which
    follows up with the village doctor), any other grassroots sender to itself."""
    sender = up.from_institution
    if sender.inst_type == InstitutionType.VILLAGE_CLINIC and sender.parent is not None:
        return sender.parent
    return sender


def do_return_down(
    actor: Actor,
    up_referral_id: int,
    *,
    rehab_plan: str,
    to_institution_id: int | None = None,
    result_diagnosis: str = "",
    findings: str = "",
) -> Referral:
    """回转: the completed up-referral is returned by a new downward referral to the
    grassroots with the rehabilitation plan; the receiving institution gets a follow-up task.
    The deductible paid in the episode carries over (no new deductible going down)."""
    up, side = _act(actor, up_referral_id)
    if up.direction != Direction.UP:
        raise DomainError("只有上转单可以回转", field="direction")
    target_id = to_institution_id or default_down_target(up).pk
    data = ReferralInput(
        direction=Direction.DOWN,
        resident_id=up.resident_id,
        diagnosis_code=up.diagnosis_code,
        reason=f"上转单 {up.number} 诊疗结束，病情稳定，转回基层继续治疗与康复",
        consent=True,
        to_institution_id=target_id,
        rehab_plan=rehab_plan,
        deductible_paid=up.deductible_paid,
    )
    with transaction.atomic():
        _move(actor, up, Status.RETURNED, side)
        down = do_create_referral(actor, data, submit=True)
        down.parent = up
        down.result_diagnosis = (result_diagnosis or up.result_diagnosis)[:200]
        down.findings = findings or up.findings
        down.inpatient_number = up.inpatient_number
        down.save(update_fields=["parent", "result_diagnosis", "findings", "inpatient_number"])
    return down


def do_close(actor: Actor, referral_id: int, note: str = "") -> Referral:
    """关闭（随访已确认）; the receiving institution's access ends after the policy's days."""
    referral, side = _act(actor, referral_id)
    with transaction.atomic():
        _move(actor, referral, Status.CLOSED, side, note=note)
        referral.closed_at = clock.now()
        referral.save(update_fields=["closed_at"])
        _end_access(referral)
    return referral


def do_complete_task(actor: Actor, task_id: int, note: str) -> FollowUpTask:
    """随访: recorded by the institution the task belongs to; a note is required."""
    task = FollowUpTask.objects.select_related("institution").filter(pk=task_id).first()
    if task is None or not actor.scope.covers_institution(task.institution.path):
        raise AccessDenied("该随访任务不存在或不在您的数据范围内")
    if not note.strip():
        raise DomainError("请填写随访记录", field="note")
    with transaction.atomic():
        done = FollowUpTask.objects.filter(pk=task.pk, status=TaskStatus.OPEN).update(
            status=TaskStatus.DONE, done_at=clock.now(), done_by=actor.user, note=note[:500]
        )
        if not done:
            raise DomainError("该随访任务已办结或已取消", field="status")
        do_record_audit(
            actor.audit_context(),
            action=AuditAction.UPDATE,
            resource_type="follow_up_task",
            resource_id=task.pk,
            subject_resident_id=task.resident_id,
            basis=AccessBasis.REFERRAL,
            detail={"status": TaskStatus.DONE},
        )
    task.refresh_from_db()
    return task


@dataclass
class ExpiryResult:
    expired: list[str]
    no_show: list[str]


def do_expire_overdue(now: dt.datetime | None = None) -> ExpiryResult:
    """Mark referrals not accepted by their deadline 已超时, and accepted or scheduled ones whose
    patient did not come within the no-show window 未到诊 (for cron: `yigongti referrals
    expire`). Each is its own transition, so a run interrupted half way is simply run again."""
    now = now or clock.now()
    window = int(_param(rules.NO_SHOW_HOURS_KEY))
    result = ExpiryResult([], [])
    overdue = Referral.objects.filter(
        status__in=[Status.SUBMITTED, Status.RECEIVED], deadline_at__lt=now
    ).order_by("deadline_at", "pk")
    for referral in overdue:
        if not rules.is_overdue(referral.status, referral.deadline_at, now):
            continue
        try:
            with transaction.atomic():
                _move(None, referral, Status.EXPIRED, rules.SYSTEM, note="超过接收时限")
                _finish(None, referral, "超过接收时限未接收")
            result.expired.append(referral.number)
        except DomainError:  # moved meanwhile by a user
            continue
    waiting = Referral.objects.filter(
        status__in=[Status.ACCEPTED, Status.SCHEDULED],
        appointment_at__lt=now - dt.timedelta(hours=window),
    ).order_by("appointment_at", "pk")
    for referral in waiting:
        if not rules.is_no_show(referral.status, referral.appointment_at, now, window):
            continue
        try:
            with transaction.atomic():
                _move(None, referral, Status.NO_SHOW, rules.SYSTEM, note="预约后未到诊")
                _finish(None, referral, "预约后未到诊")
            result.no_show.append(referral.number)
        except DomainError:
            continue
    return result


def do_read_referral(actor: Actor, referral_id: int) -> Referral:
    """The referral form for the two institutions and managers in scope; every read is
    audited (the form carries the patient's name, history and diagnosis)."""
    referral = _get(actor, referral_id)
    do_record_audit(
        actor.audit_context(),
        action=AuditAction.READ,
        resource_type=RESOURCE,
        resource_id=referral.number,
        subject_resident_id=referral.resident_id,
        basis=AccessBasis.REFERRAL,
    )
    return referral


def level_of(institution: Institution | None) -> str:
    """The reimbursement level of a member institution (县外 counts as 市级)."""
    if institution is None:
        return Level.CITY
    return Level.GRASSROOTS if institution.inst_type in GRASSROOTS_TYPES else Level.COUNTY


def estimate_out_of_pocket(
    referral: Referral, total: Decimal
) -> tuple[rules.Estimate, rules.Estimate]:
    """(with referral, without) for a stay of ``total`` at the receiving level, by the
    resident's insurance and the policy table in force today."""
    insurance = referral.resident.insurance_type
    if insurance not in ("resident", "employee"):
        raise DomainError("该居民未参保，无法估算医保报销", field="total")
    return rules.compare_referral(
        _param(rules.RATE_TABLE_KEY),
        insurance_type=insurance,
        direction=referral.direction,
        from_level=level_of(referral.from_institution),
        to_level=level_of(referral.to_institution),
        total=total,
        paid_in_episode=referral.deductible_paid,
    )
