"""Referrals over the JSON API: worklists, the form, and the transitions (thin over services)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.params import P, PathEx

from yigongti.accounts.api import current_actor
from yigongti.core import rules as kernel
from yigongti.core.api import DENIABLE, paginate
from yigongti.core.errors import DomainError
from yigongti.core.schemas import Page
from yigongti.organizations.models import Department, Institution
from yigongti.referrals import queries, services
from yigongti.referrals.models import Referral
from yigongti.referrals.schemas import ActionIn, ReferralIn, ReferralListParams, ReferralOut
from yigongti.residents.models import Resident

router = Router(tags=["双向转诊"])
ReferralId = PathEx[int, P(ge=1, le=2**53, description="转诊单编号（id）")]
ACTION_PATTERN = "^(receive|accept|reject|cancel|arrive|admit|complete|close)$"


def referral_row(r: Referral) -> dict[str, Any]:
    return {
        "id": r.pk,
        "number": r.number,
        "direction": r.direction,
        "direction_label": r.get_direction_display(),
        "urgency": r.urgency,
        "status": r.status,
        "status_label": r.get_status_display(),
        "resident": kernel.mask_name(r.resident.name),
        "mpi_id": r.resident.mpi_id,
        "from_institution": r.from_institution.name,
        "to_institution": r.to_institution.name if r.to_institution else r.out_of_county_name,
        "to_department": r.to_department.name if r.to_department else "",
        "diagnosis_code": r.diagnosis_code,
        "green_channel": list(r.green_channel),
        "appointment_at": r.appointment_at,
        "deadline_at": r.deadline_at,
        "created_at": r.created_at,
    }


@router.get(
    "/referrals", response={200: Page[ReferralOut], **DENIABLE}, summary="转诊工作单（姓名已脱敏）"
)
def referrals(request: HttpRequest, params: Query[ReferralListParams]) -> dict[str, Any]:
    actor = current_actor(request)
    qs = queries.list_referrals(actor, params.box, status=params.status, direction=params.direction)
    return paginate(qs, params.limit, params.offset, referral_row)


@router.get(
    "/referrals/{referral_id}",
    response={200: ReferralOut, **DENIABLE},
    summary="转诊单（查阅留痕）",
)
def referral(request: HttpRequest, referral_id: ReferralId) -> dict[str, Any]:
    return referral_row(services.do_read_referral(current_actor(request), referral_id))


@router.post("/referrals", response={201: ReferralOut, **DENIABLE}, summary="开具并提交转诊单")
def create(request: HttpRequest, payload: ReferralIn) -> Status[dict[str, Any]]:
    actor = current_actor(request)
    resident = Resident.objects.filter(mpi_id=payload.mpi_id).first()
    if resident is None:
        raise DomainError("没有该主索引号的居民", field="mpi_id")
    target = (
        Institution.objects.filter(code=payload.to_institution_code).first()
        if payload.to_institution_code
        else None
    )
    if payload.to_institution_code and target is None:
        raise DomainError("接收机构编码不存在", field="to_institution_code")

    def department(code: str) -> int | None:
        if not code:
            return None
        found = Department.objects.filter(institution=target, code=code).first()
        if found is None:
            raise DomainError(f"接收机构没有科室“{code}”", field="department")
        return found.pk

    data = services.ReferralInput(
        direction=payload.direction,
        resident_id=resident.pk,
        diagnosis_code=payload.diagnosis_code,
        reason=payload.reason,
        consent=payload.consent,
        to_institution_id=target.pk if target else None,
        to_department_id=department(payload.to_department_code),
        urgency=payload.urgency,
        impression=payload.impression,
        history=payload.history,
        treatment=payload.treatment,
        contact_phone=payload.contact_phone,
        out_of_county_name=payload.out_of_county_name,
        out_of_county_region=payload.out_of_county_region,
        filing_number=payload.filing_number,
        schedule_id=payload.schedule_id,
        bed_department_id=department(payload.bed_department_code),
        expected_admission=payload.expected_admission,
        deductible_paid=payload.deductible_paid,
        rehab_plan=payload.rehab_plan,
    )
    return Status(201, referral_row(services.do_create_referral(actor, data)))


ACTIONS = {
    "receive": lambda a, pk, p: services.do_receive(a, pk),
    "accept": lambda a, pk, p: services.do_accept(a, pk, note=p.note),
    "reject": lambda a, pk, p: services.do_reject(a, pk, p.reason),
    "cancel": lambda a, pk, p: services.do_cancel(a, pk, p.reason),
    "arrive": lambda a, pk, p: services.do_arrive(a, pk),
    "admit": lambda a, pk, p: services.do_admit(a, pk),
    "complete": lambda a, pk, p: services.do_complete(a, pk),
    "close": lambda a, pk, p: services.do_close(a, pk, note=p.note),
}


@router.post(
    "/referrals/{referral_id}/{action}",
    response={200: ReferralOut, **DENIABLE},
    summary="办理转诊：receive/accept/reject/cancel/arrive/admit/complete/close",
)
def act(
    request: HttpRequest,
    referral_id: ReferralId,
    action: PathEx[str, P(pattern=ACTION_PATTERN)],
    payload: ActionIn,
) -> dict[str, Any]:
    handler = ACTIONS.get(action)
    if handler is None:
        raise DomainError(f"未知操作“{action}”", field="action")
    handler(current_actor(request), referral_id, payload)
    return referral_row(services.do_read_referral(current_actor(request), referral_id))
