"""API shapes of schedules (号源) and bookings (预约)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from ninja import Schema
from pydantic import Field

from yigongti.core.schemas import PageParams, SafeStr

CODE = r"^[A-Za-z0-9_\-]{0,32}$"
MPI = r"^[A-Za-z0-9]{1,16}$"
BookingStatusCode = Literal["booked", "cancelled", "attended", "no_show"]


class ScheduleListParams(PageParams):
    day_from: dt.date | None = Field(None, description="开始日期，默认今天")
    day_to: dt.date | None = Field(None, description="结束日期（含），默认开始日期后第 13 天")
    institution: str = Field("", pattern=CODE, description="机构代码，如 QH0001")
    department: str = Field("", pattern=CODE, max_length=16, description="科室代码，如 XNK")
    q: SafeStr = Field("", max_length=32, description="科室或医生姓名的一部分")


class CodeNameOut(Schema):
    code: str
    name: str


class ScheduleOut(Schema):
    """One session; free counts per pool and whether the caller's channel may book it now."""

    id: int
    institution: CodeNameOut
    department: CodeNameOut
    patients: str = Field(..., description="科室接诊对象：all 不限 / children 儿童 / women 女性")
    patients_note: str = Field(..., description="接诊对象说明（中文），不限时为空")
    doctor: CodeNameOut | None
    day: dt.date
    session: str = Field(..., description="am 上午 / pm 下午 / eve 晚间")
    session_label: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    slot_count: int
    reserved_count: int = Field(..., description="基层预留号源数")
    public_count: int = Field(..., description="公众号源数")
    free_reserved: int = Field(..., description="基层预留号源余量")
    free_public: int = Field(..., description="公众号源余量")
    fee: str = Field(..., description="挂号费（元），两位小数")
    status: str
    status_label: str
    reserved_opens_at: dt.datetime = Field(..., description="基层预留号源开放时间")
    public_opens_at: dt.datetime = Field(..., description="公众号源开放时间")
    cutoff_at: dt.datetime = Field(..., description="未约出的预留号源转为公众号源的时间")
    channel: str = Field(..., description="调用者的预约渠道：grassroots 基层 / public 公众")
    channel_label: str
    can_book: bool = Field(..., description="调用者现在能否预约")
    bookable_pools: list[str] = Field(..., description="调用者现在可用的号源池，按使用顺序")
    refusal: str = Field(..., description="不能预约的原因（中文）；能预约时为空")
    opens_at: dt.datetime | None = Field(None, description="尚未开放时，调用者渠道的开放时间")


class ScheduleIn(Schema):
    """A session to publish; slots split into the pools by the policy in force on its day."""

    institution: str = Field(..., pattern=CODE, description="机构代码")
    department: str = Field(..., pattern=CODE, max_length=16, description="科室代码")
    doctor: str = Field("", pattern=CODE, description="出诊医生工号（可空）")
    day: dt.date = Field(..., description="出诊日期")
    session: Literal["am", "pm", "eve"]
    start: dt.time = Field(..., description="开始时间，如 08:00")
    end: dt.time = Field(..., description="结束时间，如 11:30")
    slot_count: int = Field(..., ge=1, le=200, description="号源数")
    fee: Decimal = Field(
        Decimal("0"), ge=0, le=Decimal("99999.99"), decimal_places=2, description="挂号费（元）"
    )


class ReasonIn(Schema):
    reason: SafeStr = Field("", max_length=200, description="原因（必填）")


class ScheduleCancelOut(Schema):
    id: int
    status: str
    status_label: str
    bookings_cancelled: int


class BookingIn(Schema):
    mpi_id: str = Field(..., pattern=MPI, description="居民主索引号，如 R00000000001")
    note: SafeStr = Field("", max_length=200, description="备注（病情摘要等）")


class ResidentRefOut(Schema):
    mpi_id: str
    name: str = Field(..., description="已脱敏，如 张*福")


class BookingOut(Schema):
    id: int
    schedule_id: int
    institution: CodeNameOut
    department: CodeNameOut
    doctor: str
    day: dt.date
    session: str
    session_label: str
    seq: int = Field(..., description="号序")
    starts_at: dt.datetime
    ends_at: dt.datetime
    resident: ResidentRefOut
    channel: str
    channel_label: str
    pool: str
    pool_label: str
    status: str
    status_label: str
    priority: bool = Field(..., description="优先接诊")
    fee_waived: bool = Field(..., description="免挂号费")
    fee: str = Field(..., description="应收挂号费（元）")
    note: str
    from_institution: CodeNameOut | None = Field(..., description="预约机构")
    booked_at: dt.datetime
    closed_at: dt.datetime | None
    cancel_reason: str
    can_cancel: bool


class BookingListParams(PageParams):
    side: Literal["hospital", "booker"] = Field(
        "hospital", description="hospital：本院号源的预约（工作单）；booker：本机构发起的预约"
    )
    day_from: dt.date | None = Field(None, description="出诊日期起")
    day_to: dt.date | None = Field(None, description="出诊日期止（含）")
    institution: str = Field("", pattern=CODE, description="出诊机构代码")
    department: str = Field("", pattern=CODE, max_length=16, description="科室代码")
    status: BookingStatusCode | None = None
