"""The upload form of the import page."""

from __future__ import annotations

from django import forms
from django.core.files.uploadedfile import UploadedFile

from yigongti.encounters.choices import ImportKind

MAX_UPLOAD_BYTES = 200 * 1024 * 1024


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label="数据类型", choices=ImportKind.choices, initial=ImportKind.ENCOUNTERS
    )
    source_system = forms.CharField(
        label="来源系统",
        max_length=64,
        help_text="如 HIS-QH0001、医保局；同一来源系统内按来源编号去重",
    )
    file = forms.FileField(
        label="文件",
        help_text="CSV（UTF-8 或 GBK）、Excel（.xlsx），FHIR 数据包为 JSON",
        error_messages={"required": "请选择要上传的文件", "empty": "上传的文件是空的"},
    )

    def clean_source_system(self) -> str:
        value: str = self.cleaned_data["source_system"].strip()
        if not value:
            raise forms.ValidationError("请填写来源系统")
        return value

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        name = (upload.name or "").lower()
        if not name.endswith((".csv", ".xlsx", ".json", ".txt")):
            raise forms.ValidationError("只支持 .csv、.xlsx 或 .json 文件")
        if (upload.size or 0) > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("文件超过 200 MB，请用命令行 yigongti import 导入")
        return upload
