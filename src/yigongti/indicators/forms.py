"""Forms of the evidence register (nhc-01 … nhc-03): upload, assess, withdraw.

They only parse input; the services check roles, scope, file type, content and size, and their
DomainError messages are put back next to the field (``add_domain_errors``).
"""

from __future__ import annotations

from typing import Any

from django import forms

from yigongti.core.errors import DomainError
from yigongti.indicators import definitions, rules
from yigongti.indicators.choices import Verdict

DATE_INVALID = "日期格式应为 YYYY-MM-DD"


class EvidenceUploadForm(forms.Form):
    criterion = forms.ChoiceField(label="评判要点")
    title = forms.CharField(label="标题", max_length=200, error_messages={"required": "请填写标题"})
    document_date = forms.DateField(
        label="文件日期",
        error_messages={"required": "请填写文件日期", "invalid": DATE_INVALID},
    )
    institution = forms.ChoiceField(label="涉及机构", required=False)
    description = forms.CharField(
        label="说明", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    file = forms.FileField(
        label="文件",
        help_text=f"{rules.EVIDENCE_TYPES_TEXT}",
        error_messages={"required": "请选择要上传的文件", "empty": "上传的文件是空的"},
    )

    def __init__(
        self,
        *args: Any,
        indicator_code: str,
        institutions: list[tuple[str, str]],
        medcom_wide: bool,
        **kwargs: Any,
    ):
        kwargs.setdefault("prefix", indicator_code)
        super().__init__(*args, **kwargs)
        criterion = self.fields["criterion"]
        assert isinstance(criterion, forms.ChoiceField)
        criterion.choices = [(c.key, c.label) for c in definitions.criteria_of(indicator_code)]
        criterion.error_messages["invalid_choice"] = "请选择该指标的评判要点"
        institution = self.fields["institution"]
        assert isinstance(institution, forms.ChoiceField)
        institution.choices = ([("", "整个医共体")] if medcom_wide else []) + institutions
        institution.required = not medcom_wide
        institution.error_messages["invalid_choice"] = "该机构不在您可上传的范围内"
        institution.error_messages["required"] = "请选择本机构"


class AssessmentForm(forms.Form):
    verdict = forms.ChoiceField(
        label="评估结论",
        choices=Verdict.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择评估结论", "invalid_choice": "请选择评估结论"},
    )
    comment = forms.CharField(
        label="评估意见",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="结论不是“达标”时必须填写",
    )

    def __init__(self, *args: Any, indicator_code: str, **kwargs: Any):
        kwargs.setdefault("prefix", f"{indicator_code}-assess")
        super().__init__(*args, **kwargs)


FIELD_NAMES = {"institution_code": "institution"}


def add_domain_errors(form: forms.Form, exc: DomainError) -> None:
    """Put a service's Chinese messages next to the form's fields (or above the form)."""
    for name, messages in exc.field_errors.items():
        field = FIELD_NAMES.get(name, name)
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
