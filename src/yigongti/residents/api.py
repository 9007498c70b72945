"""Resident search, the audited detail and reveal, and registration."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.params import P, PathEx

from yigongti.accounts import rules as access
from yigongti.accounts.api import current_actor
from yigongti.core import rules as kernel
from yigongti.core.api import DENIABLE, paginate
from yigongti.core.choices import AccessBasis
from yigongti.core.errors import AccessDenied, DomainError
from yigongti.core.schemas import Page
from yigongti.residents.models import Resident
from yigongti.residents.queries import masked_row, search_residents
from yigongti.residents.schemas import (
    ReadParams,
    ResidentDetailOut,
    ResidentIn,
    ResidentRowOut,
    ResidentSearchParams,
    RevealIn,
    RevealOut,
)
from yigongti.residents.services import (
    ResidentInput,
    do_read_resident,
    do_register_resident,
    do_reveal_field,
)

router = Router(tags=["居民"])

MPI_PATTERN = r"^[A-Za-z0-9]{1,16}$"
MpiId = PathEx[str, P(pattern=MPI_PATTERN, description="主索引号，如 R00000000001")]


def resident_detail(resident: Resident, basis: str) -> dict[str, Any]:
    village = resident.division
    return {
        "mpi_id": resident.mpi_id,
        "name": resident.name,
        "sex": resident.sex,
        "sex_label": resident.get_sex_display(),
        "birth_date": resident.birth_date,
        "ethnicity": resident.ethnicity,
        "id_type": resident.id_type,
        "id_type_label": resident.get_id_type_display(),
        "id_number": kernel.mask_id_number(resident.id_number),
        "phone": kernel.mask_phone(resident.phone),
        "division_code": resident.division_code,
        "village": village.name,
        "township": village.parent.name if village.parent else "",
        "address_detail": resident.address_detail,
        "household_code": resident.household.code if resident.household else None,
        "relation_to_head": resident.relation_to_head,
        "insurance_type": resident.insurance_type,
        "insurance_number": kernel.mask_id_number(resident.insurance_number),
        "has_hypertension": resident.has_hypertension,
        "has_diabetes": resident.has_diabetes,
        "has_severe_mental_illness": resident.has_severe_mental_illness,
        "is_sensitive": resident.is_sensitive,
        "is_deceased": resident.is_deceased,
        "access_basis": basis,
        "access_basis_label": AccessBasis(basis).label if basis in AccessBasis.values else basis,
    }


@router.get(
    "/residents",
    response={200: Page[ResidentRowOut], **DENIABLE},
    summary="查找居民（结果已脱敏）",
)
def residents(request: HttpRequest, params: Query[ResidentSearchParams]) -> dict[str, Any]:
    actor = current_actor(request)
    if not access.can_search_residents(actor.role):
        raise AccessDenied("您的角色不能查询居民个人档案")
    qs = search_residents(actor, params.q)
    return paginate(qs, params.limit, params.offset, masked_row)


@router.get(
    "/residents/{mpi_id}",
    response={200: ResidentDetailOut, **DENIABLE},
    summary="居民档案（查阅留痕）",
)
def resident(request: HttpRequest, mpi_id: MpiId, params: Query[ReadParams]) -> dict[str, Any]:
    """Audited read: refused (and the refusal audited) without a care relationship or a
    written purpose from a role that may break the glass."""
    actor = current_actor(request)
    record, basis = do_read_resident(actor, mpi_id, purpose=params.purpose)
    return resident_detail(record, basis)


@router.post(
    "/residents/{mpi_id}/reveal",
    response={200: RevealOut, **DENIABLE},
    summary="显示证件号码或电话的完整值（留痕）",
)
def reveal(request: HttpRequest, mpi_id: MpiId, payload: RevealIn) -> dict[str, Any]:
    actor = current_actor(request)
    record, basis = do_read_resident(actor, mpi_id, purpose=payload.purpose)
    value = do_reveal_field(actor, record, payload.field, basis)
    return {"mpi_id": record.mpi_id, "field": payload.field, "value": value}


@router.post(
    "/residents",
    response={201: ResidentDetailOut, **DENIABLE},
    summary="登记居民（主索引建档）",
)
def register(request: HttpRequest, payload: ResidentIn) -> Status[dict[str, Any]]:
    actor = current_actor(request)
    if not access.can_edit_residents(actor.role):
        raise AccessDenied("您的角色不能登记居民档案")
    data = ResidentInput(**payload.model_dump())
    if not actor.scope.covers_division(data.division_code.strip().ljust(12, "0")):
        raise DomainError("该村（社区）不在您的数据范围内", field="division_code")
    created = do_register_resident(actor, data)
    return Status(201, resident_detail(created, AccessBasis.DATA_ENTRY))
