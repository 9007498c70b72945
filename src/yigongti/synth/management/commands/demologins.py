"""``yigongti demologins``: print one demo login per role (the persona accounts)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from yigongti.accounts.models import User
from yigongti.core import cli
from yigongti.synth.personas import DEMO_PASSWORD


class Command(cli.Command):
    help = "列出演示账号（每个角色一个）。Print the demo logins, one per role."

    def handle(self, *args: Any, **options: Any) -> None:
        table = Table(title=f"演示账号（密码均为 {DEMO_PASSWORD}）")
        for column in ("用户名", "姓名", "角色", "所在机构"):
            table.add_column(column)
        users = User.objects.select_related("institution").prefetch_related("role_assignments")
        for user in users.order_by("id"):
            roles = "、".join(r.get_role_display() for r in user.role_assignments.all())
            if not roles:
                continue
            inst = user.institution.name if user.institution else "—"
            table.add_row(user.username, user.display_name, roles, inst)
        Console(width=max(Console().width, 110)).print(table)
