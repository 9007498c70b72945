"""API shapes of referrals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Schema
from pydantic import Field

from yigongti.core.schemas import PageParams, SafeStr


class ReferralListParams(PageParams):
    box: str = Field("in", pattern="^(in|out)$", description="in：转入；out：转出")
    status: str = Field("", max_length=16, description="状态编码，如 submitted")
    direction: str = Field("", max_length=8, description="up / down / out")


class ReferralIn(Schema):
    direction: str = Field(..., pattern="^(up|down|out)$")
    mpi_id: SafeStr = Field(..., max_length=16)
    diagnosis_code: SafeStr = Field(..., max_length=16)
    reason: SafeStr = Field(..., max_length=2000)
    consent: bool
    to_institution_code: SafeStr = Field("", max_length=32)
    to_department_code: SafeStr = Field("", max_length=16)
    urgency: str = Field("routine", pattern="^(routine|urgent|emergency)$")
    impression: SafeStr = Field("", max_length=200)
    history: SafeStr = Field("", max_length=2000)
    treatment: SafeStr = Field("", max_length=2000)
    contact_phone: SafeStr = Field("", max_length=20)
    out_of_county_name: SafeStr = Field("", max_length=100)
    out_of_county_region: SafeStr = Field("", max_length=60)
    filing_number: SafeStr = Field("", max_length=40)
    schedule_id: int | None = None
    bed_department_code: SafeStr = Field("", max_length=16)
    expected_admission: dt.date | None = None
    deductible_paid: Decimal = Field(Decimal(0), ge=0, max_digits=10, decimal_places=2)
    rehab_plan: SafeStr = Field("", max_length=2000)


class ActionIn(Schema):
    reason: SafeStr = Field("", max_length=200, description="拒绝、取消须填写")
    note: SafeStr = Field("", max_length=200)


class ReferralOut(Schema):
    id: int
    number: str
    direction: str
    direction_label: str
    urgency: str
    status: str
    status_label: str
    resident: str = Field(description="姓名已脱敏")
    mpi_id: str
    from_institution: str
    to_institution: str
    to_department: str
    diagnosis_code: str
    green_channel: list[str]
    appointment_at: dt.datetime | None
    deadline_at: dt.datetime | None
    created_at: dt.datetime
