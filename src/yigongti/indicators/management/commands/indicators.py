"""``yigongti indicators compute --period 2025|2025-Q3|2025-07 [--engine duckdb|spark]
[--spark-master URL]`` and
``yigongti indicators export --period P --format csv|xlsx [--out FILE]`` and
``yigongti indicators report --year 2025 --format xlsx|pdf [--out FILE]`` (the annual report)."""

from __future__ import annotations

import csv
import io
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import xlsxwriter
from django.core.management.base import CommandError, CommandParser

from yigongti.core import cli
from yigongti.core.cli import stage_progress, write_output
from yigongti.core.errors import DomainError
from yigongti.indicators import reports
from yigongti.indicators.queries import EXPORT_COLUMNS, has_results, list_export_rows
from yigongti.indicators.services import ENGINES, do_compute, parse_periods


def _engine_session(options: dict[str, Any]) -> AbstractContextManager[Any]:
    """The Spark session for ``--engine spark`` (on ``--spark-master``), stopped at the end."""
    if options["engine"] != "spark":
        return nullcontext()
    from yigongti.analytics import spark

    return spark.running(options["spark_master"])


class Command(cli.Command):
    help = (
        "监测指标：计算（compute，读取分析快照）、导出结果（export）、生成年度监测报告（report）。"
        "例：yigongti indicators compute --period 2025 --breakdown；"
        "yigongti indicators export --period 2025 --format xlsx；"
        "yigongti indicators report --year 2025 --format pdf"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        compute = sub.add_parser(
            "compute",
            help="计算一个统计期的全部指标",
            description="从分析快照计算一个统计期的全部指标，替换该统计期已存的结果。"
            "先运行 yigongti snapshot。例：yigongti indicators compute --period 2025 --breakdown",
        )
        compute.add_argument("--period", required=True, help="统计期：2025、2025-Q3 或 2025-07")
        compute.add_argument(
            "--engine", default="duckdb", choices=ENGINES, help="计算引擎（默认 duckdb）"
        )
        compute.add_argument(
            "--spark-master",
            help="Spark 地址：local[N] 或集群地址 spark://主机:端口（默认 YIGONGTI_SPARK_MASTER，"
            "即 local[2]）",
        )
        compute.add_argument(
            "--breakdown", action="store_true", help="年度统计期同时计算各季度和各月（趋势图用）"
        )
        compute.add_argument(
            "--if-missing",
            action="store_true",
            help="该统计期已有当前快照的结果时跳过",
        )

        export = sub.add_parser(
            "export",
            help="导出一个统计期的指标结果",
            description="把一个统计期已计算的指标结果写成 CSV（带 BOM，Excel 可直接打开）或 "
            "Excel，列为 " + "、".join(EXPORT_COLUMNS) + "。"
            "例：yigongti indicators export --period 2025 --format xlsx",
        )
        export.add_argument("--period", required=True, help="统计期：2025、2025-Q3 或 2025-07")
        export.add_argument(
            "--format", default="csv", choices=("csv", "xlsx"), help="文件格式（默认 csv）"
        )
        export.add_argument("--out", help="输出文件（默认 indicators-<统计期>.<格式>）")

        report = sub.add_parser(
            "report",
            help="生成年度监测报告（Excel 或 PDF）",
            description="用该年度已计算的指标结果生成年度监测报告（先运行 "
            "yigongti indicators compute --period <年度> --breakdown）。"
            "例：yigongti indicators report --year 2025 --format pdf",
        )
        report.add_argument("--year", required=True, help="年度，如 2025")
        report.add_argument(
            "--format", default="xlsx", choices=reports.FORMATS, help="文件格式（默认 xlsx）"
        )
        report.add_argument("--out", help="输出文件（默认 <县>-<年度>-医共体监测报告.<格式>）")
        report.add_argument(
            "--county", default="", help="县的区划代码（默认：有结果的第一个县；部署多个县时指定）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "export":
            self._export(options)
            return
        if options["action"] == "report":
            self._report(options)
            return
        if options["if_missing"] and has_results(options["period"]):
            self.stdout.write(f"统计期 {options['period']} 已有当前快照的结果，跳过")
            return
        if options["spark_master"] and options["engine"] != "spark":
            raise CommandError("--spark-master 只能与 --engine spark 一起使用")
        try:
            # Spark starts (and is checked: the extra installed, Java 17) before the progress bar.
            with _engine_session(options), stage_progress() as progress:
                result = do_compute(
                    options["period"],
                    engine=options["engine"],
                    progress=progress,
                    breakdown=options["breakdown"],
                )
        except DomainError as exc:
            raise CommandError(exc.text()) from None
        self.stdout.write(
            f"统计期 {result.period}：{len(result.indicators)} 项指标，{result.results} 条结果"
            f"（快照 {result.snapshot_id}，引擎 {options['engine']}）"
        )

    def _export(self, options: dict[str, Any]) -> None:
        period = options["period"]
        try:
            parse_periods(period)
        except DomainError as exc:
            raise CommandError(exc.text()) from None
        rows = list_export_rows(period)
        if not rows:
            raise CommandError(
                f"统计期 {period} 没有指标结果：请先运行 yigongti indicators compute "
                f"--period {period}"
            )
        out = Path(options["out"] or f"indicators-{period}.{options['format']}")
        texts = [
            [code, p, org, f"{num:f}", f"{den:f}", "" if value is None else f"{value:f}", cat]
            for code, p, org, num, den, value, cat in rows
        ]
        if options["format"] == "csv":
            text = io.StringIO(newline="")
            writer = csv.writer(text)
            writer.writerow(EXPORT_COLUMNS)
            writer.writerows(texts)
            content = text.getvalue().encode("utf-8-sig")  # BOM: Excel opens it
        else:
            buffer = io.BytesIO()
            book = xlsxwriter.Workbook(buffer, {"in_memory": True})
            sheet = book.add_worksheet(period)
            bold = book.add_format({"bold": True})
            sheet.write_row(0, 0, EXPORT_COLUMNS, bold)
            for r, (code, p, org, num, den, value, cat) in enumerate(rows, start=1):
                sheet.write_string(r, 0, code)
                sheet.write_string(r, 1, p)
                sheet.write_string(r, 2, org)
                sheet.write_number(r, 3, float(num))
                sheet.write_number(r, 4, float(den))
                if value is not None:
                    sheet.write_number(r, 5, float(value))
                sheet.write_string(r, 6, cat)
            sheet.set_column(0, 2, 16)
            sheet.set_column(3, 5, 14)
            book.close()
            content = buffer.getvalue()
        write_output(out, content)
        self.stdout.write(f"已导出 {len(rows)} 条结果：{out}")

    def _report(self, options: dict[str, Any]) -> None:
        fmt = options["format"]
        try:
            report = reports.build_report(options["year"], county=options["county"])
            content = reports.render(report, fmt)
        except DomainError as exc:
            raise CommandError(exc.text()) from None
        out = Path(options["out"] or reports.file_name(report, fmt))
        write_output(out, content)
        self.stdout.write(
            f"已生成 {report.year} 年度监测报告（{report.county_name}，"
            f"{len(report.indicators)} 项指标）：{out}"
        )
