"""The fast lane of CSV encounter imports: the common, well-formed row in one tight function.

A file import spends most of its time turning two dozen text cells into typed values and
validating them. ``EncounterFastLane.row`` does that for one CSV row with lookups remembered
per distinct cell text (a county has a few hundred institutions, a few hundred diagnosis codes
and 365 dates a year, so nearly every cell is a dictionary hit). It builds the row straight in
the writer's form (``services.encounter_row``: dates as ISO text, amounts as ``0.00`` text,
other diagnoses as JSON text), checking amounts in integer cents; ``clean`` gives the same row
as the ``CleanEncounter`` that ``services.clean_encounter`` builds.

It is not a second set of rules. It accepts a row only when every check of the general path
plainly passes; anything unusual (a non-text cell, ``¥1,234``, an unknown code, an error of
any kind) returns ``None`` and the caller sends the row through ``importing.build_row`` and
``services.clean_encounter``, which produce the exact Chinese reasons. A property test holds
the two lanes to the same result on every row the fast lane accepts.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from yigongti.encounters import rules
from yigongti.encounters.choices import Setting
from yigongti.encounters.services import (
    CleanEncounter,
    ValidationContext,
    clean_of_row,
)

_CENT = rules.CENT
_LIMIT = rules.MONEY_LIMIT
_LIMIT_CENTS = int(_LIMIT * 100)
_ONE_YUAN_CENTS = int(rules.ONE_YUAN * 100)
_ZERO = (0, "0.00")  # an empty amount cell: (cents, text)
_AMOUNTS_KEPT = 1 << 16
_NO_OTHERS = ("[]", "")  # (JSON for the row, text for the hash) of no other diagnoses
_INPATIENT = str(Setting.INPATIENT)
_NONE_INSURED = "none"
_MONEY_FIELDS = (
    "drug_cost",
    "material_cost",
    "exam_cost",
    "service_cost",
    "fund_paid",
    "personal_paid",
    "deductible",
)
_FIELDS = (
    "external_id",
    "id_number",
    "id_type",
    "patient_name",
    "institution_code",
    "setting",
    "department_name",
    "doctor_code",
    "visit_date",
    "discharge_date",
    "principal_diagnosis",
    "other_diagnoses",
    "procedures",
    "is_tcm",
    "total_cost",
    *_MONEY_FIELDS,
    "insurance_type",
)


class _Reject(Exception):
    """The row needs the general path (never shown to users)."""


def _money(text: str) -> Decimal:
    """A plain amount such as ``168.5``; anything else (empty handled by the caller) rejects."""
    if not text[0].isdigit():
        raise _Reject
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise _Reject from None
    if not amount.is_finite() or amount >= _LIMIT:
        raise _Reject
    rounded = amount.quantize(_CENT)
    if rounded != amount:
        raise _Reject
    return rounded


def _cents(text: str) -> int:
    """``_money`` in integer cents: ``168``, ``168.5`` and ``168.50`` directly, any other
    form (``1e2``, ``100.000``) through ``_money`` so that both accept the same texts."""
    whole, _, part = text.partition(".")
    if (
        len(whole) <= 12
        and len(part) <= 2
        and whole.isdigit()
        and whole.isascii()
        and (not part or (part.isdigit() and part.isascii()))
    ):
        cents = int(whole) * 100 + (int(part) * 10 if len(part) == 1 else int(part or 0))
        if cents >= _LIMIT_CENTS:
            raise _Reject
        return cents
    return int(_money(text).scaleb(2))


def _money_text(cents: int) -> str:
    """The text of the amount's ``Decimal`` (two places): what ``encounter_row`` writes."""
    return f"{cents // 100}.{cents % 100:02d}"


class EncounterFastLane:
    """Cleans the common CSV encounter row; ``None`` sends a row to the general path.

    Cells must be text (a CSV file); an absent column reads as an empty cell."""

    def __init__(
        self,
        positions: dict[str, int],
        ctx: ValidationContext,
        source_system: str,
        settings: dict[str, str],
        insurance: dict[str, str],
        true_words: frozenset[str],
        false_words: frozenset[str],
        split: Any,
    ) -> None:
        self.width = max(positions.values(), default=-1) + 1
        # An absent column points just past the row, at the empty cell appended there.
        self.idx = tuple(positions.get(name, self.width) for name in _FIELDS)
        self.ctx = ctx
        self.source_system = source_system.strip()
        self.settings = settings
        self.insurance = insurance
        self.true_words = true_words
        self.false_words = false_words
        self.split = split
        self._dates: dict[str, str] = {}  # cell text → ISO text of a valid date
        self._amounts: dict[str, tuple[int, str]] = {}
        self._lists: dict[str, tuple[str, ...]] = {}
        self._others: dict[tuple[str, str], tuple[str, str]] = {}
        # cell text → (procedures, their text in the content hash)
        self._procedures: dict[str, tuple[tuple[tuple[str, int | None], ...], str]] = {}
        self._today = ctx.today.isoformat()
        self.usable = 0 < len(self.source_system) <= 64

    def _cells(self, cells: list[object]) -> list[Any]:
        width = self.width
        if len(cells) == width:
            return [*cells, ""]
        if len(cells) < width:
            return [*cells, *([""] * (width - len(cells) + 1))]
        return [*cells[:width], ""]

    def document(self, cells: list[object]) -> tuple[str, str] | None:
        """The MPI key ``(id_type, number)`` of a row, for prefetching residents; ``None`` when
        the row will need the general path anyway."""
        present = min(len(cells), self.width)  # as ``_cells`` pads and cuts them
        i_number, i_type = self.idx[1], self.idx[2]
        type_cell: Any = cells[i_type] if i_type < present else ""
        number_cell: Any = cells[i_number] if i_number < present else ""
        try:
            id_type = type_cell.strip() or "01"
            number = number_cell.strip()
            return (id_type, self.ctx.residents.normalise(id_type, number, self.ctx.today))
        except (ValueError, AttributeError):
            return None

    def _date(self, text: str) -> str:
        """The ISO text of a ``YYYY-MM-DD`` date (ISO texts compare like the dates)."""
        found = self._dates.get(text)
        if found is None:
            if len(text) != 10 or text[4] != "-" or text[7] != "-":
                raise _Reject
            try:
                found = dt.date.fromisoformat(text).isoformat()
            except ValueError:
                raise _Reject from None
            self._dates[text] = found
        return found

    def _amount(self, text: str) -> tuple[int, str]:
        """(cents, the amount's text) of a money cell, remembered (a bounded memo: amounts
        repeat, but a large file has many)."""
        cents = _cents(text)
        found = (cents, _money_text(cents))
        if len(self._amounts) >= _AMOUNTS_KEPT:
            self._amounts.clear()
        self._amounts[text] = found
        return found

    def _codes(self, text: str) -> tuple[str, ...]:
        found = self._lists.get(text)
        if found is None:
            out = []
            for part in self.split.split(text):
                if part:
                    try:
                        out.append(self.ctx.diagnosis(part))
                    except ValueError:
                        raise _Reject from None
            found = tuple(out)
            self._lists[text] = found
        return found

    def _other_diagnoses(self, principal: str, text: str) -> tuple[str, str]:
        """(JSON text, hash text) of the other diagnoses of a cell, without the principal one
        and repeats, in order."""
        if not text:
            return _NO_OTHERS
        found = self._others.get((principal, text))
        if found is None:
            others: list[str] = []
            for other in self._codes(text):
                if other != principal and other not in others:
                    others.append(other)
            found = (json.dumps(others), ";".join(others))
            self._others[(principal, text)] = found
        return found

    def _procedure_codes(self, text: str) -> tuple[tuple[tuple[str, int | None], ...], str]:
        found = self._procedures.get(text)
        if found is None:
            out = []
            for part in self.split.split(text):
                if part:
                    try:
                        out.append(rules.resolve_procedure(part, self.ctx.procedures))
                    except ValueError:
                        raise _Reject from None
            codes = tuple(out)
            found = (
                codes,
                ";".join(f"{code}:{'' if grade is None else grade}" for code, grade in codes),
            )
            self._procedures[text] = found
        return found

    def clean(self, cells: list[object]) -> CleanEncounter | None:
        """``row`` as the ``CleanEncounter`` that ``services.clean_encounter`` builds."""
        row = self.row(cells)
        return None if row is None else clean_of_row(row)

    def row(self, cells: list[object]) -> tuple[Any, ...] | None:
        """The row of ``services.encounter_row`` for these cells, or ``None``."""
        if not self.usable:
            return None
        try:
            return self._row(self._cells(cells))
        except (_Reject, AttributeError):  # AttributeError: a cell that is not text
            return None

    def _row(self, c: list[Any]) -> tuple[Any, ...]:
        ctx = self.ctx
        (
            i_external,
            i_number,
            i_type,
            i_name,
            i_institution,
            i_setting,
            i_department,
            i_doctor,
            i_visit,
            i_discharge,
            i_principal,
            i_others,
            i_procedures,
            i_tcm,
            i_total,
            i_drug,
            i_material,
            i_exam,
            i_service,
            i_fund,
            i_personal,
            i_deductible,
            i_insurance,
        ) = self.idx
        external_id = c[i_external].strip()
        if not external_id or len(external_id) > 64:
            raise _Reject
        if c[i_type].strip() not in ("", "01"):
            raise _Reject
        try:
            number = ctx.residents.normalise("01", c[i_number].strip(), ctx.today)
        except ValueError:
            raise _Reject from None
        person = ctx.residents.get(("01", number))
        if person is None:
            raise _Reject
        name = c[i_name].strip()
        if name and name != person[1]:
            raise _Reject
        institution_code = c[i_institution].strip()
        institution_id = ctx.institutions.get(institution_code)
        if institution_id is None:
            raise _Reject
        setting_text = c[i_setting].strip()
        setting = self.settings.get(setting_text) or self.settings.get(setting_text.lower())
        if setting is None:
            raise _Reject
        department_name = c[i_department].strip()
        if len(department_name) > 64:
            raise _Reject
        doctor_code = c[i_doctor].strip()
        doctor_id = None
        if doctor_code:
            doctor_id = ctx.practitioners.get(doctor_code)
            if doctor_id is None:
                raise _Reject
        visit_text = c[i_visit].strip()
        if not visit_text:
            raise _Reject
        visit = self._date(visit_text)
        if visit > self._today:
            raise _Reject
        discharge_text = c[i_discharge].strip()
        discharge = self._date(discharge_text) if discharge_text else None
        inpatient = setting == _INPATIENT
        if inpatient:
            if discharge is None or discharge < visit or discharge > self._today:
                raise _Reject
        elif discharge is not None and discharge != visit:
            raise _Reject
        principal_text = c[i_principal].strip()
        if not principal_text:
            raise _Reject
        try:
            principal = ctx.diagnosis(principal_text)
        except ValueError:
            raise _Reject from None
        others_json, others_text = self._other_diagnoses(principal, c[i_others].strip())
        procedures, procedures_text = self._procedure_codes(c[i_procedures].strip())
        tcm_text = c[i_tcm].strip().lower()
        if tcm_text in self.true_words:
            is_tcm = True
        elif tcm_text in self.false_words:
            is_tcm = False
        else:
            raise _Reject
        insurance_text = c[i_insurance].strip()
        if insurance_text:
            insurance_type = self.insurance.get(insurance_text) or self.insurance.get(
                insurance_text.lower()
            )
            if insurance_type is None:
                raise _Reject
        else:
            insurance_type = "resident"
        total_cell = c[i_total].strip()
        if not total_cell:
            raise _Reject
        known = self._amounts
        total, total_text = known.get(total_cell) or self._amount(total_cell)
        amounts = []
        for i in (i_drug, i_material, i_exam, i_service, i_fund, i_personal, i_deductible):
            cell = c[i].strip()
            amounts.append((known.get(cell) or self._amount(cell)) if cell else _ZERO)
        (
            (drug, drug_t),
            (material, material_t),
            (exam, exam_t),
            (service, service_t),
            (fund, fund_t),
            (personal, personal_t),
            (deductible, deductible_t),
        ) = amounts
        if drug + material + exam + service > total:
            raise _Reject
        if abs(fund + personal - total) > _ONE_YUAN_CENTS or deductible > personal:
            raise _Reject
        if insurance_type == _NONE_INSURED and fund > 0:
            raise _Reject
        kept_discharge = discharge if inpatient else None
        # rules.content_hash over rules.ENCOUNTER_HASH_FIELDS, written out for these types
        # (the property test holds the two equal).
        digest = rules.digest_texts(
            (
                self.source_system,
                external_id,
                "01",
                number,
                institution_code,
                department_name,
                doctor_code,
                setting,
                visit,
                "" if kept_discharge is None else kept_discharge,
                principal,
                others_text,
                "1" if is_tcm else "0",
                total_text,
                drug_t,
                material_t,
                exam_t,
                service_t,
                insurance_type,
                fund_t,
                personal_t,
                deductible_t,
                procedures_text,
            )
        )
        # services.ROW_FIELDS, then the procedures
        return (
            self.source_system,
            external_id,
            person[0],
            institution_id,
            ctx.departments.get((institution_id, department_name)),
            department_name,
            doctor_id,
            setting,
            visit,
            kept_discharge,
            principal,
            others_json,
            is_tcm,
            total_text,
            drug_t,
            material_t,
            exam_t,
            service_t,
            insurance_type,
            fund_t,
            personal_t,
            deductible_t,
            digest,
            procedures,
        )
