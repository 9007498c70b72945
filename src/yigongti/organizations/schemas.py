"""API shapes of institutions."""

from __future__ import annotations

from ninja import Schema
from pydantic import Field

from yigongti.core.schemas import PageParams, SafeStr


class InstitutionListParams(PageParams):
    q: SafeStr = Field("", max_length=64, description="名称、简称或机构代码的一部分")
    type: SafeStr = Field("", max_length=32, description="机构类别代码，如 township_health_centre")


class InstitutionOut(Schema):
    code: str
    name: str
    short_name: str
    inst_type: str
    inst_type_label: str
    level: str
    level_label: str
    medcom_code: str | None
    parent_code: str | None
    division_code: str
    division_name: str
    is_active: bool


class InstitutionDetailOut(InstitutionOut):
    medcom_name: str | None
    parent_name: str | None
    tree_link: str
    tree_link_label: str
    beds: int
    is_legal_entity: bool
    is_public: bool
    is_sub_centre: bool
    address: str
    phone: str
    path: str
    depth: int
