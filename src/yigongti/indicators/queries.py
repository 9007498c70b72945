"""Readers of stored indicator results (dashboards never read person-level rows)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from yigongti.analytics.queries import get_manifest
from yigongti.core.queries import get_parameter
from yigongti.encounters.queries import list_icd10_chapters
from yigongti.geo.models import Division
from yigongti.indicators import definitions, rules
from yigongti.indicators.models import IndicatorResult
from yigongti.organizations.models import Institution


@dataclass(frozen=True)
class OverviewRow:
    indicator: definitions.Indicator
    numerator: Decimal | None
    denominator: Decimal | None
    value: Decimal | None
    status: str


def list_periods() -> list[str]:
    """Periods with results, newest first: years, then quarters, then months."""
    periods = set(IndicatorResult.objects.values_list("period", flat=True).distinct())
    return sorted(periods, key=lambda p: (p[:4], len(p) == 4, p), reverse=True)


def default_period() -> str:
    years = [p for p in list_periods() if len(p) == 4]
    return years[0] if years else ""


def list_overview(period: str) -> list[OverviewRow]:
    """Every indicator with its county value for the period (none where not computed)."""
    found = {
        r.indicator_code: r
        for r in IndicatorResult.objects.filter(
            period=period, level=definitions.COUNTY, category=""
        )
    }
    try:
        end = rules.parse_period(period).end
    except ValueError:
        end = dt.date.today()
    band = Decimal(str(get_parameter("indicators.amber_band", end)))
    rows = []
    for indicator in definitions.INDICATORS:
        result = found.get(indicator.code)
        value = result.value if result else None
        target = Decimal(indicator.target) if indicator.target else None
        rows.append(
            OverviewRow(
                indicator,
                result.numerator if result else None,
                result.denominator if result else None,
                value,
                rules.status(value, target, indicator.direction, band),
            )
        )
    return rows


def list_trend(code: str, year: str) -> list[tuple[str, Decimal | None]]:
    """The county value of each month of the year (``None`` where there is no result)."""
    values = {
        r.period: r.value
        for r in IndicatorResult.objects.filter(
            indicator_code=code,
            level=definitions.COUNTY,
            category="",
            period__startswith=f"{year}-",
        )
        if len(r.period) == 7 and "Q" not in r.period
    }
    return [(f"{year}-{m:02d}", values.get(f"{year}-{m:02d}")) for m in range(1, 13)]


def list_ranking(code: str, period: str, level: str) -> list[dict[str, Any]]:
    """Institutions (or townships) by value, best first for the indicator's direction."""
    indicator = definitions.get(code)
    results = list(
        IndicatorResult.objects.filter(indicator_code=code, period=period, level=level, category="")
    )
    names: dict[str, str] = {}
    if level == definitions.INSTITUTION:
        names = dict(
            Institution.objects.filter(code__in=[r.org_code for r in results]).values_list(
                "code", "name"
            )
        )
    else:
        names = dict(
            Division.objects.filter(code__in=[r.org_code for r in results]).values_list(
                "code", "name"
            )
        )
    lower_first = indicator.direction == "lower"

    def order(r: IndicatorResult) -> tuple[bool, Decimal, str]:
        value = r.value if r.value is not None else Decimal(0)
        return (r.value is None, value if lower_first else -value, r.org_code)

    return [
        {
            "org_code": r.org_code,
            "name": names.get(r.org_code, r.org_code),
            "numerator": r.numerator,
            "denominator": r.denominator,
            "value": r.value,
        }
        for r in sorted(results, key=order)
    ]


def get_county_code(period: str) -> str:
    """The county whose results the overview shows (the first county with results)."""
    return (
        IndicatorResult.objects.filter(period=period, level=definitions.COUNTY, category="")
        .order_by("org_code")
        .values_list("org_code", flat=True)
        .first()
        or ""
    )


def category_names(indicator: definitions.Indicator) -> dict[str, tuple[str, str]]:
    """category → (label, name) of a broken-down indicator, in display order: the institution
    tiers (县级 / 乡镇 / 村 / 其他) or the ICD-10 chapters of the catalogue (I … XXII)."""
    if indicator.category_label == definitions.TIER_LABEL:
        return {k: (label, rules.TIER_NAMES[k]) for k, label in rules.TIER_LABELS.items()}
    if indicator.category_label == definitions.CHAPTER_LABEL:
        chapters = list_icd10_chapters()
        return {c: (c, chapters[c]) for c in sorted(chapters, key=rules.chapter_number)}
    return {}


@dataclass(frozen=True)
class CategoryRow:
    category: str
    label: str  # 县级 | IX …
    name: str  # what the tier holds | the chapter's name
    numerator: Decimal
    denominator: Decimal
    value: Decimal | None  # None: no result or a zero denominator ("—")


def list_category_breakdown(indicator: definitions.Indicator, period: str) -> list[CategoryRow]:
    """The county's results of a broken-down indicator for every category in display order
    (no value where it has none), then any other stored category (e.g. 未知)."""
    county = get_county_code(period)
    stored = {
        r.category: r
        for r in IndicatorResult.objects.filter(
            indicator_code=indicator.code,
            period=period,
            level=definitions.COUNTY,
            org_code=county,
        ).exclude(category="")
    }
    names = category_names(indicator)
    rows = []
    for category in [*names, *sorted(set(stored) - set(names))]:
        label, name = names.get(category, (category, ""))
        r = stored.get(category)
        rows.append(
            CategoryRow(
                category,
                label,
                name,
                r.numerator if r else Decimal(0),
                r.denominator if r else Decimal(0),
                r.value if r else None,
            )
        )
    return rows


# The six columns, then the category of a broken-down indicator ("" for totals).
EXPORT_COLUMNS = (
    "indicator_code",
    "period",
    "org_code",
    "numerator",
    "denominator",
    "value",
    "category",
)


def list_export_rows(
    period: str,
) -> list[tuple[str, str, str, Decimal, Decimal, Decimal | None, str]]:
    """Every stored result of a period, in indicator, level, org and category order."""
    order = {definitions.COUNTY: 0, definitions.TOWNSHIP: 1, definitions.INSTITUTION: 2}
    results = sorted(
        IndicatorResult.objects.filter(period=period),
        key=lambda r: (r.indicator_code, order.get(r.level, 9), r.org_code, r.category),
    )
    return [
        (r.indicator_code, r.period, r.org_code, r.numerator, r.denominator, r.value, r.category)
        for r in results
    ]


def has_results(period: str) -> bool:
    """Results of the period from the current snapshot exist."""
    snapshot_id = get_manifest().get("snapshot_id")
    return bool(snapshot_id) and (
        IndicatorResult.objects.filter(period=period, snapshot_id=snapshot_id).exists()
    )


def snapshot_stamp() -> dict[str, str]:
    """数据截至: the snapshot's last month and when it was taken."""
    manifest = get_manifest()
    return {
        "data_until": manifest.get("data_until", ""),
        "taken_at": manifest.get("taken_at", "")[:16].replace("T", " "),
        "snapshot_id": manifest.get("snapshot_id", ""),
    }
