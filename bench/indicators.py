"""Benchmark: every computed indicator on a county-year and on a ten-county province.

Data: a Parquet snapshot written directly (not through the database) with the schema, the
year=/month= layout and the manifest of ``yigongti snapshot`` (analytics/services.py), drawn
with numpy from a seed and calibrated like the generator (synth/calibration.py): 6.8 visits
per resident a year of which the member institutions see county hospitals 32.5 %, township
centres 27.5 %, village clinics 22.5 % (grassroots about 60 % of member visits), 20 admissions
per 100 residents (87.5 % in the county, a fifth of those at township centres), out-of-county
stays and visits and retail-pharmacy purchases as external settlements, costs by level with the
drug part of the bill; from the county's own stays, its up- and down-referrals, and the
county hospitals' outpatient sessions of the year with their bookings, their wards and the
reserved beds accepted up-referrals took (``draw_referral_family``), so ref-01 … ref-06 are
timed on data too. A county has 20 townships of 15 villages, a general, a TCM and a
maternal-child hospital, a centre per township and a clinic per village. Both snapshots are
cached under ``var/bench/indicators/{county,province}`` and reused while their ``params.json``
matches; the county-year has at least 3,000,000 encounters at the default 520,000 residents,
the province ten such counties.

Timings, in one process, each the best of ``--repeat`` runs after a warm-up:
``evaluate([year], engine="duckdb")`` on the county; the same indicators written plainly in
pandas (read with pyarrow, joins, filters and group-bys per indicator; its county numerators
and denominators must equal the engine's); the floor, one DuckDB scan of the encounters; a
hand-written lower bound, two DuckDB queries doing only part of the encounter work the
cheapest way we found (``hand_written_lower_bound``; its nhc-07 must equal the engine's);
``evaluate`` on the province with DuckDB and, if the Spark engine is installed, with Spark
local (every ResultRow must equal DuckDB's). Prints times, rows per second, peak RSS of this
process per phase (Spark's JVM not included) and the ratios against the issue's targets
(PASS/MISS): county at least 10x faster than pandas and within 5x of the floor, province on
DuckDB under 60 s, Spark equal to DuckDB. Never asserts a time.

    .venv/bin/python bench/indicators.py [--residents 520000] [--counties 10] [--seed 20251]
        [--year 2025] [--repeat 3] [--county-only] [--no-spark] [--regenerate]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / "var" / "bench" / "indicators"
PARAMS_FILE = "params.json"
# Bump when the drawing below changes, so cached snapshots are rebuilt.
# 2: the referral, schedule, booking and ward tables are drawn too; 3: the practitioners
DATA_VERSION = 3
TOWNSHIPS = 20  # calibration.md §1 per county: THC about 18 (use 12-25) [DER]
VILLAGES_PER_TOWNSHIP = 15  # §1 village clinics about 310 per county (use 150-400) [DER]
DEFAULT_RESIDENTS = 520_000  # §1 "average about 500k per county" [SEC]; >= 3M encounters
PROVINCE_CODE = "98"  # fictional province prefix (GB/T 2260 has none starting with 98)
TARGET_PANDAS_RATIO = 10.0  # issue 5 item 7: at least 10x faster than pandas
TARGET_FLOOR_RATIO = 5.0  # … within 5x of a single scan
TARGET_PROVINCE_S = 60.0  # … province on DuckDB under 60 s


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--residents", type=int, default=DEFAULT_RESIDENTS, help="per county")
    parser.add_argument("--counties", type=int, default=10, help="counties in the province")
    parser.add_argument("--seed", type=int, default=20251)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs after a warm-up")
    parser.add_argument("--spark-repeat", type=int, default=1, help="timed Spark runs")
    parser.add_argument("--county-only", action="store_true", help="skip the province")
    parser.add_argument("--no-spark", action="store_true", help="skip Spark on the province")
    parser.add_argument("--regenerate", action="store_true", help="ignore the cached snapshots")
    parser.add_argument("--data-dir", type=Path, default=CACHE, help="where the snapshots live")
    args = parser.parse_args()

    setup_django()
    schema = schema_fingerprint()
    county = Params(args.seed, args.year, args.residents, 1, schema=schema)
    county_root = ensure_snapshot(args.data_dir / "county", county, args.regenerate)
    report = Report()
    bench_county(county_root, county, args.repeat, report)
    if not args.county_only:
        province = Params(args.seed, args.year, args.residents, args.counties, schema=schema)
        province_root = ensure_snapshot(args.data_dir / "province", province, args.regenerate)
        bench_province(province_root, province, args, report)
    report.summary()


def setup_django() -> None:
    """Settings with a throwaway data directory: the engine reads Parquet only; the database
    is used just to extract catalogue dimensions (see ``catalogue_dimensions``)."""
    os.environ["YIGONGTI_DATA_DIR"] = tempfile.mkdtemp(prefix="yigongti-bench-indicators-")
    os.environ["YIGONGTI_PROFILE"] = "demo"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yigongti.config.settings")
    import django

    django.setup()


# ---------------------------------------------------------------------------
# Data: parameters, cache, generation in a child process
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    seed: int
    year: int
    residents: int  # per county
    counties: int
    version: int = DATA_VERSION
    townships: int = TOWNSHIPS
    villages_per_township: int = VILLAGES_PER_TOWNSHIP
    schema: str = ""  # the snapshot's tables and columns (a changed schema regenerates)


def schema_fingerprint() -> str:
    from yigongti.analytics import services as snapshot

    text = json.dumps(
        [[s.name, s.partition_by or "", str(snapshot.schema_of(s))] for s in snapshot.TABLES]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def ensure_snapshot(root: Path, params: Params, regenerate: bool) -> Path:
    """Reuse the snapshot under ``root`` when it was generated with the same parameters and its
    manifest is complete; otherwise generate it (in a forked child, so this process's peak
    memory is the timings')."""
    wanted = asdict(params)
    stamp = root / PARAMS_FILE
    if not regenerate and stamp.is_file() and (root / "manifest.json").is_file():
        if json.loads(stamp.read_text("utf-8")) == wanted:
            print(f"data: reusing {shown(root)} {json.dumps(wanted)}")
            return root
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    started = time.perf_counter()
    child = multiprocessing.get_context("fork").Process(target=generate, args=(root, params))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"generating {root} failed with exit code {child.exitcode}")
    stamp.write_text(json.dumps(wanted, indent=1), "utf-8")
    size = sum(f.stat().st_size for f in root.rglob("*.parquet")) / 2**20
    print(
        f"data: generated {shown(root)} in {time.perf_counter() - started:.1f} s "
        f"({size:,.0f} MiB of Parquet) {json.dumps(wanted)}"
    )
    return root


def shown(root: Path) -> str:
    return str(root.relative_to(REPO)) if root.is_relative_to(REPO) else str(root)


def generate(root: Path, params: Params) -> None:
    """Write the whole snapshot: dimensions, then the facts county by county into one file per
    year/month partition (as ``yigongti snapshot`` lays them out), then the manifest."""
    from yigongti.analytics import rules
    from yigongti.analytics import services as snapshot
    from yigongti.core import clock

    specs = {s.name: s for s in snapshot.TABLES}
    ids = Ids()
    counties = [build_county(c, params, ids) for c in range(params.counties)]
    dims = {
        "divisions": divisions_table(counties, snapshot.schema_of(specs["divisions"])),
        "institutions": institutions_table(counties, snapshot.schema_of(specs["institutions"])),
    }
    if "practitioners" in specs:
        dims["practitioners"] = practitioners_table(
            counties, snapshot.schema_of(specs["practitioners"])
        )
    sinks = {
        name: FactSink(root, specs[name])
        for name in ("encounters", "external_settlements")
        if name in specs
    }
    residents: list[pa.Table] = []
    referral_family: dict[str, list[pa.Table]] = {}
    counts = {"encounters": 0, "external_settlements": 0}
    for county in counties:
        rng = np.random.default_rng([params.seed, county.index])
        people, encounters, settlements = draw_county(rng, county, params, ids)
        residents.append(people)
        family = draw_referral_family(
            np.random.default_rng([params.seed, county.index, 6]), county, encounters, params, ids
        )
        for name, table in family.items():
            referral_family.setdefault(name, []).append(table)
        for name, table in (("encounters", encounters), ("external_settlements", settlements)):
            counts[name] += table.num_rows
            if name in sinks:
                sinks[name].add(table)
        print(
            f"  county {county.code}: residents {people.num_rows:,} "
            f"encounters {encounters.num_rows:,} settlements {settlements.num_rows:,} "
            + " ".join(f"{name} {t.num_rows:,}" for name, t in family.items()),
            flush=True,
        )
    dims["residents"] = pa.concat_tables(residents).cast(snapshot.schema_of(specs["residents"]))
    for name, parts in referral_family.items():
        dims[name] = pa.concat_tables(parts).cast(snapshot.schema_of(specs[name]))
    tables: dict[str, Any] = {}
    for spec in snapshot.TABLES:
        if spec.name in sinks:
            partitions = sinks[spec.name].close()
        elif spec.partition_by is not None:
            print(f"  {spec.name}: a fact table this benchmark does not draw (left empty)")
            partitions = {}
        else:
            table = dims.get(spec.name)
            if table is None:
                table = catalogue_dimension(spec)
            partitions = write_dimension(root, spec, table)
        tables[spec.name] = {
            "rows": sum(p["rows"] for p in partitions.values()),
            "partitioned_by": spec.partition_by or "",
            "columns": [name for _path, name, _kind in spec.columns],
            "partitions": partitions,
        }
    taken = clock.now()
    body = json.dumps(tables, sort_keys=True, ensure_ascii=False)
    manifest = {
        "version": rules.MANIFEST_VERSION,
        "snapshot_id": taken.strftime("%Y%m%dT%H%M%S")
        + "-"
        + hashlib.sha256(body.encode()).hexdigest()[:8],
        "taken_at": taken.isoformat(),
        "data_until": rules.data_until(tables["encounters"]["partitions"]),
        "tables": tables,
        "generated_by": "bench/indicators.py",
    }
    tmp = root / (snapshot.MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True), "utf-8")
    os.replace(tmp, root / snapshot.MANIFEST)


def catalogue_dimension(spec: Any) -> pa.Table:
    """A dimension this benchmark does not draw (a catalogue such as ICD-10): extracted from a
    freshly migrated database exactly as ``yigongti snapshot`` extracts it."""
    from django.core.management import call_command

    from yigongti.analytics import services as snapshot

    if not getattr(catalogue_dimension, "migrated", False):
        call_command("migrate", verbosity=0)
        catalogue_dimension.migrated = True  # type: ignore[attr-defined]
    batches = list(snapshot._batches(spec, spec.rows()))
    return pa.Table.from_batches(batches, schema=snapshot.schema_of(spec))


def write_dimension(root: Path, spec: Any, table: pa.Table) -> dict[str, Any]:
    from yigongti.analytics import rules
    from yigongti.analytics import services as snapshot

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as stream:
        stream.write_table(table)
    fp = hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()
    rel = rules.partition_path(spec.name, rules.WHOLE)
    rows, digest = snapshot._write(
        root / rel, spec, iter(table.to_batches(max_chunksize=snapshot.BATCH_ROWS))
    )
    return {rules.WHOLE: {"file": rel, "rows": rows, "sha256": digest, "fingerprint": fp}}


class FactSink:
    """The month partitions of one fact table, appended county by county in id order, in
    batches of ``BATCH_ROWS`` (the row groups ``yigongti snapshot`` writes)."""

    def __init__(self, root: Path, spec: Any):
        from yigongti.analytics import services as snapshot

        self.root = root
        self.spec = spec
        self.schema = snapshot.schema_of(spec)
        self.batch_rows = snapshot.BATCH_ROWS
        self.id_column = spec.columns[0][1]
        self.open: dict[str, tuple[pq.ParquetWriter, Path, Path]] = {}
        self.rows: dict[str, int] = {}
        self.id_sums: dict[str, int] = {}

    def add(self, table: pa.Table) -> None:
        from yigongti.analytics import rules

        date_column = next(n for p, n, _k in self.spec.columns if p == self.spec.partition_by)
        days = table[date_column].cast(pa.int32()).to_numpy()
        month = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        for m in np.unique(month):
            part = table.filter(pa.array(month == m))
            key = rules.partition_key(int(m // 12 + 1970), int(m % 12 + 1))
            if key not in self.open:
                final = self.root / rules.partition_path(self.spec.name, key)
                final.parent.mkdir(parents=True, exist_ok=True)
                tmp = final.with_name(final.name + ".tmp")
                writer = pq.ParquetWriter(tmp, self.schema, compression="zstd")
                self.open[key] = (writer, tmp, final)
                self.rows[key] = 0
                self.id_sums[key] = 0
            writer = self.open[key][0]
            for batch in part.to_batches(max_chunksize=self.batch_rows):
                writer.write_batch(batch)
            self.rows[key] += part.num_rows
            self.id_sums[key] += int(pc.sum(part[self.id_column]).as_py())

    def close(self) -> dict[str, Any]:
        from yigongti.analytics import rules
        from yigongti.core.cli import sha256_file

        partitions: dict[str, Any] = {}
        for key in sorted(self.open):
            writer, tmp, final = self.open[key]
            writer.close()
            os.replace(tmp, final)
            partitions[key] = {
                "file": rules.partition_path(self.spec.name, key),
                "rows": self.rows[key],
                "sha256": sha256_file(final),
                "fingerprint": rules.fingerprint(self.rows[key], None, self.id_sums[key]),
            }
        return partitions


# ---------------------------------------------------------------------------
# Data: the places of a county (divisions and institutions)
# ---------------------------------------------------------------------------


@dataclass
class Ids:
    """Id counters shared by the counties of a province, so every id is distinct."""

    division: int = 1  # 1 is the province
    institution: int = 0
    resident: int = 0
    encounter: int = 0
    settlement: int = 0
    referral: int = 0
    schedule: int = 0
    booking: int = 0
    bed_booking: int = 0

    def take(self, kind: str, n: int) -> np.ndarray:
        first = getattr(self, kind) + 1
        setattr(self, kind, first + n - 1)
        return np.arange(first, first + n, dtype=np.int64)


@dataclass
class County:
    index: int
    division_id: int
    code: str
    township_ids: np.ndarray
    village_ids: np.ndarray
    village_township: np.ndarray  # village → township position
    general: int
    tcm: int
    mch: int
    thc_ids: np.ndarray  # per township
    clinic_ids: np.ndarray  # per village
    institutions: list[dict[str, Any]] = field(default_factory=list)
    divisions: list[dict[str, Any]] = field(default_factory=list)


def build_county(c: int, params: Params, ids: Ids) -> County:
    code = f"{PROVINCE_CODE}01{c + 1:02d}"
    n_t, n_v = params.townships, params.villages_per_township
    county_id = int(ids.take("division", 1)[0])
    townships = ids.take("division", n_t)
    villages = ids.take("division", n_t * n_v)
    village_township = np.repeat(np.arange(n_t), n_v)
    divisions = [
        {"division_id": county_id, "code": code + "000000", "name": f"基准{c + 1}县",
         "level": "county", "parent_id": 1}
    ]  # fmt: skip
    for t, tid in enumerate(townships.tolist()):
        divisions.append(
            {"division_id": tid, "code": f"{code}{t + 1:03d}000", "name": f"第{t + 1}镇",
             "level": "township", "parent_id": county_id}
        )  # fmt: skip
    for v, vid in enumerate(villages.tolist()):
        t = int(village_township[v])
        divisions.append(
            {"division_id": vid, "code": f"{code}{t + 1:03d}{v % n_v + 1:03d}",
             "name": f"第{t + 1}镇{v % n_v + 1}村", "level": "village",
             "parent_id": int(townships[t])}
        )  # fmt: skip
    hospitals = ids.take("institution", 3)
    thcs = ids.take("institution", n_t)
    clinics = ids.take("institution", n_t * n_v)
    general, tcm, mch = (int(h) for h in hospitals)
    seat = int(townships[0])
    inst: list[dict[str, Any]] = []

    def add(iid: int, kind: str, level: str, name: str, parent: int | None, place: int,
            serves: int, beds: int) -> None:  # fmt: skip
        inst.append(
            {
                "institution_id": iid,
                "code": f"B{c + 1:02d}{len(inst) + 1:04d}",
                "name": name,
                "inst_type": kind,
                "level": level,
                "medcom_id": c + 1,
                "parent_id": parent,
                "division_id": place,
                "service_division_id": serves,
                "beds": beds,
            }
        )

    add(general, "general_hospital", "2", f"基准{c + 1}县人民医院", None, seat, county_id, 900)
    add(tcm, "tcm_hospital", "2", f"基准{c + 1}县中医医院", general, seat, county_id, 400)
    add(mch, "mch_hospital", "2", f"基准{c + 1}县妇幼保健院", general, seat, county_id, 200)
    for t, (thc, tid) in enumerate(zip(thcs.tolist(), townships.tolist(), strict=True)):
        add(thc, "township_health_centre", "1", f"第{t + 1}镇卫生院", general, tid, tid, 60)
    for v, (clinic, vid) in enumerate(zip(clinics.tolist(), villages.tolist(), strict=True)):
        t = int(village_township[v])
        name = f"第{t + 1}镇{v % n_v + 1}村卫生室"
        add(clinic, "village_clinic", "0", name, int(thcs[t]), vid, vid, 0)
    return County(
        c, county_id, code, townships, villages, village_township, general, tcm, mch, thcs,
        clinics, inst, divisions,
    )  # fmt: skip


def divisions_table(counties: list[County], schema: pa.Schema) -> pa.Table:
    rows: list[dict[str, Any]] = [
        {"division_id": 1, "code": PROVINCE_CODE + "0" * 10, "name": "基准省",
         "level": "province", "parent_id": None}
    ]  # fmt: skip
    for county in counties:
        rows.extend(county.divisions)
    return pa.Table.from_pylist(rows, schema=schema)


def institutions_table(counties: list[County], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist([i for c in counties for i in c.institutions], schema=schema)


DOCTORS_EACH = 12  # doctors per institution, ids institution × 100 + 0 … 11 (draw_encounters)


def practitioners_table(counties: list[County], schema: pa.Schema) -> pa.Table:
    """The doctors the encounters name: codes as the demo's 工号 (institution code-nnnn)."""
    rows = [
        {
            "practitioner_id": i["institution_id"] * 100 + k,
            "code": f"{i['code']}-{k + 1:04d}",
            "employer_id": i["institution_id"],
        }
        for c in counties
        for i in c.institutions
        for k in range(DOCTORS_EACH)
    ]
    return pa.Table.from_pylist(rows, schema=schema)


# ---------------------------------------------------------------------------
# Data: residents, encounters and settlements of one county-year (numpy, column-wise)
# ---------------------------------------------------------------------------

RESIDENT, EMPLOYEE, NONE = 0, 1, 2  # synth.encounters.INSURANCE_CODES order
GROUPS = ("child", "adult", "female", "elderly")  # the keys of the synth diagnosis mixes


@dataclass
class Block:
    """Rows of one kind, column-wise: ``person`` indexes the county's residents."""

    person: np.ndarray
    day: np.ndarray  # days since 1970-01-01
    total: np.ndarray  # cents
    parts: np.ndarray  # cents: drug, material, exam, service
    fund: np.ndarray
    deductible: np.ndarray
    diagnosis: np.ndarray  # index into the code list, -1 none
    setting: str
    stay: np.ndarray | None = None
    institution: np.ndarray | None = None
    is_tcm: np.ndarray | None = None
    other: np.ndarray | None = None
    external: np.ndarray | None = None  # out-of-county institution index, -1 pharmacy
    referred: np.ndarray | None = None


class Drawer:
    """One county's draws; the figures and their sources are those of synth/calibration.py."""

    def __init__(self, rng: np.random.Generator, county: County, params: Params):
        from yigongti.synth import calibration as cal
        from yigongti.synth import encounters as synth

        self.cal, self.synth, self.rng, self.county = cal, synth, rng, county
        n = params.residents
        self.first = int(np.datetime64(f"{params.year}-01-01", "D").astype(np.int64))
        self.days = 366 if params.year % 4 == 0 else 365
        ages = rng.choice(100, size=n, p=cal.single_year_weights())
        female = rng.random(n) >= cal.MALE_SHARE
        self.ages, self.female = ages, female
        # Villages of unequal size (lognormal weights); a resident lives in one.
        weights = rng.lognormal(0.0, 0.5, size=len(county.village_ids))
        self.village = np.sort(rng.choice(len(weights), size=n, p=weights / weights.sum()))
        u = rng.random(n)
        adult = ages >= 18
        self.insurance = np.where(
            u < cal.INSURANCE_NONE,
            NONE,
            np.where(adult & (u < cal.INSURANCE_NONE + cal.INSURANCE_EMPLOYEE / 0.8), EMPLOYEE,
                     RESIDENT),
        ).astype(np.int8)  # fmt: skip
        htn = np.zeros(n, dtype=bool)
        for (lo, hi), p in cal.HYPERTENSION.items():
            at = (ages >= lo) & (ages < hi)
            htn[at] = rng.random(int(at.sum())) < p
        self.htn = htn
        self.dm = rng.random(n) < np.where(ages >= 60, cal.DIABETES_60_PLUS, adult * 0.08)
        self.smi = rng.random(n) < cal.SMI_SHARE
        band = np.select([ages < 5, ages < 15, ages < 45, ages < 60], [0, 1, 2, 3], 4)
        self.visit_w = np.array(cal.VISIT_AGE_WEIGHT)[band]
        self.admit_w = np.array(cal.ADMISSION_AGE_WEIGHT)[band]
        self.group = np.where(
            ages < 15, 0, np.where(ages >= 60, 3, np.where(female & adult & (ages < 46), 2, 1))
        )
        mixes = (synth.GRASSROOTS_OP, synth.COUNTY_OP, synth.COUNTY_IP, synth.THC_IP,
                 synth.OUT_IP, synth.OUT_OP)  # fmt: skip
        self.codes = sorted({c for mix in mixes for rows in mix.values() for c, _w in rows})
        self.code_index = {c: i for i, c in enumerate(self.codes)}

    def people(self, n: int, weights: np.ndarray) -> np.ndarray:
        return np.sort(self.rng.choice(len(weights), size=n, p=weights / weights.sum()))

    def diagnoses(self, person: np.ndarray, mix: dict[str, Any]) -> np.ndarray:
        out = np.empty(len(person), dtype=np.int64)
        group = self.group[person]
        for g, key in enumerate(GROUPS):
            at = np.flatnonzero(group == g)
            idx = np.array([self.code_index[c] for c, _w in mix[key]])
            p = np.array([w for _c, w in mix[key]], dtype=float)
            out[at] = idx[self.rng.choice(len(idx), size=len(at), p=p / p.sum())]
        return out

    def dates(self, n: int, stay: np.ndarray | None = None) -> np.ndarray:
        """Uniform over the year; a stay ends inside it (as the generator draws them)."""
        span = self.days - (0 if stay is None else stay)
        return self.first + np.floor(self.rng.random(n) * span).astype(np.int64)

    def stays(self, n: int, mean: float) -> np.ndarray:
        return 1 + np.floor(self.rng.gamma(2.0, (mean - 0.5) / 2.0, size=n)).astype(np.int64)

    def costs(self, n: int, mean: float, kind: str) -> tuple[np.ndarray, np.ndarray]:
        cal = self.cal
        sigma = cal.COST_SIGMA[kind]
        mu = np.log(mean) - sigma * sigma / 2
        total = np.maximum(100, np.round(self.rng.lognormal(mu, sigma, size=n) * 100))
        total = total.astype(np.int64)
        if kind == "pharmacy":
            parts = np.zeros((n, 4), dtype=np.int64)
            parts[:, 0] = total
            return total, parts
        shares = self.rng.dirichlet(
            np.array(cal.COST_PARTS[kind]) * cal.COST_PARTS_CONCENTRATION, size=n
        )
        parts = np.floor(shares[:, :3] * total[:, None]).astype(np.int64)
        return total, np.column_stack([parts, total - parts.sum(axis=1)])

    def settle(
        self, person: np.ndarray, total: np.ndarray, place: str, inpatient: bool,
        referred: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        cal = self.cal
        ins = self.insurance[person]
        if inpatient:
            rate0, ded0 = cal.INPATIENT_REIMBURSEMENT[place]
            rate = np.full(len(total), rate0)
            if referred is not None:
                rate = rate - np.where(referred, 0.0, cal.UNREFERRED_PENALTY)
            deductible = np.full(len(total), int(ded0 * 100), dtype=np.int64)
        else:
            rate = np.full(len(total), cal.OUTPATIENT_REIMBURSEMENT[place])
            deductible = np.zeros(len(total), dtype=np.int64)
        rate = rate + np.where(ins == EMPLOYEE, cal.EMPLOYEE_BONUS, 0.0)
        rate = np.where(ins == NONE, 0.0, np.clip(rate, 0.0, 0.95))
        deductible = np.where(ins == NONE, 0, np.minimum(deductible, total))
        return np.floor((total - deductible) * rate).astype(np.int64), deductible

    def hospital(self, n: int, split: dict[str, float]) -> np.ndarray:
        c = self.county
        u = self.rng.random(n)
        return np.where(
            u < split["general"],
            c.general,
            np.where(u < split["general"] + split["tcm"], c.tcm, c.mch),
        )

    def other_diagnoses(self, person: np.ndarray) -> np.ndarray:
        """A chronic comorbidity as the second diagnosis of some hypertensive or diabetic
        patients' encounters (I10 / E11.9), -1 otherwise."""
        n = len(person)
        u = self.rng.random(n)
        i10, e11 = self.code_index.get("I10", -1), self.code_index.get("E11.9", -1)
        return np.where(
            self.htn[person] & (u < 0.3), i10, np.where(self.dm[person] & (u > 0.8), e11, -1)
        )

    # -- the year ------------------------------------------------------------------

    def year(self) -> tuple[list[Block], list[Block]]:
        cal, synth, rng, c = self.cal, self.synth, self.rng, self.county
        pop = len(self.ages)
        visits = pop * cal.VISITS_PER_PERSON
        encounters: list[Block] = []
        for place, mix in (
            ("thc", synth.GRASSROOTS_OP),
            ("village", synth.GRASSROOTS_OP),
            ("county", synth.COUNTY_OP),
        ):
            n = round(visits * cal.VISIT_SPLIT[place])
            person = self.people(n, self.visit_w)
            emergency = np.zeros(n, dtype=bool)
            if place == "county":
                institution = self.hospital(n, cal.COUNTY_HOSPITAL_SPLIT)
                is_tcm = (institution == c.tcm) | (
                    (institution == c.general) & (rng.random(n) < cal.TCM_SHARE["general"])
                )
                emergency = (rng.random(n) < cal.EMERGENCY_SHARE) & (institution != c.tcm)
            else:
                village = self.village[person]
                institution = (
                    c.thc_ids[c.village_township[village]]
                    if place == "thc"
                    else c.clinic_ids[village]
                )
                is_tcm = rng.random(n) < cal.TCM_SHARE[place]
            total, parts = self.costs(n, cal.OUTPATIENT_COST[place], "outpatient")
            bump = np.round(total[emergency] * cal.EMERGENCY_COST_FACTOR).astype(np.int64)
            parts[emergency, 3] += bump - total[emergency]
            total[emergency] = bump
            fund, ded = self.settle(person, total, place, inpatient=False)
            diagnosis = self.diagnoses(person, mix)
            other = self.other_diagnoses(person)
            day = self.dates(n)
            for setting, at in (("outpatient", ~emergency), ("emergency", emergency)):
                if at.any():
                    encounters.append(
                        Block(
                            person[at], day[at], total[at], parts[at], fund[at], ded[at],
                            diagnosis[at], setting, np.zeros(int(at.sum()), dtype=np.int64),
                            institution[at], is_tcm[at], other[at],
                        )
                    )  # fmt: skip
        admissions = pop * cal.ADMISSIONS_PER_100 / 100
        in_county = round(admissions * cal.ADMISSIONS_IN_COUNTY)
        n_thc = round(in_county * cal.ADMISSIONS_AT_THC)
        for place, n, mix in (
            ("county", in_county - n_thc, synth.COUNTY_IP),
            ("thc", n_thc, synth.THC_IP),
        ):
            person = self.people(n, self.admit_w)
            if place == "county":
                institution = self.hospital(n, cal.COUNTY_ADMISSION_SPLIT)
                is_tcm = institution == c.tcm
            else:
                institution = c.thc_ids[c.village_township[self.village[person]]]
                is_tcm = rng.random(n) < cal.TCM_SHARE["thc"] / 2
            stay = self.stays(n, cal.ALOS_DAYS[place])
            total, parts = self.costs(n, cal.INPATIENT_COST[place], "inpatient")
            fund, ded = self.settle(person, total, place, inpatient=True)
            encounters.append(
                Block(
                    person, self.dates(n, stay), total, parts, fund, ded,
                    self.diagnoses(person, mix), "inpatient", stay, institution, is_tcm,
                    self.other_diagnoses(person),
                )
            )  # fmt: skip
        ext_p = np.array([o[4] for o in synth.OUT_OF_COUNTY])
        ext_p = ext_p / ext_p.sum()
        settlements: list[Block] = []
        n = round(admissions) - in_county
        person = self.people(n, self.admit_w)
        stay = self.stays(n, cal.ALOS_DAYS["out_of_county"])
        referred = rng.random(n) < cal.OUT_OF_COUNTY_REFERRED
        total, parts = self.costs(n, cal.INPATIENT_COST["out_of_county"], "inpatient")
        fund, ded = self.settle(person, total, "out_of_county", True, referred)
        settlements.append(
            Block(
                person, self.dates(n, stay), total, parts, fund, ded,
                self.diagnoses(person, synth.OUT_IP), "inpatient", stay,
                external=rng.choice(len(ext_p), size=n, p=ext_p), referred=referred,
            )
        )  # fmt: skip
        n = round(visits * cal.VISIT_SPLIT["out_of_county"])
        person = self.people(n, self.visit_w)
        total, parts = self.costs(n, cal.OUTPATIENT_COST["out_of_county"], "outpatient")
        fund, ded = self.settle(person, total, "out_of_county", False)
        settlements.append(
            Block(
                person, self.dates(n), total, parts, fund, ded,
                self.diagnoses(person, synth.OUT_OP), "outpatient",
                external=rng.choice(len(ext_p), size=n, p=ext_p),
                referred=np.zeros(n, dtype=bool),
            )
        )  # fmt: skip
        n = round(pop * cal.PHARMACY_PER_PERSON)
        person = self.people(n, self.visit_w)
        total, parts = self.costs(n, cal.PHARMACY_COST, "pharmacy")
        fund, ded = self.settle(person, total, "pharmacy", False)
        settlements.append(
            Block(
                person, self.dates(n), total, parts, fund, ded, np.full(n, -1), "outpatient",
                external=np.full(n, -1), referred=np.zeros(n, dtype=bool),
            )
        )  # fmt: skip
        return encounters, settlements


def draw_county(
    rng: np.random.Generator, county: County, params: Params, ids: Ids
) -> tuple[pa.Table, pa.Table, pa.Table]:
    from yigongti.analytics import services as snapshot

    specs = {s.name: s for s in snapshot.TABLES}
    d = Drawer(rng, county, params)
    resident_ids = ids.take("resident", params.residents)
    insurance_names = ["resident", "employee", "none"]
    residents = pa.table(
        {
            "resident_id": resident_ids,
            "sex": text(d.female.astype(np.int8), ["M", "F"]),
            "birth_year": pa.array((params.year - d.ages).astype(np.int32)),
            "division_id": pa.array(county.village_ids[d.village]),
            "insurance_type": text(d.insurance, insurance_names),
            "has_hypertension": pa.array(d.htn),
            "has_diabetes": pa.array(d.dm),
            "has_severe_mental_illness": pa.array(d.smi),
            "is_deceased": pa.array(np.zeros(len(d.ages), dtype=bool)),
            "merged_into_id": pa.nulls(len(d.ages), pa.int64()),
        }
    )
    enc_blocks, set_blocks = d.year()
    encounters = encounters_table(
        enc_blocks, d, resident_ids, ids, snapshot.schema_of(specs["encounters"])
    )
    settlements = settlements_table(
        set_blocks, d, resident_ids, ids, snapshot.schema_of(specs["external_settlements"])
    )
    return residents, encounters, settlements


# Two-way referral and the pools (issue 6), drawn from the county's own stays. calibration.md
# §6 [EST]: up-referrals about 3-6 % of THC inpatients, down-referrals about 1-3 % of
# county-hospital discharges, and up : down about 2:1 to 4:1. With four times as many county
# stays as THC stays the two cannot all hold: the top of one range and the bottom of the
# other come closest (about 1.5 : 1). The pools' shares are the policy parameters' defaults
# (core/rules.py: 1/3 of the lead hospital's slots, 1/4 of its beds, seeds/004 §9 [V]).
UP_REFERRAL_SHARE = 0.06
DOWN_REFERRAL_SHARE = 0.01
REFERRAL_STATUS = {  # status of a referral once made [I]; draft/cancelled ones were never sent
    "closed": 0.55, "completed": 0.2, "returned": 0.08, "rejected": 0.05, "expired": 0.02,
    "cancelled": 0.05, "draft": 0.05,
}  # fmt: skip
ACCEPTED_STATUSES = ("closed", "completed", "returned")
ACCEPTANCE_MEAN_HOURS = 5.0  # [I]: most are accepted the same working day
RESERVED_BED_TAKEN = 0.6  # accepted up-referrals that take a reserved bed [I]
SLOT_SHARE, BED_SHARE = (1, 3), (1, 4)
SESSION_SLOTS = (20, 15)  # a morning and an afternoon, as synth/scheduling.py publishes
SLOTS_TAKEN = {"reserved": 0.55, "public": 0.65}  # [I]
BOOKING_STATUS = {"attended": 0.8, "no_show": 0.07, "cancelled": 0.08, "booked": 0.05}  # [I]
WARD_BEDS = {"general": (60, 50, 40, 30), "tcm": (40, 30), "mch": (30, 20), "thc": (30,)}
LOCAL_OFFSET_S = 8 * 3600  # UTC+8


def _moments(days: np.ndarray, seconds: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Local (UTC+8) day + seconds after its midnight as the snapshot's UTC timestamps."""
    us = (days.astype(np.int64) * 86400 + seconds.astype(np.int64) - LOCAL_OFFSET_S) * 1_000_000
    return pa.array(us, mask=mask).cast(pa.timestamp("us", tz="UTC"))


def _ceil_share(n: np.ndarray, share: tuple[int, int]) -> np.ndarray:
    num, den = share
    return (n * num + den - 1) // den


def draw_referral_family(
    rng: np.random.Generator, county: County, encounters: pa.Table, params: Params, ids: Ids
) -> dict[str, pa.Table]:
    """The county's referrals (from its own stays: up from the township centres to the general
    hospital, down from the county hospitals to a centre), the county hospitals' outpatient
    sessions of the year with their bookings, their and the centres' wards, and the reserved
    beds the accepted up-referrals took."""
    setting = encounters["setting"].to_numpy(zero_copy_only=False)
    inst = encounters["institution_id"].to_numpy()
    out_day = encounters["discharge_date"].cast(pa.int32()).fill_null(0).to_numpy()
    resident = encounters["resident_id"].to_numpy()
    stays = setting == "inpatient"
    hospitals = np.array([county.general, county.tcm, county.mch], dtype=np.int64)
    u = rng.random(len(inst))
    up = np.flatnonzero(stays & np.isin(inst, county.thc_ids) & (u < UP_REFERRAL_SHARE))
    down = np.flatnonzero(stays & np.isin(inst, hospitals) & (u < DOWN_REFERRAL_SHARE))
    rows = np.concatenate([up, down])
    n = len(rows)
    direction = np.concatenate([np.zeros(len(up), np.int8), np.ones(len(down), np.int8)])
    to = np.where(direction == 0, county.general, rng.choice(county.thc_ids, size=n)).astype(
        np.int64
    )
    names = list(REFERRAL_STATUS)
    status = rng.choice(len(names), size=n, p=list(REFERRAL_STATUS.values()))
    day = out_day[rows]
    submitted_s = rng.integers(8 * 3600, 18 * 3600, size=n)
    waited = np.minimum(rng.exponential(ACCEPTANCE_MEAN_HOURS * 3600, size=n), 72 * 3600)
    accepted_s = submitted_s + waited.astype(np.int64)
    is_draft = status == names.index("draft")
    accepted = np.isin(status, [names.index(x) for x in ACCEPTED_STATUSES])
    closed = status == names.index("closed")
    referrals = pa.table(
        {
            "referral_id": ids.take("referral", n),
            "direction": text(direction, ["up", "down"]),
            "urgency": text(np.zeros(n, np.int8), ["routine"]),
            "status": text(status, names),
            "resident_id": pa.array(resident[rows]),
            "from_institution_id": pa.array(inst[rows]),
            "to_institution_id": pa.array(to),
            "parent_id": pa.nulls(n, pa.int64()),
            "green_channel": pa.array(rng.random(n) < 0.1),
            "submitted_at": _moments(day, submitted_s, mask=is_draft),
            "accepted_at": _moments(day, accepted_s, mask=~accepted),
            "completed_at": _moments(day + 7, accepted_s, mask=~accepted),
            "closed_at": _moments(day + 14, accepted_s, mask=~closed),
        }
    )
    # wards: departments institution × 10 + k, as the encounters' department ids
    ward_inst, ward_dept, ward_beds = [], [], []
    for kind, institutions in (
        ("general", [county.general]), ("tcm", [county.tcm]), ("mch", [county.mch]),
        ("thc", county.thc_ids.tolist()),
    ):  # fmt: skip
        for i in institutions:
            for k, count in enumerate(WARD_BEDS[kind]):
                ward_inst.append(i)
                ward_dept.append(i * 10 + k)
                ward_beds.append(count)
    beds = np.array(ward_beds, dtype=np.int64)
    wards = pa.table(
        {
            "department_id": pa.array(ward_dept, pa.int64()),
            "institution_id": pa.array(ward_inst, pa.int64()),
            "beds": pa.array(beds),
            "reserved_beds": pa.array(_ceil_share(beds, BED_SHARE)),
        }
    )
    # reserved beds: accepted up-referrals admitted to one of the general hospital's wards
    took = np.flatnonzero(accepted & (direction == 0) & (rng.random(n) < RESERVED_BED_TAKEN))
    m = len(took)
    general_wards = np.array(ward_dept[: len(WARD_BEDS["general"])], dtype=np.int64)
    admitted_day = day[took] + (accepted_s[took] + 2 * 3600) // 86400
    admitted_s = (accepted_s[took] + 2 * 3600) % 86400
    los = np.maximum(1, np.round(rng.gamma(2.0, 4.0, size=m))).astype(np.int64)
    year_end = int(np.datetime64(f"{params.year + 1}-01-01", "D").astype(np.int64))
    in_bed = admitted_day + los >= year_end  # still in at the year's end
    bed_bookings = pa.table(
        {
            "bed_booking_id": ids.take("bed_booking", m),
            "department_id": pa.array(rng.choice(general_wards, size=m)),
            "pool": text(np.zeros(m, np.int8), ["reserved"]),
            "up_referral": pa.array(np.ones(m, dtype=bool)),
            "status": text(in_bed.astype(np.int8), ["released", "admitted"]),
            "admitted_at": _moments(admitted_day, admitted_s),
            "closed_at": _moments(admitted_day + los, np.full(m, 10 * 3600), mask=in_bed),
        }
    )
    # sessions: each county hospital's four departments, weekday mornings and afternoons and
    # the first department's weekend mornings, every day of the year
    first = int(np.datetime64(f"{params.year}-01-01", "D").astype(np.int64))
    days = np.arange(first, year_end)
    weekday = (days + 3) % 7 < 5  # 1970-01-01 was a Thursday
    s_inst, s_dept, s_day, s_slots = [], [], [], []
    for i in hospitals.tolist():
        for k in range(4):
            for session, slots in enumerate(SESSION_SLOTS):
                on = weekday if (k or session) else np.ones(len(days), dtype=bool)
                s_day.append(days[on])
                s_inst.append(np.full(int(on.sum()), i))
                s_dept.append(np.full(int(on.sum()), i * 10 + k))
                s_slots.append(np.full(int(on.sum()), slots))
    slot_count = np.concatenate(s_slots)
    k = len(slot_count)
    reserved_count = _ceil_share(slot_count, SLOT_SHARE)
    cancelled = rng.random(k) < 0.02
    schedule_ids = ids.take("schedule", k)
    schedule_day = np.concatenate(s_day)
    schedules = pa.table(
        {
            "schedule_id": schedule_ids,
            "institution_id": pa.array(np.concatenate(s_inst)),
            "department_id": pa.array(np.concatenate(s_dept)),
            "day": dates(schedule_day),
            "slot_count": pa.array(slot_count),
            "reserved_count": pa.array(reserved_count),
            "status": text(cancelled.astype(np.int8), ["open", "cancelled"]),
        }
    )
    taken_r = np.where(cancelled, 0, rng.binomial(reserved_count, SLOTS_TAKEN["reserved"]))
    taken_p = np.where(
        cancelled, 0, rng.binomial(slot_count - reserved_count, SLOTS_TAKEN["public"])
    )
    which = np.concatenate([np.repeat(np.arange(k), taken_r), np.repeat(np.arange(k), taken_p)])
    pool = np.concatenate([np.zeros(taken_r.sum(), np.int8), np.ones(taken_p.sum(), np.int8)])
    b = len(which)
    b_status = list(BOOKING_STATUS)
    bookings = pa.table(
        {
            "booking_id": ids.take("booking", b),
            "schedule_id": pa.array(schedule_ids[which]),
            "pool": text(pool, ["reserved", "public"]),
            "channel": text(pool, ["grassroots", "public"]),
            "status": text(
                rng.choice(len(b_status), size=b, p=list(BOOKING_STATUS.values())), b_status
            ),
            "booked_at": _moments(
                schedule_day[which] - rng.integers(1, 8, size=b), np.full(b, 9 * 3600)
            ),
        }
    )
    return {
        "referrals": referrals,
        "schedules": schedules,
        "bookings": bookings,
        "bed_bookings": bed_bookings,
        "wards": wards,
    }


def _ordered(blocks: list[Block]) -> list[tuple[Block, np.ndarray]]:
    """Each block's rows by (day, person): the order the generator inserts them in."""
    return [(b, np.lexsort((b.person, b.day))) for b in blocks]


def encounters_table(
    blocks: list[Block], d: Drawer, resident_ids: np.ndarray, ids: Ids, schema: pa.Schema
) -> pa.Table:
    order = _ordered(blocks)

    def col(get: Callable[[Block], np.ndarray]) -> np.ndarray:
        return np.concatenate([get(b)[o] for b, o in order])

    n = sum(len(o) for _b, o in order)
    settings = ["outpatient", "emergency", "inpatient"]
    inpatient = col(lambda b: np.full(len(b.person), b.setting == "inpatient"))
    day = col(lambda b: b.day)
    stay = col(lambda b: b.stay if b.stay is not None else np.zeros(len(b.person), np.int64))
    institution = col(lambda b: b.institution)  # type: ignore[arg-type,return-value]
    person = col(lambda b: b.person)
    parts = np.concatenate([b.parts[o] for b, o in order])
    other = col(lambda b: b.other)  # type: ignore[arg-type,return-value]
    has_other = other >= 0
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(has_other, out=offsets[1:])
    other_values = text(other[has_other], d.codes)
    total = col(lambda b: b.total)
    fund = col(lambda b: b.fund)
    # Doctors and departments: a few per institution (practitioners_table names the doctors).
    u = d.rng.random(n)
    doctor = institution * 100 + np.floor(u * DOCTORS_EACH).astype(np.int64)
    department = institution * 10 + np.floor(u * 4).astype(np.int64)
    columns = {
        "encounter_id": ids.take("encounter", n),
        "resident_id": resident_ids[person],
        "institution_id": institution,
        "department_id": department,
        "doctor_id": doctor,
        "setting": text(col(lambda b: np.full(len(b.person), settings.index(b.setting))),
                        settings),
        "visit_date": dates(day),
        "discharge_date": dates(day + stay, mask=~inpatient),
        "principal_diagnosis": text(col(lambda b: b.diagnosis), d.codes),
        "other_diagnoses": pa.ListArray.from_arrays(pa.array(offsets), other_values),
        "is_tcm": pa.array(col(lambda b: b.is_tcm)),  # type: ignore[arg-type,return-value]
        "total_cost": money(total),
        "drug_cost": money(parts[:, 0]),
        "material_cost": money(parts[:, 1]),
        "exam_cost": money(parts[:, 2]),
        "service_cost": money(parts[:, 3]),
        "insurance_type": text(d.insurance[person], ["resident", "employee", "none"]),
        "fund_paid": money(fund),
        "personal_paid": money(total - fund),
        "deductible": money(col(lambda b: b.deductible)),
    }  # fmt: skip
    return pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)


def settlements_table(
    blocks: list[Block], d: Drawer, resident_ids: np.ndarray, ids: Ids, schema: pa.Schema
) -> pa.Table:
    order = _ordered(blocks)

    def col(get: Callable[[Block], np.ndarray]) -> np.ndarray:
        return np.concatenate([get(b)[o] for b, o in order])

    n = sum(len(o) for _b, o in order)
    places = d.synth.OUT_OF_COUNTY
    external = col(lambda b: b.external)  # type: ignore[arg-type,return-value]
    pharmacy = external < 0
    inpatient = col(lambda b: np.full(len(b.person), b.setting == "inpatient"))
    day = col(lambda b: b.day)
    stay = col(lambda b: b.stay if b.stay is not None else np.zeros(len(b.person), np.int64))
    person = col(lambda b: b.person)
    total = col(lambda b: b.total)
    fund = col(lambda b: b.fund)
    # Region and level of the out-of-county institution; pharmacies are in the county, "0".
    regions = [p[1] for p in places] + [d.county.code + "000000"]
    levels = [p[3] for p in places] + ["0"]
    where = np.where(pharmacy, len(places), external)
    columns = {
        "settlement_id": ids.take("settlement", n),
        "kind": text(pharmacy.astype(np.int8), ["out_of_county", "pharmacy"]),
        "resident_id": resident_ids[person],
        "settlement_date": dates(day + stay),
        "setting": text(inpatient.astype(np.int8), ["outpatient", "inpatient"]),
        "admission_date": dates(day, mask=~inpatient),
        "discharge_date": dates(day + stay, mask=~inpatient),
        "region_code": text(where, regions),
        "level": text(where, levels),
        "principal_diagnosis": text(col(lambda b: b.diagnosis), [*d.codes, ""]),
        "is_referred": pa.array(col(lambda b: b.referred)),  # type: ignore[arg-type,return-value]
        "insurance_type": text(d.insurance[person], ["resident", "employee", "none"]),
        "total_cost": money(total),
        "fund_paid": money(fund),
        "personal_paid": money(total - fund),
    }
    return pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)


def text(index: np.ndarray, values: list[str]) -> pa.Array:
    """Strings by index into ``values`` (-1 picks the last value), as a plain string column."""
    idx = np.where(index < 0, len(values) - 1, index).astype(np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(idx), pa.array(values)).cast(pa.string())


def dates(days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(days.astype(np.int32), mask=mask).cast(pa.date32())


def money(cents: np.ndarray) -> pa.Array:
    """Integer cents as ``decimal128(12, 2)`` (the snapshot's money type), exactly: the
    unscaled 128-bit value is the cents, sign-extended."""
    cents = np.ascontiguousarray(cents, dtype=np.int64)
    words = np.column_stack([cents, cents >> 63]).ravel()
    return pa.Array.from_buffers(pa.decimal128(12, 2), len(cents), [None, pa.py_buffer(words)])


# ---------------------------------------------------------------------------
# Timings
# ---------------------------------------------------------------------------


class Report:
    def __init__(self) -> None:
        self.checks: list[tuple[str, str, bool | None]] = []

    def target(self, name: str, detail: str, ok: bool | None) -> None:
        self.checks.append((name, detail, ok))

    def summary(self) -> None:
        print("targets:")
        for name, detail, ok in self.checks:
            verdict = "PASS" if ok else ("MISS" if ok is not None else "n/a")
            print(f"  {verdict:4} {name}: {detail}")


@dataclass
class Timing:
    wall: float  # best wall-clock seconds
    cpu: float  # CPU seconds of this process (all threads) in that run
    peak_mb: float  # peak RSS of this process over the warm-up and the runs
    result: Any

    def line(self, name: str, rows: int) -> str:
        return (
            f"{name}_s: {self.wall:.3f}  cpu_s: {self.cpu:.3f}  rows_per_s: "
            f"{rows / self.wall:,.0f}  peak_rss_mb: {self.peak_mb:,.0f}"
        )


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def best_of(fn: Callable[[], Any], repeat: int, warm_up: bool = True) -> Timing:
    """The best of ``repeat`` runs after a warm-up (wall clock; its CPU time alongside, which
    is steadier when other work shares the two cores)."""
    try:  # a new peak-RSS window (Linux: clear_refs 5 resets the high-water mark)
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    if warm_up:
        fn()
    best: Timing | None = None
    for _ in range(max(1, repeat)):
        c0, t0 = cpu_seconds(), time.perf_counter()
        result = fn()
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        if best is None or wall < best.wall:
            best = Timing(wall, cpu, 0.0, result)
    assert best is not None
    best.peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return best


def fact_rows(root: Path) -> tuple[int, int]:
    manifest = json.loads((root / "manifest.json").read_text("utf-8"))
    tables = manifest["tables"]
    return tables["encounters"]["rows"], tables.get("external_settlements", {}).get("rows", 0)


def computed_codes() -> list[str]:
    from yigongti.indicators import definitions

    return [i.code for i in definitions.INDICATORS if i.computed]


def bench_county(root: Path, params: Params, repeat: int, report: Report) -> None:
    from yigongti.indicators.services import evaluate, parse_periods

    periods = parse_periods(str(params.year))
    encounters, settlements = fact_rows(root)
    rows = encounters + settlements
    computed = computed_codes()
    print(f"county: {shown(root)} encounters {encounters:,} settlements {settlements:,}")
    print(f"indicators: {len(computed)} computed ({', '.join(computed)})")

    duck = best_of(lambda: evaluate(periods, engine="duckdb", root=root), repeat)
    print(duck.line("county_duckdb", rows) + f"  result_rows: {len(duck.result.rows)}")
    # What `indicators compute --period YEAR --breakdown` evaluates: the year, its quarters and
    # months (and the earlier year for growth), planned in one pass per base.
    parts = parse_periods(str(params.year), breakdown=True)
    whole = best_of(lambda: evaluate(parts, engine="duckdb", root=root), 1, warm_up=False)
    print(
        whole.line("county_duckdb_breakdown_17_periods", rows)
        + f"  result_rows: {len(whole.result.rows)}"
    )
    bench_store(whole.result)
    baseline = PandasBaseline(root, periods[0])
    missing = [c for c in computed if not baseline.covers(c)]
    plain = best_of(baseline.run, repeat)
    print(
        plain.line("county_pandas", rows)
        + (f"  (no pandas baseline for {', '.join(missing)})" if missing else "")
    )
    # The engine on just the indicators the baseline covers: the like-for-like ratio.
    covered = [c for c in computed if baseline.covers(c)]
    same = best_of(lambda: evaluate(periods, engine="duckdb", root=root, only=covered), repeat)
    print(
        same.line(f"county_duckdb_{len(covered)}_indicators_pandas_covers", rows)
        + f"  result_rows: {len(same.result.rows)}  ratio_pandas_over_this: "
        f"{plain.wall / same.wall:.1f}"
    )
    mismatches = compare_county(duck.result, plain.result)
    compared = len(plain.result)
    values = sum(len(v) for v in plain.result.values())
    print(
        f"pandas_equals_engine: {not mismatches} ({compared} indicators, {values} county "
        "numerator/denominator pairs, categories included)"
    )
    for line in mismatches[:10]:
        print(f"  mismatch {line}")
    floor = best_of(lambda: scan_floor(root, periods[0]), repeat)
    count, total, fund = floor.result
    print(
        floor.line("county_floor_scan", encounters)
        + f"  (encounters {count:,}, total_cost {total}, fund_paid {fund})"
    )
    bound = best_of(lambda: hand_written_lower_bound(root, periods[0]), repeat)
    bound_nhc07, home_rows = bound.result
    engine_nhc07 = next(
        (r.numerator, r.denominator)
        for r in duck.result.rows
        if (r.indicator_code, r.level, r.category) == ("nhc-07", "county", "")
    )
    print(
        bound.line("county_hand_written_lower_bound", encounters)
        + f"  ratio_to_floor: {bound.wall / floor.wall:.1f}  ratio_pandas_over_bound: "
        f"{plain.wall / bound.wall:.1f}  (nhc-07 county "
        f"{bound_nhc07[0]}/{bound_nhc07[1]}, equals the engine: {bound_nhc07 == engine_nhc07}; "
        f"{home_rows:,} home-attribution groups)"
    )
    speedup = plain.wall / duck.wall
    to_floor = duck.wall / floor.wall
    print(f"ratio_pandas_over_duckdb: {speedup:.1f}  (cpu {plain.cpu / duck.cpu:.1f})")
    print(f"ratio_duckdb_over_floor: {to_floor:.1f}  (cpu {duck.cpu / floor.cpu:.1f})")
    partial = " (pandas covers fewer indicators)" if missing else ""
    report.target(
        "county all indicators >= 10x faster than pandas",
        f"{speedup:.1f}x{partial}",
        speedup >= TARGET_PANDAS_RATIO,
    )
    report.target(
        f"county, the {len(covered)} indicators pandas covers, >= 10x faster than pandas",
        f"{plain.wall / same.wall:.1f}x",
        plain.wall / same.wall >= TARGET_PANDAS_RATIO,
    )
    report.target(
        "county all indicators within 5x of one scan",
        f"{to_floor:.1f}x",
        to_floor <= TARGET_FLOOR_RATIO,
    )
    report.target("pandas baseline equals the engine", f"{compared} indicators", not mismatches)
    report.target(
        "hand-written lower bound (part of the work) within 5x of one scan",
        f"{bound.wall / floor.wall:.1f}x; the engine is {duck.wall / bound.wall:.1f}x the bound",
        bound.wall / floor.wall <= TARGET_FLOOR_RATIO,
    )


def bench_store(evaluation: Any) -> None:
    """What ``indicators compute --breakdown`` does after evaluating: the rows stored in the
    app database (the bench's own: SQLite in its temporary data directory, or
    ``YIGONGTI_DATABASE_URL``), by ``services._store`` and, as the baseline in the same run,
    by the ORM's ``bulk_create`` of model instances (what ``do_compute`` did before
    2026-12-03). Each run starts from an empty table, in one transaction."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from yigongti.core import clock
    from yigongti.indicators import services
    from yigongti.indicators.models import IndicatorResult

    call_command("migrate", verbosity=0)
    now = clock.now()

    def orm() -> None:
        with transaction.atomic():
            IndicatorResult.objects.all().delete()
            IndicatorResult.objects.bulk_create(
                [
                    IndicatorResult(
                        **{f: getattr(r, f) for f in services._STORED[:8]},
                        snapshot_id=evaluation.snapshot_id,
                        engine="duckdb",
                        computed_at=now,
                    )
                    for r in evaluation.rows
                ],
                batch_size=1000,
            )

    def store() -> None:
        with transaction.atomic():
            IndicatorResult.objects.all().delete()
            services._store(evaluation, "duckdb", now)

    rows = len(evaluation.rows)
    plain = best_of(orm, 1, warm_up=False)
    print(plain.line(f"store_{connection.vendor}_bulk_create", rows) + f"  rows: {rows}")
    fast = best_of(store, 1, warm_up=False)
    assert IndicatorResult.objects.count() == rows
    print(fast.line(f"store_{connection.vendor}", rows) + f"  rows: {rows}")
    print(f"ratio_bulk_create_over_store: {plain.wall / fast.wall:.1f}")


def bench_province(root: Path, params: Params, args: argparse.Namespace, report: Report) -> None:
    from yigongti.indicators import services
    from yigongti.indicators.services import evaluate, parse_periods

    periods = parse_periods(str(params.year))
    encounters, settlements = fact_rows(root)
    rows = encounters + settlements
    print(
        f"province: {shown(root)} counties {params.counties} "
        f"encounters {encounters:,} settlements {settlements:,}"
    )
    duck = best_of(lambda: evaluate(periods, engine="duckdb", root=root), args.repeat)
    print(duck.line("province_duckdb", rows) + f"  result_rows: {len(duck.result.rows)}")
    report.target(
        "province on DuckDB under 60 s", f"{duck.wall:.1f} s", duck.wall < TARGET_PROVINCE_S
    )
    name = "Spark results equal DuckDB's"
    if args.no_spark:
        print("province_spark: skipped (--no-spark)")
        report.target(name, "skipped (--no-spark)", None)
        return
    if "spark" not in getattr(services, "ENGINES", ()):
        print("province_spark: not run — the engine has no Spark opener (services.ENGINES)")
        report.target(name, "no Spark engine", None)
        return
    try:
        spark = best_of(
            lambda: evaluate(periods, engine="spark", root=root),
            args.spark_repeat,
            warm_up=False,
        )
    except Exception as exc:  # no pyspark or no Java: the engine says which, in Chinese
        print(f"province_spark: failed — {exc}")
        report.target(name, f"failed: {exc}", False)
        return
    print(
        spark.line("province_spark", rows)
        + f"  result_rows: {len(spark.result.rows)}  (driver only: the JVM is not counted)"
    )
    print(f"ratio_spark_over_duckdb: {spark.wall / duck.wall:.1f}")
    differences = compare_rows(duck.result.rows, spark.result.rows)
    print(f"spark_equals_duckdb: {not differences} ({len(duck.result.rows)} result rows)")
    for line in differences[:10]:
        print(f"  difference {line}")
    report.target(name, f"{len(duck.result.rows)} result rows", not differences)


def scan_floor(root: Path, period: Any) -> tuple[int, Decimal, Decimal]:
    """One DuckDB scan of the encounters of the period: the cost of merely reading them."""
    import duckdb

    con = duckdb.connect()
    try:
        row = con.execute(
            "SELECT count(*), sum(total_cost), sum(fund_paid) FROM read_parquet(?, "
            "hive_partitioning = true) WHERE visit_date BETWEEN ? AND ?",
            [str(root / "encounters" / "**" / "*.parquet"), period.start, period.end],
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0]), Decimal(row[1]), Decimal(row[2])


def hand_written_lower_bound(root: Path, period: Any) -> tuple[tuple[Decimal, Decimal], int]:
    """A lower bound on any engine's time for the indicators: two hand-written DuckDB queries
    doing only part of the encounter work, the cheapest way we found. (1) The institution cube:
    the encounters of the year and the year before grouped by institution, setting, insured,
    中医类 and the year of the visit, settlement and discharge date, with the four money sums,
    aggregated BEFORE the places join (everything placed by institution is a function of its
    id; what nhc-07…nhc-12 and op-03…op-05 need). (2) The home attribution of op-01/op-02:
    every encounter joined to its patient's home (resident → county, township), grouped by
    home, setting and year — the one per-row join no rewriting removes. Not done at all: the
    settlements, the population, op-06's chapters, the referral tables, the roll-up. Returns
    nhc-07 at county level from (1), to check it against the engine, and the groups of (2)."""
    import duckdb

    from yigongti.indicators.services import RESIDENT_COLUMNS, _read, places

    place, homes = places(
        _read(root, "divisions"),
        _read(root, "institutions"),
        _read(root, "residents", RESIDENT_COLUMNS),
    )
    con = duckdb.connect()
    try:
        con.register("place", place)
        con.register("homes", homes)
        files = str(root / "encounters" / "**" / "*.parquet")
        years = [period.start.year - 1, period.end.year]
        cube = con.execute(
            "SELECT institution_id, setting, insurance_type <> 'none' AS insured, is_tcm, "
            "year(visit_date) AS visit_year, year(coalesce(discharge_date, visit_date)) AS "
            "settled_year, year(discharge_date) AS discharge_year, count(*) AS n, "
            "sum(total_cost) AS total, sum(fund_paid) AS fund, sum(drug_cost) AS drug "
            "FROM read_parquet(?, hive_partitioning = true) "
            "WHERE year(visit_date) BETWEEN ? AND ? OR year(coalesce(discharge_date, visit_date)) "
            "BETWEEN ? AND ? GROUP BY ALL",
            [files, *years, *years],
        ).to_arrow_table()
        home = con.execute(
            "SELECT h.county_id, h.township_id, e.setting IN ('outpatient', 'emergency') AS "
            "visit, year(e.visit_date) AS visit_year, year(e.discharge_date) AS discharge_year, "
            "count(*) AS n FROM read_parquet(?, hive_partitioning = true) AS e "
            "JOIN homes AS h USING (resident_id) GROUP BY ALL",
            [files],
        ).to_arrow_table()
        # nhc-07 from the cube, the places joined to its few thousand rows afterwards
        con.register("cube", cube)
        grassroots, visits = con.execute(
            "SELECT sum(CASE WHEN p.grassroots THEN n ELSE 0 END), sum(n) FROM cube "
            "JOIN place AS p USING (institution_id) WHERE setting IN ('outpatient', 'emergency') "
            "AND visit_year = ?",
            [period.end.year],
        ).fetchone() or (0, 0)
    finally:
        con.close()
    return (
        Decimal(grassroots).quantize(Decimal("0.01")),
        Decimal(visits).quantize(Decimal("0.01")),
    ), home.num_rows


Pairs = dict[str, dict[tuple[str, str], tuple[Decimal, Decimal]]]


def compare_county(evaluation: Any, plain: Pairs) -> list[str]:
    """The engine's county-level numerators and denominators (totals and categories) against
    the baseline's, for every indicator the baseline computes."""
    engine: Pairs = {}
    for r in evaluation.rows:
        if r.level == "county":
            engine.setdefault(r.indicator_code, {})[(r.org_code, r.category)] = (
                r.numerator,
                r.denominator,
            )
    out: list[str] = []
    for code, want in plain.items():
        got = engine.get(code, {})
        for key in sorted(got.keys() | want.keys()):
            if got.get(key) != want.get(key):
                out.append(f"{code} {key}: engine {got.get(key)} pandas {want.get(key)}")
    return out


def compare_rows(left: Iterable[Any], right: Iterable[Any]) -> list[str]:
    """Every ResultRow equal (exact Decimals), in any order."""

    def key(r: Any) -> tuple[str, ...]:
        return (r.indicator_code, r.period, r.level, r.org_code, r.category)

    a = {key(r): r for r in left}
    b = {key(r): r for r in right}
    out = [f"only in DuckDB: {k}" for k in sorted(a.keys() - b.keys())]
    out += [f"only in Spark: {k}" for k in sorted(b.keys() - a.keys())]
    out += [f"{k}: DuckDB {a[k]} Spark {b[k]}" for k in sorted(a.keys() & b.keys()) if a[k] != b[k]]
    return out


# ---------------------------------------------------------------------------
# The pandas baseline: the same indicators written plainly
# ---------------------------------------------------------------------------

ENCOUNTER_COLUMNS = [
    "encounter_id", "resident_id", "institution_id", "setting", "visit_date", "discharge_date",
    "principal_diagnosis", "is_tcm", "total_cost", "drug_cost", "insurance_type", "fund_paid",
]  # fmt: skip
SETTLEMENT_COLUMNS = [
    "settlement_id", "kind", "resident_id", "settlement_date", "setting", "principal_diagnosis",
    "insurance_type", "total_cost", "fund_paid",
]  # fmt: skip
MONEY_COLUMNS = ("total_cost", "drug_cost", "fund_paid")
GRAIN = ["county_id", "township_id", "institution_id", "category"]
VISITS = ["outpatient", "emergency"]
UNKNOWN = "未知"  # the engine's category for a null one (services.UNKNOWN_CATEGORY)
ONE = 100  # a count of one, in the baseline's unit (cents), so one exact sum fits all


class PandasBaseline:
    """Reads the snapshot with pyarrow into pandas (money as integer cents, so sums are exact;
    counts as 100 per record in the same unit), then one function per indicator: filter, join,
    group by the finest grain, sum. ``run`` returns the county totals and categories as
    Decimals: ``{code: {(county code, category): (numerator, denominator)}}``; a growth rate is
    derived from its base indicator's county sums with ``rules.growth``, as the engine does."""

    def __init__(self, root: Path, period: Any):
        import pandas as pd

        from yigongti.indicators import rules

        self.pd = pd
        self.root = root
        self.period = period
        self.previous = rules.previous_year(period)
        self.functions: dict[str, Callable[[dict[str, Any], Any], Any]] = {
            "nhc-07": self.grassroots_visit_share,
            "nhc-08": self.in_county_fund_share,
            "nhc-09": self.grassroots_fund_share,
            "nhc-10": self.in_county_cost_per_stay,
            "nhc-11": self.in_county_stay_share,
            "nhc-12": self.tcm_visit_share,
            "op-01": self.visits_per_thousand,
            "op-02": self.stays_per_thousand,
            "op-03": self.cost_per_visit,
            "op-04": self.cost_per_stay,
            "op-05": self.drug_share,
            "op-06": self.in_county_stay_share_by_chapter,
        }

    def covers(self, code: str) -> bool:
        from yigongti.indicators import definitions

        indicator = definitions.get(code)
        return code in self.functions or indicator.growth_of in self.functions

    # -- loading ----------------------------------------------------------------------

    def _load(self, name: str, columns: list[str]) -> Any:
        table = pq.read_table(self.root / name, columns=columns, partitioning="hive")
        for column in MONEY_COLUMNS:
            if column in table.column_names:
                cents = pc.round(pc.multiply(table[column].cast(pa.float64()), 100.0))
                at = table.column_names.index(column)
                table = table.set_column(at, column, cents.cast(pa.int64()))
        return table.to_pandas(date_as_object=False)

    def run(self) -> Pairs:
        from yigongti.indicators import definitions, rules
        from yigongti.indicators.services import _read, places

        pd = self.pd
        divisions = _read(self.root, "divisions")
        place, homes = places(
            divisions, _read(self.root, "institutions"), _read(self.root, "residents")
        )
        codes = dict(
            zip(divisions["division_id"].to_pylist(), divisions["code"].to_pylist(), strict=True)
        )
        data = {
            "encounters": self._load("encounters", ENCOUNTER_COLUMNS),
            "settlements": self._load("external_settlements", SETTLEMENT_COLUMNS),
            "places": place.to_pandas(),
            "homes": homes.to_pandas(),
            "diagnoses": _read(self.root, "diagnoses").to_pandas(),
        }

        def county_sums(code: str, period: Any) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
            frame = self.functions[code](data, period)
            frame = frame[frame["county_id"].notna()]
            out = {}
            parts = [("", frame.groupby("county_id")[["numerator", "denominator"]].sum())]
            if definitions.get(code).category_label:
                by = frame.assign(category=frame["category"].fillna(UNKNOWN))
                parts.append(
                    ("*", by.groupby(["county_id", "category"])[["numerator", "denominator"]].sum())
                )
            for kind, sums in parts:
                for key, r in sums.iterrows():
                    county, category = (key, "") if kind == "" else key
                    out[(codes[int(county)], category)] = (
                        Decimal(int(r["numerator"])) / 100,
                        Decimal(int(r["denominator"])) / 100,
                    )
            return out

        result: Pairs = {}
        for code in computed_codes():
            indicator = definitions.get(code)
            if code in self.functions:
                result[code] = county_sums(code, self.period)
            elif indicator.growth_of in self.functions:
                current = county_sums(indicator.growth_of, self.period)
                previous = county_sums(indicator.growth_of, self.previous)
                result[code] = {
                    key: rules.growth(current.get(key), previous.get(key))
                    for key in current.keys() | previous.keys()
                    if key[1] == ""
                }
        del pd
        return result

    # -- helpers ------------------------------------------------------------------------

    def _in(self, column: Any, p: Any) -> Any:
        return (column >= self.pd.Timestamp(p.start)) & (column <= self.pd.Timestamp(p.end))

    def _member(self, frame: Any, data: dict[str, Any]) -> Any:
        return frame.merge(data["places"], on="institution_id", how="inner")

    def _grouped(self, frame: Any, category: Any = "") -> Any:
        """Sum at the finest grain (as the engine does), null townships kept."""
        frame = frame.assign(category=category)
        return frame.groupby(GRAIN, dropna=False, as_index=False)[
            ["numerator", "denominator"]
        ].sum()

    def _county_only(self, frame: Any) -> Any:
        """Rows that count for the county only (no member institution)."""
        return frame.assign(township_id=None, institution_id=None)

    def _external(self, data: dict[str, Any]) -> Any:
        s = data["settlements"]
        return s[s["kind"] == "out_of_county"].merge(data["homes"], on="resident_id")

    def _visits(self, data: dict[str, Any], p: Any) -> Any:
        e = data["encounters"]
        e = e[e["setting"].isin(VISITS) & self._in(e["visit_date"], p)]
        return self._member(e, data)

    def _settled(self, data: dict[str, Any], p: Any) -> Any:
        e = data["encounters"]
        return self._member(e[self._in(e["discharge_date"].fillna(e["visit_date"]), p)], data)

    def _insured_stays(self, data: dict[str, Any], p: Any) -> Any:
        e = data["encounters"]
        e = e[
            (e["setting"] == "inpatient")
            & (e["insurance_type"] != "none")
            & self._in(e["discharge_date"], p)
        ]
        return self._member(e, data)

    def _insured_external_stays(self, data: dict[str, Any], p: Any) -> Any:
        s = self._external(data)
        return s[
            (s["setting"] == "inpatient")
            & (s["insurance_type"] != "none")
            & self._in(s["settlement_date"], p)
        ]

    def _chapter(self, frame: Any, data: dict[str, Any]) -> Any:
        d = data["diagnoses"][["code", "chapter"]].rename(columns={"code": "principal_diagnosis"})
        return frame.merge(d, on="principal_diagnosis", how="left")

    # -- one function per indicator (county_id, township_id, institution_id, category,
    #    numerator, denominator at the finest grain) -----------------------------------

    def grassroots_visit_share(self, data: dict[str, Any], p: Any) -> Any:
        v = self._visits(data, p)
        v = v.assign(numerator=v["grassroots"].astype("int64") * ONE, denominator=ONE)
        return self._grouped(v)

    def tcm_visit_share(self, data: dict[str, Any], p: Any) -> Any:
        v = self._visits(data, p)
        v = v.assign(numerator=v["is_tcm"].astype("int64") * ONE, denominator=ONE)
        return self._grouped(v)

    def in_county_fund_share(self, data: dict[str, Any], p: Any) -> Any:
        inside = self._settled(data, p)
        inside = inside.assign(numerator=inside["fund_paid"], denominator=inside["fund_paid"])
        outside = self._external(data)
        outside = outside[self._in(outside["settlement_date"], p)]
        outside = outside.assign(numerator=0, denominator=outside["fund_paid"])
        return self.pd.concat([self._grouped(inside), self._grouped(self._county_only(outside))])

    def grassroots_fund_share(self, data: dict[str, Any], p: Any) -> Any:
        inside = self._settled(data, p)
        inside = inside.assign(
            numerator=inside["fund_paid"].where(inside["grassroots"], 0),
            denominator=inside["fund_paid"],
        )
        return self._grouped(inside)

    def in_county_cost_per_stay(self, data: dict[str, Any], p: Any) -> Any:
        s = self._insured_stays(data, p)
        return self._grouped(s.assign(numerator=s["total_cost"], denominator=ONE))

    def in_county_stay_share(self, data: dict[str, Any], p: Any) -> Any:
        inside = self._insured_stays(data, p).assign(numerator=ONE, denominator=ONE)
        outside = self._insured_external_stays(data, p).assign(numerator=0, denominator=ONE)
        return self.pd.concat([self._grouped(inside), self._grouped(self._county_only(outside))])

    def in_county_stay_share_by_chapter(self, data: dict[str, Any], p: Any) -> Any:
        inside = self._chapter(self._insured_stays(data, p), data)
        inside = inside.assign(numerator=ONE, denominator=ONE)
        outside = self._chapter(self._insured_external_stays(data, p), data)
        outside = self._county_only(outside.assign(numerator=0, denominator=ONE))
        return self.pd.concat(
            [
                self._grouped(inside, inside["chapter"]),
                self._grouped(outside, outside["chapter"]),
            ]
        )

    def _per_resident(self, data: dict[str, Any], inside: Any, outside: Any) -> Any:
        """Events of the residents of the served counties, placed by home (numerator), and
        those residents (denominator)."""
        homes = data["homes"]
        homes = homes[homes["county_id"].isin(data["places"]["county_id"])]
        inside = inside.merge(homes, on="resident_id").assign(numerator=ONE, denominator=0)
        outside = outside[outside["kind"] == "out_of_county"].merge(homes, on="resident_id")
        outside = outside.assign(numerator=ONE, denominator=0)
        people = homes[homes["counted"]].assign(numerator=0, denominator=ONE)
        return self.pd.concat(
            [self._grouped(self._county_only(f)) for f in (inside, outside, people)]
        )

    def visits_per_thousand(self, data: dict[str, Any], p: Any) -> Any:
        e, s = data["encounters"], data["settlements"]
        return self._per_resident(
            data,
            e[e["setting"].isin(VISITS) & self._in(e["visit_date"], p)],
            s[s["setting"].isin(VISITS) & self._in(s["settlement_date"], p)],
        )

    def stays_per_thousand(self, data: dict[str, Any], p: Any) -> Any:
        e, s = data["encounters"], data["settlements"]
        return self._per_resident(
            data,
            e[(e["setting"] == "inpatient") & self._in(e["discharge_date"], p)],
            s[(s["setting"] == "inpatient") & self._in(s["settlement_date"], p)],
        )

    def cost_per_visit(self, data: dict[str, Any], p: Any) -> Any:
        v = self._visits(data, p)
        return self._grouped(v.assign(numerator=v["total_cost"], denominator=ONE), v["tier"])

    def cost_per_stay(self, data: dict[str, Any], p: Any) -> Any:
        e = data["encounters"]
        s = self._member(e[(e["setting"] == "inpatient") & self._in(e["discharge_date"], p)], data)
        return self._grouped(s.assign(numerator=s["total_cost"], denominator=ONE), s["tier"])

    def drug_share(self, data: dict[str, Any], p: Any) -> Any:
        e = self._settled(data, p)
        return self._grouped(e.assign(numerator=e["drug_cost"], denominator=e["total_cost"]))


if __name__ == "__main__":
    main()
