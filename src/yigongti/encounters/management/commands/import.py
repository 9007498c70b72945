"""``yigongti import encounters|settlements|fhir FILE --source SYSTEM``: one batch per file.

Each chunk commits on its own (no transaction around the whole run), so a killed import is
resumed by running the same command on the same file again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from rich.progress import BarColumn, TextColumn, TimeElapsedColumn

from yigongti.core import cli
from yigongti.encounters import fhir, importing
from yigongti.encounters.choices import ImportKind


class Command(cli.Command):
    help = (
        "导入诊疗记录、县域外及药店结算（CSV/XLSX）或 FHIR R4 数据包。Import encounters or "
        "external settlements from CSV (UTF-8/GBK) or XLSX, or a FHIR R4 Bundle (JSON); "
        "idempotent by (source system, external id); re-running a crashed file resumes it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=[k.value for k in ImportKind], help="导入类型")
        parser.add_argument("file", help="文件路径 CSV / XLSX / JSON")
        parser.add_argument(
            "--source", required=True, help="来源系统 source system, e.g. HIS-QH0001"
        )
        parser.add_argument("--errors", help="错误报告路径（默认写在输入文件旁）")
        parser.add_argument(
            "--chunk-size", type=int, default=importing.CHUNK_SIZE, help="每次提交的行数"
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--parallel",
            dest="parallel",
            action="store_const",
            const=True,
            help="用第二个进程校验（默认：4 MiB 以上的文件）validate in a second process",
        )
        mode.add_argument(
            "--serial",
            dest="parallel",
            action="store_const",
            const=False,
            help="只用一个进程 one process only",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        try:
            if options["kind"] == ImportKind.FHIR:
                batch = fhir.import_bundle(path, source_system=options["source"])
            else:
                with cli.progress_bar(
                    TextColumn("[bold]导入 {task.description}"),
                    BarColumn(),
                    TextColumn("{task.completed:,} 行"),
                    TimeElapsedColumn(),
                    transient=True,
                ) as bar:
                    task = bar.add_task(path.name, total=None)
                    batch = importing.import_file(
                        path,
                        kind=options["kind"],
                        source_system=options["source"],
                        chunk_size=max(1, options["chunk_size"]),
                        parallel=options["parallel"],
                        progress=lambda b: bar.update(task, completed=b.rows_read),
                    )
        except importing.ImportRefused as exc:
            raise CommandError(f"文件被拒绝，未写入任何数据：{exc.message}") from None
        self.stdout.write(
            f"批次 {batch.pk}（{batch.get_status_display()}）："
            f"读取 {batch.rows_read}，新增 {batch.rows_inserted}，更新 {batch.rows_updated}，"
            f"未变 {batch.rows_unchanged}，拒绝 {batch.rows_rejected}"
        )
        if batch.message:
            self.stdout.write(batch.message)
        if batch.rows_rejected:
            report = (
                Path(options["errors"])
                if options["errors"]
                else path.with_name(f"{path.stem}.errors.xlsx")
            )
            with cli.writing(report):  # the batch is stored: say why only the report failed
                importing.write_error_report(batch, report)
            self.stdout.write(f"错误报告：{report}")
