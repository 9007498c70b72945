"""``yigongti snapshot [--out DIR]``: the analytic tables to Parquet, incremental."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from yigongti.analytics import queries
from yigongti.analytics.services import do_snapshot
from yigongti.core import cli
from yigongti.core.cli import stage_progress


class Command(cli.Command):
    help = (
        "把分析用数据表写成 Parquet 快照（按年月分区，只重写变化的分区；没有新数据时不改动）。"
        "之后用 yigongti indicators compute 计算指标"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", help="快照目录（默认：数据目录下的 snapshot）")

    def handle(self, *args: Any, **options: Any) -> None:
        root = Path(options["out"]) if options["out"] else queries.default_root()
        with stage_progress() as progress:
            result = do_snapshot(root, progress=progress)
        for name, table in result.tables.items():
            self.stdout.write(
                f"{name}: {table.rows} 行；重写 {len(table.written)} 个分区，"
                f"未变 {len(table.kept)}，删除 {len(table.dropped)}"
            )
        state = "已更新" if result.changed else "无新数据，未改动"
        self.stdout.write(f"快照 {result.snapshot_id}（{state}）：{result.root}")
