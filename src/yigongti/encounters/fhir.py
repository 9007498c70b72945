"""FHIR R4 Bundles (Patient, Encounter, Condition, Claim / ExplanationOfBenefit) → encounters.

Each resource is validated with ``fhir.resources`` (the R4B models, which R4 bundles of these
resource types satisfy); each Encounter becomes one ``EncounterInput`` and goes through the same
``clean_encounter`` / ``upsert_encounters`` as a CSV row, in an ``ImportBatch`` of kind ``fhir``.
A resource that fails validation, or an Encounter whose references cannot be resolved, is a
rejected row with a Chinese reason.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from yigongti.core.cli import sha256_file
from yigongti.encounters import importing, services
from yigongti.encounters.choices import ImportKind

CLASS_TO_SETTING = {
    "AMB": "outpatient",
    "EMER": "emergency",
    "IMP": "inpatient",
    "ACUTE": "inpatient",
    "NONAC": "inpatient",
    "SS": "inpatient",
}
ID_SYSTEM = "urn:oid:2.16.156.10011.1.3"  # 居民身份证号
PERSONAL = {"copay", "deductible", "patient", "personal"}


def _model(resource_type: str) -> Any:
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(resource_type)


@dataclass
class ParsedBundle:
    patients: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)
    organizations: dict[str, Any] = field(default_factory=dict)
    practitioners: dict[str, Any] = field(default_factory=dict)
    encounters: list[tuple[int, str, Any]] = field(default_factory=list)
    claims: dict[str, list[Any]] = field(default_factory=dict)  # encounter ref → claims/EOBs
    invalid: list[importing.Row] = field(default_factory=list)
    bad_refs: dict[str, str] = field(default_factory=dict)  # ref → why it is unusable


def _refs(full_url: str, resource_type: str, rid: str | None) -> list[str]:
    keys = [full_url] if full_url else []
    if rid:
        keys.append(f"{resource_type}/{rid}")
    return keys


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            first = errors()[0]
            loc = ".".join(str(p) for p in first.get("loc", ()))
            return f"{loc}：{first.get('msg', '')}" if loc else str(first.get("msg", ""))
        except Exception:  # noqa: S110
            pass
    return str(exc).splitlines()[0][:200]


def parse_bundle(payload: dict[str, Any]) -> ParsedBundle:
    if not isinstance(payload, dict) or payload.get("resourceType") != "Bundle":
        raise importing.ImportRefused("文件不是 FHIR Bundle（resourceType 应为 Bundle）")
    entries = payload.get("entry") or []
    if not isinstance(entries, list):
        raise importing.ImportRefused("Bundle.entry 应为数组")
    parsed = ParsedBundle()
    for number, entry in enumerate(entries, 1):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        full_url = str(entry.get("fullUrl") or "") if isinstance(entry, dict) else ""
        if not isinstance(resource, dict):
            parsed.invalid.append(
                importing.Row(
                    number, {"fullUrl": full_url}, None, {"__all__": ["条目缺少 resource"]}
                )
            )
            continue
        rtype = str(resource.get("resourceType") or "")
        rid = resource.get("id")
        raw = {"resourceType": rtype, "id": str(rid or ""), "fullUrl": full_url}
        try:
            model = _model(rtype).model_validate(resource)
        except Exception as exc:
            reason = f"{rtype or '资源'}不符合 FHIR R4 规范：{_first_error(exc)}"
            for key in _refs(full_url, rtype, rid):
                parsed.bad_refs[key] = reason
            if rtype == "Encounter":
                parsed.invalid.append(importing.Row(number, raw, None, {"__all__": [reason]}))
            elif rtype not in {"Patient", "Condition", "Organization", "Practitioner"}:
                parsed.invalid.append(importing.Row(number, raw, None, {"__all__": [reason]}))
            continue
        keys = _refs(full_url, rtype, rid)
        if rtype == "Patient":
            parsed.patients.update(dict.fromkeys(keys, model))
        elif rtype == "Condition":
            parsed.conditions.update(dict.fromkeys(keys, model))
        elif rtype == "Organization":
            parsed.organizations.update(dict.fromkeys(keys, model))
        elif rtype == "Practitioner":
            parsed.practitioners.update(dict.fromkeys(keys, model))
        elif rtype == "Encounter":
            parsed.encounters.append((number, full_url, model))
        elif rtype in {"Claim", "ExplanationOfBenefit"}:
            for item in model.item or []:
                for ref in getattr(item, "encounter", None) or []:
                    if ref.reference:
                        parsed.claims.setdefault(ref.reference, []).append(model)
    return parsed


def _identifier(identifiers: list[Any] | None, system: str | None = None) -> str:
    for ident in identifiers or []:
        if ident.value and (system is None or ident.system == system):
            return str(ident.value)
    return ""


def _ref_key(ref: Any) -> str:
    return str(ref.reference) if ref is not None and ref.reference else ""


def _icd10(condition: Any) -> str:
    code = condition.code
    if code is None:
        return ""
    codings = code.coding or []
    for coding in codings:
        if coding.code and coding.system and "icd-10" in coding.system.lower():
            return str(coding.code)
    for coding in codings:
        if coding.code:
            return str(coding.code)
    return ""


def _date(value: Any) -> dt.date | None:
    """A FHIR date or dateTime (``2025-01-02T08:00:00+08:00`` keeps its date part)."""
    if value is None or isinstance(value, dt.date):  # parse_date takes date and datetime
        return importing.parse_date(value)
    return importing.parse_date(str(value)[:10])


def _money(money: Any) -> Decimal | None:
    if money is None or money.value is None:
        return None
    return Decimal(str(money.value))


def _costs(claims: list[Any]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for claim in claims:
        if claim.get_resource_type() == "Claim":
            total = _money(claim.total)
            if total is not None:
                out.setdefault("total_cost", total)
            continue
        for total in claim.total or []:
            codes = {c.code for c in (total.category.coding or []) if c.code}
            amount = _money(total.amount)
            if amount is None:
                continue
            if "submitted" in codes:
                out["total_cost"] = amount
            elif "benefit" in codes:
                out["fund_paid"] = amount
            elif codes & PERSONAL:
                out["personal_paid"] = out.get("personal_paid", Decimal("0")) + amount
        if claim.payment is not None and "fund_paid" not in out:
            amount = _money(claim.payment.amount)
            if amount is not None:
                out["fund_paid"] = amount
    if "total_cost" in out and "fund_paid" in out and "personal_paid" not in out:
        out["personal_paid"] = out["total_cost"] - out["fund_paid"]
    return out


def encounter_row(
    number: int, full_url: str, enc: Any, bundle: ParsedBundle, source_system: str
) -> importing.Row:
    raw = {"resourceType": "Encounter", "id": str(enc.id or ""), "fullUrl": full_url}
    errors: dict[str, list[str]] = {}

    def resolve(ref: Any, table: dict[str, Any], fld: str, label: str) -> Any:
        key = _ref_key(ref)
        if not key:
            return None
        if key in bundle.bad_refs:
            errors[fld] = [bundle.bad_refs[key]]
            return None
        found = table.get(key)
        if found is None:
            errors[fld] = [f"{label}引用 {key} 在数据包中找不到"]
        return found

    patient = resolve(enc.subject, bundle.patients, "id_number", "患者")
    id_number = ""
    if patient is not None:
        id_number = _identifier(patient.identifier, ID_SYSTEM) or _identifier(patient.identifier)
        raw["patient"] = _ref_key(enc.subject)
    elif enc.subject is None:
        errors["id_number"] = ["Encounter.subject 缺少患者引用"]
    patient_name = ""
    if patient is not None and patient.name:
        name = patient.name[0]
        patient_name = name.text or ((name.family or "") + "".join(name.given or []))

    institution_code = ""
    provider = enc.serviceProvider
    if provider is not None:
        if provider.identifier is not None and provider.identifier.value:
            institution_code = str(provider.identifier.value)
        else:
            org = resolve(provider, bundle.organizations, "institution_code", "机构")
            if org is not None:
                institution_code = _identifier(org.identifier)

    doctor_code = ""
    for participant in enc.participant or []:
        who = participant.individual
        if who is None:
            continue
        if who.identifier is not None and who.identifier.value:
            doctor_code = str(who.identifier.value)
        elif _ref_key(who) in bundle.practitioners:
            doctor_code = _identifier(bundle.practitioners[_ref_key(who)].identifier)
        if doctor_code:
            break

    class_code = str(enc.class_fhir.code or "") if enc.class_fhir is not None else ""
    setting = CLASS_TO_SETTING.get(class_code.upper(), class_code)

    diagnoses: list[tuple[int, str]] = []
    for i, diag in enumerate(enc.diagnosis or []):
        condition = resolve(diag.condition, bundle.conditions, "principal_diagnosis", "诊断")
        if condition is not None:
            code = _icd10(condition)
            if code:
                diagnoses.append((diag.rank or 100 + i, code))
    diagnoses.sort()
    codes = [c for _, c in diagnoses]

    period = enc.period
    start = _date(period.start) if period is not None else None
    end = _date(period.end) if period is not None else None

    refs = [f"Encounter/{enc.id}"] if enc.id else []
    if full_url:
        refs.append(full_url)
    claims = [c for r in refs for c in bundle.claims.get(r, [])]
    costs = _costs(claims)

    external_id = _identifier(enc.identifier) or str(enc.id or "")
    raw.update(
        {
            "external_id": external_id,
            "id_number": id_number,
            "institution_code": institution_code,
            "setting": setting,
            "visit_date": start.isoformat() if start else "",
            "principal_diagnosis": codes[0] if codes else "",
            "total_cost": str(costs.get("total_cost", "")),
        }
    )
    data = services.EncounterInput(
        source_system=source_system,
        external_id=external_id,
        id_number=id_number,
        institution_code=institution_code,
        setting=setting,
        visit_date=start,
        principal_diagnosis=codes[0] if codes else "",
        total_cost=costs.get("total_cost"),
        patient_name=patient_name,
        doctor_code=doctor_code,
        discharge_date=end if setting == "inpatient" else None,
        other_diagnoses=codes[1:],
        fund_paid=costs.get("fund_paid", Decimal("0")),
        personal_paid=costs.get("personal_paid", Decimal("0")),
    )
    return importing.Row(number, raw, data, errors, key=external_id)


def bundle_rows(payload: dict[str, Any], source_system: str) -> Iterator[importing.Row]:
    bundle = parse_bundle(payload)
    rows = list(bundle.invalid)
    rows.extend(
        encounter_row(n, url, enc, bundle, source_system) for n, url, enc in bundle.encounters
    )
    rows.sort(key=lambda r: r.number)
    return iter(rows)


def import_bundle(
    path: Path | str,
    *,
    source_system: str,
    file_name: str | None = None,
    user: Any = None,
    institution: Any = None,
    today: dt.date | None = None,
    institution_allowed: Callable[[str], bool] | None = None,
) -> Any:
    """Import one FHIR R4 Bundle (JSON) as a batch; ``ImportRefused`` if it is no Bundle."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            payload = json.load(fh)
    except (ValueError, UnicodeDecodeError):
        raise importing.ImportRefused("文件不是有效的 JSON") from None
    source_system = source_system.strip()
    if not source_system:
        raise importing.ImportRefused("请填写来源系统")
    rows = bundle_rows(payload, source_system)
    batch = importing.open_batch(
        kind=ImportKind.FHIR,
        source_system=source_system,
        file_name=file_name or path.name,
        sha256=sha256_file(path),
        user=user,
        institution=institution,
    )
    importing.run_batch(
        batch, rows, kind=ImportKind.FHIR, today=today, institution_allowed=institution_allowed
    )
    return batch
