"""Template filters for the indicator pages: a definition's sources as users read them."""

from __future__ import annotations

from django import template

from yigongti.indicators import rules

register = template.Library()
register.filter("cite", rules.cite)  # seeds/004 §9 → 《…工作方案》第9条, [V] → 〔原文〕
register.filter("tag_label", rules.tag_label)  # [I] → 据原文推定
