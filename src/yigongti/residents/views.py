"""Resident registration page (thin: the form parses, the service validates and writes)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from yigongti.accounts import rules as access
from yigongti.core.errors import DomainError
from yigongti.residents.forms import ResidentForm
from yigongti.residents.services import ResidentInput, do_register_resident


@login_required
def register(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    if not access.can_edit_residents(actor.role):
        return render(request, "403.html", {"reason": "您的角色不能登记居民档案"}, status=403)
    form = ResidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = ResidentInput(**form.cleaned_data)
        if not actor.scope.covers_division((data.division_code or "").ljust(12, "0")):
            form.add_error("division_code", "该村（社区）不在您的数据范围内")
        else:
            try:
                resident = do_register_resident(actor, data)
            except DomainError as exc:
                for field, errors in exc.field_errors.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(request, f"已登记居民档案，主索引号 {resident.mpi_id}")
                return redirect("residents:register")
    return render(request, "residents/register.html", {"form": form})
