"""Template filters for the indicator pages: a definition's sources as users read them."""

from __future__ import annotations

from typing import Any

from django import template

from yigongti.indicators import definitions, rules

register = template.Library()
register.filter("cite", rules.cite)  # seeds/004 §9 → 《…工作方案》第9条, [V] → 〔原文〕
register.filter("tag_label", rules.tag_label)  # [I] → 据原文推定
register.filter("value_text", rules.value_text)  # 6028.92, 元 → 6,028.92 元; None → —


@register.filter
def numerator_text(amount: Any, indicator: definitions.Indicator) -> str:
    """A numerator in the unit users read (ref-06's bed-seconds as 床日), with thousands
    separators (``50,214,107.52``, as the reports); ``rules.amount_text``."""
    return rules.amount_text(
        amount, indicator.numerator_unit, indicator.numerator_per, grouped=True
    )


@register.filter
def denominator_text(amount: Any, indicator: definitions.Indicator) -> str:
    return rules.amount_text(
        amount, indicator.denominator_unit, indicator.denominator_per, grouped=True
    )


@register.filter
def category_text(category: str, indicator: definitions.Indicator) -> str:
    """A stored category as users read it: an institution tier in Chinese (``township`` →
    乡镇); an ICD-10 chapter (Ⅸ) or any other category as stored."""
    if indicator.category_label == definitions.TIER_LABEL:
        return rules.TIER_LABELS.get(category, category)
    return category
