"""Pure rules of two-way referral: the state machine, its timers, the green channel and
insurance continuity (no ORM, no clock: time and policy values are passed in).

Sources: the state machine and timers, reference/domain-rules.md §3.3 [I]; 一免三优先, seed 002
[V]; continuous deductible and the rate table, domain-rules.md §3.4 [M] (county-specific, so
policy parameters); the 28-day readmission exemption for referral pairs, domain-rules.md §3.3
(长沙 rule [V]).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from yigongti.referrals.choices import Direction, Level, Status, Urgency

SENDER, RECEIVER, SYSTEM = "sender", "receiver", "system"
CENT = Decimal("0.01")

ACCEPT_HOURS_KEY = "referrals.acceptance_hours"
NO_SHOW_HOURS_KEY = "referrals.no_show_hours"
FOLLOW_UP_UP_DAYS_KEY = "referrals.follow_up_days_after_up"
FOLLOW_UP_DOWN_DAYS_KEY = "referrals.follow_up_days_after_down"
GREEN_CHANNEL_KEY = "referrals.green_channel_benefits"
RATE_TABLE_KEY = "insurance.inpatient_benefit_table"
READMISSION_DAYS_KEY = "insurance.readmission_check_days"

# (from, to) → who may make the move. Everything else is refused.
MOVES: dict[tuple[str, str], frozenset[str]] = {
    (Status.DRAFT, Status.SUBMITTED): frozenset({SENDER}),
    (Status.SUBMITTED, Status.RECEIVED): frozenset({RECEIVER}),
    (Status.SUBMITTED, Status.ACCEPTED): frozenset({RECEIVER, SYSTEM}),
    (Status.RECEIVED, Status.ACCEPTED): frozenset({RECEIVER}),
    (Status.ACCEPTED, Status.SCHEDULED): frozenset({SENDER, RECEIVER}),
    (Status.ACCEPTED, Status.ARRIVED): frozenset({RECEIVER}),
    (Status.SCHEDULED, Status.ARRIVED): frozenset({RECEIVER}),
    (Status.ARRIVED, Status.IN_TREATMENT): frozenset({RECEIVER}),
    (Status.ARRIVED, Status.COMPLETED): frozenset({RECEIVER}),
    (Status.IN_TREATMENT, Status.COMPLETED): frozenset({RECEIVER}),
    (Status.COMPLETED, Status.RETURNED): frozenset({RECEIVER}),
    (Status.COMPLETED, Status.CLOSED): frozenset({SENDER, RECEIVER}),
    (Status.RETURNED, Status.CLOSED): frozenset({SENDER, RECEIVER}),
    (Status.SUBMITTED, Status.REJECTED): frozenset({RECEIVER}),
    (Status.RECEIVED, Status.REJECTED): frozenset({RECEIVER}),
    (Status.SUBMITTED, Status.EXPIRED): frozenset({SYSTEM}),
    (Status.RECEIVED, Status.EXPIRED): frozenset({SYSTEM}),
    (Status.ACCEPTED, Status.NO_SHOW): frozenset({SYSTEM, RECEIVER}),
    (Status.SCHEDULED, Status.NO_SHOW): frozenset({SYSTEM, RECEIVER}),
    **{
        (before, Status.CANCELLED): frozenset({SENDER, RECEIVER})
        for before in (
            Status.DRAFT,
            Status.SUBMITTED,
            Status.RECEIVED,
            Status.ACCEPTED,
            Status.SCHEDULED,
        )
    },
}
NEEDS_REASON = frozenset({Status.REJECTED, Status.CANCELLED})
FINAL = frozenset(
    {Status.CLOSED, Status.REJECTED, Status.EXPIRED, Status.CANCELLED, Status.NO_SHOW}
)
# While a referral is in one of these, the receiving institution may read the record.
OPEN = frozenset(
    {
        Status.SUBMITTED,
        Status.RECEIVED,
        Status.ACCEPTED,
        Status.SCHEDULED,
        Status.ARRIVED,
        Status.IN_TREATMENT,
        Status.COMPLETED,
        Status.RETURNED,
    }
)
SIDE_LABELS = {SENDER: "转出方", RECEIVER: "接收方", SYSTEM: "系统"}


def move_refusal(current: str, wanted: str, side: str, reason: str = "") -> str:
    """Why ``side`` may not move a referral from ``current`` to ``wanted`` ("" when it may)."""
    labels = dict(Status.choices)
    sides = MOVES.get((current, wanted))
    if sides is None:
        return (
            f"转诊单当前为“{labels.get(current, current)}”，不能改为“{labels.get(wanted, wanted)}”"
        )
    if side not in sides:
        who = "、".join(SIDE_LABELS[s] for s in sorted(sides))
        return f"“{labels[wanted]}”只能由{who}操作"
    if wanted in NEEDS_REASON and not reason.strip():
        return "拒绝或取消转诊须填写原因"
    return ""


def acceptance_deadline(submitted_at: dt.datetime, urgency: str, routine_hours: int) -> dt.datetime:
    """Routine and urgent referrals must be accepted within the policy's hours; an emergency
    is accepted on submission (急危重症先救治，电话先行), so its deadline is the submission."""
    if urgency == Urgency.EMERGENCY:
        return submitted_at
    hours = routine_hours if urgency == Urgency.ROUTINE else max(1, routine_hours // 4)
    return submitted_at + dt.timedelta(hours=hours)


def is_overdue(status: str, deadline: dt.datetime | None, now: dt.datetime) -> bool:
    """Not yet accepted when the acceptance deadline has passed."""
    return status in (Status.SUBMITTED, Status.RECEIVED) and deadline is not None and now > deadline


def is_no_show(
    status: str, appointment: dt.datetime | None, now: dt.datetime, window_hours: int
) -> bool:
    """Accepted or scheduled, and the patient has not arrived within the window after the
    appointment (the booked slot or the expected admission)."""
    return (
        status in (Status.ACCEPTED, Status.SCHEDULED)
        and appointment is not None
        and now > appointment + dt.timedelta(hours=window_hours)
    )


def follow_up_due(start: dt.date, days: int) -> dt.date:
    return start + dt.timedelta(days=days)


def green_channel(
    direction: str, by_contracted_family_doctor: bool, benefits: Iterable[str]
) -> list[str]:
    """一免三优先 for a patient up-referred by their own contracted family doctor (seed 002)."""
    return list(benefits) if direction == Direction.UP and by_contracted_family_doctor else []


def direction_allowed(direction: str, from_grassroots: bool, to_grassroots: bool | None) -> str:
    """Refusal text when the institutions do not fit the direction ("" when they do)."""
    if direction == Direction.UP and not (from_grassroots and to_grassroots is False):
        return "上转应由基层医疗卫生机构转往县级医院"
    if direction == Direction.DOWN and not (not from_grassroots and to_grassroots):
        return "下转应由县级医院转往基层医疗卫生机构"
    if direction == Direction.OUT and to_grassroots is not None:
        return "转县外的接收机构应填写县外医院名称，不选县域内机构"
    return ""


# Insurance continuity ------------------------------------------------------------------------


@dataclass(frozen=True)
class Benefit:
    """What the fund pays for one stay: the deductible (起付线), the rate above it, a cap."""

    deductible: Decimal
    rate: Decimal
    cap: Decimal | None


def benefit(
    table: Iterable[Mapping[str, object]], insurance_type: str, level: str, referred: bool
) -> Benefit:
    """The row of the policy table for (insurance type, level, referral status)."""
    for row in table:
        if (
            row["insurance"] == insurance_type
            and row["level"] == level
            and bool(row["referred"]) == referred
        ):
            cap = row.get("cap")
            return Benefit(
                Decimal(str(row["deductible"])),
                Decimal(str(row["rate"])),
                Decimal(str(cap)) if cap not in (None, "") else None,
            )
    raise ValueError(
        f"报销政策表没有“{insurance_type}/{level}/{'转诊' if referred else '未转诊'}”一行"
    )


def deductible_due(
    direction: str, this_level: Decimal, paid_in_episode: Decimal, *, continuous: bool
) -> Decimal:
    """The deductible still to pay at the receiving level.

    Counted continuously across a referral (seeds 001/002; domain-rules.md §3.4): going up,
    only the difference between the levels' deductibles; going down within one episode, none.
    Without a referral the full deductible of the level is due.
    """
    if not continuous:
        return this_level
    if direction == Direction.DOWN:
        return Decimal(0)
    return max(Decimal(0), this_level - paid_in_episode)


@dataclass(frozen=True)
class Estimate:
    total: Decimal
    deductible: Decimal
    fund: Decimal
    personal: Decimal


def estimate(total: Decimal, plan: Benefit, deductible: Decimal) -> Estimate:
    """Fund pays ``rate`` of the cost above the deductible, up to the cap; rounded once, to
    the cent, at the end."""
    if total < 0:
        raise ValueError("费用不能为负数")
    paid_deductible = min(total, deductible)
    fund = (total - paid_deductible) * plan.rate
    if plan.cap is not None:
        fund = min(fund, plan.cap)
    fund = fund.quantize(CENT, ROUND_HALF_UP)
    return Estimate(total, paid_deductible.quantize(CENT), fund, (total - fund).quantize(CENT))


def compare_referral(
    table: Iterable[Mapping[str, object]],
    *,
    insurance_type: str,
    direction: str,
    from_level: str,
    to_level: str,
    total: Decimal,
    paid_in_episode: Decimal,
) -> tuple[Estimate, Estimate]:
    """(with referral, without) for a stay of ``total`` at ``to_level``: with, the referred
    rate and the continuous deductible; without, the unreferred rate and the full deductible."""
    rows = list(table)
    referred = benefit(rows, insurance_type, to_level, True)
    alone = benefit(rows, insurance_type, to_level, False)
    with_referral = estimate(
        total,
        referred,
        deductible_due(direction, referred.deductible, paid_in_episode, continuous=True),
    )
    without = estimate(total, alone, alone.deductible)
    return with_referral, without


def readmission_checked(days_between: int, referral_pair: bool, window_days: int) -> bool:
    """Whether a second stay falls under the readmission (分解住院) check: within the window,
    unless the two stays are a referral pair (不受两次住院间隔28天的时间限制)."""
    return not referral_pair and 0 <= days_between <= window_days


LEVEL_ORDER = {Level.GRASSROOTS: 0, Level.COUNTY: 1, Level.CITY: 2, Level.PROVINCE: 3}
