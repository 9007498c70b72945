"""Generated encounters and insurance settlements (issue #4 item 5).

For the ``demo`` and ``county`` scenarios: one calendar year (or more) of visits and stays at the
member institutions, out-of-county settlements and retail-pharmacy settlements, calibrated to
reference/calibration.md §2-§4 and §8 (figures and their sources in ``calibration.py``).

Everything is drawn column-wise with numpy from ``Generator(PCG64([seed, SALT]))`` in a fixed
order; no wall clock is read, so the same seed gives the same rows. Private clinics (§8 "private
clinics and others 10-15 %") are skipped: they are outside the medcom and send no data.

Writing: millions of rows through ``upsert_encounters`` one validated row at a time is too slow
for the county benchmark, so ``bulk_insert_generated`` writes prepared rows with ``executemany``
and keeps the guarantees another way: every row is checked against the cost and settlement
invariants vectorised (parts sum to the total, fund + personal = total, no negative amounts,
discharge not before admission, dates inside the year, codes in the catalogue), and a
deterministic sample (every ``SAMPLE_EVERY``-th row) goes through the contract's
``clean_encounter`` / ``clean_external_settlement`` when those have landed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.core.management.color import no_style
from django.db import connection

from yigongti.core.choices import AccessBasis
from yigongti.core.queries import get_parameter
from yigongti.core.services import do_refresh_planner_statistics
from yigongti.encounters import rules
from yigongti.encounters import services as enc
from yigongti.encounters.choices import ExternalKind, Setting
from yigongti.encounters.models import (
    DiagnosisCode,
    Encounter,
    EncounterProcedure,
    ExternalSettlement,
    ProcedureCode,
)
from yigongti.organizations.choices import InstitutionType
from yigongti.organizations.models import Institution
from yigongti.residents.models import CareRelationship, Resident
from yigongti.staff.choices import Profession
from yigongti.staff.models import Practitioner
from yigongti.synth import calibration as cal
from yigongti.synth.personas import AS_OF, AS_OF_TIME

ProgressCallback = Callable[[str, int, int], None]

STAGE = "生成诊疗记录"
SALT = 4_0405  # separates this stream from the population's
SOURCE_HIS = "SYNTH-HIS"
SOURCE_INSURANCE = "SYNTH-YB"
SAMPLE_EVERY = 100
CHUNK = 50_000
SQLITE_CACHE_KIB = 1_048_576  # 1 GiB while the encounter indexes grow
TCM_DEPARTMENT_NAMES = frozenset({"中医科", "中医内科", "针灸推拿科", "骨伤科"})

# Diagnosis mixes (ICD-10 codes of encounters/data/icd10.csv). §4 "Top grassroots outpatient
# diagnoses" [EST] for THC and village clinics; §4 "Inpatient mix by ICD-10 chapter" ranked
# circulatory, respiratory, injury, digestive, pregnancy, neoplasm, genitourinary, Z, infectious,
# endocrine [SEC] for stays; the weights inside each list are [I, inferred].
Mix = dict[str, tuple[tuple[str, float], ...]]
GRASSROOTS_OP: Mix = {
    "child": (("J06.9", 45), ("J11.1", 6), ("J20.9", 12), ("A09", 15), ("L30.9", 8),
              ("J02.9", 10), ("R50.9", 4)),
    "adult": (("J06.9", 22), ("J11.1", 3), ("K29.7", 10), ("J20.9", 8), ("J40", 3),
              ("I25.1", 4), ("I69.3", 2), ("M54.5", 9), ("M51.2", 2), ("L30.9", 7), ("A09", 6),
              ("I10", 7), ("E11.9", 3), ("J02.9", 5), ("M17.9", 2), ("R51", 2)),
    "elderly": (("J06.9", 12), ("J11.1", 3), ("I10", 18), ("E11.9", 7), ("I25.1", 12),
                ("I69.3", 10), ("K29.7", 8), ("J20.9", 6), ("J44.9", 5), ("M54.5", 7),
                ("M17.9", 5), ("L30.9", 3), ("A09", 4)),
}  # fmt: skip
GRASSROOTS_OP["female"] = GRASSROOTS_OP["adult"] + (("N76.0", 3), ("Z34.9", 2))
COUNTY_OP: Mix = {
    "child": (("J06.9", 35), ("J11.1", 6), ("J20.9", 12), ("J18.9", 6), ("A09", 12),
              ("L30.9", 6), ("J02.9", 10), ("R50.9", 5), ("S01.9", 4), ("S52.5", 4)),
    "adult": (("J06.9", 12), ("J11.1", 2), ("I10", 6), ("E11.9", 4), ("K29.7", 9), ("J20.9", 5),
              ("M54.5", 7), ("M51.2", 4), ("L30.9", 5), ("A09", 3), ("I25.1", 4), ("N39.0", 3),
              ("K80.1", 2), ("N18.9", 1), ("C34.9", 1), ("J18.9", 2), ("S52.5", 2),
              ("S01.9", 3), ("R10.4", 3), ("M17.9", 3), ("K64.9", 2), ("N40", 1)),
    "elderly": (("J06.9", 7), ("J11.1", 2), ("I10", 14), ("E11.9", 8), ("I25.1", 12),
                ("I63.9", 3), ("I69.3", 6), ("K29.7", 7), ("J44.9", 6), ("J18.9", 3),
                ("M17.9", 6), ("M54.5", 5), ("N18.9", 2), ("C34.9", 2), ("H25.9", 4), ("N40", 3)),
}  # fmt: skip
COUNTY_OP["female"] = COUNTY_OP["adult"] + (("Z34.9", 8), ("N76.0", 4), ("N92.1", 2))
COUNTY_IP: Mix = {
    "child": (("J18.9", 45), ("J20.9", 10), ("A09", 20), ("K35.8", 10), ("S52.5", 10),
              ("S01.9", 5)),
    "adult": (("I63.9", 8), ("I25.1", 6), ("I10", 3), ("J18.9", 8), ("J44.1", 2), ("S72.0", 3),
              ("S82.2", 5), ("S52.5", 4), ("S01.9", 5), ("K35.8", 7), ("K80.1", 6), ("K29.7", 3),
              ("K40.9", 5), ("K64.9", 4), ("C34.9", 3), ("C16.9", 2), ("N20.0", 4), ("N18.9", 2),
              ("Z51.1", 3), ("A09", 2), ("E11.9", 3), ("M51.2", 3), ("M17.9", 1)),
    "elderly": (("I63.9", 16), ("I25.1", 11), ("I10", 4), ("I61.9", 2), ("I50.9", 4),
                ("J18.9", 12), ("J44.1", 6), ("S72.0", 5), ("K80.1", 4), ("K29.7", 3),
                ("C34.9", 5), ("C16.9", 2), ("N18.9", 4), ("N40", 2), ("Z51.1", 4), ("A09", 2),
                ("E11.9", 4), ("H25.9", 4), ("M17.9", 3)),
}  # fmt: skip
COUNTY_IP["female"] = COUNTY_IP["adult"] + (("O80.0", 45), ("O82.9", 15), ("N92.1", 5))
THC_IP: Mix = {
    "child": (("J18.9", 45), ("J20.9", 25), ("A09", 30)),
    "adult": (("J18.9", 15), ("J20.9", 12), ("I69.3", 6), ("I10", 8), ("A09", 10),
              ("K29.7", 12), ("E11.9", 6), ("M54.5", 8), ("K35.8", 5), ("K40.9", 5),
              ("S01.9", 8), ("S52.5", 5)),
    "elderly": (("J18.9", 20), ("J44.1", 12), ("J20.9", 10), ("I69.3", 14), ("I10", 12),
                ("I25.1", 8), ("E11.9", 8), ("K29.7", 8), ("A09", 4), ("M54.5", 4)),
}  # fmt: skip
THC_IP["female"] = THC_IP["adult"] + (("O80.0", 12),)
OUT_IP: Mix = {
    "child": (("J18.9", 40), ("Q21.1", 15), ("C92.0", 10), ("K35.8", 15), ("S06.0", 20)),
    "adult": (("C34.9", 10), ("C16.9", 6), ("C50.9", 5), ("I25.1", 10), ("I21.9", 5),
              ("I63.9", 5), ("S72.0", 4), ("S06.5", 4), ("N18.9", 5), ("Z51.1", 14),
              ("J18.9", 5), ("K80.1", 5), ("M51.2", 5), ("E11.9", 3)),
    "elderly": (("C34.9", 12), ("C16.9", 6), ("I25.1", 14), ("I21.9", 6), ("I63.9", 8),
                ("S72.0", 6), ("N18.9", 6), ("Z51.1", 12), ("J18.9", 6), ("M17.9", 5),
                ("H25.9", 3)),
}  # fmt: skip
OUT_IP["female"] = OUT_IP["adult"] + (("O82.9", 8),)
OUT_OP: Mix = {
    "child": (("J06.9", 40), ("J18.9", 20), ("Q21.1", 10), ("A09", 15), ("J45.9", 15)),
    "adult": (("C34.9", 8), ("Z51.1", 10), ("I25.1", 10), ("N18.9", 8), ("M51.2", 10),
              ("K29.7", 12), ("E11.9", 10), ("I10", 10), ("J06.9", 12), ("L40.9", 10)),
    "elderly": (("C34.9", 10), ("Z51.1", 12), ("I25.1", 15), ("N18.9", 10), ("I10", 15),
                ("E11.9", 12), ("H25.9", 8), ("J44.9", 10), ("M17.9", 8)),
}  # fmt: skip
OUT_OP["female"] = OUT_OP["adult"]
RESPIRATORY = frozenset({"J06.9", "J11.1", "J20.9", "J18.9", "J02.9", "J40", "J44.1", "J44.9"})
CHRONIC_CODES = ("I10", "E11.9")

# Operations by principal diagnosis: (procedure, probability) [I, inferred]; grades come from
# the procedure catalogue. Tuned so grade 3-4 is 30-50 % of county-hospital operations (§4).
OPERATIONS: dict[str, dict[str, tuple[tuple[str, float], ...]]] = {
    "county": {
        "K35.8": (("47.01", 0.3), ("47.09", 0.6)), "K80.1": (("51.23", 0.4),),
        "S72.0": (("79.35", 0.4), ("81.52", 0.2)), "S82.2": (("79.36", 0.5),),
        "S52.5": (("79.02", 0.6), ("79.12", 0.3)), "S01.9": (("86.59", 0.95),),
        "O80.0": (("73.6", 0.5), ("73.59", 0.4)), "O82.9": (("74.1", 1.0),),
        "K40.9": (("53.00", 0.95),), "K64.9": (("49.46", 0.9),), "I25.1": (("36.06", 0.1),),
        "H25.9": (("13.41", 0.35),), "M17.9": (("81.54", 0.15),), "N40": (("60.29", 0.2),),
        "I61.9": (("01.39", 0.2),), "N20.0": (("56.0", 0.2),),
    },
    "thc": {
        "S01.9": (("86.59", 0.9),), "S52.5": (("79.02", 0.6),), "K35.8": (("47.09", 0.7),),
        "K40.9": (("53.00", 0.8),), "O80.0": (("73.6", 0.5),),
    },
}  # fmt: skip

# Out-of-county institutions (fictional; level 3 = tertiary) and retail pharmacies.
OUT_OF_COUNTY = (
    ("青禾市第一人民医院", "439900000000", "青禾市", "3", 0.35),
    ("青禾市中心医院", "439900000000", "青禾市", "3", 0.25),
    ("青禾市中医医院", "439900000000", "青禾市", "3", 0.08),
    ("青禾市妇幼保健院", "439900000000", "青禾市", "3", 0.07),
    ("省立医科大学附属第一医院", "430100000000", "长沙市", "3", 0.15),
    ("邻县人民医院", "439902000000", "邻县", "2", 0.10),
)
PHARMACIES = (
    "青禾县百姓大药房城关店", "青禾县益丰大药房东门店", "青禾县老百姓大药房河口店",
    "青禾县仁和堂药店", "青禾县康济大药房", "青禾县民生药店",
)  # fmt: skip


@dataclass
class EncounterSummary:
    encounters: int = 0
    procedures: int = 0
    settlements: int = 0
    care_relationships: int = 0
    sampled_validated: int = 0
    sample_skipped_reason: str = ""
    by_setting: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# The world, read once from the database
# ---------------------------------------------------------------------------


@dataclass
class Doctors:
    """Doctors of each institution as flat arrays (index ranges per institution)."""

    ids: np.ndarray
    dept_ids: np.ndarray
    dept_names: list[str]
    codes: list[str]
    offset: dict[int, tuple[int, int]]  # institution id → (start, count), all doctors
    tcm_offset: dict[int, tuple[int, int]]  # TCM doctors (a contiguous run inside the above)


@dataclass
class World:
    resident_ids: np.ndarray
    id_numbers: list[str]
    ages: np.ndarray
    female: np.ndarray
    insurance: np.ndarray  # 0 resident, 1 employee, 2 none
    chronic_htn: np.ndarray
    chronic_dm: np.ndarray
    clinic: np.ndarray  # institution id of the resident's village clinic
    thc: np.ndarray  # institution id of the resident's township centre
    general: int
    tcm: int
    mch: int
    inst_code: dict[int, str]
    doctors: Doctors


INSURANCE_CODES = ("resident", "employee", "none")


def _load_world(today: dt.date) -> World:
    rows = list(
        Resident.objects.filter(merged_into__isnull=True, is_deceased=False)
        .order_by("pk")
        .values_list(
            "pk",
            "id_number",
            "birth_date",
            "sex",
            "insurance_type",
            "has_hypertension",
            "has_diabetes",
            "division_code",
        )
    )
    n = len(rows)
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
    born = np.fromiter((r[2].toordinal() for r in rows), dtype=np.int64, count=n)
    ages = (today.toordinal() - born) // 365.25
    female = np.fromiter((r[3] == "F" for r in rows), dtype=bool, count=n)
    ins_map = {code: i for i, code in enumerate(INSURANCE_CODES)}
    insurance = np.fromiter((ins_map.get(r[4], 0) for r in rows), dtype=np.int8, count=n)
    htn = np.fromiter((r[5] for r in rows), dtype=bool, count=n)
    dm = np.fromiter((r[6] for r in rows), dtype=bool, count=n)

    insts = list(
        Institution.objects.filter(medcom__isnull=False, is_active=True)
        .select_related("service_division")
        .order_by("code")
    )
    by_type: dict[str, list[Institution]] = {}
    for inst in insts:
        by_type.setdefault(inst.inst_type, []).append(inst)
    general = by_type[InstitutionType.GENERAL_HOSPITAL][0]
    tcm = (by_type.get(InstitutionType.TCM_HOSPITAL) or [general])[0]
    mch = (by_type.get(InstitutionType.MCH_HOSPITAL) or [general])[0]
    clinic_by_code: dict[str, int] = {}
    thc_by_code: dict[str, int] = {}
    for inst in insts:
        code = inst.service_division.code if inst.service_division else ""
        if inst.inst_type in (
            InstitutionType.VILLAGE_CLINIC,
            InstitutionType.COMMUNITY_HEALTH_STATION,
        ):
            clinic_by_code.setdefault(code, inst.pk)
        elif inst.inst_type in (
            InstitutionType.TOWNSHIP_HEALTH_CENTRE,
            InstitutionType.COMMUNITY_HEALTH_CENTRE,
        ):
            thc_by_code.setdefault(code, inst.pk)
    thc = np.fromiter(
        (thc_by_code.get(r[7][:9] + "000", general.pk) for r in rows), dtype=np.int64, count=n
    )
    clinic = np.fromiter((clinic_by_code.get(r[7], -1) for r in rows), dtype=np.int64, count=n)
    clinic = np.where(clinic < 0, thc, clinic)
    return World(
        resident_ids=ids,
        id_numbers=[r[1] for r in rows],
        ages=ages,
        female=female,
        insurance=insurance,
        chronic_htn=htn,
        chronic_dm=dm,
        clinic=clinic,
        thc=thc,
        general=general.pk,
        tcm=tcm.pk,
        mch=mch.pk,
        inst_code={i.pk: i.code for i in insts},
        doctors=_load_doctors({i.pk: i for i in insts}, tcm.pk),
    )


def _load_doctors(insts: dict[int, Institution], tcm_hospital: int) -> Doctors:
    rows = list(
        Practitioner.objects.filter(
            employer_id__in=list(insts),
            is_active=True,
            profession__in=(Profession.PHYSICIAN, Profession.VILLAGE_DOCTOR),
        )
        .order_by("employer_id", "code")
        .values_list("pk", "code", "employer_id", "department_id", "department__name")
    )
    by_inst: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_inst.setdefault(row[2], []).append(row)
    ids: list[int] = []
    dept_ids: list[int] = []
    names: list[str] = []
    codes: list[str] = []
    offset: dict[int, tuple[int, int]] = {}
    tcm_offset: dict[int, tuple[int, int]] = {}
    for inst_id in sorted(by_inst):
        doctors = by_inst[inst_id]
        # TCM doctors last, so they are a contiguous run inside the institution's range.
        is_tcm = [inst_id == tcm_hospital or (d[4] or "") in TCM_DEPARTMENT_NAMES for d in doctors]
        ordered = [d for d, t in zip(doctors, is_tcm, strict=True) if not t] + [
            d for d, t in zip(doctors, is_tcm, strict=True) if t
        ]
        start = len(ids)
        offset[inst_id] = (start, len(ordered))
        n_tcm = sum(is_tcm)
        if n_tcm:
            tcm_offset[inst_id] = (start + len(ordered) - n_tcm, n_tcm)
        for d in ordered:
            ids.append(d[0])
            codes.append(d[1])
            dept_ids.append(d[3] or 0)
            names.append(d[4] or "")
    return Doctors(
        ids=np.array(ids, dtype=np.int64),
        dept_ids=np.array(dept_ids, dtype=np.int64),
        dept_names=names,
        codes=codes,
        offset=offset,
        tcm_offset=tcm_offset,
    )


# ---------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------


@dataclass
class Block:
    """One block of generated rows as columns (one setting at one kind of place)."""

    place: str  # county | thc | village | out_of_county | pharmacy
    setting: str
    person: np.ndarray  # index into World arrays
    institution: np.ndarray  # institution id (0 for external)
    diagnosis: np.ndarray  # index into the code list
    other: np.ndarray  # index into the code list, -1 for none
    day: np.ndarray  # ordinal of visit / admission date
    stay: np.ndarray  # days (0 for outpatients)
    is_tcm: np.ndarray
    total: np.ndarray  # cents
    parts: np.ndarray  # (n, 4) cents: drug, material, exam, service
    fund: np.ndarray
    deductible: np.ndarray
    doctor: np.ndarray  # index into Doctors arrays, -1 for none
    procedure: np.ndarray  # index into the procedure list, -1 for none
    external: np.ndarray  # out-of-county institution index / pharmacy index, -1 otherwise
    referred: np.ndarray


class Drawer:
    def __init__(self, world: World, rng: np.random.Generator, year: int, codes: list[str]):
        self.w = world
        self.rng = rng
        self.year = year
        self.codes = codes
        self.code_index = {c: i for i, c in enumerate(codes)}
        first = dt.date(year, 1, 1).toordinal()
        last = dt.date(year, 12, 31).toordinal()
        self.first, self.last = first, last
        days = np.arange(first, last + 1)
        months = np.array([dt.date.fromordinal(int(d)).month for d in days]) - 1
        flat = np.ones(len(days))
        resp = np.array(cal.RESPIRATORY_MONTH_WEIGHT)[months]
        self.day_p = flat / flat.sum()
        self.resp_day_p = resp / resp.sum()
        self.days = days
        ages = world.ages
        band = np.select([ages < 5, ages < 15, ages < 45, ages < 60], [0, 1, 2, 3], 4)
        self.visit_w = np.array(cal.VISIT_AGE_WEIGHT)[band]
        self.admit_w = np.array(cal.ADMISSION_AGE_WEIGHT)[band]
        self.group = np.where(
            ages < 15,
            0,
            np.where(ages >= 60, 3, np.where(world.female & (ages >= 18) & (ages < 46), 2, 1)),
        )

    # -- people, diagnoses, dates ------------------------------------------------

    def people(self, n: int, weights: np.ndarray) -> np.ndarray:
        p = weights / weights.sum()
        return np.sort(self.rng.choice(len(p), size=n, p=p))

    def diagnoses(self, person: np.ndarray, mix: Mix) -> np.ndarray:
        out = np.empty(len(person), dtype=np.int64)
        group = self.group[person]
        for g, key in enumerate(("child", "adult", "female", "elderly")):
            at = np.flatnonzero(group == g)
            table = mix[key]
            idx = np.array([self.code_index[c] for c, _ in table])
            p = np.array([w for _, w in table], dtype=float)
            out[at] = idx[self.rng.choice(len(idx), size=len(at), p=p / p.sum())]
        return out

    def dates(self, diagnosis: np.ndarray) -> np.ndarray:
        resp_idx = np.array([self.code_index[c] for c in RESPIRATORY if c in self.code_index])
        resp = np.isin(diagnosis, resp_idx)
        day = self.rng.choice(self.days, size=len(diagnosis), p=self.day_p)
        n_resp = int(resp.sum())
        day[resp] = self.rng.choice(self.days, size=n_resp, p=self.resp_day_p)
        return day

    def stays(self, n: int, mean: float) -> np.ndarray:
        # 1 + gamma(shape 2) so the mean is ``mean`` days.
        return 1 + np.floor(self.rng.gamma(2.0, (mean - 0.5) / 2.0, size=n)).astype(np.int64)

    # -- money ------------------------------------------------------------------

    def costs(self, n: int, mean: float, kind: str) -> tuple[np.ndarray, np.ndarray]:
        sigma = cal.COST_SIGMA[kind]
        mu = np.log(mean) - sigma * sigma / 2
        total = np.maximum(100, np.round(self.rng.lognormal(mu, sigma, size=n) * 100)).astype(
            np.int64
        )
        if kind == "pharmacy":
            parts = np.zeros((n, 4), dtype=np.int64)
            parts[:, 0] = total
            return total, parts
        shares = self.rng.dirichlet(
            np.array(cal.COST_PARTS[kind]) * cal.COST_PARTS_CONCENTRATION, size=n
        )
        parts = np.floor(shares[:, :3] * total[:, None]).astype(np.int64)
        service = total - parts.sum(axis=1)
        return total, np.column_stack([parts, service])

    def settle(
        self,
        person: np.ndarray,
        total: np.ndarray,
        place: str,
        inpatient: bool,
        referred: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        ins = self.w.insurance[person]
        if inpatient:
            rate0, ded0 = cal.INPATIENT_REIMBURSEMENT[place]
            rate = np.full(len(total), rate0)
            if referred is not None:
                rate = rate - np.where(referred, 0.0, cal.UNREFERRED_PENALTY)
            deductible = np.full(len(total), int(ded0 * 100), dtype=np.int64)
        else:
            rate = np.full(len(total), cal.OUTPATIENT_REIMBURSEMENT[place])
            deductible = np.zeros(len(total), dtype=np.int64)
        rate = rate + np.where(ins == 1, cal.EMPLOYEE_BONUS, 0.0)
        rate = np.where(ins == 2, 0.0, np.clip(rate, 0.0, 0.95))
        deductible = np.where(ins == 2, 0, np.minimum(deductible, total))
        fund = np.floor((total - deductible) * rate).astype(np.int64)
        return fund, deductible

    # -- doctors and procedures -------------------------------------------------

    def doctors(self, institution: np.ndarray, tcm: np.ndarray) -> np.ndarray:
        d = self.w.doctors
        out = np.full(len(institution), -1, dtype=np.int64)
        u = self.rng.random(len(institution))
        for inst_id in np.unique(institution):
            at = institution == inst_id
            start, count = d.offset.get(int(inst_id), (0, 0))
            if not count:
                continue
            t_start, t_count = d.tcm_offset.get(int(inst_id), (start, count))
            plain = count - (t_count if (int(inst_id) in d.tcm_offset) else 0)
            s = np.where(tcm[at], t_start, start)
            c = np.where(tcm[at], t_count, plain if plain > 0 else count)
            out[at] = s + np.floor(u[at] * c).astype(np.int64)
        return out

    def block(self, **columns: Any) -> Block:
        n = len(columns["person"])
        base: dict[str, Any] = {
            "other": np.full(n, -1, dtype=np.int64),
            "stay": np.zeros(n, dtype=np.int64),
            "is_tcm": np.zeros(n, dtype=bool),
            "doctor": np.full(n, -1, dtype=np.int64),
            "procedure": np.full(n, -1, dtype=np.int64),
            "external": np.full(n, -1, dtype=np.int64),
            "referred": np.zeros(n, dtype=bool),
            "institution": np.zeros(n, dtype=np.int64),
        }
        base.update(columns)
        return Block(**base)


def _chronic_visits(dr: Drawer, n: int) -> dict[str, np.ndarray]:
    w = dr.w
    chronic = w.chronic_htn | w.chronic_dm
    weights = np.where(chronic, dr.visit_w, 0.0)
    if n == 0 or weights.sum() == 0:
        empty = np.zeros(0, dtype=np.int64)
        return {"person": empty, "diagnosis": empty, "other": empty}
    person = dr.people(n, weights)
    htn, dm = w.chronic_htn[person], w.chronic_dm[person]
    both = htn & dm
    first_htn = np.where(both, dr.rng.random(n) < 0.6, htn)
    i10, e11 = dr.code_index["I10"], dr.code_index["E11.9"]
    diagnosis = np.where(first_htn, i10, e11)
    other = np.where(both, np.where(first_htn, e11, i10), -1)
    return {"person": person, "diagnosis": diagnosis, "other": other}


def _draw_year(dr: Drawer, proc_codes: list[str], grades: dict[str, int | None]) -> list[Block]:
    """All blocks of one year, in a fixed order."""
    w, rng = dr.w, dr.rng
    pop = len(w.resident_ids)
    per_person, per_100 = cal.year_volumes(dr.year, AS_OF.year)
    visits = pop * per_person
    blocks: list[Block] = []
    proc_index = {c: i for i, c in enumerate(proc_codes)}

    # Outpatient visits at member institutions: THC, village clinics, county hospitals.
    for place, mix in (("thc", GRASSROOTS_OP), ("village", GRASSROOTS_OP), ("county", COUNTY_OP)):
        n = round(visits * cal.VISIT_SPLIT[place])
        n_chronic = round(n * cal.CHRONIC_SHARE[place])
        chronic = _chronic_visits(dr, n_chronic)
        acute = dr.people(n - len(chronic["person"]), dr.visit_w)
        person = np.concatenate([chronic["person"], acute])
        diagnosis = np.concatenate([chronic["diagnosis"], dr.diagnoses(acute, mix)])
        other = np.concatenate([chronic["other"], np.full(len(acute), -1)])
        m = len(person)
        setting = np.full(m, 0, dtype=np.int8)  # 0 outpatient, 1 emergency
        if place == "county":
            u = rng.random(m)
            split = cal.COUNTY_HOSPITAL_SPLIT
            institution = np.where(
                u < split["general"],
                w.general,
                np.where(u < split["general"] + split["tcm"], w.tcm, w.mch),
            )
            is_tcm = (institution == w.tcm) | (
                (institution == w.general) & (rng.random(m) < cal.TCM_SHARE["general"])
            )
            setting[(rng.random(m) < cal.EMERGENCY_SHARE) & (institution != w.tcm)] = 1
        else:
            institution = (w.thc if place == "thc" else w.clinic)[person]
            is_tcm = rng.random(m) < cal.TCM_SHARE[place]
        day = dr.dates(diagnosis)
        total, parts = dr.costs(m, cal.OUTPATIENT_COST[place], "outpatient")
        emergency = setting == 1
        if emergency.any():
            total[emergency] = np.round(total[emergency] * cal.EMERGENCY_COST_FACTOR)
            service = total[emergency] - parts[emergency, :3].sum(axis=1)
            parts[emergency, 3] = service
        fund, ded = dr.settle(person, total, place, inpatient=False)
        doctor = dr.doctors(institution, is_tcm)
        for s_code, s_name in ((0, Setting.OUTPATIENT), (1, Setting.EMERGENCY)):
            at = setting == s_code
            if not at.any():
                continue
            blocks.append(
                dr.block(
                    place=place,
                    setting=str(s_name),
                    person=person[at],
                    institution=institution[at],
                    diagnosis=diagnosis[at],
                    other=other[at],
                    day=day[at],
                    is_tcm=is_tcm[at],
                    total=total[at],
                    parts=parts[at],
                    fund=fund[at],
                    deductible=ded[at],
                    doctor=doctor[at],
                )
            )

    # Admissions: in county (county hospitals and THCs) and out of county.
    admissions = pop * per_100 / 100
    in_county = round(admissions * cal.ADMISSIONS_IN_COUNTY)
    n_thc = round(in_county * cal.ADMISSIONS_AT_THC)
    for place, n, mix in (
        ("county", in_county - n_thc, COUNTY_IP),
        ("thc", n_thc, THC_IP),
    ):
        person = dr.people(n, dr.admit_w)
        diagnosis = dr.diagnoses(person, mix)
        if place == "county":
            u = rng.random(n)
            split = cal.COUNTY_ADMISSION_SPLIT
            institution = np.where(
                u < split["general"],
                w.general,
                np.where(u < split["general"] + split["tcm"], w.tcm, w.mch),
            )
            is_tcm = institution == w.tcm
        else:
            institution = w.thc[person]
            is_tcm = rng.random(n) < cal.TCM_SHARE["thc"] / 2
        stay = dr.stays(n, cal.ALOS_DAYS[place])
        day = np.minimum(dr.dates(diagnosis), dr.last - stay)
        total, parts = dr.costs(n, cal.INPATIENT_COST[place], "inpatient")
        fund, ded = dr.settle(person, total, place, inpatient=True)
        procedure = np.full(n, -1, dtype=np.int64)
        u = rng.random(n)
        for code, options in OPERATIONS[place].items():
            if code not in dr.code_index:
                continue
            at = diagnosis == dr.code_index[code]
            low = 0.0
            for proc, p in options:
                if proc in proc_index and (place != "thc" or (grades.get(proc) or 0) <= 2):
                    procedure[at & (u >= low) & (u < low + p)] = proc_index[proc]
                low += p
        blocks.append(
            dr.block(
                place=place,
                setting=str(Setting.INPATIENT),
                person=person,
                institution=institution,
                diagnosis=diagnosis,
                day=day,
                stay=stay,
                is_tcm=is_tcm,
                total=total,
                parts=parts,
                fund=fund,
                deductible=ded,
                doctor=dr.doctors(institution, is_tcm),
                procedure=procedure,
            )
        )

    # Out-of-county stays and visits, and retail pharmacies: external settlements.
    ext_p = np.array([o[4] for o in OUT_OF_COUNTY])
    ext_p = ext_p / ext_p.sum()
    n_out_ip = round(admissions) - in_county
    person = dr.people(n_out_ip, dr.admit_w)
    diagnosis = dr.diagnoses(person, OUT_IP)
    stay = dr.stays(n_out_ip, cal.ALOS_DAYS["out_of_county"])
    day = np.minimum(dr.dates(diagnosis), dr.last - stay)
    referred = rng.random(n_out_ip) < cal.OUT_OF_COUNTY_REFERRED
    total, parts = dr.costs(n_out_ip, cal.INPATIENT_COST["out_of_county"], "inpatient")
    fund, ded = dr.settle(person, total, "out_of_county", inpatient=True, referred=referred)
    blocks.append(
        dr.block(
            place="out_of_county",
            setting=str(Setting.INPATIENT),
            person=person,
            diagnosis=diagnosis,
            day=day,
            stay=stay,
            total=total,
            parts=parts,
            fund=fund,
            deductible=ded,
            external=rng.choice(len(ext_p), size=n_out_ip, p=ext_p),
            referred=referred,
        )
    )
    n_out_op = round(visits * cal.VISIT_SPLIT["out_of_county"])
    person = dr.people(n_out_op, dr.visit_w)
    diagnosis = dr.diagnoses(person, OUT_OP)
    total, parts = dr.costs(n_out_op, cal.OUTPATIENT_COST["out_of_county"], "outpatient")
    fund, ded = dr.settle(person, total, "out_of_county", inpatient=False)
    blocks.append(
        dr.block(
            place="out_of_county",
            setting=str(Setting.OUTPATIENT),
            person=person,
            diagnosis=diagnosis,
            day=dr.dates(diagnosis),
            total=total,
            parts=parts,
            fund=fund,
            deductible=ded,
            external=rng.choice(len(ext_p), size=n_out_op, p=ext_p),
        )
    )
    n_pharmacy = round(pop * cal.PHARMACY_PER_PERSON)
    person = dr.people(n_pharmacy, dr.visit_w)
    total, parts = dr.costs(n_pharmacy, cal.PHARMACY_COST, "pharmacy")
    fund, ded = dr.settle(person, total, "pharmacy", inpatient=False)
    blocks.append(
        dr.block(
            place="pharmacy",
            setting=str(Setting.OUTPATIENT),
            person=person,
            diagnosis=np.full(n_pharmacy, -1, dtype=np.int64),
            day=rng.choice(dr.days, size=n_pharmacy, p=dr.day_p),
            total=total,
            parts=parts,
            fund=fund,
            deductible=ded,
            external=rng.integers(0, len(PHARMACIES), size=n_pharmacy),
        )
    )
    return blocks


# ---------------------------------------------------------------------------
# Checks and writing
# ---------------------------------------------------------------------------


def check_block(block: Block, first: int, last: int) -> None:
    """The invariants every generated row obeys (vectorised; raises AssertionError)."""
    if not len(block.total):
        return
    assert (block.parts >= 0).all(), "费用分项不能为负"
    assert (block.parts.sum(axis=1) == block.total).all(), "费用分项之和应等于总费用"
    personal = block.total - block.fund
    assert (block.fund >= 0).all() and (personal >= 0).all(), "基金和个人支付不能为负"
    assert (block.fund + personal == block.total).all()
    assert (block.deductible >= 0).all() and (block.deductible <= block.total).all()
    assert (block.day >= first).all() and (block.day + block.stay <= last).all(), "日期超出年度"
    assert (block.stay >= 0).all(), "出院日期不能早于入院日期"


def _money(cents: np.ndarray) -> list[float]:
    values: list[float] = (cents / 100).tolist()
    return values


def _text(value: Any) -> str:
    """``rules.canonical_text`` of a generated cell (text, integer id, ISO date or None)."""
    return "" if value is None else str(value)


def _yuan(cents: int) -> str:
    """Cents as ``rules.canonical_text`` writes money: ``1234`` → ``12.34``."""
    return f"{cents // 100}.{cents % 100:02d}"


class Writer:
    """Writes blocks with ``executemany`` (the bulk path described in the module docstring)."""

    def __init__(
        self,
        world: World,
        codes: list[str],
        procs: list[str],
        grades: dict[str, Any],
        first_day: int,
    ):
        self.w = world
        self.codes = codes
        self.procs = procs
        self.grades = grades
        self.stamp = connection.ops.adapt_datetimefield_value(AS_OF_TIME)
        self.next_id = (
            Encounter.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        ) + 1
        self.summary = EncounterSummary()
        # (resident, institution) → [first visit, last visit or discharge] as ordinals.
        self.spans: dict[tuple[int, int], list[int]] = {}
        self.treating_days = int(get_parameter(enc.TREATING_DAYS_KEY, AS_OF))
        self.ctx: enc.ValidationContext | None = None
        try:
            self.ctx = enc.ValidationContext.load(today=AS_OF)
        except NotImplementedError:
            self.summary.sample_skipped_reason = "encounters.services 尚未实现校验"
        self.seq: dict[str, int] = {}
        # ISO strings of every date the rows can carry, looked up by ordinal.
        self.iso_base = first_day
        self.iso = [
            dt.date.fromordinal(first_day + i).isoformat()
            for i in range(AS_OF.toordinal() - first_day + 400)
        ]

    def _iso(self, ordinal: int) -> str:
        return self.iso[ordinal - self.iso_base]

    def _external_id(self, prefix: str) -> str:
        self.seq[prefix] = self.seq.get(prefix, 0) + 1
        return f"{prefix}{self.seq[prefix]:08d}"

    def write(self, block: Block, year: int, progress: Callable[[int], None]) -> None:
        order = np.lexsort((block.person, block.day))
        external = block.place in ("out_of_county", "pharmacy")
        for start in range(0, len(order), CHUNK):
            at = order[start : start + CHUNK]
            if external:
                self._write_settlements(block, at, year)
            else:
                self._write_encounters(block, at, year)
            progress(len(at))

    def _write_encounters(self, b: Block, at: np.ndarray, year: int) -> None:
        w, d = self.w, self.w.doctors
        n = len(at)
        ids = list(range(self.next_id, self.next_id + n))
        self.next_id += n
        person = b.person[at]
        person_list = person.tolist()
        id_numbers, inst_codes, doc_codes = w.id_numbers, w.inst_code, d.codes
        resident = w.resident_ids[person].tolist()
        inst = b.institution[at].tolist()
        doc = b.doctor[at].tolist()
        day = b.day[at].tolist()
        stay = b.stay[at].tolist()
        diag = b.diagnosis[at].tolist()
        other = b.other[at].tolist()
        tcm = b.is_tcm[at].tolist()
        proc = b.procedure[at].tolist()
        money = [_money(col) for col in (b.total[at], *b.parts[at].T, b.fund[at])]
        cents = [
            col.tolist() for col in (b.total[at], *b.parts[at].T, b.fund[at], b.deductible[at])
        ]
        personal = _money(b.total[at] - b.fund[at])
        ded = _money(b.deductible[at])
        ins = w.insurance[person].tolist()
        prefix = f"E{year}{'OEI'[('outpatient', 'emergency', 'inpatient').index(b.setting)]}"
        rows: list[tuple[Any, ...]] = []
        procedures: list[tuple[Any, ...]] = []
        inpatient = b.setting == Setting.INPATIENT
        for i in range(n):
            k = doc[i]
            visit = self._iso(day[i])
            discharge = self._iso(day[i] + stay[i]) if inpatient else None
            others = json.dumps([self.codes[other[i]]]) if other[i] >= 0 else "[]"
            row = (
                SOURCE_HIS,
                self._external_id(prefix),
                resident[i],
                inst[i],
                (int(d.dept_ids[k]) or None) if k >= 0 else None,
                d.dept_names[k] if k >= 0 else "",
                int(d.ids[k]) if k >= 0 else None,
                b.setting,
                visit,
                discharge,
                self.codes[diag[i]],
                others,
                tcm[i],
                money[0][i],
                money[1][i],
                money[2][i],
                money[3][i],
                money[4][i],
                INSURANCE_CODES[ins[i]],
                money[5][i],
                personal[i],
                ded[i],
            )
            procedure = ""
            if proc[i] >= 0:
                code = self.procs[proc[i]]
                grade = self.grades.get(code)
                procedures.append((ids[i], 1, code, grade))
                procedure = f"{code}:{'' if grade is None else grade}"
            # The text rules.content_hash builds from the cleaned values of the same row
            # (rules.ENCOUNTER_HASH_FIELDS order), so re-importing generated rows is "unchanged".
            digest = rules.digest_texts(
                (
                    row[0],
                    row[1],
                    "01",
                    id_numbers[person_list[i]],
                    inst_codes[inst[i]],
                    row[5],
                    doc_codes[k] if k >= 0 else "",
                    row[7],
                    row[8],
                    _text(row[9]),
                    row[10],
                    self.codes[other[i]] if other[i] >= 0 else "",
                    "1" if tcm[i] else "0",
                    *(_yuan(c[i]) for c in cents[:5]),
                    row[18],
                    _yuan(cents[5][i]),
                    _yuan(cents[0][i] - cents[5][i]),
                    _yuan(cents[6][i]),
                    procedure,
                )
            )
            rows.append((ids[i], *row, digest, self.stamp, self.stamp))
            span = self.spans.get((resident[i], inst[i]))
            if span is None:
                self.spans[(resident[i], inst[i])] = [day[i], day[i] + stay[i]]
            else:
                span[0] = min(span[0], day[i])
                span[1] = max(span[1], day[i] + stay[i])
            if self.ctx is not None and (self.summary.encounters + i) % SAMPLE_EVERY == 0:
                self._validate_encounter(rows[-1], person[i], k, proc[i])
        columns = (
            "id, source_system, external_id, resident_id, institution_id, department_id, "
            "department_name, doctor_id, setting, visit_date, discharge_date, "
            "principal_diagnosis, other_diagnoses, is_tcm, total_cost, drug_cost, "
            "material_cost, exam_cost, service_cost, insurance_type, fund_paid, personal_paid, "
            "deductible, content_hash, created_at, updated_at"
        )
        _insert(Encounter._meta.db_table, columns, rows)
        if procedures:
            _insert(EncounterProcedure._meta.db_table, "encounter_id, seq, code, grade", procedures)
        self.summary.encounters += n
        self.summary.procedures += len(procedures)
        self.summary.by_setting[b.setting] = self.summary.by_setting.get(b.setting, 0) + n

    def _validate_encounter(self, row: tuple[Any, ...], person: int, doc: int, proc: int) -> None:
        assert self.ctx is not None
        w = self.w
        data = enc.EncounterInput(
            source_system=row[1],
            external_id=row[2],
            id_number=w.id_numbers[person],
            institution_code=w.inst_code[row[4]],
            setting=row[8],
            visit_date=dt.date.fromisoformat(row[9]),
            discharge_date=dt.date.fromisoformat(row[10]) if row[10] else None,
            principal_diagnosis=row[11],
            other_diagnoses=json.loads(row[12]),
            procedures=[self.procs[proc]] if proc >= 0 else [],
            is_tcm=row[13],
            total_cost=_dec(row[14]),
            drug_cost=_dec(row[15]),
            material_cost=_dec(row[16]),
            exam_cost=_dec(row[17]),
            service_cost=_dec(row[18]),
            insurance_type=row[19],
            fund_paid=_dec(row[20]),
            personal_paid=_dec(row[21]),
            deductible=_dec(row[22]),
            department_name=row[6],
            doctor_code=w.doctors.codes[doc] if doc >= 0 else "",
        )
        cleaned = enc.clean_encounter(data, self.ctx)
        assert cleaned.content_hash == row[23], f"content hash differs for {row[2]}"
        self.summary.sampled_validated += 1

    def _write_settlements(self, b: Block, at: np.ndarray, year: int) -> None:
        w = self.w
        n = len(at)
        person = b.person[at]
        person_list = person.tolist()
        resident = w.resident_ids[person].tolist()
        day = b.day[at].tolist()
        stay = b.stay[at].tolist()
        diag = b.diagnosis[at].tolist()
        ext = b.external[at].tolist()
        referred = b.referred[at].tolist()
        total = _money(b.total[at])
        fund = _money(b.fund[at])
        cents_total = b.total[at].tolist()
        cents_fund = b.fund[at].tolist()
        personal = _money(b.total[at] - b.fund[at])
        ins = w.insurance[person].tolist()
        pharmacy = b.place == "pharmacy"
        inpatient = b.setting == Setting.INPATIENT
        prefix = f"S{year}{'P' if pharmacy else ('I' if inpatient else 'O')}"
        rows: list[tuple[Any, ...]] = []
        for i in range(n):
            if pharmacy:
                name, region, region_name, level = PHARMACIES[ext[i]], "439901000000", "青禾县", "0"
            else:
                name, region, region_name, level, _ = OUT_OF_COUNTY[ext[i]]
            admit = self._iso(day[i]) if inpatient else None
            discharge = self._iso(day[i] + stay[i]) if inpatient else None
            settled = self._iso(day[i] + stay[i])
            row = (
                SOURCE_INSURANCE,
                self._external_id(prefix),
                str(ExternalKind.PHARMACY if pharmacy else ExternalKind.OUT_OF_COUNTY),
                resident[i],
                settled,
                b.setting,
                admit,
                discharge,
                name,
                region,
                region_name,
                level,
                self.codes[diag[i]] if diag[i] >= 0 else "",
                referred[i],
                INSURANCE_CODES[ins[i]],
                total[i],
                fund[i],
                personal[i],
            )
            digest = rules.digest_texts(
                (
                    *row[:3],
                    "01",
                    w.id_numbers[person_list[i]],
                    *(_text(v) for v in row[4:13]),
                    "1" if referred[i] else "0",
                    row[14],
                    _yuan(cents_total[i]),
                    _yuan(cents_fund[i]),
                    _yuan(cents_total[i] - cents_fund[i]),
                )
            )
            rows.append((*row, digest, self.stamp, self.stamp))
            if self.ctx is not None and (self.summary.settlements + i) % SAMPLE_EVERY == 0:
                self._validate_settlement((*row, digest), person[i])
        _insert(
            ExternalSettlement._meta.db_table,
            "source_system, external_id, kind, resident_id, settlement_date, setting, "
            "admission_date, discharge_date, institution_name, region_code, region_name, level, "
            "principal_diagnosis, is_referred, insurance_type, total_cost, fund_paid, "
            "personal_paid, content_hash, created_at, updated_at",
            rows,
        )
        self.summary.settlements += n

    def _validate_settlement(self, row: tuple[Any, ...], person: int) -> None:
        assert self.ctx is not None
        data = enc.ExternalSettlementInput(
            source_system=row[0],
            external_id=row[1],
            kind=row[2],
            id_number=self.w.id_numbers[person],
            settlement_date=dt.date.fromisoformat(row[4]),
            setting=row[5],
            admission_date=dt.date.fromisoformat(row[6]) if row[6] else None,
            discharge_date=dt.date.fromisoformat(row[7]) if row[7] else None,
            institution_name=row[8],
            region_code=row[9],
            region_name=row[10],
            level=row[11],
            principal_diagnosis=row[12],
            is_referred=row[13],
            insurance_type=row[14],
            total_cost=_dec(row[15]),
            fund_paid=_dec(row[16]),
            personal_paid=_dec(row[17]),
        )
        cleaned = enc.clean_external_settlement(data, self.ctx)
        assert cleaned.content_hash == row[-1], f"content hash differs for {row[1]}"
        self.summary.sampled_validated += 1

    def grant_care(self) -> None:
        """A treating relationship per (resident, institution), as ``upsert_encounters``
        grants it: from the first visit until the policy's days after the last one."""
        rows = [
            (
                resident,
                inst,
                str(AccessBasis.TREATING),
                enc.CARE_SOURCE,
                "",
                self._iso(first),
                dt.date.fromordinal(last + self.treating_days).isoformat(),
            )
            for (resident, inst), (first, last) in sorted(self.spans.items())
        ]
        _insert(
            CareRelationship._meta.db_table,
            "resident_id, institution_id, kind, source, source_ref, valid_from, valid_to",
            rows,
        )
        self.summary.care_relationships = len(rows)

    def finish(self) -> None:
        sql = connection.ops.sequence_reset_sql(
            no_style(), [Encounter, EncounterProcedure, ExternalSettlement, CareRelationship]
        )
        with connection.cursor() as cursor:
            for statement in sql:
                cursor.execute(statement)


def _dec(value: float) -> Any:
    from decimal import Decimal

    return Decimal(f"{value:.2f}")


def _insert(table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    marks = ", ".join(["%s"] * (columns.count(",") + 1))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            cursor.executemany(sql, rows[start : start + CHUNK])


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------


def _catalogues() -> tuple[list[str], list[str], dict[str, int | None]]:
    wanted: set[str] = set(CHRONIC_CODES)
    for mix in (GRASSROOTS_OP, COUNTY_OP, COUNTY_IP, THC_IP, OUT_IP, OUT_OP):
        for table in mix.values():
            wanted.update(code for code, _ in table)
    known = set(DiagnosisCode.objects.filter(code__in=wanted).values_list("code", flat=True))
    missing = sorted(wanted - known)
    if missing:
        raise RuntimeError(f"疾病诊断编码目录缺少：{'、'.join(missing)}（请先执行数据迁移）")
    grades = dict(ProcedureCode.objects.values_list("code", "grade"))
    procs = sorted(
        {p for table in OPERATIONS.values() for opts in table.values() for p, _ in opts}
        & set(grades)
    )
    return sorted(wanted), procs, {p: grades[p] for p in procs}


def build_encounters(
    world: object | None = None,
    *,
    scenario: str,
    seed: int,
    years: int = 1,
    progress: ProgressCallback | None = None,
) -> EncounterSummary:
    """Generate ``years`` calendar years of encounters ending with ``AS_OF``'s year.

    ``world`` is accepted for symmetry with ``build_population`` and not needed: everything is
    read from the database (residents, member institutions, doctors), ordered by key.
    """
    del world, scenario  # the volume follows the population actually in the database
    report = progress or (lambda stage, done, total: None)
    rng = np.random.Generator(np.random.PCG64([seed, SALT]))
    codes, procs, grades = _catalogues()
    w = _load_world(AS_OF)
    writer = Writer(w, codes, procs, grades, dt.date(AS_OF.year - years + 1, 1, 1).toordinal())
    with _sqlite_cache(SQLITE_CACHE_KIB):
        _generate_years(writer, w, rng, codes, procs, grades, years, report)
    do_refresh_planner_statistics()  # later steps (care, referrals) query the new encounters
    writer.grant_care()
    writer.finish()
    return writer.summary


@contextmanager
def _sqlite_cache(kib: int) -> Iterator[None]:
    """A bigger page cache while millions of rows go into the encounter indexes (random
    resident order pages them in and out otherwise); the previous size afterwards."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def _generate_years(
    writer: Writer,
    w: World,
    rng: np.random.Generator,
    codes: list[str],
    procs: list[str],
    grades: dict[str, int | None],
    years: int,
    report: ProgressCallback,
) -> None:
    done = 0
    for year in range(AS_OF.year - years + 1, AS_OF.year + 1):
        dr = Drawer(w, rng, year, codes)
        blocks = _draw_year(dr, procs, grades)
        total = sum(len(b.total) for b in blocks) * years
        for b in blocks:
            check_block(b, dr.first, dr.last)

        def tick(n: int, _total: int = total) -> None:
            nonlocal done
            done += n
            report(STAGE, done, _total)

        for b in blocks:
            writer.write(b, year, tick)
