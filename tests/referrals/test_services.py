"""Referral services on the persona county: the whole up-and-down loop, refusals that change
nothing, timers with a frozen clock, time-boxed access and follow-up tasks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from tests.scheduling.conftest import at
from yigongti.core.choices import AccessBasis
from yigongti.core.errors import AccessDenied, DomainError
from yigongti.core.models import AuditEvent
from yigongti.referrals import services
from yigongti.referrals.choices import Direction, Status, TaskKind, TaskStatus, Urgency
from yigongti.referrals.models import FollowUpTask, Referral, ReferralEvent
from yigongti.residents.models import CareRelationship
from yigongti.scheduling.choices import BedStatus, BookingStatus, Pool
from yigongti.scheduling.models import BedBooking, Booking

pytestmark = pytest.mark.django_db


def up_input(world: Any, **extra: Any) -> services.ReferralInput:
    lead = world.lead_hospital
    values: dict[str, Any] = {
        "direction": Direction.UP,
        "resident_id": world.residents["elderly_patient"].pk,
        "diagnosis_code": "I10",
        "reason": "血压控制不佳，两次随访不满意，伴胸闷",
        "consent": True,
        "to_institution_id": lead.pk,
        "to_department_id": lead.departments.get(code="XNK").pk,
        "impression": "高血压3级（很高危）",
        "deductible_paid": Decimal("200"),
    }
    values.update(extra)
    return services.ReferralInput(**values)


def treating(world: Any, key: str) -> None:
    """The institution saw 张德福 today (a treating care relationship)."""
    from yigongti.residents.services import do_grant_care_relationship

    do_grant_care_relationship(
        world.residents["elderly_patient"],
        world.institutions[key] if key != "lead" else world.lead_hospital,
        AccessBasis.TREATING,
        source="test",
        valid_from=dt.date(2026, 2, 1),
    )


def statuses(referral: Referral) -> list[str]:
    return list(referral.events.order_by("pk").values_list("to_status", flat=True))


def test_the_whole_loop(session: Any, world: Any, actor_for: Any, frozen: Any) -> None:
    village = actor_for("family_doctor")
    specialist = actor_for("cardiologist")
    township = actor_for("hekou_doctor")
    zhang = world.residents["elderly_patient"]
    frozen(at(2, 24, 9))
    up = services.do_create_referral(village, up_input(world, schedule_id=session.pk))
    assert up.number == f"ZZ20260224{up.pk:06d}"
    assert (up.status, up.deadline_at) == (Status.SUBMITTED, at(2, 25, 9))
    assert up.green_channel == ["免挂号费", "优先接诊", "优先检查", "优先住院"]
    booking = up.booking
    assert booking is not None
    assert (booking.slot.seq, booking.pool, booking.fee, booking.fee_waived, booking.priority) == (
        3,
        Pool.RESERVED,
        Decimal("0"),
        True,
        True,
    )
    assert up.appointment_at == at(3, 9, 8, 20)
    task = FollowUpTask.objects.get(referral=up)
    assert (task.kind, task.institution, task.due_on) == (
        TaskKind.AFTER_UP,
        world.institutions["vc_taoyuan"],
        dt.date(2026, 3, 10),
    )
    grant = CareRelationship.objects.get(source="referral", source_ref=up.number)
    assert (grant.institution, grant.kind, grant.valid_from, grant.valid_to) == (
        world.lead_hospital,
        AccessBasis.REFERRAL,
        dt.date(2026, 2, 24),
        None,
    )
    assert up.summary["chronic"] == ["高血压", "2型糖尿病"]

    frozen(at(2, 24, 15))
    up = services.do_accept(specialist, up.pk)
    assert up.status == Status.SCHEDULED
    frozen(at(3, 9, 8, 15))
    services.do_arrive(specialist, up.pk)
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.ATTENDED
    ward = world.lead_hospital.departments.get(code="XNK")
    up = services.do_admit(specialist, up.pk, department_id=ward.pk)
    bed = up.bed
    assert bed is not None
    bed.refresh_from_db()
    assert (bed.pool, bed.status) == (Pool.RESERVED, BedStatus.ADMITTED)
    frozen(at(3, 16, 10))
    services.do_complete(
        specialist, up.pk, result_diagnosis="高血压3级", inpatient_number="ZY2026001"
    )
    assert BedBooking.objects.get(pk=bed.pk).status == BedStatus.RELEASED
    down = services.do_return_down(
        specialist, up.pk, rehab_plan="氨氯地平 5mg qd；每周测血压；两周后复诊"
    )
    up.refresh_from_db()
    assert up.status == Status.RETURNED
    assert statuses(up) == [
        Status.DRAFT,
        Status.SUBMITTED,
        Status.ACCEPTED,
        Status.SCHEDULED,
        Status.ARRIVED,
        Status.IN_TREATMENT,
        Status.COMPLETED,
        Status.RETURNED,
    ]
    assert (down.direction, down.status, down.parent_id, down.to_institution) == (
        Direction.DOWN,
        Status.SUBMITTED,
        up.pk,
        world.institutions["thc_hekou"],  # the village clinic's township centre
    )
    assert (down.deductible_paid, down.inpatient_number) == (Decimal("200.00"), "ZY2026001")
    down_task = FollowUpTask.objects.get(referral=down)
    assert (down_task.kind, down_task.institution, down_task.due_on) == (
        TaskKind.AFTER_DOWN,
        world.institutions["thc_hekou"],
        dt.date(2026, 3, 23),
    )
    # the township receives it, sees the patient and closes it
    services.do_accept(township, down.pk)
    services.do_arrive(township, down.pk)
    services.do_complete(township, down.pk)
    down = services.do_close(township, down.pk, note="已随访，血压 135/85")
    assert down.status == Status.CLOSED
    services.do_complete_task(township, down_task.pk, "入户随访，服药规律")
    services.do_complete_task(village, task.pk, "电话随访，已入院治疗")
    assert set(FollowUpTask.objects.values_list("status", flat=True)) == {TaskStatus.DONE}
    # the village doctor confirms and closes the up-referral: the hospital's access is boxed
    services.do_close(village, up.pk)
    grant.refresh_from_db()
    assert grant.valid_to == dt.date(2026, 4, 15)  # 3-16 + 30 days
    audited = AuditEvent.objects.filter(resource_type="referral", subject_resident_id=zhang.pk)
    assert audited.count() == ReferralEvent.objects.count()


def test_refusals_change_nothing(session: Any, world: Any, actor_for: Any, frozen: Any) -> None:
    village = actor_for("family_doctor")
    frozen(at(2, 24, 9))
    before = (Referral.objects.count(), Booking.objects.count(), FollowUpTask.objects.count())
    with pytest.raises(DomainError) as exc:
        services.do_create_referral(
            village,
            up_input(
                world,
                diagnosis_code="X99.9",
                reason=" ",
                consent=False,
                deductible_paid=Decimal("-1"),
            ),
        )
    assert exc.value.field_errors == {
        "diagnosis_code": ["诊断编码“X99.9”不在 ICD-10 目录中"],
        "reason": ["请填写主要现病史（转出原因）"],
        "consent": ["须经患者（或家属）知情同意"],
        "deductible_paid": ["已付起付线不能为负数"],
    }
    with pytest.raises(DomainError, match="上转应由基层医疗卫生机构转往县级医院"):
        services.do_create_referral(
            village,
            up_input(
                world, to_institution_id=world.institutions["thc_hekou"].pk, to_department_id=None
            ),
        )
    with pytest.raises(AccessDenied, match="只有医疗机构的医生或机构管理员可以开具转诊单"):
        services.do_create_referral(actor_for("county_admin"), up_input(world))
    # a booking refused (session not open to the public yet... here: already full) rolls back
    frozen(at(3, 9, 9))
    with pytest.raises(DomainError, match="该时段已开始或已结束"):
        services.do_create_referral(village, up_input(world, schedule_id=session.pk))
    assert (
        Referral.objects.count(),
        Booking.objects.count(),
        FollowUpTask.objects.count(),
    ) == before
    assert not CareRelationship.objects.filter(source="referral").exists()


def test_transitions_by_the_wrong_side_are_refused(world: Any, actor_for: Any, frozen: Any) -> None:
    village = actor_for("family_doctor")
    specialist = actor_for("cardiologist")
    frozen(at(2, 24, 9))
    up = services.do_create_referral(village, up_input(world))
    with pytest.raises(DomainError, match="“已同意”只能由接收方、系统操作"):
        services.do_accept(village, up.pk)
    with pytest.raises(DomainError, match="拒绝或取消转诊须填写原因"):
        services.do_reject(specialist, up.pk, "")
    with pytest.raises(AccessDenied, match="您的角色不能办理转诊"):
        services.do_accept(actor_for("county_admin"), up.pk)  # at the lead hospital, a manager
    with pytest.raises(AccessDenied, match="只有转出或接收机构的人员可以办理该转诊单"):
        services.do_accept(actor_for("institution_admin"), up.pk)  # sees it, is neither side
    with pytest.raises(AccessDenied, match="该转诊单不存在或不在您的数据范围内"):
        services.do_accept(actor_for("township_doctor"), up.pk)
    with pytest.raises(DomainError, match="不能改为“已到诊”"):
        services.do_arrive(specialist, up.pk)
    up.refresh_from_db()
    assert up.status == Status.SUBMITTED and statuses(up) == [Status.DRAFT, Status.SUBMITTED]
    rejected = services.do_reject(specialist, up.pk, "本院心内科床位已满，建议转市中心医院")
    assert (rejected.status, rejected.end_reason) == (
        Status.REJECTED,
        "本院心内科床位已满，建议转市中心医院",
    )
    assert FollowUpTask.objects.get(referral=up).status == TaskStatus.CANCELLED
    assert CareRelationship.objects.get(source_ref=up.number).valid_to == dt.date(2026, 3, 26)


def test_expire_and_no_show_with_a_frozen_clock(
    session: Any, world: Any, actor_for: Any, frozen: Any
) -> None:
    village = actor_for("family_doctor")
    specialist = actor_for("cardiologist")
    frozen(at(2, 24, 9))
    waiting = services.do_create_referral(village, up_input(world))
    booked = services.do_create_referral(
        village,
        up_input(world, resident_id=world.residents["elderly_patient"].pk, schedule_id=session.pk),
    )
    services.do_accept(specialist, booked.pk)
    assert services.do_expire_overdue(at(2, 25, 9)).expired == []  # exactly at the deadline
    result = services.do_expire_overdue(at(2, 25, 9, 1))
    assert (result.expired, result.no_show) == ([waiting.number], [])
    # slot #3 at 3-09 08:20; the window is 48 hours
    assert services.do_expire_overdue(at(3, 11, 8, 20)).no_show == []
    assert services.do_expire_overdue(at(3, 11, 8, 21)).no_show == [booked.number]
    booked.refresh_from_db()
    assert booked.status == Status.NO_SHOW
    assert booked.booking is not None and booked.booking.status == BookingStatus.CANCELLED
    again = services.do_expire_overdue(at(3, 12))
    assert (again.expired, again.no_show) == ([], [])


def test_emergency_is_accepted_on_submission(world: Any, actor_for: Any, frozen: Any) -> None:
    frozen(at(2, 24, 9))
    treating(world, "thc_hekou")
    up = services.do_create_referral(
        actor_for("hekou_doctor"),
        up_input(
            world,
            urgency=Urgency.EMERGENCY,
            resident_id=world.residents["elderly_patient"].pk,
        ),
    )
    assert up.status == Status.ACCEPTED and up.deadline_at == at(2, 24, 9)
    assert up.green_channel == []  # not the contracted family doctor
    assert statuses(up) == [Status.DRAFT, Status.SUBMITTED, Status.ACCEPTED]


def test_out_of_county(world: Any, actor_for: Any, frozen: Any) -> None:
    frozen(at(2, 24, 9))
    treating(world, "lead")
    with pytest.raises(DomainError) as exc:
        services.do_create_referral(
            actor_for("cardiologist"),
            up_input(world, direction=Direction.OUT, to_institution_id=None, to_department_id=None),
        )
    assert exc.value.field_errors == {
        "out_of_county_name": ["请填写县外接收医院"],
        "out_of_county_region": ["请填写县外医院所在地区"],
    }


def test_cli_expire(world: Any, actor_for: Any, frozen: Any, capsys: Any) -> None:
    from django.core.management import call_command

    frozen(at(2, 24, 9))
    up = services.do_create_referral(actor_for("family_doctor"), up_input(world))
    frozen(at(2, 26))
    call_command("referrals", "expire")
    assert capsys.readouterr().out.strip() == f"已超时 1 张，未到诊 0 张：{up.number}"
    call_command("referrals", "expire")
    assert capsys.readouterr().out.strip() == "已超时 0 张，未到诊 0 张"


def test_a_plain_down_referral_gives_the_receiver_a_task(
    world: Any, actor_for: Any, frozen: Any
) -> None:
    frozen(at(2, 24, 9))
    treating(world, "lead")
    down = services.do_create_referral(
        actor_for("cardiologist"),
        up_input(
            world,
            direction=Direction.DOWN,
            to_institution_id=world.institutions["thc_hekou"].pk,
            to_department_id=None,
            rehab_plan="继续降压治疗，每周随访",
        ),
    )
    task = FollowUpTask.objects.get(referral=down)
    assert (task.kind, task.institution, task.due_on) == (
        TaskKind.AFTER_DOWN,
        world.institutions["thc_hekou"],
        dt.date(2026, 3, 3),
    )
