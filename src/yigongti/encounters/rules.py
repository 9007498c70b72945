"""Pure encounter rules: codes, settings, dates, money, content hashes.

No ORM, no clock: ``today`` and the code catalogues are arguments. Every refusal is a Chinese
message; functions that check several fields return ``{field: [messages]}``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Container, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from yigongti.encounters.choices import ExternalKind, Setting
from yigongti.residents.choices import InsuranceType

# ---------------------------------------------------------------------------
# Enumerations (value or Chinese label accepted)
# ---------------------------------------------------------------------------

_SETTINGS = {str(s.value): str(s.value) for s in Setting} | {
    str(s.label): str(s.value) for s in Setting
}
_INSURANCE = {str(t.value): str(t.value) for t in InsuranceType} | {
    str(t.label): str(t.value) for t in InsuranceType
}
_EXTERNAL_KINDS = {str(k.value): str(k.value) for k in ExternalKind} | {
    str(k.label): str(k.value) for k in ExternalKind
}
SETTING_LABELS = {str(s.value): str(s.label) for s in Setting}


def check_setting(value: str) -> str:
    """``outpatient``/``门诊`` → ``outpatient``; refuse anything else."""
    text = (value or "").strip()
    if not text:
        raise ValueError("就诊类型不能为空")
    found = _SETTINGS.get(text) or _SETTINGS.get(text.lower())
    if found is None:
        raise ValueError(f"就诊类型“{text}”无效，应为门诊、急诊或住院")
    return found


def check_insurance_type(value: str) -> str:
    text = (value or "").strip()
    found = _INSURANCE.get(text) or _INSURANCE.get(text.lower())
    if found is None:
        raise ValueError(f"参保类型“{text}”无效")
    return found


def check_external_kind(value: str) -> str:
    text = (value or "").strip()
    found = _EXTERNAL_KINDS.get(text) or _EXTERNAL_KINDS.get(text.lower())
    if found is None:
        raise ValueError(f"结算类别“{text}”无效，应为县域外就医或定点零售药店")
    return found


def check_required(value: str | None, label: str, max_length: int) -> str:
    text = (value or "").strip()
    if not text:
        raise ValueError(f"{label}不能为空")
    if len(text) > max_length:
        raise ValueError(f"{label}不能超过{max_length}个字符")
    return text


# ---------------------------------------------------------------------------
# Codes: ICD-10 diagnoses and ICD-9-CM3 procedures
# ---------------------------------------------------------------------------

ICD10_FORMAT = re.compile(r"^[A-Z]\d{2}(\.[0-9A-Z]{1,8})?$")
ICD9CM3_FORMAT = re.compile(r"^\d{2}(\.[0-9X]{1,8})?$")
_DROP = str.maketrans("", "", " \t\u3000†*+")


def normalise_code(text: str, *, stem: int) -> str:
    """Full-width to half-width, upper case, no spaces or dagger/asterisk marks; a missing dot
    is put back after the ``stem`` (``E119`` → ``E11.9``, ``5123`` → ``51.23``)."""
    value = unicodedata.normalize("NFKC", text or "").translate(_DROP).upper()
    value = value.replace("。", ".").replace("．", ".").rstrip(".")
    if "." not in value and len(value) > stem:
        value = value[:stem] + "." + value[stem:]
    return value


def code_candidates(code: str) -> list[str]:
    """The code, then shorter and shorter forms: the national clinical version extends the
    WHO codes (``E11.900`` → ``E11.90`` → ``E11.9``; ``I10.X00`` → … → ``I10``)."""
    out = [code]
    while "." in code:
        code = code[:-1].rstrip(".")
        if code.endswith("X") and "." in code:
            continue
        out.append(code)
    return out


def resolve_diagnosis(text: str, catalogue: Container[str]) -> str:
    """The catalogue code that ``text`` names; ValueError (Chinese) if malformed or unknown."""
    raw = (text or "").strip()
    code = normalise_code(raw, stem=3)
    if not ICD10_FORMAT.match(code):
        raise ValueError(f"诊断编码“{raw}”格式错误：应为ICD-10编码，如 I10、E11.9")
    for candidate in code_candidates(code):
        if candidate in catalogue:
            return candidate
    raise ValueError(f"诊断编码“{raw}”不在ICD-10字典中")


def resolve_procedure(text: str, catalogue: Mapping[str, int | None]) -> tuple[str, int | None]:
    """``(code, grade)`` for an ICD-9-CM3 code; the grade comes from the catalogue."""
    raw = (text or "").strip()
    code = normalise_code(raw, stem=2)
    if not ICD9CM3_FORMAT.match(code):
        raise ValueError(f"手术操作编码“{raw}”格式错误：应为ICD-9-CM3编码，如 47.09")
    for candidate in code_candidates(code):
        if candidate in catalogue:
            return candidate, catalogue[candidate]
    raise ValueError(f"手术操作编码“{raw}”不在ICD-9-CM3字典中")


_CHAPTERS = (
    ("A00", "B99", "I"),
    ("C00", "D48", "II"),
    ("D50", "D89", "III"),
    ("E00", "E90", "IV"),
    ("F00", "F99", "V"),
    ("G00", "G99", "VI"),
    ("H00", "H59", "VII"),
    ("H60", "H95", "VIII"),
    ("I00", "I99", "IX"),
    ("J00", "J99", "X"),
    ("K00", "K93", "XI"),
    ("L00", "L99", "XII"),
    ("M00", "M99", "XIII"),
    ("N00", "N99", "XIV"),
    ("O00", "O99", "XV"),
    ("P00", "P96", "XVI"),
    ("Q00", "Q99", "XVII"),
    ("R00", "R99", "XVIII"),
    ("S00", "T98", "XIX"),
    ("V01", "Y98", "XX"),
    ("Z00", "Z99", "XXI"),
    ("U00", "U99", "XXII"),
)


def icd10_chapter(code: str) -> str:
    """The ICD-10 chapter (Roman numeral) of a code by its three-character category."""
    category = code[:3].upper()
    for low, high, chapter in _CHAPTERS:
        if low <= category <= high:
            return chapter
    raise ValueError(f"诊断编码“{code}”不属于任何ICD-10章节")


# ---------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------


def check_encounter_dates(
    setting: str | None, visit_date: dt.date | None, discharge_date: dt.date | None, today: dt.date
) -> dict[str, list[str]]:
    """Visit (admission) date present and not in the future; inpatients need a discharge date
    not before admission; outpatient and emergency visits end the same day."""
    errors: dict[str, list[str]] = {}
    inpatient = setting == Setting.INPATIENT
    label = "入院日期" if inpatient else "就诊日期"
    if visit_date is None:
        errors["visit_date"] = [f"{label}不能为空"]
    elif visit_date > today:
        errors["visit_date"] = [f"{label} {visit_date.isoformat()} 晚于今天"]
    if inpatient:
        if discharge_date is None:
            errors["discharge_date"] = ["住院记录必须填写出院日期"]
        elif visit_date is not None and discharge_date < visit_date:
            errors["discharge_date"] = ["出院日期不能早于入院日期"]
        elif discharge_date > today:
            errors["discharge_date"] = [f"出院日期 {discharge_date.isoformat()} 晚于今天"]
    elif setting in SETTING_LABELS and discharge_date is not None and discharge_date != visit_date:
        errors["discharge_date"] = [
            f"{SETTING_LABELS[setting]}记录不应有出院日期（或应与就诊日期相同）"
        ]
    return errors


def check_stay_dates(
    admission_date: dt.date | None, discharge_date: dt.date | None
) -> dict[str, list[str]]:
    if admission_date and discharge_date and discharge_date < admission_date:
        return {"discharge_date": ["出院日期不能早于入院日期"]}
    return {}


def check_date_not_future(value: dt.date | None, label: str, today: dt.date) -> None:
    if value is None:
        raise ValueError(f"{label}不能为空")
    if value > today:
        raise ValueError(f"{label} {value.isoformat()} 晚于今天")


# ---------------------------------------------------------------------------
# Money: Decimal only, two decimals at most, arithmetic between the parts
# ---------------------------------------------------------------------------

CENT = Decimal("0.01")
ONE_YUAN = Decimal("1")
MONEY_LIMIT = Decimal("10000000000")  # 12 digits with 2 decimals


def check_money(value: Any, label: str, *, required: bool = False) -> Decimal:
    """A non-negative amount in yuan with at most two decimals; ``None`` is 0 unless required."""
    if value is None or value == "":
        if required:
            raise ValueError(f"{label}不能为空")
        return Decimal("0.00")
    if isinstance(value, float) or isinstance(value, bool):
        raise ValueError(f"{label}必须是精确的十进制金额")
    try:
        amount = Decimal(value) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError, TypeError):
        raise ValueError(f"{label}“{value}”不是有效金额") from None
    if not amount.is_finite():
        raise ValueError(f"{label}“{value}”不是有效金额")
    if amount < 0:
        raise ValueError(f"{label}不能为负数")
    if amount != amount.quantize(CENT):
        raise ValueError(f"{label}最多保留两位小数")
    if amount >= MONEY_LIMIT:
        raise ValueError(f"{label}超出允许范围")
    return amount.quantize(CENT)


def yuan(amount: Decimal) -> str:
    return f"{amount.quantize(CENT):.2f}"


def check_cost_split(
    total: Decimal,
    parts: Mapping[str, Decimal],
    fund_paid: Decimal,
    personal_paid: Decimal,
    deductible: Decimal | None = None,
) -> dict[str, list[str]]:
    """Parts not above the total; fund + personal equal to the total within one yuan;
    the deductible not above what the person paid."""
    errors: dict[str, list[str]] = {}
    parts_sum = sum(parts.values(), Decimal("0"))
    if parts_sum > total:
        errors["total_cost"] = [f"各分项费用之和 {yuan(parts_sum)} 元超过总费用 {yuan(total)} 元"]
    paid = fund_paid + personal_paid
    if abs(paid - total) > ONE_YUAN:
        errors["fund_paid"] = [
            f"统筹支付与个人支付之和 {yuan(paid)} 元与总费用 {yuan(total)} 元相差超过1元"
        ]
    if deductible is not None and deductible > personal_paid:
        errors["deductible"] = [
            f"起付线 {yuan(deductible)} 元超过个人支付 {yuan(personal_paid)} 元"
        ]
    return errors


def check_uninsured_fund(insurance_type: str, fund_paid: Decimal) -> dict[str, list[str]]:
    if insurance_type == InsuranceType.NONE and fund_paid > 0:
        return {"fund_paid": ["未参保人员不能有统筹基金支付"]}
    return {}


# ---------------------------------------------------------------------------
# Access and idempotency
# ---------------------------------------------------------------------------


def treating_valid_to(
    visit_date: dt.date, discharge_date: dt.date | None, days_after: int
) -> dt.date:
    """A treating encounter lets the institution read the record until ``days_after`` days
    after the visit (or discharge)."""
    return (discharge_date or visit_date) + dt.timedelta(days=days_after)


# The fields a stored row's content hash covers, in a fixed order: the cleaned values with
# natural keys (identity number, institution and doctor codes) instead of database ids, so a
# hash does not depend on which database or run assigned the ids. The generator builds the
# same text for the rows it writes in bulk, so re-importing them reports "unchanged".
ENCOUNTER_HASH_FIELDS = (
    "source_system",
    "external_id",
    "id_type",
    "id_number",
    "institution_code",
    "department_name",
    "doctor_code",
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
    "procedures",
)
SETTLEMENT_HASH_FIELDS = (
    "source_system",
    "external_id",
    "kind",
    "id_type",
    "id_number",
    "settlement_date",
    "setting",
    "admission_date",
    "discharge_date",
    "institution_name",
    "region_code",
    "region_name",
    "level",
    "principal_diagnosis",
    "is_referred",
    "insurance_type",
    "total_cost",
    "fund_paid",
    "personal_paid",
)
HASH_SEPARATOR = "\x1f"  # ASCII unit separator: cannot occur in a validated value


def canonical_text(value: Any) -> str:
    """One value as the hash sees it: money ``0.00``, dates ISO, booleans ``1``/``0``,
    ``None`` empty, lists joined by ``;`` (a procedure is ``(code, grade)`` → ``code:grade``)."""
    kind = type(value)
    if kind is str:
        return value
    if value is None:
        return ""
    if kind is bool:
        return "1" if value else "0"
    if kind is Decimal:
        return f"{value.quantize(CENT):f}"
    if kind is int:
        return str(value)
    if kind is dt.date:
        return value.isoformat()
    if kind is list:
        return ";".join(canonical_text(v) for v in value)
    if kind is tuple:
        return ":".join(canonical_text(v) for v in value)
    raise TypeError(f"cannot hash {kind.__name__}")


def digest_texts(texts: Iterable[str]) -> str:
    """SHA-256 of the canonical texts joined by the unit separator."""
    return hashlib.sha256(HASH_SEPARATOR.join(texts).encode("utf-8")).hexdigest()


def content_hash(values: Mapping[str, Any], fields: Iterable[str] | None = None) -> str:
    """SHA-256 over ``fields`` of ``values`` in order (all keys, sorted, when not given);
    a missing field hashes like ``None``. Equal content, equal hash, whatever the key order
    or the number of decimals written."""
    if fields is None:
        return digest_texts(f"{name}={canonical_text(values[name])}" for name in sorted(values))
    return digest_texts(canonical_text(values.get(name)) for name in fields)
