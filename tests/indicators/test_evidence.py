"""The evidence register of nhc-01 … nhc-03: rules, services (every refusal), pages, download
scope, audit, the dashboard verdict and the demo generator step."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import Client

from yigongti.core import clock
from yigongti.core.errors import AccessDenied, DomainError
from yigongti.core.models import AuditEvent, PolicyParameter
from yigongti.indicators import definitions, queries, rules
from yigongti.indicators.choices import Verdict
from yigongti.indicators.models import EvidenceAssessment, EvidenceItem, IndicatorResult
from yigongti.indicators.services import (
    EvidenceInput,
    do_add_evidence,
    do_assess,
    do_open_evidence,
    do_withdraw_evidence,
)
from yigongti.synth.evidence import build_evidence, docx_bytes, xlsx_bytes

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
JPG = b"\xff\xd8\xff\xe0" + b"\x00" * 24
DOCX = docx_bytes("章程", ["第一条"])
XLSX = xlsx_bytes([["月份", "上转"], ["2025-09", "38"]])
LEAD, CHENGGUAN, HEKOU = "QH0001", "QH1001", "QH1002"

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def entry(
    code: str = "nhc-01",
    criterion: str = "personnel",
    *,
    title: str = "人员统一管理办法",
    year: int = 2025,
    on: dt.date = dt.date(2025, 2, 10),
    institution: str = "",
) -> EvidenceInput:
    return EvidenceInput(
        indicator_code=code,
        criterion=criterion,
        year=year,
        title=title,
        document_date=on,
        institution_code=institution,
    )


def add(actor: Any, world: Any, data: EvidenceInput, content: bytes, name: str) -> EvidenceItem:
    return do_add_evidence(actor, world.medcom, data, ContentFile(content, name=name), name)


def audit_rows(resource_type: str) -> list[tuple[str, str, str]]:
    return list(
        AuditEvent.objects.filter(resource_type=resource_type)
        .order_by("seq")
        .values_list("action", "actor_username", "resource_id")
    )


# ---------------------------------------------------------------------------
# Rules (pure)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("纪要.pdf", "pdf"),
        ("章程.DOCX", "docx"),
        ("目录.xlsx", "xlsx"),
        ("照片.jpeg", "jpg"),
        ("照片.JPG", "jpg"),
        ("截图.png", "png"),
        ("目录.xls", None),
        ("纪要.doc", None),
        ("run.exe", None),
        ("pdf", None),
        ("", None),
    ],
)
def test_evidence_kind_by_extension(name: str, kind: str | None) -> None:
    assert rules.evidence_kind(name) == kind


def test_check_evidence_file_each_refusal_and_acceptance() -> None:
    mb = 1024 * 1024
    assert rules.check_evidence_file("a.txt", 10, 20, b"", None) == {
        "file": ["不支持的文件类型“a.txt”，只接受 PDF、Word（.docx）、Excel（.xlsx）、JPG 或 PNG"]
    }
    assert rules.check_evidence_file("a.pdf", 0, 20, b"", None) == {"file": ["上传的文件是空的"]}
    assert rules.check_evidence_file("a.pdf", 20 * mb + 1, 20, PDF, None) == {
        "file": ["文件大小 20.0 MB，超过上限 20 MB"]
    }
    assert rules.check_evidence_file("a.pdf", 20 * mb, 20, PDF, None) == {}
    assert rules.check_evidence_file("a.pdf", 100, 20, PNG, None) == {
        "file": ["文件内容与扩展名不符（不是有效的 PDF 文件）"]
    }
    # A ZIP that is not a Word package, and a Word package named .xlsx
    assert rules.check_evidence_file("a.docx", 100, 20, b"PK\x03\x04", frozenset({"x"}))
    assert rules.check_evidence_file("a.xlsx", 100, 20, b"PK\x03\x04", None)
    assert rules.check_evidence_file(
        "a.xlsx", 100, 20, b"PK\x03\x04", frozenset({"word/document.xml"})
    ) == {"file": ["文件内容与扩展名不符（不是有效的 XLSX 文件）"]}
    assert (
        rules.check_evidence_file("a.xlsx", 100, 20, b"PK\x03\x04", frozenset({"xl/workbook.xml"}))
        == {}
    )
    assert rules.check_evidence_file("a.png", 100, 20, PNG, None) == {}
    assert rules.check_evidence_file("a.jpg", 100, 20, JPG, None) == {}


def test_check_assessment_and_year() -> None:
    verdicts = frozenset(Verdict.values)
    assert rules.check_assessment("met", "", verdicts) == {}
    assert rules.check_assessment("partly_met", "  ", verdicts) == {
        "comment": ["评估结论不是“达标”时必须填写评估意见"]
    }
    assert rules.check_assessment("not_met", "缺材料", verdicts) == {}
    assert rules.check_assessment("good", "x", verdicts) == {
        "verdict": ["请选择评估结论：达标、基本达标或未达标"]
    }
    today = dt.date(2025, 12, 31)
    assert rules.check_register_year(2025, today) == {}
    assert rules.check_register_year(2019, today) == {}
    assert rules.check_register_year(2018, today) == {"year": ["年度应在 2019 至 2025 之间"]}
    assert rules.check_register_year(2026, today) == {"year": ["年度应在 2019 至 2025 之间"]}


def test_criteria_are_data_with_sources() -> None:
    assert [c.key for c in definitions.criteria_of("nhc-01")] == [
        "personnel",
        "finance",
        "business",
        "drugs",
        "information",
    ]
    assert len(definitions.criteria_of("nhc-02")) == 4
    assert len(definitions.criteria_of("nhc-03")) == 4
    assert definitions.criteria_of("nhc-07") == ()
    for code in ("nhc-01", "nhc-02", "nhc-03"):
        assert definitions.get(code).status == "evidence"
        for criterion in definitions.criteria_of(code):
            assert "seeds/" in criterion.source


# ---------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------


def test_add_evidence_stores_file_by_hash_and_audits(
    world: Any, actor_for: Any, media: Path
) -> None:
    admin = actor_for("county_admin")
    item = add(admin, world, entry(), PDF, "人员管理办法.pdf")
    digest = hashlib.sha256(PDF).hexdigest()
    assert (item.indicator_code, item.criterion, item.year, item.kind, item.size) == (
        "nhc-01",
        "personnel",
        2025,
        "pdf",
        len(PDF),
    )
    assert item.sha256 == digest and item.file_name == "人员管理办法.pdf"
    assert item.file.name == f"evidence/2025/nhc-01/{digest}.pdf"
    assert (media / item.file.name).read_bytes() == PDF
    assert item.uploaded_by == world.users["county_admin"] and item.institution is None
    event = AuditEvent.objects.get(resource_type="indicator_evidence")
    assert (event.action, event.actor_username, event.resource_id) == (
        "create",
        "admin",
        str(item.pk),
    )
    assert event.detail["sha256"] == digest and event.detail["criterion"] == "personnel"
    # The same content again is stored once (same name), as a second item.
    again = add(admin, world, entry(title="修订版"), PDF, "other.pdf")
    assert again.file.name == item.file.name and EvidenceItem.objects.count() == 2
    assert len(list((media / "evidence/2025/nhc-01").iterdir())) == 1


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"MZ\x90\x00", "tool.exe", "不支持的文件类型“tool.exe”"),
        (b"hello", "note.txt", "不支持的文件类型“note.txt”"),
        (PNG, "scan.pdf", "文件内容与扩展名不符（不是有效的 PDF 文件）"),
        (DOCX, "table.xlsx", "文件内容与扩展名不符（不是有效的 XLSX 文件）"),
        (b"PK\x03\x04broken", "broken.docx", "文件内容与扩展名不符（不是有效的 DOCX 文件）"),
        (b"", "empty.pdf", "上传的文件是空的"),
    ],
)
def test_add_refuses_wrong_types_and_changes_nothing(
    world: Any, actor_for: Any, media: Path, content: bytes, name: str, message: str
) -> None:
    with pytest.raises(DomainError) as caught:
        add(actor_for("county_admin"), world, entry(), content, name)
    assert message in caught.value.field_errors["file"][0]
    assert EvidenceItem.objects.count() == 0
    assert not (media / "evidence").exists()
    assert audit_rows("indicator_evidence") == []


def test_size_limit_is_a_versioned_parameter(world: Any, actor_for: Any, media: Path) -> None:
    admin = actor_for("county_admin")
    # Shipped default: 20 MB.
    assert rules.check_evidence_file("a.pdf", 20 * 1024 * 1024, 20, PDF, None) == {}
    PolicyParameter.objects.create(
        key="indicators.evidence_max_mb",
        region_code=world.county.code,
        effective_from=dt.date(2020, 1, 1),
        value=1,
        source="测试：县里把上限改为 1 MB",
    )
    big = PDF + b"0" * (1024 * 1024 + 1 - len(PDF))
    with pytest.raises(DomainError) as caught:
        add(admin, world, entry(), big, "big.pdf")
    assert caught.value.field_errors == {"file": ["文件大小 1.0 MB，超过上限 1 MB"]}
    assert EvidenceItem.objects.count() == 0
    exact = big[:-1]
    assert add(admin, world, entry(), exact, "exact.pdf").size == 1024 * 1024


@pytest.mark.parametrize(
    "role_user", ["family_doctor", "insurance_reviewer", "auditor", "pharmacist"]
)
def test_add_refused_for_other_roles(
    world: Any, actor_for: Any, media: Path, role_user: str
) -> None:
    with pytest.raises(AccessDenied) as caught:
        add(actor_for(role_user), world, entry(), PDF, "a.pdf")
    assert caught.value.reason == "只有县级管理员、管理中心工作人员和机构管理员可以上传证据材料"
    assert EvidenceItem.objects.count() == 0


def test_institution_admin_only_for_own_institution(
    world: Any, actor_for: Any, media: Path
) -> None:
    hekou = actor_for("institution_admin")
    for institution in (CHENGGUAN, LEAD, ""):
        with pytest.raises(AccessDenied) as caught:
            add(hekou, world, entry("nhc-03", "prevention", institution=institution), PDF, "a.pdf")
        assert caught.value.reason == "机构管理员只能为本机构上传证据材料（请选择本机构）"
    assert EvidenceItem.objects.count() == 0
    item = add(hekou, world, entry("nhc-03", "prevention", institution=HEKOU), PNG, "台账.png")
    assert item.institution is not None and item.institution.code == HEKOU
    # Centre staff (medcom scope) may name any member institution.
    staff_item = add(
        actor_for("centre_staff"),
        world,
        entry("nhc-01", "finance", institution=CHENGGUAN),
        XLSX,
        "a.xlsx",
    )
    assert staff_item.kind == "xlsx"


def test_add_refuses_bad_statements(world: Any, actor_for: Any, media: Path) -> None:
    admin = actor_for("county_admin")
    cases = [
        (
            entry("nhc-07", "personnel"),
            "indicator_code",
            "指标“nhc-07”不是定性指标，只有 nhc-01、nhc-02、nhc-03 登记证据",
        ),
        (entry("nhc-01", "referral"), "criterion", "请选择该指标的评判要点"),
        (entry(title="   "), "title", "请填写标题"),
        (entry(year=2018), "year", f"年度应在 2019 至 {clock.today().year} 之间"),
        (entry(on=clock.today() + dt.timedelta(days=1)), "document_date", "文件日期不能晚于今天"),
        (entry(institution="QH9999"), "institution_code", "机构“QH9999”不是该医共体的成员单位"),
    ]
    for data, field, message in cases:
        with pytest.raises(DomainError) as caught:
            add(admin, world, data, PDF, "a.pdf")
        assert caught.value.field_errors[field] == [message]
    assert EvidenceItem.objects.count() == 0
    assert audit_rows("indicator_evidence") == []


def test_assess_supersedes_and_keeps_history(world: Any, actor_for: Any) -> None:
    admin = actor_for("county_admin")
    first = do_assess(admin, world.medcom, "nhc-02", 2025, Verdict.PARTLY_MET, "缺少督办记录")
    second = do_assess(admin, world.medcom, "nhc-02", 2025, Verdict.MET, "")
    first.refresh_from_db()
    assert (first.is_current, first.superseded_by_id) == (False, second.pk)
    assert (second.is_current, second.verdict, second.comment) == (True, "met", "")
    other_year = do_assess(admin, world.medcom, "nhc-02", 2024, Verdict.NOT_MET, "未建立")
    assert other_year.is_current
    assert {
        k: a.verdict for k, a in queries.list_current_verdicts(world.medcom.pk, 2025).items()
    } == {"nhc-02": "met"}
    rows = AuditEvent.objects.filter(resource_type="indicator_assessment").order_by("seq")
    assert [(e.action, e.detail["verdict"], e.detail["supersedes"]) for e in rows] == [
        ("create", "partly_met", None),
        ("create", "met", first.pk),
        ("create", "not_met", None),
    ]


def test_assess_refusals_change_nothing(world: Any, actor_for: Any) -> None:
    admin = actor_for("county_admin")
    for key in ("centre_staff", "institution_admin", "insurance_reviewer", "family_doctor"):
        with pytest.raises(AccessDenied) as denied:
            do_assess(actor_for(key), world.medcom, "nhc-01", 2025, Verdict.MET, "")
        assert denied.value.reason == "只有县级管理员可以评估定性指标"
    for verdict in (Verdict.PARTLY_MET, Verdict.NOT_MET):
        with pytest.raises(DomainError) as caught:
            do_assess(admin, world.medcom, "nhc-01", 2025, verdict, "  ")
        assert caught.value.field_errors == {"comment": ["评估结论不是“达标”时必须填写评估意见"]}
    with pytest.raises(DomainError) as caught:
        do_assess(admin, world.medcom, "nhc-08", 2025, Verdict.MET, "")
    assert "indicator_code" in caught.value.field_errors
    with pytest.raises(DomainError) as caught:
        do_assess(admin, world.medcom, "nhc-01", 2025, "excellent", "")
    assert caught.value.field_errors == {"verdict": ["请选择评估结论：达标、基本达标或未达标"]}
    assert EvidenceAssessment.objects.count() == 0
    assert audit_rows("indicator_assessment") == []


def test_database_holds_one_current_assessment_and_comment_rule(world: Any) -> None:
    user = world.users["county_admin"]
    common = {"medcom": world.medcom, "indicator_code": "nhc-01", "year": 2025}
    EvidenceAssessment.objects.create(
        **common, verdict="met", assessed_by=user, assessed_at=clock.now()
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        EvidenceAssessment.objects.create(
            **common, verdict="met", assessed_by=user, assessed_at=clock.now()
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        EvidenceAssessment.objects.create(
            **common, verdict="not_met", is_current=False, assessed_by=user, assessed_at=clock.now()
        )


def test_withdraw_keeps_the_item_and_needs_a_reason(
    world: Any, actor_for: Any, media: Path
) -> None:
    admin, staff = actor_for("county_admin"), actor_for("centre_staff")
    item = add(admin, world, entry(), PDF, "a.pdf")
    with pytest.raises(DomainError) as caught:
        do_withdraw_evidence(admin, item, "  ")
    assert caught.value.field_errors == {"reason": ["请填写撤回原因"]}
    with pytest.raises(AccessDenied) as denied:
        do_withdraw_evidence(staff, item, "不是我传的")
    assert denied.value.reason == "只有县级管理员或上传人本人可以撤回证据材料"
    with pytest.raises(AccessDenied):
        do_withdraw_evidence(actor_for("institution_admin"), item, "x")
    item.refresh_from_db()
    assert item.withdrawn_at is None
    done = do_withdraw_evidence(admin, item, "已上传修订版")
    assert (done.is_withdrawn, done.withdraw_reason, done.withdrawn_by) == (
        True,
        "已上传修订版",
        world.users["county_admin"],
    )
    with pytest.raises(DomainError) as caught:
        do_withdraw_evidence(admin, item, "再次撤回")
    assert caught.value.field_errors == {"reason": ["该证据材料已被撤回"]}
    assert (media / item.file.name).read_bytes() == PDF  # nothing deleted
    assert audit_rows("indicator_evidence") == [
        ("create", "admin", str(item.pk)),
        ("update", "admin", str(item.pk)),
    ]
    # The uploader withdraws their own item.
    own = add(staff, world, entry("nhc-01", "finance"), PDF, "b.pdf")
    assert do_withdraw_evidence(staff, own, "重复上传").is_withdrawn


def test_register_checklist_counts_items_not_withdrawn(
    world: Any, actor_for: Any, media: Path
) -> None:
    admin = actor_for("county_admin")
    add(admin, world, entry("nhc-01", "personnel"), PDF, "a.pdf")
    gone = add(admin, world, entry("nhc-01", "finance"), PDF, "b.pdf")
    do_withdraw_evidence(admin, gone, "作废")
    add(
        actor_for("institution_admin"),
        world,
        entry("nhc-03", "prevention", institution=HEKOU),
        PNG,
        "c.png",
    )
    add(admin, world, entry("nhc-03", "referral", institution=CHENGGUAN), PDF, "d.pdf")
    register = {e.indicator.code: e for e in queries.get_register(world.medcom, 2025, admin.scope)}
    assert list(register) == ["nhc-01", "nhc-02", "nhc-03"]
    assert [(r.criterion.key, r.evidence_count) for r in register["nhc-01"].checklist] == [
        ("personnel", 1),
        ("finance", 0),
        ("business", 0),
        ("drugs", 0),
        ("information", 0),
    ]
    assert register["nhc-01"].covered == 1 and len(register["nhc-01"].items) == 2
    assert register["nhc-03"].covered == 2
    # Hekou's admin sees medcom-wide items and Hekou's, not Chengguan's.
    hekou = actor_for("institution_admin")
    seen = {e.indicator.code: e for e in queries.get_register(world.medcom, 2025, hekou.scope)}
    assert [i.title for i in seen["nhc-03"].items] == ["人员统一管理办法"]
    assert seen["nhc-03"].items[0].institution.code == HEKOU  # type: ignore[union-attr]
    assert seen["nhc-03"].covered == 2  # the checklist is the register's, not the viewer's


def test_open_evidence_checks_scope_and_audits(world: Any, actor_for: Any, media: Path) -> None:
    admin, hekou = actor_for("county_admin"), actor_for("institution_admin")
    chengguan_item = add(
        admin, world, entry("nhc-03", "referral", institution=CHENGGUAN), PDF, "a.pdf"
    )
    wide = add(admin, world, entry("nhc-02", "charter"), DOCX, "章程.docx")
    assert do_open_evidence(hekou, wide.pk) == wide
    with pytest.raises(AccessDenied) as denied:
        do_open_evidence(hekou, chengguan_item.pk)
    assert denied.value.reason == "该证据材料不存在或不在您的数据范围内"
    with pytest.raises(AccessDenied):
        do_open_evidence(actor_for("family_doctor"), wide.pk)
    with pytest.raises(AccessDenied):
        do_open_evidence(admin, 999_999)
    assert do_open_evidence(actor_for("insurance_reviewer"), chengguan_item.pk) == chengguan_item
    rows = audit_rows("indicator_evidence")[2:]
    assert rows == [
        ("read", "hekou_admin", str(wide.pk)),
        ("denied", "hekou_admin", str(chengguan_item.pk)),
        ("denied", "wangys", str(wide.pk)),
        ("denied", "admin", "999999"),
        ("read", "shenhe", str(chengguan_item.pk)),
    ]


# ---------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------


def client_for(world: Any, key: str) -> Client:
    client = Client()
    client.force_login(world.users[key])
    return client


def section(page: str, code: str) -> str:
    return page.split(f'data-code="{code}"')[1].split("</section>")[0]


def test_register_page_shows_checklist_and_pending_assessment(world: Any) -> None:
    page = client_for(world, "county_admin").get("/indicators/evidence/?year=2025").content.decode()
    assert "紧密型指标证据登记（2025 年度）" in page
    one = section(page, "nhc-01")
    assert "资源统一管理" in one and "待评估" in one and "已有佐证的要点 0 / 5" in one
    assert one.count("（缺少佐证）") == 5
    assert "依据：《南县全面推进紧密型县域医疗卫生共同体建设实施方案》三(一)2" in one
    assert "seeds/" not in one and "口径：" in one and "（[V]）" not in one
    assert 'id="nhc-01-assess"' in one and 'id="nhc-01-upload"' in one
    staff_page = client_for(world, "centre_staff").get("/indicators/evidence/").content.decode()
    assert 'id="nhc-01-upload"' in staff_page and 'id="nhc-01-assess"' not in staff_page
    reviewer = client_for(world, "insurance_reviewer").get("/indicators/evidence/").content.decode()
    assert "upload-form" not in reviewer and "assess-form" not in reviewer
    response = client_for(world, "family_doctor").get("/indicators/evidence/")
    assert response.status_code == 403
    assert "证据登记供县级管理员、管理中心、机构管理员和医保审核员使用" in response.content.decode()
    assert Client().get("/indicators/evidence/").status_code == 302  # login required
    # The left navigation links the register for the roles that may use it only.
    assert "紧密型证据登记" in client_for(world, "centre_staff").get("/").content.decode()
    assert "紧密型证据登记" not in client_for(world, "family_doctor").get("/").content.decode()


def upload_post(
    code: str, criterion: str, content: bytes, name: str, **extra: str
) -> dict[str, Any]:
    return {
        "action": "upload",
        "indicator": code,
        "year": "2025",
        f"{code}-criterion": criterion,
        f"{code}-title": extra.get("title", "医共体章程"),
        f"{code}-document_date": extra.get("date", "2025-01-02"),
        f"{code}-institution": extra.get("institution", ""),
        f"{code}-description": "",
        f"{code}-file": SimpleUploadedFile(name, content),
    }


def test_upload_through_the_page_then_download(world: Any, media: Path) -> None:
    client = client_for(world, "county_admin")
    response = client.post(
        "/indicators/evidence/", upload_post("nhc-02", "charter", DOCX, "章程.docx")
    )
    assert response.status_code == 302
    assert (
        response["Location"] == f"/indicators/evidence/?year=2025&medcom={world.medcom.code}#nhc-02"
    )
    item = EvidenceItem.objects.get()
    assert (item.title, item.criterion, item.kind, item.file_name) == (
        "医共体章程",
        "charter",
        "docx",
        "章程.docx",
    )
    page = client.get(response["Location"]).content.decode()
    two = section(page, "nhc-02")
    assert (
        "医共体章程" in two
        and "已有佐证的要点 1 / 4" in two
        and "已登记证据材料“医共体章程”" in page
    )
    assert f"/indicators/evidence/{item.pk}/file/" in two
    download = client.get(f"/indicators/evidence/{item.pk}/file/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == DOCX  # type: ignore[attr-defined]
    assert "attachment" in download["Content-Disposition"]
    assert download["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml"
    )
    assert audit_rows("indicator_evidence") == [
        ("create", "admin", str(item.pk)),
        ("read", "admin", str(item.pk)),
    ]


def test_upload_errors_show_next_to_the_field(world: Any, media: Path) -> None:
    client = client_for(world, "county_admin")
    response = client.post(
        "/indicators/evidence/", upload_post("nhc-01", "personnel", b"hello", "note.txt")
    )
    assert response.status_code == 200
    one = section(response.content.decode(), "nhc-01")
    assert '<div class="text-danger small file-error">不支持的文件类型“note.txt”' in one
    assert '<details class="mt-2" open>' in one and 'value="医共体章程"' in one
    # the page comes back at the form (its action's fragment), and says so at the top
    assert 'action="#nhc-01-upload"' in one
    top = response.content.decode().split('id="form-refused">')[1].split("</div>")[0]
    assert (
        top
        == '未保存：nhc-01 的佐证材料有需要更正的内容，<a href="#nhc-01-upload">请查看标出的问题</a>。'
    )
    response = client.post(
        "/indicators/evidence/", upload_post("nhc-01", "personnel", PDF, "a.pdf", date="2025-13-01")
    )
    assert "日期格式应为 YYYY-MM-DD" in section(response.content.decode(), "nhc-01")
    assert EvidenceItem.objects.count() == 0


def test_institution_admin_upload_through_page_is_own_only(world: Any, media: Path) -> None:
    client = client_for(world, "institution_admin")
    page = client.get("/indicators/evidence/").content.decode()
    choices = section(page, "nhc-03").split('name="nhc-03-institution"')[1].split("</select>")[0]
    assert "河口乡卫生院" in choices and "整个医共体" not in choices and "城关" not in choices
    # A forged institution code is refused by the form; nothing stored.
    response = client.post(
        "/indicators/evidence/",
        upload_post("nhc-03", "prevention", PNG, "a.png", institution=CHENGGUAN),
    )
    assert "该机构不在您可上传的范围内" in response.content.decode()
    response = client.post(
        "/indicators/evidence/",
        upload_post("nhc-03", "prevention", PNG, "a.png", institution=HEKOU),
    )
    assert response.status_code == 302
    assert EvidenceItem.objects.get().institution.code == HEKOU  # type: ignore[union-attr]


def test_assess_and_withdraw_through_the_page(world: Any, actor_for: Any, media: Path) -> None:
    client = client_for(world, "county_admin")
    post = {"action": "assess", "indicator": "nhc-01", "year": "2025"}
    response = client.post("/indicators/evidence/", {**post, "nhc-01-assess-verdict": "not_met"})
    assert response.status_code == 200
    assert "评估结论不是“达标”时必须填写评估意见" in section(response.content.decode(), "nhc-01")
    assert '未保存：nhc-01 的评估结论有需要更正的内容，<a href="#nhc-01-assess">' in (
        response.content.decode()
    )
    assert EvidenceAssessment.objects.count() == 0
    response = client.post(
        "/indicators/evidence/",
        {
            **post,
            "nhc-01-assess-verdict": "partly_met",
            "nhc-01-assess-comment": "信息统一管理缺佐证",
        },
    )
    assert response.status_code == 302
    client.post("/indicators/evidence/", {**post, "nhc-01-assess-verdict": "met"})
    one = section(client.get("/indicators/evidence/?year=2025").content.decode(), "nhc-01")
    verdict = one.split('id="nhc-01-verdict"')[1].split("</span></span>")[0]
    assert "达标" in verdict and "基本达标" not in verdict
    # 达标 with no evidence for any of the five criteria: the page warns (the verdict stands)
    gaps = one.split('id="nhc-01-gaps">')[1].split("</div>")[0]
    assert gaps.startswith("评定为达标，但尚有 5 项评判要点没有佐证材料")
    assert 'id="nhc-02-gaps"' not in client.get("/indicators/evidence/?year=2025").content.decode()
    history = one.split('id="nhc-01-history"')[1]
    assert "基本达标" in history and "信息统一管理缺佐证" in history
    staff = client_for(world, "centre_staff")
    response = staff.post("/indicators/evidence/", {**post, "nhc-01-assess-verdict": "met"})
    assert (
        response.status_code == 403
        and "只有县级管理员可以评估定性指标" in response.content.decode()
    )
    assert EvidenceAssessment.objects.count() == 2
    # Withdraw: a reason is needed; the item stays, marked 已撤回.
    item = add(actor_for("county_admin"), world, entry(), PDF, "a.pdf")
    response = client.post(f"/indicators/evidence/{item.pk}/withdraw/", {"reason": ""})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.withdrawn_at is None
    # a GET (a link followed) changes nothing: back to the register with a word, not a 405
    response = client.get(f"/indicators/evidence/{item.pk}/withdraw/", follow=True)
    assert response.redirect_chain == [
        ("/indicators/evidence/?year=2025&medcom=QH-MEDCOM#nhc-01", 302)
    ]
    assert "撤回证据材料请在登记页该材料一行填写撤回原因" in response.content.decode()
    item.refresh_from_db()
    assert item.withdrawn_at is None
    response = staff.post(f"/indicators/evidence/{item.pk}/withdraw/", {"reason": "x"})
    assert response.status_code == 403
    client.post(f"/indicators/evidence/{item.pk}/withdraw/", {"reason": "已作废"})
    one = section(client.get("/indicators/evidence/?year=2025").content.decode(), "nhc-01")
    assert "已撤回" in one and "已作废" in one and "<s>人员统一管理办法</s>" in one
    assert "已有佐证的要点 0 / 5" in one


def test_download_is_scope_checked_and_audited(world: Any, actor_for: Any, media: Path) -> None:
    item = add(
        actor_for("county_admin"),
        world,
        entry("nhc-03", "referral", institution=CHENGGUAN),
        XLSX,
        "转诊统计.xlsx",
    )
    response = client_for(world, "institution_admin").get(f"/indicators/evidence/{item.pk}/file/")
    assert response.status_code == 403
    assert "该证据材料不存在或不在您的数据范围内" in response.content.decode()
    assert (
        client_for(world, "family_doctor").get(f"/indicators/evidence/{item.pk}/file/").status_code
        == 403
    )
    assert Client().get(f"/indicators/evidence/{item.pk}/file/").status_code == 302
    ok = client_for(world, "centre_staff").get(f"/indicators/evidence/{item.pk}/file/")
    assert ok.status_code == 200 and b"".join(ok.streaming_content) == XLSX  # type: ignore[attr-defined]
    assert audit_rows("indicator_evidence")[1:] == [
        ("denied", "hekou_admin", str(item.pk)),
        ("denied", "wangys", str(item.pk)),
        ("read", "yibao", str(item.pk)),
    ]


def test_dashboard_shows_the_current_verdict_and_links_the_register(
    world: Any, actor_for: Any
) -> None:
    IndicatorResult.objects.create(
        indicator_code="nhc-07",
        period="2025",
        level="county",
        org_code=world.county.code,
        numerator=Decimal(2),
        denominator=Decimal(4),
        value=Decimal("50"),
        snapshot_id="test",
        engine="duckdb",
        computed_at=clock.now(),
    )
    admin = actor_for("county_admin")
    do_assess(admin, world.medcom, "nhc-01", 2025, Verdict.PARTLY_MET, "信息统一管理缺佐证")
    do_assess(admin, world.medcom, "nhc-02", 2025, Verdict.MET, "")
    do_assess(admin, world.medcom, "nhc-03", 2024, Verdict.NOT_MET, "上一年度")
    page = client_for(world, "county_admin").get("/indicators/?period=2025").content.decode()

    def row(code: str) -> str:
        return page.split(f'data-code="{code}"')[1].split("</tr>")[0]

    assert "基本达标" in row("nhc-01") and "/indicators/evidence/?year=2025#nhc-01" in row("nhc-01")
    assert 'text-bg-success">达标' in row("nhc-02")
    # 达标 with no evidence for any criterion: the overview says so, as the register warns
    gaps = len(definitions.criteria_of("nhc-02"))
    assert f"缺 {gaps} 项佐证</span>" in row("nhc-02") and "缺" not in row("nhc-01")
    add(admin, world, entry("nhc-02", definitions.criteria_of("nhc-02")[0].key), PDF, "a.pdf")
    page = client_for(world, "county_admin").get("/indicators/?period=2025").content.decode()
    assert f"缺 {gaps - 1} 项佐证</span>" in row("nhc-02")
    assert "待评估" in row("nhc-03") and "未达标" not in row(
        "nhc-03"
    )  # 2024's verdict is not 2025's
    assert "定性评判" not in page
    # the annual report says it too, beside the verdict
    from yigongti.indicators import reports

    report = reports.build_report("2025")
    labels = {i.indicator.code: i.status_label for i in report.indicators}
    assert labels["nhc-02"] == f"达标（缺 {gaps - 1} 项佐证）"
    assert labels["nhc-01"] == "基本达标"


# ---------------------------------------------------------------------------
# Generator
# ---------------------------------------------------------------------------


def test_demo_evidence_is_valid_and_deterministic(world: Any, media: Path) -> None:
    with clock.frozen(dt.datetime(2025, 12, 31, 8, 0, tzinfo=dt.UTC)):
        assert build_evidence(world) == 10
    items = list(EvidenceItem.objects.order_by("id"))
    assert [i.is_withdrawn for i in items].count(True) == 1
    assert {
        k: a.verdict for k, a in queries.list_current_verdicts(world.medcom.pk, 2025).items()
    } == {
        "nhc-01": "partly_met",
        "nhc-02": "met",
    }
    assert EvidenceAssessment.objects.filter(is_current=False).count() == 1
    for item in items:
        data = (media / item.file.name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == item.sha256
        if item.kind == "xlsx":
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
            assert next(book.active.iter_rows(values_only=True))[0]  # type: ignore[union-attr]
        else:
            with zipfile.ZipFile(io.BytesIO(data)) as package:
                assert item.title.encode() in package.read("word/document.xml")
    # The same inputs give the same bytes (fixed ZIP timestamps, no metadata).
    assert docx_bytes("章程", ["第一条"]) == DOCX
    assert xlsx_bytes([["月份", "上转"], ["2025-09", "38"]]) == XLSX
