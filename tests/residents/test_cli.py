"""Bad input on the command line: Chinese message per field, nothing written."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from yigongti.accounts.models import User
from yigongti.residents.models import Resident


@pytest.mark.django_db
def test_addresident_reports_every_field_and_writes_nothing(world) -> None:
    count = Resident.objects.count()
    with pytest.raises(CommandError) as exc:
        call_command(
            "addresident",
            "--name=王五",
            "--id-number=439901195103150034",
            "--village=439901999999",
            "--phone=123",
            "--birth-date=1951-02-30",
            "--insurance-number=X",
        )
    assert str(exc.value).splitlines() == [
        "输入有误，未写入任何数据 (invalid input, nothing written):",
        "  - 出生日期（birth_date）：出生日期“1951-02-30”不是有效日期，应为 YYYY-MM-DD",
    ]
    with pytest.raises(CommandError) as exc:
        call_command(
            "addresident",
            "--name=王五",
            "--id-number=439901195103150034",
            "--village=439901999999",
            "--phone=123",
            "--insurance-number=X",
        )
    assert str(exc.value).splitlines() == [
        "输入有误，未写入任何数据 (invalid input, nothing written):",
        "  - 证件号码（id_number）：身份证号校验位错误：最后一位应为“3”",
        "  - 性别（sex）：性别必须是“男”或“女”",
        "  - 出生日期（birth_date）：出生日期不能为空",
        "  - 联系电话（phone）：电话号码“123”格式错误：手机号应为1开头的11位数字，座机如0731-1234567",
        "  - 现住村（社区）代码（division_code）：区划代码“439901999999”不存在或不是村（社区）级",
    ]
    assert Resident.objects.count() == count


@pytest.mark.django_db
def test_addresident_duplicate_and_success(world) -> None:
    with pytest.raises(CommandError, match="该证件号码已建档"):
        call_command(
            "addresident",
            "--name=张德福",
            "--id-number=439901195103150033",
            "--village=439901002002",
            "--insurance-number=X",
        )
    out = io.StringIO()
    call_command(
        "addresident",
        "--name=王五",
        "--id-number=439901196001010018",
        "--village=439901002001",
        "--insurance-number=X",
        stdout=out,
    )
    assert out.getvalue().strip() == "已登记：主索引号 R00000000004"


@pytest.mark.django_db
def test_adduser_unknown_institution(world, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("Qinghe-Strong-2025\n"))
    with pytest.raises(CommandError) as exc:
        call_command(
            "adduser",
            "newdoc",
            "--name=新医生",
            "--institution=QH9999",
            "--role=doctor",
            "--password-stdin",
        )
    assert "所在机构代码（institution）：机构代码 QH9999 不存在" in str(exc.value)
    assert not User.objects.filter(username="newdoc").exists()
    call_command(
        "adduser", "newdoc", "--name=新医生", "--institution=QH1002", "--role=doctor", "--password-stdin",
        stdout=io.StringIO(),
    )  # fmt: skip
    assert User.objects.get(username="newdoc").institution.code == "QH1002"
