"""FHIR R4 Bundles mapped onto the same encounter services: mapping, rejection, idempotency."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from yigongti.encounters import fhir, importing
from yigongti.encounters.choices import BatchStatus, ImportKind
from yigongti.encounters.models import Encounter, ImportBatch

pytestmark = pytest.mark.django_db

ICD10 = "http://hl7.org/fhir/sid/icd-10"


def patient(pid: str, number: str, name: str) -> dict[str, Any]:
    return {
        "fullUrl": f"urn:uuid:{pid}",
        "resource": {
            "resourceType": "Patient",
            "id": pid,
            "identifier": [{"system": fhir.ID_SYSTEM, "value": number}],
            "name": [{"text": name}],
        },
    }


def condition(cid: str, code: str) -> dict[str, Any]:
    return {
        "fullUrl": f"urn:uuid:{cid}",
        "resource": {
            "resourceType": "Condition",
            "id": cid,
            "code": {"coding": [{"system": ICD10, "code": code}]},
            "subject": {"reference": "urn:uuid:p1"},
        },
    }


def encounter(
    eid: str, klass: str, start: str, end: str | None, diags: list[str], org: str = "QH0001"
) -> dict[str, Any]:
    period = {"start": start} | ({"end": end} if end else {})
    return {
        "fullUrl": f"urn:uuid:{eid}",
        "resource": {
            "resourceType": "Encounter",
            "id": eid,
            "identifier": [{"system": "urn:his:qh0001", "value": f"HIS-{eid}"}],
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": klass},
            "subject": {"reference": "urn:uuid:p1"},
            "period": period,
            "serviceProvider": {"identifier": {"value": org}},
            "diagnosis": [
                {"condition": {"reference": f"urn:uuid:{d}"}, "rank": i + 1}
                for i, d in enumerate(diags)
            ],
        },
    }


def eob(enc_id: str, total: str, benefit: str) -> dict[str, Any]:
    return {
        "fullUrl": f"urn:uuid:eob-{enc_id}",
        "resource": {
            "resourceType": "ExplanationOfBenefit",
            "id": f"eob-{enc_id}",
            "status": "active",
            "type": {"coding": [{"code": "institutional"}]},
            "use": "claim",
            "patient": {"reference": "urn:uuid:p1"},
            "created": "2025-01-09",
            "insurer": {"display": "青禾县医保局"},
            "provider": {"display": "青禾县人民医院"},
            "outcome": "complete",
            "insurance": [{"focal": True, "coverage": {"display": "城乡居民"}}],
            "item": [
                {
                    "sequence": 1,
                    "productOrService": {"text": "诊疗"},
                    "encounter": [{"reference": f"urn:uuid:{enc_id}"}],
                }
            ],
            "total": [
                {
                    "category": {"coding": [{"code": "submitted"}]},
                    "amount": {"value": float(total), "currency": "CNY"},
                },
                {
                    "category": {"coding": [{"code": "benefit"}]},
                    "amount": {"value": float(benefit), "currency": "CNY"},
                },
            ],
        },
    }


def claim(enc_id: str, total: str) -> dict[str, Any]:
    return {
        "fullUrl": f"urn:uuid:claim-{enc_id}",
        "resource": {
            "resourceType": "Claim",
            "id": f"claim-{enc_id}",
            "status": "active",
            "type": {"coding": [{"code": "professional"}]},
            "use": "claim",
            "patient": {"reference": "urn:uuid:p1"},
            "created": "2025-01-02",
            "provider": {"display": "青禾县人民医院"},
            "priority": {"coding": [{"code": "normal"}]},
            "insurance": [{"sequence": 1, "focal": True, "coverage": {"display": "城乡居民"}}],
            "item": [
                {
                    "sequence": 1,
                    "productOrService": {"text": "诊疗"},
                    "encounter": [{"reference": f"urn:uuid:{enc_id}"}],
                }
            ],
            "total": {"value": float(total), "currency": "CNY"},
        },
    }


def bundle() -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            patient("p1", "439901195103150033", "张德福"),
            condition("c1", "I10"),
            condition("c2", "E11.9"),
            condition("c3", "J18.9"),
            encounter("e1", "AMB", "2025-01-02", None, ["c1", "c2"]),
            claim("e1", "168.50"),
            eob("e1", "168.50", "100.00"),
            encounter(
                "e2",
                "IMP",
                "2025-01-05T09:00:00+08:00",
                "2025-01-09T10:00:00+08:00",
                ["c3"],
                "QH1002",
            ),
            eob("e2", "3200", "2400"),
        ],
    }


def write(tmp_path: Path, payload: dict[str, Any]) -> Path:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return path


def test_mapping_onto_encounter_input() -> None:
    rows = list(fhir.bundle_rows(bundle(), "FHIR-HIS"))
    assert [r.number for r in rows] == [5, 8]
    first, second = (r.data for r in rows)
    assert (first.external_id, first.id_number, first.patient_name) == (
        "HIS-e1",
        "439901195103150033",
        "张德福",
    )
    assert (first.institution_code, first.setting, first.visit_date) == (
        "QH0001",
        "outpatient",
        dt.date(2025, 1, 2),
    )
    assert (first.principal_diagnosis, first.other_diagnoses) == ("I10", ["E11.9"])
    assert (first.total_cost, first.discharge_date) == (Decimal("168.5"), None)
    assert (first.fund_paid, first.personal_paid) == (Decimal("100.0"), Decimal("68.5"))
    assert (second.setting, second.visit_date, second.discharge_date) == (
        "inpatient",
        dt.date(2025, 1, 5),
        dt.date(2025, 1, 9),
    )
    assert (second.total_cost, second.fund_paid, second.personal_paid) == (
        Decimal("3200"),
        Decimal("2400"),
        Decimal("800"),
    )
    assert second.institution_code == "QH1002"
    assert all(not r.errors for r in rows)


def test_invalid_resources_and_references_are_rejected_rows() -> None:
    payload = bundle()
    payload["entry"][4]["resource"]["period"]["start"] = "二〇二五年"  # invalid Encounter
    payload["entry"][7]["resource"]["subject"] = {"reference": "urn:uuid:nobody"}
    payload["entry"].append(
        {"resource": {"resourceType": "Claim", "id": "x"}}
    )  # misses required fields
    rows = list(fhir.bundle_rows(payload, "FHIR-HIS"))
    by_number = {r.number: r for r in rows}
    assert by_number[5].data is None
    assert (
        by_number[5].errors["__all__"][0].startswith("Encounter不符合 FHIR R4 规范：period.start")
    )
    assert by_number[8].errors == {"id_number": ["患者引用 urn:uuid:nobody 在数据包中找不到"]}
    assert by_number[10].errors["__all__"][0].startswith("Claim不符合 FHIR R4 规范：")


def test_claim_alone_gives_the_total_only() -> None:
    payload = bundle()
    del payload["entry"][6]
    first = next(fhir.bundle_rows(payload, "FHIR-HIS")).data
    assert (first.total_cost, first.fund_paid, first.personal_paid) == (Decimal("168.5"), 0, 0)


def test_invalid_patient_rejects_its_encounters() -> None:
    payload = bundle()
    payload["entry"][0]["resource"]["birthDate"] = "not-a-date"
    rows = list(fhir.bundle_rows(payload, "FHIR-HIS"))
    assert all(
        r.errors["id_number"][0].startswith("Patient不符合 FHIR R4 规范：birthDate") for r in rows
    )


def test_not_a_bundle_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(importing.ImportRefused, match="文件不是 FHIR Bundle"):
        fhir.import_bundle(write(tmp_path, {"resourceType": "Patient"}), source_system="X")
    path = tmp_path / "bad.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(importing.ImportRefused, match="文件不是有效的 JSON"):
        fhir.import_bundle(path, source_system="X")
    assert ImportBatch.objects.count() == 0


def test_import_bundle_with_real_services(world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    payload = bundle()
    bad = copy.deepcopy(payload["entry"][4])
    bad["fullUrl"] = "urn:uuid:e3"
    bad["resource"].update(
        id="e3", identifier=[{"value": "HIS-e3"}], serviceProvider={"identifier": {"value": "NOPE"}}
    )
    payload["entry"].append(bad)
    path = write(tmp_path, payload)
    batch = fhir.import_bundle(path, source_system="FHIR-HIS")
    assert (batch.kind, batch.status) == (ImportKind.FHIR, BatchStatus.DONE)
    assert (batch.rows_read, batch.rows_inserted, batch.rows_rejected) == (3, 2, 1)
    error = batch.row_errors.get()
    assert error.row_number == 10
    assert set(error.errors) == {"institution_code", "total_cost"}  # no claim for e3 either
    inpatient = Encounter.objects.get(source_system="FHIR-HIS", external_id="HIS-e2")
    assert (inpatient.setting, inpatient.institution.code, str(inpatient.fund_paid)) == (
        "inpatient",
        "QH1002",
        "2400.00",
    )
    out = io.StringIO()
    call_command("import", "fhir", str(path), "--source", "FHIR-HIS", stdout=out)
    assert "读取 3，新增 0，更新 0，未变 2，拒绝 1" in out.getvalue()
    assert (tmp_path / "bundle.errors.xlsx").exists()


def test_cli_missing_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("import", "fhir", str(tmp_path / "none.json"), "--source", "X")
