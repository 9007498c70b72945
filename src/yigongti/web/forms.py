"""Forms of the web pages; every label and message in Simplified Chinese."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm

from yigongti.core.choices import AuditAction
from yigongti.staff.choices import Profession, TitleGrade


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码错误，请重新输入（多次失败将临时锁定账号）",
        "inactive": "该账号已停用，请联系管理员",
    }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["username"].label = "用户名"
        self.fields["password"].label = "密码"
        self.fields["username"].error_messages["required"] = "请输入用户名"
        self.fields["password"].error_messages["required"] = "请输入密码"


class ChinesePasswordChangeForm(PasswordChangeForm):
    error_messages = {
        "password_incorrect": "原密码不正确，请重新输入",
        "password_mismatch": "两次输入的新密码不一致",
    }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        labels = {
            "old_password": "原密码",
            "new_password1": "新密码",
            "new_password2": "确认新密码",
        }
        for name, label in labels.items():
            self.fields[name].label = label
            self.fields[name].error_messages["required"] = f"请输入{label}"
        self.fields[
            "new_password1"
        ].help_text = "至少 8 位，不能全为数字，不能过于常见，不能与用户名相近"


class ResidentSearchForm(forms.Form):
    q = forms.CharField(label="查询", max_length=40, required=False)


class RevealForm(forms.Form):
    field = forms.ChoiceField(choices=[("id_number", "证件号码"), ("phone", "联系电话")])


class DuplicateDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[
            ("keep_a", "合并（保留A）"),
            ("keep_b", "合并（保留B）"),
            ("apart", "确认非同一人"),
        ],
        error_messages={"required": "请选择处理方式", "invalid_choice": "处理方式无效"},
    )
    note = forms.CharField(label="处理说明", max_length=200, required=False)


class StaffFilterForm(forms.Form):
    q = forms.CharField(label="姓名/工号", max_length=40, required=False)
    profession = forms.ChoiceField(
        label="专业类别", choices=[("", "全部专业类别"), *Profession.choices], required=False
    )
    title_grade = forms.ChoiceField(
        label="职称", choices=[("", "全部职称"), *TitleGrade.choices], required=False
    )
    institution = forms.ChoiceField(label="机构", choices=[("", "全部机构")], required=False)

    def __init__(self, *args: object, institutions: list[tuple[str, str]], **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["institution"].choices = [("", "全部机构"), *institutions]  # type: ignore[attr-defined]


class AuditFilterForm(forms.Form):
    username = forms.CharField(label="账号", max_length=150, required=False)
    action = forms.ChoiceField(
        label="动作", choices=[("", "全部动作"), *AuditAction.choices], required=False
    )
    mpi_id = forms.CharField(label="居民主索引号", max_length=16, required=False)
    date_from = forms.DateField(
        label="开始日期",
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"placeholder": "YYYY-MM-DD"}),
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "请输入有效日期（YYYY-MM-DD）"},
    )
    date_to = forms.DateField(
        label="结束日期",
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"placeholder": "YYYY-MM-DD"}),
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "请输入有效日期（YYYY-MM-DD）"},
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "结束日期不能早于开始日期")
        return data
