"""The demo's outpatient sessions and bookings (synth/scheduling.py): what is published, the
green-channel booking of 张德福, and a second run adding nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from yigongti.core import clock
from yigongti.core.services import do_load_default_parameters
from yigongti.scheduling.choices import Pool
from yigongti.scheduling.models import BedBooking, Booking, Schedule
from yigongti.synth.scheduling import build_schedules

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 2, 20, 8, 0, tzinfo=dt.UTC)  # 16:00 in 青禾县


def test_two_weeks_of_sessions_bookings_and_beds(world: Any) -> None:
    do_load_default_parameters()
    start = dt.date(2026, 2, 21)  # a Saturday
    with clock.frozen(NOW):
        first = build_schedules(start=start, seed=7)
        # 10 weekdays × 6 departments × (morning 20 + afternoon 15 slots)
        # + 4 weekend mornings × (内科, 儿科) × 20 slots
        assert (first.schedules, first.slots) == (128, 10 * 6 * 35 + 4 * 2 * 20)
        assert Schedule.objects.count() == 128
        days = sorted(set(Schedule.objects.values_list("day", flat=True)))
        assert (days[0], days[-1], len(days)) == (start, dt.date(2026, 3, 6), 14)
        weekend = Schedule.objects.filter(day=start)
        assert sorted(weekend.values_list("department__code", "session")) == [
            ("ERK", "am"),
            ("NEI", "am"),
        ]
        cardiology = Schedule.objects.filter(department__code="XNK").order_by("starts_at")
        assert {s.doctor.code for s in cardiology if s.doctor} == {"QH0001-0001"}
        assert cardiology[0].fee == Decimal("15.00")  # 李心远 is 副主任医师
        assert Schedule.objects.get(day=start, department__code="NEI").fee == Decimal("8.00")
        green = Booking.objects.get(priority=True)
        assert (green.resident.name, green.schedule_id, green.pool, green.fee_waived) == (
            "张德福",
            cardiology[0].pk,
            Pool.RESERVED,
            True,
        )
        assert first.bookings == Booking.objects.count() > 1
        assert BedBooking.objects.count() == first.beds > 0
        again = build_schedules(start=start, seed=7)
        assert (again.schedules, again.bookings, again.beds) == (0, 0, 0)
        assert Schedule.objects.count() == 128


def test_history_weeks_go_as_they_went(world: Any) -> None:
    """Four weeks before the demo's day: sessions published the day before each week, every
    booking 已到诊 or 爽约 by its evening, beds held, admitted or cancelled, all released by
    the last day; every step stamped at its own moment, nothing after the last evening."""
    from yigongti.core.models import AuditEvent
    from yigongti.scheduling.choices import BedStatus, BookingStatus
    from yigongti.synth.scheduling import build_history

    do_load_default_parameters()
    seen = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    until = dt.date(2025, 12, 30)
    with clock.frozen(dt.datetime(2025, 12, 31, 8, 0, tzinfo=dt.UTC)):
        summary = build_history(until=until, seed=7)
        assert clock.now() == dt.datetime(2025, 12, 31, 8, 0, tzinfo=dt.UTC)  # restored
    assert summary.days == (dt.date(2025, 12, 3), until)
    # 4 weeks of 5 weekdays × 6 departments × 2 sessions + 2 weekend mornings × 2
    assert summary.schedules == Schedule.objects.count() == 4 * (5 * 6 * 2 + 2 * 2)
    days = Schedule.objects.values_list("day", flat=True)
    assert (min(days), max(days)) == (dt.date(2025, 12, 3), until)
    first = Schedule.objects.filter(day=dt.date(2025, 12, 3)).first()
    assert first is not None
    assert first.created_at == dt.datetime(2025, 12, 2, 0, 0, tzinfo=dt.UTC)
    bookings = Booking.objects.all()
    assert summary.bookings == bookings.count() > 100
    statuses = dict((s, bookings.filter(status=s).count()) for s in BookingStatus.values)
    assert statuses == {
        BookingStatus.ATTENDED: summary.attended,
        BookingStatus.NO_SHOW: summary.no_show,
        BookingStatus.CANCELLED: summary.withdrawn,
        BookingStatus.BOOKED: 0,
    }
    assert summary.attended + summary.no_show + summary.withdrawn == summary.bookings
    assert 0 < summary.no_show < summary.attended
    # the bookings of a stay, cancelled by the desk when the resident was admitted
    assert summary.withdrawn > 0
    for booking in bookings.filter(status=BookingStatus.CANCELLED):
        assert booking.cancel_reason == "患者已住院，取消门诊预约"
        bed = BedBooking.objects.get(resident=booking.resident, admitted_at=booking.closed_at)
        assert bed.closed_at is not None and booking.closed_at < bed.closed_at
    for booking in bookings.exclude(status=BookingStatus.CANCELLED).select_related("schedule"):
        assert booking.closed_at is not None
        assert booking.closed_at == dt.datetime.combine(
            booking.schedule.day, dt.time(10), tzinfo=dt.UTC
        )
    beds = BedBooking.objects.all()
    assert beds.count() == summary.beds == summary.admitted + summary.cancelled > 0
    assert summary.released == summary.admitted > 0
    assert not beds.filter(status__in=(BedStatus.HELD, BedStatus.ADMITTED)).exists()
    assert beds.filter(pool=Pool.RESERVED, up_referral=True).exists()
    for bed in beds.filter(status=BedStatus.RELEASED):
        assert bed.admitted_at is not None and bed.closed_at is not None
        assert bed.admitted_at.date() == bed.expected_on
        stay = (bed.closed_at.date() - bed.admitted_at.date()).days
        assert 3 <= stay <= 9 or bed.closed_at.date() == until
        assert bed.booked_at < bed.admitted_at < bed.closed_at
    # nobody on a ward keeps an outpatient appointment: no booked slot falls within a stay
    stays = [
        (bed.resident_id, bed.admitted_at, bed.closed_at)
        for bed in beds.filter(status=BedStatus.RELEASED)
    ]
    during = [
        b.pk
        for b in bookings.exclude(status=BookingStatus.CANCELLED).select_related("slot")
        for resident, admitted, released in stays
        if b.resident_id == resident and admitted <= b.slot.starts_at < released
    ]
    assert during == []
    assert beds.filter(up_referral=False).exists()  # the desk's own patients too
    moments = AuditEvent.objects.filter(seq__gt=seen).values_list("occurred_at", flat=True)
    assert len(moments) > summary.bookings  # each booking, mark, hold and move audited
    assert max(moments) == dt.datetime.combine(until, dt.time(10), tzinfo=dt.UTC)
    assert min(moments) == dt.datetime(2025, 12, 2, 0, 0, tzinfo=dt.UTC)
