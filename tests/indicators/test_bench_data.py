"""The benchmark's drawn snapshot (bench/indicators.py ``generate``), on a small county: its
tables have the snapshot's schemas, the referral family holds together, and the engine's
ref-03 and ref-05 on it equal the same counts taken by hand with pyarrow. Keeps the benchmark
running as the snapshot schema grows; times nothing."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from yigongti.analytics import services as snapshot
from yigongti.indicators import rules, services

BENCH = Path(__file__).resolve().parents[2] / "bench" / "indicators.py"
FAMILY = ("referrals", "schedules", "bookings", "bed_bookings", "wards")
YEAR = 2025


@pytest.fixture(scope="module")
def bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_indicators", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def drawn(bench: Any, tmp_path: Path, db: Any) -> Path:
    """A 3,000-resident county drawn in this process (the test database is migrated, so the
    ICD-10 catalogue is extracted from it as ``yigongti snapshot`` does)."""
    bench.catalogue_dimension.migrated = True
    root = tmp_path / "county"
    root.mkdir()
    params = bench.Params(7, YEAR, 3000, 1, schema=bench.schema_fingerprint())
    bench.generate(root, params)
    return root


def table(root: Path, name: str) -> pa.Table:
    return pq.read_table(root / name, partitioning="hive")


def test_drawn_tables_fit_the_snapshot(drawn: Path) -> None:
    manifest = json.loads((drawn / snapshot.MANIFEST).read_text("utf-8"))
    for spec in snapshot.TABLES:
        if manifest["tables"][spec.name]["rows"] == 0:
            continue
        files = sorted((drawn / spec.name).rglob("*.parquet"))
        assert pq.read_schema(files[0]) == snapshot.schema_of(spec), spec.name
    assert all(manifest["tables"][name]["rows"] > 0 for name in FAMILY)
    schedules, bookings = table(drawn, "schedules"), table(drawn, "bookings")
    assert pc.all(pc.is_in(bookings["schedule_id"], schedules["schedule_id"])).as_py()
    beds, wards = table(drawn, "bed_bookings"), table(drawn, "wards")
    assert pc.all(pc.is_in(beds["department_id"], wards["department_id"])).as_py()
    # a third of each session's slots reserved, a quarter of each ward's beds (rounded up)
    slots = schedules["slot_count"].to_numpy()
    assert (schedules["reserved_count"].to_numpy() == -(-slots // 3)).all()
    ward_beds = wards["beds"].to_numpy()
    assert (wards["reserved_beds"].to_numpy() == -(-ward_beds // 4)).all()
    # every up-referral goes to the general hospital, the first institution of the county
    referrals = table(drawn, "referrals")
    up = referrals.filter(pc.equal(referrals["direction"], "up"))
    institutions = table(drawn, "institutions")
    general = institutions["institution_id"][0].as_py()
    assert set(up["to_institution_id"].to_pylist()) == {general}


def _county(evaluation: Any, code: str) -> tuple[Decimal, Decimal]:
    return next(
        (r.numerator, r.denominator)
        for r in evaluation.rows
        if (r.indicator_code, r.level, r.category) == (code, "county", "")
    )


def test_engine_counts_the_drawn_referral_family(drawn: Path) -> None:
    evaluation = services.evaluate(
        [rules.parse_period(str(YEAR))], root=drawn, only=["ref-03", "ref-05"]
    )
    referrals = table(drawn, "referrals")
    sent = referrals.filter(
        pc.and_(
            pc.invert(pc.is_in(referrals["status"], pa.array(["draft", "cancelled"]))),
            pc.is_valid(referrals["submitted_at"]),
        )
    )
    local = pc.add(sent["submitted_at"], pa.scalar(dt.timedelta(hours=8)))
    sent = sent.filter(pc.equal(pc.year(local), YEAR))
    down = pc.sum(pc.equal(sent["direction"], "down")).as_py()
    assert _county(evaluation, "ref-03") == (Decimal(down), Decimal(sent.num_rows))
    assert 0 < down < sent.num_rows
    schedules, bookings = table(drawn, "schedules"), table(drawn, "bookings")
    open_ = schedules.filter(pc.equal(schedules["status"], "open"))
    live = bookings.filter(
        pc.and_(
            pc.and_(
                pc.equal(bookings["pool"], "reserved"), pc.equal(bookings["channel"], "grassroots")
            ),
            pc.is_in(bookings["status"], pa.array(["booked", "attended", "no_show"])),
        )
    )
    used = pc.sum(pc.is_in(live["schedule_id"], open_["schedule_id"])).as_py()
    reserved = pc.sum(open_["reserved_count"]).as_py()
    assert _county(evaluation, "ref-05") == (Decimal(used), Decimal(reserved))
    assert 0 < used < reserved
