"""Forms of the scheduling pages: they parse; the services validate and decide. Errors a
service raises are put next to the field they name (``place_errors``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms

from yigongti.core.errors import DomainError
from yigongti.scheduling.choices import BookingStatus, Session

DATE_INVALID = {"invalid": "日期格式应为 YYYY-MM-DD"}
TIME_INVALID = {"invalid": "时间格式应为 HH:MM"}


def place_errors(form: forms.Form, exc: DomainError, names: dict[str, str] | None = None) -> None:
    """Put a service's field errors next to the form's fields (the rest above the form)."""
    for name, messages in exc.field_errors.items():
        field = (names or {}).get(name, name)
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


class WeekForm(forms.Form):
    """号源预约 week view: which week, hospital and department."""

    week = forms.DateField(label="周", required=False, error_messages=DATE_INVALID)
    institution = forms.ChoiceField(label="医院", required=False)
    department = forms.CharField(label="科室", required=False, max_length=16)

    def __init__(self, *args: Any, institutions: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["institution"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = institutions
        field.error_messages["invalid_choice"] = "该医院的号源不对您开放"


class BookingForm(forms.Form):
    """Book a slot for a resident chosen from the search results."""

    mpi_id = forms.CharField(
        label="居民",
        max_length=16,
        error_messages={"required": "请先查找并选择居民"},
    )
    note = forms.CharField(label="备注（病情摘要、转诊原因等）", max_length=200, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="原因",
        max_length=200,
        error_messages={"required": "请填写原因"},
        widget=forms.TextInput(attrs={"placeholder": "如：患者改期、专家外出会诊"}),
    )


class BookingFilterForm(forms.Form):
    day_from = forms.DateField(label="出诊日期起", required=False, error_messages=DATE_INVALID)
    day_to = forms.DateField(label="出诊日期止", required=False, error_messages=DATE_INVALID)
    status = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部"), *BookingStatus.choices]
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("day_from"), data.get("day_to")
        if start and end and end < start:
            self.add_error("day_to", "结束日期不能早于开始日期")
        return data


class PublishForm(forms.Form):
    """排班管理: one session of a department, split into pools by the policy of its day."""

    department = forms.ChoiceField(label="科室")
    doctor = forms.CharField(
        label="出诊医生工号", max_length=32, required=False, help_text="可空；如 QH0001-0001"
    )
    day = forms.DateField(
        label="出诊日期",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages=DATE_INVALID,
    )
    session = forms.ChoiceField(label="时段", choices=Session.choices, initial=Session.MORNING)
    start = forms.TimeField(
        label="开始时间",
        initial=dt.time(8, 0),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages=TIME_INVALID,
    )
    end = forms.TimeField(
        label="结束时间",
        initial=dt.time(11, 30),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages=TIME_INVALID,
    )
    slot_count = forms.IntegerField(
        label="号源数",
        initial=20,
        min_value=1,
        max_value=200,
        error_messages={
            "invalid": "请输入整数",
            "min_value": "号源数应在 1 与 200 之间",
            "max_value": "号源数应在 1 与 200 之间",
        },
    )
    fee = forms.DecimalField(
        label="挂号费（元）",
        initial=Decimal("10.00"),
        min_value=Decimal(0),
        max_digits=8,
        decimal_places=2,
        error_messages={"invalid": "请输入金额，如 12.00", "min_value": "挂号费不能为负数"},
    )

    def __init__(self, *args: Any, departments: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "请选择科室"), *departments]
        field.error_messages["invalid_choice"] = "该科室不在您的管理范围内"
        field.error_messages["required"] = "请选择科室"


class ManageFilterForm(forms.Form):
    day_from = forms.DateField(label="出诊日期起", required=False, error_messages=DATE_INVALID)
    day_to = forms.DateField(label="出诊日期止", required=False, error_messages=DATE_INVALID)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("day_from"), data.get("day_to")
        if start and end and end < start:
            self.add_error("day_to", "结束日期不能早于开始日期")
        return data


class InstitutionForm(forms.Form):
    """Which hospital (bed board, worklist); the choices are the hospitals in scope."""

    institution = forms.ChoiceField(label="医院", required=False)

    def __init__(self, *args: Any, institutions: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["institution"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = institutions
        field.error_messages["invalid_choice"] = "该医院不在您的数据范围内"


class WorklistForm(InstitutionForm):
    day = forms.DateField(label="出诊日期", required=False, error_messages=DATE_INVALID)
    department = forms.CharField(label="科室代码", required=False, max_length=16)


class HoldBedForm(forms.Form):
    mpi_id = forms.CharField(
        label="居民", max_length=16, error_messages={"required": "请先查找并选择居民"}
    )
    expected_on = forms.DateField(
        label="预计入院日期",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={**DATE_INVALID, "required": "请填写预计入院日期"},
    )
    up_referral = forms.BooleanField(label="上转患者（优先使用预留床位）", required=False)
