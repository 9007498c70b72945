"""Practitioners employed in the caller's scope; phone numbers masked."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from yigongti.core import rules as kernel
from yigongti.core.api import COMMON_ERRORS, paginate, request_actor, scope_q
from yigongti.core.schemas import Page
from yigongti.staff.models import Practitioner
from yigongti.staff.queries import list_practitioners
from yigongti.staff.schemas import PractitionerOut, StaffListParams

router = Router(tags=["人员"])


def practitioner_row(p: Practitioner) -> dict[str, Any]:
    return {
        "code": p.code,
        "name": p.name,
        "sex": p.get_sex_display(),
        "profession": p.profession,
        "profession_label": p.get_profession_display(),
        "practice_category": p.practice_category,
        "title_grade": p.title_grade,
        "title_grade_label": p.get_title_grade_display(),
        "title_name": p.title_name,
        "specialty": p.specialty,
        "is_general_practitioner": p.is_general_practitioner,
        "institution_code": p.employer.code,
        "institution_name": p.employer.name,
        "department": p.department.name if p.department else None,
        "phone": kernel.mask_phone(p.phone),
        "is_active": p.is_active,
    }


@router.get(
    "/staff",
    response={200: Page[PractitionerOut], **COMMON_ERRORS},
    summary="卫生人员列表（本人数据范围内）",
)
def staff(request: HttpRequest, params: Query[StaffListParams]) -> dict[str, Any]:
    actor = request_actor(request)
    qs = list_practitioners(
        q=params.q,
        profession=params.profession,
        title_grade=params.title_grade,
        institution_code=params.institution,
    ).filter(scope_q("employer__path", actor.scope))
    return paginate(qs, params.limit, params.offset, practitioner_row)
