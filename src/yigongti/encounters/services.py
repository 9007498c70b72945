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
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from yigongti.encounters.models import ImportBatch


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


class ValidationContext:
    """Lookups that validation needs, preloaded once per import (no query per row)."""

    @classmethod
    def load(cls, *, today: dt.date | None = None) -> ValidationContext:
        raise NotImplementedError


def clean_encounter(data: EncounterInput, ctx: ValidationContext) -> CleanEncounter:
    raise NotImplementedError


def upsert_encounters(
    cleaned: list[CleanEncounter], *, batch: ImportBatch | None = None
) -> UpsertCounts:
    raise NotImplementedError


def clean_external_settlement(
    data: ExternalSettlementInput, ctx: ValidationContext
) -> CleanSettlement:
    raise NotImplementedError


def upsert_external_settlements(
    cleaned: list[CleanSettlement], *, batch: ImportBatch | None = None
) -> UpsertCounts:
    raise NotImplementedError
