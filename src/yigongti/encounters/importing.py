"""File imports of encounters and external settlements (CSV in UTF-8/GBK, XLSX), in batches.

Reading streams row by row (never the whole file). Each row is mapped onto
``EncounterInput`` / ``ExternalSettlementInput`` and validated by the same services that
pages and the API use; good rows are upserted and bad ones kept as ``ImportRowError`` with a
Chinese reason per field. Every chunk is written in its own savepoint and committed with the
chunks around it every ``COMMIT_ROWS`` rows, and ``last_committed_row`` lets a re-run of the
same file resume a batch that a crash left ``running``.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gc
import io
import multiprocessing
import re
import resource
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from django.db import connection, connections, transaction

from yigongti.core import clock
from yigongti.core.cli import sha256_file
from yigongti.core.errors import DomainError
from yigongti.encounters import services
from yigongti.encounters.choices import BatchStatus, ExternalKind, ImportKind, Setting
from yigongti.encounters.fast_import import EncounterFastLane
from yigongti.encounters.models import ImportBatch, ImportRowError
from yigongti.organizations.choices import InstitutionLevel
from yigongti.residents.choices import InsuranceType

CHUNK_SIZE = 5000
COMMIT_ROWS = 20_000  # rows per commit (of whole chunks, each in a savepoint)
SNIFF_BYTES = 1 << 20  # the encoding is decided on the first megabyte
EXCEL_EPOCH = dt.date(1899, 12, 30)
ERROR_COLUMN = "错误原因"


class ImportRefused(Exception):
    """The whole file is refused (bad header, unreadable, empty): nothing was written."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


# --------------------------------------------------------------------------- column specs


@dataclass(frozen=True)
class Column:
    header: str  # the Chinese header of the template
    field: str  # the input field name (also accepted as a header)
    type: str  # text | date | money | bool | list | setting | kind | insurance | level
    required: bool
    example: str
    rule: str


ENCOUNTER_COLUMNS: tuple[Column, ...] = (
    Column(
        "来源编号",
        "external_id",
        "text",
        True,
        "HIS-20250101-0001",
        "来源系统内唯一；同一来源系统再次导入时按此编号更新",
    ),
    Column(
        "证件号码",
        "id_number",
        "text",
        True,
        "439901195103150033",
        "居民身份证号（GB 11643，校验位、出生日期有效），须已在居民主索引中",
    ),
    Column("证件类型", "id_type", "text", False, "01", "默认 01（居民身份证）"),
    Column("姓名", "patient_name", "text", False, "张德福", "填写时须与居民主索引一致"),
    Column("机构编码", "institution_code", "text", True, "QH0001", "医共体成员机构编码"),
    Column("就诊类型", "setting", "setting", True, "门诊", "门诊 / 急诊 / 住院"),
    Column("科室", "department_name", "text", False, "内科", "科室名称"),
    Column("医生工号", "doctor_code", "text", False, "QH0001-0001", "须为该机构的卫生人员工号"),
    Column(
        "就诊/入院日期",
        "visit_date",
        "date",
        True,
        "2025-01-02",
        "YYYY-MM-DD、YYYY/M/D、YYYYMMDD 或 Excel 日期",
    ),
    Column("出院日期", "discharge_date", "date", False, "", "住院必填，不早于入院日期"),
    Column(
        "主要诊断编码",
        "principal_diagnosis",
        "text",
        True,
        "I10",
        "ICD-10（国家临床版），须在编码库中",
    ),
    Column("其他诊断编码", "other_diagnoses", "list", False, "E11.9", "多个用 ; 、； 或 , 分隔"),
    Column("手术操作编码", "procedures", "list", False, "", "ICD-9-CM3，多个用 ; 、； 或 , 分隔"),
    Column("中医类", "is_tcm", "bool", False, "否", "是/否、1/0、Y/N，默认否"),
    Column("总费用", "total_cost", "money", True, "168.50", "元，两位小数；可含千分位和 ¥"),
    Column("药品费", "drug_cost", "money", False, "80.00", "元；各分项之和不超过总费用"),
    Column("耗材费", "material_cost", "money", False, "0", "元"),
    Column("检查检验费", "exam_cost", "money", False, "60.00", "元"),
    Column("医疗服务费", "service_cost", "money", False, "28.50", "元"),
    Column(
        "参保类型",
        "insurance_type",
        "insurance",
        False,
        "城乡居民",
        "职工 / 城乡居民 / 未参保，默认城乡居民",
    ),
    Column(
        "统筹基金支付",
        "fund_paid",
        "money",
        False,
        "100.00",
        "元；统筹基金支付+个人支付=总费用（误差不超过 1 元）",
    ),
    Column("个人支付", "personal_paid", "money", False, "68.50", "元"),
    Column("起付线", "deductible", "money", False, "0", "元"),
)

SETTLEMENT_COLUMNS: tuple[Column, ...] = (
    Column(
        "来源编号", "external_id", "text", True, "YB-2025-000001", "医保结算流水号，来源系统内唯一"
    ),
    Column("结算类别", "kind", "kind", True, "县域外就医", "县域外就医 / 定点零售药店"),
    Column(
        "证件号码",
        "id_number",
        "text",
        True,
        "439901195103150033",
        "居民身份证号，须已在居民主索引中",
    ),
    Column("证件类型", "id_type", "text", False, "01", "默认 01（居民身份证）"),
    Column("姓名", "patient_name", "text", False, "张德福", "填写时须与居民主索引一致"),
    Column(
        "结算日期",
        "settlement_date",
        "date",
        True,
        "2025-03-10",
        "YYYY-MM-DD、YYYY/M/D、YYYYMMDD 或 Excel 日期",
    ),
    Column("就诊类型", "setting", "setting", False, "住院", "门诊 / 急诊 / 住院，默认门诊"),
    Column("入院日期", "admission_date", "date", False, "2025-03-01", "住院时填写"),
    Column("出院日期", "discharge_date", "date", False, "2025-03-09", "不早于入院日期"),
    Column("机构/药店名称", "institution_name", "text", True, "省人民医院", "就医机构或药店名称"),
    Column("所在地区代码", "region_code", "text", False, "430100", "GB/T 2260 行政区划代码"),
    Column("所在地区", "region_name", "text", False, "长沙市", "地区名称"),
    Column("机构级别", "level", "level", False, "三级", "三级 / 二级 / 一级 / 未定级，默认未定级"),
    Column("主要诊断编码", "principal_diagnosis", "text", False, "I63.9", "ICD-10"),
    Column("转诊备案", "is_referred", "bool", False, "是", "是/否、1/0、Y/N，默认否"),
    Column(
        "参保类型", "insurance_type", "insurance", False, "城乡居民", "职工 / 城乡居民 / 未参保"
    ),
    Column("总费用", "total_cost", "money", True, "12,800.00", "元；可含千分位和 ¥"),
    Column("统筹基金支付", "fund_paid", "money", False, "8,960.00", "元"),
    Column("个人支付", "personal_paid", "money", False, "3,840.00", "元"),
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    ImportKind.ENCOUNTERS: ENCOUNTER_COLUMNS,
    ImportKind.SETTLEMENTS: SETTLEMENT_COLUMNS,
}


def _labels(choices: Any, extra: dict[str, str]) -> dict[str, str]:
    table = {str(v).lower(): str(v) for v in choices.values}
    table.update({str(label): str(v) for v, label in choices.choices})
    table.update(extra)
    return table


SETTINGS = _labels(Setting, {"AMB": "outpatient", "EMER": "emergency", "IMP": "inpatient"})
KINDS = _labels(
    ExternalKind,
    {
        "县域外": "out_of_county",
        "异地就医": "out_of_county",
        "药店": "pharmacy",
        "零售药店": "pharmacy",
    },
)
INSURANCE = _labels(
    InsuranceType,
    {
        "职工": "employee",
        "职工医保": "employee",
        "居民": "resident",
        "城乡居民": "resident",
        "居民医保": "resident",
        "未参保": "none",
        "其他": "none",
    },
)
LEVELS = _labels(
    InstitutionLevel,
    {"三级甲等": "3", "三甲": "3", "三级乙等": "3", "二甲": "2", "二级甲等": "2", "一级甲等": "1"},
)
TRUE = {"是", "1", "y", "yes", "true", "t", "√"}
FALSE = {"否", "0", "n", "no", "false", "f", ""}


def columns_for(kind: str) -> tuple[Column, ...]:
    return COLUMNS[kind]


def field_of(kind: str, header: str) -> str:
    """The input field of a (normalized) header, Chinese or English; ``""`` if unknown."""
    for col in COLUMNS.get(kind, ENCOUNTER_COLUMNS):
        if header in (col.header, col.field):
            return col.field
    return ""


def header_of(kind: str, field_name: str) -> str:
    for col in COLUMNS.get(kind, ()):
        if col.field == field_name:
            return col.header
    return field_name


# --------------------------------------------------------------------------- value parsing


def normalize_header(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("\ufeff", "").replace("\u3000", "").replace(" ", "").strip().rstrip("*")


def cell_text(value: object) -> str:
    """A cell as the user typed it (for the error report and ``raw``)."""
    if value is None:
        return ""
    if type(value) is str:
        return value.strip()
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(value: object) -> dt.date | None:
    """``YYYY-MM-DD``, ``YYYY/M/D``, ``YYYYMMDD``, an Excel date cell or serial (45658)."""
    if type(value) is str and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _excel_serial(float(value))
    text = str(value).strip()
    if not text:
        return None
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass  # the patterns below tell "no such day" from a bad format
    if " " in text:  # "2025-01-02 00:00:00"
        text = text.split(" ", 1)[0]
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            year, month, day = (int(g) for g in m.groups())
            try:
                return dt.date(year, month, day)
            except ValueError:
                raise ValueError("日期不存在") from None
    if re.fullmatch(r"\d{5}(\.0+)?", text):
        return _excel_serial(float(text))
    raise ValueError("日期格式应为 YYYY-MM-DD、YYYY/M/D 或 YYYYMMDD")


def _excel_serial(serial: float) -> dt.date:
    if not 1 <= serial < 2958466:
        raise ValueError("日期格式应为 YYYY-MM-DD、YYYY/M/D 或 YYYYMMDD")
    return EXCEL_EPOCH + dt.timedelta(days=int(serial))


def parse_money(value: object) -> Decimal | None:
    if type(value) is str and value and value[0].isdigit():
        try:
            fast = Decimal(value)
        except InvalidOperation:
            fast = None
        if fast is not None and fast.is_finite():
            return fast
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("金额应为数字")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = str(value).strip()
    if not text:
        return None
    try:
        plain = Decimal(text)  # the common case: "168.50"
    except InvalidOperation:
        plain = None
    if plain is not None and plain.is_finite():
        return plain
    text = text.replace(",", "").replace("，", "").replace(" ", "")
    text = text.lstrip("¥￥").removesuffix("元")
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError("金额应为数字，例如 1234.56") from None
    if not amount.is_finite():
        raise ValueError("金额应为数字，例如 1234.56")
    return amount


def parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = cell_text(value).lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError("应填写 是/否、1/0 或 Y/N")


_SPLIT = re.compile(r"[;；,，、\s]+")


def parse_list(value: object) -> list[str]:
    return [part for part in _SPLIT.split(cell_text(value)) if part]


def _choice(table: dict[str, str], message: str) -> Callable[[object], str | None]:
    def parse(value: object) -> str | None:
        text = cell_text(value)
        if not text:
            return None
        found = table.get(text) or table.get(text.lower())
        if found is None:
            raise ValueError(message)
        return found

    return parse


PARSERS: dict[str, Callable[[object], Any]] = {
    "text": cell_text,
    "date": parse_date,
    "money": parse_money,
    "bool": parse_bool,
    "list": parse_list,
    "setting": _choice(SETTINGS, "应为 门诊、急诊 或 住院"),
    "kind": _choice(KINDS, "应为 县域外就医 或 定点零售药店"),
    "insurance": _choice(INSURANCE, "应为 职工、城乡居民 或 未参保"),
    "level": _choice(LEVELS, "应为 三级、二级、一级 或 未定级"),
}


# --------------------------------------------------------------------------- reading


def detect_encoding(head: bytes) -> str:
    """``utf-8-sig`` when the first chunk decodes strictly as UTF-8, else ``gb18030``."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        decoder.decode(head, final=False)  # a multibyte char cut at the end is fine
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


def _is_xlsx(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == b"PK\x03\x04"


def iter_csv(path: Path) -> Iterator[list[object]]:
    with path.open("rb") as raw:
        encoding = detect_encoding(raw.read(SNIFF_BYTES))
        raw.seek(0)
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        try:
            yield from csv.reader(text)
        except UnicodeDecodeError:
            raise ImportRefused("文件编码无法识别：请保存为 UTF-8 或 GBK 编码的 CSV 文件") from None
        except csv.Error as exc:
            raise ImportRefused(f"CSV 格式错误：{exc}") from None


def iter_xlsx(path: Path) -> Iterator[list[object]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception:
        raise ImportRefused("无法读取 Excel 文件：请上传 .xlsx 格式（Excel 2007 及以上）") from None
    try:
        sheet = book.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield list(values)
    finally:
        book.close()


def iter_cells(path: Path) -> Iterator[list[object]]:
    return iter_xlsx(path) if _is_xlsx(path) else iter_csv(path)


def _blank(cells: list[object]) -> bool:
    for c in cells:  # usually decided by the first cell
        if c.strip() if type(c) is str else cell_text(c):
            return False
    return True


@dataclass
class Header:
    names: list[str]  # normalized header per column position ("" for an unnamed trailing one)
    fields: dict[int, str]  # column position → input field
    unknown: list[str]
    parsers: list[tuple[int, str, Callable[[object], Any]]] = field(default_factory=list)


def read_header(cells: list[object], kind: str) -> Header:
    names = [normalize_header(c) for c in cells]
    while names and not names[-1]:
        names.pop()
    for i, name in enumerate(names):
        if not name:
            raise ImportRefused(
                f"表头第 {i + 1} 列为空（可能是合并单元格）：请取消合并，并为每一列填写列名"
            )
    by_name: dict[str, str] = {}
    for col in COLUMNS[kind]:
        by_name[col.header] = col.field
        by_name[col.field.lower()] = col.field
    fields: dict[int, str] = {}
    unknown: list[str] = []
    seen: dict[str, str] = {}
    for i, name in enumerate(names):
        fld = by_name.get(name) or by_name.get(name.lower())
        if fld is None:
            unknown.append(name)
            continue
        if fld in seen:
            raise ImportRefused(f"表头列重复：{seen[fld]}、{name}")
        seen[fld] = name
        fields[i] = fld
    missing = [c.header for c in COLUMNS[kind] if c.required and c.field not in seen]
    if missing:
        raise ImportRefused("缺少必填列：" + "、".join(missing))
    types = {c.field: c.type for c in COLUMNS[kind]}
    parsers = [(i, fld, PARSERS[types[fld]]) for i, fld in fields.items()]
    return Header(names, fields, unknown, parsers)


# --------------------------------------------------------------------------- rows


@dataclass(slots=True)
class Row:
    number: int
    raw: dict[str, str]  # built lazily from ``cells`` (only a rejected row needs it)
    data: Any  # EncounterInput | ExternalSettlementInput | None
    errors: dict[str, list[str]] = field(default_factory=dict)
    key: str = ""  # external id, for duplicates inside a chunk
    cells: list[object] | None = None
    names: list[str] | None = None
    pending: bool = False  # read but not parsed yet: the fast lane or ``build_row`` does it

    def raw_values(self) -> dict[str, str]:
        if self.cells is not None and self.names is not None and not self.raw:
            cells = self.cells
            self.raw = {
                name: cell_text(cells[i]) if i < len(cells) else ""
                for i, name in enumerate(self.names)
            }
        return self.raw


def build_row(
    number: int, cells: list[object], header: Header, kind: str, source_system: str
) -> Row:
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    width = len(cells)
    for i, fld, parser in header.parsers:
        cell = cells[i] if i < width else None
        try:
            parsed = parser(cell)
        except ValueError as exc:
            errors[fld] = [str(exc)]
            continue
        if parsed is None or parsed == "":
            continue
        values[fld] = parsed
    data: Any
    if kind == ImportKind.ENCOUNTERS:
        data = services.EncounterInput(
            source_system=source_system,
            external_id=values.pop("external_id", ""),
            id_number=values.pop("id_number", ""),
            institution_code=values.pop("institution_code", ""),
            setting=values.pop("setting", ""),
            visit_date=values.pop("visit_date", None),
            principal_diagnosis=values.pop("principal_diagnosis", ""),
            total_cost=values.pop("total_cost", None),
            **values,
        )
    else:
        data = services.ExternalSettlementInput(
            source_system=source_system,
            external_id=values.pop("external_id", ""),
            kind=values.pop("kind", ""),
            id_number=values.pop("id_number", ""),
            settlement_date=values.pop("settlement_date", None),
            institution_name=values.pop("institution_name", ""),
            total_cost=values.pop("total_cost", None),
            **values,
        )
    return Row(number, {}, data, errors, data.external_id, cells, header.names)


def file_rows(path: Path, kind: str, source_system: str) -> tuple[Header, Iterator[Row]]:
    """Read the header (refusing a bad file) and return an iterator over the data rows."""
    cells_iter = iter_cells(path)
    number = 0
    header: Header | None = None
    for cells in cells_iter:
        number += 1
        if _blank(cells):
            continue
        header = read_header(cells, kind)
        break
    if header is None:
        raise ImportRefused("文件为空：没有表头行")
    hdr = header
    start = number

    def rows() -> Iterator[Row]:
        n = start
        names = hdr.names
        for cells in cells_iter:
            n += 1
            if _blank(cells):
                continue
            yield Row(n, {}, None, cells=cells, names=names, pending=True)

    return hdr, rows()


# --------------------------------------------------------------------------- batches


def _pipeline(kind: str) -> tuple[Callable[..., Any], Callable[..., services.UpsertCounts]]:
    if kind == ImportKind.SETTLEMENTS:
        return services.clean_external_settlement, services.upsert_external_settlements
    return services.clean_encounter, services.upsert_encounters


def open_batch(
    *,
    kind: str,
    source_system: str,
    file_name: str,
    sha256: str,
    user: Any = None,
    institution: Any = None,
) -> ImportBatch:
    """The running batch of this file to resume, or a new one (committed at once)."""
    batch = (
        ImportBatch.objects.filter(
            kind=kind,
            source_system=source_system,
            file_sha256=sha256,
            status=BatchStatus.RUNNING,
        )
        .order_by("-pk")
        .first()
    )
    if batch is not None:
        return batch
    return ImportBatch.objects.create(
        kind=kind,
        source_system=source_system,
        file_name=file_name[:255],
        file_sha256=sha256,
        status=BatchStatus.RUNNING,
        started_at=clock.now(),
        started_by=user,
        institution=institution,
    )


@dataclass
class CleanedChunk:
    """One chunk after validation: what its transaction writes (picklable, so a cleaning
    process can hand it to the writing one)."""

    good: Any  # the clean_* results, or services.EncounterRows (encounters of the fast lane)
    bad: list[tuple[int, dict[str, str], dict[str, list[str]]]]  # (row, raw cells, errors)
    rows: int
    last_row: int


def run_batch(
    batch: ImportBatch,
    rows: Iterable[Row],
    *,
    kind: str,
    chunk_size: int = CHUNK_SIZE,
    today: dt.date | None = None,
    message: str = "",
    institution_allowed: Callable[[str], bool] | None = None,
    header: Header | None = None,
    progress: Callable[[ImportBatch], None] | None = None,
) -> ImportBatch:
    """Validate and write ``rows`` chunk by chunk, one savepoint per chunk; resumable.

    ``institution_allowed`` (from the uploader's data scope) rejects encounter rows of
    institutions the uploader may not write for. ``header`` is needed for rows still
    ``pending`` (as ``file_rows`` yields them)."""
    cleaner = _ChunkCleaner(kind, batch.source_system, header, today, institution_allowed)
    chunks = cleaner.chunks(rows, chunk_size, batch.last_committed_row)
    return _write_batch(batch, chunks, kind, cleaner.grants_at_end, message, progress)


def _write_batch(
    batch: ImportBatch,
    chunks: Iterable[CleanedChunk],
    kind: str,
    grants_at_end: bool,
    message: str,
    progress: Callable[[ImportBatch], None] | None,
) -> ImportBatch:
    _clean, upsert = _pipeline(kind)
    # Every id a chunk writes was looked up in this database while validating it, so on
    # SQLite the per-row foreign-key probes (a third of the insert time) are switched off for
    # the chunks, as Django's loaddata does; residents and institutions are never deleted
    # (PROTECT). Inside an enclosing transaction (a page, a test) SQLite ignores the switch.
    with connection.constraint_checks_disabled():
        _write_chunks(batch, chunks, upsert, grants_at_end, progress)
    with transaction.atomic():
        if grants_at_end:  # the chunks left the care relationships to this step
            services.do_grant_treating_for_batch(batch)
        batch.status = BatchStatus.DONE
        batch.finished_at = clock.now()
        batch.message = message[:300]
        batch.save(update_fields=["status", "finished_at", "message"])
    return batch


class _ChunkCleaner:
    """Validates rows chunk by chunk (no writes): pending rows of a file take the fast lane
    where it applies, else ``build_row`` and the services' ``clean_*``."""

    def __init__(
        self,
        kind: str,
        source_system: str,
        header: Header | None,
        today: dt.date | None,
        institution_allowed: Callable[[str], bool] | None,
    ) -> None:
        self.clean, _upsert = _pipeline(kind)
        self.kind = kind
        self.source_system = source_system
        self.header = header
        self.ctx = ctx = services.ValidationContext.load(today=today)
        self.institution_allowed = institution_allowed
        self.lane: EncounterFastLane | None = None
        self.institution_at = -1
        if (
            header is not None
            and kind == ImportKind.ENCOUNTERS
            and isinstance(ctx, services.ValidationContext)
        ):
            positions = {fld: i for i, fld in header.fields.items()}
            self.institution_at = positions.get("institution_code", -1)
            self.lane = EncounterFastLane(
                positions,
                ctx,
                source_system,
                settings=SETTINGS,
                insurance=INSURANCE,
                true_words=frozenset(TRUE),
                false_words=frozenset(FALSE),
                split=_SPLIT,
            )
        # With the fast lane (a real validation context) care is granted once per batch.
        self.grants_at_end = self.lane is not None

    def chunks(
        self, rows: Iterable[Row], chunk_size: int, after_row: int
    ) -> Iterator[CleanedChunk]:
        chunk: list[Row] = []
        for row in rows:
            if row.number <= after_row:
                continue  # committed before a crash
            chunk.append(row)
            if len(chunk) >= chunk_size:
                yield self.clean_chunk(chunk)
                chunk = []
        if chunk:
            yield self.clean_chunk(chunk)

    def clean_chunk(self, chunk: list[Row]) -> CleanedChunk:
        ctx, clean = self.ctx, self.clean
        institution_allowed = self.institution_allowed
        # With the fast lane, encounters go to the writer as rows (services.EncounterRows).
        good: Any = [] if self.lane is None else services.EncounterRows()
        bad: list[tuple[int, dict[str, str], dict[str, list[str]]]] = []
        seen: dict[str, int] = {}
        self.prefetch(chunk)
        for row in chunk:
            if row.pending:
                fast = self.fast_row(row, institution_allowed)
                if fast is not None and row.key not in seen:
                    seen[row.key] = row.number
                    good.add(fast)
                    continue
                row = self.parse(row)
            errors = dict(row.errors)
            cleaned = None
            if row.data is not None:
                try:
                    cleaned = clean(row.data, ctx)
                except DomainError as exc:
                    for name, messages in exc.field_errors.items():
                        errors.setdefault(name, list(messages))
            code = getattr(row.data, "institution_code", "")
            # An unknown code already has its reason; "not in your scope" would only repeat it.
            if (
                institution_allowed is not None
                and code
                and "institution_code" not in errors
                and not institution_allowed(code)
            ):
                errors.setdefault("institution_code", []).append(
                    f"机构编码“{code}”不在您的数据范围内"
                )
            if row.key and not errors:
                if row.key in seen:
                    errors["external_id"] = [f"来源编号与第 {seen[row.key]} 行重复"]
                else:
                    seen[row.key] = row.number
            if errors or cleaned is None:
                bad.append(
                    (row.number, row.raw_values(), errors or {"__all__": ["无法识别的记录"]})
                )
            else:
                good.append(cleaned)
        return CleanedChunk(good, bad, len(chunk), chunk[-1].number)

    def prefetch(self, chunk: list[Row]) -> None:
        """Load the residents of a chunk in a few queries (one per 900) before cleaning it."""
        parsed: list[Any] = []
        keys: list[tuple[str, str]] = []
        lane = self.lane
        for row in chunk:
            if not row.pending:
                if row.data is not None:
                    parsed.append(row.data)
            elif lane is not None and row.cells is not None:
                key = lane.document(row.cells)
                if key is not None:
                    keys.append(key)
            else:
                parsed.append(self.parse(row).data)
        if isinstance(self.ctx, services.ValidationContext):
            self.ctx.residents.prefetch(keys)
            self.ctx.prefetch_residents(parsed)

    def fast_row(
        self, row: Row, institution_allowed: Callable[[str], bool] | None
    ) -> tuple[Any, ...] | None:
        if self.lane is None or row.cells is None:
            return None
        if institution_allowed is not None:
            at = self.institution_at
            code = row.cells[at] if 0 <= at < len(row.cells) else ""
            if not institution_allowed(cell_text(code)):
                return None
        cleaned = self.lane.row(row.cells)
        if cleaned is not None:
            row.key = cleaned[1]  # the external id
        return cleaned

    def parse(self, row: Row) -> Row:
        if not row.pending:
            return row
        assert self.header is not None and row.cells is not None
        parsed = build_row(row.number, row.cells, self.header, self.kind, self.source_system)
        row.data, row.errors, row.key, row.pending = parsed.data, parsed.errors, parsed.key, False
        return row


def _write_chunks(
    batch: ImportBatch,
    chunks: Iterable[CleanedChunk],
    upsert: Callable[..., services.UpsertCounts],
    grants_at_end: bool,
    progress: Callable[[ImportBatch], None] | None,
) -> None:
    """Write the chunks, each in its own savepoint, committing every ``COMMIT_ROWS`` rows.

    Fewer commits write each hot index page to the WAL fewer times (on SQLite a commit of
    5,000 rows into a million-row table is a quarter of the writing). What a failure leaves is
    what one transaction per chunk leaves: a chunk that fails (or a reader that fails before
    the next chunk) rolls back to its savepoint, the chunks before it are committed, and the
    error is raised; only a killed process loses the up to ``COMMIT_ROWS`` rows since the
    last commit, which a re-run redoes."""
    pending = iter(chunks)
    finished = False
    while not finished:
        failure: Exception | None = None
        written = 0
        with transaction.atomic():
            while written < COMMIT_ROWS:
                try:
                    chunk = next(pending, None)
                    if chunk is None:
                        finished = True
                        break
                    _write_chunk(batch, chunk, upsert, grants_at_end)
                except Exception as exc:  # raised once what came before is committed
                    failure = exc
                    break
                written += chunk.rows
                if progress is not None:
                    progress(batch)
        if failure is not None:
            raise failure


def _write_chunk(
    batch: ImportBatch,
    chunk: CleanedChunk,
    upsert: Callable[..., services.UpsertCounts],
    grants_at_end: bool,
) -> None:
    """One savepoint: the good rows, the rejected rows and the batch's counters."""
    with transaction.atomic():
        if not chunk.good:
            counts = services.UpsertCounts()
        elif grants_at_end:
            counts = upsert(chunk.good, batch=batch, grant_care=False)
        else:
            counts = upsert(chunk.good, batch=batch)
        ImportRowError.objects.bulk_create(
            [
                ImportRowError(batch=batch, row_number=number, raw=raw, errors=errors)
                for number, raw, errors in chunk.bad
            ]
        )
        batch.rows_read += chunk.rows
        batch.rows_inserted += counts.inserted
        batch.rows_updated += counts.updated
        batch.rows_unchanged += counts.unchanged
        batch.rows_rejected += len(chunk.bad)
        batch.last_committed_row = chunk.last_row
        batch.save(
            update_fields=[
                "rows_read",
                "rows_inserted",
                "rows_updated",
                "rows_unchanged",
                "rows_rejected",
                "last_committed_row",
            ]
        )


# --------------------------------------------------------------------------- two processes

PARALLEL_MIN_BYTES = 4 << 20  # files above this are cleaned in a second process when possible
CLEANER_GC_THRESHOLD = 50_000  # new objects between the cleaning process's cycle collections
# Peak memory and CPU seconds of the last cleaning process (printed by bench/import.py).
CLEANER_PEAK_KB = [0]
CLEANER_CPU_S = [0.0]


def parallel_possible() -> bool:
    """A second process can clean while this one writes: a forking platform, a database that
    another process can open (not SQLite in memory), and no transaction open around the
    import (the cleaning process could not see its uncommitted rows)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    if connection.in_atomic_block:
        return False
    in_memory = getattr(connection, "is_in_memory_db", lambda: False)
    return not (connection.vendor == "sqlite" and in_memory())


def _clean_in_child(
    out: Any,
    path: Path,
    kind: str,
    source_system: str,
    chunk_size: int,
    after_row: int,
    today: dt.date | None,
    institution_allowed: Callable[[str], bool] | None,
) -> None:
    """The cleaning process: reads the file and sends ``CleanedChunk``s down the pipe, then
    ``("done",)``; a refused file sends ``("refused", message)``, anything else
    ``("error", text)``."""
    # Python's cycle collector runs every 700 new objects by default and rescans the rows a
    # chunk holds each time: a sixth of the cleaning. Cleaning makes no reference cycles that
    # must go early, so this process (which exits when the file is done) collects less often.
    gc.set_threshold(CLEANER_GC_THRESHOLD, *gc.get_threshold()[1:])
    try:
        header, rows = file_rows(path, kind, source_system)
        cleaner = _ChunkCleaner(kind, source_system, header, today, institution_allowed)
        for chunk in cleaner.chunks(rows, chunk_size, after_row):
            out.send(chunk)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        out.send(("done", usage.ru_maxrss, usage.ru_utime + usage.ru_stime))
    except ImportRefused as exc:
        out.send(("refused", exc.message))
    except Exception as exc:  # reported to the writing process, which stops the batch
        out.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        out.close()
        connections.close_all()


def _received(receiver: Any, child: Any) -> Iterator[CleanedChunk]:
    while True:
        try:
            item = receiver.recv()
        except EOFError:
            child.join()
            raise RuntimeError(f"导入校验进程意外退出（退出码 {child.exitcode}）") from None
        if isinstance(item, CleanedChunk):
            yield item
        elif item[0] == "done":
            CLEANER_PEAK_KB[0], CLEANER_CPU_S[0] = item[1], item[2]
            return
        elif item[0] == "refused":
            raise ImportRefused(item[1])
        else:
            raise RuntimeError(f"导入校验进程出错：{item[1]}")


def _run_batch_parallel(
    batch: ImportBatch,
    path: Path,
    *,
    kind: str,
    chunk_size: int,
    today: dt.date | None,
    message: str,
    institution_allowed: Callable[[str], bool] | None,
    progress: Callable[[ImportBatch], None] | None,
) -> ImportBatch:
    """``run_batch`` with the cleaning in a forked process: it reads and validates chunk
    ``n + 1`` while this process writes chunk ``n``. The results are the same; the pipe
    holds about one chunk, so memory stays bounded."""
    grants_at_end = kind == ImportKind.ENCOUNTERS
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    connections.close_all()  # the child opens its own connection
    child = context.Process(
        target=_clean_in_child,
        args=(
            sender,
            path,
            kind,
            batch.source_system,
            chunk_size,
            batch.last_committed_row,
            today,
            institution_allowed,
        ),
        daemon=True,
    )
    child.start()
    sender.close()
    try:
        return _write_batch(
            batch, _received(receiver, child), kind, grants_at_end, message, progress
        )
    finally:
        receiver.close()
        if child.is_alive():
            child.terminate()
        child.join()


def import_file(
    path: Path | str,
    *,
    kind: str,
    source_system: str,
    file_name: str | None = None,
    user: Any = None,
    institution: Any = None,
    chunk_size: int = CHUNK_SIZE,
    today: dt.date | None = None,
    institution_allowed: Callable[[str], bool] | None = None,
    parallel: bool | None = None,
    progress: Callable[[ImportBatch], None] | None = None,
) -> ImportBatch:
    """Import one CSV/XLSX file; raises ``ImportRefused`` (nothing written) for a bad file.

    ``parallel`` (default: files of 4 MiB or more) validates in a second process while this
    one writes, where ``parallel_possible()``; ``progress(batch)`` is called after each
    written chunk."""
    path = Path(path)
    if kind not in COLUMNS:
        raise ImportRefused(f"不支持的导入类型：{kind}")
    source_system = source_system.strip()
    if not source_system:
        raise ImportRefused("请填写来源系统")
    header, rows = file_rows(path, kind, source_system)
    message = ""
    if header.unknown:
        message = "已忽略未识别的列：" + "、".join(header.unknown)
    batch = open_batch(
        kind=kind,
        source_system=source_system,
        file_name=file_name or path.name,
        sha256=sha256_file(path),
        user=user,
        institution=institution,
    )
    if parallel is None:
        parallel = path.stat().st_size >= PARALLEL_MIN_BYTES
    try:
        if parallel and parallel_possible():
            _run_batch_parallel(
                batch,
                path,
                kind=kind,
                chunk_size=chunk_size,
                today=today,
                message=message,
                institution_allowed=institution_allowed,
                progress=progress,
            )
        else:
            run_batch(
                batch,
                rows,
                kind=kind,
                chunk_size=chunk_size,
                today=today,
                message=message,
                institution_allowed=institution_allowed,
                header=header,
                progress=progress,
            )
    except ImportRefused as exc:  # unreadable in the middle: what was committed stays
        batch.status = BatchStatus.FAILED
        batch.finished_at = clock.now()
        batch.message = f"第 {batch.last_committed_row} 行之后中止：{exc.message}"[:300]
        batch.save(update_fields=["status", "finished_at", "message"])
    if batch.rows_read == 0 and batch.status == BatchStatus.DONE and not batch.message:
        batch.message = "文件只有表头，没有数据行"
        batch.save(update_fields=["message"])
    return batch


# --------------------------------------------------------------------------- reports


def error_columns(batch: ImportBatch) -> list[str]:
    """The original headers of the rejected rows: template order first, then the others."""
    order = {c.header: i for i, c in enumerate(COLUMNS.get(batch.kind, ()))}
    order.update({c.field: i for i, c in enumerate(COLUMNS.get(batch.kind, ()))})
    names: set[str] = set()
    for raw in batch.row_errors.values_list("raw", flat=True)[:1000]:
        names.update(raw)
    return sorted(names, key=lambda n: (order.get(n, len(order)), n))


def reason_text(kind: str, errors: dict[str, list[str]]) -> str:
    parts = []
    for name, messages in errors.items():
        text = "；".join(messages)
        parts.append(text if name == "__all__" else f"{header_of(kind, name)}：{text}")
    return "\n".join(parts)


def write_error_report(batch: ImportBatch, out: IO[bytes] | str | Path) -> None:
    """XLSX: row number, the original columns, and ``错误原因`` listing ``字段：原因``."""
    import xlsxwriter

    target = str(out) if isinstance(out, Path) else out
    book = xlsxwriter.Workbook(target, {"constant_memory": True, "in_memory": False})
    sheet = book.add_worksheet("错误行")
    bold = book.add_format({"bold": True, "bg_color": "#F2F2F2"})
    wrap = book.add_format({"text_wrap": True, "font_color": "#C00000"})
    columns = error_columns(batch)
    sheet.write_row(0, 0, ["行号", *columns, ERROR_COLUMN], bold)
    sheet.set_column(1, len(columns), 14)
    sheet.set_column(len(columns) + 1, len(columns) + 1, 60)
    for r, err in enumerate(batch.row_errors.order_by("row_number").iterator(chunk_size=2000), 1):
        sheet.write_number(r, 0, err.row_number)
        for c, name in enumerate(columns, 1):
            sheet.write_string(r, c, str(err.raw.get(name, "")))
        sheet.write_string(r, len(columns) + 1, reason_text(batch.kind, err.errors), wrap)
    book.close()


def write_template(kind: str, out: IO[bytes], fmt: str = "xlsx") -> None:
    """A template with the Chinese headers and one example row."""
    cols = COLUMNS[kind]
    if fmt == "csv":
        text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
        writer = csv.writer(text)
        writer.writerow([c.header for c in cols])
        writer.writerow([c.example for c in cols])
        text.flush()
        text.detach()
        return
    import xlsxwriter

    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("导入模板")
    required = book.add_format({"bold": True, "bg_color": "#FCE4D6"})
    optional = book.add_format({"bold": True, "bg_color": "#F2F2F2"})
    text_fmt = book.add_format({"num_format": "@"})
    for i, col in enumerate(cols):
        sheet.write_string(0, i, col.header, required if col.required else optional)
        sheet.write_comment(0, i, f"{'必填' if col.required else '选填'}：{col.rule}")
        sheet.write_string(1, i, col.example, text_fmt)
        sheet.set_column(i, i, max(10, len(col.header) * 2 + 2), text_fmt)
    sheet.freeze_panes(1, 0)
    book.close()
