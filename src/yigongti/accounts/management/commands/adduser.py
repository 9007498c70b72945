"""``yigongti adduser``: create a platform user for an institution with roles and a scope."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import CommandParser
from django.db import transaction

from yigongti.accounts.choices import Role, ScopeKind
from yigongti.accounts.services import do_create_user
from yigongti.core import cli
from yigongti.core.cli import field_error
from yigongti.core.errors import DomainError
from yigongti.organizations.models import Institution

LABELS = {
    "username": "用户名",
    "password": "密码",
    "institution": "所在机构代码",
    "roles": "角色",
    "scope_kind": "数据范围",
    "management_unit": "管理中心部门",
    "scope_division": "范围区划",
}


class Command(cli.Command):
    help = "创建平台用户。Create a user with an institution, roles and a data scope."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="用户名 username")
        parser.add_argument("--name", required=True, help="姓名 display name")
        parser.add_argument("--institution", default="", help="所在机构代码 institution code")
        parser.add_argument(
            "--role",
            action="append",
            required=True,
            help=f"角色，可重复 role (repeatable): {', '.join(Role.values)}",
        )
        parser.add_argument(
            "--scope",
            default=ScopeKind.INSTITUTION,
            choices=ScopeKind.values,
            help="数据范围 scope kind",
        )
        parser.add_argument("--unit", default="", help="管理中心部门 management unit kind")
        parser.add_argument(
            "--password-stdin", action="store_true", help="从标准输入读取密码 read password"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with transaction.atomic():
                institution = None
                if options["institution"]:
                    institution = Institution.objects.filter(code=options["institution"]).first()
                    if institution is None:
                        raise DomainError(
                            f"机构代码 {options['institution']} 不存在", field="institution"
                        )
                if options["password_stdin"]:
                    password = sys.stdin.readline().rstrip("\n")
                else:
                    password = getpass.getpass("密码 password: ")
                user = do_create_user(
                    username=options["username"],
                    password=password,
                    display_name=options["name"],
                    institution=institution,
                    roles=options["role"],
                    scope_kind=options["scope"],
                    scope_medcom=institution.medcom if institution else None,
                    management_unit=options["unit"],
                )
        except DomainError as exc:
            raise field_error(exc, LABELS) from None
        self.stdout.write(f"已创建用户 {user.username}")
