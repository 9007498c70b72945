"""``yigongti indicators compute --period 2025|2025-Q3|2025-07 [--engine duckdb]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yigongti.core.cli import stage_progress
from yigongti.core.errors import DomainError
from yigongti.indicators.queries import has_results
from yigongti.indicators.services import ENGINES, do_compute


class Command(BaseCommand):
    help = "计算监测指标（读取分析快照）。Compute the indicators of a period from the snapshot."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        compute = sub.add_parser("compute", help="计算一个统计期的全部指标")
        compute.add_argument("--period", required=True, help="统计期：2025、2025-Q3 或 2025-07")
        compute.add_argument("--engine", default="duckdb", choices=ENGINES, help="计算引擎")
        compute.add_argument(
            "--breakdown", action="store_true", help="年度统计期同时计算各季度和各月（趋势图用）"
        )
        compute.add_argument(
            "--if-missing",
            action="store_true",
            help="该统计期已有当前快照的结果时跳过 skip when this snapshot's results exist",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_missing"] and has_results(options["period"]):
            self.stdout.write(f"统计期 {options['period']} 已有当前快照的结果，跳过")
            return
        try:
            with stage_progress() as progress:
                result = do_compute(
                    options["period"],
                    engine=options["engine"],
                    progress=progress,
                    breakdown=options["breakdown"],
                )
        except DomainError as exc:
            raise CommandError(
                "；".join(m for ms in exc.field_errors.values() for m in ms)
            ) from None
        self.stdout.write(
            f"统计期 {result.period}：{len(result.indicators)} 项指标，{result.results} 条结果"
            f"（快照 {result.snapshot_id}）"
        )
