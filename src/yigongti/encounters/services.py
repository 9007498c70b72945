"""Writers of encounters and external settlements (the contract every source maps onto).

Pages, the API, CSV/XLSX imports, FHIR bundles and the generator all build ``EncounterInput``
/ ``ExternalSettlementInput`` values and call the functions here, so every source gets the
same validation. CONTRACT (filled in by the encounters work; signatures are fixed):

- ``clean_encounter(data, ctx) -> CleanEncounter`` validates one row and raises
  ``DomainError(field_errors)`` with Chinese messages keyed by the input field names.
- ``upsert_encounters(cleaned, *, batch=None) -> UpsertCounts`` writes validated rows,
  idempotent by ``(source_system, external_id)``: new → inserted, same content → unchanged,
  different content → updated. It grants the treating institution a ``CareRelationship``.
- The same pair for external settlements.
- ``ValidationContext.load()`` preloads what validation needs (code catalogues, institution
  and resident lookups) so a large import validates without a query per row.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import repeat
from typing import Any, TypeVar

from django.db import connection, models, transaction
from django.db.models.functions import Coalesce

from yigongti.core import clock
from yigongti.core.choices import AccessBasis
from yigongti.core.errors import DomainError
from yigongti.core.queries import parameter_resolver
from yigongti.encounters import rules
from yigongti.encounters.choices import ExternalKind, Setting
from yigongti.encounters.models import (
    DiagnosisCode,
    Encounter,
    EncounterProcedure,
    ExternalSettlement,
    ImportBatch,
    ProcedureCode,
)
from yigongti.organizations.choices import InstitutionLevel
from yigongti.organizations.models import Department, Institution
from yigongti.residents import rules as resident_rules
from yigongti.residents.choices import IdType
from yigongti.residents.models import Resident
from yigongti.residents.services import bulk_ensure_care_relationships
from yigongti.staff.models import Practitioner

Errors = dict[str, list[str]]
_T = TypeVar("_T")

TREATING_DAYS_KEY = "access.treating_days_after_encounter"
CARE_SOURCE = "encounter"
LOOKUP_CHUNK = 900  # keys per IN (...) query, under SQLite's variable limit
WRITE_CHUNK = 2000  # rows per existence check and bulk write
_ID_TYPES = frozenset(IdType.values)
_LEVELS = frozenset(InstitutionLevel.values)
_REGION = re.compile(r"^(\d{6}|\d{12})$")


@dataclass
class EncounterInput:
    """One encounter as any source delivers it (already split into typed fields)."""

    source_system: str
    external_id: str
    id_number: str  # the resident's identity document number (居民身份证 unless id_type)
    institution_code: str
    setting: str  # outpatient | emergency | inpatient
    visit_date: dt.date | None  # visit date, or admission date for inpatients
    principal_diagnosis: str
    total_cost: Decimal | None
    id_type: str = "01"
    patient_name: str = ""  # when given, must match the MPI record
    department_name: str = ""
    doctor_code: str = ""  # Practitioner.code
    discharge_date: dt.date | None = None
    other_diagnoses: list[str] = field(default_factory=list)
    procedures: list[str] = field(default_factory=list)  # ICD-9-CM3 codes
    is_tcm: bool = False
    drug_cost: Decimal = Decimal("0")
    material_cost: Decimal = Decimal("0")
    exam_cost: Decimal = Decimal("0")
    service_cost: Decimal = Decimal("0")
    insurance_type: str = "resident"
    fund_paid: Decimal = Decimal("0")
    personal_paid: Decimal = Decimal("0")
    deductible: Decimal = Decimal("0")


@dataclass
class ExternalSettlementInput:
    """One out-of-county or retail-pharmacy settlement from the insurance bureau."""

    source_system: str
    external_id: str
    kind: str  # out_of_county | pharmacy
    id_number: str
    settlement_date: dt.date | None
    institution_name: str
    total_cost: Decimal | None
    id_type: str = "01"
    patient_name: str = ""
    setting: str = "outpatient"
    admission_date: dt.date | None = None
    discharge_date: dt.date | None = None
    region_code: str = ""
    region_name: str = ""
    level: str = "0"
    principal_diagnosis: str = ""
    is_referred: bool = False
    insurance_type: str = "resident"
    fund_paid: Decimal = Decimal("0")
    personal_paid: Decimal = Decimal("0")


@dataclass(frozen=True)
class CleanEncounter:
    values: dict[str, Any]
    procedures: tuple[tuple[str, int | None], ...]
    content_hash: str


@dataclass(frozen=True)
class CleanSettlement:
    values: dict[str, Any]
    content_hash: str


@dataclass
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


# The columns of a stored encounter that a cleaned encounter fills, in the order of an
# ``EncounterRows`` row; the writer adds ``batch_id``, ``created_at`` and ``updated_at``.
ROW_FIELDS: tuple[str, ...] = (
    "source_system",
    "external_id",
    "resident_id",
    "institution_id",
    "department_id",
    "department_name",
    "doctor_id",
    "setting",
    "visit_date",
    "discharge_date",
    "principal_diagnosis",
    "other_diagnoses",
    "is_tcm",
    "total_cost",
    "drug_cost",
    "material_cost",
    "exam_cost",
    "service_cost",
    "insurance_type",
    "fund_paid",
    "personal_paid",
    "deductible",
    "content_hash",
)
ROW_WIDTH = len(ROW_FIELDS)  # a row holds these, then its procedures
_AT = {name: i for i, name in enumerate(ROW_FIELDS)}
_ROW_DATES = frozenset({"visit_date", "discharge_date"})
_ROW_MONEY = frozenset(
    {
        "total_cost",
        "drug_cost",
        "material_cost",
        "exam_cost",
        "service_cost",
        "fund_paid",
        "personal_paid",
        "deductible",
    }
)
_ROW_DEFAULTS: dict[str, Any] = {
    "department_id": None,
    "department_name": "",
    "doctor_id": None,
    "discharge_date": None,
    "other_diagnoses": [],
    "is_tcm": False,
    "insurance_type": "resident",
    **dict.fromkeys(_ROW_MONEY - {"total_cost"}, Decimal("0")),
}


def encounter_row(clean: CleanEncounter) -> tuple[Any, ...]:
    """A cleaned encounter as a row of ``ROW_FIELDS`` followed by its procedures.

    Dates are ISO text, amounts the text of their ``Decimal`` and other diagnoses JSON text:
    what Django's adapters and the SQLite driver make of the ``date``, ``Decimal`` and list
    values when binding them, so on SQLite a row is bound as it is (other databases get the
    values back through ``clean_of_row``). Text is also far cheaper to pickle than
    ``Decimal`` and ``date`` objects when a cleaning process hands rows to the writer."""
    values = clean.values
    out: list[Any] = []
    for name in ROW_FIELDS[:-1]:
        value = values[name] if name in values else _ROW_DEFAULTS[name]
        if value is None:
            pass
        elif name in _ROW_MONEY or name in _ROW_DATES:
            value = str(value)
        elif name == "other_diagnoses":
            value = json.dumps(value)
        out.append(value)
    out.append(clean.content_hash)
    out.append(tuple(clean.procedures))
    return tuple(out)


def clean_of_row(row: tuple[Any, ...]) -> CleanEncounter:
    """The ``CleanEncounter`` of a row of ``encounter_row`` (its inverse)."""
    values: dict[str, Any] = {}
    for name, value in zip(ROW_FIELDS[:-1], row, strict=False):
        if value is None:
            pass
        elif name in _ROW_MONEY:
            value = Decimal(value)
        elif name in _ROW_DATES:
            value = dt.date.fromisoformat(value)
        elif name == "other_diagnoses":
            value = json.loads(value)
        values[name] = value
    return CleanEncounter(
        values=values, procedures=tuple(row[ROW_WIDTH]), content_hash=row[ROW_WIDTH - 1]
    )


class EncounterRows:
    """Cleaned encounters as the writer binds them: rows of ``encounter_row``.

    A file import's cleaning (the fast lane, or ``encounter_row`` of a ``clean_encounter``
    result) adds rows; ``upsert_encounters`` writes them. Pickled (to go from a cleaning
    process to the writing one) it is one tuple per column, which loads several times faster
    than a tuple per row, and the writer binds the columns zipped back into rows with no
    Python step per row."""

    __slots__ = ("_columns", "_rows")

    def __init__(self, rows: Iterable[tuple[Any, ...]] = ()) -> None:
        self._rows: list[tuple[Any, ...]] | None = list(rows)
        self._columns: list[tuple[Any, ...]] | None = None

    @classmethod
    def of(cls, cleaned: Iterable[CleanEncounter]) -> EncounterRows:
        return cls(encounter_row(c) for c in cleaned)

    def add(self, row: tuple[Any, ...]) -> None:
        self.rows().append(row)

    def append(self, clean: CleanEncounter) -> None:
        self.add(encounter_row(clean))

    def rows(self) -> list[tuple[Any, ...]]:
        if self._rows is None:
            assert self._columns is not None
            self._rows = list(zip(*self._columns, strict=True))
            self._columns = None
        return self._rows

    def columns(self) -> list[tuple[Any, ...]]:
        """One tuple per column: ``ROW_FIELDS``, then the procedures."""
        if self._columns is None:
            rows = self.rows()
            self._columns = list(zip(*rows, strict=True)) if rows else [()] * (ROW_WIDTH + 1)
            self._rows = None
        return self._columns

    def __len__(self) -> int:
        return len(self._rows) if self._rows is not None else len(self.columns()[0])

    def __getstate__(self) -> list[tuple[Any, ...]]:
        return self.columns()

    def __setstate__(self, state: list[tuple[Any, ...]]) -> None:
        self._rows, self._columns = None, state

    def runs(self) -> Iterator[EncounterRows]:
        """The rows in runs with no ``(source, external id)`` twice, in order (the whole in
        one run when no key repeats, as in a file import's chunk)."""
        columns = self.columns()
        if len(set(zip(columns[0], columns[1], strict=True))) == len(self):
            yield self
            return
        run: list[tuple[Any, ...]] = []
        seen: set[tuple[str, str]] = set()
        for row in self.rows():
            key = (row[0], row[1])
            if key in seen:
                yield EncounterRows(run)
                run, seen = [], set()
            run.append(row)
            seen.add(key)
        if run:
            yield EncounterRows(run)


class ResidentIndex:
    """``(id_type, id_number)`` → ``(resident id, name)``, filled in chunks and remembered.

    Importers call ``prefetch`` with the keys of the rows they are about to validate (one
    query per 900 keys); a key not prefetched is looked up on its own. Each resident is loaded
    at most once per context, so a million rows over half a million people stay bounded by
    one small tuple per person. Merged records resolve to the surviving record.
    """

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], tuple[int, str] | None] = {}
        # (id_type, number as written) → the MPI's form, or a ValueError's message
        self._normal: dict[tuple[str, str], tuple[bool, str]] = {}

    def normalise(self, id_type: str, id_number: str, today: dt.date) -> str:
        """``_normalise_number`` remembered per written form (a person recurs in many rows)."""
        found = self._normal.get((id_type, id_number))
        if found is not None:  # the usual case, without building the closure below
            if found[0]:
                return found[1]
            raise ValueError(found[1])
        return _remembered(
            self._normal,
            (id_type, id_number),
            lambda: _normalise_number(id_type, id_number, today),
        )

    def __len__(self) -> int:
        return len(self._known)

    def prefetch(self, keys: Iterable[tuple[str, str]]) -> None:
        by_type: dict[str, list[str]] = {}
        for key in keys:
            if key not in self._known:
                by_type.setdefault(key[0], []).append(key[1])
        for id_type, numbers in by_type.items():
            unique = sorted(set(numbers))
            for start in range(0, len(unique), LOOKUP_CHUNK):
                chunk = unique[start : start + LOOKUP_CHUNK]
                for number in chunk:
                    self._known[(id_type, number)] = None
                rows = Resident.objects.filter(id_type=id_type, id_number__in=chunk).values_list(
                    "id_number", "pk", "name", "merged_into_id"
                )
                for number, pk, name, merged_into in rows:
                    self._known[(id_type, number)] = (merged_into or pk, name)

    def get(self, key: tuple[str, str]) -> tuple[int, str] | None:
        if key not in self._known:
            self.prefetch([key])
        return self._known[key]


@dataclass
class ValidationContext:
    """Lookups that validation needs, preloaded once per import (no query per row)."""

    today: dt.date
    diagnoses: frozenset[str]
    procedures: dict[str, int | None]
    institutions: dict[str, int]  # member institution code → id
    practitioners: dict[str, int]  # practitioner code → id
    departments: dict[tuple[int, str], int]  # (institution id, department name) → id
    residents: ResidentIndex
    _diagnosis_memo: dict[str, tuple[bool, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, *, today: dt.date | None = None) -> ValidationContext:
        return cls(
            today=today or clock.today(),
            diagnoses=frozenset(DiagnosisCode.objects.values_list("code", flat=True)),
            procedures=dict(ProcedureCode.objects.values_list("code", "grade")),
            institutions=dict(
                Institution.objects.filter(medcom__isnull=False).values_list("code", "pk")
            ),
            practitioners=dict(Practitioner.objects.values_list("code", "pk")),
            departments={
                (inst, name): pk
                for inst, name, pk in Department.objects.values_list("institution_id", "name", "pk")
            },
            residents=ResidentIndex(),
        )

    def prefetch_residents(self, rows: Iterable[EncounterInput | ExternalSettlementInput]) -> None:
        """Load the residents of a chunk of rows in a few queries before validating them."""
        keys = []
        for row in rows:
            try:
                number = self.residents.normalise(row.id_type, row.id_number, self.today)
            except ValueError:
                continue
            keys.append((row.id_type, number))
        self.residents.prefetch(keys)

    def diagnosis(self, text: str) -> str:
        """``rules.resolve_diagnosis`` against the catalogue, remembered per written form."""
        found = self._diagnosis_memo.get(text)
        if found is not None:  # the usual case, without building the closure below
            if found[0]:
                return found[1]
            raise ValueError(found[1])
        return _remembered(
            self._diagnosis_memo, text, lambda: rules.resolve_diagnosis(text, self.diagnoses)
        )


def _remembered(memo: dict[Any, tuple[bool, str]], key: Any, compute: Callable[[], str]) -> str:
    """``compute()`` once per key: its result, or its ValueError raised again."""
    found = memo.get(key)
    if found is None:
        try:
            found = (True, compute())
        except ValueError as exc:
            found = (False, str(exc))
        memo[key] = found
    if not found[0]:
        raise ValueError(found[1])
    return found[1]


def _normalise_number(id_type: str, id_number: str, today: dt.date) -> str:
    """The document number as the MPI stores it; GB 11643 messages for a malformed one."""
    text = (id_number or "").strip().replace(" ", "").upper()
    if not text:
        raise ValueError("证件号码不能为空")
    if id_type == IdType.RESIDENT_ID:
        return resident_rules.parse_id_number(text, today=today).number
    return text


def _resolve_resident(
    id_type: str, id_number: str, patient_name: str, ctx: ValidationContext, errors: Errors
) -> tuple[int | None, str]:
    """``(resident id, the number as the MPI writes it)``; errors go into ``errors``."""
    if id_type not in _ID_TYPES:
        errors["id_type"] = [f"不支持的证件类型“{id_type}”"]
        return None, ""
    try:
        number = ctx.residents.normalise(id_type, id_number, ctx.today)
    except ValueError as exc:
        errors["id_number"] = [str(exc)]
        return None, ""
    found = ctx.residents.get((id_type, number))
    if found is None:
        errors["id_number"] = [f"证件号码“{number}”在居民主索引中不存在，请先建档"]
        return None, number
    resident_id, name = found
    if patient_name.strip() and patient_name.strip() != name:
        errors["patient_name"] = ["姓名与主索引不符"]
    return resident_id, number


def _text(errors: Errors, name: str, value: str, label: str, max_length: int) -> str:
    try:
        return rules.check_required(value, label, max_length)
    except ValueError as exc:
        errors[name] = [str(exc)]
        return ""


def _money(
    errors: Errors, name: str, value: Any, label: str, *, required: bool = False
) -> Decimal | None:
    try:
        return rules.check_money(value, label, required=required)
    except ValueError as exc:
        errors[name] = [str(exc)]
        return None


def _merge(errors: Errors, more: Errors) -> None:
    for key, messages in more.items():
        errors.setdefault(key, []).extend(messages)


def clean_encounter(data: EncounterInput, ctx: ValidationContext) -> CleanEncounter:
    """Validate one encounter and collect every error; no writes.

    Raises ``DomainError`` keyed by the input field names, with Chinese messages.
    """
    errors: Errors = {}
    values: dict[str, Any] = {
        "source_system": _text(errors, "source_system", data.source_system, "来源系统", 64),
        "external_id": _text(errors, "external_id", data.external_id, "来源编号", 64),
    }
    resident_id, number = _resolve_resident(
        data.id_type, data.id_number, data.patient_name or "", ctx, errors
    )
    code = (data.institution_code or "").strip()
    institution_id = ctx.institutions.get(code)
    if not code:
        errors["institution_code"] = ["机构代码不能为空"]
    elif institution_id is None:
        errors["institution_code"] = [f"机构代码“{code}”不存在或不是医共体成员单位"]
    setting: str | None = None
    try:
        setting = rules.check_setting(data.setting)
    except ValueError as exc:
        errors["setting"] = [str(exc)]
    _merge(
        errors,
        rules.check_encounter_dates(setting, data.visit_date, data.discharge_date, ctx.today),
    )

    principal = ""
    if not (data.principal_diagnosis or "").strip():
        errors["principal_diagnosis"] = ["主要诊断不能为空"]
    else:
        try:
            principal = ctx.diagnosis(data.principal_diagnosis)
        except ValueError as exc:
            errors["principal_diagnosis"] = [str(exc)]
    others: list[str] = []
    for text in data.other_diagnoses:
        if not (text or "").strip():
            continue
        try:
            other = ctx.diagnosis(text)
        except ValueError as exc:
            errors.setdefault("other_diagnoses", []).append(str(exc))
            continue
        if other != principal and other not in others:
            others.append(other)
    procedures: list[tuple[str, int | None]] = []
    for text in data.procedures:
        if not (text or "").strip():
            continue
        try:
            procedures.append(rules.resolve_procedure(text, ctx.procedures))
        except ValueError as exc:
            errors.setdefault("procedures", []).append(str(exc))

    doctor_code = (data.doctor_code or "").strip()
    doctor_id = ctx.practitioners.get(doctor_code) if doctor_code else None
    if doctor_code and doctor_id is None:
        errors["doctor_code"] = [f"医生工号“{doctor_code}”不存在"]
    department_name = (data.department_name or "").strip()
    if len(department_name) > 64:
        errors["department_name"] = ["科室名称不能超过64个字符"]

    insurance_type = ""
    try:
        insurance_type = rules.check_insurance_type(data.insurance_type)
    except ValueError as exc:
        errors["insurance_type"] = [str(exc)]
    total = _money(errors, "total_cost", data.total_cost, "总费用", required=True)
    parts = {
        name: _money(errors, name, getattr(data, name), label)
        for name, label in (
            ("drug_cost", "药品费"),
            ("material_cost", "耗材费"),
            ("exam_cost", "检查检验费"),
            ("service_cost", "医疗服务费"),
        )
    }
    fund = _money(errors, "fund_paid", data.fund_paid, "统筹基金支付")
    personal = _money(errors, "personal_paid", data.personal_paid, "个人支付")
    deductible = _money(errors, "deductible", data.deductible, "起付线")
    amounts = [total, fund, personal, deductible, *parts.values()]
    if all(a is not None for a in amounts):
        assert total is not None and fund is not None and personal is not None
        clean_parts = {k: v for k, v in parts.items() if v is not None}
        _merge(errors, rules.check_cost_split(total, clean_parts, fund, personal, deductible))
        _merge(errors, rules.check_uninsured_fund(insurance_type, fund))
    if errors:
        raise DomainError(errors)

    assert institution_id is not None and setting is not None
    values.update(
        resident_id=resident_id,
        institution_id=institution_id,
        department_id=ctx.departments.get((institution_id, department_name)),
        department_name=department_name,
        doctor_id=doctor_id,
        setting=setting,
        visit_date=data.visit_date,
        discharge_date=data.discharge_date if setting == Setting.INPATIENT else None,
        principal_diagnosis=principal,
        other_diagnoses=others,
        is_tcm=bool(data.is_tcm),
        total_cost=total,
        insurance_type=insurance_type,
        fund_paid=fund,
        personal_paid=personal,
        deductible=deductible,
        **parts,
    )
    natural: dict[str, Any] = {
        "id_type": data.id_type,
        "id_number": number,
        "institution_code": code,
        "doctor_code": doctor_code,
        "procedures": procedures,
    }
    digest = rules.content_hash({**values, **natural}, rules.ENCOUNTER_HASH_FIELDS)
    return CleanEncounter(values=values, procedures=tuple(procedures), content_hash=digest)


def clean_external_settlement(
    data: ExternalSettlementInput, ctx: ValidationContext
) -> CleanSettlement:
    """Validate one out-of-county or pharmacy settlement; no writes."""
    errors: Errors = {}
    values: dict[str, Any] = {
        "source_system": _text(errors, "source_system", data.source_system, "来源系统", 64),
        "external_id": _text(errors, "external_id", data.external_id, "来源编号", 64),
    }
    kind = ""
    try:
        kind = rules.check_external_kind(data.kind)
    except ValueError as exc:
        errors["kind"] = [str(exc)]
    resident_id, number = _resolve_resident(
        data.id_type, data.id_number, data.patient_name or "", ctx, errors
    )
    try:
        rules.check_date_not_future(data.settlement_date, "结算日期", ctx.today)
    except ValueError as exc:
        errors["settlement_date"] = [str(exc)]
    institution_name = _text(
        errors, "institution_name", data.institution_name, "机构/药店名称", 100
    )
    setting = ""
    try:
        setting = rules.check_setting(data.setting)
    except ValueError as exc:
        errors["setting"] = [str(exc)]
    if kind == ExternalKind.PHARMACY and setting and setting != Setting.OUTPATIENT:
        errors["setting"] = ["定点零售药店结算的就诊类型只能是门诊"]
    if setting == Setting.INPATIENT:
        if data.admission_date is None:
            errors["admission_date"] = ["住院结算必须填写入院日期"]
        if data.discharge_date is None:
            errors["discharge_date"] = ["住院结算必须填写出院日期"]
    for name, label, value in (
        ("admission_date", "入院日期", data.admission_date),
        ("discharge_date", "出院日期", data.discharge_date),
    ):
        if value is not None and value > ctx.today:
            errors.setdefault(name, []).append(f"{label} {value.isoformat()} 晚于今天")
    _merge(errors, rules.check_stay_dates(data.admission_date, data.discharge_date))
    region_code = (data.region_code or "").strip()
    if region_code and not _REGION.match(region_code):
        errors["region_code"] = [f"所在地区代码“{region_code}”应为6位或12位数字"]
    region_name = (data.region_name or "").strip()
    if len(region_name) > 64:
        errors["region_name"] = ["所在地区不能超过64个字符"]
    level = (data.level or "0").strip()
    if level not in _LEVELS:
        errors["level"] = [f"机构级别“{level}”无效，应为0（未定级）、1、2或3"]
    principal = ""
    if (data.principal_diagnosis or "").strip():
        try:
            principal = ctx.diagnosis(data.principal_diagnosis)
        except ValueError as exc:
            errors["principal_diagnosis"] = [str(exc)]
    insurance_type = ""
    try:
        insurance_type = rules.check_insurance_type(data.insurance_type)
    except ValueError as exc:
        errors["insurance_type"] = [str(exc)]
    total = _money(errors, "total_cost", data.total_cost, "总费用", required=True)
    fund = _money(errors, "fund_paid", data.fund_paid, "统筹基金支付")
    personal = _money(errors, "personal_paid", data.personal_paid, "个人支付")
    if total is not None and fund is not None and personal is not None:
        _merge(errors, rules.check_cost_split(total, {}, fund, personal))
        _merge(errors, rules.check_uninsured_fund(insurance_type, fund))
    if errors:
        raise DomainError(errors)
    values.update(
        kind=kind,
        resident_id=resident_id,
        settlement_date=data.settlement_date,
        setting=setting,
        admission_date=data.admission_date,
        discharge_date=data.discharge_date,
        institution_name=institution_name,
        region_code=region_code,
        region_name=region_name,
        level=level,
        principal_diagnosis=principal,
        is_referred=bool(data.is_referred),
        insurance_type=insurance_type,
        total_cost=total,
        fund_paid=fund,
        personal_paid=personal,
    )
    natural = {"id_type": data.id_type, "id_number": number}
    return CleanSettlement(
        values=values,
        content_hash=rules.content_hash({**values, **natural}, rules.SETTLEMENT_HASH_FIELDS),
    )


# ---------------------------------------------------------------------------
# Writers: bulk, idempotent by (source_system, external_id)
# ---------------------------------------------------------------------------


def _existing(
    model: type[Encounter] | type[ExternalSettlement], keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, str]]:
    """``(source_system, external_id)`` → ``(id, content_hash)`` of the rows already stored:
    one plain query per 900 keys of a source (served by the unique source index)."""
    by_source: dict[str, list[str]] = {}
    for source, external_id in keys:
        ids = by_source.get(source)
        if ids is None:
            ids = by_source[source] = []
        ids.append(external_id)
    found: dict[tuple[str, str], tuple[int, str]] = {}
    if not by_source:
        return found
    qn = connection.ops.quote_name
    meta = model._meta
    column = {f.name: qn(f.column) for f in meta.concrete_fields}
    select = "SELECT {}, {}, {} FROM {} WHERE {} = %s AND {} IN ".format(  # noqa: S608 - quoted names
        column["external_id"],
        qn(meta.pk.column),
        column["content_hash"],
        qn(meta.db_table),
        column["source_system"],
        column["external_id"],
    )
    with connection.cursor() as cursor:
        for source, ids in by_source.items():
            for start in range(0, len(ids), LOOKUP_CHUNK):
                part = ids[start : start + LOOKUP_CHUNK]
                cursor.execute(select + "(" + ", ".join(["%s"] * len(part)) + ")", [source, *part])
                for external_id, pk, digest in cursor.fetchall():
                    found[(source, external_id)] = (pk, digest)
    return found


def _none_stored(
    model: type[Encounter] | type[ExternalSettlement],
    sources: Iterable[str],
    external_ids: Iterable[str],
) -> bool:
    """True when no stored row of this one source has an external id between the least and
    the greatest of these (then none of these is stored: a first import of ids that grow,
    as HIS numbers do, needs one probe per chunk instead of one per row). Only on SQLite,
    whose text order (bytes of UTF-8) is Python's; elsewhere always False."""
    if connection.vendor != "sqlite":
        return False
    source = set(sources)
    ids = list(external_ids)
    if len(source) != 1 or not ids:
        return False
    qn = connection.ops.quote_name
    meta = model._meta
    column = {f.name: qn(f.column) for f in meta.concrete_fields}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM {} WHERE {} = %s AND {} BETWEEN %s AND %s LIMIT 1".format(  # noqa: S608
                qn(meta.db_table), column["source_system"], column["external_id"]
            ),
            [source.pop(), min(ids), max(ids)],
        )
        return cursor.fetchone() is None


def _unique_runs(items: list[_T], key: Callable[[_T], tuple[str, str]]) -> Iterator[list[_T]]:
    """Chunks of at most ``WRITE_CHUNK`` items with no key twice, in input order, so a key
    repeated in one call is written, then compared (unchanged or updated) like a re-import."""
    run: list[_T] = []
    seen: set[tuple[str, str]] = set()
    for item in items:
        k = key(item)
        if k in seen or len(run) >= WRITE_CHUNK:
            yield run
            run, seen = [], set()
        run.append(item)
        seen.add(k)
    if run:
        yield run


def _source_key(item: CleanEncounter | CleanSettlement) -> tuple[str, str]:
    return (item.values["source_system"], item.values["external_id"])


_FIXED = ("source_system", "external_id", "created_at")


class _RowWriter:
    """Plain ``INSERT``/``UPDATE`` statements for one model, run with ``executemany``.

    The values are already validated and normalised by the ``clean_*`` functions, so only
    dates, datetimes, decimals and JSON need the backend's adaptation; building model
    instances and ``bulk_update``'s ``CASE WHEN`` cost several times the database work.
    """

    def __init__(self, model: type[models.Model], *, update_exclude: tuple[str, ...] = ()):
        ops = connection.ops
        qn = ops.quote_name
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.defaults = {f.attname: f.get_default() for f in self.fields}
        self.adapters: list[Callable[[Any], Any] | None] = []
        for f in self.fields:
            if isinstance(f, models.DateTimeField):
                self.adapters.append(ops.adapt_datetimefield_value)
            elif isinstance(f, models.DateField):
                self.adapters.append(ops.adapt_datefield_value)
            elif isinstance(f, models.DecimalField):
                self.adapters.append(ops.adapt_decimalfield_value)
            elif isinstance(f, models.JSONField):
                self.adapters.append(functools.partial(ops.adapt_json_value, encoder=f.encoder))
            else:
                self.adapters.append(None)
        self.columns = [
            (f.attname, self.defaults[f.attname], adapt)
            for f, adapt in zip(self.fields, self.adapters, strict=True)
        ]
        self._adapted: dict[dt.datetime, Any] = {}
        table = qn(model._meta.db_table)
        columns = [qn(f.column) for f in self.fields]
        self.insert_sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - quoted names
            table, ", ".join(columns), ", ".join(["%s"] * len(columns))
        )
        self.update_idx = [i for i, f in enumerate(self.fields) if f.name not in update_exclude]
        self.update_sql = "UPDATE {} SET {} WHERE {} = %s".format(  # noqa: S608 - quoted names
            table,
            ", ".join(f"{columns[i]} = %s" for i in self.update_idx),
            qn(model._meta.pk.column),
        )

    def row(self, values: dict[str, Any]) -> list[Any]:
        out = []
        memo = self._adapted
        for name, default, adapt in self.columns:
            value = values.get(name, default)
            if adapt is not None and value is not None:
                if type(value) is dt.datetime:  # the same stamp on every row: adapt it once
                    found = memo.get(value)
                    if found is None:
                        found = memo[value] = adapt(value)
                    value = found
                else:
                    value = adapt(value)
            out.append(value)
        return out

    def insert(self, rows: list[dict[str, Any]]) -> None:
        self.insert_rows([self.row(r) for r in rows])

    def insert_rows(self, rows: list[list[Any]]) -> None:
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(self.insert_sql, rows)

    def update(self, rows: list[tuple[int, dict[str, Any]]]) -> None:
        self.update_rows([(pk, self.row(values)) for pk, values in rows])

    def update_rows(self, rows: list[tuple[int, list[Any]]]) -> None:
        if rows:
            params = [[full[i] for i in self.update_idx] + [pk] for pk, full in rows]
            with connection.cursor() as cursor:
                cursor.executemany(self.update_sql, params)


class _EncounterWriter:
    """``INSERT``/``UPDATE`` of ``EncounterRows`` with ``executemany``.

    On SQLite a row's values are bound as they are (see ``encounter_row``) and the stamps
    added by ``zip``, so a chunk of new rows takes no Python step per row; other databases
    get each row adapted from its ``CleanEncounter`` values like any model write."""

    STAMPS = ("batch_id", "created_at", "updated_at")

    def __init__(self) -> None:
        ops = connection.ops
        qn = ops.quote_name
        meta = Encounter._meta
        column_of = {f.attname: f.column for f in meta.concrete_fields if not f.primary_key}
        if sorted(column_of) != sorted((*ROW_FIELDS, *self.STAMPS)):  # a new column needs a place
            raise RuntimeError("ROW_FIELDS does not match the Encounter table")
        self.ops = ops
        self.direct = connection.vendor == "sqlite"
        self.plain = _RowWriter(Encounter)  # the adapters of every other database
        plain_names = [f.attname for f in self.plain.fields]
        self.plain_order = [plain_names.index(name) for name in (*ROW_FIELDS, *self.STAMPS)]
        columns = [qn(column_of[name]) for name in (*ROW_FIELDS, *self.STAMPS)]
        table = qn(meta.db_table)
        self.insert_sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - quoted names
            table, ", ".join(columns), ", ".join(["%s"] * len(columns))
        )
        # Updates keep the key and created_at.
        kept = [c for c in columns if c not in columns[:2] and c != columns[ROW_WIDTH + 1]]
        self.update_sql = "UPDATE {} SET {} WHERE {} = %s".format(  # noqa: S608 - quoted names
            table, ", ".join(f"{c} = %s" for c in kept), qn(meta.pk.column)
        )

    def _adapted(self, row: tuple[Any, ...], batch_id: int | None, now: Any) -> list[Any]:
        """A row's values adapted for this database, in the order of ``insert_sql``."""
        clean = clean_of_row(row)
        stamps = {"batch_id": batch_id, "created_at": now, "updated_at": now}
        full = self.plain.row({**clean.values, "content_hash": clean.content_hash, **stamps})
        return [full[i] for i in self.plain_order]

    def insert(
        self, rows: EncounterRows | list[tuple[Any, ...]], batch_id: int | None, now: dt.datetime
    ) -> None:
        if not len(rows):
            return
        if self.direct:
            stamp = self.ops.adapt_datetimefield_value(now)
            columns = (
                rows.columns()[:ROW_WIDTH]
                if isinstance(rows, EncounterRows)
                else list(zip(*rows, strict=True))[:ROW_WIDTH]
            )
            params: Any = zip(
                *columns, repeat(batch_id), repeat(stamp), repeat(stamp), strict=False
            )
        else:
            rows = rows.rows() if isinstance(rows, EncounterRows) else rows
            params = [self._adapted(row, batch_id, now) for row in rows]
        with connection.cursor() as cursor:
            cursor.executemany(self.insert_sql, params)

    def update(
        self, rows: list[tuple[int, tuple[Any, ...]]], batch_id: int | None, now: dt.datetime
    ) -> None:
        if not rows:
            return
        if self.direct:
            stamp = self.ops.adapt_datetimefield_value(now)
            params = [(*row[2:ROW_WIDTH], batch_id, stamp, pk) for pk, row in rows]
        else:
            params = []
            for pk, row in rows:
                full = self._adapted(row, batch_id, now)
                params.append((*full[2:ROW_WIDTH], full[ROW_WIDTH], full[ROW_WIDTH + 2], pk))
        with connection.cursor() as cursor:
            cursor.executemany(self.update_sql, params)


@functools.cache
def _encounter_writer(vendor: str) -> _EncounterWriter:
    """One writer per process and database vendor (its statements and adapters)."""
    return _EncounterWriter()


def upsert_encounters(
    cleaned: list[CleanEncounter] | EncounterRows,
    *,
    batch: ImportBatch | None = None,
    grant_care: bool = True,
) -> UpsertCounts:
    """Write validated encounters: insert new, update changed (replacing their procedures),
    count unchanged; grant each treating institution a care relationship. The caller owns
    the transaction (this runs in a savepoint of it).

    ``cleaned`` is a list of ``clean_encounter`` results or, from a file import, the same as
    ``EncounterRows``. A file import passes ``grant_care=False`` for its chunks and calls
    ``do_grant_treating_for_batch`` once at the end (a resumed batch included), which
    derives the same relationships from the batch's stored rows in a few queries."""
    rows = cleaned if isinstance(cleaned, EncounterRows) else EncounterRows.of(cleaned)
    counts = UpsertCounts()
    now = clock.now()
    days = parameter_resolver(TREATING_DAYS_KEY) if grant_care else None
    with transaction.atomic():
        for run in rows.runs():
            _write_encounters(run, batch, now, counts, days)
    return counts


def _write_encounters(
    run: EncounterRows,
    batch: ImportBatch | None,
    now: dt.datetime,
    counts: UpsertCounts,
    days: Callable[[dt.date], Any] | None,
) -> None:
    columns = run.columns()
    existing = (
        {}
        if _none_stored(Encounter, columns[0], columns[1])
        else _existing(Encounter, zip(columns[0], columns[1], strict=True))
    )
    batch_id = batch.pk if batch else None
    encounters = _encounter_writer(connection.vendor)
    fresh: EncounterRows | list[tuple[Any, ...]]
    changed: list[tuple[int, tuple[Any, ...]]] = []
    if not existing:  # all new (a first import)
        fresh = run
    else:
        fresh = []
        for row in run.rows():
            found = existing.get((row[0], row[1]))
            if found is None:
                fresh.append(row)
            elif found[1] == row[ROW_WIDTH - 1]:
                counts.unchanged += 1
            else:
                changed.append((found[0], row))
    encounters.insert(fresh, batch_id, now)
    encounters.update(changed, batch_id, now)
    changed_ids = [pk for pk, _ in changed]
    for start in range(0, len(changed_ids), LOOKUP_CHUNK):
        EncounterProcedure.objects.filter(
            encounter_id__in=changed_ids[start : start + LOOKUP_CHUNK]
        ).delete()
    if isinstance(fresh, EncounterRows):
        fresh_columns = fresh.columns()
        with_procedures = [
            (source, external_id, procedures)
            for source, external_id, procedures in zip(
                fresh_columns[0], fresh_columns[1], fresh_columns[ROW_WIDTH], strict=True
            )
            if procedures
        ]
    else:
        with_procedures = [(row[0], row[1], row[ROW_WIDTH]) for row in fresh if row[ROW_WIDTH]]
    new_ids = _existing(Encounter, [(source, ext) for source, ext, _ in with_procedures])
    written = [
        (new_ids[(source, ext)][0], procedures) for source, ext, procedures in with_procedures
    ] + [(pk, row[ROW_WIDTH]) for pk, row in changed]
    if any(procedures for _, procedures in written):
        _RowWriter(EncounterProcedure).insert(
            [
                {"encounter_id": pk, "seq": seq, "code": code, "grade": grade}
                for pk, procedures in written
                for seq, (code, grade) in enumerate(procedures, start=1)
            ]
        )
    counts.inserted += len(fresh)
    counts.updated += len(changed)
    if days is not None:
        rows = fresh.rows() if isinstance(fresh, EncounterRows) else fresh
        _grant_treating([*rows, *(row for _, row in changed)], days)


def _grant_treating(rows: list[tuple[Any, ...]], days: Callable[[dt.date], Any]) -> None:
    """Make sure each (resident, institution) pair of these encounter rows has a treating
    care relationship covering its visits plus the policy window: nothing is written when one
    already covers it, an adjoining or overlapping encounter-sourced one is widened, and
    otherwise one is added; so a pair keeps one row however many imports touch it.

    The checks are those of ``residents.services.do_grant_care_relationship`` (a grantable
    kind, the end not before the start), which this bulk path stands in for.
    """
    wanted: dict[tuple[int, int], list[Any]] = {}
    for row in rows:
        start = dt.date.fromisoformat(row[_AT["visit_date"]])
        discharge = row[_AT["discharge_date"]]
        end = rules.treating_valid_to(
            start, discharge and dt.date.fromisoformat(discharge), int(days(start))
        )
        pair = (row[_AT["resident_id"]], row[_AT["institution_id"]])
        ref = f"{row[0]}:{row[1]}"[:64]
        span = wanted.get(pair)
        if span is None:
            wanted[pair] = [start, end, ref]
        else:
            span[0] = min(span[0], start)
            span[1] = max(span[1], end)
    bulk_ensure_care_relationships(
        {pair: (span[0], span[1], span[2]) for pair, span in wanted.items()},
        kind=AccessBasis.TREATING,
        source=CARE_SOURCE,
    )


def do_grant_treating_for_batch(batch: ImportBatch, *, pairs_per_write: int = 5000) -> int:
    """Grant the treating care relationships of every encounter a batch inserted or updated,
    as ``upsert_encounters`` would have: per (resident, institution), from the first visit
    until the policy's days after the last visit or discharge. Reads the batch's rows in
    aggregate (one query per run of visit dates with the same policy value), so a resumed
    batch covers the rows committed before the crash too. Returns the pairs considered."""
    days = parameter_resolver(TREATING_DAYS_KEY)
    rows = Encounter.objects.filter(batch=batch)
    dates = sorted(rows.values_list("visit_date", flat=True).distinct())
    runs: list[list[Any]] = []  # [first date, last date, days] with one policy value each
    for day in dates:
        value = int(days(day))
        if runs and runs[-1][2] == value:
            runs[-1][1] = day
        else:
            runs.append([day, day, value])
    pairs = 0
    for first, last, window in runs:
        spans = (
            rows.filter(visit_date__range=(first, last))
            .values("resident_id", "institution_id")
            .annotate(
                start=models.Min("visit_date"),
                end=models.Max(Coalesce("discharge_date", "visit_date")),
                ref=models.Max("external_id"),
            )
            .order_by("resident_id", "institution_id")
            .values_list("resident_id", "institution_id", "start", "end", "ref")
        )
        wanted: dict[tuple[int, int], tuple[dt.date, dt.date, str]] = {}
        for resident_id, institution_id, start, end, ref in spans.iterator(chunk_size=5000):
            valid_to = rules.treating_valid_to(start, end, window)
            wanted[(resident_id, institution_id)] = (
                start,
                valid_to,
                f"{batch.source_system}:{ref}",
            )
            if len(wanted) >= pairs_per_write:
                pairs += len(wanted)
                bulk_ensure_care_relationships(
                    wanted, kind=AccessBasis.TREATING, source=CARE_SOURCE
                )
                wanted = {}
        pairs += len(wanted)
        bulk_ensure_care_relationships(wanted, kind=AccessBasis.TREATING, source=CARE_SOURCE)
    return pairs


def upsert_external_settlements(
    cleaned: list[CleanSettlement], *, batch: ImportBatch | None = None
) -> UpsertCounts:
    """Write validated external settlements, idempotent like ``upsert_encounters``."""
    counts = UpsertCounts()
    now = clock.now()
    stamp = {"batch_id": batch.pk if batch else None, "updated_at": now, "created_at": now}
    with transaction.atomic():
        writer = _RowWriter(ExternalSettlement, update_exclude=_FIXED)
        for run in _unique_runs(cleaned, _source_key):
            existing = _existing(ExternalSettlement, [_source_key(c) for c in run])
            fresh: list[dict[str, Any]] = []
            changed: list[tuple[int, dict[str, Any]]] = []
            for item in run:
                found = existing.get(_source_key(item))
                row = {**item.values, **stamp, "content_hash": item.content_hash}
                if found is None:
                    fresh.append(row)
                elif found[1] == item.content_hash:
                    counts.unchanged += 1
                else:
                    changed.append((found[0], row))
            writer.insert(fresh)
            writer.update(changed)
            counts.inserted += len(fresh)
            counts.updated += len(changed)
    return counts
