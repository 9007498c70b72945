"""The scheduling API: list, publish, stop, book, cancel, attend, no-show and the booking lists.
Every refusal changes nothing; ids outside the caller's view answer 403/404; names are masked."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from yigongti.core.models import AuditEvent
from yigongti.scheduling.choices import BookingStatus
from yigongti.scheduling.models import Booking, Schedule, Slot
from yigongti.scheduling.services import ScheduleInput, do_book_slot, do_publish_schedule

from .conftest import at

pytestmark = pytest.mark.django_db

WINDOW = {"day_from": "2026-03-09", "day_to": "2026-03-09"}


def state() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], int]:
    """Everything a refusal must leave alone."""
    return (
        list(Schedule.objects.order_by("pk").values_list("pk", "status", "slot_count")),
        list(Booking.objects.order_by("pk").values_list("pk", "slot_id", "status")),
        Slot.objects.count(),
    )


def errors(response: Any) -> list[dict[str, str]]:
    body = response.json()
    assert body["detail"] == "提交的数据有误"
    return list(body["errors"])


def expected_row(session: Any, **changes: Any) -> dict[str, Any]:
    row = {
        "id": session.pk,
        "institution": {"code": "QH0001", "name": "青禾县人民医院"},
        "department": {"code": "XNK", "name": "心血管内科"},
        "patients": "all",
        "patients_note": "",
        "doctor": {"code": "QH0001-0001", "name": "李心远"},
        "day": "2026-03-09",
        "session": "am",
        "session_label": "上午",
        "starts_at": "2026-03-09T08:00:00+08:00",
        "ends_at": "2026-03-09T09:00:00+08:00",
        "slot_count": 6,
        "reserved_count": 2,
        "public_count": 4,
        "free_reserved": 2,
        "free_public": 4,
        "fee": "12.00",
        "status": "open",
        "status_label": "已发布",
        "reserved_opens_at": "2026-02-23T08:00:00+08:00",
        "public_opens_at": "2026-03-02T08:00:00+08:00",
        "cutoff_at": "2026-03-08T08:00:00+08:00",
        "channel": "grassroots",
        "channel_label": "基层/家庭医生团队",
        "can_book": False,
        "bookable_pools": [],
        "refusal": "号源尚未开放：基层预留号源于 02月23日 08:00 开放",
        "opens_at": "2026-02-23T08:00:00+08:00",
    }
    row.update(changes)
    return row


# ---------------------------------------------------------------------------
# GET /scheduling/schedules
# ---------------------------------------------------------------------------


def test_list_says_when_each_channel_may_book(session: Any, api_as: Any, frozen: Any) -> None:
    body = api_as("family_doctor").get("/scheduling/schedules", **WINDOW).json()
    assert body == {"count": 1, "items": [expected_row(session)]}
    public = api_as("cardiologist").get("/scheduling/schedules", **WINDOW).json()["items"][0]
    assert public == expected_row(
        session,
        channel="public",
        channel_label="公众/本院",
        refusal="号源尚未开放：公众号源于 03月02日 08:00 开放"
        "（基层预留号源未用部分于 03月08日 08:00 转为公众号源）",
        opens_at="2026-03-02T08:00:00+08:00",
    )
    frozen(at(2, 23))
    row = api_as("family_doctor").get("/scheduling/schedules", **WINDOW).json()["items"][0]
    assert row == expected_row(
        session, can_book=True, bookable_pools=["reserved"], refusal="", opens_at=None
    )


def test_list_counts_live_bookings_per_pool(
    session: Any, world: Any, api_as: Any, actor_for: Any, frozen: Any
) -> None:
    frozen(at(3, 2))
    do_book_slot(actor_for("family_doctor"), session.pk, world.residents["elderly_patient"])
    do_book_slot(actor_for("cardiologist"), session.pk, world.residents["town_resident"])
    row = api_as("cardiologist").get("/scheduling/schedules", **WINDOW).json()["items"][0]
    assert (row["free_reserved"], row["free_public"], row["can_book"]) == (1, 3, True)
    assert row["bookable_pools"] == ["public"]


def test_list_filters_window_and_pages(
    session: Any, world: Any, api_as: Any, actor_for: Any
) -> None:
    for day in (dt.date(2026, 3, 10), dt.date(2026, 3, 11)):
        do_publish_schedule(
            actor_for("county_admin"),
            ScheduleInput(
                department_id=world.lead_hospital.departments.get(code="ERK").pk,
                day=day,
                session="pm",
                start=dt.time(14, 0),
                end=dt.time(16, 0),
                slot_count=12,
            ),
        )
    api = api_as("township_doctor")
    march = {"day_from": "2026-03-01", "day_to": "2026-03-31"}
    paediatrics = api.get("/scheduling/schedules", department="ERK", **march).json()["items"][0]
    assert (paediatrics["patients"], paediatrics["patients_note"]) == (
        "children",
        "仅接诊 14 周岁及以下患者",
    )

    def ids(**params: Any) -> tuple[int, list[tuple[str, str]]]:
        body = api.get("/scheduling/schedules", **{**march, **params}).json()
        return body["count"], [(i["day"], i["department"]["code"]) for i in body["items"]]

    assert ids() == (
        3,
        [("2026-03-09", "XNK"), ("2026-03-10", "ERK"), ("2026-03-11", "ERK")],
    )
    assert ids(limit=1, offset=1) == (3, [("2026-03-10", "ERK")])
    assert ids(department="ERK") == (2, [("2026-03-10", "ERK"), ("2026-03-11", "ERK")])
    assert ids(q="李心") == (1, [("2026-03-09", "XNK")])
    assert ids(q="儿科") == (2, [("2026-03-10", "ERK"), ("2026-03-11", "ERK")])
    assert ids(institution="QH1001") == (0, [])
    assert ids(day_from="2026-03-10", day_to="2026-03-10") == (1, [("2026-03-10", "ERK")])
    # the default window is today (02-20) and the 13 days after it
    assert api.get("/scheduling/schedules").json() == {"count": 0, "items": []}
    response = api.get("/scheduling/schedules", day_from="2026-03-10", day_to="2026-03-09")
    assert response.status_code == 422
    assert errors(response) == [{"field": "day_to", "message": "结束日期不能早于开始日期"}]


# ---------------------------------------------------------------------------
# POST /scheduling/schedules and /cancel
# ---------------------------------------------------------------------------

GOOD = {
    "institution": "QH0001",
    "department": "XNK",
    "doctor": "QH0001-0001",
    "day": "2026-03-09",
    "session": "am",
    "start": "08:00",
    "end": "09:00",
    "slot_count": 6,
    "fee": "12.00",
}


def test_publish(world: Any, api_as: Any, frozen: Any) -> None:
    frozen(at(2, 20))
    response = api_as("county_admin").post("/scheduling/schedules", GOOD)
    assert response.status_code == 201
    schedule = Schedule.objects.get()
    assert response.json() == expected_row(
        schedule,
        channel="public",
        channel_label="公众/本院",
        refusal="号源尚未开放：公众号源于 03月02日 08:00 开放"
        "（基层预留号源未用部分于 03月08日 08:00 转为公众号源）",
        opens_at="2026-03-02T08:00:00+08:00",
    )
    assert list(schedule.slots.values_list("seq", "pool")) == [
        (1, "public"),
        (2, "public"),
        (3, "reserved"),
        (4, "public"),
        (5, "public"),
        (6, "reserved"),
    ]
    assert schedule.fee == Decimal("12.00") and schedule.created_by == world.users["county_admin"]


@pytest.mark.parametrize(
    ("persona", "changes", "status", "answer"),
    [
        (
            "county_admin",
            {"institution": "QH1001", "department": "QKY", "doctor": ""},
            422,
            [
                {
                    "field": "department",
                    "message": "基层医疗卫生机构不发布预留号源排班；请选择县级医院的科室",
                }
            ],
        ),
        (
            "county_admin",
            {"department": "XYZ"},
            422,
            [{"field": "department", "message": "该机构没有此科室"}],
        ),
        (
            "county_admin",
            {"doctor": "QH9999-0001"},
            422,
            [{"field": "doctor", "message": "工号不存在"}],
        ),
        (
            "county_admin",
            {"doctor": "QH1001-0001"},
            422,
            [{"field": "doctor", "message": "出诊医生不属于该机构"}],
        ),
        (
            "county_admin",
            {"day": "2026-02-19", "end": "07:00"},
            422,
            [
                {"field": "day", "message": "出诊日期不能早于今天"},
                {"field": "slot_count", "message": "结束时间应晚于开始时间"},
            ],
        ),
        (
            "county_admin",
            {"slot_count": 0},
            422,
            [{"field": "slot_count", "message": "不能小于 1"}],
        ),
        (
            "family_doctor",
            {},
            403,
            {
                "detail": "只有县级管理员、管理中心和机构管理员可以发布或停诊排班",
                "can_break_glass": False,
            },
        ),
        (
            "institution_admin",  # 河口乡卫生院's admin: the county hospital is not theirs
            {},
            403,
            {"detail": "该机构不在您的管理范围内", "can_break_glass": False},
        ),
    ],
)
def test_publish_refusals_change_nothing(
    world: Any,
    api_as: Any,
    frozen: Any,
    persona: str,
    changes: dict[str, Any],
    status: int,
    answer: Any,
) -> None:
    frozen(at(2, 20))
    before = state()
    response = api_as(persona).post("/scheduling/schedules", {**GOOD, **changes})
    assert response.status_code == status
    assert (errors(response) if status == 422 else response.json()) == answer
    assert state() == before


def test_stop_a_session(session: Any, world: Any, api_as: Any, actor_for: Any, frozen: Any) -> None:
    frozen(at(2, 24))
    booking = do_book_slot(
        actor_for("family_doctor"), session.pk, world.residents["elderly_patient"]
    )
    before = state()
    path = f"/scheduling/schedules/{session.pk}/cancel"
    refused = api_as("county_admin").post(path, {"reason": " "})
    assert (refused.status_code, errors(refused)) == (
        422,
        [{"field": "reason", "message": "停诊须填写原因"}],
    )
    denied = api_as("family_doctor").post(path, {"reason": "外出"})
    assert (denied.status_code, denied.json()["detail"]) == (
        403,
        "只有县级管理员、管理中心和机构管理员可以发布或停诊排班",
    )
    missing = api_as("county_admin").post("/scheduling/schedules/99999/cancel", {"reason": "x"})
    assert (missing.status_code, missing.json()) == (404, {"detail": "排班 99999 不存在"})
    assert state() == before
    done = api_as("county_admin").post(path, {"reason": "专家外出会诊"})
    assert done.status_code == 200
    assert done.json() == {
        "id": session.pk,
        "status": "cancelled",
        "status_label": "已停诊",
        "bookings_cancelled": 1,
    }
    booking.refresh_from_db()
    assert (booking.status, booking.cancel_reason) == ("cancelled", "停诊：专家外出会诊")
    again = api_as("county_admin").post(path, {"reason": "重复"})
    assert (again.status_code, errors(again)) == (
        422,
        [{"field": "schedule", "message": "该排班已停诊"}],
    )


# ---------------------------------------------------------------------------
# POST /scheduling/schedules/{id}/bookings
# ---------------------------------------------------------------------------


def test_book_reserved_slot_masked(session: Any, world: Any, api_as: Any, frozen: Any) -> None:
    zhang = world.residents["elderly_patient"]
    frozen(at(2, 23, 9))
    response = api_as("family_doctor").post(
        f"/scheduling/schedules/{session.pk}/bookings",
        {"mpi_id": zhang.mpi_id, "note": "血压控制差"},
    )
    assert response.status_code == 201
    booking = Booking.objects.get()
    assert response.json() == {
        "id": booking.pk,
        "schedule_id": session.pk,
        "institution": {"code": "QH0001", "name": "青禾县人民医院"},
        "department": {"code": "XNK", "name": "心血管内科"},
        "doctor": "李心远",
        "day": "2026-03-09",
        "session": "am",
        "session_label": "上午",
        "seq": 3,
        "starts_at": "2026-03-09T08:20:00+08:00",
        "ends_at": "2026-03-09T08:30:00+08:00",
        "resident": {"mpi_id": zhang.mpi_id, "name": "张*福"},
        "channel": "grassroots",
        "channel_label": "基层/家庭医生团队",
        "pool": "reserved",
        "pool_label": "基层预留",
        "status": "booked",
        "status_label": "已预约",
        "priority": False,
        "fee_waived": False,
        "fee": "12.00",
        "note": "血压控制差",
        "from_institution": {"code": "QH2003", "name": "青禾县桃源村卫生室"},
        "booked_at": "2026-02-23T09:00:00+08:00",
        "closed_at": None,
        "cancel_reason": "",
        "can_cancel": True,
    }
    content = response.content.decode()
    assert "张德福" not in content and zhang.id_number not in content
    event = AuditEvent.objects.get(resource_type="booking")
    assert (event.action, event.channel, event.basis) == ("create", "api", "family_doctor_contract")


def test_book_refusals_change_nothing(
    world: Any, api_as: Any, actor_for: Any, frozen: Any, session: Any
) -> None:
    zhang, chen = world.residents["elderly_patient"], world.residents["town_resident"]
    path = f"/scheduling/schedules/{session.pk}/bookings"
    frozen(at(2, 22))
    before = state()
    early = api_as("family_doctor").post(path, {"mpi_id": zhang.mpi_id})
    assert (early.status_code, errors(early)) == (
        422,
        [{"field": "__all__", "message": "号源尚未开放：基层预留号源于 02月23日 08:00 开放"}],
    )
    assert state() == before
    frozen(at(2, 23))
    assert api_as("family_doctor").post(path, {"mpi_id": zhang.mpi_id}).status_code == 201
    before = state()
    twice = api_as("family_doctor").post(path, {"mpi_id": zhang.mpi_id})
    assert (twice.status_code, errors(twice)) == (
        422,
        [{"field": "mpi_id", "message": "该居民已预约本时段，不能重复预约"}],
    )
    # a one-slot session at the cut-off: the desk takes it, the next one finds it full
    one = do_publish_schedule(
        actor_for("county_admin"),
        ScheduleInput(
            department_id=session.department_id,
            day=dt.date(2026, 2, 24),
            session="pm",
            start=dt.time(14, 0),
            end=dt.time(14, 30),
            slot_count=1,
        ),
    )
    frozen(at(2, 23, 15))
    desk = api_as("cardiologist")
    assert (
        desk.post(f"/scheduling/schedules/{one.pk}/bookings", {"mpi_id": chen.mpi_id}).status_code
        == 201
    )
    before = state()
    full = desk.post(
        f"/scheduling/schedules/{one.pk}/bookings",
        {"mpi_id": world.residents["elderly_spouse"].mpi_id},
    )
    assert (full.status_code, errors(full)) == (
        422,
        [{"field": "__all__", "message": "该时段可预约号源已约满"}],
    )
    assert state() == before


@pytest.mark.parametrize(
    ("persona", "target", "status", "detail", "audited"),
    [
        # no care relationship: refused and audited
        (
            "family_doctor",
            "elderly_spouse",
            403,
            "您与该居民没有诊疗、签约、转诊或公共卫生服务关系，不能为其预约",
            True,
        ),
        ("hekou_doctor", "town_resident", 403, "该居民不在您的数据范围内", True),
        (
            "centre_staff",
            "elderly_patient",
            403,
            "您的角色只能查看去标识化的汇总数据，不能查看个人档案",
            True,
        ),
        ("family_doctor", "unknown", 403, "该居民不在您的数据范围内", False),
        ("family_doctor", "missing-schedule", 404, "排班 99999 不存在", False),
    ],
)
def test_book_denied(
    session: Any,
    world: Any,
    api_as: Any,
    frozen: Any,
    persona: str,
    target: str,
    status: int,
    detail: str,
    audited: bool,
) -> None:
    frozen(at(3, 3))
    resident = world.residents.get(target)
    mpi = resident.mpi_id if resident else "R99999999999"
    schedule_id = 99999 if target == "missing-schedule" else session.pk
    if target == "missing-schedule":
        mpi = world.residents["elderly_patient"].mpi_id
    before = state()
    response = api_as(persona).post(
        f"/scheduling/schedules/{schedule_id}/bookings", {"mpi_id": mpi}
    )
    assert response.status_code == status
    assert response.json()["detail"] == detail
    assert state() == before
    denied = list(
        AuditEvent.objects.filter(action="denied").values_list(
            "resource_type", "resource_id", "subject_resident_id"
        )
    )
    assert denied == ([("booking", f"schedule:{session.pk}", resident.pk)] if audited else [])


def test_book_validates_input(session: Any, api_as: Any, frozen: Any) -> None:
    frozen(at(3, 3))
    response = api_as("cardiologist").post(
        f"/scheduling/schedules/{session.pk}/bookings", {"mpi_id": "R-1", "note": "x" * 201}
    )
    assert response.status_code == 422
    assert errors(response) == [
        {"field": "mpi_id", "message": "格式不正确"},
        {"field": "note", "message": "长度不能超过 200 个字符"},
    ]
    assert Booking.objects.count() == 0


# ---------------------------------------------------------------------------
# Booking moves
# ---------------------------------------------------------------------------


@pytest.fixture
def booked(session: Any, world: Any, actor_for: Any, frozen: Any) -> Booking:
    """张德福 in reserved slot #3 (08:20), booked by his family doctor with the green channel."""
    frozen(at(2, 24))
    return do_book_slot(
        actor_for("family_doctor"),
        session.pk,
        world.residents["elderly_patient"],
        fee_waived=True,
        priority=True,
    )


def test_cancel_booking(booked: Booking, api_as: Any) -> None:
    path = f"/scheduling/bookings/{booked.pk}/cancel"
    before = state()
    blank = api_as("family_doctor").post(path, {"reason": ""})
    assert (blank.status_code, errors(blank)) == (
        422,
        [{"field": "reason", "message": "取消预约须填写原因"}],
    )
    other = api_as("township_doctor").post(path, {"reason": "改期"})
    assert (other.status_code, other.json()) == (
        403,
        {"detail": "该预约不在您的管理范围内", "can_break_glass": False},
    )
    missing = api_as("family_doctor").post("/scheduling/bookings/99999/cancel", {"reason": "改期"})
    assert (missing.status_code, missing.json()) == (404, {"detail": "预约 99999 不存在"})
    assert state() == before
    done = api_as("family_doctor").post(path, {"reason": "患者改期"})
    assert done.status_code == 200
    body = done.json()
    assert (body["status"], body["cancel_reason"], body["can_cancel"]) == (
        "cancelled",
        "患者改期",
        False,
    )
    assert body["closed_at"] == "2026-02-24T08:00:00+08:00"
    again = api_as("family_doctor").post(path, {"reason": "再取消"})
    assert (again.status_code, errors(again)) == (
        422,
        [{"field": "status", "message": "预约当前为“已取消”，不能改为“已取消”"}],
    )


def test_attend_and_no_show_are_the_hospitals(booked: Booking, api_as: Any, frozen: Any) -> None:
    attend = f"/scheduling/bookings/{booked.pk}/attend"
    no_show = f"/scheduling/bookings/{booked.pk}/no-show"
    frozen(at(3, 9, 8, 49))
    before = state()
    by_booker = api_as("family_doctor").post(attend, {})
    assert (by_booker.status_code, by_booker.json()["detail"]) == (403, "该预约不在您的管理范围内")
    outsider = api_as("township_doctor").post(no_show, {})
    assert (outsider.status_code, outsider.json()["detail"]) == (403, "该预约不在您的管理范围内")
    early = api_as("cardiologist").post(no_show, {})
    assert (early.status_code, errors(early)) == (
        422,
        [{"field": "status", "message": "就诊时间后 30 分钟内不能登记爽约"}],
    )
    assert api_as("cardiologist").post("/scheduling/bookings/99999/attend", {}).status_code == 404
    assert state() == before
    frozen(at(3, 9, 8, 50))
    done = api_as("cardiologist").post(no_show, {})
    assert (done.status_code, done.json()["status"], done.json()["status_label"]) == (
        200,
        "no_show",
        "爽约",
    )
    late = api_as("cardiologist").post(attend, {})
    assert (late.status_code, errors(late)) == (
        422,
        [{"field": "status", "message": "预约当前为“爽约”，不能改为“已到诊”"}],
    )


def test_attend(booked: Booking, api_as: Any, frozen: Any) -> None:
    frozen(at(3, 9, 8, 15))
    done = api_as("cardiologist").post(f"/scheduling/bookings/{booked.pk}/attend", {})
    assert (done.status_code, done.json()["status"]) == (200, "attended")
    booked.refresh_from_db()
    assert booked.status == BookingStatus.ATTENDED


# ---------------------------------------------------------------------------
# GET /scheduling/bookings
# ---------------------------------------------------------------------------


def test_booking_lists_by_side(
    booked: Booking, world: Any, api_as: Any, actor_for: Any, frozen: Any
) -> None:
    frozen(at(3, 2, 9))
    do_book_slot(actor_for("cardiologist"), booked.schedule_id, world.residents["town_resident"])

    def rows(persona: str, **params: Any) -> list[tuple[Any, ...]]:
        response = api_as(persona).get("/scheduling/bookings", **params)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["count"] == len(body["items"])
        return [
            (
                i["seq"],
                i["resident"]["name"],
                i["channel"],
                i["pool"],
                i["priority"],
                i["fee_waived"],
                i["fee"],
                i["status"],
            )
            for i in body["items"]
        ]

    worklist = [
        (1, "陈*东", "public", "public", False, False, "12.00", "booked"),
        (3, "张*福", "grassroots", "reserved", True, True, "0.00", "booked"),
    ]
    assert rows("cardiologist") == worklist
    assert rows("county_admin", day_from="2026-03-09", day_to="2026-03-09") == worklist
    assert rows("cardiologist", day_from="2026-03-10") == []
    assert rows("cardiologist", status="cancelled") == []
    assert rows("cardiologist", department="ERK") == []
    # the booking side: what my institution booked
    assert rows("family_doctor", side="booker") == [worklist[1]]
    assert rows("family_doctor") == []  # 桃源村卫生室 runs no schedules
    assert rows("township_doctor", side="booker") == []
    assert rows("hekou_doctor", side="booker") == [worklist[1]]  # its village clinic's booking
    content = api_as("cardiologist").get("/scheduling/bookings").content.decode()
    assert "张德福" not in content and "陈晓东" not in content
    for persona in ("centre_staff", "auditor", "pharmacist"):
        response = api_as(persona).get("/scheduling/bookings")
        assert response.status_code == 403
        assert response.json()["detail"] == "您的角色只能查看去标识化的汇总数据，不能查看预约明细"
    bad = api_as("cardiologist").get("/scheduling/bookings", side="mine")
    assert bad.status_code == 422 and errors(bad)[0]["field"] == "side"
