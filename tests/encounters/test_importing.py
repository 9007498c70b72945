"""File reading, header matching, batching, idempotency and crash-resume of the import pipeline.

The services are replaced by a small fake that follows the contract (``clean_*`` raises
``DomainError`` with Chinese field errors, ``upsert_*`` counts by content), so these tests pin
the pipeline itself; ``test_import_views.py`` runs the real services end to end.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook, load_workbook

from yigongti.core.errors import DomainError
from yigongti.encounters import importing, services
from yigongti.encounters.choices import BatchStatus, ImportKind
from yigongti.encounters.models import ImportBatch, ImportRowError

pytestmark = pytest.mark.django_db

HEADER = "来源编号,证件号码,机构编码,就诊类型,就诊/入院日期,主要诊断编码,总费用"
GOOD = "E1,439901195103150033,QH0001,门诊,2025-01-02,I10,168.50"
BAD = "E2,123,QH0001,门诊,2025-01-02,I10,168.50"


class FakeStore:
    """Contract-shaped stand-ins for the services: rows kept by (source, external id)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], str] = {}
        self.seen: list[services.EncounterInput] = []
        self.fail_after: int | None = None

    def clean(self, data, ctx):  # type: ignore[no-untyped-def]
        self.seen.append(data)
        errors: dict[str, list[str]] = {}
        if len(data.id_number) != 18:
            errors["id_number"] = ["身份证号应为 18 位"]
        if data.total_cost is None:
            errors["total_cost"] = ["必填"]
        if errors:
            raise DomainError(errors)
        digest = hashlib.sha256(repr(data).encode()).hexdigest()
        return services.CleanSettlement({"key": (data.source_system, data.external_id)}, digest)

    def upsert(self, cleaned, *, batch=None):  # type: ignore[no-untyped-def]
        counts = services.UpsertCounts()
        if self.fail_after is not None and len(self.rows) + len(cleaned) > self.fail_after:
            raise RuntimeError("模拟崩溃")  # before any write, as a rolled-back chunk would be
        for item in cleaned:
            key = item.values["key"]
            old = self.rows.get(key)
            if old is None:
                counts.inserted += 1
            elif old == item.content_hash:
                counts.unchanged += 1
            else:
                counts.updated += 1
            self.rows[key] = item.content_hash
        return counts


@pytest.fixture
def fake(monkeypatch):  # type: ignore[no-untyped-def]
    store = FakeStore()
    monkeypatch.setattr(
        services.ValidationContext, "load", classmethod(lambda cls, today=None: None)
    )
    for name in ("clean_encounter", "clean_external_settlement"):
        monkeypatch.setattr(services, name, store.clean)
    for name in ("upsert_encounters", "upsert_external_settlements"):
        monkeypatch.setattr(services, name, store.upsert)
    return store


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run(path: Path, kind: str = ImportKind.ENCOUNTERS, **kw) -> ImportBatch:  # type: ignore[no-untyped-def]
    return importing.import_file(path, kind=kind, source_system="HIS-QH0001", **kw)


# ------------------------------------------------------------------ values


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-01-02", dt.date(2025, 1, 2)),
        ("2025/1/2", dt.date(2025, 1, 2)),
        ("20250102", dt.date(2025, 1, 2)),
        ("2025-01-02 00:00:00", dt.date(2025, 1, 2)),
        (45658, dt.date(2025, 1, 1)),
        (45658.0, dt.date(2025, 1, 1)),
        ("45658", dt.date(2025, 1, 1)),
        (dt.datetime(2025, 3, 4, 0, 0), dt.date(2025, 3, 4)),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(value, expected) -> None:  # type: ignore[no-untyped-def]
    assert importing.parse_date(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2025-02-30", "日期不存在"),
        ("2025年1月2日", "日期格式应为 YYYY-MM-DD、YYYY/M/D 或 YYYYMMDD"),
        ("abc", "日期格式应为 YYYY-MM-DD、YYYY/M/D 或 YYYYMMDD"),
    ],
)
def test_parse_date_refuses(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        importing.parse_date(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1,234.56", Decimal("1234.56")),
        ("¥1,234.50", Decimal("1234.50")),
        ("￥12", Decimal("12")),
        (" 0.10 ", Decimal("0.10")),
        (12, Decimal("12")),
        (12.5, Decimal("12.5")),
        ("", None),
    ],
)
def test_parse_money(value, expected) -> None:  # type: ignore[no-untyped-def]
    assert importing.parse_money(value) == expected


@pytest.mark.parametrize("value", ["十二元", "NaN", "Infinity", "1.2.3"])
def test_parse_money_refuses_text(value: str) -> None:
    with pytest.raises(ValueError, match=r"金额应为数字，例如 1234\.56"):
        importing.parse_money(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("是", True),
        ("否", False),
        ("1", True),
        ("0", False),
        ("Y", True),
        ("n", False),
        ("", False),
        (1, True),
    ],
)
def test_parse_bool(value, expected) -> None:  # type: ignore[no-untyped-def]
    assert importing.parse_bool(value) is expected


def test_parse_bool_refuses() -> None:
    with pytest.raises(ValueError, match="应填写 是/否、1/0 或 Y/N"):
        importing.parse_bool("也许")


def test_parse_list_separators() -> None:
    assert importing.parse_list("E11.9;I10；J06.9,K29.7") == ["E11.9", "I10", "J06.9", "K29.7"]
    assert importing.parse_list("") == []


@pytest.mark.parametrize(
    ("head", "encoding"),
    [
        ("就诊类型".encode(), "utf-8-sig"),
        (b"\xef\xbb\xbf" + "门诊".encode(), "utf-8-sig"),
        ("门诊".encode("gbk"), "gb18030"),
        ("门诊".encode()[:-1], "utf-8-sig"),  # a character cut at the end of the sniffed chunk
    ],
)
def test_detect_encoding(head: bytes, encoding: str) -> None:
    assert importing.detect_encoding(head) == encoding


# ------------------------------------------------------------------ headers and files


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings(tmp_path, fake, encoding) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, "a.csv", f"{HEADER}\n{GOOD}\n", encoding)
    batch = run(path)
    assert (batch.status, batch.rows_read, batch.rows_inserted) == (BatchStatus.DONE, 1, 1)
    assert fake.seen[0].setting == "outpatient"
    assert fake.seen[0].total_cost == Decimal("168.50")


def test_headers_are_normalised_and_english_names_accepted(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    header = "\u3000来源编号 ,证件号码,institution_code,SETTING,就诊/入院日期*,主要诊断编码,总费用"
    batch = run(write(tmp_path, "a.csv", f"{header}\n{GOOD}\n"))
    assert batch.rows_inserted == 1
    assert fake.seen[0].institution_code == "QH0001"


def test_missing_required_headers_refuse_the_file(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    path = write(
        tmp_path, "a.csv", "来源编号,证件号码,就诊类型,主要诊断\nE1,439901195103150033,门诊,I10\n"
    )
    with pytest.raises(importing.ImportRefused) as exc:
        run(path)
    assert exc.value.message == "缺少必填列：机构编码、就诊/入院日期、主要诊断编码、总费用"
    assert ImportBatch.objects.count() == 0
    assert fake.seen == []


def test_wrong_kind_headers_refused(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(
        importing.ImportRefused, match="缺少必填列：结算类别、结算日期、机构/药店名称"
    ):
        run(write(tmp_path, "a.csv", f"{HEADER}\n{GOOD}\n"), kind=ImportKind.SETTLEMENTS)


def test_unknown_columns_ignored_and_reported(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    batch = run(write(tmp_path, "a.csv", f"{HEADER},备注,床号\n{GOOD},复诊,3\n"))
    assert batch.rows_inserted == 1
    assert batch.message == "已忽略未识别的列：备注、床号"


def test_duplicate_header_refused(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(importing.ImportRefused, match="表头列重复：总费用、total_cost"):
        run(write(tmp_path, "a.csv", f"{HEADER},total_cost\n{GOOD},1\n"))


def test_empty_file_refused(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    for text in ("", "\n\n"):
        with pytest.raises(importing.ImportRefused) as exc:
            run(write(tmp_path, "a.csv", text))
        assert exc.value.message == "文件为空：没有表头行"
    assert ImportBatch.objects.count() == 0


def test_header_only(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    batch = run(write(tmp_path, "a.csv", HEADER + "\n"))
    assert (batch.status, batch.rows_read) == (BatchStatus.DONE, 0)
    assert batch.message == "文件只有表头，没有数据行"


def test_blank_lines_skipped_and_row_numbers_kept(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    text = f"{HEADER}\n\n{GOOD}\n,,,,,,\n\n{BAD}\n"
    batch = run(write(tmp_path, "a.csv", text))
    assert (batch.rows_read, batch.rows_inserted, batch.rows_rejected) == (2, 1, 1)
    error = ImportRowError.objects.get()
    assert error.row_number == 6  # the physical row in the file, header = 1
    assert error.errors == {"id_number": ["身份证号应为 18 位"]}
    assert error.raw["证件号码"] == "123"


def test_parse_errors_and_service_errors_are_merged(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    row = "E3,123,QH0001,转院,2025-13-01,I10,一百"
    batch = run(write(tmp_path, "a.csv", f"{HEADER}\n{row}\n"))
    assert batch.rows_rejected == 1
    assert ImportRowError.objects.get().errors == {
        "setting": ["应为 门诊、急诊 或 住院"],
        "visit_date": ["日期不存在"],
        "total_cost": ["金额应为数字，例如 1234.56"],
        "id_number": ["身份证号应为 18 位"],
    }


def test_duplicate_external_id_in_one_chunk_rejected(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    batch = run(write(tmp_path, "a.csv", f"{HEADER}\n{GOOD}\n{GOOD}\n"))
    assert (batch.rows_inserted, batch.rows_rejected) == (1, 1)
    assert ImportRowError.objects.get().errors == {"external_id": ["来源编号与第 2 行重复"]}


def test_gbk_file_with_bad_bytes_later_fails_the_batch(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    rows = "".join(GOOD.replace("E1", f"E{i}") + "\n" for i in range(400))  # past the 8 KB buffer
    body = (f"{HEADER}\n" + rows).encode() + "门诊".encode("gbk") + b"\n"
    path = tmp_path / "a.csv"
    path.write_bytes(body)
    monkey_sniff = importing.SNIFF_BYTES
    try:
        importing.SNIFF_BYTES = 20
        batch = run(path, chunk_size=50)
    finally:
        importing.SNIFF_BYTES = monkey_sniff
    assert batch.status == BatchStatus.FAILED
    assert batch.rows_inserted == batch.last_committed_row - 1 > 0
    assert batch.message == (
        f"第 {batch.last_committed_row} 行之后中止：文件编码无法识别：请保存为 UTF-8 或 GBK 编码的 CSV 文件"
    )


def xlsx(tmp_path: Path, rows: list[list[object]], merge: str | None = None) -> Path:
    path = tmp_path / "a.xlsx"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    book.save(path)
    return path


def test_xlsx_with_date_cells_and_serial_numbers(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    head = [*HEADER.split(","), "出院日期", "中医类", "其他诊断编码"]
    path = xlsx(
        tmp_path,
        [
            head,
            [
                "E1",
                "439901195103150033",
                "QH0001",
                "住院",
                dt.datetime(2025, 1, 2),
                "I10",
                1200.5,
                45660,
                "是",
                "E11.9；J06.9",
            ],
            [None] * len(head),
            [
                "E2",
                "439901199006120033",
                "QH1002",
                "门诊",
                45658,
                "J06.9",
                "¥1,000.00",
                None,
                "否",
                None,
            ],
        ],
    )
    batch = run(path)
    assert (batch.rows_read, batch.rows_inserted, batch.rows_rejected) == (2, 2, 0)
    first, second = fake.seen
    assert (first.visit_date, first.discharge_date) == (dt.date(2025, 1, 2), dt.date(2025, 1, 3))
    assert first.total_cost == Decimal("1200.5")
    assert (first.is_tcm, first.other_diagnoses) == (True, ["E11.9", "J06.9"])
    assert (second.visit_date, second.total_cost, second.is_tcm) == (
        dt.date(2025, 1, 1),
        Decimal("1000.00"),
        False,
    )


def test_xlsx_merged_header_cells_refused(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    head = HEADER.split(",")
    head[2] = "机构"
    path = xlsx(tmp_path, [head, GOOD.split(",")], merge="B1:C1")
    with pytest.raises(importing.ImportRefused) as exc:
        run(path)
    assert (
        exc.value.message == "表头第 3 列为空（可能是合并单元格）：请取消合并，并为每一列填写列名"
    )
    assert ImportBatch.objects.count() == 0


def test_not_an_excel_file(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(importing.ImportRefused, match="无法读取 Excel 文件"):
        run(path)


def test_settlements_file(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    header = (
        "来源编号,结算类别,证件号码,结算日期,机构/药店名称,机构级别,转诊备案,总费用,统筹基金支付"
    )
    row = 'YB1,县域外就医,439901195103150033,2025/3/10,省人民医院,三级,是,"12,800.00",¥8960'
    batch = run(write(tmp_path, "s.csv", f"{header}\n{row}\n"), kind=ImportKind.SETTLEMENTS)
    assert batch.rows_inserted == 1
    data = fake.seen[0]
    assert isinstance(data, services.ExternalSettlementInput)
    assert (data.kind, data.level, data.is_referred) == ("out_of_county", "3", True)
    assert (data.settlement_date, data.total_cost, data.fund_paid) == (
        dt.date(2025, 3, 10),
        Decimal("12800.00"),
        Decimal("8960"),
    )


# ------------------------------------------------------------------ batches


def test_reimport_is_unchanged_and_a_corrected_row_updates(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, "a.csv", f"{HEADER}\n{GOOD}\n{BAD}\n")
    first = run(path)
    again = run(path)
    assert (first.rows_inserted, first.rows_rejected) == (1, 1)
    assert (again.rows_inserted, again.rows_unchanged, again.rows_rejected) == (0, 1, 1)
    fixed = write(
        tmp_path,
        "b.csv",
        f"{HEADER}\n{GOOD.replace('168.50', '170.00')}\n{BAD.replace(',123,', ',439901199006120033,')}\n",
    )
    third = run(fixed)
    assert (third.rows_inserted, third.rows_updated, third.rows_rejected) == (1, 1, 0)
    assert ImportBatch.objects.count() == 3


def test_chunks_commit_and_crash_resumes(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    lines = [f"E{i},439901195103150033,QH0001,门诊,2025-01-02,I10,{i}.00" for i in range(1, 11)]
    lines.insert(4, BAD.replace("E2", "X"))
    path = write(tmp_path, "a.csv", HEADER + "\n" + "\n".join(lines) + "\n")
    fake.fail_after = 6
    with pytest.raises(RuntimeError, match="模拟崩溃"):
        run(path, chunk_size=3)
    batch = ImportBatch.objects.get()
    # chunks of rows 2-4 and 5-7 committed (6 inserted incl. the first of chunk 3? no: 5 good + 1 bad)
    assert batch.status == BatchStatus.RUNNING
    assert batch.last_committed_row == 7
    assert (batch.rows_read, batch.rows_inserted, batch.rows_rejected) == (6, 5, 1)
    fake.fail_after = None
    resumed = run(path, chunk_size=3)
    assert resumed.pk == batch.pk
    assert resumed.status == BatchStatus.DONE
    assert resumed.finished_at is not None
    assert (
        resumed.rows_read,
        resumed.rows_inserted,
        resumed.rows_unchanged,
        resumed.rows_rejected,
    ) == (11, 10, 0, 1)
    assert resumed.last_committed_row == 12
    assert ImportRowError.objects.filter(batch=batch).count() == 1
    # A finished batch is not resumed: a re-run is a new batch with everything unchanged.
    again = run(path, chunk_size=3)
    assert again.pk != batch.pk
    assert (again.rows_unchanged, again.rows_rejected) == (10, 1)


def test_error_report_holds_original_columns_and_reasons(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    batch = run(write(tmp_path, "a.csv", f"{HEADER},备注\n{GOOD},\n{BAD},看错了\n"))
    out = io.BytesIO()
    importing.write_error_report(batch, out)
    sheet = load_workbook(io.BytesIO(out.getvalue()), read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["行号", *HEADER.split(","), "备注", "错误原因"]
    assert rows[1][0] == 3
    assert rows[1][2] == "123"
    assert rows[1][-2] == "看错了"
    assert rows[1][-1] == "证件号码：身份证号应为 18 位"


@pytest.mark.parametrize("kind", [ImportKind.ENCOUNTERS, ImportKind.SETTLEMENTS])
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_templates_have_chinese_headers_and_an_example(tmp_path, fake, kind, fmt) -> None:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    importing.write_template(kind, out, fmt)
    path = tmp_path / f"t.{fmt}"
    path.write_bytes(out.getvalue())
    if fmt == "xlsx":
        sheet = load_workbook(path, read_only=True).worksheets[0]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    else:
        rows = [line.split(",") for line in path.read_text("utf-8-sig").splitlines()]
    assert rows[0] == [c.header for c in importing.columns_for(kind)]
    # The template itself imports (its example row goes through the pipeline).
    batch = run(path, kind=kind)
    assert batch.rows_read == 1
    assert fake.seen[0].external_id == importing.columns_for(kind)[0].example


def test_cli_prints_counts_and_writes_the_report(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, "visits.csv", f"{HEADER}\n{GOOD}\n{BAD}\n")
    out = io.StringIO()
    call_command("import", "encounters", str(path), "--source", "HIS-QH0001", stdout=out)
    text = out.getvalue()
    assert "读取 2，新增 1，更新 0，未变 0，拒绝 1" in text
    report = tmp_path / "visits.errors.xlsx"
    assert f"错误报告：{report}" in text
    assert report.exists()


def test_cli_says_why_the_error_report_cannot_be_written(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, "visits.csv", f"{HEADER}\n{GOOD}\n{BAD}\n")
    report = tmp_path / "no" / "e.xlsx"
    with pytest.raises(CommandError) as refused:
        call_command(
            "import", "encounters", str(path), "--source", "HIS-QH0001", "--errors", str(report)
        )
    assert str(refused.value) == f"无法写入 {report}：目录 {tmp_path / 'no'} 不存在"


def test_cli_refuses_a_bad_file(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, "visits.csv", "来源编号\nE1\n")
    with pytest.raises(CommandError, match="文件被拒绝，未写入任何数据：缺少必填列：证件号码"):
        call_command("import", "encounters", str(path), "--source", "HIS")


def test_xlsxwriter_files_read_back(tmp_path, fake) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "w.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, HEADER.split(","))
    sheet.write_row(1, 0, GOOD.split(","))
    book.close()
    assert run(path).rows_inserted == 1


def test_crash_resume_with_real_services(world, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from yigongti.encounters.models import Encounter

    rows = [
        f"R{i},{'439901195103150033' if i % 2 else '439901199006120033'},QH0001,门诊,2025-01-{i:02d},I10,{i}.00"
        for i in range(1, 8)
    ]
    path = write(
        tmp_path,
        "a.csv",
        HEADER + ",统筹基金支付\n" + "\n".join(f"{r},{r.rsplit(',', 1)[1]}" for r in rows) + "\n",
    )
    real = services.upsert_encounters
    calls = {"n": 0}

    def crashing(cleaned, *, batch=None, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("进程被杀")
        return real(cleaned, batch=batch, **kw)

    monkeypatch.setattr(services, "upsert_encounters", crashing)
    with pytest.raises(RuntimeError, match="进程被杀"):
        run(path, chunk_size=3)
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.last_committed_row, batch.rows_inserted) == (
        BatchStatus.RUNNING,
        7,
        6,
    )
    assert Encounter.objects.count() == 6
    assert treating_spans() == {}  # granted when the batch finishes, not per chunk
    monkeypatch.setattr(services, "upsert_encounters", real)
    resumed = run(path, chunk_size=3)
    assert resumed.pk == batch.pk
    assert (resumed.status, resumed.rows_read, resumed.rows_inserted, resumed.rows_rejected) == (
        BatchStatus.DONE,
        7,
        7,
        0,
    )
    assert Encounter.objects.count() == 7
    # Care relationships are granted once at the end, from every row of the batch: the rows
    # committed before the crash included.
    assert treating_spans() == {
        ("439901195103150033", "QH0001"): (dt.date(2025, 1, 1), dt.date(2026, 1, 7)),
        ("439901199006120033", "QH0001"): (dt.date(2025, 1, 2), dt.date(2026, 1, 6)),
    }


def treating_spans() -> dict[tuple[str, str], tuple[dt.date, dt.date | None]]:
    from yigongti.residents.models import CareRelationship

    return {
        (c.resident.id_number, c.institution.code): (c.valid_from, c.valid_to)
        for c in CareRelationship.objects.filter(source="encounter").select_related(
            "resident", "institution"
        )
    }


def test_care_granted_per_policy_version_of_each_visit(world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from yigongti.core.models import PolicyParameter

    PolicyParameter.objects.create(
        key="access.treating_days_after_encounter",
        effective_from=dt.date(2025, 1, 5),
        value=30,
        source="测试：自1月5日起改为30天",
    )
    lines = [
        f"R{i},439901195103150033,QH0001,门诊,2025-01-{i:02d},I10,10.00,10.00" for i in (1, 3, 5, 7)
    ] + ["R9,439901199006120033,QH0001,门诊,2025-01-09,I10,10.00,10.00"]
    path = write(tmp_path, "b.csv", HEADER + ",统筹基金支付\n" + "\n".join(lines) + "\n")
    assert run(path).rows_inserted == 5
    # 张: 1月1日、3日就诊按365天（至2026-01-03），5日、7日按30天（至2月6日），取最远者；陈: 30天。
    assert treating_spans() == {
        ("439901195103150033", "QH0001"): (dt.date(2025, 1, 1), dt.date(2026, 1, 3)),
        ("439901199006120033", "QH0001"): (dt.date(2025, 1, 9), dt.date(2025, 2, 8)),
    }
