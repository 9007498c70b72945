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
