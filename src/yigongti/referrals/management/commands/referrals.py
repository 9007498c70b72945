"""``yigongti referrals expire``: mark overdue referrals 已超时 and missed appointments 未到诊.

Run it from cron, e.g. every 15 minutes: ``*/15 * * * * yigongti referrals expire``; each
referral is its own transaction, so an interrupted run is simply run again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from yigongti.core import cli
from yigongti.referrals.services import do_expire_overdue


class Command(cli.Command):
    help = "转诊定时任务：超过接收时限的转诊单记为已超时，预约后未到诊的记为未到诊。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("expire", help="处理超时未接收与未到诊的转诊单")

    def handle(self, *args: Any, **options: Any) -> None:
        result = do_expire_overdue()
        self.stdout.write(
            f"已超时 {len(result.expired)} 张，未到诊 {len(result.no_show)} 张"
            + (
                f"：{'、'.join(result.expired + result.no_show)}"
                if result.expired or result.no_show
                else ""
            )
        )
