"""``yigongti addresident``: register one resident from the command line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.db import transaction

from yigongti.core import cli
from yigongti.core.cli import field_error, parse_date
from yigongti.core.errors import DomainError
from yigongti.residents.choices import IdType, InsuranceType, Relation
from yigongti.residents.services import ResidentInput, do_register_resident

LABELS = {
    "name": "姓名",
    "id_type": "证件类型",
    "id_number": "证件号码",
    "sex": "性别",
    "birth_date": "出生日期",
    "phone": "联系电话",
    "division_code": "现住村（社区）代码",
    "household_code": "户编号",
    "relation_to_head": "与户主关系",
    "insurance_type": "参保类型",
    "insurance_number": "医保号",
}


class Command(cli.Command):
    help = (
        "登记一名居民（写入主索引，记录审计）。Register one resident in the master patient "
        "index; every field is validated and nothing is written on any error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="姓名 name")
        parser.add_argument("--id-number", required=True, help="证件号码 document number")
        parser.add_argument(
            "--id-type", default=IdType.RESIDENT_ID, help="证件类型 document type (01 身份证 …)"
        )
        parser.add_argument("--village", required=True, help="现住村（社区）12位代码 village code")
        parser.add_argument("--sex", default="", help="性别 M/F（身份证可推导）")
        parser.add_argument("--birth-date", default="", help="出生日期 YYYY-MM-DD")
        parser.add_argument("--phone", default="", help="联系电话 phone")
        parser.add_argument("--address", default="", help="详细地址 address")
        parser.add_argument("--household", default="", help="户编号 household code")
        parser.add_argument("--relation", default=Relation.HEAD, help="与户主关系 relation")
        parser.add_argument(
            "--insurance-type", default=InsuranceType.RESIDENT, help="参保类型 insurance type"
        )
        parser.add_argument("--insurance-number", default="", help="医保号 insurance number")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with transaction.atomic():
                data = ResidentInput(
                    name=options["name"],
                    id_number=options["id_number"],
                    id_type=options["id_type"],
                    division_code=options["village"],
                    sex=options["sex"],
                    birth_date=parse_date(options["birth_date"], "birth_date", "出生日期"),
                    phone=options["phone"],
                    address_detail=options["address"],
                    household_code=options["household"],
                    relation_to_head=options["relation"],
                    insurance_type=options["insurance_type"],
                    insurance_number=options["insurance_number"],
                )
                resident = do_register_resident(None, data)
        except DomainError as exc:
            raise field_error(exc, LABELS) from None
        self.stdout.write(f"已登记：主索引号 {resident.mpi_id}")
