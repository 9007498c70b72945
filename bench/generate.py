"""Benchmark: generate a scenario (default ``county``, 500,000 residents) into fresh SQLite.

Prints elapsed seconds, residents per second, peak memory, row counts, the one year of
encounters and settlements (stage time and rows per second; ``--no-encounters`` skips it), and
the ratio to a floor
measured in the same process: ``executemany`` of the same number of plain resident rows into
an empty copy of the resident table (no validation, no households, no staff). Never asserts.

    .venv/bin/python bench/generate.py [--scenario county|demo] [--seed 20251] [--no-encounters]
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
    parser.add_argument("--no-encounters", action="store_true", help="skip the year of encounters")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="yigongti-bench-")
    os.environ["YIGONGTI_DATA_DIR"] = data_dir
    os.environ["YIGONGTI_PROFILE"] = "demo"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yigongti.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from yigongti.synth.encounters import STAGE as ENCOUNTER_STAGE
    from yigongti.synth.scenarios import generate

    call_command("migrate", verbosity=0)
    stages: dict[str, float] = {}
    last_report: dict[str, float] = {}
    start = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter() - start
        stages.setdefault(stage, now)
        last_report[stage] = now

    summary = generate(
        args.scenario, args.seed, progress=progress, encounters=not args.no_encounters
    )
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
    if ENCOUNTER_STAGE in stages:
        # From the first draw of the stage to its last write (the encounters' own loading and
        # drawing before the first report are counted from the end of the stage before it).
        # Only the stages before it count (the referral stage runs after it).
        began = stages[ENCOUNTER_STAGE]
        before = max(
            (t for s, t in last_report.items() if s != ENCOUNTER_STAGE and stages[s] < began),
            default=0.0,
        )
        spent = last_report[ENCOUNTER_STAGE] - before
        rows = summary.counts.get("encounters", 0) + summary.counts.get("external_settlements", 0)
        print(f"encounters_year_s: {spent:.2f}")
        print(f"encounters_rows: {rows}")
        print(f"encounters_rows_per_s: {rows / spent:,.0f}")
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
