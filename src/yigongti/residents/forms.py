"""Resident forms: registration (field errors come from the service, shown next to fields) and
the break-glass purpose that every page opening a resident's record offers."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest

from yigongti.residents.choices import IdType, InsuranceType, Relation, Sex


class ResidentForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=20)
    id_type = forms.ChoiceField(
        label="证件类型", choices=IdType.choices, initial=IdType.RESIDENT_ID
    )
    id_number = forms.CharField(label="证件号码", max_length=32)
    sex = forms.ChoiceField(
        label="性别", choices=[("", "按身份证号自动识别"), *Sex.choices], required=False
    )
    birth_date = forms.DateField(
        label="出生日期",
        required=False,
        help_text="居民身份证可留空，自动识别",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "请输入有效日期（YYYY-MM-DD）"},
    )
    phone = forms.CharField(label="联系电话", max_length=20, required=False)
    division_code = forms.CharField(
        label="现住村（社区）代码", max_length=12, help_text="12 位区划代码，如 439901002002"
    )
    address_detail = forms.CharField(label="详细地址", max_length=200, required=False)
    household_code = forms.CharField(label="户编号", max_length=24, required=False)
    relation_to_head = forms.ChoiceField(
        label="与户主关系", choices=Relation.choices, initial=Relation.HEAD
    )
    insurance_type = forms.ChoiceField(
        label="参保类型", choices=InsuranceType.choices, initial=InsuranceType.RESIDENT
    )
    insurance_number = forms.CharField(label="医保号", max_length=32, required=False)
    has_hypertension = forms.BooleanField(label="高血压", required=False)
    has_diabetes = forms.BooleanField(label="2型糖尿病", required=False)
    has_severe_mental_illness = forms.BooleanField(label="严重精神障碍", required=False)


BREAK_GLASS_REASONS = (
    ("急诊抢救", "急诊抢救"),
    ("转诊接诊", "转诊接诊（转诊单尚未到达）"),
    ("医疗质量与病历检查", "医疗质量与病历检查"),
    ("居民本人授权查询", "居民本人授权查询"),
    ("其他", "其他（请在说明中写明）"),
)
# One purpose per record per session, shared by every page that opens the record.
BREAK_GLASS_KEY = "break_glass_purposes"


class BreakGlassForm(forms.Form):
    """查阅事由: a short list of common reasons plus free text; recorded in the audit log."""

    reason = forms.ChoiceField(
        label="查阅事由",
        choices=[("", "请选择"), *BREAK_GLASS_REASONS],
        error_messages={"required": "请选择查阅事由", "invalid_choice": "请选择有效的查阅事由"},
    )
    detail = forms.CharField(label="补充说明", max_length=150, required=False)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("reason") == "其他" and not (data.get("detail") or "").strip():
            self.add_error("detail", "选择“其他”时必须填写说明")
        return data

    def purpose(self) -> str:
        reason = self.cleaned_data["reason"]
        detail = (self.cleaned_data.get("detail") or "").strip()
        return f"{reason}：{detail}" if detail else reason


def stored_purpose(request: HttpRequest, mpi_id: str) -> str:
    """The break-glass purpose given for this record in this session, or ``""``."""
    return str(request.session.get(BREAK_GLASS_KEY, {}).get(mpi_id, ""))


def remember_purpose(request: HttpRequest, mpi_id: str, form: BreakGlassForm) -> None:
    purposes = dict(request.session.get(BREAK_GLASS_KEY, {}))
    purposes[mpi_id] = form.purpose()
    request.session[BREAK_GLASS_KEY] = purposes
