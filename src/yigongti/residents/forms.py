"""The resident registration form: field errors come from the service, shown next to fields."""

from __future__ import annotations

from django import forms

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
