"""Periods and values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yigongti.indicators import rules


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2025", dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
        ("2025-Q1", dt.date(2025, 1, 1), dt.date(2025, 3, 31)),
        ("2025-q3", dt.date(2025, 7, 1), dt.date(2025, 9, 30)),
        ("2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        ("2025-12", dt.date(2025, 12, 1), dt.date(2025, 12, 31)),
    ],
)
def test_periods(text: str, start: dt.date, end: dt.date) -> None:
    period = rules.parse_period(text)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize("text", ["", "25", "2025-13", "2025-Q5", "2025/07", "2025-7", "明年"])
def test_bad_periods_refused_in_chinese(text: str) -> None:
    with pytest.raises(ValueError, match="应为 2025、2025-Q3 或 2025-07"):
        rules.parse_period(text)


@given(st.integers(1900, 2999), st.integers(1, 12))
def test_months_tile_their_quarter_and_year(year: int, month: int) -> None:
    m = rules.parse_period(f"{year}-{month:02d}")
    q = rules.parse_period(f"{year}-Q{(month - 1) // 3 + 1}")
    y = rules.parse_period(str(year))
    assert y.start <= q.start <= m.start <= m.end <= q.end <= y.end
    assert (m.end + dt.timedelta(days=1)).day == 1


def test_previous_year() -> None:
    assert rules.previous_year(rules.parse_period("2025-Q3")).code == "2024-Q3"
    assert rules.previous_year(rules.parse_period("2025")).code == "2024"


def test_ratio() -> None:
    assert rules.ratio(Decimal(7780), Decimal(22080), 100) == Decimal("35.235507")
    assert rules.ratio(Decimal(2), Decimal(3), 100) == Decimal("66.666667")
    assert rules.ratio(Decimal(1), Decimal(0), 100) is None
    assert rules.ratio(Decimal(10000), Decimal(2)) == Decimal("5000.000000")


def test_parts_of_year() -> None:
    parts = rules.parts_of_year(rules.parse_period("2025"))
    assert [p.code for p in parts][:5] == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2025-01"]
    assert len(parts) == 16 and parts[-1].code == "2025-12"
    with pytest.raises(ValueError, match="只有年度统计期可以细分"):
        rules.parts_of_year(rules.parse_period("2025-Q1"))


@pytest.mark.parametrize(
    ("value", "target", "direction", "expected"),
    [
        ("65", "65", "higher", "green"),
        ("70", "65", "higher", "green"),
        ("58.5", "65", "higher", "amber"),  # exactly 90% of the target
        ("58.49", "65", "higher", "red"),
        ("10", "10", "lower", "green"),
        ("11.1", "10", "lower", "amber"),  # 11.1 × 0.9 = 9.99 ≤ 10
        ("11.2", "10", "lower", "red"),
        (None, "65", "higher", "none"),
        ("50", None, "higher", "none"),
        ("50", "65", "", "none"),
    ],
)
def test_status(value: str | None, target: str | None, direction: str, expected: str) -> None:
    to_d = lambda v: None if v is None else Decimal(v)  # noqa: E731
    assert rules.status(to_d(value), to_d(target), direction, Decimal("0.9")) == expected


@pytest.mark.parametrize(
    ("inst_type", "tier"),
    [
        ("general_hospital", "county"),
        ("tcm_hospital", "county"),
        ("mch_hospital", "county"),
        ("public_health", "county"),
        ("township_health_centre", "township"),
        ("community_health_centre", "township"),
        ("community_health_station", "village"),
        ("village_clinic", "village"),
        ("private", "other"),
        ("no_such_type", "other"),
    ],
)
def test_institution_tier(inst_type: str, tier: str) -> None:
    assert rules.institution_tier(inst_type) == tier


def test_every_institution_type_has_a_labelled_tier() -> None:
    from yigongti.organizations.choices import InstitutionType

    tiers = {rules.institution_tier(t) for t in InstitutionType.values}
    assert tiers == set(rules.TIER_LABELS) == set(rules.TIER_NAMES)
    assert [rules.TIER_LABELS[t] for t in ("county", "township", "village")] == [
        "县级",
        "乡镇",
        "村",
    ]


def test_growth_rounds_both_values_to_cents_first() -> None:
    d = Decimal
    # 10000 / 2 = 5000.00 against 7600.01 / 2 = 3800.005 → 3800.01 (half up)
    assert rules.growth((d(10000), d(2)), (d("7600.01"), d(2))) == (d("1199.99"), d("3800.01"))
    assert rules.ratio(*rules.growth((d(10000), d(2)), (d("7600.01"), d(2))), 100) == d("31.578601")
    assert rules.growth((d(900), d(1)), (d(1000), d(1))) == (d(-100), d(1000))  # a fall
    assert rules.per_unit(d(1), d(3)) == d("0.33") and rules.per_unit(d(1), d(0)) is None


@pytest.mark.parametrize(
    ("current", "previous"),
    [
        ((Decimal(100), Decimal(1)), None),  # no stays a year earlier
        (None, (Decimal(100), Decimal(1))),  # none this period
        ((Decimal(100), Decimal(1)), (Decimal(0), Decimal(0))),
        ((Decimal(100), Decimal(1)), (Decimal(0), Decimal(2))),  # last year's value 0.00
    ],
)
def test_growth_without_both_values_is_zero_over_zero(
    current: tuple[Decimal, Decimal] | None, previous: tuple[Decimal, Decimal] | None
) -> None:
    assert rules.growth(current, previous) == (Decimal(0), Decimal(0))
    assert rules.ratio(*rules.growth(current, previous), 100) is None


@pytest.mark.parametrize(
    ("chapter", "number"),
    [("I", 1), ("IV", 4), ("IX", 9), ("XIV", 14), ("XIX", 19), ("XXII", 22), ("未知", 0), ("", 0)],
)
def test_chapter_number(chapter: str, number: int) -> None:
    assert rules.chapter_number(chapter) == number


@pytest.mark.parametrize(
    ("county", "prefixes", "visible"),
    [
        ("439901", None, True),  # no area limit: every county
        ("439901", ("439901",), True),  # the county's own medcom
        ("439901", ("439901102",), True),  # a township institution inside it
        ("439901", ("4399",), True),  # a city region containing it
        ("439901", ("43",), True),  # a province
        ("439902", ("439901",), False),  # the neighbouring county
        ("439902", ("439901102",), False),
        ("439901", ("4398", "439902"), False),
        ("439901", ("439902", "439901"), True),  # any one of several areas
        ("439901", (), False),  # an empty scope sees nothing
    ],
)
def test_county_visible(county: str, prefixes: tuple[str, ...] | None, visible: bool) -> None:
    assert rules.county_visible(county, prefixes) is visible


def test_choose_county() -> None:
    both = [("439901000000", "青禾县"), ("439902000000", "松岭县")]
    assert rules.choose_county(both, "439902000000") == ("439902000000", "松岭县")
    assert rules.choose_county(both) == ("439901000000", "青禾县")  # none asked: the first
    assert rules.choose_county(both, "439903000000") == ("439901000000", "青禾县")  # not seen
    assert rules.choose_county([], "439901000000") is None


def test_register_of() -> None:
    """The county's own medcom first, else a medcom of a division containing it, else none."""
    qinghe, songling, city = "439901000000", "439902000000", "439900000000"
    assert rules.register_of([qinghe, songling], songling) == 1
    assert rules.register_of([city, songling], songling) == 1  # its own before the city's
    assert rules.register_of([qinghe, city], songling) == 1  # a city-wide group contains it
    assert rules.register_of([qinghe], songling) is None  # never another county's verdict
    assert rules.register_of([], qinghe) is None


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "seeds/004 §9：至少 1/4",
            "《贵州省加快推进紧密型城市医疗集团建设工作方案》第9条：至少 1/4",
        ),
        (
            "seeds/002 三(一)4(2)；seeds/004 9 [V]",
            "《南县全面推进紧密型县域医疗卫生共同体建设实施方案》三(一)4(2)；"
            "《贵州省加快推进紧密型城市医疗集团建设工作方案》第9条〔原文〕",
        ),
        (
            "seeds/000 13 [V]",
            "《关于开展紧密型县域医疗卫生共同体建设试点的指导方案》第13条〔原文〕",
        ),
        (
            "seeds/001 理事会每季度至少1次 [V]",
            "《张店区区域医疗卫生机构组建医疗集团实施方案（试行）》理事会每季度至少1次〔原文〕",
        ),
        ("一般为 1%–3%（参考值 [EST]）", "一般为 1%–3%（参考值〔估算〕）"),
        ("seeds/009 5", "seeds/009 5"),  # an unknown document stays as it is
        ("门急诊人次 ÷ 常住人口", "门急诊人次 ÷ 常住人口"),
    ],
)
def test_cite(text: str, shown: str) -> None:
    assert rules.cite(text) == shown


def test_tag_labels() -> None:
    assert [rules.tag_label(t) for t in ("[V]", "[S]", "[I]", "[M]", "[EST]", "[X]")] == [
        "原文",
        "二手资料",
        "据原文推定",
        "待核实",
        "估算",
        "[X]",
    ]


def test_every_source_users_see_is_cited_by_title() -> None:
    from yigongti.indicators import definitions

    texts = [i.caliber for i in definitions.INDICATORS]
    texts += [i.target_source for i in definitions.INDICATORS]
    texts += [c.source for i in definitions.INDICATORS for c in definitions.criteria_of(i.code)]
    for text in texts:
        shown = rules.cite(text)
        assert "seeds/" not in shown and "[" not in shown and "§" not in shown, shown
        assert "calibration" not in shown and "scheduling." not in shown, shown


def test_amounts_in_the_unit_users_read() -> None:
    D = Decimal
    assert rules.shown_amount(D(216000), 86400) == D("2.50")
    assert rules.shown_amount(D("12.34")) == D("12.34")  # stored as shown: untouched
    assert rules.shown_amount(D(5400), 3600) == D("1.50")
    assert rules.amount_text(None) == "—"
    assert rules.amount_text(D("12.00")) == "12"
    assert rules.amount_text(D("12.5")) == "12.50"
    assert rules.amount_text(D(216000), "床日", 86400) == "2.50 床日"
    # converted measures and money always with two decimals, so a column reads alike
    assert rules.amount_text(D(1), "床日", 86400) == "0.00 床日"  # one bed-second
    assert rules.amount_text(D(7200), "小时", 3600) == "2.00 小时"
    assert rules.amount_text(D("6000.00"), "元") == "6000.00"
    assert rules.amount_text(D("6000.5"), "元") == "6000.50"
    # counts whole when whole
    assert rules.amount_text(D(7200), "件", 3600) == "2 件"
    assert rules.amount_text(D(5400), "件", 3600) == "1.50 件"
    assert rules.amount_text(D("14.00"), "人次") == "14"
    assert (rules.is_count("", 1), rules.is_count("元", 1), rules.is_count("件", 3600)) == (
        True,
        False,
        True,
    )
    assert rules.is_count("床日", 86400) is False


def test_values_on_a_page_have_separators_and_their_unit() -> None:
    D = Decimal
    assert rules.value_text(D("6028.92"), "元") == "6,028.92 元"
    assert rules.value_text(D("60.6125"), "%") == "60.61%"
    assert rules.value_text(D("6120"), "人次/千人") == "6,120.00 人次/千人"
    assert rules.value_text(D("-0.6185"), "%") == "-0.62%"
    assert rules.value_text(D("1234567.5")) == "1,234,567.50"
    assert rules.value_text(None, "%") == "—"
    assert rules.value_text("", "%") == "—"  # a template's missing result


def test_the_two_indicators_stored_in_seconds_say_so() -> None:
    from yigongti.indicators import definitions, reports

    beds, hours = definitions.get("ref-06"), definitions.get("ref-04")
    assert (beds.numerator_unit, beds.numerator_per) == ("床日", 86400)
    assert (beds.denominator_unit, beds.denominator_per) == ("床日", 86400)
    assert (hours.numerator_unit, hours.numerator_per, hours.denominator_per) == (
        "小时",
        3600,
        3600,
    )
    assert reports.format_amount(Decimal(432000), "床日", 86400) == "5.00 床日"
    assert reports.format_amount(Decimal(15 * 365 * 86400), "床日", 86400) == "5,475.00 床日"
    assert reports.amount_format(Decimal("5.00"), "床日", 86400) == '#,##0.00" 床日"'
    assert reports.amount_format(Decimal("2.50"), "床日", 86400) == '#,##0.00" 床日"'
    assert reports.amount_format(Decimal("475"), "件", 3600) == '#,##0" 件"'
    assert reports.format_amount(Decimal(3), "", 1) == "3"


def test_months_of_a_period() -> None:
    assert rules.months_of(rules.parse_period("2025-Q3")) == ["2025-07", "2025-08", "2025-09"]
    assert rules.months_of(rules.parse_period("2025-02")) == ["2025-02"]
    assert len(rules.months_of(rules.parse_period("2025"))) == 12


def test_a_report_year_s_data_until() -> None:
    assert rules.data_until_in("2025-12", 2024) == "2024-12"
    assert rules.data_until_in("2025-07", 2025) == "2025-07"
    assert rules.data_until_in("2025-07", 2026) == "2025-07"
    assert rules.data_until_in("", 2025) == ""


def test_outside_data_is_a_period_with_no_month_of_the_snapshot() -> None:
    p = rules.parse_period
    assert rules.outside_data(p("2023"), "2024-01", "2025-12")
    assert rules.outside_data(p("2026-01"), "2024-01", "2025-12")
    assert rules.outside_data(p("2025"), "", "")
    for inside in ("2024", "2025", "2024-01", "2025-12", "2025-Q4"):
        assert not rules.outside_data(p(inside), "2024-01", "2025-12")
    # a year the data only begin in is not outside
    assert not rules.outside_data(p("2024"), "2024-12", "2025-09")
