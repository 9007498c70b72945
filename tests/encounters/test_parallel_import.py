"""Parallel imports: a forked process validates while the importing process writes.

The in-memory SQLite test database cannot be opened by a second process, so the SQLite case
runs the real CLI in subprocesses against a database file; the PostgreSQL cases run in this
process with a transactional test database (no enclosing transaction, which the cleaning
process could not see through). The flush after each transactional test empties the code
catalogues that a migration loaded, so those tests load them again first."""

from __future__ import annotations

import importlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from yigongti.encounters import importing
from yigongti.encounters.choices import BatchStatus, ImportKind
from yigongti.encounters.models import Encounter, ImportBatch, ImportRowError

ZHANG = "439901195103150033"
CHEN = "439901199006120033"
HEADER = "来源编号,证件号码,机构编码,就诊类型,就诊/入院日期,主要诊断编码,总费用,统筹基金支付"


def write_csv(path: Path, good: int) -> Path:
    """``good`` valid rows, with three bad ones and a repeated number spread through."""
    lines = [HEADER]
    for i in range(good):
        person = ZHANG if i % 2 else CHEN
        lines.append(f"P{i:06d},{person},QH0001,门诊,2025-{1 + i % 12:02d}-15,I10,10.00,10.00")
        if i == 5:
            lines.append("BAD1,123,QH0001,门诊,2025-01-02,I10,10.00,10.00")
        if i == 2500:
            lines.append("BAD2,439901195103150033,NOPE,门诊,2025-01-02,I10,10.00,10.00")
        if i == 5500:  # a later chunk corrects P000001 (row 3): an update
            lines.append("P000001,439901195103150033,QH0001,门诊,2025-02-15,I10,20.00,20.00")
        if i == good - 2:
            lines.append("BAD3,439901195103150033,QH0001,门诊,2025-13-02,I10,10.00,10.00")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def cli(data_dir: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIGONGTI_")}
    env.update(YIGONGTI_DATA_DIR=str(data_dir), YIGONGTI_PROFILE="demo")
    proc = subprocess.run(
        [sys.executable, "-m", "yigongti.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def stored(data_dir: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(data_dir / "yigongti.sqlite3") as db:
        return db.execute(
            "SELECT external_id, resident_id, visit_date, total_cost, content_hash "
            "FROM encounters_encounter ORDER BY external_id"
        ).fetchall()


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
def test_cli_parallel_equals_serial_on_a_sqlite_file(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "visits.csv", 6000)
    results = {}
    for mode in ("--parallel", "--serial"):
        data = tmp_path / mode.strip("-")
        cli(data, "migrate", "--verbosity", "0")
        cli(data, "generate", "--scenario", "tiny", "--no-encounters")
        out = cli(data, "import", "encounters", str(path), "--source", "HIS", mode)
        assert "读取 6004，新增 6000，更新 1，未变 0，拒绝 3" in out, out
        results[mode] = stored(data)
    assert len(results["--parallel"]) == 6000
    assert results["--parallel"] == results["--serial"]


pg_only = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="SQLite 内存测试库不能被第二个进程打开；SQLite 由上面的命令行测试覆盖",
)


@pytest.fixture
def catalogues(transactional_db: Any) -> None:
    from django.apps import apps

    importlib.import_module("yigongti.encounters.migrations.0002_load_catalogues").load_catalogues(
        apps, None
    )


@pg_only
@pytest.mark.django_db(transaction=True)
def test_parallel_import_on_postgres(world: Any, catalogues: None, tmp_path: Path) -> None:
    assert importing.parallel_possible()
    path = write_csv(tmp_path / "visits.csv", 6000)
    batch = importing.import_file(
        path, kind=ImportKind.ENCOUNTERS, source_system="HIS", parallel=True
    )
    assert (
        batch.status,
        batch.rows_read,
        batch.rows_inserted,
        batch.rows_updated,
        batch.rows_rejected,
    ) == (BatchStatus.DONE, 6004, 6000, 1, 3)
    # rows: header 1, P000000 at 2; BAD1 after P000005 (7); BAD2 after P002500 (2503);
    # BAD3 after P005998, which follows 5,999 rows and three inserted lines (6003).
    assert sorted(ImportRowError.objects.values_list("row_number", flat=True)) == [
        8,
        2504,
        6004,
    ]
    assert Encounter.objects.count() == 6000


@pg_only
@pytest.mark.django_db(transaction=True)
def test_killed_cleaning_process_leaves_a_resumable_batch(
    world: Any, catalogues: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path / "visits.csv", 6000)
    real = importing._ChunkCleaner.clean_chunk
    calls = {"n": 0}

    def dies_on_second_chunk(self: Any, chunk: list[Any]) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            os._exit(3)  # the forked process dies as if killed
        return real(self, chunk)

    monkeypatch.setattr(importing._ChunkCleaner, "clean_chunk", dies_on_second_chunk)
    with pytest.raises(RuntimeError, match="退出码 3"):
        importing.import_file(path, kind=ImportKind.ENCOUNTERS, source_system="HIS", parallel=True)
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.last_committed_row, batch.rows_read) == (
        BatchStatus.RUNNING,
        5001,
        5000,
    )
    monkeypatch.setattr(importing._ChunkCleaner, "clean_chunk", real)
    again = importing.import_file(
        path, kind=ImportKind.ENCOUNTERS, source_system="HIS", parallel=True
    )
    assert again.pk == batch.pk
    assert (again.status, again.rows_read, again.rows_inserted, again.rows_rejected) == (
        BatchStatus.DONE,
        6004,
        6000,
        3,
    )


@pg_only
@pytest.mark.django_db(transaction=True)
def test_unreadable_half_way_fails_the_batch_in_parallel(
    world: Any, catalogues: None, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "visits.csv", 30000)  # well past the 1 MiB encoding sniff
    with path.open("ab") as fh:
        fh.write(
            "P999999,439901195103150033,QH0001,门诊,2025-01-02,高血压,10.00,10.00\n".encode("gbk")
        )
    batch = importing.import_file(
        path, kind=ImportKind.ENCOUNTERS, source_system="HIS", parallel=True, chunk_size=5000
    )
    # The decoder fails on the last block it reads, inside the sixth chunk: five chunks stay
    # (25,000 rows: BAD1 and BAD2 rejected, the P000001 correction an update).
    assert batch.status == BatchStatus.FAILED
    assert (
        batch.last_committed_row,
        batch.rows_read,
        batch.rows_inserted,
        batch.rows_updated,
        batch.rows_rejected,
    ) == (25001, 25000, 24997, 1, 2)
    assert batch.message == (
        "第 25001 行之后中止：文件编码无法识别：请保存为 UTF-8 或 GBK 编码的 CSV 文件"
    )
    assert Encounter.objects.count() == 24997
