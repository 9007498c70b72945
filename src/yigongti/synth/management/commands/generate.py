"""``yigongti generate --scenario tiny|demo|county --seed N``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from yigongti.core import cli
from yigongti.core.cli import stage_progress
from yigongti.synth.scenarios import SCENARIOS, count_rows, generate


class Command(cli.Command):
    help = (
        "生成合成县域数据（虚构的青禾县）。Generate a synthetic county: tiny = test personas, "
        "demo ≈ 50,000 residents, county = 500,000 residents. Deterministic by --seed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scenario", choices=SCENARIOS, default="demo", help="场景 scenario (tiny|demo|county)"
        )
        parser.add_argument("--seed", type=int, default=20251, help="随机种子 random seed")
        parser.add_argument(
            "--years",
            type=int,
            default=1,
            help="就诊与结算数据的年数 years of encounters and settlements (1-5)",
        )
        parser.add_argument(
            "--no-encounters",
            action="store_true",
            help="只生成机构、人员和居民 only institutions, staff and residents",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="数据库已有数据时跳过 skip when the database already holds residents",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not 1 <= options["years"] <= 5:
            raise CommandError("--years 应为 1 到 5 之间的整数")
        if count_rows()["institutions"] > 0:
            if options["if_empty"]:
                self.stdout.write("数据库中已有数据，跳过生成 (already generated, skipped)")
                return
            raise CommandError("数据库中已有机构数据；请使用新的数据库 (database is not empty)")
        with stage_progress() as progress:
            try:
                summary = generate(
                    options["scenario"],
                    options["seed"],
                    progress=progress,
                    encounters=not options["no_encounters"],
                    encounter_years=options["years"],
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        for name, n in summary.counts.items():
            self.stdout.write(f"{name}: {n}")
