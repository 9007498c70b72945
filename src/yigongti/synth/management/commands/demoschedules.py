"""``yigongti demoschedules``: roll the demo's outpatient sessions forward to today."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandParser
from django.db import transaction

from yigongti.core import cli, clock
from yigongti.synth.scheduling import DAYS, build_schedules


class Command(cli.Command):
    help = (
        "为演示县发布牵头医院今后两周的排班并生成部分预约（已有的时段跳过）。"
        "Publish the demo lead hospital's sessions for the coming two weeks from today, with "
        "some bookings and bed holds; sessions that exist already are skipped (idempotent)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=DAYS, help="天数 days (1-28)")
        parser.add_argument("--seed", type=int, default=20251, help="随机种子 random seed")

    def handle(self, *args: Any, **options: Any) -> None:
        days = max(1, min(28, options["days"]))
        start = clock.today() + dt.timedelta(days=1)
        # The seed is salted with the start day: the same day gives the same rows.
        with transaction.atomic():
            summary = build_schedules(
                start=start, seed=options["seed"] * 100_000 + start.toordinal(), days=days
            )
        self.stdout.write(
            f"排班 schedules: {summary.schedules}，号源 slots: {summary.slots}，"
            f"预约 bookings: {summary.bookings}，床位预约 beds: {summary.beds} "
            f"({start:%Y-%m-%d} 起 {days} 天)"
        )
