"""Scheduling pages: the week view, booking for a resident found by search, 我的预约 with
cancel, 排班管理 with 停诊, the hospital's worklist with 到诊/爽约, the bed board. Refusals are
shown next to their field and change nothing; ids outside the user's view answer 403/404;
names are masked."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from yigongti.core.models import AuditEvent
from yigongti.organizations.models import Department
from yigongti.scheduling.choices import BedStatus, BookingStatus
from yigongti.scheduling.models import BedBooking, Booking, Schedule
from yigongti.scheduling.services import ScheduleInput, do_book_slot, do_publish_schedule

from .conftest import DAY, at, publish

pytestmark = pytest.mark.django_db


def client_for(world: Any, key: str) -> Client:
    client = Client()
    client.force_login(world.users[key])
    return client


def html(response: Any) -> str:
    return str(response.content.decode("utf-8"))


def bookings() -> list[tuple[Any, ...]]:
    return list(Booking.objects.order_by("pk").values_list("pk", "slot__seq", "status"))


# 号源预约 ---------------------------------------------------------------------------------------


def test_week_view_shows_free_slots_and_when_they_open(
    session: Any, world: Any, frozen: Any
) -> None:
    page = client_for(world, "family_doctor").get(
        reverse("scheduling:slots"), {"week": "2026-03-11"}
    )
    assert page.status_code == 200
    rows = page.context["rows"]
    assert [r["department"].code for r in rows] == ["XNK"]
    assert [len(cell) for cell in rows[0]["cells"]] == [1, 0, 0, 0, 0, 0, 0]  # Monday 03-09
    cell = rows[0]["cells"][0][0]
    assert (cell["free_reserved"], cell["free_public"], cell["can_book"]) == (2, 4, False)
    text = html(page)
    assert "预留 <span" in text and "02-23 08:00 开放" in text
    assert reverse("scheduling:book", args=[session.pk]) not in text
    assert "基层/家庭医生团队" in text
    assert "共 1 个科室" in text and "共 1 条" not in text  # the page counts departments
    frozen(at(2, 23))
    text = html(
        client_for(world, "family_doctor").get(reverse("scheduling:slots"), {"week": "2026-03-09"})
    )
    assert reverse("scheduling:book", args=[session.pk]) in text
    # the public channel (the hospital's own doctor) waits for the public opening
    text = html(
        client_for(world, "cardiologist").get(reverse("scheduling:slots"), {"week": "2026-03-09"})
    )
    assert "03-02 08:00 开放" in text and reverse("scheduling:book", args=[session.pk]) not in text


def test_week_view_filters_and_errors(session: Any, world: Any) -> None:
    client = client_for(world, "family_doctor")
    # today (02-20) is another week: no sessions yet
    assert client.get(reverse("scheduling:slots")).context["rows"] == []
    bad = client.get(reverse("scheduling:slots"), {"week": "2026-13-01"})
    assert bad.context["form"].errors == {"week": ["日期格式应为 YYYY-MM-DD"]}
    assert bad.context["rows"] == []
    other = client.get(reverse("scheduling:slots"), {"institution": "QH9999"})
    assert other.context["form"].errors == {"institution": ["该医院的号源不对您开放"]}
    assert other.context["rows"] == []
    none = client.get(reverse("scheduling:slots"), {"week": "2026-03-09", "department": "ERK"})
    assert none.context["rows"] == []


def test_book_for_a_resident_found_by_search(session: Any, world: Any, frozen: Any) -> None:
    zhang = world.residents["elderly_patient"]
    frozen(at(2, 23, 9))
    client = client_for(world, "family_doctor")
    url = reverse("scheduling:book", args=[session.pk])
    found = client.get(url, {"q": "张德"})
    assert found.status_code == 200
    assert [r["name"] for r in found.context["results"]] == ["张*福"]
    assert "张德福" not in html(found) and zhang.id_number not in html(found)
    empty = client.post(url, {"q": "张德", "note": "x"})
    assert empty.context["form"].errors == {"mpi_id": ["请先查找并选择居民"]}
    assert "请先查找并选择居民" in html(empty) and bookings() == []
    done = client.post(url, {"mpi_id": zhang.mpi_id, "note": "血压控制差"})
    assert done.status_code == 302 and done.url == reverse("scheduling:my_bookings")
    booking = Booking.objects.get()
    assert (booking.slot.seq, booking.pool, booking.note) == (3, "reserved", "血压控制差")
    followed = client.get(done.url)
    assert "已为 张*福 预约 2026-03-09 上午 心血管内科 第 3 号（08:20，基层预留号源）" in html(
        followed
    )
    before = bookings()
    twice = client.post(url, {"mpi_id": zhang.mpi_id})
    assert twice.context["form"].errors == {"mpi_id": ["该居民已预约本时段，不能重复预约"]}
    spouse = client.post(url, {"mpi_id": world.residents["elderly_spouse"].mpi_id})
    assert spouse.context["form"].errors == {
        "mpi_id": ["您与该居民没有诊疗、签约、转诊或公共卫生服务关系，不能为其预约"]
    }
    assert AuditEvent.objects.filter(action="denied", resource_type="booking").count() == 1
    unknown = client.post(url, {"mpi_id": "R99999999999"})
    assert unknown.context["form"].errors == {"mpi_id": ["该居民不在您的数据范围内"]}
    assert bookings() == before


def test_book_page_refusals(session: Any, world: Any, frozen: Any) -> None:
    frozen(at(2, 22))
    client = client_for(world, "family_doctor")
    url = reverse("scheduling:book", args=[session.pk])
    early = client.post(url, {"mpi_id": world.residents["elderly_patient"].mpi_id})
    assert early.context["form"].errors == {
        "__all__": ["号源尚未开放：基层预留号源于 02月23日 08:00 开放"]
    }
    assert "号源尚未开放" in html(early)
    assert client.get(reverse("scheduling:book", args=[99999])).status_code == 404
    assert client_for(world, "pharmacist").get(url).status_code == 403
    assert client_for(world, "centre_staff").post(url, {"mpi_id": "R1"}).status_code == 403
    assert bookings() == []


def test_book_page_refuses_an_adult_in_paediatrics(world: Any, actor_for: Any, frozen: Any) -> None:
    frozen(at(2, 20))
    paediatrics = publish(world, actor_for, "ERK")
    frozen(at(2, 24))  # the reserved pool is open
    client = client_for(world, "family_doctor")
    refused = client.post(
        reverse("scheduling:book", args=[paediatrics.pk]),
        {"mpi_id": world.residents["elderly_patient"].mpi_id},
    )
    assert refused.context["form"].errors == {
        "mpi_id": ["儿科只接诊 14 周岁及以下的患者，该居民 74 岁，请改约其他科室"]
    }
    assert "请改约其他科室" in html(refused)
    assert bookings() == []


def test_week_view_and_book_page_say_whom_a_department_sees(
    world: Any, actor_for: Any, frozen: Any
) -> None:
    """Before anyone tries: 儿科 says its age limit (the parameter in force), 妇产科 women only,
    内科 nothing."""
    frozen(at(2, 20))
    paediatrics = publish(world, actor_for, "ERK")
    publish(world, actor_for, "FUC")
    publish(world, actor_for, "NEI")
    client = client_for(world, "family_doctor")
    week = client.get(reverse("scheduling:slots"), {"week": DAY.isoformat()})
    notes = {
        r["department"].code: {s["patients_note"] for cell in r["cells"] for s in cell}
        for r in week.context["rows"]
    }
    assert notes == {"ERK": {"仅接诊 14 周岁及以下患者"}, "FUC": {"仅接诊女性患者"}, "NEI": {""}}
    assert html(week).count("patients-note") == 2
    page = client.get(reverse("scheduling:book", args=[paediatrics.pk]))
    assert (
        '<span class="badge text-bg-warning" id="patients-note">仅接诊 14 周岁及以下患者</span>'
        in (html(page))
    )


# 我的预约 ---------------------------------------------------------------------------------------


@pytest.fixture
def booked(session: Any, world: Any, actor_for: Any, frozen: Any) -> Booking:
    """张德福 in reserved slot #3 (08:20) by his family doctor, green channel; 陈晓东 in #1."""
    frozen(at(3, 2, 9))
    do_book_slot(actor_for("cardiologist"), session.pk, world.residents["town_resident"])
    return do_book_slot(
        actor_for("family_doctor"),
        session.pk,
        world.residents["elderly_patient"],
        fee_waived=True,
        priority=True,
    )


def test_my_bookings_and_cancel(booked: Booking, world: Any) -> None:
    client = client_for(world, "family_doctor")
    page = client.get(reverse("scheduling:my_bookings"))
    assert [(r["seq"], r["resident"]["name"]) for r in page.context["rows"]] == [(3, "张*福")]
    text = html(page)
    assert "优先" in text and "免挂号费" in text and "张德福" not in text
    # the list runs newest booking first, and says so: its first column is the booking time
    assert "预约时间 ↓</th><th>就诊时间</th>" in text and ">2026-03-02 09:00</td>" in text
    url = reverse("scheduling:cancel_booking", args=[booked.pk])
    assert url in text
    blank = client.post(url, {"reason": ""})
    assert blank.context["form"].errors == {"reason": ["请填写原因"]}
    before = bookings()
    assert client_for(world, "township_doctor").post(url, {"reason": "改期"}).status_code == 403
    assert client.post(reverse("scheduling:cancel_booking", args=[99999]), {}).status_code == 404
    assert bookings() == before
    done = client.post(url, {"reason": "患者改期", "next": "https://evil.example/"})
    assert done.status_code == 302 and done.url == reverse("scheduling:my_bookings")
    booked.refresh_from_db()
    assert (booked.status, booked.cancel_reason) == (BookingStatus.CANCELLED, "患者改期")
    again = client.post(url, {"reason": "再次"})
    assert again.context["form"].errors == {"__all__": ["预约当前为“已取消”，不能改为“已取消”"]}
    filtered = client.get(reverse("scheduling:my_bookings"), {"status": "booked"})
    assert filtered.context["rows"] == []
    bad = client.get(
        reverse("scheduling:my_bookings"), {"day_from": "2026-03-09", "day_to": "2026-03-01"}
    )
    assert bad.context["form"].errors == {"day_to": ["结束日期不能早于开始日期"]}
    assert client_for(world, "auditor").get(reverse("scheduling:my_bookings")).status_code == 403


# 排班管理 ---------------------------------------------------------------------------------------


def test_publish_form_puts_errors_next_to_fields(world: Any, frozen: Any) -> None:
    frozen(at(2, 20))
    client = client_for(world, "county_admin")
    url = reverse("scheduling:manage")
    xnk = world.lead_hospital.departments.get(code="XNK")
    qky = world.institutions["thc_chengguan"].departments.get(code="QKY")
    good = {
        "department": str(xnk.pk),
        "doctor": "QH0001-0001",
        "day": "2026-03-09",
        "session": "am",
        "start": "08:00",
        "end": "09:00",
        "slot_count": "6",
        "fee": "12.00",
    }
    page = client.get(url)
    choices = dict(page.context["form"].fields["department"].choices)
    assert choices[str(xnk.pk)] == "县人民医院 · 心血管内科" and str(qky.pk) not in choices
    cases = [
        ({"department": str(qky.pk)}, {"department": ["该科室不在您的管理范围内"]}),
        ({"doctor": "QH9999-0001"}, {"doctor": ["工号不存在"]}),
        ({"doctor": "QH1001-0001"}, {"doctor": ["出诊医生不属于该机构"]}),
        (
            {"day": "2026-02-19", "slot_count": "61"},
            {"day": ["出诊日期不能早于今天"], "slot_count": ["每个号源至少 1 分钟"]},
        ),
        (
            {"slot_count": "0", "fee": "-1"},
            {"slot_count": ["号源数应在 1 与 200 之间"], "fee": ["挂号费不能为负数"]},
        ),
        ({"start": "8点"}, {"start": ["时间格式应为 HH:MM"]}),
    ]
    for changes, expected in cases:
        response = client.post(url, {**good, **changes})
        assert response.status_code == 200
        assert response.context["form"].errors == expected, changes
    assert Schedule.objects.count() == 0
    done = client.post(url, good)
    assert done.status_code == 302
    schedule = Schedule.objects.get()
    assert (schedule.slot_count, schedule.reserved_count, schedule.doctor.code) == (
        6,
        2,
        "QH0001-0001",
    )
    assert "其中基层预留 2 个" in html(client.get(done.url))


def test_manage_list_pages_and_stop(session: Any, world: Any, actor_for: Any, frozen: Any) -> None:
    erk = world.lead_hospital.departments.get(code="ERK")
    for i in range(20):
        do_publish_schedule(
            actor_for("county_admin"),
            ScheduleInput(
                department_id=erk.pk,
                day=DAY + dt.timedelta(days=i % 5),
                session="pm",
                start=dt.time(14, i),
                end=dt.time(15, i),
                slot_count=1,
            ),
        )
    client = client_for(world, "county_admin")
    window = {"day_from": "2026-03-09", "day_to": "2026-03-13"}
    first = client.get(reverse("scheduling:manage"), window)
    assert len(first.context["rows"]) == 20 and first.context["page"].paginator.count == 21
    assert "第 1 / 2 页" in html(first)
    second = client.get(reverse("scheduling:manage"), {**window, "page": "2"})
    assert len(second.context["rows"]) == 1
    assert first.context["rows"][0]["id"] == session.pk
    frozen(at(2, 24))
    do_book_slot(actor_for("family_doctor"), session.pk, world.residents["elderly_patient"])
    stop = reverse("scheduling:cancel_schedule", args=[session.pk])
    assert "已约 1 人" in html(client.get(stop))
    blank = client.post(stop, {"reason": ""})
    assert blank.context["form"].errors == {"reason": ["请填写原因"]}
    assert client_for(world, "family_doctor").post(stop, {"reason": "x"}).status_code == 403
    assert client_for(world, "institution_admin").post(stop, {"reason": "x"}).status_code == 403
    assert client.post(reverse("scheduling:cancel_schedule", args=[99999]), {}).status_code == 404
    assert Schedule.objects.get(pk=session.pk).status == "open"
    done = client.post(stop, {"reason": "专家外出会诊"})
    assert done.status_code == 302
    assert "已停诊，1 个预约已取消并记录原因" in html(client.get(done.url))
    assert Booking.objects.get().cancel_reason == "停诊：专家外出会诊"
    again = client.post(stop, {"reason": "再次"})
    assert again.context["form"].errors == {"__all__": ["该排班已停诊"]}
    assert client_for(world, "cardiologist").get(reverse("scheduling:manage")).status_code == 403


# 门诊预约工作单 --------------------------------------------------------------------------------


def test_worklist_flags_masks_and_prints(booked: Booking, world: Any) -> None:
    client = client_for(world, "cardiologist")
    page = client.get(reverse("scheduling:worklist"), {"day": "2026-03-09"})
    assert page.status_code == 200
    rows = [
        (r["starts_at"].strftime("%H:%M"), r["resident"]["name"], r["priority"], r["fee_waived"])
        for r in page.context["rows"]
    ]
    assert rows == [("08:00", "陈*东", False, False), ("08:20", "张*福", True, True)]
    text = html(page)
    assert 'flag-priority">优先' in text and 'flag-fee-waived">免挂号费' in text
    assert "张德福" not in text and "陈晓东" not in text
    assert '<style media="print">' in text and "window.print()" in text
    assert client.get(reverse("scheduling:worklist"), {"day": "2026-03-10"}).context["rows"] == []
    narrowed = client.get(
        reverse("scheduling:worklist"), {"day": "2026-03-09", "department": "ERK"}
    )
    assert narrowed.context["rows"] == []
    for persona in ("pharmacist", "family_doctor", "centre_staff"):
        assert client_for(world, persona).get(reverse("scheduling:worklist")).status_code == 403


def test_worklist_attend_and_no_show(booked: Booking, world: Any, frozen: Any) -> None:
    client = client_for(world, "cardiologist")
    attend = reverse("scheduling:mark_booking", args=[booked.pk, "attend"])
    no_show = reverse("scheduling:mark_booking", args=[booked.pk, "no-show"])
    back = reverse("scheduling:worklist") + "?day=2026-03-09"
    frozen(at(3, 9, 8, 30))
    before = bookings()
    early = client.post(no_show, {"next": back}, follow=True)
    assert "就诊时间后 30 分钟内不能登记爽约" in html(early)
    assert client_for(world, "township_doctor").post(attend).status_code == 403
    assert client_for(world, "family_doctor").post(attend).status_code == 403  # the booker
    assert (
        client.post(reverse("scheduling:mark_booking", args=[99999, "attend"])).status_code == 404
    )
    assert client.post(reverse("scheduling:mark_booking", args=[booked.pk, "x"])).status_code == 404
    assert client.get(attend).status_code == 405
    assert bookings() == before
    done = client.post(attend, {"next": back})
    assert done.status_code == 302 and done.url == back
    booked.refresh_from_db()
    assert booked.status == BookingStatus.ATTENDED


# 床位看板 ---------------------------------------------------------------------------------------


def test_bed_board_hold_admit_release(world: Any, frozen: Any) -> None:
    frozen(at(3, 1))
    client = client_for(world, "cardiologist")
    board = client.get(reverse("scheduling:beds"))
    wards = {w.department.code: w for w in board.context["wards"]}
    assert list(wards) == ["ERK", "FUC", "JZK", "NEI", "QKY", "WAI", "XNK"]
    xnk = wards["XNK"]
    assert (xnk.beds, xnk.capacity, xnk.used) == (
        60,
        {"reserved": 15, "public": 45},
        {"reserved": 0, "public": 0},
    )
    hold = reverse("scheduling:hold_bed", args=[xnk.department.pk])
    found = client.get(hold, {"q": "chen"})
    assert [r["name"] for r in found.context["results"]] == ["陈*东"]
    assert found.context["patients_note"] == "" and "patients-note" not in html(found)
    women = client.get(reverse("scheduling:hold_bed", args=[wards["FUC"].department.pk]))
    assert (
        '<span class="badge text-bg-warning fs-6 align-middle" id="patients-note">仅接诊女性患者'
        in (html(women))
    )
    chen = world.residents["town_resident"]
    late = client.post(hold, {"mpi_id": chen.mpi_id, "expected_on": "2026-02-28"})
    assert late.context["form"].errors == {"expected_on": ["预计入院日期不能早于今天"]}
    assert BedBooking.objects.count() == 0
    done = client.post(
        hold, {"mpi_id": chen.mpi_id, "expected_on": "2026-03-02", "up_referral": "on"}
    )
    assert done.status_code == 302
    bed = BedBooking.objects.get()
    assert (bed.pool, bed.up_referral, bed.status) == ("reserved", True, BedStatus.HELD)
    board = client.get(done.url)
    text = html(board)
    assert "陈*东" in text and "陈晓东" not in text and "上转" in text
    xnk = {w.department.code: w for w in board.context["wards"]}["XNK"]
    assert xnk.used == {"reserved": 1, "public": 0}
    twice = client.post(hold, {"mpi_id": chen.mpi_id, "expected_on": "2026-03-02"})
    assert twice.context["form"].errors == {"mpi_id": ["该居民在本病区已有床位预约或在院"]}
    no_reason = client.post(reverse("scheduling:move_bed", args=[bed.pk, "cancel"]), follow=True)
    assert "取消床位预约须填写原因" in html(no_reason)
    assert (
        client_for(world, "township_doctor")
        .post(reverse("scheduling:move_bed", args=[bed.pk, "admit"]))
        .status_code
        == 403
    )
    assert client_for(world, "township_doctor").get(hold).status_code == 403
    assert client.post(reverse("scheduling:move_bed", args=[99999, "admit"])).status_code == 404
    assert BedBooking.objects.get().status == BedStatus.HELD
    client.post(reverse("scheduling:move_bed", args=[bed.pk, "admit"]))
    assert BedBooking.objects.get().status == BedStatus.ADMITTED
    client.post(reverse("scheduling:move_bed", args=[bed.pk, "release"]))
    assert BedBooking.objects.get().status == BedStatus.RELEASED
    empty = client_for(world, "township_doctor").get(reverse("scheduling:beds"))
    assert empty.context["wards"] == [] and "没有可查看的医院" in html(empty)
    assert client_for(world, "auditor").get(reverse("scheduling:beds")).status_code == 403
    no_ward = Department.objects.filter(beds=0).first()
    assert client.get(reverse("scheduling:hold_bed", args=[no_ward.pk])).status_code == 404


def test_navigation_entries_by_role(world: Any) -> None:
    def nav(persona: str) -> list[str]:
        response = client_for(world, persona).get(reverse("web:home"))
        return [
            item.label
            for area in response.context["nav_areas"]
            if area.label == "号源与床位"
            for item in area.items
        ]

    assert nav("county_admin") == ["号源预约", "我的预约", "门诊预约工作单", "床位看板", "排班管理"]
    assert nav("family_doctor") == ["号源预约", "我的预约"]
    assert nav("cardiologist") == ["号源预约", "我的预约", "门诊预约工作单", "床位看板"]
    assert nav("centre_staff") == ["排班管理"]
    assert nav("auditor") == []


def test_bed_board_flags_a_lapsed_hold(world: Any, actor_for: Any, frozen: Any) -> None:
    """Past its grace day a hold shows 逾期未入院 and no longer counts as a used bed."""
    from yigongti.scheduling.services import do_hold_bed

    frozen(at(3, 1))
    xnk = world.lead_hospital.departments.get(code="XNK")
    do_hold_bed(
        actor_for("cardiologist"),
        xnk.pk,
        world.residents["town_resident"],
        expected_on=dt.date(2026, 3, 2),
        up_referral=False,
    )
    client = client_for(world, "cardiologist")

    def board() -> tuple[Any, str]:
        page = client.get(reverse("scheduling:beds"))
        ward = {w.department.code: w for w in page.context["wards"]}["XNK"]
        return ward, html(page).split('data-ward="XNK"')[1].split("</table>")[0]

    frozen(at(3, 3))
    ward, text = board()
    assert ward.used == {"reserved": 0, "public": 1} and "逾期未入院" not in text
    frozen(at(3, 4))
    ward, text = board()
    assert ward.used == {"reserved": 0, "public": 0}
    assert [h["lapsed"] for h in ward.holds] == [True] and "逾期未入院</span>" in text
