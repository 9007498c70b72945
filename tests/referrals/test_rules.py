"""Referral rules: every transition allowed and refused, timers, green channel, insurance."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yigongti.core.rules import DEFAULT_PARAMETERS
from yigongti.referrals import rules
from yigongti.referrals.choices import Direction, Level, Status, Urgency

S = Status
R, T, Y = rules.RECEIVER, rules.SENDER, rules.SYSTEM

ALLOWED: dict[tuple[str, str], set[str]] = {
    (S.DRAFT, S.SUBMITTED): {T},
    (S.SUBMITTED, S.RECEIVED): {R},
    (S.SUBMITTED, S.ACCEPTED): {R, Y},
    (S.RECEIVED, S.ACCEPTED): {R},
    (S.ACCEPTED, S.SCHEDULED): {T, R},
    (S.ACCEPTED, S.ARRIVED): {R},
    (S.SCHEDULED, S.ARRIVED): {R},
    (S.ARRIVED, S.IN_TREATMENT): {R},
    (S.ARRIVED, S.COMPLETED): {R},
    (S.IN_TREATMENT, S.COMPLETED): {R},
    (S.COMPLETED, S.RETURNED): {R},
    (S.COMPLETED, S.CLOSED): {T, R},
    (S.RETURNED, S.CLOSED): {T, R},
    (S.SUBMITTED, S.REJECTED): {R},
    (S.RECEIVED, S.REJECTED): {R},
    (S.SUBMITTED, S.EXPIRED): {Y},
    (S.RECEIVED, S.EXPIRED): {Y},
    (S.ACCEPTED, S.NO_SHOW): {Y, R},
    (S.SCHEDULED, S.NO_SHOW): {Y, R},
    (S.DRAFT, S.CANCELLED): {T, R},
    (S.SUBMITTED, S.CANCELLED): {T, R},
    (S.RECEIVED, S.CANCELLED): {T, R},
    (S.ACCEPTED, S.CANCELLED): {T, R},
    (S.SCHEDULED, S.CANCELLED): {T, R},
}


@pytest.mark.parametrize(
    ("current", "wanted", "side"), list(product(S.values, S.values, (T, R, Y)))
)
def test_every_transition(current: str, wanted: str, side: str) -> None:
    """All 14 × 14 × 3 combinations: allowed exactly where the table says so."""
    refusal = rules.move_refusal(current, wanted, side, reason="原因")
    sides = ALLOWED.get((current, wanted))
    if sides is None:
        assert refusal.startswith("转诊单当前为“")
    elif side in sides:
        assert refusal == ""
    else:
        assert refusal.startswith(f"“{dict(S.choices)[wanted]}”只能由")


def test_final_states_have_no_way_out() -> None:
    for final in rules.FINAL:
        assert not [k for k in rules.MOVES if k[0] == final]


@pytest.mark.parametrize("wanted", [S.REJECTED, S.CANCELLED])
def test_reason_required(wanted: str) -> None:
    assert rules.move_refusal(S.SUBMITTED, wanted, R, "  ") == "拒绝或取消转诊须填写原因"
    assert rules.move_refusal(S.SUBMITTED, wanted, R, "床位已满") == ""


def test_refusal_texts() -> None:
    assert rules.move_refusal(S.CLOSED, S.SUBMITTED, T) == (
        "转诊单当前为“已关闭（随访已确认）”，不能改为“已提交”"
    )
    assert rules.move_refusal(S.SUBMITTED, S.ACCEPTED, T) == "“已同意”只能由接收方、系统操作"


SUBMITTED = dt.datetime(2026, 3, 2, 9, 30)


@pytest.mark.parametrize(
    ("urgency", "deadline"),
    [
        (Urgency.ROUTINE, dt.datetime(2026, 3, 3, 9, 30)),
        (Urgency.URGENT, dt.datetime(2026, 3, 2, 15, 30)),
        (Urgency.EMERGENCY, SUBMITTED),
    ],
)
def test_acceptance_deadline(urgency: str, deadline: dt.datetime) -> None:
    assert rules.acceptance_deadline(SUBMITTED, urgency, 24) == deadline


def test_timers() -> None:
    deadline = dt.datetime(2026, 3, 3, 9, 30)
    assert not rules.is_overdue(S.SUBMITTED, deadline, deadline)
    assert rules.is_overdue(S.SUBMITTED, deadline, deadline + dt.timedelta(seconds=1))
    assert rules.is_overdue(S.RECEIVED, deadline, deadline + dt.timedelta(hours=1))
    assert not rules.is_overdue(S.ACCEPTED, deadline, deadline + dt.timedelta(days=9))
    slot = dt.datetime(2026, 3, 9, 8, 20)
    assert not rules.is_no_show(S.SCHEDULED, slot, slot + dt.timedelta(hours=48), 48)
    assert rules.is_no_show(S.SCHEDULED, slot, slot + dt.timedelta(hours=48, seconds=1), 48)
    assert rules.is_no_show(S.ACCEPTED, slot, slot + dt.timedelta(days=3), 48)
    assert not rules.is_no_show(S.ARRIVED, slot, slot + dt.timedelta(days=3), 48)
    assert not rules.is_no_show(S.ACCEPTED, None, slot, 48)
    assert rules.follow_up_due(dt.date(2026, 2, 24), 14) == dt.date(2026, 3, 10)


def test_green_channel() -> None:
    four = ["免挂号费", "优先接诊", "优先检查", "优先住院"]
    assert rules.green_channel(Direction.UP, True, four) == four
    assert rules.green_channel(Direction.UP, False, four) == []
    assert rules.green_channel(Direction.DOWN, True, four) == []


@pytest.mark.parametrize(
    ("direction", "from_g", "to_g", "refusal"),
    [
        (Direction.UP, True, False, ""),
        (Direction.UP, False, False, "上转应由基层医疗卫生机构转往县级医院"),
        (Direction.UP, True, True, "上转应由基层医疗卫生机构转往县级医院"),
        (Direction.DOWN, False, True, ""),
        (Direction.DOWN, True, True, "下转应由县级医院转往基层医疗卫生机构"),
        (Direction.OUT, False, None, ""),
        (Direction.OUT, True, None, ""),
        (Direction.OUT, False, False, "转县外的接收机构应填写县外医院名称，不选县域内机构"),
    ],
)
def test_direction_allowed(direction: str, from_g: bool, to_g: bool | None, refusal: str) -> None:
    assert rules.direction_allowed(direction, from_g, to_g) == refusal


TABLE = next(p for p in DEFAULT_PARAMETERS if p.key == rules.RATE_TABLE_KEY).value
D = Decimal


def test_benefit_table_is_complete() -> None:
    for insurance, level, referred in product(
        ("resident", "employee"), Level.values, (True, False)
    ):
        assert rules.benefit(TABLE, insurance, level, referred).rate > 0
    with pytest.raises(ValueError, match="报销政策表没有“none/county/转诊”一行"):
        rules.benefit(TABLE, "none", "county", True)


@pytest.mark.parametrize(
    ("direction", "this", "paid", "continuous", "due"),
    [
        (Direction.UP, D("500"), D("200"), True, D("300")),  # only the difference
        (Direction.UP, D("500"), D("600"), True, D("0")),
        (Direction.UP, D("500"), D("200"), False, D("500")),
        (Direction.DOWN, D("200"), D("500"), True, D("0")),  # no new deductible going down
        (Direction.DOWN, D("200"), D("0"), False, D("200")),
    ],
)
def test_deductible_due(
    direction: str, this: Decimal, paid: Decimal, continuous: bool, due: Decimal
) -> None:
    assert rules.deductible_due(direction, this, paid, continuous=continuous) == due


def test_up_referral_to_the_county_hospital_costs_less() -> None:
    """张德福 (城乡居民) paid ¥200 at the township; a ¥10,000 stay at the county hospital:
    with referral 300 deductible + (9,700 × 20%) = 2,240; without, 500 + 9,500 × 20% = 2,400."""
    with_ref, without = rules.compare_referral(
        TABLE,
        insurance_type="resident",
        direction=Direction.UP,
        from_level=Level.GRASSROOTS,
        to_level=Level.COUNTY,
        total=D("10000"),
        paid_in_episode=D("200"),
    )
    assert (with_ref.deductible, with_ref.fund, with_ref.personal) == (
        D("300.00"),
        D("7760.00"),
        D("2240.00"),
    )
    assert (without.deductible, without.fund, without.personal) == (
        D("500.00"),
        D("7600.00"),
        D("2400.00"),
    )


def test_unreferred_city_stay_loses_ten_points() -> None:
    with_ref, without = rules.compare_referral(
        TABLE,
        insurance_type="resident",
        direction=Direction.OUT,
        from_level=Level.COUNTY,
        to_level=Level.CITY,
        total=D("30000"),
        paid_in_episode=D("500"),
    )
    # with: 1000 − 500 = 500 deductible; 29,500 × 65% = 19,175.00 → personal 10,825.00
    assert (with_ref.fund, with_ref.personal) == (D("19175.00"), D("10825.00"))
    # without: 1000 deductible; 29,000 × 55% = 15,950.00 → personal 14,050.00
    assert (without.fund, without.personal) == (D("15950.00"), D("14050.00"))


def test_down_referral_no_new_deductible_and_cap() -> None:
    with_ref, _ = rules.compare_referral(
        TABLE,
        insurance_type="resident",
        direction=Direction.DOWN,
        from_level=Level.COUNTY,
        to_level=Level.GRASSROOTS,
        total=D("1000"),
        paid_in_episode=D("500"),
    )
    assert (with_ref.deductible, with_ref.fund, with_ref.personal) == (
        D("0.00"),
        D("900.00"),
        D("100.00"),
    )
    capped = rules.estimate(D("500000"), rules.Benefit(D("500"), D("0.8"), D("150000")), D("500"))
    assert (capped.fund, capped.personal) == (D("150000.00"), D("350000.00"))
    with pytest.raises(ValueError, match="费用不能为负数"):
        rules.estimate(D("-1"), rules.Benefit(D("0"), D("0.8"), None), D("0"))


@given(
    st.decimals(min_value=0, max_value=1_000_000, places=2),
    st.decimals(min_value=0, max_value=3000, places=2),
    st.decimals(min_value=0, max_value=1, places=2),
)
def test_estimate_parts_add_up(total: Decimal, deductible: Decimal, rate: Decimal) -> None:
    e = rules.estimate(total, rules.Benefit(deductible, rate, None), deductible)
    assert e.fund + e.personal == total
    assert 0 <= e.fund <= total and e.deductible <= total


@pytest.mark.parametrize(
    ("days", "pair", "checked"),
    [
        (10, False, True),
        (28, False, True),
        (29, False, False),
        (10, True, False),
        (-1, False, False),
    ],
)
def test_readmission_check(days: int, pair: bool, checked: bool) -> None:
    assert rules.readmission_checked(days, pair, 28) is checked
