"""Import pages: upload a file, the batch history, a batch with its rejected rows (thin)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.text import get_valid_filename

from yigongti.accounts.choices import Role
from yigongti.core import clock
from yigongti.core import rules as masking
from yigongti.encounters import fhir, importing
from yigongti.encounters.choices import ImportKind
from yigongti.encounters.forms import ImportForm
from yigongti.encounters.models import ImportBatch
from yigongti.organizations.models import Institution

IMPORT_ROLES = frozenset({Role.COUNTY_ADMIN, Role.INSTITUTION_ADMIN})
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(
        request, "403.html", {"reason": "只有县级管理员和机构管理员可以导入数据"}, status=403
    )


def _visible_batches(request: HttpRequest) -> QuerySet[ImportBatch] | None:
    actor = request.actor  # type: ignore[attr-defined]
    if actor.role not in IMPORT_ROLES:
        return None
    batches = ImportBatch.objects.select_related("started_by", "institution")
    if actor.role == Role.COUNTY_ADMIN:
        return batches
    return batches.filter(institution=actor.institution)


def upload_dir() -> Path:
    """``YIGONGTI_DATA_DIR/uploads`` (the data directory is the parent of STATIC_ROOT)."""
    path = Path(settings.STATIC_ROOT).parent / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


@login_required
@transaction.non_atomic_requests  # the import commits chunk by chunk
def import_upload(request: HttpRequest) -> HttpResponse:
    batches = _visible_batches(request)
    if batches is None:
        return _forbidden(request)
    actor = request.actor  # type: ignore[attr-defined]
    form = ImportForm(request.POST or None, request.FILES or None)
    batch = None
    refused = ""
    if (
        request.method == "POST"
        and form.is_valid()
        and form.cleaned_data["kind"] == ImportKind.SETTLEMENTS
        and actor.role != Role.COUNTY_ADMIN
    ):
        form.add_error("kind", "县域外及药店结算由县级管理员导入")
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        stamp = clock.now().strftime("%Y%m%d%H%M%S")
        saved = upload_dir() / f"{stamp}-{uuid.uuid4().hex[:8]}-{get_valid_filename(upload.name)}"
        with saved.open("wb") as fh:
            for piece in upload.chunks():
                fh.write(piece)
        kind = form.cleaned_data["kind"]
        paths = dict(Institution.objects.values_list("code", "path"))

        def allowed(code: str) -> bool:
            return code in paths and actor.scope.covers_institution(paths[code])

        common = {
            "source_system": form.cleaned_data["source_system"],
            "file_name": upload.name,
            "user": actor.user,
            "institution": actor.institution,
            "institution_allowed": allowed,
        }
        try:
            if kind == ImportKind.FHIR:
                batch = fhir.import_bundle(saved, **common)
            else:
                # One process: forking a threaded web server is unsafe (locks held by other
                # threads stay locked in the child).
                batch = importing.import_file(saved, kind=kind, parallel=False, **common)
        except importing.ImportRefused as exc:
            refused = exc.message
    recent = batches[:5]
    return render(
        request,
        "encounters/import_upload.html",
        {"form": form, "batch": batch, "refused": refused, "recent": recent},
    )


@login_required
def batch_list(request: HttpRequest) -> HttpResponse:
    batches = _visible_batches(request)
    if batches is None:
        return _forbidden(request)
    page = Paginator(batches, 20).get_page(request.GET.get("page"))
    return render(request, "encounters/import_batches.html", {"page": page})


def _batch(request: HttpRequest, pk: int) -> ImportBatch | None:
    batches = _visible_batches(request)
    if batches is None:
        return None
    return get_object_or_404(batches, pk=pk)


def _masker(kind: str, column: str) -> Callable[[str], str]:
    """Lists mask personal data: the page shows masked ID numbers and names; the downloaded
    error report keeps the uploader's original cells so the rows can be corrected."""
    field_name = importing.field_of(kind, column)
    if field_name == "id_number":
        return masking.mask_id_number
    if field_name == "patient_name":
        return masking.mask_name
    return str


@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    if batch is None:
        return _forbidden(request)
    errors = batch.row_errors.order_by("row_number")
    page = Paginator(errors, 50).get_page(request.GET.get("page"))
    columns = importing.error_columns(batch) if batch.rows_rejected else []
    maskers = [_masker(batch.kind, c) for c in columns]
    rows = [
        (
            err.row_number,
            [mask(err.raw.get(c, "")) for c, mask in zip(columns, maskers, strict=True)],
            importing.reason_text(batch.kind, err.errors).split("\n"),
        )
        for err in page
    ]
    return render(
        request,
        "encounters/import_batch.html",
        {"batch": batch, "page": page, "columns": columns, "rows": rows},
    )


@login_required
def batch_errors(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    if batch is None:
        return _forbidden(request)
    out = io.BytesIO()
    importing.write_error_report(batch, out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-errors.xlsx"'
    return response


@login_required
def template_download(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    if _visible_batches(request) is None:
        return _forbidden(request)
    if kind not in importing.COLUMNS or fmt not in {"xlsx", "csv"}:
        raise Http404("没有这个模板")
    out = io.BytesIO()
    importing.write_template(kind, out, fmt)
    content_type = XLSX if fmt == "xlsx" else "text/csv; charset=utf-8"
    response = HttpResponse(out.getvalue(), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.{fmt}"'
    return response
