"""The indicator dashboard (thin): stored results only, never person-level rows."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from yigongti.accounts.choices import Role
from yigongti.core.errors import DomainError
from yigongti.indicators import definitions, queries, reports

DASHBOARD_ROLES = frozenset(
    {Role.COUNTY_ADMIN, Role.CENTRE_STAFF, Role.INSTITUTION_ADMIN, Role.INSURANCE_REVIEWER}
)
LEVEL_LABELS = {definitions.TOWNSHIP: "乡镇", definitions.INSTITUTION: "机构"}


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    if actor.role not in DASHBOARD_ROLES:
        return render(
            request,
            "403.html",
            {"reason": "监测指标看板供县级管理员、管理中心、机构管理员和医保审核员使用"},
            status=403,
        )
    periods = queries.list_periods()
    period = request.GET.get("period") or queries.default_period()
    if period not in periods:
        period = queries.default_period()
    computed = [i for i in definitions.INDICATORS if i.computed]
    code = request.GET.get("indicator") or (computed[0].code if computed else "")
    if code not in {i.code for i in computed}:
        code = computed[0].code if computed else ""
    chosen = definitions.get(code) if code else None
    # Townships first: the institution ranking of a share indicator mostly splits by type.
    level = request.GET.get("level") or definitions.TOWNSHIP
    if chosen is None or level not in chosen.levels or level == definitions.COUNTY:
        level = next(
            (lv for lv in (chosen.levels if chosen else ()) if lv != definitions.COUNTY), ""
        )
    trend = queries.list_trend(code, period[:4]) if code and period else []
    categories = (
        queries.list_category_breakdown(chosen, period)
        if chosen and chosen.category_label and period
        else []
    )
    return render(
        request,
        "indicators/dashboard.html",
        {
            "period": period,
            "periods": periods,
            "rows": (
                queries.with_verdicts(queries.list_overview(period), actor.scope, period)
                if period
                else []
            ),
            "chosen": chosen,
            "computed": computed,
            "level": level,
            "levels": [
                (lv, LEVEL_LABELS[lv])
                for lv in (chosen.levels if chosen else ())
                if lv in LEVEL_LABELS
            ],
            "ranking": queries.list_ranking(code, period, level) if level and period else [],
            "trend": {
                "months": [m for m, _ in trend],
                "values": [float(v) if v is not None else None for _, v in trend],
                "target": float(chosen.target) if chosen and chosen.target else None,
                "unit": chosen.unit if chosen else "",
                "name": chosen.name if chosen else "",
            },
            "stamp": queries.snapshot_stamp(),
            "categories": categories,
            "category_chart": {
                "labels": [c.label for c in categories if c.value is not None],
                "names": [c.name for c in categories if c.value is not None],
                "values": [float(c.value) for c in categories if c.value is not None],
                "unit": chosen.unit if chosen else "",
            },
        },
    )


@login_required
def report(request: HttpRequest) -> HttpResponse:
    """The annual monitoring report (``?year=2025&format=xlsx|pdf``) as a download; the same
    roles as the dashboard. A year without results goes back to the dashboard with the reason."""
    actor = request.actor  # type: ignore[attr-defined]
    if actor.role not in DASHBOARD_ROLES:
        return render(
            request,
            "403.html",
            {"reason": "年度监测报告供县级管理员、管理中心、机构管理员和医保审核员下载"},
            status=403,
        )
    year = request.GET.get("year", "")
    fmt = request.GET.get("format", "xlsx")
    try:
        if fmt not in reports.FORMATS:
            raise DomainError(f"报告格式“{fmt}”不可用，可选：{'、'.join(reports.FORMATS)}")
        built = reports.build_report(year, actor.scope)
        content = reports.render(built, fmt)
    except DomainError as exc:
        messages.error(request, exc.summary())
        return redirect(reverse("indicators:dashboard"))
    response = HttpResponse(content, content_type=reports.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = reports.content_disposition(reports.file_name(built, fmt))
    return response
