"""Publishing, booking through the two pools, refusals that change nothing, moves, beds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from yigongti.core.errors import AccessDenied, DomainError
from yigongti.core.models import AuditEvent
from yigongti.scheduling import services
from yigongti.scheduling.choices import BedStatus, BookingStatus, Channel, Pool
from yigongti.scheduling.models import BedBooking, Booking, Schedule, Slot
from yigongti.scheduling.services import ScheduleInput, do_book_slot, do_publish_schedule

from .conftest import DAY, at, publish

pytestmark = pytest.mark.django_db


def test_publish_splits_pools_and_sets_release_times(session: Any) -> None:
    assert session.slot_count == 6 and session.reserved_count == 2
    pools = list(Slot.objects.filter(schedule=session).values_list("seq", "pool"))
    assert pools == [
        (1, Pool.PUBLIC),
        (2, Pool.PUBLIC),
        (3, Pool.RESERVED),
        (4, Pool.PUBLIC),
        (5, Pool.PUBLIC),
        (6, Pool.RESERVED),
    ]
    assert session.starts_at == at(3, 9)
    assert session.reserved_opens_at == at(2, 23)
    assert session.public_opens_at == at(3, 2)
    assert session.cutoff_at == at(3, 8)
    assert AuditEvent.objects.filter(resource_type="schedule", action="create").count() == 1


def test_publish_refusals_change_nothing(world: Any, actor_for: Any, frozen: Any) -> None:
    frozen(at(2, 20))
    qky = world.institutions["thc_chengguan"].departments.get(code="QKY")
    xnk = world.lead_hospital.departments.get(code="XNK")
    good = {
        "department_id": xnk.pk,
        "day": DAY,
        "session": "am",
        "start": dt.time(8, 0),
        "end": dt.time(9, 0),
        "slot_count": 6,
    }
    with pytest.raises(DomainError) as exc:
        do_publish_schedule(
            actor_for("county_admin"), ScheduleInput(**{**good, "department_id": qky.pk})
        )
    assert exc.value.field_errors == {
        "department_id": ["基层医疗卫生机构不发布预留号源排班；请选择县级医院的科室"]
    }
    with pytest.raises(DomainError) as exc:
        do_publish_schedule(
            actor_for("county_admin"),
            ScheduleInput(**{**good, "day": dt.date(2026, 2, 19), "slot_count": 0}),
        )
    assert exc.value.field_errors == {
        "day": ["出诊日期不能早于今天"],
        "slot_count": ["号源数应在 1 与 200 之间"],
    }
    with pytest.raises(DomainError, match="出诊医生不属于该机构"):
        do_publish_schedule(
            actor_for("county_admin"),
            ScheduleInput(**good, doctor_id=world.practitioners["township_doctor"].pk),
        )
    with pytest.raises(AccessDenied, match="只有县级管理员"):
        do_publish_schedule(actor_for("family_doctor"), ScheduleInput(**good))
    with pytest.raises(AccessDenied, match="不在您的管理范围内"):
        do_publish_schedule(actor_for("institution_admin"), ScheduleInput(**good))
    assert Schedule.objects.count() == 0 and Slot.objects.count() == 0


def test_family_doctor_books_reserved_slot_before_public_opening(
    session: Any, world: Any, actor_for: Any, frozen: Any
) -> None:
    zhang = world.residents["elderly_patient"]
    doctor = actor_for("family_doctor")
    assert services.channel_of(doctor) == Channel.GRASSROOTS
    frozen(at(2, 23, 7, 59))
    with pytest.raises(DomainError, match="基层预留号源于 02月23日 08:00 开放"):
        do_book_slot(doctor, session.pk, zhang)
    frozen(at(2, 23, 8, 0))
    booking = do_book_slot(doctor, session.pk, zhang, fee_waived=True, priority=True)
    assert (booking.slot.seq, booking.pool, booking.channel) == (
        3,
        Pool.RESERVED,
        Channel.GRASSROOTS,
    )
    assert (booking.fee, booking.fee_waived, booking.priority) == (Decimal("0"), True, True)
    assert booking.from_institution == world.institutions["vc_taoyuan"]
    event = AuditEvent.objects.get(resource_type="booking", action="create")
    assert (event.subject_resident_id, event.basis) == (zhang.pk, "family_doctor_contract")
    with pytest.raises(DomainError, match="该居民已预约本时段，不能重复预约"):
        do_book_slot(doctor, session.pk, zhang)
    assert Booking.objects.count() == 1


def test_public_channel_waits_and_gets_leftovers_after_cutoff(
    session: Any, world: Any, actor_for: Any, frozen: Any
) -> None:
    desk = actor_for("cardiologist")  # the hospital's own doctor registering a patient
    assert services.channel_of(desk) == Channel.PUBLIC
    chen = world.residents["town_resident"]
    frozen(at(2, 25))
    with pytest.raises(DomainError, match="公众号源于 03月02日 08:00 开放"):
        do_book_slot(desk, session.pk, chen)
    frozen(at(3, 2))
    first = do_book_slot(desk, session.pk, chen)
    assert (first.slot.seq, first.pool, first.fee) == (1, Pool.PUBLIC, Decimal("12.00"))
    event = AuditEvent.objects.get(resource_type="booking")
    assert event.basis == "data_entry"


def test_full_session_and_cutoff(session: Any, world: Any, actor_for: Any, frozen: Any) -> None:
    from yigongti.residents.models import Resident

    desk = actor_for("cardiologist")
    people = list(Resident.objects.order_by("pk"))
    assert len(people) == 3
    frozen(at(3, 2))
    seqs = [do_book_slot(desk, session.pk, r).slot.seq for r in people]
    assert seqs == [1, 2, 4]
    extra = _resident(world, "43990120000101001", "赵一")
    assert do_book_slot(desk, session.pk, extra).slot.seq == 5
    late = _resident(world, "43990120010202001", "钱二")
    with pytest.raises(DomainError, match="该时段可预约号源已约满"):
        do_book_slot(desk, session.pk, late)
    frozen(at(3, 8))  # the cut-off: the two reserved slots join the public pool
    assert do_book_slot(desk, session.pk, late).slot.seq == 3


def test_cancel_frees_the_slot_and_moves_are_checked(
    session: Any, world: Any, actor_for: Any, frozen: Any
) -> None:
    zhang = world.residents["elderly_patient"]
    doctor = actor_for("family_doctor")
    hospital = actor_for("county_admin")
    frozen(at(2, 24))
    booking = do_book_slot(doctor, session.pk, zhang)
    with pytest.raises(DomainError, match="取消预约须填写原因"):
        services.do_cancel_booking(doctor, booking.pk, "")
    with pytest.raises(AccessDenied, match="不在您的管理范围内"):
        services.do_mark_attended(doctor, booking.pk)  # only the hospital records arrival
    cancelled = services.do_cancel_booking(doctor, booking.pk, "患者改期")
    assert (cancelled.status, cancelled.cancel_reason) == (BookingStatus.CANCELLED, "患者改期")
    again = do_book_slot(doctor, session.pk, zhang)
    assert again.slot.seq == 3  # the same reserved slot, free again
    frozen(at(3, 9, 8, 49))  # slot #3 starts 08:20; 29 minutes later
    with pytest.raises(DomainError, match="30 分钟内不能登记爽约"):
        services.do_mark_no_show(hospital, again.pk)
    frozen(at(3, 9, 8, 50))
    assert services.do_mark_no_show(hospital, again.pk).status == BookingStatus.NO_SHOW
    with pytest.raises(DomainError, match="预约当前为“爽约”，不能改为“已到诊”"):
        services.do_mark_attended(hospital, again.pk)
    statuses = list(Booking.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == [BookingStatus.CANCELLED, BookingStatus.NO_SHOW]


def test_cancel_schedule_cancels_bookings(
    session: Any, world: Any, actor_for: Any, frozen: Any
) -> None:
    frozen(at(2, 24))
    do_book_slot(actor_for("family_doctor"), session.pk, world.residents["elderly_patient"])
    with pytest.raises(DomainError, match="停诊须填写原因"):
        services.do_cancel_schedule(actor_for("county_admin"), session.pk, "")
    assert services.do_cancel_schedule(actor_for("county_admin"), session.pk, "专家外出会诊") == 1
    booking = Booking.objects.get()
    assert (booking.status, booking.cancel_reason) == (
        BookingStatus.CANCELLED,
        "停诊：专家外出会诊",
    )
    with pytest.raises(DomainError, match="该排班已停诊，不能预约"):
        do_book_slot(actor_for("family_doctor"), session.pk, world.residents["elderly_patient"])


def test_no_care_relationship_no_booking(
    session: Any, world: Any, actor_for: Any, frozen: Any
) -> None:
    frozen(at(2, 24))
    doctor = actor_for("family_doctor")
    with pytest.raises(AccessDenied, match="没有诊疗、签约、转诊或公共卫生服务关系"):
        do_book_slot(doctor, session.pk, world.residents["elderly_spouse"])
    with pytest.raises(AccessDenied, match="该居民不在您的数据范围内"):
        do_book_slot(doctor, session.pk, world.residents["town_resident"])
    assert Booking.objects.count() == 0


def _resident(world: Any, first17: str, name: str) -> Any:
    from yigongti.residents.rules import check_digit
    from yigongti.residents.services import ResidentInput, do_register_resident

    return do_register_resident(
        None,
        ResidentInput(
            name=name,
            id_number=first17 + check_digit(first17),
            division_code=world.villages["东门社区"].code,
            insurance_type="none",
        ),
        today=dt.date(2026, 3, 1),
    )


def test_beds_reserved_share_for_up_referrals(world: Any, actor_for: Any, frozen: Any) -> None:
    from yigongti.organizations.models import Department

    frozen(at(3, 1))
    ward = world.lead_hospital.departments.get(code="XNK")
    Department.objects.filter(pk=ward.pk).update(beds=5)  # 2 reserved (⌈5/4⌉), 3 public
    desk = actor_for("cardiologist")
    people = [world.residents["town_resident"]] + [
        _resident(world, n, "病人" + "甲乙丙丁"[i])
        for i, n in enumerate(
            ["43990120000101001", "43990120010202001", "43990119991212001", "43990119880101001"]
        )
    ]
    pools = [
        services.do_hold_bed(desk, ward.pk, p, expected_on=DAY, up_referral=False).pool
        for p in people[:3]
    ]
    assert pools == [Pool.PUBLIC] * 3
    with pytest.raises(DomainError, match="该病区公众床位已满"):
        services.do_hold_bed(desk, ward.pk, people[3], expected_on=DAY, up_referral=False)
    up = services.do_hold_bed(desk, ward.pk, people[3], expected_on=DAY, up_referral=True)
    assert up.pool == Pool.RESERVED
    zhang = world.residents["elderly_patient"]
    second = services.do_hold_bed(
        actor_for("family_doctor"), ward.pk, zhang, expected_on=DAY, up_referral=True
    )
    assert second.pool == Pool.RESERVED
    with pytest.raises(DomainError, match="上转预留床位与公众床位已满"):
        services.do_hold_bed(desk, ward.pk, people[4], expected_on=DAY, up_referral=True)
    admitted = services.do_move_bed(desk, second.pk, BedStatus.ADMITTED)
    assert admitted.status == BedStatus.ADMITTED and admitted.admitted_at == at(3, 1)
    with pytest.raises(DomainError, match="不能改为“已取消”"):
        services.do_move_bed(desk, second.pk, BedStatus.CANCELLED, reason="x")
    services.do_move_bed(desk, second.pk, BedStatus.RELEASED)
    assert (
        services.do_hold_bed(desk, ward.pk, people[4], expected_on=DAY, up_referral=True).pool
        == Pool.RESERVED
    )
    assert BedBooking.objects.filter(status__in=["held", "admitted"]).count() == 5


def test_one_bed_a_patient_in_a_hospital(world: Any, actor_for: Any, frozen: Any) -> None:
    """A resident held (or in hospital) on one ward is refused on another ward of the same
    hospital, naming that ward; once released, the other ward takes them."""
    frozen(at(3, 1))
    desk = actor_for("cardiologist")
    chen = world.residents["town_resident"]
    cardiology = world.lead_hospital.departments.get(code="XNK")
    medicine = world.lead_hospital.departments.get(code="NEI")
    held = services.do_hold_bed(desk, cardiology.pk, chen, expected_on=DAY, up_referral=False)
    with pytest.raises(DomainError, match=r"：该居民在心血管内科已有床位预约或在院$"):
        services.do_hold_bed(desk, medicine.pk, chen, expected_on=DAY, up_referral=False)
    with pytest.raises(DomainError, match=r"：该居民在本病区已有床位预约或在院$"):
        services.do_hold_bed(desk, cardiology.pk, chen, expected_on=DAY, up_referral=False)
    assert BedBooking.objects.filter(resident=chen).count() == 1
    services.do_move_bed(desk, held.pk, BedStatus.CANCELLED, reason="改住内科")
    moved = services.do_hold_bed(desk, medicine.pk, chen, expected_on=DAY, up_referral=False)
    assert moved.department_id == medicine.pk


def test_a_lapsed_hold_no_longer_takes_a_bed(world: Any, actor_for: Any, frozen: Any) -> None:
    """A hold whose patient has not come by the day after the expected day (the policy's
    scheduling.bed_hold_grace_days = 1) frees its bed and no longer blocks the patient; it is
    admitted later only if a bed of its pool is free."""
    from yigongti.organizations.models import Department

    frozen(at(3, 1))
    ward = world.lead_hospital.departments.get(code="XNK")
    Department.objects.filter(pk=ward.pk).update(beds=4)  # 1 reserved (⌈4/4⌉), 3 public
    desk = actor_for("cardiologist")
    chen, zhang = world.residents["town_resident"], world.residents["elderly_patient"]
    late = services.do_hold_bed(desk, ward.pk, chen, expected_on=at(3, 2).date(), up_referral=True)
    assert late.pool == Pool.RESERVED
    frozen(at(3, 3))  # the day after the expected day: still held
    assert services.bed_usage(Department.objects.get(pk=ward.pk)) == {"reserved": 1, "public": 0}
    frozen(at(3, 4))  # lapsed
    ward = Department.objects.get(pk=ward.pk)
    assert services.bed_usage(ward) == {"reserved": 0, "public": 0}
    other = services.do_hold_bed(
        actor_for("family_doctor"), ward.pk, zhang, expected_on=at(3, 4).date(), up_referral=True
    )
    assert other.pool == Pool.RESERVED  # the lapsed hold's reserved bed
    with pytest.raises(DomainError, match="该预留已逾期未入院，基层预留床位已满，不能入院"):
        services.do_move_bed(desk, late.pk, BedStatus.ADMITTED)
    # not held again on this ward while the lapsed hold stands; another ward takes them
    with pytest.raises(DomainError, match="该居民在本病区有逾期未入院的床位预留"):
        services.do_hold_bed(desk, ward.pk, chen, expected_on=at(3, 5).date(), up_referral=False)
    medicine = world.lead_hospital.departments.get(code="NEI")
    again = services.do_hold_bed(
        desk, medicine.pk, chen, expected_on=at(3, 5).date(), up_referral=False
    )
    assert (again.pool, BedBooking.objects.get(pk=late.pk).status) == (Pool.PUBLIC, BedStatus.HELD)


def test_children_only_in_paediatrics_and_women_only_in_obstetrics(
    world: Any, actor_for: Any, frozen: Any
) -> None:
    """儿科 sees residents up to 14 on the session day (scheduling.child_max_age), 妇产科 sees
    women: 张德福 (74 that day, a man) is refused in both, in Chinese, with nothing booked."""
    frozen(at(2, 20))
    paediatrics = publish(world, actor_for, "ERK", "pm")
    obstetrics = publish(world, actor_for, "FUC", "pm")
    child = _resident(world, "43990120111209001", "李小宝")  # boy, 14 on 2026-03-09
    grown = _resident(world, "43990120110309001", "李大宝")  # boy, 15 that day
    mother = _resident(world, "43990119900101002", "王秀英")  # woman
    zhang = world.residents["elderly_patient"]
    desk = actor_for("cardiologist")
    frozen(at(3, 2, 15))  # the afternoon's public slots are open
    with pytest.raises(
        DomainError, match=r"：儿科只接诊 14 周岁及以下的患者，该居民 74 岁，请改约其他科室$"
    ):
        do_book_slot(desk, paediatrics.pk, zhang)
    with pytest.raises(DomainError, match="该居民 15 岁"):
        do_book_slot(desk, paediatrics.pk, grown)
    with pytest.raises(DomainError, match=r"：妇产科只接诊女性患者，请改约其他科室$"):
        do_book_slot(desk, obstetrics.pk, zhang)
    assert Booking.objects.count() == 0
    assert do_book_slot(desk, paediatrics.pk, child).schedule_id == paediatrics.pk
    assert do_book_slot(desk, obstetrics.pk, mother).schedule_id == obstetrics.pk
    assert Booking.objects.count() == 2


def test_a_resident_is_in_one_consulting_room_at_a_time(
    session: Any, world: Any, actor_for: Any, frozen: Any
) -> None:
    """张德福 booked at 08:20 in 心血管内科 gets 内科's next reserved slot that does not clash
    (08:50), and 外科, whose reserved slots clash with both, is refused."""
    frozen(at(2, 20))
    neike, waike = publish(world, actor_for, "NEI"), publish(world, actor_for, "WAI")
    zhang = world.residents["elderly_patient"]
    doctor = actor_for("family_doctor")
    frozen(at(2, 23, 8, 0))
    first = do_book_slot(doctor, session.pk, zhang)
    assert (first.slot.seq, first.slot.starts_at) == (3, at(3, 9, 8, 20))
    second = do_book_slot(doctor, neike.pk, zhang)
    assert (second.slot.seq, second.slot.starts_at) == (6, at(3, 9, 8, 50))
    with pytest.raises(DomainError, match="该居民在本时段已有其他科室的预约"):
        do_book_slot(doctor, waike.pk, zhang)
    assert Booking.objects.filter(resident=zhang).count() == 2
    # a cancelled booking no longer holds its time
    services.do_cancel_booking(doctor, first.pk, "改约")
    assert do_book_slot(doctor, waike.pk, zhang).slot.seq == 3


def test_clashes() -> None:
    from yigongti.scheduling.rules import clashes

    t = dt.datetime(2026, 3, 9, 8, 0, tzinfo=dt.UTC)
    ten = dt.timedelta(minutes=10)
    assert clashes(t, t + ten, [(t + ten / 2, t + 2 * ten)])
    assert not clashes(t, t + ten, [(t + ten, t + 2 * ten)])  # back to back is fine
    assert not clashes(t, t + ten, [])
