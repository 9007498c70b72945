"""Institutions in the caller's scope."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.params import P, PathEx

from yigongti.core.api import (
    COMMON_ERRORS,
    DENIABLE_OR_MISSING,
    NotFound,
    paginate,
    request_actor,
    scope_q,
)
from yigongti.core.errors import AccessDenied
from yigongti.core.schemas import Page
from yigongti.organizations.models import Institution
from yigongti.organizations.queries import get_institution, list_institutions
from yigongti.organizations.schemas import (
    InstitutionDetailOut,
    InstitutionListParams,
    InstitutionOut,
)

router = Router(tags=["机构"])

CODE_PATTERN = r"^[A-Za-z0-9_\-]{1,32}$"


def institution_row(inst: Institution) -> dict[str, Any]:
    return {
        "code": inst.code,
        "name": inst.name,
        "short_name": inst.short_name,
        "inst_type": inst.inst_type,
        "inst_type_label": inst.get_inst_type_display(),
        "level": inst.level,
        "level_label": inst.get_level_display(),
        "medcom_code": inst.medcom.code if inst.medcom else None,
        "parent_code": inst.parent.code if inst.parent else None,
        "division_code": inst.division.code,
        "division_name": inst.division.name,
        "is_active": inst.is_active,
    }


@router.get(
    "/institutions",
    response={200: Page[InstitutionOut], **COMMON_ERRORS},
    summary="机构列表（本人数据范围内）",
)
def institutions(request: HttpRequest, params: Query[InstitutionListParams]) -> dict[str, Any]:
    actor = request_actor(request)
    qs = list_institutions(q=params.q, inst_type=params.type).filter(scope_q("path", actor.scope))
    return paginate(qs, params.limit, params.offset, institution_row)


@router.get(
    "/institutions/{code}",
    response={200: InstitutionDetailOut, **DENIABLE_OR_MISSING},
    summary="机构详情",
)
def institution_detail(
    request: HttpRequest, code: PathEx[str, P(pattern=CODE_PATTERN)]
) -> dict[str, Any]:
    actor = request_actor(request)
    try:
        inst = get_institution(code)
    except Institution.DoesNotExist:
        raise NotFound(f"机构 {code} 不存在") from None
    if not actor.scope.covers_institution(inst.path):
        raise AccessDenied("该机构不在您的数据范围内")
    return {
        **institution_row(inst),
        "medcom_name": inst.medcom.name if inst.medcom else None,
        "parent_name": inst.parent.name if inst.parent else None,
        "tree_link": inst.tree_link,
        "tree_link_label": inst.get_tree_link_display(),
        "beds": inst.beds,
        "is_legal_entity": inst.is_legal_entity,
        "is_public": inst.is_public,
        "is_sub_centre": inst.is_sub_centre,
        "address": inst.address,
        "phone": inst.phone,
        "path": inst.path,
        "depth": inst.depth,
    }
