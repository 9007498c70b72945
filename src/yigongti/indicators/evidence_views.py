"""Pages of the evidence register of nhc-01 … nhc-03 (thin): the register per medcom and year,
upload, assessment, withdrawal and the scoped, audited file download.

Every write goes through ``services`` (roles, scope, file checks, audit); a refusal of input
shows next to the field, a refusal of access is a 403 page with the Chinese reason.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from yigongti.accounts.choices import Role
from yigongti.accounts.queries import Actor
from yigongti.core import clock
from yigongti.core.errors import AccessDenied, DomainError
from yigongti.core.queries import get_parameter
from yigongti.indicators import definitions, queries, rules, services
from yigongti.indicators.forms import AssessmentForm, EvidenceUploadForm, add_domain_errors
from yigongti.indicators.models import EvidenceItem
from yigongti.organizations.models import Institution, Medcom

CONTENT_TYPES = {
    rules.PDF: "application/pdf",
    rules.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    rules.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    rules.JPG: "image/jpeg",
    rules.PNG: "image/png",
}


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    return actor


def _forbidden(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "403.html", {"reason": reason}, status=403)


def _year(text: str | None) -> int:
    """The register year asked for; else the year of the newest results (the dashboard's
    default period), else the current year."""
    today = clock.today()
    try:
        year = int(text or "")
    except ValueError:
        year = 0
    if year and not rules.check_register_year(year, today):
        return year
    latest = queries.default_period()
    return int(latest[:4]) if latest else today.year


def _medcom(actor: Actor, code: str | None) -> Medcom | None:
    medcoms = queries.list_register_medcoms(actor.scope)
    return next((m for m in medcoms if m.code == code), medcoms[0] if medcoms else None)


def _upload_institutions(actor: Actor, medcom: Medcom) -> list[tuple[str, str]]:
    """The institutions the actor may upload for: an institution admin their own only."""
    if actor.role == Role.INSTITUTION_ADMIN:
        own = actor.institution
        return [(own.code, own.name)] if own and own.medcom_id == medcom.pk else []
    return [
        (i.code, i.name)
        for i in Institution.objects.filter(medcom=medcom).order_by("path")
        if actor.scope.covers_institution(i.path)
    ]


def _upload_form(
    actor: Actor, medcom: Medcom, code: str, data: Any = None, files: Any = None
) -> EvidenceUploadForm:
    return EvidenceUploadForm(
        data,
        files,
        indicator_code=code,
        institutions=_upload_institutions(actor, medcom),
        medcom_wide=actor.role != Role.INSTITUTION_ADMIN,
    )


def _register_url(medcom: Medcom, year: int, anchor: str = "") -> str:
    query = urlencode({"year": year, "medcom": medcom.code})
    return f"{reverse('indicators:evidence')}?{query}" + (f"#{anchor}" if anchor else "")


@login_required
@require_http_methods(["GET", "POST"])
def evidence_register(request: HttpRequest) -> HttpResponse:
    """GET: the register of a medcom and year. POST ``action=upload|assess``: one write,
    then back to the register (or the register with the form's errors)."""
    actor = _actor(request)
    if not rules.can_view_evidence(actor.role):
        return _forbidden(request, "证据登记供县级管理员、管理中心、机构管理员和医保审核员使用")
    source = request.POST if request.method == "POST" else request.GET
    year = _year(source.get("year"))
    medcom = _medcom(actor, source.get("medcom"))
    if medcom is None:
        return _forbidden(request, "您的数据范围内没有医共体")
    bound: dict[str, Any] = {}
    refused: dict[str, str] = {}
    if request.method == "POST":
        code = request.POST.get("indicator", "")
        action = request.POST.get("action", "")
        if not definitions.criteria_of(code) or action not in ("upload", "assess"):
            return _forbidden(request, "无效的请求")
        try:
            if action == "upload":
                form: Any = _upload_form(actor, medcom, code, request.POST, request.FILES)
                if form.is_valid():
                    d = form.cleaned_data
                    upload = d["file"]
                    services.do_add_evidence(
                        actor,
                        medcom,
                        services.EvidenceInput(
                            indicator_code=code,
                            criterion=d["criterion"],
                            year=year,
                            title=d["title"],
                            document_date=d["document_date"],
                            description=d["description"],
                            institution_code=d["institution"],
                        ),
                        upload,
                        upload.name or "",
                    )
                    messages.success(request, f"已登记证据材料“{d['title'].strip()}”")
                    return redirect(_register_url(medcom, year, code))
            else:
                form = AssessmentForm(request.POST, indicator_code=code)
                if form.is_valid():
                    services.do_assess(
                        actor,
                        medcom,
                        code,
                        year,
                        form.cleaned_data["verdict"],
                        form.cleaned_data["comment"],
                    )
                    messages.success(request, f"已保存 {code} {year} 年度评估结论")
                    return redirect(_register_url(medcom, year, code))
        except AccessDenied as exc:
            return _forbidden(request, exc.reason)
        except DomainError as exc:
            add_domain_errors(form, exc)
        bound[f"{code}:{action}"] = form
        # the page comes back at the form (its action's fragment); this says so at the top too
        refused = {
            "anchor": f"{code}-{action}",
            "label": f"{code} 的{'佐证材料' if action == 'upload' else '评估结论'}",
        }
    entries = []
    for entry in queries.get_register(medcom, year, actor.scope):
        code = entry.indicator.code
        entries.append(
            {
                "entry": entry,
                "upload_form": bound.get(f"{code}:upload") or _upload_form(actor, medcom, code),
                "assess_form": bound.get(f"{code}:assess") or AssessmentForm(indicator_code=code),
                "open_upload": f"{code}:upload" in bound,
                "rows": [
                    {
                        "item": item,
                        "criterion": next(
                            (
                                c.label
                                for c in definitions.criteria_of(code)
                                if c.key == item.criterion
                            ),
                            item.criterion,
                        ),
                        "may_withdraw": not item.is_withdrawn
                        and (
                            actor.role == Role.COUNTY_ADMIN
                            or (
                                item.uploaded_by_id == actor.user.pk
                                and rules.can_upload_evidence(actor.role)
                            )
                        ),
                    }
                    for item in entry.items
                ],
            }
        )
    today = clock.today()
    return render(
        request,
        "indicators/evidence.html",
        {
            "year": year,
            "years": list(range(today.year, rules.FIRST_REGISTER_YEAR - 1, -1)),
            "medcom": medcom,
            "medcoms": queries.list_register_medcoms(actor.scope),
            "entries": entries,
            "refused": refused,
            "may_upload": rules.can_upload_evidence(actor.role),
            "may_assess": rules.can_assess_evidence(actor.role),
            "max_mb": get_parameter("indicators.evidence_max_mb", today, medcom.division.code),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def evidence_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: withdraw with a reason. A GET (a link typed or followed) changes nothing and goes
    back to the register with a word, not the browser's bare 405 page."""
    actor = _actor(request)
    item = EvidenceItem.objects.select_related("institution", "medcom").filter(pk=pk).first()
    if item is None or not rules.can_view_evidence(actor.role):
        return _forbidden(request, "该证据材料不存在或不在您的数据范围内")
    if request.method != "POST":
        messages.info(request, "撤回证据材料请在登记页该材料一行填写撤回原因后点“撤回”")
        return redirect(_register_url(item.medcom, item.year, item.indicator_code))
    try:
        services.do_withdraw_evidence(actor, item, request.POST.get("reason", ""))
        messages.success(request, f"已撤回证据材料“{item.title}”")
    except AccessDenied as exc:
        return _forbidden(request, exc.reason)
    except DomainError as exc:
        messages.error(request, f"未撤回：{exc.text()}")
    return redirect(_register_url(item.medcom, item.year, item.indicator_code))


@login_required
def evidence_file(request: HttpRequest, pk: int) -> HttpResponse | FileResponse:
    """The stored file, as an attachment, after the scope check (audited either way)."""
    actor = _actor(request)
    try:
        item = services.do_open_evidence(actor, pk)
    except AccessDenied as exc:
        return _forbidden(request, exc.reason)
    return FileResponse(
        item.file.open("rb"),
        as_attachment=True,
        filename=item.file_name,
        content_type=CONTENT_TYPES.get(item.kind, "application/octet-stream"),
    )
