"""50 concurrent clients race for the last slots on PostgreSQL: exactly as many win as there
were slots, and no slot holds two live bookings (DESIGN.md, "Check-then-act races")."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from yigongti.core import clock
from yigongti.core.errors import DomainError
from yigongti.scheduling.models import Booking

from .conftest import DAY, at

pg_only = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="SQLite 串行化所有写事务，并发竞争只在 PostgreSQL 上有意义",
)

CLIENTS = 50


@pg_only
@pytest.mark.django_db(transaction=True)
def test_concurrency_fifty_clients_race_for_the_last_slots(world: Any, actor_for: Any) -> None:
    from yigongti.residents.rules import check_digit
    from yigongti.residents.services import ResidentInput, do_register_resident
    from yigongti.scheduling.services import ScheduleInput, do_book_slot, do_publish_schedule

    with clock.frozen(at(2, 20)):
        schedule = do_publish_schedule(
            actor_for("county_admin"),
            ScheduleInput(
                department_id=world.lead_hospital.departments.get(code="XNK").pk,
                day=DAY,
                session="am",
                start=dt.time(8, 0),
                end=dt.time(10, 0),
                slot_count=12,
                fee=Decimal("12.00"),
            ),
        )
    people = []
    for i in range(CLIENTS + 4):
        first17 = f"43990119800101{i:03d}"
        people.append(
            do_register_resident(
                None,
                ResidentInput(
                    name="并发"
                    + "甲乙丙丁戊己庚辛壬癸"[i % 10]
                    + "子丑寅卯辰巳午未申酉戌亥"[i // 10],
                    id_number=first17 + check_digit(first17),
                    division_code=world.villages["东门社区"].code,
                    insurance_type="none",
                ),
                today=dt.date(2026, 3, 1),
            )
        )
    desk = actor_for("cardiologist")
    after_cutoff = at(3, 8, 9)  # both pools open to the public channel
    with clock.frozen(after_cutoff):
        for person in people[:4]:
            do_book_slot(desk, schedule.pk, person)
    left = 12 - 4
    barrier = threading.Barrier(CLIENTS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def client(person: Any) -> None:
        try:
            with clock.frozen(after_cutoff):
                barrier.wait()
                try:
                    do_book_slot(desk, schedule.pk, person)
                    result = "booked"
                except DomainError as exc:
                    result = exc.summary()
            with lock:
                outcomes.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(p,)) for p in people[4:]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == CLIENTS
    assert outcomes.count("booked") == left
    assert sorted(set(outcomes)) == ["booked", "该时段可预约号源已约满"]
    live = list(Booking.objects.filter(schedule=schedule).values_list("slot__seq", flat=True))
    assert sorted(live) == list(range(1, 13))  # every slot once, none twice
