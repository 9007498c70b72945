"""The zh-hans number formats over Django's (config/formats): thousands grouped by three with a
comma where grouping is asked for, nothing else changed."""

from __future__ import annotations

import datetime as dt

from django.contrib.humanize.templatetags.humanize import intcomma
from django.template import Context, Template
from django.utils import translation


def test_counts_are_grouped_by_three_and_the_rest_is_django_s() -> None:
    with translation.override("zh-hans"):
        assert intcomma(280500) == "280,500"  # Django's zh_Hans locale: "280500"
        assert intcomma(1234567) == "1,234,567"
        shown = Template('{{ year }} {{ id }} {{ day|date }} {{ x|floatformat:"2g" }}').render(
            Context({"year": 2025, "id": 439901000000, "day": dt.date(2025, 3, 1), "x": 6028.9})
        )
    # ids and years are not grouped (USE_THOUSAND_SEPARATOR off); dates as Django's zh_Hans
    assert shown == "2025 439901000000 2025年3月1日 6,028.90"
