"""The fast lane of CSV encounter imports gives exactly what the general path gives.

For every row it accepts, ``build_row`` + ``clean_encounter`` must accept the row too and
produce the same values, procedures and content hash; rows it declines go to the general path
(which reports the reason). Typical rows must be accepted, or the lane is dead weight.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yigongti.core.errors import DomainError
from yigongti.encounters import importing
from yigongti.encounters.choices import ImportKind
from yigongti.encounters.fast_import import EncounterFastLane
from yigongti.encounters.services import (
    CleanEncounter,
    ValidationContext,
    clean_encounter,
    encounter_row,
)

TODAY = dt.date(2025, 12, 31)
ZHANG = "439901195103150033"  # 张德福 (tiny scenario persona)
UNKNOWN = "110101199003070035"  # valid check digit, not in the MPI
SOURCE = "HIS-QH1002"

# Cell values per column: plain good values, good values written differently, and bad ones.
POOLS: dict[str, list[str]] = {
    "external_id": ["MZ1", " MZ2 ", "", "X" * 65],
    "id_number": [ZHANG, " " + ZHANG, "439901195103150034", "123", UNKNOWN, ""],
    "id_type": ["", "01", "03", "99"],
    "patient_name": ["", "张德福", " 张德福 ", "张三"],
    "institution_code": ["QH1002", "QH0001", "NOPE", ""],
    "setting": ["门诊", "住院", "急诊", "outpatient", "Inpatient", "AMB", "x", ""],
    "department_name": ["", "全科", "内科", "长" * 65],
    "doctor_code": ["", "QH1002-0001", "ZZZ"],
    "visit_date": ["2025-06-01", "2025/6/1", "20250601", "2025-02-30", "2026-06-01", "", "45658"],
    "discharge_date": ["", "2025-06-01", "2025-06-05", "2025-05-01", "2026-01-05"],
    "principal_diagnosis": ["I10", "i10", "E119", "E11.900", "ZZZ", "", " J06.9 "],
    "other_diagnoses": ["", "E11.9", "I10;E11.9", "E11.9,E11.9", "bad", "J06.9、K29.7"],
    "procedures": ["", "47.09", "4709", "99.99x", "47.09;51.23"],
    "is_tcm": ["", "是", "否", "1", "Y", "maybe"],
    "total_cost": ["100.00", "100", "100.001", "", "¥100", "1,000.00", "-5", "abc", "1e2"],
    "drug_cost": ["", "0", "60.00", "60", "200", "0.001"],
    "material_cost": ["", "0", "5.5"],
    "exam_cost": ["", "20.00", "30"],
    "service_cost": ["", "10", "0.10"],
    "fund_paid": ["", "70.00", "100", "0", "70.5"],
    "personal_paid": ["", "30.00", "0", "100", "29.5"],
    "deductible": ["", "0", "10", "50"],
    "insurance_type": ["", "职工", "城乡居民", "未参保", "employee", "bad"],
}
COLUMNS = [c for c in importing.ENCOUNTER_COLUMNS if c.field in POOLS]
TYPICAL = {
    "external_id": "MZ1",
    "id_number": ZHANG,
    "id_type": "",
    "patient_name": "张德福",
    "institution_code": "QH1002",
    "setting": "门诊",
    "department_name": "全科",
    "doctor_code": "QH1002-0001",
    "visit_date": "2025-06-01",
    "discharge_date": "",
    "principal_diagnosis": "I10",
    "other_diagnoses": "E11.9",
    "procedures": "",
    "is_tcm": "否",
    "total_cost": "100.00",
    "drug_cost": "60.00",
    "material_cost": "",
    "exam_cost": "20.00",
    "service_cost": "10",
    "fund_paid": "70.00",
    "personal_paid": "30.00",
    "deductible": "0",
    "insurance_type": "城乡居民",
}


@st.composite
def variants(draw: Any) -> dict[str, str]:
    """The typical row with up to five columns changed to any value of their pool."""
    names = draw(st.lists(st.sampled_from(sorted(POOLS)), max_size=5, unique=True))
    return {**TYPICAL, **{name: draw(st.sampled_from(POOLS[name])) for name in names}}


def same_or_declined(ctx: ValidationContext, values: dict[str, str]) -> bool:
    """True when the lane accepts (and then equals the general path); False when it declines."""
    cells = cells_of(values)
    fast = lane_for(ctx).clean(cells)
    if fast is None:
        return False
    slow = general(cells, ctx)
    assert slow is not None, f"fast lane accepted a row the general path refuses: {values}"
    assert fast.values == slow.values
    assert fast.procedures == slow.procedures
    assert fast.content_hash == slow.content_hash
    # The row the writer binds is the same too, to the character.
    assert lane_for(ctx).row(cells) == encounter_row(slow)
    return True


# Counted by hand from POOLS against TYPICAL (outpatient, parts 90 of 100, fund 70 + personal
# 30), accepted/declined per column: external_id 2/2, id_number 2/4, id_type 2/2 (the lane
# takes 01 only), patient_name 3/1, institution_code 2/2, setting 4/4 (住院 lacks a discharge
# date), department_name 3/1, doctor_code 2/1, visit_date 1/6 (the lane takes ISO only),
# discharge_date 2/3, principal_diagnosis 5/2, other_diagnoses 5/1, procedures 4/1,
# is_tcm 5/1, total_cost 3/6, drug_cost 4/2, material/exam/service 3/0 each, fund_paid 2/3,
# personal_paid 2/3, deductible 3/1, insurance_type 4/2 (未参保 with fund paid is refused).
ACCEPTED_SINGLE_CHANGES = 69
DECLINED_SINGLE_CHANGES = 48


def header() -> importing.Header:
    return importing.read_header([c.header for c in COLUMNS], ImportKind.ENCOUNTERS)


def lane_for(ctx: ValidationContext) -> EncounterFastLane:
    hdr = header()
    return EncounterFastLane(
        {fld: i for i, fld in hdr.fields.items()},
        ctx,
        SOURCE,
        settings=importing.SETTINGS,
        insurance=importing.INSURANCE,
        true_words=frozenset(importing.TRUE),
        false_words=frozenset(importing.FALSE),
        split=importing._SPLIT,
    )


def general(cells: list[object], ctx: ValidationContext) -> CleanEncounter | None:
    row = importing.build_row(2, cells, header(), ImportKind.ENCOUNTERS, SOURCE)
    if row.errors:
        return None
    try:
        return clean_encounter(row.data, ctx)
    except DomainError:
        return None


def cells_of(values: dict[str, str]) -> list[object]:
    return [values[c.field] for c in COLUMNS]


@pytest.fixture
def ctx(world: Any) -> ValidationContext:
    return ValidationContext.load(today=TODAY)


@pytest.mark.django_db
class TestFastLane:
    @settings(
        max_examples=200,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(variants())
    def test_accepts_only_what_the_general_path_accepts_identically(
        self, ctx: ValidationContext, values: dict[str, str]
    ) -> None:
        same_or_declined(ctx, values)

    def test_every_single_change_of_a_typical_row(self, ctx: ValidationContext) -> None:
        accepted = declined = 0
        for name, pool in POOLS.items():
            for value in pool:
                if same_or_declined(ctx, {**TYPICAL, name: value}):
                    accepted += 1
                else:
                    declined += 1
        assert (accepted, declined) == (ACCEPTED_SINGLE_CHANGES, DECLINED_SINGLE_CHANGES)

    @pytest.mark.parametrize(
        "changes",
        [
            {},
            {"setting": "住院", "discharge_date": "2025-06-05", "procedures": "47.09;51.23"},
            {"principal_diagnosis": "E119", "other_diagnoses": "I10;E11.9", "is_tcm": "是"},
            {"id_number": " " + ZHANG, "patient_name": "", "doctor_code": "", "deductible": ""},
            {"insurance_type": "未参保", "fund_paid": "0", "personal_paid": "100"},
            {"total_cost": "100", "fund_paid": "70.5", "personal_paid": "29.5"},
        ],
    )
    def test_typical_rows_take_the_fast_lane(
        self, ctx: ValidationContext, changes: dict[str, str]
    ) -> None:
        cells = cells_of({**TYPICAL, **changes})
        fast = lane_for(ctx).clean(cells)
        slow = general(cells, ctx)
        assert fast is not None and slow is not None
        assert (fast.values, fast.procedures, fast.content_hash) == (
            slow.values,
            slow.procedures,
            slow.content_hash,
        )

    @pytest.mark.parametrize(
        "changes",
        [
            {"total_cost": "¥100"},  # valid, but written unusually: the general path parses it
            {"visit_date": "2025/6/1"},
            {"id_number": UNKNOWN},
            {"principal_diagnosis": "ZZZ"},
            {"fund_paid": "10"},
            {"visit_date": "2026-06-01"},
        ],
    )
    def test_unusual_or_bad_rows_are_declined(
        self, ctx: ValidationContext, changes: dict[str, str]
    ) -> None:
        assert lane_for(ctx).clean(cells_of({**TYPICAL, **changes})) is None

    def test_non_text_cells_are_declined(self, ctx: ValidationContext) -> None:
        cells = cells_of(TYPICAL)
        cells[[c.field for c in COLUMNS].index("visit_date")] = dt.date(2025, 6, 1)
        assert lane_for(ctx).clean(cells) is None
        assert general(cells, ctx) is not None
