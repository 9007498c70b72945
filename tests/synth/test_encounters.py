"""Generated encounters and settlements (synth/encounters.py): determinism, bands, invariants.

A 3,000-resident population keeps the file fast; the shares are checked against the calibrated
bands of reference/calibration.md §2-§4 and §8 (constants in ``synth/calibration.py``).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Count, F, Sum

from yigongti.encounters.models import (
    DiagnosisCode,
    Encounter,
    EncounterProcedure,
    ExternalSettlement,
    ProcedureCode,
)
from yigongti.organizations.choices import InstitutionType
from yigongti.residents.models import CareRelationship, Resident
from yigongti.staff.choices import Profession
from yigongti.staff.models import Practitioner
from yigongti.synth.encounters import EncounterSummary, build_encounters
from yigongti.synth.personas import build_personas
from yigongti.synth.population import build_population

SMALL = 3000
DATA = Path(__file__).resolve().parents[2] / "src/yigongti/encounters/data"


class _Rollback(Exception):
    pass


def ensure_catalogues() -> None:
    """The data migration loads the catalogues; load them here if it has not run (yet)."""
    if not DiagnosisCode.objects.exists():
        with (DATA / "icd10.csv").open(encoding="utf-8") as f:
            DiagnosisCode.objects.bulk_create(
                DiagnosisCode(
                    code=r["code"],
                    name=r["name"],
                    chapter=r["chapter"],
                    chapter_name=r["chapter_name"],
                    notifiable_disease=r["notifiable_disease"],
                    notifiable_class=r["notifiable_class"],
                    is_chronic=r["is_chronic"] == "1",
                )
                for r in csv.DictReader(f)
            )
    if not ProcedureCode.objects.exists():
        with (DATA / "procedures.csv").open(encoding="utf-8") as f:
            ProcedureCode.objects.bulk_create(
                ProcedureCode(
                    code=r["code"], name=r["name"], grade=int(r["grade"]) if r["grade"] else None
                )
                for r in csv.DictReader(f)
            )


def build(seed: int) -> EncounterSummary:
    ensure_catalogues()
    world = build_personas(seed)
    build_population(world, scenario="demo", seed=seed, residents=SMALL)
    return build_encounters(world, scenario="demo", seed=seed)


def dump() -> dict[str, list[tuple[Any, ...]]]:
    return {
        "encounters": list(
            Encounter.objects.order_by("external_id").values_list(
                "external_id",
                "resident__id_number",
                "institution__code",
                "doctor__code",
                "setting",
                "visit_date",
                "discharge_date",
                "principal_diagnosis",
                "total_cost",
                "fund_paid",
                "content_hash",
            )
        ),
        "settlements": list(
            ExternalSettlement.objects.order_by("external_id").values_list(
                "external_id", "resident__id_number", "total_cost", "fund_paid", "content_hash"
            )
        ),
    }


def generate_and_dump(seed: int) -> dict[str, list[tuple[Any, ...]]]:
    rows: dict[str, list[tuple[Any, ...]]] = {}
    try:
        with transaction.atomic():
            build(seed)
            rows = dump()
            raise _Rollback
    except _Rollback:
        pass
    return rows


@pytest.fixture(scope="module")
def generated(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """One population with a year of encounters, shared by the read-only tests below."""
    with django_db_blocker.unblock():
        try:
            with transaction.atomic():
                summary = build(20251)
                yield summary
                raise _Rollback
        except _Rollback:
            pass


@pytest.mark.django_db
def test_same_seed_same_rows_and_another_seed_differs() -> None:
    first = generate_and_dump(7)
    again = generate_and_dump(7)
    other = generate_and_dump(8)
    assert first["encounters"] and first["settlements"]
    assert first == again
    assert first["encounters"] != other["encounters"]


pytestmark = pytest.mark.django_db


def _residents() -> int:
    return Resident.objects.filter(merged_into__isnull=True, is_deceased=False).count()


def test_visits_per_person_and_split_by_setting(generated: EncounterSummary) -> None:
    people = _residents()
    outpatient = Encounter.objects.exclude(setting="inpatient")
    by_type = Counter(
        dict(
            outpatient.order_by()
            .values_list("institution__inst_type")
            .annotate(n=Count("id"))
            .values_list("institution__inst_type", "n")
        )
    )
    out_visits = ExternalSettlement.objects.filter(kind="out_of_county", setting="outpatient")
    county = sum(
        by_type[t]
        for t in (
            InstitutionType.GENERAL_HOSPITAL,
            InstitutionType.TCM_HOSPITAL,
            InstitutionType.MCH_HOSPITAL,
        )
    )
    thc = (
        by_type[InstitutionType.TOWNSHIP_HEALTH_CENTRE]
        + by_type[InstitutionType.COMMUNITY_HEALTH_CENTRE]
    )
    village = (
        by_type[InstitutionType.VILLAGE_CLINIC] + by_type[InstitutionType.COMMUNITY_HEALTH_STATION]
    )
    total = county + thc + village + out_visits.count()
    # §2 6.8 visits per person; §8: private clinics (10-15 %) are not generated.
    assert 0.85 * 6.8 <= total / people <= 0.95 * 6.8
    all_visits = total / 0.9
    assert 0.30 <= county / all_visits <= 0.35
    assert 0.25 <= thc / all_visits <= 0.30
    assert 0.20 <= village / all_visits <= 0.25
    assert 0.05 <= out_visits.count() / all_visits <= 0.10


def test_admissions_and_in_county_share(generated: EncounterSummary) -> None:
    people = _residents()
    inside = Encounter.objects.filter(setting="inpatient")
    outside = ExternalSettlement.objects.filter(kind="out_of_county", setting="inpatient")
    admissions = inside.count() + outside.count()
    assert 18 <= admissions * 100 / people <= 22
    assert 0.85 <= inside.count() / admissions <= 0.90
    at_thc = inside.filter(
        institution__inst_type__in=(
            InstitutionType.TOWNSHIP_HEALTH_CENTRE,
            InstitutionType.COMMUNITY_HEALTH_CENTRE,
        )
    ).count()
    assert 0.15 <= at_thc / inside.count() <= 0.25
    stays = [(d - v).days for v, d in inside.values_list("visit_date", "discharge_date")]
    assert 6 <= sum(stays) / len(stays) <= 9


def _mean(qs: Any) -> float:
    agg = qs.aggregate(t=Sum("total_cost"), n=Count("id"))
    return float(agg["t"]) / agg["n"]


def test_costs_by_level_are_in_the_calibrated_ranges(generated: EncounterSummary) -> None:
    op = Encounter.objects.filter(setting="outpatient")
    ip = Encounter.objects.filter(setting="inpatient")
    general = InstitutionType.GENERAL_HOSPITAL
    thc = InstitutionType.TOWNSHIP_HEALTH_CENTRE
    assert 180 <= _mean(op.filter(institution__inst_type=general)) <= 270
    assert 70 <= _mean(op.filter(institution__inst_type=thc)) <= 110
    assert 30 <= _mean(op.filter(institution__inst_type=InstitutionType.VILLAGE_CLINIC)) <= 50
    assert 6000 <= _mean(ip.filter(institution__inst_type=general)) <= 8000
    assert 1900 <= _mean(ip.filter(institution__inst_type=thc)) <= 2700
    out = ExternalSettlement.objects.filter(kind="out_of_county", setting="inpatient")
    assert 14000 <= _mean(out) <= 20000
    drugs = op.aggregate(d=Sum("drug_cost"), t=Sum("total_cost"))
    assert 0.34 <= float(drugs["d"] / drugs["t"]) <= 0.42
    drugs = ip.aggregate(d=Sum("drug_cost"), t=Sum("total_cost"))
    assert 0.20 <= float(drugs["d"] / drugs["t"]) <= 0.28


def test_every_row_obeys_the_money_and_date_invariants(generated: EncounterSummary) -> None:
    # Checked in Python with Decimals: SQLite stores decimals as REAL, so sums in SQL drift.
    for total, drug, material, exam, service, fund, personal in Encounter.objects.values_list(
        "total_cost",
        "drug_cost",
        "material_cost",
        "exam_cost",
        "service_cost",
        "fund_paid",
        "personal_paid",
    ):
        assert drug + material + exam + service == total
        assert fund + personal == total
    assert not Encounter.objects.filter(discharge_date__lt=F("visit_date")).exists()
    assert not Encounter.objects.filter(setting="inpatient", discharge_date__isnull=True).exists()
    assert not Encounter.objects.filter(fund_paid__lt=0).exists()
    assert not Encounter.objects.filter(personal_paid__lt=0).exists()
    assert not Encounter.objects.filter(deductible__gt=F("total_cost")).exists()
    settlements = ExternalSettlement.objects.all()
    for total, fund, personal in settlements.values_list(
        "total_cost", "fund_paid", "personal_paid"
    ):
        assert fund + personal == total
    year = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert not Encounter.objects.exclude(visit_date__range=year).exists()
    assert (
        not Encounter.objects.exclude(discharge_date__isnull=True)
        .exclude(discharge_date__range=year)
        .exists()
    )
    assert not settlements.exclude(settlement_date__range=year).exists()
    # Cents: every amount has at most two decimals and sums are exact.
    one = Encounter.objects.order_by("pk").first()
    assert one is not None and one.total_cost == one.total_cost.quantize(Decimal("0.01"))


def test_all_codes_are_in_the_catalogues(generated: EncounterSummary) -> None:
    known = set(DiagnosisCode.objects.values_list("code", flat=True))
    used = set(Encounter.objects.values_list("principal_diagnosis", flat=True).distinct())
    used |= set(
        ExternalSettlement.objects.exclude(principal_diagnosis="")
        .values_list("principal_diagnosis", flat=True)
        .distinct()
    )
    for others in Encounter.objects.exclude(other_diagnoses=[]).values_list(
        "other_diagnoses", flat=True
    )[:500]:
        used |= set(others)
    assert used and used <= known
    grades = dict(ProcedureCode.objects.values_list("code", "grade"))
    for code, grade in EncounterProcedure.objects.values_list("code", "grade").distinct():
        assert grades[code] == grade


def test_operations_grades_by_level(generated: EncounterSummary) -> None:
    ops = EncounterProcedure.objects.filter(grade__isnull=False)
    county = ops.filter(encounter__institution__inst_type=InstitutionType.GENERAL_HOSPITAL)
    high = county.filter(grade__gte=3).count()
    assert county.count() > 20
    assert 0.30 <= high / county.count() <= 0.50
    thc = ops.filter(
        encounter__institution__inst_type__in=(
            InstitutionType.TOWNSHIP_HEALTH_CENTRE,
            InstitutionType.COMMUNITY_HEALTH_CENTRE,
        )
    )
    assert not thc.filter(grade__gt=2).exists()


def test_chronic_follow_ups_tcm_share_and_winter_peak(generated: EncounterSummary) -> None:
    thc = Encounter.objects.filter(
        setting="outpatient",
        institution__inst_type__in=(
            InstitutionType.TOWNSHIP_HEALTH_CENTRE,
            InstitutionType.COMMUNITY_HEALTH_CENTRE,
        ),
    )
    chronic = thc.filter(principal_diagnosis__in=("I10", "E11.9"))
    # Follow-ups are 35 %; acute visits add a few more I10/E11.9 diagnoses.
    assert 0.30 <= chronic.count() / thc.count() <= 0.45
    flagged = chronic.filter(resident__has_hypertension=False, resident__has_diabetes=False)
    assert flagged.count() < 0.2 * chronic.count()
    visits = Encounter.objects.exclude(setting="inpatient")
    tcm = visits.filter(is_tcm=True).count() / visits.count()
    assert 0.15 <= tcm <= 0.20
    assert not Encounter.objects.filter(
        institution__inst_type=InstitutionType.TCM_HOSPITAL, is_tcm=False
    ).exists()
    urti = visits.filter(principal_diagnosis__in=("J06.9", "J11.1"))
    winter = urti.filter(visit_date__month__in=(12, 1, 2)).count()
    summer = urti.filter(visit_date__month__in=(6, 7, 8)).count()
    assert winter > 2.5 * summer


def test_reimbursement_by_level_and_insurance(generated: EncounterSummary) -> None:
    ip = Encounter.objects.filter(setting="inpatient", insurance_type="resident")

    def rate(qs: Any) -> float:
        agg = qs.aggregate(f=Sum("fund_paid"), t=Sum("total_cost"))
        return float(agg["f"] / agg["t"])

    thc = rate(ip.filter(institution__inst_type=InstitutionType.TOWNSHIP_HEALTH_CENTRE))
    county = rate(ip.filter(institution__inst_type=InstitutionType.GENERAL_HOSPITAL))
    out = rate(
        ExternalSettlement.objects.filter(
            kind="out_of_county", setting="inpatient", insurance_type="resident"
        )
    )
    assert thc > county > out > 0.3
    employee = rate(
        Encounter.objects.filter(
            setting="inpatient",
            insurance_type="employee",
            institution__inst_type=InstitutionType.GENERAL_HOSPITAL,
        )
    )
    assert employee > county + 0.1
    assert not Encounter.objects.filter(insurance_type="none", fund_paid__gt=0).exists()


def test_doctors_work_at_the_institution_and_care_relationships(
    generated: EncounterSummary,
) -> None:
    assert (
        not Encounter.objects.exclude(doctor__isnull=True)
        .exclude(doctor__employer=F("institution"))
        .exists()
    )
    # No doctor only where the institution employs no physician or village doctor (a small
    # test population staffs some centres thinly).
    staffed = set(
        Practitioner.objects.filter(
            is_active=True, profession__in=(Profession.PHYSICIAN, Profession.VILLAGE_DOCTOR)
        ).values_list("employer_id", flat=True)
    )
    assert not Encounter.objects.filter(doctor__isnull=True, institution__in=staffed).exists()
    pairs = Encounter.objects.values("resident", "institution").distinct().count()
    assert CareRelationship.objects.filter(source="encounter").count() == pairs
    assert ExternalSettlement.objects.filter(kind="pharmacy").count() > 0
    assert generated.encounters == Encounter.objects.count()


def test_services_still_insert_after_the_bulk_path(generated: EncounterSummary) -> None:
    """The bulk path set explicit ids; the sequences were reset, so a service insert works."""
    from yigongti.encounters import services as enc
    from yigongti.synth.personas import AS_OF

    resident = Resident.objects.order_by("pk").first()
    assert resident is not None
    ctx = enc.ValidationContext.load(today=AS_OF)
    clean = enc.clean_encounter(
        enc.EncounterInput(
            source_system="HIS",
            external_id="AFTER-BULK-1",
            id_number=resident.id_number,
            institution_code="QH1002",
            setting="outpatient",
            visit_date=dt.date(2025, 6, 1),
            principal_diagnosis="I10",
            total_cost=Decimal("10.00"),
            service_cost=Decimal("10.00"),
            personal_paid=Decimal("10.00"),
        ),
        ctx,
    )
    assert enc.upsert_encounters([clean]).inserted == 1
    assert generated.sampled_validated > 0 and not generated.sample_skipped_reason


def test_generated_rows_reimport_unchanged(generated: EncounterSummary) -> None:
    """The bulk path hashes rows exactly as the services do: the same records sent again by
    their source systems (rebuilt here from the stored rows) are all "unchanged"."""
    from yigongti.encounters import services as enc
    from yigongti.synth.personas import AS_OF

    ctx = enc.ValidationContext.load(today=AS_OF)
    encounters = Encounter.objects.select_related(
        "resident", "institution", "doctor"
    ).prefetch_related("procedures")
    rows = list(encounters.order_by("pk")[::97]) + list(
        encounters.filter(setting="inpatient", procedures__isnull=False).order_by("pk")[:60]
    )
    with_procedures = [e for e in rows if e.procedures.all()]
    assert len(rows) > 200 and len(with_procedures) == 60
    cleaned = [
        enc.clean_encounter(
            enc.EncounterInput(
                source_system=e.source_system,
                external_id=e.external_id,
                id_number=e.resident.id_number,
                institution_code=e.institution.code,
                setting=e.setting,
                visit_date=e.visit_date,
                discharge_date=e.discharge_date,
                principal_diagnosis=e.principal_diagnosis,
                other_diagnoses=list(e.other_diagnoses),
                procedures=[p.code for p in e.procedures.all()],
                department_name=e.department_name,
                doctor_code=e.doctor.code if e.doctor else "",
                is_tcm=e.is_tcm,
                total_cost=e.total_cost,
                drug_cost=e.drug_cost,
                material_cost=e.material_cost,
                exam_cost=e.exam_cost,
                service_cost=e.service_cost,
                insurance_type=e.insurance_type,
                fund_paid=e.fund_paid,
                personal_paid=e.personal_paid,
                deductible=e.deductible,
            ),
            ctx,
        )
        for e in rows
    ]
    assert enc.upsert_encounters(cleaned) == enc.UpsertCounts(unchanged=len(rows))
    settlements = list(ExternalSettlement.objects.select_related("resident").order_by("pk")[::53])
    assert settlements
    again = [
        enc.clean_external_settlement(
            enc.ExternalSettlementInput(
                source_system=s.source_system,
                external_id=s.external_id,
                kind=s.kind,
                id_number=s.resident.id_number,
                settlement_date=s.settlement_date,
                institution_name=s.institution_name,
                total_cost=s.total_cost,
                setting=s.setting,
                admission_date=s.admission_date,
                discharge_date=s.discharge_date,
                region_code=s.region_code,
                region_name=s.region_name,
                level=s.level,
                principal_diagnosis=s.principal_diagnosis,
                is_referred=s.is_referred,
                insurance_type=s.insurance_type,
                fund_paid=s.fund_paid,
                personal_paid=s.personal_paid,
            ),
            ctx,
        )
        for s in settlements
    ]
    assert enc.upsert_external_settlements(again) == enc.UpsertCounts(unchanged=len(settlements))
