"""Indicators computed on DuckDB from a snapshot of the hand-built county (conftest.py).

Every expected numerator and denominator is written out below from the rows of the fixture.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from yigongti.core.errors import DomainError
from yigongti.geo.models import Division
from yigongti.indicators.models import IndicatorResult
from yigongti.indicators.services import do_compute

pytestmark = pytest.mark.django_db
D = Decimal


def results(
    code: str, period: str, level: str
) -> dict[str, tuple[Decimal, Decimal, Decimal | None]]:
    return {
        r.org_code: (r.numerator, r.denominator, r.value)
        for r in IndicatorResult.objects.filter(indicator_code=code, period=period, level=level)
    }


def county_code() -> str:
    return Division.objects.get(level="county").code


def hekou_code() -> str:
    return Division.objects.get(level="township", name="河口乡").code


def test_county_year_2025(county: Path) -> None:
    result = do_compute("2025", root=county)
    assert result.indicators == [
        "nhc-07",
        "nhc-08",
        "nhc-09",
        "nhc-10",
        "nhc-10g",
        "nhc-11",
        "nhc-12",
        *(f"op-0{n}" for n in range(1, 7)),
        *(f"ref-0{n}" for n in range(1, 7)),
    ]
    c = county_code()
    # 07: visits E1, E2 (基层) of E1–E4 (E5 is 2024)
    assert results("nhc-07", "2025", "county") == {c: (D(2), D(4), D("50.000000"))}
    # 08: in county 30 + 50 + 200 + 0 + 6000 (S1, discharged 2025) + 1500 + 0 = 7780;
    #     outside 14000 (X1) + 300 (X3); the pharmacy (X2) is excluded
    assert results("nhc-08", "2025", "county") == {c: (D(7780), D(22080), D("35.235507"))}
    # 09: 基层 30 + 50 + 1500 = 1580 of 7780
    assert results("nhc-09", "2025", "county") == {c: (D(1580), D(7780), D("20.308483"))}
    # 10: insured stays discharged in 2025: S1 8000 + S2 2000 over 2 (S3 uninsured)
    assert results("nhc-10", "2025", "county") == {c: (D(10000), D(2), D("5000.000000"))}
    # 11: insured stays in county 2 (S1, S2) of 3 (X1 outside)
    assert results("nhc-11", "2025", "county") == {c: (D(2), D(3), D("66.666667"))}
    # 12: 中医类 E2, E4 of 4 visits
    assert results("nhc-12", "2025", "county") == {c: (D(2), D(4), D("50.000000"))}


def test_township_and_institution_levels(county: Path) -> None:
    do_compute("2025", root=county)
    # The county hospitals serve the county: no township; 河口乡 has its centre and 桃源村.
    # 12: 中医类 E2 (QH1002) of E1 (QH2003), E2 in 河口乡; E4 (QH0002) of E3, E4 at the hospitals
    assert results("nhc-12", "2025", "township") == {hekou_code(): (D(1), D(2), D("50.000000"))}
    assert results("nhc-12", "2025", "institution") == {
        "QH0001": (D(0), D(1), D("0.000000")),
        "QH0002": (D(1), D(1), D("100.000000")),
        "QH1002": (D(1), D(1), D("100.000000")),
        "QH2003": (D(0), D(1), D("0.000000")),
    }
    # The 基层 shares are county figures only: every member of a township is 基层, and an
    # institution is all 基层 or none (100 % / 0 % says nothing)
    for code in ("nhc-07", "nhc-09"):
        assert results(code, "2025", "township") == {}
        assert results(code, "2025", "institution") == {}
    assert results("nhc-10", "2025", "institution") == {
        "QH0001": (D(8000), D(1), D("8000.000000")),
        "QH1002": (D(2000), D(1), D("2000.000000")),
    }
    assert results("nhc-08", "2025", "institution") == {}  # county level only


def test_period_boundaries(county: Path) -> None:
    do_compute("2024-12", root=county)
    do_compute("2025-Q1", root=county)
    c = county_code()
    # S1 was admitted in December but is counted when discharged (January)
    assert results("nhc-10", "2024-12", "county") == {}
    assert results("nhc-10", "2025-Q1", "county") == {c: (D(8000), D(1), D("8000.000000"))}
    assert results("nhc-07", "2024-12", "county") == {c: (D(1), D(1), D("100.000000"))}
    # Q1: no stays outside the county yet, so every insured stay was in the county
    assert results("nhc-11", "2025-Q1", "county") == {c: (D(1), D(1), D("100.000000"))}


def test_recompute_replaces_and_refusals(county: Path) -> None:
    do_compute("2025", root=county)
    first = IndicatorResult.objects.count()
    do_compute("2025", root=county)
    assert IndicatorResult.objects.count() == first
    with pytest.raises(DomainError, match="统计期“2025-13”无效"):
        do_compute("2025-13", root=county)
    with pytest.raises(DomainError, match="还没有分析快照"):
        do_compute("2025", root=county / "nothing-here")
    # a period with no month of data is refused, not stored as zeros (op-01 read 0 per
    # 1,000 residents for 2030)
    for period in ("2026", "2024-11", "2030-Q1"):
        with pytest.raises(DomainError) as refused:
            do_compute(period, root=county)
        assert refused.value.text() == (
            f"统计期 {period} 没有数据（快照的数据为 2024-12 至 2025-09），未计算：结果会全是 0"
        )
    assert IndicatorResult.objects.count() == first
    do_compute("2024-12", root=county)  # the first month with data


def test_command(county: Path, settings: Any, capsys: pytest.CaptureFixture[str]) -> None:
    settings.SNAPSHOT_ROOT = county
    call_command("indicators", "compute", "--period", "2025")
    assert "统计期 2025：19 项指标" in capsys.readouterr().out


def test_breakdown_stores_quarters_and_months(county: Path) -> None:
    do_compute("2025", root=county, breakdown=True)
    c = county_code()
    months = {
        r.period: (r.numerator, r.denominator)
        for r in IndicatorResult.objects.filter(indicator_code="nhc-07", level="county")
    }
    # visits only in March 2025: the year, Q1 and March have rows; other months none
    assert months == {"2025": (D(2), D(4)), "2025-Q1": (D(2), D(4)), "2025-03": (D(2), D(4))}
    assert results("nhc-10", "2025-06", "county") == {c: (D(2000), D(1), D("2000.000000"))}


def test_command_if_missing_skips_when_current(
    county: Path, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.SNAPSHOT_ROOT = county
    call_command("indicators", "compute", "--period", "2025", "--if-missing")
    assert "统计期 2025：19 项指标" in capsys.readouterr().out
    call_command("indicators", "compute", "--period", "2025", "--if-missing")
    assert "已有当前快照的结果，跳过" in capsys.readouterr().out


def test_export_csv_and_xlsx(
    county: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import csv

    from openpyxl import load_workbook

    do_compute("2025", root=county)
    out = tmp_path / "r.csv"
    call_command("indicators", "export", "--period", "2025", "--format", "csv", "--out", str(out))
    rows = list(csv.reader(out.read_text("utf-8-sig").splitlines()))
    assert rows[0] == [
        "indicator_code",
        "period",
        "org_code",
        "numerator",
        "denominator",
        "value",
        "category",
    ]
    c = county_code()
    assert ["nhc-08", "2025", c, "7780.00", "22080.00", "35.235507", ""] in rows
    assert ["nhc-12", "2025", "QH1002", "1.00", "1.00", "100.000000", ""] in rows
    assert rows[1][:3] == ["nhc-07", "2025", c]
    # county first, then townships, institutions
    assert [r[2] for r in rows if r[0] == "nhc-12"] == [
        c,
        hekou_code(),
        "QH0001",
        "QH0002",
        "QH1002",
        "QH2003",
    ]
    assert len(rows) - 1 == IndicatorResult.objects.filter(period="2025").count()
    xlsx = tmp_path / "r.xlsx"
    call_command("indicators", "export", "--period", "2025", "--format", "xlsx", "--out", str(xlsx))
    sheet = load_workbook(xlsx).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == rows[0]
    assert ["nhc-11", "2025", c, 2, 3, 66.666667, ""] in values
    with pytest.raises(Exception, match="统计期 2024 没有指标结果"):
        call_command("indicators", "export", "--period", "2024", "--out", str(tmp_path / "x.csv"))


def test_export_and_report_refusals_are_chinese_and_write_nothing(
    county: Path, tmp_path: Path, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    from django.core.management.base import CommandError

    from yigongti.indicators.management.commands.indicators import Command

    settings.SNAPSHOT_ROOT = county
    do_compute("2025", root=county)
    refusals = {
        ("export", "--period", "2025-13"): "统计期“2025-13”无效，应为 2025、2025-Q3 或 2025-07",
        ("export", "--period", "2024"): (
            "统计期 2024 没有指标结果：请先运行 yigongti indicators compute --period 2024"
        ),
        ("export", "--period", "2025", "--out", str(out / "no" / "x.csv")): (
            f"无法写入 {out / 'no' / 'x.csv'}：目录 {out / 'no'} 不存在"
        ),
        ("export", "--period", "2025", "--format", "xlsx", "--out", str(out)): (
            f"无法写入 {out}：这是一个目录，请指定文件名"
        ),
        ("report", "--year", "2025", "--out", str(out / "no" / "r.xlsx")): (
            f"无法写入 {out / 'no' / 'r.xlsx'}：目录 {out / 'no'} 不存在"
        ),
        ("compute", "--period", "2031"): (
            "统计期 2031 没有数据（快照的数据为 2024-12 至 2025-09），未计算：结果会全是 0"
        ),
    }
    for args, message in refusals.items():
        with pytest.raises(CommandError) as refused:
            call_command("indicators", *args)
        assert str(refused.value) == message
    assert list(out.iterdir()) == []
    # on the command line: "错误：…" on stderr (not Django's "CommandError: …"), exit 1
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        Command().run_from_argv(["yigongti", "indicators", "export", "--period", "abc"])
    assert exited.value.code == 1
    assert capsys.readouterr().err == "错误：统计期“abc”无效，应为 2025、2025-Q3 或 2025-07\n"


def test_progress_starts_at_zero_and_ticks_once_per_query(
    county: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from yigongti.indicators import services

    monkeypatch.setattr(services, "STORE_BATCH", 25)
    calls: list[tuple[str, int, int]] = []
    stored = do_compute("2025", root=county, progress=lambda *a: calls.append(a)).results
    computing = [c for c in calls if c[0] == "计算指标"]
    total = computing[0][2]
    assert calls[0] == ("计算指标", 0, total)  # shown before the first (largest) query runs
    assert computing == [("计算指标", done, total) for done in range(total + 1)]
    assert total >= 2
    # then the rows saved, a tick per batch, ending at all of them
    assert stored > 50  # 62 rows on 2026-12-03: three batches
    saving = [(done, n) for stage, done, n in calls[len(computing) :] if stage == "保存结果"]
    assert len(saving) == len(calls) - len(computing)
    assert saving == [(min(d, stored), stored) for d in range(25, stored + 25, 25)]


def test_stored_results_read_back_as_evaluated(county: Path) -> None:
    """What ``_store`` inserts through the cursor reads back through the ORM exactly as the
    evaluation computed it: every row, decimals to the last place, no value as NULL, the
    snapshot, the engine and the time of the compute."""
    import datetime as dt

    from yigongti.core import clock
    from yigongti.indicators.services import evaluate, parse_periods

    moment = dt.datetime(2026, 3, 1, 9, 30, 15, tzinfo=dt.UTC)
    with clock.frozen(moment):
        do_compute("2025", root=county, breakdown=True)
    # the fixture's data end in September (a settlement; the visits in July): the fourth
    # quarter and its months are not stored as zeros
    after = {"2025-Q4", "2025-10", "2025-11", "2025-12"}
    with_data = [p for p in parse_periods("2025", breakdown=True) if p.code not in after]
    evaluated = evaluate(with_data, root=county)
    assert not IndicatorResult.objects.filter(period__in=after).exists()
    keys = ("indicator_code", "period", "level", "org_code", "category")
    stored = {tuple(getattr(r, k) for k in keys): r for r in IndicatorResult.objects.all()}
    assert len(stored) == len(evaluated.rows) > 290
    for row in evaluated.rows:
        got = stored[tuple(getattr(row, k) for k in keys)]
        assert (got.numerator, got.denominator, got.value) == (
            row.numerator,
            row.denominator,
            row.value,
        )
        # the digits as well, to the field's places: what the pages and exports print
        cents, places = Decimal("0.01"), Decimal("0.000001")
        assert (str(got.numerator), str(got.denominator), str(got.value)) == (
            str(row.numerator.quantize(cents)),
            str(row.denominator.quantize(cents)),
            str(None if row.value is None else row.value.quantize(places)),
        ), row
        assert (got.snapshot_id, got.engine, got.computed_at) == (
            evaluated.snapshot_id,
            "duckdb",
            moment,
        )
    assert any(r.value is None for r in evaluated.rows)  # a zero denominator among them


def test_evaluate_only_some_indicators(county: Path) -> None:
    """``only`` evaluates the indicators asked for, a growth rate with its base computed but
    not returned; the rows equal the full evaluation's; an unknown code is refused."""
    from yigongti.indicators.services import evaluate, parse_periods

    periods = parse_periods("2025")
    full = evaluate(periods, root=county)
    some = evaluate(periods, root=county, only=["nhc-10g", "nhc-07"])
    assert some.indicators == ["nhc-07", "nhc-10g"]  # in the order of the definitions
    assert some.rows == [r for r in full.rows if r.indicator_code in {"nhc-07", "nhc-10g"}]
    assert {r.indicator_code for r in some.rows} == {"nhc-07", "nhc-10g"}
    with pytest.raises(DomainError) as caught:
        evaluate(periods, root=county, only=["nhc-07", "xx-99"])
    assert caught.value.field_errors == {"only": ["没有指标：xx-99"]}
