"""Evidence register of the demo county: a few documents for nhc-01 … nhc-03 and assessments.

The files are tiny but valid Word (.docx) and Excel (.xlsx) packages written here byte for byte
(fixed ZIP timestamps, no library metadata), so the same seed gives the same files and hashes.
Everything goes through ``indicators.services`` (checks, storage, audit) as real uploads do.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from xml.sax.saxutils import escape

from django.core.files.base import ContentFile

from yigongti.accounts.queries import get_actor
from yigongti.indicators.choices import Verdict
from yigongti.indicators.services import (
    EvidenceInput,
    do_add_evidence,
    do_assess,
    do_withdraw_evidence,
)
from yigongti.synth.personas import PersonaWorld

ZIP_TIME = (2025, 12, 31, 0, 0, 0)
YEAR = 2025

_CONTENT_TYPES_DOCX = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
_RELS_DOCX = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
    "</Relationships>"
)
_CONTENT_TYPES_XLSX = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS_XLSX = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)


def _package(parts: list[tuple[str, str]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, text in parts:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            package.writestr(info, text.encode("utf-8"))
    return buffer.getvalue()


def docx_bytes(title: str, paragraphs: list[str]) -> bytes:
    """A minimal Word document: the title, then one paragraph per line."""
    body = "".join(
        f"<w:p><w:r><w:t>{escape(line)}</w:t></w:r></w:p>" for line in [title, *paragraphs]
    )
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{body}</w:body></w:document>"
    )
    return _package(
        [
            ("[Content_Types].xml", _CONTENT_TYPES_DOCX),
            ("_rels/.rels", _RELS_DOCX),
            ("word/document.xml", document),
        ]
    )


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def xlsx_bytes(rows: list[list[str]]) -> bytes:
    """A minimal Excel workbook with one sheet of inline-string cells."""
    cells = "".join(
        f'<row r="{r}">'
        + "".join(
            f'<c r="{_column(c)}{r}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
            for c, value in enumerate(row)
        )
        + "</row>"
        for r, row in enumerate(rows, start=1)
    )
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{cells}</sheetData></worksheet>"
    )
    return _package(
        [
            ("[Content_Types].xml", _CONTENT_TYPES_XLSX),
            ("_rels/.rels", _RELS_XLSX),
            ("xl/workbook.xml", _WORKBOOK),
            ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
            ("xl/worksheets/sheet1.xml", sheet),
        ]
    )


@dataclass(frozen=True)
class DemoEvidence:
    uploader: str  # persona user key
    code: str
    criterion: str
    title: str
    on: dt.date
    filename: str
    content: bytes
    institution: str = ""  # persona institution key
    withdraw: str = ""  # a reason: the item is withdrawn after upload


def _items(world: PersonaWorld) -> list[DemoEvidence]:
    county = world.county.name
    return [
        DemoEvidence(
            "county_admin",
            "nhc-01",
            "personnel",
            f"{county}医共体人员统一招聘与调配管理办法",
            dt.date(2025, 2, 10),
            "人员统一管理办法.docx",
            docx_bytes(
                f"{county}医共体人员统一招聘与调配管理办法",
                [
                    "第一条 医共体内人员统一招聘、统一培训、统一调配。",
                    "第二条 县管乡用、乡聘村用。",
                ],
            ),
        ),
        DemoEvidence(
            "centre_staff",
            "nhc-01",
            "finance",
            "医共体财务集中核算实施细则",
            dt.date(2025, 3, 5),
            "财务集中核算细则.docx",
            docx_bytes(
                "医共体财务集中核算实施细则",
                ["各成员单位单独设账、集中核算。", "医共体管理中心财务管理部统一编制预决算。"],
            ),
        ),
        DemoEvidence(
            "county_admin",
            "nhc-01",
            "drugs",
            "2025年医共体统一用药目录",
            dt.date(2025, 1, 20),
            "统一用药目录2025.xlsx",
            xlsx_bytes(
                [
                    ["通用名", "剂型", "规格", "集采中选"],
                    ["苯磺酸氨氯地平", "片剂", "5mg", "是"],
                    ["二甲双胍", "片剂", "0.5g", "是"],
                ]
            ),
        ),
        DemoEvidence(
            "county_admin",
            "nhc-01",
            "business",
            "医共体双向转诊与质量控制统一规范",
            dt.date(2025, 4, 1),
            "业务统一规范.docx",
            docx_bytes("医共体双向转诊与质量控制统一规范", ["统一技术规范、统一质量监管。"]),
        ),
        DemoEvidence(
            "county_admin",
            "nhc-02",
            "charter",
            f"{county}紧密型县域医共体章程",
            dt.date(2023, 1, 1),
            "医共体章程.docx",
            docx_bytes(
                f"{county}紧密型县域医共体章程",
                ["第一章 总则", "牵头医院与成员单位共同参与、定期协商的议事决策制度。"],
            ),
        ),
        DemoEvidence(
            "county_admin",
            "nhc-02",
            "body",
            "关于成立医共体管理委员会的通知",
            dt.date(2023, 1, 5),
            "管委会成立通知.docx",
            docx_bytes(
                "关于成立医共体管理委员会的通知", ["管理委员会日常工作机构设在县卫生健康局。"]
            ),
        ),
        DemoEvidence(
            "county_admin",
            "nhc-02",
            "meetings",
            "2025年决策机制例会纪要汇编",
            dt.date(2025, 12, 1),
            "例会纪要2025.xlsx",
            xlsx_bytes(
                [["会议日期", "议题", "议定事项"]]
                + [[f"2025-{m:02d}-0{1 + m % 7}", "月度例会", "见纪要"] for m in range(1, 12)]
            ),
        ),
        DemoEvidence(
            "county_admin",
            "nhc-03",
            "referral",
            "2025年双向转诊运行统计（初稿）",
            dt.date(2025, 10, 8),
            "双向转诊统计初稿.xlsx",
            xlsx_bytes([["月份", "上转", "下转"], ["2025-09", "41", "12"]]),
            institution="lead",
            withdraw="数据口径有误，已上传修订版",
        ),
        DemoEvidence(
            "county_admin",
            "nhc-03",
            "referral",
            "2025年双向转诊运行统计",
            dt.date(2025, 10, 15),
            "双向转诊统计.xlsx",
            xlsx_bytes([["月份", "上转", "下转"], ["2025-09", "38", "14"]]),
            institution="lead",
        ),
        DemoEvidence(
            "institution_admin",
            "nhc-03",
            "prevention",
            "河口乡卫生院医防融合工作台账",
            dt.date(2025, 11, 20),
            "医防融合台账.xlsx",
            xlsx_bytes(
                [
                    ["项目", "完成情况"],
                    ["高血压患者随访", "按季度完成"],
                    ["糖尿病患者随访", "按季度完成"],
                ]
            ),
            institution="thc_hekou",
        ),
    ]


def build_evidence(world: PersonaWorld) -> int:
    """Upload the demo documents, withdraw one, and assess 2025: nhc-01 基本达标, nhc-02 达标
    (superseding an earlier 基本达标), nhc-03 left 待评估. Returns the number of items."""
    actors = {
        key: get_actor(world.users[key], channel="cli")
        for key in ("county_admin", "centre_staff", "institution_admin")
    }
    items = _items(world)
    for spec in items:
        actor = actors[spec.uploader]
        institution = world.institutions[spec.institution] if spec.institution else None
        item = do_add_evidence(
            actor,
            world.medcom,
            EvidenceInput(
                indicator_code=spec.code,
                criterion=spec.criterion,
                year=YEAR,
                title=spec.title,
                document_date=spec.on,
                institution_code=institution.code if institution else "",
            ),
            ContentFile(spec.content, name=spec.filename),
            spec.filename,
        )
        if spec.withdraw:
            do_withdraw_evidence(actor, item, spec.withdraw)
    admin = actors["county_admin"]
    do_assess(
        admin,
        world.medcom,
        "nhc-01",
        YEAR,
        Verdict.PARTLY_MET,
        "人员、财务、业务、药品已统一管理并有制度与执行材料；信息统一管理尚缺佐证。",
    )
    do_assess(
        admin, world.medcom, "nhc-02", YEAR, Verdict.PARTLY_MET, "缺少议定事项落实的督办记录。"
    )
    do_assess(admin, world.medcom, "nhc-02", YEAR, Verdict.MET, "")
    return len(items)
