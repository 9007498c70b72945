from django.db import models


class Verdict(models.TextChoices):
    """The county's verdict on a qualitative indicator (nhc-01 … nhc-03) for a year."""

    MET = "met", "达标"
    PARTLY_MET = "partly_met", "基本达标"
    NOT_MET = "not_met", "未达标"


class EvidenceKind(models.TextChoices):
    """The file types the evidence register accepts (by extension and by content)."""

    PDF = "pdf", "PDF 文档"
    DOCX = "docx", "Word 文档（.docx）"
    XLSX = "xlsx", "Excel 表格（.xlsx）"
    JPG = "jpg", "JPEG 图片"
    PNG = "png", "PNG 图片"
