"""A cardiology session of the lead hospital on the persona county, at a fixed time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.api.conftest import api_as, token_for
from yigongti.core import clock

__all__ = ["api_as", "token_for"]  # the API tests' bearer-token fixtures

TZ = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 3, 9)  # a Monday; public slots open 3-02 08:00, reserved 2-23 08:00


def at(month: int, day: int, hour: int = 8, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=TZ)


def publish(world: Any, actor_for: Any, code: str, session: str = "am", **extra: Any) -> Any:
    """Six 10-minute slots of the lead hospital's department ``code`` on DAY (08:00–09:00 or
    14:00–15:00), published by the county administrator; ``extra``: fee, doctor_id."""
    from yigongti.scheduling.services import ScheduleInput, do_publish_schedule

    hour = 8 if session == "am" else 14
    return do_publish_schedule(
        actor_for("county_admin"),
        ScheduleInput(
            department_id=world.lead_hospital.departments.get(code=code).pk,
            day=DAY,
            session=session,
            start=dt.time(hour, 0),
            end=dt.time(hour + 1, 0),
            slot_count=6,
            **extra,
        ),
    )


@pytest.fixture
def frozen() -> Iterator[Any]:
    """``frozen(at(...))`` fixes the clock for the rest of the test."""
    stack: list[Any] = []

    def fix(when: dt.datetime) -> None:
        while stack:
            stack.pop().__exit__(None, None, None)
        ctx = clock.frozen(when)
        ctx.__enter__()
        stack.append(ctx)

    yield fix
    while stack:
        stack.pop().__exit__(None, None, None)


@pytest.fixture
def session(world: Any, actor_for: Any, frozen: Any) -> Any:
    """Six 10-minute slots of 心血管内科 on DAY 08:00–09:00, fee ¥12 (2 reserved: #3, #6)."""
    frozen(at(2, 20))
    return publish(
        world,
        actor_for,
        "XNK",
        fee=Decimal("12.00"),
        doctor_id=world.practitioners["cardiologist"].pk,
    )
