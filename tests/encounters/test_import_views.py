"""The import pages with the real services: upload, counts, rejected rows, error report, roles."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from yigongti.encounters.choices import BatchStatus, ImportKind
from yigongti.encounters.models import Encounter, ImportBatch, ImportRowError

pytestmark = pytest.mark.django_db

HEADER = "来源编号,证件号码,姓名,机构编码,就诊类型,就诊/入院日期,出院日期,主要诊断编码,总费用,统筹基金支付,个人支付,医生工号\n"
GOOD = [
    "HIS-1,439901195103150033,张德福,QH0001,门诊,2025-01-02,,I10,168.50,100,68.50,QH0001-0001\n",
    'HIS-2,439901199006120033,陈晓东,QH1002,住院,2025/1/5,20250109,J18.9,"3,200.00",2400,￥800,\n',
]
BAD = [
    "HIS-3,439901195103150034,张德福,QH0001,门诊,2025-01-02,,I10,168.50,100,68.50,\n",
    "HIS-4,439901199006120033,陈晓东,QH2003,住院,2025-01-02,,X99,100,50,10,\n",
]
CSV = (HEADER + GOOD[0] + "\n" + BAD[0] + GOOD[1] + BAD[1]).encode("gbk")


def client_for(world, key: str) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(world.users[key])
    return client


def upload(
    client: Client, content: bytes = CSV, name: str = "门诊.csv", kind: str = ImportKind.ENCOUNTERS
):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("encounters:import"),
        {"kind": kind, "source_system": "HIS-QH", "file": SimpleUploadedFile(name, content)},
    )


def test_upload_good_and_bad_rows(world) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world, "county_admin")
    response = upload(client)
    assert response.status_code == 200
    text = response.content.decode()
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.rows_read, batch.rows_inserted, batch.rows_rejected) == (
        BatchStatus.DONE,
        4,
        2,
        2,
    )
    assert "<td>4</td><td>2</td><td>0</td><td>0</td><td>2</td>" in text
    assert batch.started_by == world.users["county_admin"]
    assert Encounter.objects.filter(source_system="HIS-QH").count() == 2
    assert list(ImportRowError.objects.values_list("row_number", flat=True)) == [4, 6]

    detail = client.get(reverse("encounters:batch_detail", args=[batch.pk])).content.decode()
    assert "身份证号校验位错误：最后一位应为“3”" in detail
    assert "诊断编码“X99”不在ICD-10字典中" in detail
    assert "439901********0034" in detail  # the page masks; the report keeps the original
    assert "439901195103150034" not in detail
    assert "陈*东" in detail

    report = client.get(reverse("encounters:batch_errors", args=[batch.pk]))
    assert report["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(report.content), read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "行号"
    assert rows[0][-1] == "错误原因"
    assert [r[0] for r in rows[1:]] == [4, 6]
    assert rows[1][-1] == "证件号码：身份证号校验位错误：最后一位应为“3”"
    assert rows[1][2] == "439901195103150034"
    assert "主要诊断编码：诊断编码“X99”不在ICD-10字典中" in rows[2][-1]
    assert "出院日期：住院记录必须填写出院日期" in rows[2][-1]


def test_reupload_changes_nothing_and_a_fix_updates(world) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world, "county_admin")
    upload(client)
    upload(client)
    again = ImportBatch.objects.order_by("-pk").first()
    assert again is not None
    assert (again.rows_inserted, again.rows_updated, again.rows_unchanged, again.rows_rejected) == (
        0,
        0,
        2,
        2,
    )
    fixed = (
        HEADER
        + GOOD[0].replace("168.50,100,68.50", "170.00,100,70.00")
        + BAD[0].replace("0034", "0033").replace("HIS-3", "HIS-3")
    )
    upload(client, fixed.encode())
    last = ImportBatch.objects.order_by("-pk").first()
    assert last is not None
    assert (last.rows_inserted, last.rows_updated, last.rows_unchanged, last.rows_rejected) == (
        1,
        1,
        0,
        0,
    )
    assert str(Encounter.objects.get(external_id="HIS-1").total_cost) == "170.00"


def test_refused_file_writes_nothing(world) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world, "county_admin")
    response = upload(client, "来源编号,姓名\nA,张三\n".encode())
    text = response.content.decode()
    assert (
        "文件被拒绝，未写入任何数据：缺少必填列：证件号码、机构编码、就诊类型、就诊/入院日期、主要诊断编码、总费用"
        in text
    )
    assert ImportBatch.objects.count() == 0


def test_form_errors_in_chinese(world) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world, "county_admin")
    response = client.post(
        reverse("encounters:import"), {"kind": "encounters", "source_system": " "}
    )
    text = response.content.decode()
    assert "请选择要上传的文件" in text
    assert ImportBatch.objects.count() == 0
    response = upload(client, b"x", name="a.doc")
    assert "只支持 .csv、.xlsx 或 .json 文件" in response.content.decode()


@pytest.mark.parametrize("key", ["family_doctor", "auditor", "centre_staff", "pharmacist"])
def test_other_roles_forbidden(world, key) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world, key)
    for url in (
        reverse("encounters:import"),
        reverse("encounters:batch_list"),
        reverse("encounters:template", args=["encounters", "xlsx"]),
    ):
        assert client.get(url).status_code == 403
    assert upload(client).status_code == 403
    assert ImportBatch.objects.count() == 0


def test_institution_admin_sees_only_own_batches(world) -> None:  # type: ignore[no-untyped-def]
    upload(client_for(world, "county_admin"))
    county_batch = ImportBatch.objects.get()
    hekou = client_for(world, "institution_admin")
    assert hekou.get(reverse("encounters:import")).status_code == 200
    assert hekou.get(reverse("encounters:batch_detail", args=[county_batch.pk])).status_code == 404
    assert hekou.get(reverse("encounters:batch_errors", args=[county_batch.pk])).status_code == 404
    upload(hekou)
    own = ImportBatch.objects.order_by("-pk").first()
    assert own is not None
    listing = hekou.get(reverse("encounters:batch_list")).content.decode()
    assert f"#{own.pk}" in listing
    assert f"#{county_batch.pk}<" not in listing


def test_nav_and_templates(world) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world, "county_admin")
    home = client.get("/").content.decode()
    assert "数据导入" in home
    assert "数据导入" not in client_for(world, "family_doctor").get("/").content.decode()
    response = client.get(reverse("encounters:template", args=["settlements", "xlsx"]))
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    header = next(sheet.iter_rows(values_only=True))
    assert header[:3] == ("来源编号", "结算类别", "证件号码")
    csv = client.get(reverse("encounters:template", args=["encounters", "csv"]))
    assert csv.content.decode("utf-8-sig").startswith("来源编号,证件号码,证件类型,姓名,机构编码")
    assert client.get("/encounters/import/template/other.xlsx").status_code == 404


def test_template_file_imports_with_real_services(world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from yigongti.encounters import importing

    for kind in (ImportKind.ENCOUNTERS, ImportKind.SETTLEMENTS):
        out = io.BytesIO()
        importing.write_template(kind, out, "xlsx")
        path = tmp_path / f"{kind}.xlsx"
        path.write_bytes(out.getvalue())
        batch = importing.import_file(path, kind=kind, source_system="模板")
        assert (batch.rows_read, batch.rows_inserted, batch.rows_rejected) == (1, 1, 0), list(
            batch.row_errors.values_list("errors", flat=True)
        )


def test_institution_admin_writes_only_for_own_institutions(world) -> None:  # type: ignore[no-untyped-def]
    hekou = client_for(world, "institution_admin")  # 河口乡卫生院 QH1002
    upload(hekou)
    batch = ImportBatch.objects.get()
    assert (batch.rows_inserted, batch.rows_rejected) == (1, 3)
    assert Encounter.objects.get().institution.code == "QH1002"
    first = ImportRowError.objects.get(row_number=2)
    assert first.errors == {"institution_code": ["机构编码“QH0001”不在您的数据范围内"]}


def test_unknown_institution_gets_one_reason_not_also_out_of_scope(world) -> None:  # type: ignore[no-untyped-def]
    row = "HIS-9,439901195103150033,张德福,QH9999,门诊,2025-01-02,,I10,168.50,100,68.50,\n"
    upload(client_for(world, "institution_admin"), (HEADER + row).encode("utf-8"))
    (error,) = ImportRowError.objects.all()
    assert error.errors == {"institution_code": ["机构代码“QH9999”不存在或不是医共体成员单位"]}
    assert Encounter.objects.count() == 0


def test_settlements_only_by_county_admin(world) -> None:  # type: ignore[no-untyped-def]
    response = upload(client_for(world, "institution_admin"), kind=ImportKind.SETTLEMENTS)
    assert "县域外及药店结算由县级管理员导入" in response.content.decode()
    assert ImportBatch.objects.count() == 0
