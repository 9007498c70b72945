"""Referral pages (thin): worklists, the referral form, the detail with its actions and the
out-of-pocket calculator, the printable 转诊单, follow-up tasks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST

from yigongti.accounts import rules as access
from yigongti.accounts.queries import Actor
from yigongti.core import clock
from yigongti.core import rules as kernel
from yigongti.core.errors import AccessDenied, DomainError
from yigongti.core.pdf import html_to_pdf
from yigongti.encounters.choices import Setting
from yigongti.encounters.queries import get_code_names
from yigongti.referrals import queries, rules, services
from yigongti.referrals.choices import Direction, Status
from yigongti.referrals.forms import (
    CalculatorForm,
    CompleteForm,
    ReasonForm,
    ReferralForm,
    ReturnForm,
)
from yigongti.referrals.models import Referral
from yigongti.residents.models import Resident
from yigongti.scheduling import services as scheduling

PAGE_SIZE = 20
WORK_ROLES = access.CLINICAL_ROLES | queries.MANAGER_ROLES
SCHEDULE_DAYS = 21


def can_use_referrals(role: str) -> bool:
    return role in WORK_ROLES


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    return actor


def _forbidden(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "403.html", {"reason": reason}, status=403)


def _row(r: Referral) -> dict[str, Any]:
    overdue = rules.is_overdue(r.status, r.deadline_at, clock.now())
    return {
        "pk": r.pk,
        "number": r.number,
        "direction": r.get_direction_display(),
        "urgency": r.get_urgency_display(),
        "emergency": r.urgency == "emergency",
        "status": r.get_status_display(),
        "status_code": r.status,
        "resident": kernel.mask_name(r.resident.name),
        "from": r.from_institution.label,
        "to": r.to_institution.label if r.to_institution else r.out_of_county_name,
        "department": r.to_department.name if r.to_department else "",
        "diagnosis": r.diagnosis_code,
        "green": bool(r.green_channel),
        "created": r.created_at,
        "deadline": r.deadline_at,
        "overdue": overdue,
    }


@login_required
def worklist(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not can_use_referrals(actor.role):
        return _forbidden(request, "双向转诊供医生和机构、县级管理人员使用")
    box = request.GET.get("box", "in")
    today = clock.today()
    context: dict[str, Any] = {
        "box": box,
        "statuses": Status.choices,
        "directions": Direction.choices,
    }
    if box == "tasks":
        overdue = request.GET.get("overdue") == "1"
        tasks = queries.list_tasks(actor, overdue_on=today if overdue else None)
        page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
        context |= {
            "page": page,
            "overdue": overdue,
            "tasks": [
                {
                    "pk": t.pk,
                    "kind": t.get_kind_display(),
                    "resident": kernel.mask_name(t.resident.name),
                    "institution": t.institution.label,
                    "due_on": t.due_on,
                    "late": t.due_on < today,
                    "referral": t.referral.number,
                    "referral_pk": t.referral_id,
                    "mine": t.institution_id == actor.user.institution_id,
                }
                for t in page.object_list
            ],
        }
    else:
        box = "out" if box == "out" else "in"
        context["box"] = box
        qs = queries.list_referrals(
            actor,
            box,
            status=request.GET.get("status", ""),
            direction=request.GET.get("direction", ""),
            q=request.GET.get("q", ""),
        )
        listed = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        context |= {"page": listed, "rows": [_row(r) for r in listed.object_list]}
    context["can_create"] = actor.role in services.REFERRING_ROLES
    return render(request, "referrals/worklist.html", context)


def _form_choices(actor: Actor, form: ReferralForm, direction: str) -> None:
    medcom = actor.institution.medcom_id if actor.institution else None
    targets = queries.list_targets(direction, medcom)
    ids = [i.pk for i in targets]
    today = clock.today()
    channel = scheduling.channel_of(actor)
    now = clock.now()
    schedules = []
    for s in queries.list_open_schedules(ids, today, today + dt.timedelta(days=SCHEDULE_DAYS)):
        pools = scheduling.rules.bookable_pools(channel, now, scheduling.times_of(s))
        label = (
            f"{s.day:%m-%d} {s.get_session_display()} {s.institution.label}"
            f" {s.department.name}{(' ' + s.doctor.name) if s.doctor else ''}"
            + ("" if pools else "（未开放）")
        )
        schedules.append((s.pk, label))
    departments = queries.list_departments(ids)
    form.set_choices(
        [(i.pk, i.name) for i in targets],
        [(d.pk, f"{d.institution.label} {d.name}") for d in departments],
        schedules,
        [
            (d.pk, f"{d.institution.label} {d.name}（{d.beds} 床）")
            for d in departments
            if d.beds > 0
        ],
    )


@login_required
def create(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if actor.role not in services.REFERRING_ROLES or actor.institution is None:
        return _forbidden(request, "只有医疗机构的医生或机构管理员可以开具转诊单")
    grassroots = actor.institution.inst_type in services.GRASSROOTS_TYPES
    initial: dict[str, str] = {"direction": Direction.UP if grassroots else Direction.DOWN}
    if request.GET.get("mpi"):
        initial["mpi_id"] = request.GET["mpi"]
    direction = (
        request.POST.get("direction") or request.GET.get("direction") or initial["direction"]
    )
    form = ReferralForm(request.POST or None, initial=initial)
    _form_choices(actor, form, direction)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        resident = Resident.objects.filter(mpi_id=data["mpi_id"].strip()).first()
        if resident is None:
            form.add_error("mpi_id", "没有该主索引号的居民")
        else:
            try:
                referral = services.do_create_referral(
                    actor,
                    services.ReferralInput(
                        direction=data["direction"],
                        resident_id=resident.pk,
                        diagnosis_code=data["diagnosis_code"],
                        reason=data["reason"],
                        consent=data["consent"],
                        to_institution_id=data["to_institution"],
                        to_department_id=data["to_department"],
                        urgency=data["urgency"],
                        impression=data["impression"],
                        history=data["history"],
                        treatment=data["treatment"],
                        contact_phone=data["contact_phone"],
                        out_of_county_name=data["out_of_county_name"],
                        out_of_county_region=data["out_of_county_region"],
                        filing_number=data["filing_number"],
                        schedule_id=data["schedule"],
                        bed_department_id=data["bed_department"],
                        expected_admission=data["expected_admission"],
                        deductible_paid=data["deductible_paid"] or Decimal(0),
                        rehab_plan=data["rehab_plan"],
                    ),
                )
            except AccessDenied as exc:
                form.add_error("mpi_id", exc.reason)
            except DomainError as exc:
                for field, errors in exc.field_errors.items():
                    name = {"resident": "mpi_id", "bed": "bed_department"}.get(field, field)
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
            else:
                messages.success(request, f"转诊单 {referral.number} 已提交")
                return redirect("referrals:detail", referral.pk)
    return render(request, "referrals/create.html", {"form": form, "direction": direction})


def _available(referral: Referral, side: str | None) -> list[str]:
    """The actions the side may take now (what the buttons offer)."""
    moves = {
        "receive": Status.RECEIVED,
        "accept": Status.ACCEPTED,
        "reject": Status.REJECTED,
        "cancel": Status.CANCELLED,
        "arrive": Status.ARRIVED,
        "admit": Status.IN_TREATMENT,
        "complete": Status.COMPLETED,
        "return": Status.RETURNED,
        "close": Status.CLOSED,
    }
    out = []
    for name, wanted in moves.items():
        if side and not rules.move_refusal(referral.status, wanted, side, reason="x"):
            if name == "return" and referral.direction != Direction.UP:
                continue
            out.append(name)
    return out


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    try:
        referral = services.do_read_referral(actor, pk)
    except AccessDenied as exc:
        return _forbidden(request, exc.reason)
    side = services.side_of(actor, referral)
    calc = CalculatorForm(request.GET if "total" in request.GET else None)
    estimate = None
    if calc.is_bound and calc.is_valid():
        try:
            estimate = services.estimate_out_of_pocket(referral, calc.cleaned_data["total"])
        except DomainError as exc:
            calc.add_error("total", exc.text())
    medcom = referral.from_institution.medcom_id
    grassroots = queries.list_targets(Direction.DOWN, medcom)
    wards = queries.list_departments(
        [referral.to_institution_id] if referral.to_institution_id else []
    )
    return_form = ReturnForm(initial={"to_institution": services.default_down_target(referral).pk})
    field = return_form.fields["to_institution"]
    assert hasattr(field, "choices")
    field.choices = [(i.pk, i.name) for i in grassroots]
    # The summary stores codes (outpatient, I10); the page shows 门诊 and the diagnosis name.
    summary_rows = (referral.summary or {}).get("recent", [])
    code_names = get_code_names(e.get("diagnosis", "") for e in summary_rows)
    setting_labels = dict(Setting.choices)
    recent = [
        {
            **e,
            "setting": setting_labels.get(e.get("setting", ""), e.get("setting", "")),
            "diagnosis_name": code_names.get(e.get("diagnosis", ""), ""),
        }
        for e in summary_rows
    ]
    return render(
        request,
        "referrals/detail.html",
        {
            "r": referral,
            "side": side,
            "side_label": rules.SIDE_LABELS.get(side or "", "查看"),
            "actions": _available(referral, side) if actor.role in services.REFERRING_ROLES else [],
            "events": queries.event_rows(referral),
            "diagnosis_name": get_code_names([referral.diagnosis_code]).get(
                referral.diagnosis_code, ""
            ),
            "recent": recent,
            "calc": calc,
            "estimate": estimate,
            "wards": [w for w in wards if w.beds > 0],
            "return_form": return_form,
            "complete_form": CompleteForm(),
            "reason_form": ReasonForm(),
            "tasks": list(referral.tasks.select_related("institution")),
            "children": list(referral.returns.all()),
            "overdue": rules.is_overdue(referral.status, referral.deadline_at, clock.now()),
        },
    )


@login_required
@require_POST
def act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    actor = _actor(request)
    post = request.POST
    try:
        if action == "receive":
            services.do_receive(actor, pk)
        elif action == "accept":
            services.do_accept(actor, pk, note=post.get("note", ""))
        elif action == "reject":
            services.do_reject(actor, pk, post.get("reason", ""))
        elif action == "cancel":
            services.do_cancel(actor, pk, post.get("reason", ""))
        elif action == "arrive":
            services.do_arrive(actor, pk)
        elif action == "admit":
            ward = post.get("department")
            services.do_admit(actor, pk, department_id=int(ward) if ward else None)
        elif action == "complete":
            services.do_complete(
                actor,
                pk,
                result_diagnosis=post.get("result_diagnosis", ""),
                inpatient_number=post.get("inpatient_number", ""),
                findings=post.get("findings", ""),
            )
        elif action == "return":
            target = post.get("to_institution")
            down = services.do_return_down(
                actor,
                pk,
                rehab_plan=post.get("rehab_plan", ""),
                to_institution_id=int(target) if target else None,
            )
            messages.success(request, f"已开具下转单 {down.number}，接收机构将收到随访任务")
            return redirect("referrals:detail", down.pk)
        elif action == "close":
            services.do_close(actor, pk, note=post.get("note", ""))
        else:
            return _forbidden(request, "未知操作")
    except AccessDenied as exc:
        return _forbidden(request, exc.reason)
    except (DomainError, ValueError) as exc:
        messages.error(request, exc.text() if isinstance(exc, DomainError) else "提交的数据有误")
    else:
        messages.success(request, "已办理")
    return redirect("referrals:detail", pk)


@login_required
def print_form(request: HttpRequest, pk: int) -> HttpResponse:
    """转诊单（存根、转出单、回转单）: printable HTML, or PDF with ``?format=pdf``."""
    actor = _actor(request)
    try:
        referral = services.do_read_referral(actor, pk)
    except AccessDenied as exc:
        return _forbidden(request, exc.reason)
    context = {
        "r": referral,
        "diagnosis_name": get_code_names([referral.diagnosis_code]).get(
            referral.diagnosis_code, ""
        ),
        "age": (clock.today() - referral.resident.birth_date).days // 365,
        "printed_at": clock.now(),
    }
    if request.GET.get("format") == "pdf":
        html = render_to_string("referrals/print.html", context | {"pdf": True}, request=request)
        try:
            pdf = html_to_pdf(html, base_url=request.build_absolute_uri("/"))
        except DomainError as exc:
            messages.error(request, exc.text())
            return redirect("referrals:detail", referral.pk)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{referral.number}.pdf"'
        return response
    return render(request, "referrals/print.html", context)


@login_required
@require_POST
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    try:
        services.do_complete_task(actor, pk, request.POST.get("note", ""))
    except AccessDenied as exc:
        return _forbidden(request, exc.reason)
    except DomainError as exc:
        messages.error(request, exc.text())
    else:
        messages.success(request, "随访已记录")
    return redirect(f"{reverse('referrals:worklist')}?box=tasks")
