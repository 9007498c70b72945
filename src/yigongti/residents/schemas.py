"""API shapes of the master patient index."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Schema
from pydantic import Field

from yigongti.core.schemas import PageParams, SafeStr


class ResidentSearchParams(PageParams):
    q: SafeStr = Field(
        "", max_length=32, description="完整证件号码、拼音首字母/全拼，或姓名的一部分"
    )


class ReadParams(Schema):
    purpose: SafeStr = Field(
        "",
        max_length=200,
        description="查阅事由；没有诊疗/签约/转诊关系时填写即为紧急/事由查阅（事后复核）",
    )


class ResidentRowOut(Schema):
    """A masked list row."""

    mpi_id: str
    name: str
    sex: str
    birth_year: str
    id_number: str
    phone: str
    address: str


class ResidentDetailOut(Schema):
    """One record as a permitted reader sees it: identity number and phone still masked."""

    mpi_id: str
    name: str
    sex: str
    sex_label: str
    birth_date: dt.date
    ethnicity: str
    id_type: str
    id_type_label: str
    id_number: str = Field(..., description="已脱敏；完整值请调用 reveal")
    phone: str = Field(..., description="已脱敏；完整值请调用 reveal")
    division_code: str
    village: str
    township: str
    address_detail: str
    household_code: str | None
    relation_to_head: str
    insurance_type: str
    insurance_number: str = Field(..., description="已脱敏")
    has_hypertension: bool
    has_diabetes: bool
    has_severe_mental_illness: bool
    is_sensitive: bool
    is_deceased: bool
    access_basis: str = Field(..., description="本次查阅的依据代码，如 family_doctor_contract")
    access_basis_label: str


class RevealIn(Schema):
    field: Literal["id_number", "phone"]
    purpose: SafeStr = Field("", max_length=200, description="查阅事由")


class RevealOut(Schema):
    mpi_id: str
    field: str
    value: str


class ResidentIn(Schema):
    """A new resident; every field is validated by the registration service."""

    name: SafeStr = Field(..., max_length=32, description="姓名")
    id_type: SafeStr = Field("01", max_length=2, description="证件类型代码（01 居民身份证）")
    id_number: SafeStr = Field(..., max_length=32, description="证件号码")
    division_code: SafeStr = Field(..., max_length=12, description="现住址村（社区）区划代码")
    sex: SafeStr = Field("", max_length=1, description="M 或 F；身份证可推出时可省略")
    birth_date: dt.date | None = Field(None, description="出生日期；身份证可推出时可省略")
    phone: SafeStr = Field("", max_length=20, description="手机号或座机")
    address_detail: SafeStr = Field("", max_length=200)
    household_code: SafeStr = Field("", max_length=24)
    relation_to_head: SafeStr = Field("head", max_length=16)
    insurance_type: SafeStr = Field("resident", max_length=16)
    insurance_number: SafeStr = Field("", max_length=32)
    ethnicity: SafeStr = Field("汉族", max_length=16)
    has_hypertension: bool = False
    has_diabetes: bool = False
    has_severe_mental_illness: bool = False
