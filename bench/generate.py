"""Benchmark: generate a scenario (default ``county``, 500,000 residents) into fresh SQLite.

Prints elapsed seconds, residents per second, peak memory, row counts, and the ratio to a floor
measured in the same process: ``executemany`` of the same number of plain resident rows into
an empty copy of the resident table (no validation, no households, no staff). Never asserts.

    .venv/bin/python bench/generate.py [--scenario county|demo] [--seed 20251]
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default="county", choices=("demo", "county"))
    parser.add_argument("--seed", type=int, default=20251)
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="yigongti-bench-")
    os.environ["YIGONGTI_DATA_DIR"] = data_dir
    os.environ["YIGONGTI_PROFILE"] = "demo"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yigongti.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from yigongti.synth.scenarios import generate

    call_command("migrate", verbosity=0)
    stages: dict[str, float] = {}
    start = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        stages.setdefault(stage, time.perf_counter() - start)

    summary = generate(args.scenario, args.seed, progress=progress)
    elapsed = time.perf_counter() - start
    residents = summary.counts["residents"]
    db_path = Path(connection.settings_dict["NAME"])
    connection.close()

    floor = plain_insert_floor(db_path, residents, data_dir)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"scenario: {args.scenario} seed: {args.seed}")
    print(f"elapsed_s: {elapsed:.2f}")
    print(f"residents_per_s: {residents / elapsed:,.0f}")
    print(f"peak_rss_mb: {peak_mb:.0f}")
    for name, count in summary.counts.items():
        print(f"rows_{name}: {count}")
    for stage, at in stages.items():
        print(f"stage_start_s {stage}: {at:.2f}")
    print(f"floor_plain_executemany_s: {floor:.2f}")
    print(f"ratio_to_floor: {elapsed / floor:.1f}")


def plain_insert_floor(db_path: Path, rows: int, data_dir: str) -> float:
    """Time to insert ``rows`` ready-made rows into an empty copy of the resident table,
    indexes included, with the connection settings of the app (WAL, synchronous=NORMAL)."""
    source = sqlite3.connect(db_path)
    ddl = [
        sql.replace("residents_resident", "floor_resident")
        for (sql,) in source.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'residents_resident' AND sql IS NOT NULL"
        )
    ]
    sample = source.execute("SELECT * FROM residents_resident LIMIT 1000").fetchall()
    columns = [d[1] for d in source.execute("PRAGMA table_info(residents_resident)")]
    source.close()
    floor_db = sqlite3.connect(Path(data_dir) / "floor.sqlite3")
    floor_db.execute("PRAGMA journal_mode=WAL")
    floor_db.execute("PRAGMA synchronous=NORMAL")
    for sql in ddl:
        floor_db.execute(sql.replace('CREATE INDEX "', 'CREATE INDEX "floor_'))
    id_at = columns.index("id")
    mpi_at = columns.index("mpi_id")
    doc_at = columns.index("id_number")
    data = []
    for i in range(rows):
        row = list(sample[i % len(sample)])
        row[id_at] = i + 1
        row[mpi_at] = f"F{i:011d}"
        row[doc_at] = f"{i:018d}"
        data.append(tuple(row))
    placeholders = ", ".join("?" * len(columns))
    start = time.perf_counter()
    with floor_db:
        floor_db.executemany(f"INSERT INTO floor_resident VALUES ({placeholders})", data)  # noqa: S608
    elapsed = time.perf_counter() - start
    floor_db.close()
    return elapsed


if __name__ == "__main__":
    main()
