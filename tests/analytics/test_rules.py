"""Pure snapshot rules."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yigongti.analytics import rules


def test_partition_keys_and_paths() -> None:
    assert rules.partition_key(2025, 7) == "2025-07"
    assert (
        rules.partition_path("encounters", "2025-07")
        == "encounters/year=2025/month=7/part-0.parquet"
    )
    assert rules.partition_path("residents", rules.WHOLE) == "residents/part-0.parquet"
    with pytest.raises(ValueError, match="分区年月无效：2025-13"):
        rules.partition_key(2025, 13)


def test_fingerprint_changes_with_count_update_or_ids() -> None:
    at = dt.datetime(2025, 7, 1, 8, 0, tzinfo=dt.UTC)
    base = rules.fingerprint(10, at, 55)
    assert base == "10|2025-07-01T08:00:00+00:00|55"
    assert rules.fingerprint(11, at, 55) != base
    assert rules.fingerprint(10, at + dt.timedelta(seconds=1), 55) != base
    assert rules.fingerprint(10, at, 56) != base  # a row replaced by another
    assert rules.fingerprint(0, None, 0) == "0|-|0"


def test_plan_writes_changed_and_new_keeps_same_drops_gone() -> None:
    manifest = {
        "2025-01": {"fingerprint": "a"},
        "2025-02": {"fingerprint": "b"},
        "2025-03": {"fingerprint": "c"},
    }
    plan = rules.plan_table({"2025-01": "a", "2025-02": "B", "2025-04": "d"}, manifest)
    assert plan == rules.Plan(write=["2025-02", "2025-04"], keep=["2025-01"], drop=["2025-03"])
    assert rules.plan_table({}, {}) == rules.Plan([], [], [])


@given(
    st.dictionaries(st.sampled_from([f"2025-{m:02d}" for m in range(1, 13)]), st.text(max_size=3))
)
def test_a_second_plan_after_writing_does_nothing(current: dict[str, str]) -> None:
    first = rules.plan_table(current, {})
    assert first.write == sorted(current) and not first.keep and not first.drop
    manifest = {k: {"fingerprint": fp} for k, fp in current.items()}
    again = rules.plan_table(current, manifest)
    assert again == rules.Plan(write=[], keep=sorted(current), drop=[])


def test_data_until() -> None:
    assert rules.data_until(["2024-12", "2025-03", rules.WHOLE]) == "2025-03"
    assert rules.data_until([]) == ""


@pytest.mark.parametrize(
    ("master", "valid", "local"),
    [
        ("local", True, True),
        ("local[2]", True, True),
        ("local[*]", True, True),
        ("local[4,3]", True, True),
        ("spark://10.0.0.5:7077", True, False),
        ("yarn", True, False),
        ("k8s://https://k8s.example.cn:6443", True, False),
        ("local[two]", False, True),
        ("local[]", False, True),
        ("spark://", False, False),
        ("http://x:7077", False, False),
        ("sc://localhost", False, False),  # Spark Connect: not the classic PySpark driver
        ("", False, False),
    ],
)
def test_spark_masters(master: str, valid: bool, local: bool) -> None:
    assert rules.is_spark_master(master) is valid
    assert rules.is_local_master(master) is local


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment', 17),
        ('openjdk version "21" 2023-09-19', 21),
        ('java version "1.8.0_402"', 8),
        ('openjdk version "11.0.2" 2019-01-15', 11),
        ("bash: java: command not found", None),
    ],
)
def test_java_major(output: str, major: int | None) -> None:
    assert rules.java_major(output) == major
