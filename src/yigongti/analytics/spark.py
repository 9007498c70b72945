"""The Spark engine's session and readers: the snapshot's Parquet as Spark DataFrames.

PySpark is an optional extra (``pip install yigongti[spark]``) and needs Java 17 or newer; both
are checked lazily, when a Spark session is first asked for, with a Chinese message. The session
is configured so that results equal DuckDB's: UTC session time zone and ANSI SQL (decimal sums
stay exact ``decimal(38, 2)`` and an overflow fails instead of turning into NULL). Local mode
(``local[N]``) gets few shuffle partitions, no web UI and a loopback driver; a cluster URL
(``spark://…``, ``yarn``, ``k8s://…``) keeps the cluster's own defaults for those.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
from django.conf import settings

from yigongti.analytics import rules
from yigongti.analytics import services as snapshot
from yigongti.core.errors import DomainError

JAVA_MIN = 17  # Spark 4.0 runs on Java 17 or 21
APP_NAME = "yigongti-indicators"
# Local mode: shuffles carry rows already grouped per institution, so few partitions; Spark's
# default of 200 tasks per shuffle would dominate a county's run.
LOCAL_SHUFFLE_PARTITIONS = "2"
# Local mode runs the tasks inside the driver's JVM, whose heap is Spark's default 1g: too
# little for a province's planned pass (30 million encounters joined to 5 million homes and
# grouped failed with SparkOutOfMemoryError in bench/indicators.py); the JVM takes it only as
# it needs it.
LOCAL_DRIVER_MEMORY = "4g"
INSTALL_HINT = "未安装 Spark 组件：pip install yigongti[spark]"


def _java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def check_java() -> None:
    """Java 17 or newer is on the PATH (or JAVA_HOME); a DomainError in Chinese otherwise."""
    java = _java()
    if java is None:
        raise DomainError(
            f"需要 Java {JAVA_MIN}：未找到 java（请安装 openjdk-{JAVA_MIN}-jre-headless 或设置 JAVA_HOME）",
            field="engine",
        )
    done = subprocess.run(  # noqa: S603 - the java found above, fixed arguments
        [java, "-version"], capture_output=True, text=True, timeout=30, check=False
    )
    major = rules.java_major(done.stderr + done.stdout)
    if major is None or major < JAVA_MIN:
        raise DomainError(
            f"需要 Java {JAVA_MIN}：{java} 的版本是 {major or '未知'}"
            f"（请安装 openjdk-{JAVA_MIN}-jre-headless 或设置 JAVA_HOME）",
            field="engine",
        )


def _pyspark() -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise DomainError(INSTALL_HINT, field="engine") from None
    return SparkSession


def get_session(master: str | None = None) -> tuple[Any, bool]:
    """``(session, created)``: the active Spark session, or a new one on ``master`` (default
    ``settings.SPARK_MASTER``); ``created`` tells the caller it owns the session and stops it."""
    if master is not None and not rules.is_spark_master(master):
        raise DomainError(
            f"Spark 地址“{master}”无效：应为 local[N] 或 spark://主机:端口 等集群地址",
            field="spark_master",
        )
    spark_session = _pyspark()
    active = spark_session.getActiveSession()
    if active is not None:
        running_on = active.sparkContext.master
        if master is not None and master != running_on:
            raise DomainError(
                f"本进程的 Spark 会话已运行在 {running_on} 上，不能改用 {master}",
                field="spark_master",
            )
        return active, False
    check_java()
    master = master or settings.SPARK_MASTER
    builder = (
        spark_session.builder.master(master)
        .appName(APP_NAME)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "true")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.log.level", "ERROR")
        .config("spark.ui.showConsoleProgress", "false")  # the CLI draws its own progress bar
    )
    if rules.is_local_master(master):
        builder = (
            builder.config("spark.sql.shuffle.partitions", LOCAL_SHUFFLE_PARTITIONS)
            .config("spark.driver.memory", LOCAL_DRIVER_MEMORY)
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
        )
    return builder.getOrCreate(), True


@contextmanager
def running(master: str | None = None) -> Iterator[Any]:
    """A Spark session for the block, stopped at its end if this block started it."""
    session, created = get_session(master)
    try:
        yield session
    finally:
        if created:
            session.stop()


def from_arrow(session: Any, table: pa.Table) -> Any:
    """A Spark DataFrame from an Arrow table (exact types: decimals stay decimals)."""
    return session.createDataFrame(table)


def read_table(session: Any, root: Path, name: str) -> Any:
    """A snapshot table as a Spark DataFrame: its Parquet directory, Hive partitions
    (``year=``/``month=``) discovered by Spark, only ``*.parquet`` files (never a ``.tmp`` the
    snapshot is writing); an empty DataFrame with the table's schema when it has no files."""
    spec = next((s for s in snapshot.TABLES if s.name == name), None)
    if spec is None:
        raise DomainError(f"分析快照中没有表“{name}”", field="snapshot")
    directory = root / name
    if not directory.is_dir() or next(directory.rglob("*.parquet"), None) is None:
        return from_arrow(session, snapshot.schema_of(spec).empty_table())
    return session.read.option("pathGlobFilter", "*.parquet").parquet(str(directory))
