"""Pure snapshot rules: partition keys, fingerprints and what a new snapshot must rewrite.

No ORM, no clock, no files: the services pass in what they read.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MANIFEST_VERSION = 1
WHOLE = "all"  # the one partition of an unpartitioned (dimension) table


def partition_key(year: int, month: int) -> str:
    """``2025-07``: the key of a year/month partition in the manifest."""
    if not (1 <= month <= 12 and 1900 <= year <= 2999):
        raise ValueError(f"分区年月无效：{year}-{month}")
    return f"{year:04d}-{month:02d}"


def partition_path(table: str, key: str) -> str:
    """The file of a partition, relative to the snapshot root (Hive-style directories, so
    DuckDB and Spark read ``year`` and ``month`` as columns)."""
    if key == WHOLE:
        return f"{table}/part-0.parquet"
    year, month = key.split("-")
    return f"{table}/year={int(year)}/month={int(month)}/part-0.parquet"


def fingerprint(rows: int, max_updated: dt.datetime | None, id_sum: int) -> str:
    """What changes when a partition's rows change: count, newest update, sum of ids."""
    stamp = max_updated.isoformat() if max_updated is not None else "-"
    return f"{rows}|{stamp}|{id_sum}"


@dataclass(frozen=True)
class Plan:
    write: list[str]  # partitions to (re)write
    keep: list[str]  # partitions whose stored file is current
    drop: list[str]  # partitions in the manifest that no longer have rows


def plan_table(current: Mapping[str, str], manifest: Mapping[str, Mapping[str, Any]]) -> Plan:
    """Compare the partitions' fingerprints now with those in the last manifest."""
    write = sorted(k for k, fp in current.items() if manifest.get(k, {}).get("fingerprint") != fp)
    keep = sorted(k for k in current if k not in write)
    drop = sorted(k for k in manifest if k not in current)
    return Plan(write, keep, drop)


def data_until(keys: Iterable[str]) -> str:
    """The last month with data, ``2025-12``, or ``""``."""
    months = [k for k in keys if k != WHOLE]
    return max(months) if months else ""


def data_from(keys: Iterable[str]) -> str:
    """The first month with data, ``2024-01``, or ``""``."""
    months = [k for k in keys if k != WHOLE]
    return min(months) if months else ""


# The Spark engine (analytics/spark.py). Master URLs: local mode (local, local[4], local[*],
# local[4,2] with task retries) or a cluster manager (spark://host:port, yarn, k8s://…, mesos://…).
SPARK_MASTER = re.compile(r"local(\[(\d+|\*)(,\d+)?\])?|(spark|k8s|mesos)://\S+|yarn")


def is_spark_master(text: str) -> bool:
    return SPARK_MASTER.fullmatch(text) is not None


def is_local_master(text: str) -> bool:
    return text == "local" or text.startswith("local[")


def java_major(version_text: str) -> int | None:
    """The major version in ``java -version`` output: ``"17.0.15"`` → 17, ``"1.8.0_402"`` → 8,
    ``None`` when there is none."""
    found = re.search(r'version "(\d+)(?:\.(\d+))?', version_text)
    if found is None:
        return None
    major = int(found.group(1))
    if major == 1 and found.group(2):
        return int(found.group(2))
    return major
