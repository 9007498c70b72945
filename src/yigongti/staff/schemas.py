"""API shapes of practitioners."""

from __future__ import annotations

from ninja import Schema
from pydantic import Field

from yigongti.core.schemas import PageParams, SafeStr


class StaffListParams(PageParams):
    q: SafeStr = Field("", max_length=32, description="姓名、工号或专业的一部分")
    profession: SafeStr = Field("", max_length=20, description="专业类别代码，如 physician")
    title_grade: SafeStr = Field("", max_length=20, description="职称等级代码，如 intermediate")
    institution: SafeStr = Field("", max_length=32, description="人事所在机构代码")


class PractitionerOut(Schema):
    code: str
    name: str
    sex: str
    profession: str
    profession_label: str
    practice_category: str
    title_grade: str
    title_grade_label: str
    title_name: str
    specialty: str
    is_general_practitioner: bool
    institution_code: str
    institution_name: str
    department: str | None
    phone: str = Field(..., description="已脱敏，如 138****5678")
    is_active: bool
