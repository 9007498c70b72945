"""Pool rules: shares, slot split, release times, bookable pools, booking moves, beds."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yigongti.scheduling import rules
from yigongti.scheduling.choices import BookingStatus, Channel, Pool

R, P = Pool.RESERVED, Pool.PUBLIC
G, U = Channel.GRASSROOTS, Channel.PUBLIC


@pytest.mark.parametrize(
    ("text", "share"),
    [("1/3", Fraction(1, 3)), ("0.25", Fraction(1, 4)), (0, Fraction(0)), ("1", Fraction(1))],
)
def test_parse_share(text: object, share: Fraction) -> None:
    assert rules.parse_share(text) == share


@pytest.mark.parametrize(
    ("text", "message"),
    [("三分之一", "无法识别"), ("1/0", "无法识别"), ("4/3", "应在 0 与 1 之间"), ("-0.1", "应在")],
)
def test_parse_share_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rules.parse_share(text)


@pytest.mark.parametrize(
    ("total", "reserved"), [(30, 10), (31, 11), (1, 1), (2, 1), (3, 1), (4, 2), (0, 0)]
)
def test_at_least_a_third_rounds_up(total: int, reserved: int) -> None:
    assert rules.reserved_count(total, Fraction(1, 3)) == reserved


def test_slot_pools_spread_the_reserved_slots() -> None:
    assert rules.slot_pools(6, 2) == [P, P, R, P, P, R]
    assert rules.slot_pools(3, 1) == [P, P, R]
    assert rules.slot_pools(4, 4) == [R, R, R, R]
    assert rules.slot_pools(5, 0) == [P] * 5
    with pytest.raises(ValueError, match="预留号源数"):
        rules.slot_pools(3, 4)


@given(st.integers(1, 200), st.data())
def test_slot_pools_count_and_spread(total: int, data: st.DataObject) -> None:
    reserved = data.draw(st.integers(0, total))
    pools = rules.slot_pools(total, reserved)
    assert len(pools) == total
    assert pools.count(R) == reserved
    # every prefix holds its proportional share, give or take one slot
    for i in range(1, total + 1):
        assert abs(pools[:i].count(R) - i * reserved / total) < 1


def test_slot_times() -> None:
    day = dt.date(2026, 3, 9)
    times = rules.slot_times(dt.time(8, 0), dt.time(9, 0), 4, day)
    assert [(a.strftime("%H:%M"), b.strftime("%H:%M")) for a, b in times] == [
        ("08:00", "08:15"),
        ("08:15", "08:30"),
        ("08:30", "08:45"),
        ("08:45", "09:00"),
    ]
    with pytest.raises(ValueError, match="结束时间应晚于开始时间"):
        rules.slot_times(dt.time(9, 0), dt.time(8, 0), 4, day)
    with pytest.raises(ValueError, match="号源数应在 1 与 200 之间"):
        rules.slot_times(dt.time(8, 0), dt.time(9, 0), 0, day)
    with pytest.raises(ValueError, match="至少 1 分钟"):
        rules.slot_times(dt.time(8, 0), dt.time(8, 30), 31, day)


STARTS = dt.datetime(2026, 3, 9, 8, 0)
TIMES = rules.release_times(STARTS, public_days=7, lead_days=7, cutoff_hours=24)


def test_release_times() -> None:
    assert TIMES.public_opens == dt.datetime(2026, 3, 2, 8, 0)
    assert TIMES.reserved_opens == dt.datetime(2026, 2, 23, 8, 0)
    assert TIMES.cutoff == dt.datetime(2026, 3, 8, 8, 0)
    # a cut-off before the public opening is moved to the opening
    late = rules.release_times(STARTS, public_days=0, lead_days=1, cutoff_hours=24)
    assert late.cutoff == late.public_opens == STARTS
    with pytest.raises(ValueError, match="不能为负数"):
        rules.release_times(STARTS, public_days=-1, lead_days=0, cutoff_hours=0)


@pytest.mark.parametrize(
    ("channel", "now", "pools"),
    [
        (G, dt.datetime(2026, 2, 23, 7, 59), ()),
        (G, dt.datetime(2026, 2, 23, 8, 0), (R,)),
        (U, dt.datetime(2026, 2, 23, 8, 0), ()),
        (G, dt.datetime(2026, 3, 2, 8, 0), (R, P)),
        (U, dt.datetime(2026, 3, 2, 8, 0), (P,)),
        (U, dt.datetime(2026, 3, 8, 7, 59), (P,)),
        (G, dt.datetime(2026, 3, 8, 8, 0), (R, P)),
        # leftovers returned to the public, taken after its own slots
        (U, dt.datetime(2026, 3, 8, 8, 0), (P, R)),
        (G, dt.datetime(2026, 3, 9, 8, 0), ()),  # the session started
        (U, dt.datetime(2026, 3, 9, 9, 0), ()),
    ],
)
def test_bookable_pools(channel: str, now: dt.datetime, pools: tuple[str, ...]) -> None:
    assert rules.bookable_pools(channel, now, TIMES) == pools


def test_booking_refusal_says_when() -> None:
    assert rules.booking_refusal(G, dt.datetime(2026, 2, 1), TIMES) == (
        "号源尚未开放：基层预留号源于 02月23日 08:00 开放"
    )
    assert rules.booking_refusal(U, dt.datetime(2026, 2, 1), TIMES) == (
        "号源尚未开放：公众号源于 03月02日 08:00 开放（基层预留号源未用部分于 03月08日 08:00 转为公众号源）"
    )
    assert rules.booking_refusal(U, STARTS, TIMES) == "该时段已开始或已结束，不能再预约"


SLOT = dt.datetime(2026, 3, 9, 8, 30)


@pytest.mark.parametrize(
    ("current", "wanted", "now", "reason", "refusal"),
    [
        (BookingStatus.BOOKED, BookingStatus.CANCELLED, SLOT - dt.timedelta(minutes=1), "改期", ""),
        (
            BookingStatus.BOOKED,
            BookingStatus.CANCELLED,
            SLOT - dt.timedelta(minutes=1),
            " ",
            "取消预约须填写原因",
        ),
        (
            BookingStatus.BOOKED,
            BookingStatus.CANCELLED,
            SLOT,
            "改期",
            "就诊时间已到，不能取消；未到诊请登记爽约",
        ),
        (BookingStatus.BOOKED, BookingStatus.NO_SHOW, SLOT + dt.timedelta(minutes=30), "", ""),
        (
            BookingStatus.BOOKED,
            BookingStatus.NO_SHOW,
            SLOT + dt.timedelta(minutes=29),
            "",
            "就诊时间后 30 分钟内不能登记爽约",
        ),
        (BookingStatus.BOOKED, BookingStatus.ATTENDED, SLOT - dt.timedelta(hours=1), "", ""),
        (
            BookingStatus.BOOKED,
            BookingStatus.ATTENDED,
            SLOT - dt.timedelta(days=2),
            "",
            "尚未到就诊日，不能登记到诊",
        ),
        (
            BookingStatus.CANCELLED,
            BookingStatus.BOOKED,
            SLOT,
            "",
            "预约当前为“已取消”，不能改为“已预约”",
        ),
        (
            BookingStatus.ATTENDED,
            BookingStatus.NO_SHOW,
            SLOT + dt.timedelta(hours=2),
            "",
            "预约当前为“已到诊”，不能改为“爽约”",
        ),
        (
            BookingStatus.NO_SHOW,
            BookingStatus.CANCELLED,
            SLOT - dt.timedelta(hours=2),
            "x",
            "预约当前为“爽约”，不能改为“已取消”",
        ),
    ],
)
def test_booking_moves(
    current: str, wanted: str, now: dt.datetime, reason: str, refusal: str
) -> None:
    assert (
        rules.booking_move_refusal(
            current, wanted, now=now, slot_starts=SLOT, grace_minutes=30, reason=reason
        )
        == refusal
    )


def test_beds() -> None:
    capacity = rules.bed_capacity(60, Fraction(1, 4))
    assert capacity == {R: 15, P: 45}
    assert rules.bed_capacity(7, Fraction(1, 4)) == {R: 2, P: 5}
    assert rules.choose_bed_pool(True, capacity, {R: 14, P: 45}) == R
    assert rules.choose_bed_pool(True, capacity, {R: 15, P: 44}) == P
    assert rules.choose_bed_pool(True, capacity, {R: 15, P: 45}) is None
    assert rules.choose_bed_pool(False, capacity, {R: 0, P: 45}) is None
    assert rules.choose_bed_pool(False, capacity, {R: 0, P: 44}) == P


TOTAL = {R: 2, P: 4}


@pytest.mark.parametrize(
    ("channel", "now", "is_open", "taken", "expected"),
    [
        (
            G,
            dt.datetime(2026, 2, 1),
            True,
            {},
            (
                {R: 2, P: 4},
                (),
                False,
                "号源尚未开放：基层预留号源于 02月23日 08:00 开放",
                TIMES.reserved_opens,
            ),
        ),
        (
            U,
            dt.datetime(2026, 2, 23, 8, 0),
            True,
            {},
            (
                {R: 2, P: 4},
                (),
                False,
                "号源尚未开放：公众号源于 03月02日 08:00 开放（基层预留号源未用部分于 03月08日 08:00 转为公众号源）",
                TIMES.public_opens,
            ),
        ),
        (G, dt.datetime(2026, 2, 23, 8, 0), True, {R: 1}, ({R: 1, P: 4}, (R,), True, "", None)),
        # the reserved pool is full and the public one not yet open to anyone
        (
            G,
            dt.datetime(2026, 2, 24),
            True,
            {R: 2},
            (
                {R: 0, P: 4},
                (R,),
                False,
                "可预约号源已约满；公众号源于 03月02日 08:00 开放",
                TIMES.public_opens,
            ),
        ),
        (G, dt.datetime(2026, 3, 3), True, {R: 2}, ({R: 0, P: 4}, (R, P), True, "", None)),
        (
            U,
            dt.datetime(2026, 3, 3),
            True,
            {P: 4},
            (
                {R: 2, P: 0},
                (P,),
                False,
                "可预约号源已约满；基层预留号源未用部分于 03月08日 08:00 转为公众号源",
                TIMES.cutoff,
            ),
        ),
        (U, dt.datetime(2026, 3, 8, 8), True, {P: 4}, ({R: 2, P: 0}, (P, R), True, "", None)),
        (
            G,
            STARTS,
            True,
            {},
            ({R: 2, P: 4}, (), False, "该时段已开始或已结束，不能再预约", None),
        ),
        (G, dt.datetime(2026, 3, 3), False, {R: 1}, ({R: 1, P: 4}, (), False, "已停诊", None)),
        # more live bookings than slots (never by the services) shows zero, not a negative
        (
            U,
            dt.datetime(2026, 3, 8, 9),
            True,
            {R: 2, P: 5},
            ({R: 0, P: 0}, (P, R), False, "可预约号源已约满", None),
        ),
    ],
)
def test_availability(
    channel: str,
    now: dt.datetime,
    is_open: bool,
    taken: dict[str, int],
    expected: tuple[object, ...],
) -> None:
    seen = rules.availability(channel, now, TIMES, is_open=is_open, total=TOTAL, taken=taken)
    assert (seen.free, seen.pools, seen.can_book, seen.refusal, seen.opens_at) == expected


@pytest.mark.parametrize(
    ("role", "publish", "book", "hospital"),
    [
        ("county_admin", True, True, True),
        ("centre_staff", True, False, False),
        ("institution_admin", True, True, True),
        ("doctor", False, True, True),
        ("family_doctor", False, True, False),
        ("village_doctor", False, True, False),
        ("public_health", False, False, False),
        ("pharmacist", False, False, False),
        ("insurance_reviewer", False, False, False),
        ("auditor", False, False, False),
    ],
)
def test_roles(role: str, publish: bool, book: bool, hospital: bool) -> None:
    assert (rules.can_publish(role), rules.can_book(role), rules.can_work_hospital_side(role)) == (
        publish,
        book,
        hospital,
    )


def test_patient_refusal_by_department_group() -> None:
    from yigongti.organizations.choices import PatientGroup

    def refusal(group: str, sex: str, age: int) -> str:
        return rules.patient_refusal("儿科", group, sex=sex, age=age, child_max_age=14)

    assert refusal(PatientGroup.CHILDREN, "M", 14) == ""
    assert refusal(PatientGroup.CHILDREN, "F", 0) == ""
    assert refusal(PatientGroup.CHILDREN, "M", 15) == (
        "儿科只接诊 14 周岁及以下的患者，该居民 15 岁，请改约其他科室"
    )
    assert refusal(PatientGroup.WOMEN, "F", 40) == ""
    assert refusal(PatientGroup.WOMEN, "M", 40) == "儿科只接诊女性患者，请改约其他科室"


def test_patients_note_says_whom_a_department_sees() -> None:
    from yigongti.organizations.choices import PatientGroup

    assert (
        rules.patients_note(PatientGroup.CHILDREN, child_max_age=14) == "仅接诊 14 周岁及以下患者"
    )
    assert (
        rules.patients_note(PatientGroup.CHILDREN, child_max_age=17) == "仅接诊 17 周岁及以下患者"
    )
    assert rules.patients_note(PatientGroup.WOMEN, child_max_age=14) == "仅接诊女性患者"
    assert rules.patients_note(PatientGroup.ALL, child_max_age=14) == ""


@given(st.sampled_from(["M", "F"]), st.integers(0, 120), st.integers(0, 18))
def test_a_department_for_all_refuses_nobody(sex: str, age: int, limit: int) -> None:
    from yigongti.organizations.choices import PatientGroup

    assert (
        rules.patient_refusal("内科", PatientGroup.ALL, sex=sex, age=age, child_max_age=limit) == ""
    )


def test_a_hold_lapses_after_its_grace_days() -> None:
    day = dt.date(2026, 3, 9)
    assert rules.hold_lapsed("held", day, day, 1) is False
    assert rules.hold_lapsed("held", day, day + dt.timedelta(days=1), 1) is False
    assert rules.hold_lapsed("held", day, day + dt.timedelta(days=2), 1) is True
    assert rules.hold_lapsed("held", day, day + dt.timedelta(days=1), 0) is True
    assert rules.hold_lapsed("admitted", day, day + dt.timedelta(days=300), 1) is False
    assert rules.hold_lapsed("held", None, day, 1) is False


@given(st.integers(0, 400), st.integers(0, 30), st.sampled_from(["admitted", "released"]))
def test_only_holds_lapse(days_late: int, grace: int, status: str) -> None:
    day = dt.date(2026, 1, 1)
    later = day + dt.timedelta(days=days_late)
    assert rules.hold_lapsed(status, day, later, grace) is False
    assert rules.hold_lapsed("held", day, later, grace) is (days_late > grace)


def test_beds_used_leaves_out_lapsed_holds() -> None:
    day = dt.date(2026, 3, 9)
    beds = [
        ("reserved", "held", day),  # lapsed on 3-11 with a day's grace
        ("reserved", "admitted", day),
        ("public", "held", dt.date(2026, 3, 10)),
    ]
    assert rules.beds_used(beds, dt.date(2026, 3, 10), 1) == {"reserved": 2, "public": 1}
    assert rules.beds_used(beds, dt.date(2026, 3, 11), 1) == {"reserved": 1, "public": 1}
    assert rules.beds_used([], day, 1) == {"reserved": 0, "public": 0}
