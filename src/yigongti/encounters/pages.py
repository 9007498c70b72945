"""Encounter pages: the list per institution and a resident's timeline (issue #4 item 6).

Thin views over ``encounters.queries``. The list is bounded by the actor's institution scope
and masks names; the timeline goes through ``residents.services.do_read_resident`` (audited,
refused attempts too) and offers the break-glass purpose form when the role may use it.
Aggregate roles (中心人员、医保审核、药师) and auditors get 403: they see de-identified
aggregates on the indicator pages, never person-level rows.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from yigongti.accounts import rules as access
from yigongti.accounts.choices import Role
from yigongti.accounts.queries import Actor
from yigongti.core import rules as kernel
from yigongti.core.choices import AccessBasis
from yigongti.core.errors import AccessDenied
from yigongti.encounters.choices import ExternalKind, Setting
from yigongti.encounters.models import Encounter
from yigongti.encounters.queries import get_code_names, list_encounters, list_resident_timeline
from yigongti.organizations.models import Institution
from yigongti.organizations.queries import list_institutions
from yigongti.residents.forms import BreakGlassForm, remember_purpose, stored_purpose
from yigongti.residents.services import do_read_resident

PAGE_SIZE = 20
LIST_ROLES = access.CLINICAL_ROLES | {Role.INSTITUTION_ADMIN, Role.COUNTY_ADMIN}


def can_list_encounters(role: str) -> bool:
    return role in LIST_ROLES


def yuan(value: Decimal | None) -> str:
    """``¥1,234.56`` (DESIGN.md UI conventions)."""
    return f"¥{(value or Decimal(0)):,.2f}"


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    return actor


def _forbidden(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "403.html", {"reason": reason}, status=403)


def _scoped_institutions(actor: Actor) -> list[Institution]:
    paths = actor.scope.institution_paths
    qs = list_institutions(within_paths=list(paths) if paths is not None else None)
    if actor.scope.exact and paths is not None:
        qs = qs.filter(path__in=paths)
    return list(qs)


class EncounterFilterForm(forms.Form):
    institution = forms.ChoiceField(label="机构", required=False)
    date_from = forms.DateField(label="开始日期", required=False)
    date_to = forms.DateField(label="结束日期", required=False)
    setting = forms.ChoiceField(
        label="类型", required=False, choices=[("", "全部"), *Setting.choices]
    )
    diagnosis = forms.CharField(label="诊断编码", required=False, max_length=16)
    doctor = forms.CharField(label="医生工号", required=False, max_length=32)

    def __init__(self, *args: Any, institutions: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["institution"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "全部（数据范围内）"), *institutions]
        field.error_messages["invalid_choice"] = "该机构不在您的数据范围内"
        for name in ("date_from", "date_to"):
            self.fields[name].error_messages["invalid"] = "日期格式应为 YYYY-MM-DD"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "结束日期不能早于开始日期")
        return data


@login_required
def encounter_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not can_list_encounters(actor.role):
        return _forbidden(request, "您的角色只能查看去标识化的汇总数据，不能查看诊疗明细")
    insts = _scoped_institutions(actor)
    choices = [(i.code, i.label) for i in insts]
    form = EncounterFilterForm(request.GET or None, institutions=choices)
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "institution_code": data["institution"],
            "date_from": data["date_from"],
            "date_to": data["date_to"],
            "setting": data["setting"],
            "diagnosis_prefix": data["diagnosis"].strip(),
            "doctor_code": data["doctor"].strip(),
        }
    paths = actor.scope.institution_paths
    qs = list_encounters(list(paths) if paths is not None else None, **filters)
    if actor.scope.exact and paths is not None:
        qs = qs.filter(institution__path__in=paths)
    if form.is_bound and not form.is_valid():
        qs = qs.none()
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    encounters: list[Encounter] = list(page.object_list)
    names = get_code_names(e.principal_diagnosis for e in encounters)
    rows = [
        {
            "date": e.visit_date,
            "discharge": e.discharge_date,
            "setting": e.get_setting_display(),
            "institution": e.institution.label,
            "department": e.department_name,
            "doctor": e.doctor.name if e.doctor else "",
            "code": e.principal_diagnosis,
            "diagnosis": names.get(e.principal_diagnosis, ""),
            "is_tcm": e.is_tcm,
            "total": yuan(e.total_cost),
            "fund": yuan(e.fund_paid),
            "resident": kernel.mask_name(e.resident.name),
            "mpi_id": e.resident.mpi_id,
        }
        for e in encounters
    ]
    return render(
        request, "encounters/encounter_list.html", {"form": form, "page": page, "rows": rows}
    )


def _denied(
    request: HttpRequest, exc: AccessDenied, mpi_id: str, form: BreakGlassForm | None = None
) -> HttpResponse:
    context: dict[str, Any] = {"denied": True, "reason": exc.reason, "mpi_id": mpi_id}
    if exc.can_break_glass:
        context["break_glass_form"] = form or BreakGlassForm()
    return render(request, "encounters/resident_timeline.html", context, status=403)


@login_required
def resident_timeline(request: HttpRequest, mpi_id: str) -> HttpResponse:
    """GET: the audited read, then the timeline. POST: a break-glass purpose, then GET."""
    actor = _actor(request)
    if request.method == "POST":
        form = BreakGlassForm(request.POST)
        if not form.is_valid():
            try:
                do_read_resident(actor, mpi_id, purpose=stored_purpose(request, mpi_id))
            except AccessDenied as exc:
                return _denied(request, exc, mpi_id, form)
            return redirect("encounter_pages:resident_timeline", mpi_id=mpi_id)
        remember_purpose(request, mpi_id, form)
        return redirect("encounter_pages:resident_timeline", mpi_id=mpi_id)
    purpose = stored_purpose(request, mpi_id)
    try:
        resident, basis = do_read_resident(actor, mpi_id, purpose=purpose)
    except AccessDenied as exc:
        return _denied(request, exc, mpi_id)
    entries = list_resident_timeline(resident)
    names = get_code_names(e.principal_diagnosis for e in entries)
    settings_label = dict(Setting.choices)
    external_label = dict(ExternalKind.choices)  # 县域外就医 / 定点零售药店
    rows = [
        {
            "date": e.date,
            "end_date": e.end_date,
            "external": e.kind == "external",
            "source": external_label.get(e.external_kind, "医共体成员机构"),
            # a retail-pharmacy settlement is a purchase, not a 门诊 visit
            "setting": "购药"
            if e.external_kind == ExternalKind.PHARMACY
            else settings_label.get(e.setting, e.setting),
            "institution": e.institution_name,
            "code": e.principal_diagnosis,
            "diagnosis": names.get(e.principal_diagnosis, ""),
            "total": yuan(e.total_cost),
            "fund": yuan(e.fund_paid),
            "personal": yuan(e.total_cost - e.fund_paid),
        }
        for e in entries
    ]
    totals = {
        "count": len(entries),
        "total": yuan(sum((e.total_cost for e in entries), Decimal(0))),
        "fund": yuan(sum((e.fund_paid for e in entries), Decimal(0))),
    }
    return render(
        request,
        "encounters/resident_timeline.html",
        {
            "resident": resident,
            "masked_name": kernel.mask_name(resident.name),
            "rows": rows,
            "totals": totals,
            "basis_label": AccessBasis(basis).label if basis in AccessBasis.values else basis,
            "is_break_glass": basis == AccessBasis.BREAK_GLASS,
            "purpose": purpose,
            "external_kinds": ExternalKind.choices,
        },
    )
