"""Scheduling pages (thin): 号源预约 (week view and booking), 我的预约, 排班管理, 门诊预约工作单,
床位看板. Forms parse, ``queries`` read, ``services`` decide and write; a service's refusal is
shown next to the field it names. Lists page and mask residents' names.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from yigongti.accounts.queries import Actor
from yigongti.core import clock
from yigongti.core.errors import AccessDenied, DomainError
from yigongti.residents.queries import masked_row, search_residents
from yigongti.scheduling import queries, rules, services
from yigongti.scheduling.choices import BedStatus, Channel, Pool
from yigongti.scheduling.forms import (
    BookingFilterForm,
    BookingForm,
    HoldBedForm,
    InstitutionForm,
    ManageFilterForm,
    PublishForm,
    ReasonForm,
    WeekForm,
    WorklistForm,
    place_errors,
)
from yigongti.scheduling.models import Schedule

PAGE_SIZE = 20
WORKLIST_PAGE_SIZE = 50
WEEK_DEPARTMENTS = 10  # departments per page of the week view
SEARCH_LIMIT = 10
TWO_WEEKS = dt.timedelta(days=13)
AGGREGATE_REFUSAL = "您的角色只能查看去标识化的汇总数据，不能查看预约明细"


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    return actor


def _forbidden(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "403.html", {"reason": reason}, status=403)


def _back(request: HttpRequest, default: str) -> str:
    """Where a POST button returns to: its ``next`` when it is a local path."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _plain(exc: DomainError) -> str:
    """A service's refusal as one sentence (no field names) for a message above the page."""
    return "；".join(m for messages in exc.field_errors.values() for m in messages)


def _schedule_for(actor: Actor, pk: int) -> Schedule:
    schedule = queries.get_schedule(pk)
    if schedule is None:
        raise Http404("排班不存在")
    if not queries.can_see_schedule(actor, schedule):
        raise AccessDenied("该排班不在您的数据范围内")
    return schedule


def _resident_results(actor: Actor, q: str) -> list[dict[str, str]]:
    """The resident search of the master patient index (scoped, masked), first results."""
    return [masked_row(r) for r in search_residents(actor, q)[:SEARCH_LIMIT]] if q else []


# 号源预约 --------------------------------------------------------------------------------------


@login_required
def slots(request: HttpRequest) -> HttpResponse:
    """The week view: per department and day, each session's free reserved/public slots and
    whether the user's channel may book it now (and if not, when)."""
    actor = _actor(request)
    hospitals = queries.schedule_institutions(actor)
    choices = [(i.code, i.label) for i in hospitals]
    form = WeekForm(request.GET or None, institutions=choices)
    today = clock.today()
    week, hospital, department = today, (choices[0][0] if choices else ""), ""
    valid = not form.is_bound or form.is_valid()
    if form.is_bound and valid:
        week = form.cleaned_data["week"] or today
        hospital = form.cleaned_data["institution"] or hospital
        department = form.cleaned_data["department"].strip()
    monday = week - dt.timedelta(days=week.weekday())
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    channel = services.channel_of(actor)
    now = clock.now()
    grid: dict[int, dict[str, Any]] = {}
    if hospital and valid:
        for schedule in queries.list_schedules(actor, days[0], days[-1], hospital, department):
            entry = grid.setdefault(
                schedule.department_id,
                {"department": schedule.department, "cells": {d: [] for d in days}},
            )
            entry["cells"][schedule.day].append(queries.schedule_row(schedule, channel, now))
    rows = sorted(grid.values(), key=lambda e: e["department"].code)
    page = Paginator(rows, WEEK_DEPARTMENTS).get_page(request.GET.get("page"))
    return render(
        request,
        "scheduling/slots.html",
        {
            "form": form,
            "days": days,
            "today": today,
            "page": page,
            "rows": [
                {"department": e["department"], "cells": [e["cells"][d] for d in days]}
                for e in page.object_list
            ],
            "hospital": hospital,
            "department": department,
            "departments": queries.list_departments(hospital) if hospital else [],
            "prev_week": monday - dt.timedelta(days=7),
            "next_week": monday + dt.timedelta(days=7),
            "channel_label": Channel(channel).label,
            "grassroots": channel == Channel.GRASSROOTS,
            "may_book": rules.can_book(actor.role),
        },
    )


@login_required
def book(request: HttpRequest, pk: int) -> HttpResponse:
    """Book a slot of one session for a resident found by the resident search."""
    actor = _actor(request)
    if not rules.can_book(actor.role):
        return _forbidden(request, "您的角色不能预约号源")
    try:
        schedule = _schedule_for(actor, pk)
    except AccessDenied as exc:
        return _forbidden(request, exc.reason)
    q = (request.POST.get("q") or request.GET.get("q") or "").strip()[:32]
    form = BookingForm(request.POST or None, initial={"mpi_id": request.GET.get("mpi_id", "")})
    if request.method == "POST" and form.is_valid():
        resident = queries.get_live_resident(form.cleaned_data["mpi_id"])
        if resident is None:
            form.add_error("mpi_id", "该居民不在您的数据范围内")
        else:
            try:
                booking = services.do_book_slot(
                    actor, schedule.pk, resident, note=form.cleaned_data["note"]
                )
            except DomainError as exc:
                place_errors(form, exc, {"resident": "mpi_id", "schedule": "__all__"})
            except AccessDenied as exc:
                form.add_error("mpi_id", exc.reason)
            else:
                row = queries.booking_row(booking)
                messages.success(
                    request,
                    f"已为 {row['resident']['name']} 预约 {row['day']:%Y-%m-%d} "
                    f"{row['session_label']} {row['department']['name']} 第 {row['seq']} 号"
                    f"（{row['starts_at']:%H:%M}，{row['pool_label']}号源）",
                )
                return redirect("scheduling:my_bookings")
    row = queries.schedule_row(
        queries.with_counts(schedule), services.channel_of(actor), clock.now()
    )
    return render(
        request,
        "scheduling/book.html",
        {"schedule": row, "form": form, "q": q, "results": _resident_results(actor, q)},
    )


# 我的预约 --------------------------------------------------------------------------------------


@login_required
def my_bookings(request: HttpRequest) -> HttpResponse:
    """The bookings the user's institution (or subtree) made, newest first."""
    actor = _actor(request)
    if not rules.can_book(actor.role):
        return _forbidden(request, AGGREGATE_REFUSAL)
    form = BookingFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        filters = {
            "day_from": form.cleaned_data["day_from"],
            "day_to": form.cleaned_data["day_to"],
            "status": form.cleaned_data["status"] or None,
        }
    qs = queries.list_bookings(actor, queries.SIDE_BOOKER, **filters)
    if form.is_bound and not form.is_valid():
        qs = qs.none()
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "scheduling/my_bookings.html",
        {"form": form, "page": page, "rows": [queries.booking_row(b) for b in page]},
    )


@login_required
def cancel_booking(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a booking before its time (the booking side or the hospital); reason required."""
    actor = _actor(request)
    booking = queries.get_booking(pk)
    if booking is None:
        raise Http404("预约不存在")
    if not queries.can_see_booking(actor, booking):
        return _forbidden(request, "该预约不在您的管理范围内")
    back = _back(request, reverse("scheduling:my_bookings"))
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.do_cancel_booking(actor, booking.pk, form.cleaned_data["reason"])
        except DomainError as exc:
            place_errors(form, exc, {"status": "__all__"})
        except AccessDenied as exc:
            return _forbidden(request, exc.reason)
        else:
            messages.success(request, "预约已取消，号源已释放")
            return redirect(back)
    return render(
        request,
        "scheduling/cancel_booking.html",
        {"booking": queries.booking_row(booking), "form": form, "back": back},
    )


# 排班管理 --------------------------------------------------------------------------------------


@login_required
def manage(request: HttpRequest) -> HttpResponse:
    """Publish a session (form) and list the sessions of the institutions the user manages."""
    actor = _actor(request)
    if not rules.can_publish(actor.role):
        return _forbidden(request, "只有县级管理员、管理中心和机构管理员可以发布或停诊排班")
    departments = queries.managed_departments(actor)
    choices = [(str(d.pk), f"{d.institution.label} · {d.name}") for d in departments]
    today = clock.today()
    form = PublishForm(
        request.POST or None,
        departments=choices,
        initial={"day": today + dt.timedelta(days=1)},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        doctor_id = None
        if data["doctor"].strip():
            doctor_id = queries.practitioner_id(data["doctor"].strip())
            if doctor_id is None:
                form.add_error("doctor", "工号不存在")
        if form.is_valid():
            try:
                schedule = services.do_publish_schedule(
                    actor,
                    services.ScheduleInput(
                        department_id=int(data["department"]),
                        day=data["day"],
                        session=data["session"],
                        start=data["start"],
                        end=data["end"],
                        slot_count=data["slot_count"],
                        fee=data["fee"],
                        doctor_id=doctor_id,
                    ),
                )
            except DomainError as exc:
                place_errors(form, exc, {"department_id": "department", "doctor_id": "doctor"})
            except AccessDenied as exc:
                form.add_error("department", exc.reason)
            else:
                messages.success(
                    request,
                    f"已发布 {schedule.day:%Y-%m-%d} {schedule.get_session_display()} "
                    f"{schedule.department.name}：{schedule.slot_count} 个号源，"
                    f"其中基层预留 {schedule.reserved_count} 个",
                )
                return redirect(request.get_full_path())
    filters = ManageFilterForm(request.GET or None)
    start, end = today, today + TWO_WEEKS
    if filters.is_bound and filters.is_valid():
        start = filters.cleaned_data["day_from"] or start
        end = filters.cleaned_data["day_to"] or start + TWO_WEEKS
    qs = queries.managed_schedules(actor, start, end)
    if filters.is_bound and not filters.is_valid():
        qs = qs.none()
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    channel, now = services.channel_of(actor), clock.now()
    rows = []
    for schedule in page:
        row = queries.schedule_row(schedule, channel, now)
        row["booked"] = row["slot_count"] - row["free_reserved"] - row["free_public"]
        row["can_stop"] = row["status"] == "open" and schedule.starts_at > now
        rows.append(row)
    return render(
        request,
        "scheduling/manage.html",
        {"form": form, "filters": filters, "page": page, "rows": rows, "start": start, "end": end},
    )


@login_required
def cancel_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    """停诊: reason required; the session's open bookings are cancelled with it."""
    actor = _actor(request)
    if not rules.can_publish(actor.role):
        return _forbidden(request, "只有县级管理员、管理中心和机构管理员可以发布或停诊排班")
    schedule = queries.get_schedule(pk)
    if schedule is None:
        raise Http404("排班不存在")
    if not actor.scope.covers_institution(schedule.institution.path):
        return _forbidden(request, "该机构不在您的管理范围内")
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cancelled = services.do_cancel_schedule(actor, schedule.pk, form.cleaned_data["reason"])
        except DomainError as exc:
            place_errors(form, exc, {"schedule": "__all__"})
        except AccessDenied as exc:
            return _forbidden(request, exc.reason)
        else:
            messages.success(request, f"已停诊，{cancelled} 个预约已取消并记录原因")
            return redirect("scheduling:manage")
    row = queries.schedule_row(
        queries.with_counts(schedule), services.channel_of(actor), clock.now()
    )
    row["booked"] = row["slot_count"] - row["free_reserved"] - row["free_public"]
    return render(request, "scheduling/cancel_schedule.html", {"schedule": row, "form": form})


# 门诊预约工作单 -------------------------------------------------------------------------------


def _hospital_choices(actor: Actor) -> list[tuple[str, str]]:
    return [(i.code, i.label) for i in queries.hospital_institutions(actor)]


@login_required
def worklist(request: HttpRequest) -> HttpResponse:
    """The hospital's bookings of one day (and department), in slot order; printable."""
    actor = _actor(request)
    if not rules.can_work_hospital_side(actor.role):
        return _forbidden(request, AGGREGATE_REFUSAL)
    choices = _hospital_choices(actor)
    form = WorklistForm(request.GET or None, institutions=choices)
    day, hospital, department = clock.today(), (choices[0][0] if choices else ""), ""
    valid = not form.is_bound or form.is_valid()
    if form.is_bound and valid:
        day = form.cleaned_data["day"] or day
        hospital = form.cleaned_data["institution"] or hospital
        department = form.cleaned_data["department"].strip()
    qs = queries.list_bookings(
        actor,
        queries.SIDE_HOSPITAL,
        day_from=day,
        day_to=day,
        institution=hospital,
        department=department or None,
        live_only=True,
    )
    if not (hospital and valid):
        qs = qs.none()
    page = Paginator(qs, WORKLIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "scheduling/worklist.html",
        {
            "form": form,
            "page": page,
            "rows": [queries.booking_row(b) for b in page],
            "day": day,
            "hospital": hospital,
            "hospital_name": dict(choices).get(hospital, ""),
            "department": department,
            "departments": queries.list_departments(hospital) if hospital else [],
        },
    )


@login_required
@require_POST
def mark_booking(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """到诊 / 爽约 buttons of the worklist."""
    actor = _actor(request)
    moves = {"attend": services.do_mark_attended, "no-show": services.do_mark_no_show}
    if action not in moves:
        raise Http404("未知操作")
    booking = queries.get_booking(pk)
    if booking is None:
        raise Http404("预约不存在")
    if not queries.can_see_booking(actor, booking):
        return _forbidden(request, "该预约不在您的管理范围内")
    try:
        moved = moves[action](actor, booking.pk)
    except AccessDenied as exc:
        return _forbidden(request, exc.reason)
    except DomainError as exc:
        messages.error(request, _plain(exc))
    else:
        row = queries.booking_row(moved)
        messages.success(
            request, f"第 {row['seq']} 号 {row['resident']['name']}：{row['status_label']}"
        )
    return redirect(_back(request, reverse("scheduling:worklist")))


# 床位看板 --------------------------------------------------------------------------------------


@login_required
def beds(request: HttpRequest) -> HttpResponse:
    """Wards of one hospital: reserved and public capacity and use, held and admitted beds."""
    actor = _actor(request)
    if not rules.can_work_hospital_side(actor.role):
        return _forbidden(request, AGGREGATE_REFUSAL)
    choices = _hospital_choices(actor)
    form = InstitutionForm(request.GET or None, institutions=choices)
    hospital = choices[0][0] if choices else ""
    valid = not form.is_bound or form.is_valid()
    if form.is_bound and valid:
        hospital = form.cleaned_data["institution"] or hospital
    institution = next(
        (i for i in queries.hospital_institutions(actor) if i.code == hospital and valid), None
    )
    wards = queries.bed_board(institution) if institution else []
    return render(
        request,
        "scheduling/beds.html",
        {
            "form": form,
            "institution": institution,
            "wards": wards,
            "reserved": Pool.RESERVED.value,
            "public": Pool.PUBLIC.value,
            "totals": {
                "beds": sum(w.beds for w in wards),
                "reserved": sum(w.capacity[Pool.RESERVED] for w in wards),
                "reserved_used": sum(w.used.get(Pool.RESERVED, 0) for w in wards),
                "public": sum(w.capacity[Pool.PUBLIC] for w in wards),
                "public_used": sum(w.used.get(Pool.PUBLIC, 0) for w in wards),
            },
        },
    )


@login_required
def hold_bed(request: HttpRequest, pk: int) -> HttpResponse:
    """Hold a bed of a ward for a resident (up-referred patients take reserved beds first)."""
    actor = _actor(request)
    if not rules.can_work_hospital_side(actor.role):
        return _forbidden(request, AGGREGATE_REFUSAL)
    ward = queries.get_ward(pk)
    if ward is None:
        raise Http404("病区不存在")
    if not actor.scope.covers_institution(ward.institution.path):
        return _forbidden(request, "该病区不在您的管理范围内")
    q = (request.POST.get("q") or request.GET.get("q") or "").strip()[:32]
    form = HoldBedForm(request.POST or None, initial={"expected_on": clock.today()})
    back = reverse("scheduling:beds") + f"?institution={ward.institution.code}"
    if request.method == "POST" and form.is_valid():
        resident = queries.get_live_resident(form.cleaned_data["mpi_id"])
        if resident is None:
            form.add_error("mpi_id", "该居民不在您的数据范围内")
        else:
            try:
                bed = services.do_hold_bed(
                    actor,
                    ward.pk,
                    resident,
                    expected_on=form.cleaned_data["expected_on"],
                    up_referral=form.cleaned_data["up_referral"],
                )
            except DomainError as exc:
                place_errors(form, exc, {"resident": "mpi_id", "department": "__all__"})
            except AccessDenied as exc:
                form.add_error("mpi_id", exc.reason)
            else:
                messages.success(
                    request,
                    f"已为 {queries.bed_row(bed)['resident']} 预留 {ward.name} 床位"
                    f"（{bed.get_pool_display()}床位）",
                )
                return redirect(back)
    return render(
        request,
        "scheduling/hold_bed.html",
        {
            "ward": ward,
            "patients_note": queries.patients_note(ward, clock.today()),
            "form": form,
            "q": q,
            "results": _resident_results(actor, q),
            "back": back,
        },
    )


BED_ACTIONS = {
    "admit": BedStatus.ADMITTED,
    "release": BedStatus.RELEASED,
    "cancel": BedStatus.CANCELLED,
}


@login_required
@require_POST
def move_bed(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """入院 / 出院释放 / 取消预留 (reason required) buttons of the bed board."""
    actor = _actor(request)
    if action not in BED_ACTIONS:
        raise Http404("未知操作")
    bed = queries.get_bed(pk)
    if bed is None:
        raise Http404("床位预约不存在")
    if not actor.scope.covers_institution(bed.department.institution.path):
        return _forbidden(request, "该床位预约不在您的管理范围内")
    try:
        moved = services.do_move_bed(
            actor, bed.pk, BED_ACTIONS[action], reason=request.POST.get("reason", "")[:200]
        )
    except AccessDenied as exc:
        return _forbidden(request, exc.reason)
    except DomainError as exc:
        messages.error(request, _plain(exc))
    else:
        messages.success(
            request, f"{queries.bed_row(moved)['resident']}：{moved.get_status_display()}"
        )
    code = bed.department.institution.code
    return redirect(reverse("scheduling:beds") + f"?institution={code}")
