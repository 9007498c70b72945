"""Referral forms (field errors from the services are shown next to the fields)."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from yigongti.referrals.choices import Direction, Urgency


class ReferralForm(forms.Form):
    mpi_id = forms.CharField(label="居民主索引号", max_length=16)
    direction = forms.ChoiceField(label="转诊方向", choices=Direction.choices)
    urgency = forms.ChoiceField(label="紧急程度", choices=Urgency.choices, initial=Urgency.ROUTINE)
    to_institution = forms.TypedChoiceField(
        label="接收机构", coerce=int, required=False, empty_value=None
    )
    to_department = forms.TypedChoiceField(
        label="接收科室", coerce=int, required=False, empty_value=None
    )
    schedule = forms.TypedChoiceField(
        label="预约门诊号源", coerce=int, required=False, empty_value=None
    )
    bed_department = forms.TypedChoiceField(
        label="预约住院床位（病区）", coerce=int, required=False, empty_value=None
    )
    expected_admission = forms.DateField(
        label="预计入院日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "请输入有效日期（YYYY-MM-DD）"},
    )
    out_of_county_name = forms.CharField(label="县外接收医院", max_length=100, required=False)
    out_of_county_region = forms.CharField(label="县外医院所在地区", max_length=60, required=False)
    filing_number = forms.CharField(label="医保转诊备案号", max_length=40, required=False)
    diagnosis_code = forms.CharField(label="初步诊断（ICD-10 编码）", max_length=16)
    impression = forms.CharField(label="初步印象", max_length=200, required=False)
    reason = forms.CharField(
        label="主要现病史（转出原因）", widget=forms.Textarea(attrs={"rows": 3})
    )
    history = forms.CharField(
        label="主要既往史", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    treatment = forms.CharField(
        label="治疗经过", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    rehab_plan = forms.CharField(
        label="下一步治疗方案及康复建议（下转必填）",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    contact_phone = forms.CharField(label="转诊医生联系电话", max_length=20, required=False)
    deductible_paid = forms.DecimalField(
        label="本次病程已付起付线（元）",
        min_value=Decimal(0),
        max_digits=10,
        decimal_places=2,
        initial=Decimal(0),
        required=False,
    )
    consent = forms.BooleanField(label="患者（或家属）已知情同意", required=False)

    def set_choices(
        self,
        institutions: list[tuple[int, str]],
        departments: list[tuple[int, str]],
        schedules: list[tuple[int, str]],
        wards: list[tuple[int, str]],
    ) -> None:
        for name, choices, empty in (
            ("to_institution", institutions, "请选择"),
            ("to_department", departments, "不指定"),
            ("schedule", schedules, "不预约门诊"),
            ("bed_department", wards, "不预约床位"),
        ):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [("", empty), *choices]
            field.error_messages["invalid_choice"] = "选项无效，请重新选择"


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", max_length=200)


class CompleteForm(forms.Form):
    result_diagnosis = forms.CharField(label="诊断结果", max_length=200, required=False)
    inpatient_number = forms.CharField(label="住院病案号", max_length=32, required=False)
    findings = forms.CharField(label="主要检查结果", widget=forms.Textarea, required=False)


class ReturnForm(forms.Form):
    rehab_plan = forms.CharField(label="下一步治疗方案及康复建议", widget=forms.Textarea)
    to_institution = forms.TypedChoiceField(
        label="接收基层机构", coerce=int, required=False, empty_value=None
    )


class CalculatorForm(forms.Form):
    total = forms.DecimalField(
        label="预计住院总费用（元）",
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=2,
        error_messages={"invalid": "请输入金额", "min_value": "费用不能为负数"},
    )
