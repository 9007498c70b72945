"""Engine conformance: every computed indicator on DuckDB and on Spark gives the same results.

Two snapshots: the demo scenario cut to 3,000 residents (the whole generator: two years of
encounters and settlements so that growth rates have a base, referrals, the lead hospital's
sessions, bookings and beds) and the hand-built county of conftest.py (period boundaries,
out-of-county and pharmacy settlements, the uninsured). Both engines evaluate the same
periods; the lists of results must be identical, row for row: the same indicators, periods,
levels, organisations and categories, and equal Decimals (compared by value and by their text,
so ``1.10`` never passes for ``1.1``). On the generated data every computed indicator must have
a county value in some period, so none passes by being empty on both engines.

Spark spends about half a second of CPU on each query however small, and ``evaluate`` runs one
query per indicator and period, so the periods are chosen rather than all 17 of a year's
breakdown: on generated data the year, its quarters, its first and last months (every date
filter shape: year, quarter, month, both year ends) and the month after it (the sessions);
on the hand-built county the months and quarters that hold its boundary cases.

One Spark session (local[2]) serves the whole module and is stopped at its end; the module is
one xdist group (``./dev test`` runs ``--dist loadgroup``) so a single worker starts Spark.
Without PySpark or Java the tests skip on a developer's machine and fail when ``CI=true``;
``./dev test`` also fails when this module ran no test.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from yigongti.analytics.services import do_snapshot
from yigongti.core.errors import DomainError
from yigongti.indicators import definitions, services
from yigongti.indicators.models import IndicatorResult
from yigongti.indicators.services import Evaluation, ResultRow, evaluate, parse_periods
from yigongti.synth.scenarios import generate

pytestmark = pytest.mark.xdist_group("spark")

MASTER = "local[2]"
# The year 2025 (encounters, settlements, referrals), its quarters, its first and last months,
# and January 2026: the scenario publishes the lead hospital's sessions for the two weeks after
# its as-of date (2025-12-31), where the slot and bed indicators find their data.
GENERATED_PERIODS = (
    "2025",
    "2025-Q1",
    "2025-Q2",
    "2025-Q3",
    "2025-Q4",
    "2025-01",
    "2025-12",
    "2026-01",
)
# S1 (admitted 2024-12, discharged 2025-01), S2 (2025-06), S3 and X1 (Q3), X3 (2025-09).
HAND_BUILT_PERIODS = ("2025", "2025-01", "2025-Q3")
RESIDENTS = 3000
SEED = 20251


class _Rollback(Exception):
    pass


def _unavailable() -> str:
    """Why Spark cannot run here ("" when it can)."""
    try:
        from yigongti.analytics import spark

        spark.check_java()
        import pyspark  # noqa: F401
    except (DomainError, ImportError) as exc:
        return str(exc)
    return ""


@pytest.fixture(scope="module")
def spark_session() -> Iterator[Any]:
    reason = _unavailable()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI 中必须运行 Spark 一致性测试：{reason}")
        pytest.skip(f"Spark 不可用：{reason}")
    from yigongti.analytics import spark

    started = time.perf_counter()
    with spark.running(MASTER) as session:
        print(f"\nSpark {session.version} 启动 {time.perf_counter() - started:.1f}s")
        yield session


@pytest.fixture(scope="module")
def generated(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Path:
    """A snapshot of the demo scenario cut to RESIDENTS residents (the whole generator:
    encounters, settlements, referrals, sessions and bookings); the database rows are rolled
    back afterwards, the snapshot stays."""
    root: Path = tmp_path_factory.mktemp("generated-snapshot")
    started = time.perf_counter()
    with django_db_blocker.unblock():
        try:
            with transaction.atomic():
                # A transactional test earlier on this worker may have flushed the catalogues
                # the data migration loaded; the generator needs them.
                importlib.import_module(
                    "yigongti.encounters.migrations.0002_load_catalogues"
                ).load_catalogues(django_apps, None)
                generate("demo", SEED, encounter_years=2, residents=RESIDENTS)
                do_snapshot(root)
                raise _Rollback
        except _Rollback:
            pass
    print(f"\n生成与快照 {time.perf_counter() - started:.1f}s")
    return root


def _both(root: Path, codes: tuple[str, ...]) -> tuple[Evaluation, Evaluation]:
    periods = [p for code in codes for p in parse_periods(code)]
    timings = []
    results = []
    for engine in ("duckdb", "spark"):
        started = time.perf_counter()
        results.append(evaluate(periods, engine=engine, root=root))
        timings.append(f"{engine} {time.perf_counter() - started:.1f}s")
    print(f"\n{root.name}: {len(results[0].rows)} 条结果，{'，'.join(timings)}")
    return results[0], results[1]


def _text(rows: list[ResultRow]) -> list[tuple[str, ...]]:
    """Each row's fields as text: decimals with their digits, no value as "None"."""
    return [tuple(str(v) for v in dataclasses.astuple(r)) for r in rows]


def _assert_same(duck: Evaluation, spark: Evaluation) -> None:
    computed = [i.code for i in definitions.INDICATORS if i.status == "computed"]
    assert duck.indicators == spark.indicators == computed
    assert (duck.snapshot_id, duck.engine, spark.engine) == (spark.snapshot_id, "duckdb", "spark")
    only_duck = sorted(set(_text(duck.rows)) - set(_text(spark.rows)))
    only_spark = sorted(set(_text(spark.rows)) - set(_text(duck.rows)))
    assert (only_duck[:5], only_spark[:5]) == ([], [])
    assert spark.rows == duck.rows
    assert _text(spark.rows) == _text(duck.rows)


def _year_rows(evaluation: Evaluation, code: str) -> list[ResultRow]:
    return [r for r in evaluation.rows if r.indicator_code == code and r.period == "2025"]


@pytest.mark.django_db
def test_hand_built_county_equal_on_both_engines(spark_session: Any, county: Path) -> None:
    duck, spark = _both(county, HAND_BUILT_PERIODS)
    _assert_same(duck, spark)
    # One value written out from conftest.py, so an engine that returned nothing fails here:
    # nhc-08, fund paid in county 7780 of 7780 + 14000 (X1) + 300 (X3).
    county_08 = [r for r in _year_rows(spark, "nhc-08") if r.level == "county"]
    assert [(r.numerator, r.denominator) for r in county_08] == [
        (Decimal("7780.00"), Decimal("22080.00"))
    ]


def test_generated_county_equal_on_both_engines(spark_session: Any, generated: Path) -> None:
    duck, spark = _both(generated, GENERATED_PERIODS)
    _assert_same(duck, spark)
    # Not empty for any computed indicator: each has a county value (a non-zero denominator)
    # in some evaluated period, so no indicator passes by being empty on both engines.
    valued = {r.indicator_code for r in spark.rows if r.level == "county" and r.value is not None}
    assert [code for code in spark.indicators if code not in valued] == []
    assert {r.level for r in spark.rows} == {"county", "township", "institution", "doctor"}
    doctors = {r.indicator_code for r in spark.rows if r.level == "doctor"}
    assert doctors == {"nhc-10", "op-03", "op-04", "op-05"}
    assert {r.category for r in spark.rows} - {""}, "no broken-down indicator has categories"


@pytest.mark.django_db
def test_command_stores_spark_results(
    spark_session: Any, county: Path, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.SNAPSHOT_ROOT = county
    call_command("indicators", "compute", "--period", "2025", "--engine", "duckdb")
    stored_duck = _stored()
    call_command(
        "indicators", "compute", "--period", "2025", "--engine", "spark", "--spark-master", MASTER
    )
    assert "引擎 spark" in capsys.readouterr().out
    stored_spark = _stored()
    assert set(IndicatorResult.objects.values_list("engine", flat=True)) == {"spark"}
    assert stored_spark == stored_duck and stored_spark


def _stored() -> list[tuple[Any, ...]]:
    return list(
        IndicatorResult.objects.order_by(
            "indicator_code", "level", "org_code", "category"
        ).values_list(*services._STORED[:8])  # the key, the sums and the value
    )


@pytest.mark.django_db
def test_command_refuses_another_master_and_a_master_without_spark(
    spark_session: Any, county: Path, settings: Any
) -> None:
    settings.SNAPSHOT_ROOT = county
    with pytest.raises(CommandError, match="不能改用 local\\[1\\]"):
        call_command(
            "indicators",
            "compute",
            "--period",
            "2025",
            "--engine",
            "spark",
            "--spark-master",
            "local[1]",
        )
    with pytest.raises(CommandError, match="Spark 地址“http://x”无效"):
        call_command(
            "indicators",
            "compute",
            "--period",
            "2025",
            "--engine",
            "spark",
            "--spark-master",
            "http://x",
        )
    with pytest.raises(CommandError, match="--spark-master 只能与 --engine spark 一起使用"):
        call_command("indicators", "compute", "--period", "2025", "--spark-master", MASTER)
    assert not IndicatorResult.objects.exists()


@pytest.mark.django_db
def test_without_pyspark_a_chinese_message_and_nothing_stored(
    county: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SNAPSHOT_ROOT = county
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)  # import fails as if not installed
    with pytest.raises(CommandError, match=r"未安装 Spark 组件：pip install yigongti\[spark\]"):
        call_command("indicators", "compute", "--period", "2025", "--engine", "spark")
    with pytest.raises(DomainError, match=r"未安装 Spark 组件"):
        evaluate(parse_periods("2025"), engine="spark", root=county)
    assert not IndicatorResult.objects.exists()


def test_without_java_a_chinese_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from yigongti.analytics import spark

    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DomainError, match="需要 Java 17：未找到 java"):
        spark.check_java()
    old = tmp_path / "java"
    old.write_text("#!/bin/sh\necho 'openjdk version \"11.0.2\" 2019-01-15' >&2\n")
    old.chmod(0o755)
    with pytest.raises(DomainError, match=r"需要 Java 17：.* 的版本是 11"):
        spark.check_java()
