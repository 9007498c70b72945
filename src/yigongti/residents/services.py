"""Writers of the master patient index, and the audited gate for person-level reads.

Every person-level read and write goes through here: ``do_read_resident`` checks scope and a
care relationship, and appends an audit event for the read or for the denied attempt.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q

from yigongti.accounts import rules as access
from yigongti.accounts.choices import Role
from yigongti.accounts.queries import Actor
from yigongti.core import clock
from yigongti.core.choices import AccessBasis, AuditAction
from yigongti.core.errors import AccessDenied, DomainError
from yigongti.core.services import AuditContext, do_record_audit
from yigongti.geo.choices import DivisionLevel
from yigongti.geo.models import Division
from yigongti.organizations.models import Institution
from yigongti.residents import rules
from yigongti.residents.choices import (
    DuplicateStatus,
    IdType,
    InsuranceType,
    Relation,
    Sex,
)
from yigongti.residents.models import (
    CareRelationship,
    DuplicateCandidate,
    Household,
    MpiCounter,
    Resident,
)
from yigongti.staff.models import Practitioner

RESOURCE = "resident"

# The enum value sets, built once: ``TextChoices.values`` builds a new list on every access,
# which dominated the bulk path's validation time.
_ID_TYPES = frozenset(IdType.values)
_SEXES = frozenset(Sex.values)
_RELATIONS = frozenset(Relation.values)
_INSURANCE_TYPES = frozenset(InsuranceType.values)
_PARSED_TYPES = {
    str(IdType.RESIDENT_ID): rules.PROVINCE_PREFIXES,
    str(IdType.HMT_RESIDENCE): rules.HMT_PREFIXES,
}

# ---------------------------------------------------------------------------
# Validation shared by pages, the API, imports and the generator's bulk path
# ---------------------------------------------------------------------------


@dataclass
class ResidentInput:
    name: str
    id_number: str
    division_code: str
    id_type: str = IdType.RESIDENT_ID
    sex: str = ""
    birth_date: dt.date | None = None
    phone: str = ""
    address_detail: str = ""
    household_code: str = ""
    relation_to_head: str = Relation.HEAD
    insurance_type: str = InsuranceType.RESIDENT
    insurance_number: str = ""
    ethnicity: str = "汉族"
    has_hypertension: bool = False
    has_diabetes: bool = False
    has_severe_mental_illness: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CleanResident:
    """A validated, normalised resident ready to insert."""

    values: dict[str, Any]
    village_code: str


def clean_resident_fields(
    data: ResidentInput, *, today: dt.date, villages: dict[str, Division]
) -> CleanResident:
    """Validate every field and collect all errors; no database writes, no lookups.

    ``villages`` maps a 12-digit code to its village/community division.
    """
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}

    try:
        values["name"] = rules.check_name(data.name)
    except ValueError as exc:
        errors["name"] = [str(exc)]

    sex = data.sex or ""
    birth = data.birth_date
    if data.id_type not in _ID_TYPES:
        errors["id_type"] = [f"不支持的证件类型“{data.id_type}”"]
    else:
        try:
            if data.id_type == IdType.RESIDENT_ID:
                # What check_document does for this type, keeping the parsed facts.
                parsed = rules.parse_id_number(
                    (data.id_number or "").strip().replace(" ", "").upper(), today=today
                )
                values["id_number"] = parsed.number
                info: rules.IdInfo | None = parsed
            else:
                values["id_number"] = rules.check_document(
                    data.id_type, data.id_number, today=today
                )
                prefixes = _PARSED_TYPES.get(data.id_type)
                info = (
                    rules.parse_id_number(values["id_number"], today=today, prefixes=prefixes)
                    if prefixes is not None
                    else None
                )
        except ValueError as exc:
            errors["id_number"] = [str(exc)]
        else:
            if info is not None:
                errors.update(rules.check_consistency(info, sex=sex or None, birth_date=birth))
                sex = sex or info.sex
                birth = birth or info.birth_date
    values["id_type"] = data.id_type
    if sex not in _SEXES:
        errors.setdefault("sex", []).append("性别必须是“男”或“女”")
    if birth is None:
        errors.setdefault("birth_date", []).append("出生日期不能为空")
    elif birth > today or birth < rules.EARLIEST_BIRTH:
        errors.setdefault("birth_date", []).append(f"出生日期 {birth.isoformat()} 不合理")
    values["sex"] = sex
    values["birth_date"] = birth

    try:
        values["phone"] = rules.normalise_phone(data.phone)
    except ValueError as exc:
        errors["phone"] = [str(exc)]

    village = villages.get((data.division_code or "").strip().ljust(12, "0"))
    if village is None:
        errors["division_code"] = [f"区划代码“{data.division_code}”不存在或不是村（社区）级"]
    if data.relation_to_head not in _RELATIONS:
        errors["relation_to_head"] = [f"与户主关系“{data.relation_to_head}”无效"]
    if data.insurance_type not in _INSURANCE_TYPES:
        errors["insurance_type"] = [f"参保类型“{data.insurance_type}”无效"]
    if data.insurance_type != InsuranceType.NONE and not data.insurance_number.strip():
        errors["insurance_number"] = ["已参保居民必须填写医保号"]
    if errors:
        raise DomainError(errors)
    assert village is not None
    full_pinyin, initials = rules.pinyin_keys(values["name"])
    is_minor = rules.is_minor(birth, today) if birth else False
    values.update(
        name_pinyin=full_pinyin,
        name_initials=initials,
        division_id=village.pk,
        division_code=village.code,
        address_detail=data.address_detail.strip(),
        relation_to_head=data.relation_to_head,
        insurance_type=data.insurance_type,
        insurance_number=data.insurance_number.strip(),
        ethnicity=data.ethnicity or "汉族",
        has_hypertension=data.has_hypertension,
        has_diabetes=data.has_diabetes,
        has_severe_mental_illness=data.has_severe_mental_illness,
        is_sensitive=data.has_severe_mental_illness or is_minor,
    )
    return CleanResident(values=values, village_code=village.code)


def _village_lookup(codes: Iterable[str]) -> dict[str, Division]:
    wanted = {(c or "").strip().ljust(12, "0") for c in codes}
    return {
        d.code: d for d in Division.objects.filter(code__in=wanted, level=DivisionLevel.VILLAGE)
    }


def reserve_mpi_numbers(count: int, *, at_least_after: int = 0) -> int:
    """Reserve ``count`` consecutive MPI numbers; return the first.

    The counter row is locked (``select_for_update``) so concurrent registrations never get the
    same number; on SQLite the IMMEDIATE transaction serialises writers already.
    """
    with transaction.atomic():
        counter, _ = MpiCounter.objects.select_for_update().get_or_create(id=1)
        first = max(counter.last, at_least_after) + 1
        counter.last = first + count - 1
        counter.save(update_fields=["last"])
    return first


def format_mpi(number: int) -> str:
    return f"R{number:011d}"


# ---------------------------------------------------------------------------
# Registration (one at a time, and the bulk path that applies the same validation)
# ---------------------------------------------------------------------------


def do_register_resident(
    actor: Actor | None, data: ResidentInput, *, today: dt.date | None = None
) -> Resident:
    """Validate, insert, audit and queue look-alike records as duplicate candidates."""
    today = today or clock.today()
    clean = clean_resident_fields(data, today=today, villages=_village_lookup([data.division_code]))
    values = clean.values
    if Resident.objects.filter(id_type=values["id_type"], id_number=values["id_number"]).exists():
        raise DomainError("该证件号码已建档，一个证件只能对应一名居民", field="id_number")
    household = None
    if data.household_code:
        household = Household.objects.filter(code=data.household_code).first()
        if household is None:
            raise DomainError(f"户编号 {data.household_code} 不存在", field="household_code")
    now = clock.now()
    try:
        with transaction.atomic():
            resident = Resident.objects.create(
                mpi_id=format_mpi(reserve_mpi_numbers(1)),
                household=household,
                created_at=now,
                updated_at=now,
                **values,
            )
    except IntegrityError:
        # A concurrent registration of the same document won the race (unique constraint).
        raise DomainError("该证件号码已建档，一个证件只能对应一名居民", field="id_number") from None
    ctx = actor.audit_context() if actor else AuditContext.system()
    do_record_audit(
        ctx,
        action=AuditAction.CREATE,
        resource_type=RESOURCE,
        resource_id=resident.mpi_id,
        subject_resident_id=resident.pk,
        basis=AccessBasis.DATA_ENTRY,
        detail={"fields": sorted(values)},
    )
    do_find_duplicates_for(resident)
    return resident


@dataclass
class BulkResult:
    inserted: int = 0
    rejected: list[tuple[int, dict[str, list[str]]]] = field(default_factory=list)


def bulk_register_residents(
    rows: Sequence[ResidentInput],
    *,
    today: dt.date,
    now: dt.datetime,
    first_mpi_number: int | None = None,
    household_ids: dict[str, int] | None = None,
    batch_size: int = 5000,
) -> BulkResult:
    """The generator's and importers' fast path: the same field validation, one bulk insert.

    Rows that fail validation or repeat an existing document are rejected with their reasons;
    the rest are inserted. The caller owns the transaction and writes one audit event.
    """
    villages = _village_lookup({r.division_code for r in rows})
    household_ids = household_ids or {}
    result = BulkResult()
    seen: set[tuple[str, str]] = set()
    cleaned: list[tuple[int, ResidentInput, CleanResident]] = []
    for index, row in enumerate(rows):
        try:
            clean = clean_resident_fields(row, today=today, villages=villages)
        except DomainError as exc:
            result.rejected.append((index, exc.field_errors))
            continue
        key = (clean.values["id_type"], clean.values["id_number"])
        if key in seen:
            result.rejected.append((index, {"id_number": ["该证件号码在本批次中重复"]}))
            continue
        seen.add(key)
        cleaned.append((index, row, clean))
    existing = _existing_documents(seen)
    fresh = sum(
        1 for _, _, c in cleaned if (c.values["id_type"], c.values["id_number"]) not in existing
    )
    # ``first_mpi_number`` is a lower bound: the block always comes from the shared counter.
    number = reserve_mpi_numbers(fresh, at_least_after=(first_mpi_number or 1) - 1)
    columns, to_row = _resident_row_builder()
    pending: list[tuple[Any, ...]] = []
    for index, row, clean in cleaned:
        key = (clean.values["id_type"], clean.values["id_number"])
        if key in existing:
            result.rejected.append((index, {"id_number": [f"证件号码 {key[1]} 已建档"]}))
            continue
        values = {
            **clean.values,
            "mpi_id": format_mpi(number),
            "household_id": household_ids.get(row.household_code),
            "created_at": now,
            "updated_at": now,
        }
        pending.append(to_row(values))
        number += 1
    result.rejected.sort(key=lambda item: item[0])
    _insert_rows(Resident, columns, pending, batch_size)
    result.inserted = len(pending)
    return result


def _resident_row_builder() -> tuple[list[str], Callable[[dict[str, Any]], tuple[Any, ...]]]:
    """Columns of a plain INSERT into the resident table, and a function from a row's values
    (by attname; missing ones take the field default) to the database values, as the ORM
    would prepare them.

    ``bulk_create`` spent most of the bulk path's time building model instances and preparing
    each value through the field machinery; the values here are already validated and
    normalised by ``clean_resident_fields``, so only dates, datetimes and defaults need work.
    """
    ops = connection.ops
    fields = [f for f in Resident._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: f.get_default() for f in fields}
    pick = operator.itemgetter(*(f.attname for f in fields))
    datetime_cols = [i for i, f in enumerate(fields) if isinstance(f, models.DateTimeField)]
    date_cols = [
        i
        for i, f in enumerate(fields)
        if isinstance(f, models.DateField) and not isinstance(f, models.DateTimeField)
    ]
    adapted: dict[Any, Any] = {}  # the same few timestamps recur on every row

    def to_row(values: dict[str, Any]) -> tuple[Any, ...]:
        row = list(pick({**defaults, **values}))
        for i in date_cols:
            row[i] = ops.adapt_datefield_value(row[i])
        for i in datetime_cols:
            value = row[i]
            if value not in adapted:
                adapted[value] = ops.adapt_datetimefield_value(value)
            row[i] = adapted[value]
        return tuple(row)

    return [f.column for f in fields], to_row


def _insert_rows(
    model: type[models.Model], columns: list[str], rows: list[tuple[Any, ...]], batch_size: int
) -> None:
    if not rows:
        return
    qn = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - quoted model identifiers
        qn(model._meta.db_table),
        ", ".join(qn(c) for c in columns),
        ", ".join(["%s"] * len(columns)),
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            cursor.executemany(sql, rows[start : start + batch_size])


def _existing_documents(keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
    # Filter on both columns of the unique (id_type, id_number) index: on id_number alone
    # the index cannot be used and every chunk scanned the whole table.
    found: set[tuple[str, str]] = set()
    by_type: dict[str, list[str]] = {}
    for id_type, number in sorted(keys):
        by_type.setdefault(id_type, []).append(number)
    for id_type, numbers in by_type.items():
        for start in range(0, len(numbers), 900):
            chunk = numbers[start : start + 900]
            found.update(
                Resident.objects.filter(id_type=id_type, id_number__in=chunk).values_list(
                    "id_type", "id_number"
                )
            )
    return found & keys


def do_create_household(code: str, division: Division, address: str) -> Household:
    if division.level != DivisionLevel.VILLAGE:
        raise DomainError("户必须登记在村（社区）", field="division_code")
    if Household.objects.filter(code=code).exists():
        raise DomainError(f"户编号 {code} 已存在", field="household_code")
    return Household.objects.create(code=code, division=division, address=address)


def bulk_create_households(
    rows: Sequence[tuple[str, Division, str]], *, batch_size: int = 5000
) -> dict[str, int]:
    """The generator's fast path for households ``(code, division, address)``.

    The checks of ``do_create_household`` on every row (village level, code not yet used, in
    the database or earlier in the batch); any bad row refuses the whole batch, nothing is
    written. Returns household code → id. The caller owns the transaction.
    """
    errors: list[str] = []
    codes = [code for code, _, _ in rows]
    taken: set[str] = set()
    for start in range(0, len(codes), 900):
        taken.update(
            Household.objects.filter(code__in=codes[start : start + 900]).values_list(
                "code", flat=True
            )
        )
    seen: set[str] = set()
    for index, (code, division, _) in enumerate(rows, start=1):
        if division.level != DivisionLevel.VILLAGE:
            errors.append(f"第{index}行：户必须登记在村（社区）")
        if code in taken or code in seen:
            errors.append(f"第{index}行：户编号 {code} 已存在")
        seen.add(code)
    if errors:
        raise DomainError({"household_code": errors[:20]})
    households = [
        Household(code=code, division=division, address=address) for code, division, address in rows
    ]
    Household.objects.bulk_create(households, batch_size=batch_size)
    if any(h.pk is None for h in households):  # backends without RETURNING
        ids: dict[str, int] = {}
        for start in range(0, len(codes), 900):
            ids.update(
                Household.objects.filter(code__in=codes[start : start + 900]).values_list(
                    "code", "pk"
                )
            )
        return ids
    return {h.code: h.pk for h in households}


# ---------------------------------------------------------------------------
# Duplicates
# ---------------------------------------------------------------------------


def do_find_duplicates_for(resident: Resident) -> list[DuplicateCandidate]:
    """Queue every live record with the same name, birth date and village as a candidate."""
    twins = Resident.objects.filter(
        name=resident.name,
        birth_date=resident.birth_date,
        division_code=resident.division_code,
        merged_into__isnull=True,
    ).exclude(pk=resident.pk)
    created = []
    for twin in twins:
        a, b = sorted([resident.pk, twin.pk])
        candidate, was_created = DuplicateCandidate.objects.get_or_create(
            resident_a_id=a,
            resident_b_id=b,
            defaults={"reason": "姓名、出生日期、现住村相同", "found_at": clock.now()},
        )
        if was_created:
            created.append(candidate)
    return created


def do_scan_duplicates() -> int:
    """Scan the whole index for look-alike groups (used after bulk loads); returns new pairs."""
    from django.db.models import Count

    groups = (
        Resident.objects.filter(merged_into__isnull=True)
        .values("name", "birth_date", "division_code")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    created = 0
    for group in groups:
        ids = sorted(
            Resident.objects.filter(
                merged_into__isnull=True,
                name=group["name"],
                birth_date=group["birth_date"],
                division_code=group["division_code"],
            ).values_list("pk", flat=True)
        )
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                _, was_created = DuplicateCandidate.objects.get_or_create(
                    resident_a_id=a,
                    resident_b_id=b,
                    defaults={"reason": "姓名、出生日期、现住村相同", "found_at": clock.now()},
                )
                created += int(was_created)
    return created


def _check_mpi_manager(actor: Actor, candidate: DuplicateCandidate) -> None:
    if not access.can_manage_mpi(actor.role):
        raise AccessDenied("只有县级管理员或机构管理员可以处理疑似重复记录")
    if candidate.status != DuplicateStatus.OPEN:
        raise DomainError("该疑似重复记录已处理", field="status")
    for resident in (candidate.resident_a, candidate.resident_b):
        if not actor.scope.covers_division(resident.division_code):
            raise AccessDenied("疑似重复记录中的居民不在您的数据范围内")


def do_merge_duplicate(
    actor: Actor, candidate: DuplicateCandidate, survivor_id: int, note: str = ""
) -> Resident:
    """Merge the pair into ``survivor_id``: the other record points at it and stops being live."""
    _check_mpi_manager(actor, candidate)
    if survivor_id not in (candidate.resident_a_id, candidate.resident_b_id):
        raise DomainError("保留的记录必须是这对记录之一", field="survivor")
    retired_id = (
        candidate.resident_b_id
        if survivor_id == candidate.resident_a_id
        else candidate.resident_a_id
    )
    now = clock.now()
    updated = DuplicateCandidate.objects.filter(
        pk=candidate.pk, status=DuplicateStatus.OPEN
    ).update(status=DuplicateStatus.MERGED, decided_by=actor.user, decided_at=now, note=note[:200])
    if updated != 1:
        raise DomainError("该疑似重复记录已被他人处理", field="status")
    Resident.objects.filter(pk=retired_id).update(merged_into_id=survivor_id, updated_at=now)
    CareRelationship.objects.filter(resident_id=retired_id).update(resident_id=survivor_id)
    # Other open candidates that involve the retired record are settled by this merge.
    DuplicateCandidate.objects.filter(
        Q(resident_a_id=retired_id) | Q(resident_b_id=retired_id), status=DuplicateStatus.OPEN
    ).update(status=DuplicateStatus.MERGED, decided_by=actor.user, decided_at=now)
    survivor = Resident.objects.get(pk=survivor_id)
    do_record_audit(
        actor.audit_context(),
        action=AuditAction.MERGE,
        resource_type=RESOURCE,
        resource_id=survivor.mpi_id,
        subject_resident_id=survivor_id,
        basis=AccessBasis.DATA_ENTRY,
        purpose=note,
        detail={"retired_resident_id": retired_id, "candidate_id": candidate.pk},
    )
    return survivor


def do_keep_apart(actor: Actor, candidate: DuplicateCandidate, note: str = "") -> None:
    _check_mpi_manager(actor, candidate)
    updated = DuplicateCandidate.objects.filter(
        pk=candidate.pk, status=DuplicateStatus.OPEN
    ).update(
        status=DuplicateStatus.KEPT_APART,
        decided_by=actor.user,
        decided_at=clock.now(),
        note=note[:200],
    )
    if updated != 1:
        raise DomainError("该疑似重复记录已被他人处理", field="status")
    for resident_id in (candidate.resident_a_id, candidate.resident_b_id):
        do_record_audit(
            actor.audit_context(),
            action=AuditAction.UPDATE,
            resource_type="duplicate_candidate",
            resource_id=candidate.pk,
            subject_resident_id=resident_id,
            basis=AccessBasis.DATA_ENTRY,
            purpose=note,
            detail={"decision": "kept_apart"},
        )


# ---------------------------------------------------------------------------
# Care relationships and the audited read gate
# ---------------------------------------------------------------------------


def do_grant_care_relationship(
    resident: Resident,
    institution: Institution,
    kind: str,
    *,
    source: str,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    practitioner: Practitioner | None = None,
    source_ref: str = "",
) -> CareRelationship:
    if kind not in AccessBasis.values or kind in (AccessBasis.BREAK_GLASS, AccessBasis.NONE):
        raise DomainError(f"关系类型“{kind}”不能授予查阅权限", field="kind")
    if valid_to is not None and valid_to < valid_from:
        raise DomainError("结束日期不能早于开始日期", field="valid_to")
    return CareRelationship.objects.create(
        resident=resident,
        institution=institution,
        practitioner=practitioner,
        kind=kind,
        source=source,
        source_ref=source_ref,
        valid_from=valid_from,
        valid_to=valid_to,
    )


def do_end_care_relationships(*, source: str, source_ref: str, valid_to: dt.date) -> int:
    """End the relationships a domain granted under ``(source, source_ref)`` on ``valid_to``
    (an open one, or one ending later); returns how many changed. Used when the thing that
    granted them ends, e.g. a referral closing."""
    return (
        CareRelationship.objects.filter(source=source, source_ref=source_ref)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=valid_to))
        .update(valid_to=valid_to)
    )


def bulk_ensure_care_relationships(
    wanted: dict[tuple[int, int], tuple[dt.date, dt.date, str]],
    *,
    kind: str,
    source: str,
    lookup_chunk: int = 900,
) -> tuple[int, int]:
    """The bulk twin of ``do_grant_care_relationship`` for imports and the generator.

    ``wanted`` maps (resident id, institution id) to (valid_from, valid_to, source_ref). A pair
    already covered is left alone; an adjoining or overlapping row from the same source is
    widened; otherwise a row is added, so a pair keeps one row however many imports touch it.
    Returns (created, widened). The checks are those of ``do_grant_care_relationship``.
    """
    if kind not in AccessBasis.values or kind in (AccessBasis.BREAK_GLASS, AccessBasis.NONE):
        raise DomainError(f"关系类型“{kind}”不能授予查阅权限", field="kind")
    if any(end < start for start, end, _ in wanted.values()):
        raise DomainError("结束日期不能早于开始日期", field="valid_to")
    if not wanted:
        return 0, 0
    # Plain tuples and executemany: model instances and bulk_update's CASE WHEN cost several
    # times the database work when an import touches hundreds of thousands of pairs.
    have: dict[tuple[int, int], list[list[Any]]] = {}  # pair → [[pk, from, to, source], ...]
    residents = sorted({r for r, _ in wanted})
    institutions = {i for _, i in wanted}
    for start_at in range(0, len(residents), lookup_chunk):
        rows = CareRelationship.objects.filter(
            kind=kind,
            resident_id__in=residents[start_at : start_at + lookup_chunk],
        ).values_list(
            "resident_id",
            "institution_id",
            "pk",
            "valid_from",
            "valid_to",
            "source",
            "practitioner_id",
        )
        # The institution and practitioner IS NULL are tested here: in the WHERE clause SQLite's
        # planner picks the practitioner index (almost every row NULL) or probes every
        # resident × institution pair, instead of walking the pair index by resident.
        for resident_id, institution_id, pk, valid_from, valid_to, row_source, person in rows:
            if person is not None or institution_id not in institutions:
                continue
            have.setdefault((resident_id, institution_id), []).append(
                [pk, valid_from, valid_to, row_source]
            )
    day = dt.timedelta(days=1)
    grants: list[tuple[Any, ...]] = []
    widened: dict[int, list[Any]] = {}
    adapt = connection.ops.adapt_datefield_value
    for (resident_id, institution_id), (start, end, ref) in sorted(wanted.items()):
        existing = have.get((resident_id, institution_id), [])
        if any(r[1] <= start and (r[2] is None or r[2] >= end) for r in existing):
            continue
        near = next(
            (
                r
                for r in existing
                if r[3] == source and r[2] is not None and r[2] >= start - day and r[1] <= end + day
            ),
            None,
        )
        if near is not None:
            near[1] = min(near[1], start)
            near[2] = max(near[2], end)
            widened[near[0]] = near
            continue
        grants.append(
            (resident_id, institution_id, kind, source, ref[:64], adapt(start), adapt(end))
        )
    table = connection.ops.quote_name(CareRelationship._meta.db_table)
    with connection.cursor() as cursor:
        if grants:
            cursor.executemany(
                f"INSERT INTO {table} (resident_id, institution_id, kind, source, "  # noqa: S608
                "source_ref, valid_from, valid_to) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                grants,
            )
        if widened:
            cursor.executemany(
                f"UPDATE {table} SET valid_from = %s, valid_to = %s WHERE id = %s",  # noqa: S608
                [(adapt(r[1]), adapt(r[2]), pk) for pk, r in widened.items()],
            )
    return len(grants), len(widened)


def find_care_basis(actor: Actor, resident: Resident, today: dt.date) -> str | None:
    """The care relationship that lets this actor read this resident today, if any."""
    user = actor.user
    if user.institution_id is None:
        return None
    if actor.role not in access.CLINICAL_ROLES | {Role.INSTITUTION_ADMIN, Role.COUNTY_ADMIN}:
        return None
    relation = (
        CareRelationship.objects.filter(
            resident=resident, institution_id=user.institution_id, valid_from__lte=today
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        .filter(Q(practitioner__isnull=True) | Q(practitioner_id=user.practitioner_id))
        .order_by("valid_from")
        .first()
    )
    if relation is not None:
        return relation.kind
    if actor.role == Role.PUBLIC_HEALTH and (
        resident.has_hypertension or resident.has_diabetes or resident.has_severe_mental_illness
    ):
        return AccessBasis.PUBLIC_HEALTH
    return None


def check_read_access(
    actor: Actor, resident: Resident, *, today: dt.date, purpose: str = ""
) -> str:
    """Return the basis for reading ``resident``; raise AccessDenied (Chinese) otherwise."""
    if not actor.scope.covers_division(resident.division_code):
        raise AccessDenied("该居民不在您的数据范围内")
    if actor.role in access.AGGREGATE_ROLES or actor.role in access.AUDIT_ROLES:
        raise AccessDenied("您的角色只能查看去标识化的汇总数据，不能查看个人档案")
    basis = find_care_basis(actor, resident, today)
    if basis:
        return basis
    can_break = access.can_break_glass(actor.role) and not (
        resident.is_sensitive and actor.role not in access.CLINICAL_ROLES
    )
    if purpose.strip() and can_break:
        return AccessBasis.BREAK_GLASS
    raise AccessDenied(
        "您与该居民没有诊疗、签约、转诊或公共卫生服务关系"
        + ("；如确需查阅，请填写查阅事由（将被审计复核）" if can_break else ""),
        can_break_glass=can_break,
    )


def do_read_resident(
    actor: Actor, mpi_id: str, *, purpose: str = "", today: dt.date | None = None
) -> tuple[Resident, str]:
    """The audited gate for a resident's detail: returns the record and the basis used.

    A denied attempt is audited too, then AccessDenied is raised. A missing or merged record
    is refused the same way as one outside the scope, so ids cannot be probed.
    """
    today = today or clock.today()
    ctx = actor.audit_context()
    resident = (
        Resident.objects.select_related("division", "division__parent", "household")
        .filter(mpi_id=mpi_id)
        .first()
    )
    try:
        if resident is None:
            raise AccessDenied("该居民不在您的数据范围内")
        basis = check_read_access(actor, resident, today=today, purpose=purpose)
    except AccessDenied as exc:
        do_record_audit(
            ctx,
            action=AuditAction.DENIED,
            resource_type=RESOURCE,
            resource_id=mpi_id[:64],
            subject_resident_id=resident.pk if resident else None,
            purpose=purpose,
            detail={"reason": exc.reason},
        )
        raise
    do_record_audit(
        ctx,
        action=AuditAction.READ,
        resource_type=RESOURCE,
        resource_id=resident.mpi_id,
        subject_resident_id=resident.pk,
        basis=basis,
        purpose=purpose,
    )
    return resident, basis


def do_reveal_field(actor: Actor, resident: Resident, field_name: str, basis: str) -> str:
    """Show one full value (identity number or phone); an audited action of its own."""
    if field_name not in ("id_number", "phone"):
        raise DomainError("只能显示证件号码或电话的完整值", field="field")
    do_record_audit(
        actor.audit_context(),
        action=AuditAction.REVEAL,
        resource_type=RESOURCE,
        resource_id=resident.mpi_id,
        subject_resident_id=resident.pk,
        basis=basis,
        detail={"field": field_name},
    )
    return str(getattr(resident, field_name))
