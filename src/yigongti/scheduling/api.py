"""Schedules (号源) and bookings (预约): list, publish, cancel, book, attend, no-show.

Thin: ids are looked up here (missing → 404, outside the caller's view → 403), the services
decide and write. Residents appear masked (``张*福``) in every answer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.params import P, PathEx

from yigongti.accounts import rules as access
from yigongti.accounts.api import current_actor
from yigongti.accounts.choices import Role
from yigongti.accounts.queries import Actor
from yigongti.core import clock
from yigongti.core.api import DENIABLE, DENIABLE_OR_MISSING, NotFound, paginate
from yigongti.core.errors import AccessDenied, DomainError
from yigongti.core.schemas import Page
from yigongti.organizations.models import Department
from yigongti.scheduling import queries, rules, services
from yigongti.scheduling.models import Booking, Schedule
from yigongti.scheduling.schemas import (
    BookingIn,
    BookingListParams,
    BookingOut,
    ReasonIn,
    ScheduleCancelOut,
    ScheduleIn,
    ScheduleListParams,
    ScheduleOut,
)
from yigongti.staff.models import Practitioner

router = Router(tags=["号源与预约"])

RowId = PathEx[int, P(ge=1, le=2**53, description="编号")]
DEFAULT_DAYS = 13  # the default window: today and the next 13 days (two weeks)
LIST_ROLES = access.CLINICAL_ROLES | {Role.INSTITUTION_ADMIN, Role.COUNTY_ADMIN}


def _schedule(actor: Actor, schedule_id: int) -> Schedule:
    schedule = queries.get_schedule(schedule_id)
    if schedule is None:
        raise NotFound(f"排班 {schedule_id} 不存在")
    if not queries.can_see_schedule(actor, schedule):
        raise AccessDenied("该排班不在您的数据范围内")
    return schedule


def _booking(actor: Actor, booking_id: int) -> Booking:
    booking = queries.get_booking(booking_id)
    if booking is None:
        raise NotFound(f"预约 {booking_id} 不存在")
    if not queries.can_see_booking(actor, booking):
        raise AccessDenied("该预约不在您的管理范围内")
    return booking


def _booking_out(booking_id: int) -> dict[str, Any]:
    booking = queries.get_booking(booking_id)
    assert booking is not None
    return queries.booking_row(booking)


def _window(day_from: dt.date | None, day_to: dt.date | None) -> tuple[dt.date, dt.date]:
    start = day_from or clock.today()
    if day_to is None:
        span = dt.timedelta(days=DEFAULT_DAYS)
        day_to = start + span if start <= dt.date.max - span else dt.date.max
    if day_to < start:
        raise DomainError("结束日期不能早于开始日期", field="day_to")
    return start, day_to


def _renamed(exc: DomainError, names: dict[str, str]) -> DomainError:
    """The service's field names (``department_id``) as the API's (``department``)."""
    return DomainError({names.get(k, k): v for k, v in exc.field_errors.items()})


@router.get(
    "/scheduling/schedules",
    response={200: Page[ScheduleOut], **DENIABLE},
    summary="号源列表（每个时段的余号及本人渠道能否预约）",
)
def schedules(request: HttpRequest, params: Query[ScheduleListParams]) -> dict[str, Any]:
    """Sessions of the hospitals in the caller's scope and of their own medcom, in time order.
    ``can_book`` is for the caller's channel: grassroots institutions and family-doctor teams
    book the reserved pool (open earlier), everyone else the public pool."""
    actor = current_actor(request)
    start, end = _window(params.day_from, params.day_to)
    qs = queries.list_schedules(
        actor, start, end, params.institution or None, params.department or None, params.q
    )
    channel = services.channel_of(actor)
    now = clock.now()
    return paginate(
        qs, params.limit, params.offset, lambda s: queries.schedule_row(s, channel, now)
    )


@router.post(
    "/scheduling/schedules",
    response={201: ScheduleOut, **DENIABLE},
    summary="发布排班（号源按比例分入基层预留池与公众池）",
)
def publish(request: HttpRequest, payload: ScheduleIn) -> Status[dict[str, Any]]:
    actor = current_actor(request)
    if not rules.can_publish(actor.role):
        raise AccessDenied("只有县级管理员、管理中心和机构管理员可以发布或停诊排班")
    department = (
        Department.objects.filter(institution__code=payload.institution, code=payload.department)
        .values_list("pk", flat=True)
        .first()
    )
    if department is None:
        raise DomainError("该机构没有此科室", field="department")
    doctor_id = None
    if payload.doctor:
        doctor_id = (
            Practitioner.objects.filter(code=payload.doctor).values_list("pk", flat=True).first()
        )
        if doctor_id is None:
            raise DomainError("工号不存在", field="doctor")
    data = services.ScheduleInput(
        department_id=department,
        day=payload.day,
        session=payload.session,
        start=payload.start,
        end=payload.end,
        slot_count=payload.slot_count,
        fee=payload.fee,
        doctor_id=doctor_id,
    )
    try:
        schedule = services.do_publish_schedule(actor, data)
    except DomainError as exc:
        raise _renamed(exc, {"department_id": "department", "doctor_id": "doctor"}) from None
    row = queries.schedule_row(
        queries.with_counts(schedule), services.channel_of(actor), clock.now()
    )
    return Status(201, row)


@router.post(
    "/scheduling/schedules/{schedule_id}/cancel",
    response={200: ScheduleCancelOut, **DENIABLE_OR_MISSING},
    summary="停诊（已预约的号一并取消，须填写原因）",
)
def cancel_schedule(request: HttpRequest, schedule_id: RowId, payload: ReasonIn) -> dict[str, Any]:
    actor = current_actor(request)
    schedule = _schedule(actor, schedule_id)
    cancelled = services.do_cancel_schedule(actor, schedule.pk, payload.reason)
    schedule.refresh_from_db()
    return {
        "id": schedule.pk,
        "status": schedule.status,
        "status_label": schedule.get_status_display(),
        "bookings_cancelled": cancelled,
    }


@router.post(
    "/scheduling/schedules/{schedule_id}/bookings",
    response={201: BookingOut, **DENIABLE_OR_MISSING},
    summary="预约号源（基层渠道优先使用预留号源）",
)
def book(request: HttpRequest, schedule_id: RowId, payload: BookingIn) -> Status[dict[str, Any]]:
    """201 with the booking, or 422 with the Chinese refusal: full, not open yet to the
    caller's channel, the resident already booked in this session, or the session stopped.
    403 without a care relationship with the resident (audited)."""
    actor = current_actor(request)
    schedule = _schedule(actor, schedule_id)
    resident = queries.get_live_resident(payload.mpi_id)
    if resident is None:
        raise AccessDenied("该居民不在您的数据范围内")
    try:
        booking = services.do_book_slot(actor, schedule.pk, resident, note=payload.note)
    except DomainError as exc:
        raise _renamed(exc, {"resident": "mpi_id"}) from None
    return Status(201, _booking_out(booking.pk))


@router.get(
    "/scheduling/bookings",
    response={200: Page[BookingOut], **DENIABLE},
    summary="预约列表（本院工作单或本机构发起的预约；姓名已脱敏）",
)
def bookings(request: HttpRequest, params: Query[BookingListParams]) -> dict[str, Any]:
    actor = current_actor(request)
    if actor.role not in LIST_ROLES:
        raise AccessDenied("您的角色只能查看去标识化的汇总数据，不能查看预约明细")
    if params.day_from and params.day_to and params.day_to < params.day_from:
        raise DomainError("结束日期不能早于开始日期", field="day_to")
    qs = queries.list_bookings(
        actor,
        params.side,
        day_from=params.day_from,
        day_to=params.day_to,
        institution=params.institution or None,
        department=params.department or None,
        status=params.status,
    )
    return paginate(qs, params.limit, params.offset, queries.booking_row)


@router.post(
    "/scheduling/bookings/{booking_id}/cancel",
    response={200: BookingOut, **DENIABLE_OR_MISSING},
    summary="取消预约（就诊前，须填写原因）",
)
def cancel_booking(request: HttpRequest, booking_id: RowId, payload: ReasonIn) -> dict[str, Any]:
    actor = current_actor(request)
    booking = _booking(actor, booking_id)
    if not payload.reason.strip():
        raise DomainError("取消预约须填写原因", field="reason")
    services.do_cancel_booking(actor, booking.pk, payload.reason)
    return _booking_out(booking.pk)


@router.post(
    "/scheduling/bookings/{booking_id}/attend",
    response={200: BookingOut, **DENIABLE_OR_MISSING},
    summary="登记到诊（出诊医院）",
)
def attend(request: HttpRequest, booking_id: RowId) -> dict[str, Any]:
    actor = current_actor(request)
    booking = _booking(actor, booking_id)
    services.do_mark_attended(actor, booking.pk)
    return _booking_out(booking.pk)


@router.post(
    "/scheduling/bookings/{booking_id}/no-show",
    response={200: BookingOut, **DENIABLE_OR_MISSING},
    summary="登记爽约（出诊医院，就诊时间过后）",
)
def no_show(request: HttpRequest, booking_id: RowId) -> dict[str, Any]:
    actor = current_actor(request)
    booking = _booking(actor, booking_id)
    services.do_mark_no_show(actor, booking.pk)
    return _booking_out(booking.pk)
