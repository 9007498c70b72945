"""The indicator dashboard (thin): stored results only, never person-level rows."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from yigongti.accounts.choices import Role
from yigongti.accounts.queries import Actor
from yigongti.accounts.rules import AGGREGATE_ROLES
from yigongti.core.errors import AccessDenied, DomainError
from yigongti.indicators import definitions, queries, reports, rules, services

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
    asked = request.GET.get("period", "").strip()[:16]
    period = asked or queries.default_period()
    # A period with no stored results (not computed, or not a period) says so above the
    # default one instead of silently showing another.
    missing = asked if asked and asked not in periods else ""
    if period not in periods:
        period = queries.default_period()
    computed = [i for i in definitions.INDICATORS if i.computed]
    code = request.GET.get("indicator", "").strip()[:16] or (computed[0].code if computed else "")
    # An indicator with no detail here (qualitative, awaiting data, or no such code) says why
    # above the first one instead of silently showing another.
    unshown = _unshown_reason(code) if code not in {i.code for i in computed} else None
    if unshown:
        code = computed[0].code if computed else ""
    chosen = definitions.get(code) if code else None
    # A deployment may hold several counties: the one asked for, else the first in scope.
    counties = queries.list_counties(period, actor.scope) if period else []
    county = rules.choose_county(counties, request.GET.get("county", ""))
    county_code = county[0] if county else ""
    # Townships first: the institution ranking of a share indicator mostly splits by type. An
    # actor who may not open the county (an institution admin) starts at the institutions,
    # where their own are links.
    may_open_county = _may_open(actor, definitions.COUNTY, county_code)
    level = request.GET.get("level") or (
        definitions.TOWNSHIP if may_open_county else definitions.INSTITUTION
    )
    # the ranking is by township or institution; doctors are listed on an institution's page
    if chosen is None or level not in chosen.levels or level not in LEVEL_LABELS:
        level = next((lv for lv in (chosen.levels if chosen else ()) if lv in LEVEL_LABELS), "")
    trend = queries.list_trend(code, period[:4], county_code) if code and period else []
    categories = (
        queries.list_category_breakdown(chosen, period, county_code)
        if chosen and chosen.category_label and period
        else []
    )
    return render(
        request,
        "indicators/dashboard.html",
        {
            "period": period,
            "periods": periods,
            "missing_period": missing,
            "unshown_indicator": unshown,
            "rows": (
                queries.with_verdicts(
                    queries.list_overview(period, county_code), actor.scope, period, county_code
                )
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
            "ranking": _drill_links(
                actor,
                code,
                period,
                level,
                queries.list_ranking(code, period, level, county_code) if level and period else [],
            ),
            "county": county,
            "counties": counties,
            # carried by the page's own links when there is a choice to keep
            "county_query": f"&county={county_code}" if len(counties) > 1 else "",
            "county_drill": county_code if may_open_county else "",
            "own_drill": "" if may_open_county else _own_drill(actor, chosen, period),
            "drillable": DRILLABLE,
            "trend": {
                "months": [m for m, _ in trend],
                "values": [float(v) if v is not None else None for _, v in trend],
                "target": float(chosen.target) if chosen and chosen.target else None,
                "unit": chosen.unit if chosen else "",
                "name": chosen.name if chosen else "",
                # a quarter or a month is marked on the year's line; a year marks nothing
                "selected": rules.months_of(rules.parse_period(period))
                if period and len(period) > 4
                else [],
            },
            "stamp": queries.snapshot_stamp(),
            "band_percent": reports.band_percent(queries.get_amber_band(period)) if period else "",
            "categories": categories,
            "category_chart": {
                "labels": [c.label for c in categories if c.value is not None],
                "names": [c.name for c in categories if c.value is not None],
                "values": [float(c.value) for c in categories if c.value is not None],
                "unit": chosen.unit if chosen else "",
            },
        },
    )


def _own_drill(actor: Actor, chosen: definitions.Indicator | None, period: str) -> str:
    """For an actor who may not open the county: the drill-down of their own institution for
    the chosen indicator, where it is measured by institution and they may open it."""
    own = actor.institution
    if (
        own is None
        or chosen is None
        or not period
        or chosen.code not in DRILLABLE
        or definitions.INSTITUTION not in chosen.levels
        or not _may_open(actor, definitions.INSTITUTION, own.code, own.path)
    ):
        return ""
    return drill_url(chosen.code, period, definitions.INSTITUTION, own.code)


def _unshown_reason(code: str) -> dict[str, str]:
    """Why the dashboard has no trend or ranking for ``code``, which is not computed; for a
    qualitative indicator, also the code its evidence register section has."""
    try:
        indicator = definitions.get(code)
    except KeyError:
        return {"text": f"没有编码为“{code}”的指标", "evidence": ""}
    if indicator.status == "evidence":
        text = f"{indicator.code} {indicator.name}是定性指标，按佐证材料评估"
        return {"text": text, "evidence": indicator.code}
    return {"text": f"{indicator.code} {indicator.name}待接入数据，尚无计算结果", "evidence": ""}


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
        built = reports.build_report(year, actor.scope, request.GET.get("county", "")[:12])
        content = reports.render(built, fmt)
    except DomainError as exc:
        messages.error(request, exc.text())
        return redirect(reverse("indicators:dashboard"))
    response = HttpResponse(content, content_type=reports.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = reports.content_disposition(reports.file_name(built, fmt))
    return response


# ---------------------------------------------------------------------------
# Drill-down: county → township → institution (stored results) → records (on request)
# ---------------------------------------------------------------------------

# Indicators with their own measure have contributing records (a growth rate has none).
DRILLABLE = frozenset(i.code for i in definitions.INDICATORS if i.measure is not None)
LEVEL_NAMES = definitions.LEVEL_WORDS  # 县 / 乡镇 / 机构 / 医生


def _drill_target(
    code: str, period_text: str, level: str, org_code: str
) -> tuple[definitions.Indicator, rules.Period, queries.DrillOrg]:
    """The indicator, period and org of a drill-down URL; 404 for anything unknown."""
    try:
        indicator = definitions.get(code)
        period = rules.parse_period(period_text)
    except (KeyError, ValueError):
        raise Http404("未知的指标或统计期") from None
    if indicator.measure is None or level not in indicator.levels:
        raise Http404("该指标没有此层级的结果")
    org = queries.get_drill_org(level, org_code)
    if org is None:
        raise Http404("未找到该区划或机构")
    return indicator, period, org


def _may_open(actor: Actor, level: str, code: str, path: str = "") -> bool:
    """``path``: an institution's tree path (a doctor's: their employer's)."""
    covered = (
        actor.scope.covers_institution(path)
        if level in (definitions.INSTITUTION, definitions.DOCTOR)
        else actor.scope.covers_division(code)
    )
    return not rules.drill_refusal(actor.role, level, covered)


def _is_last(indicator: definitions.Indicator, level: str) -> bool:
    """The level has nothing below it but the records: a doctor, or an institution of an
    indicator without the doctor level."""
    return level == definitions.DOCTOR or (
        level == definitions.INSTITUTION and definitions.DOCTOR not in indicator.levels
    )


def drill_url(code: str, period: str, level: str, org_code: str, category: str = "") -> str:
    """The lowest level opens its records; any other its drill-down page."""
    last = _is_last(definitions.get(code), level)
    name = "indicators:records" if last else "indicators:drilldown"
    url = reverse(name, args=[code, period, level, org_code])
    return f"{url}?{urlencode({'category': category})}" if category else url


def _crumbs(
    actor: Actor,
    indicator: definitions.Indicator,
    period: str,
    org: queries.DrillOrg,
    category: str,
) -> list[dict[str, str]]:
    """县 › 乡镇 › 机构 › 医生 down to ``org``; links only where the actor may open the page."""
    chain: list[tuple[str, str, str, str]] = []
    if org.county is not None:
        chain.append((definitions.COUNTY, org.county.code, org.county.name, ""))
    if org.township is not None and definitions.TOWNSHIP in indicator.levels:
        chain.append((definitions.TOWNSHIP, org.township.code, org.township.name, ""))
    if org.institution is not None:
        inst = org.institution
        chain.append((definitions.INSTITUTION, inst.code, inst.label, inst.path))
        if org.level == definitions.DOCTOR:
            chain.append((definitions.DOCTOR, org.code, org.name, inst.path))
    crumbs = []
    for level, code, name, path in chain:
        href = ""
        if level in indicator.levels and _may_open(actor, level, code, path):
            href = drill_url(indicator.code, period, level, code, category)
        crumbs.append({"label": f"{LEVEL_NAMES[level]}：{name}", "href": href})
    return crumbs


def _forbidden(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "403.html", {"reason": reason}, status=403)


@login_required
def drilldown(
    request: HttpRequest, code: str, period: str, level: str, org_code: str
) -> HttpResponse:
    """A county's townships (and county-level institutions), a township's institutions or an
    institution's doctors, from stored results only."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    indicator, each, org = _drill_target(code, period, level, org_code)
    category = request.GET.get("category", "")[:32]
    if _is_last(indicator, level):
        return redirect(drill_url(indicator.code, each.code, level, org.code, category))
    try:
        services.check_drill(actor, org)
    except AccessDenied as exc:
        return _forbidden(request, exc.reason)
    children = [
        {
            "row": child,
            "level_name": LEVEL_NAMES[child.level],
            "href": drill_url(indicator.code, each.code, child.level, child.code, category),
        }
        for child in queries.list_drill_children(indicator, each.code, org, category)
    ]
    return render(
        request,
        "indicators/drilldown.html",
        {
            "indicator": indicator,
            "period": each.code,
            "org": org,
            "level_name": LEVEL_NAMES[level],
            "category": category,
            "categories": queries.list_result_categories(indicator, each.code, level, org.code)
            if indicator.category_label
            else [],
            "result": queries.get_result(indicator.code, each.code, level, org.code, category),
            "children": children,
            "crumbs": _crumbs(actor, indicator, each.code, org, category)[:-1],
            "records_url": reverse(
                "indicators:records", args=[indicator.code, each.code, level, org.code]
            )
            + (f"?{urlencode({'category': category})}" if category else ""),
            "stamp": queries.snapshot_stamp(),
        },
    )


@login_required
def records(
    request: HttpRequest, code: str, period: str, level: str, org_code: str
) -> HttpResponse:
    """The records behind one org's value: the measure evaluated over the current snapshot on
    request, 50 a page, residents masked; every view is audited."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    indicator, each, org = _drill_target(code, period, level, org_code)
    category = request.GET.get("category", "")[:32]
    try:  # before anything of the page is read; the service checks again and audits
        services.check_read_records(actor, indicator, each, org, category=category)
    except AccessDenied as exc:
        return _forbidden(request, exc.reason)
    deidentified = actor.role in AGGREGATE_ROLES
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 1
    context: dict[str, Any] = {
        "indicator": indicator,
        "period": each.code,
        "org": org,
        "level_name": LEVEL_NAMES[level],
        "category": category,
        "crumbs": _crumbs(actor, indicator, each.code, org, category),
        "result": queries.get_result(indicator.code, each.code, level, org.code, category),
        "stamp": queries.snapshot_stamp(),
        # aggregate roles see de-identified rows and no timeline links (DESIGN.md)
        "deidentified": deidentified,
        "timeline_links": not deidentified,
        # de-identified: dates to the month (a day, an institution and a diagnosis name a villager)
        "date_format": "Y-m" if deidentified else "Y-m-d",
    }
    # 机构: a county's or township's records narrowed to one institution serving in it
    choices = queries.list_area_institutions(org)
    asked = request.GET.get("institution", "")[:32]
    within = next((i for i in choices if i.code == asked), None)
    context.update(
        {
            "institutions": choices,
            "within": within,
            "within_unknown": asked if asked and within is None else "",
        }
    )
    try:
        found = services.do_read_indicator_records(
            actor, indicator, each, org, category=category, page=page, within=within
        )
    except AccessDenied as exc:
        return _forbidden(request, exc.reason)
    except DomainError as exc:
        context["error"] = exc.text()
        return render(request, "indicators/records.html", context)
    rows = queries.list_record_rows(
        found.rows,
        deidentify_on=each.end if deidentified else None,
    )
    context.update(
        {
            "records": found,
            "rows": rows,
            "columns": queries.record_columns(rows),
            "page": Paginator(range(found.total), found.size).get_page(found.number),
            "offset": (found.number - 1) * found.size,
            "stale": within is None
            and context["result"] is not None
            and (context["result"].numerator, context["result"].denominator)
            != (found.numerator, found.denominator),
        }
    )
    return render(request, "indicators/records.html", context)


def _drill_links(
    actor: Actor, code: str, period: str, level: str, ranking: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each ranking row with ``href``: its drill-down (a township; an institution of an
    indicator with the doctor level) or records (any other institution), where the actor may
    open it."""
    paths = (
        queries.get_institution_paths([r["org_code"] for r in ranking])
        if level == definitions.INSTITUTION
        else {}
    )
    for row in ranking:
        allowed = code in DRILLABLE and _may_open(
            actor, level, row["org_code"], paths.get(row["org_code"], "")
        )
        row["href"] = drill_url(code, period, level, row["org_code"]) if allowed else ""
    return ranking
