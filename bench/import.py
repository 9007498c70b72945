"""Benchmark: import 1,000,000 generated encounter rows from CSV into fresh SQLite.

Builds a scenario (default ``demo``) in a temporary ``YIGONGTI_DATA_DIR``, writes a CSV of valid
encounters of its residents at its member institutions, imports it through the same pipeline
as ``yigongti import encounters`` (chunks of 5,000 in savepoints, committed every 20,000 rows;
validation in a second process for files of 4 MiB or more, ``--serial`` to keep it in one), then
imports it again (every row unchanged). Prints rows per second, peak memory (``ru_maxrss``),
CPU µs per row of each process and the ratio to a floor measured in the same process: one
plain ``csv.reader`` pass over the same file. Never asserts; the targets (issue #4) are at
least 20,000 rows/s and under 500 MB.

    .venv/bin/python bench/import.py [--rows 1000000] [--scenario demo|tiny] [--seed 20251]
"""

from __future__ import annotations

import argparse
import csv
import functools
import multiprocessing
import os
import random
import resource
import tempfile
import time
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--scenario", default="demo", choices=("tiny", "demo", "county"))
    parser.add_argument("--seed", type=int, default=20251)
    parser.add_argument("--chunk-size", type=int, default=5000)
    parser.add_argument(
        "--no-reimport", action="store_true", help="skip the second (unchanged) run"
    )
    parser.add_argument(
        "--serial", action="store_true", help="validate in this process (no second process)"
    )
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="yigongti-bench-import-"))
    os.environ["YIGONGTI_DATA_DIR"] = str(data_dir)
    os.environ["YIGONGTI_PROFILE"] = "demo"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yigongti.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from yigongti.encounters import importing
    from yigongti.encounters.models import Encounter
    from yigongti.organizations.models import Institution
    from yigongti.residents.models import Resident
    from yigongti.synth.scenarios import generate

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    # Generate in a forked child so this process's peak memory is the import's, not the
    # generator's.
    connections.close_all()
    child = multiprocessing.get_context("fork").Process(
        target=build_scenario, args=(generate, args.scenario, args.seed)
    )
    child.start()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"generate failed with exit code {child.exitcode}")
    print(f"scenario: {args.scenario} generated_s: {time.perf_counter() - t0:.1f}")
    print(f"rss_before_import_mb: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")

    people = list(
        Resident.objects.filter(id_type="01", merged_into__isnull=True).values_list(
            "id_number", "name"
        )
    )
    institutions = list(
        Institution.objects.filter(medcom__isnull=False).values_list("code", flat=True)
    )
    path = data_dir / "encounters.csv"
    t0 = time.perf_counter()
    write_csv(path, args.rows, people, institutions, args.seed)
    size_mb = path.stat().st_size / 2**20
    print(f"csv_rows: {args.rows} csv_mb: {size_mb:.0f} written_s: {time.perf_counter() - t0:.1f}")

    floor = csv_floor(path)
    before = Encounter.objects.count()
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    parallel = False if args.serial else None  # None: the import's own choice (by size)
    run_import = functools.partial(
        importing.import_file,
        path,
        kind="encounters",
        source_system="BENCH",
        chunk_size=args.chunk_size,
        parallel=parallel,
    )
    batch = run_import()
    elapsed = time.perf_counter() - t0
    cpu = cpu_seconds() - cpu0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"import: read {batch.rows_read} inserted {batch.rows_inserted} "
        f"rejected {batch.rows_rejected} status {batch.status}"
    )
    print(f"import_s: {elapsed:.1f}")
    print(f"import_rows_per_s: {batch.rows_read / elapsed:,.0f}")
    print(f"encounters_in_db: {Encounter.objects.count() - before}")
    print(f"peak_rss_mb: {peak_mb:.0f}")
    print(f"cleaning_process_peak_rss_mb: {importing.CLEANER_PEAK_KB[0] / 1024:.0f}")
    # CPU time per row is steadier than wall time on a shared machine: the slower of the two
    # processes bounds the rate.
    print(f"writing_process_cpu_us_per_row: {cpu / batch.rows_read * 1e6:.1f}")
    print(
        f"cleaning_process_cpu_us_per_row: {importing.CLEANER_CPU_S[0] / batch.rows_read * 1e6:.1f}"
    )
    print(f"floor_csv_reader_s: {floor:.2f}")
    print(f"ratio_to_floor: {elapsed / floor:.1f}")
    if not args.no_reimport:
        t0 = time.perf_counter()
        again = run_import()
        elapsed = time.perf_counter() - t0
        print(f"reimport: unchanged {again.rows_unchanged} rejected {again.rows_rejected}")
        print(f"reimport_rows_per_s: {again.rows_read / elapsed:,.0f}")
        print(
            f"peak_rss_mb_after_reimport: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}"
        )


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def build_scenario(generate: Any, scenario: str, seed: int) -> None:
    try:
        generate(scenario, seed, encounters=False)  # only residents, staff and institutions
    except TypeError:  # a generator without the encounters switch
        generate(scenario, seed)


def write_csv(
    path: Path, rows: int, people: list[tuple[str, str]], institutions: list[str], seed: int
) -> None:
    rng = random.Random(seed)
    outpatient = ["J06.9", "I10", "E11.9", "K29.7", "J20.9", "M54.5"]
    header = [
        "来源编号",
        "证件号码",
        "姓名",
        "机构编码",
        "就诊类型",
        "就诊/入院日期",
        "出院日期",
        "主要诊断编码",
        "其他诊断编码",
        "总费用",
        "药品费",
        "检查检验费",
        "统筹基金支付",
        "个人支付",
    ]
    # Each person is seen at a few institutions of their own (village clinic, township
    # centre, county hospital), as in a real county, not at a random one of hundreds per visit.
    usual = [
        [institutions[rng.randrange(len(institutions))] for _ in range(3)]
        for _ in range(len(people))
    ]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for i in range(rows):
            who = rng.randrange(len(people))
            number, name = people[who]
            day = 1 + rng.randrange(365)
            month, mday = divmod(day - 1, 31)
            visit = f"2025-{min(month + 1, 12):02d}-{min(mday + 1, 28):02d}"
            inpatient = rng.random() < 0.03
            total = (
                rng.randrange(3000, 30000) / 100
                if not inpatient
                else rng.randrange(200000, 900000) / 100
            )
            fund = round(total * 0.6, 2)
            writer.writerow(
                [
                    f"B{i:08d}",
                    number,
                    name,
                    usual[who][rng.randrange(3)],
                    "住院" if inpatient else "门诊",
                    visit,
                    visit if inpatient else "",
                    "J18.9" if inpatient else outpatient[rng.randrange(len(outpatient))],
                    "I10" if rng.random() < 0.2 else "",
                    f"{total:.2f}",
                    f"{total * 0.4:.2f}",
                    f"{total * 0.3:.2f}",
                    f"{fund:.2f}",
                    f"{total - fund:.2f}",
                ]
            )


def csv_floor(path: Path) -> float:
    """One plain ``csv.reader`` pass over the file: the cost of merely reading it."""
    t0 = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as fh:
        for _ in csv.reader(fh):
            pass
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
