"""The generated population of the ``demo`` and ``county`` scenarios (issue #3 items 5 and 9).

Around the persona county (``personas.py``) this adds townships and villages, the member
institutions of the medcom, the health workforce, households and residents, calibrated to
reference/calibration.md (numbers and their sources live in ``calibration.py``).

Everything is drawn from one ``numpy.random.Generator(PCG64(seed))`` in a fixed order, with
``personas.AS_OF`` as "today": the same seed gives the same rows, byte for byte. People are
drawn column-wise with numpy; rows are written through the domain services or their bulk
paths (``bulk_create_households``, ``bulk_register_residents``, ``bulk_create_practitioners``),
which apply the same validation as the one-at-a-time services.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from django.db import connection

from yigongti.core.choices import AccessBasis, AuditAction
from yigongti.core.services import AuditContext, do_record_audit, do_refresh_planner_statistics
from yigongti.geo.choices import DivisionKind
from yigongti.geo.models import Division
from yigongti.geo.services import do_create_division
from yigongti.organizations.choices import (
    AffiliationKind,
    InstitutionLevel,
    InstitutionType,
    TreeLink,
)
from yigongti.organizations.models import Department, Institution
from yigongti.organizations.services import (
    do_add_affiliation,
    do_add_department,
    do_add_institution,
)
from yigongti.residents.choices import InsuranceType, Relation
from yigongti.residents.models import Household, Resident
from yigongti.residents.services import (
    ResidentInput,
    bulk_create_households,
    bulk_register_residents,
    do_scan_duplicates,
)
from yigongti.staff.choices import PracticeCategory, Profession, Sex, TitleGrade
from yigongti.staff.models import Practitioner
from yigongti.staff.services import (
    PractitionerInput,
    bulk_create_practitioners,
    do_add_practice_site,
)
from yigongti.synth import calibration as cal
from yigongti.synth import names
from yigongti.synth.personas import AS_OF, AS_OF_TIME, COUNTY_CODE, PersonaWorld

ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ScenarioSize:
    """How big a scenario is; geography sizes follow calibration §8 (about 18 THCs, 250-350
    village clinics per 500k residents) [DER/EST]."""

    residents: int
    streets: int  # new 街道 (urban), each with communities
    rural_townships: int  # new 乡/镇
    villages_per_rural: int
    communities_per_street: int
    chengguan_communities: int  # added to 城关镇 (which also has the persona 东门社区)
    chengguan_villages: int
    hekou_villages: int  # added to 河口乡 (which has 河口村 and 桃源村)
    sub_centres: int
    private: int


SIZES = {
    # demo: 6 townships (2 persona + 1 street + 3 rural), 41 villages, 50k residents.
    "demo": ScenarioSize(50_000, 1, 3, 8, 5, 3, 2, 4, 2, 2),
    # county: 18 townships (2 persona + 2 streets + 14 rural), 304 villages, 500k residents.
    "county": ScenarioSize(500_000, 2, 14, 18, 10, 11, 4, 14, 3, 5),
}

RESIDENT_CHUNK = 50_000
STAGE_GEO = "生成行政区划"
STAGE_INST = "生成医疗卫生机构"
STAGE_STAFF = "生成卫生人员"
STAGE_PEOPLE = "抽样居民与户"
STAGE_HOUSEHOLDS = "写入户"
STAGE_RESIDENTS = "写入居民"
STAGE_DUPLICATES = "查找疑似重复"


@dataclass
class Village:
    division: Division
    township: Division
    urban: bool
    target: int = 0


@dataclass
class PopulationSummary:
    residents: int = 0
    households: int = 0
    practitioners: int = 0
    institutions: int = 0
    beds: int = 0
    duplicate_pairs: int = 0
    lookalikes: int = 0
    extra: dict[str, float] = field(default_factory=dict)


def build_population(
    world: PersonaWorld,
    *,
    scenario: str,
    seed: int,
    progress: ProgressCallback | None = None,
    residents: int | None = None,
) -> PopulationSummary:
    """Add the generated county around the personas; ``residents`` overrides the size (tests).

    The total number of residents in the database afterwards is exactly ``residents`` (or the
    scenario's size), the three persona residents included.
    """
    size = SIZES[scenario]
    total = residents if residents is not None else size.residents
    report = progress or (lambda stage, done, n: None)
    rng = np.random.Generator(np.random.PCG64(seed))
    summary = PopulationSummary()

    villages, townships = _build_geography(world, size, rng, report)
    _assign_targets(rng, villages, total)
    inst = _build_institutions(world, size, townships, villages, total, rng, report)
    summary.institutions = Institution.objects.count()
    summary.beds = sum(Institution.objects.values_list("beds", flat=True))
    summary.practitioners = _build_staff(world, inst, villages, total, rng, report)

    existing = Resident.objects.count()
    people = _draw_people(rng, villages, total - existing, report)
    summary.households, summary.residents, summary.lookalikes = _write_people(
        rng, people, villages, report
    )
    do_refresh_planner_statistics()  # the duplicate scan below joins the new residents
    report(STAGE_DUPLICATES, 0, 1)
    summary.duplicate_pairs = do_scan_duplicates()
    report(STAGE_DUPLICATES, 1, 1)
    do_record_audit(
        AuditContext.system("synth"),
        action=AuditAction.CREATE,
        resource_type="resident",
        resource_id=f"synth:{scenario}:{seed}",
        basis=AccessBasis.DATA_ENTRY,
        detail={"residents": summary.residents, "households": summary.households},
        at=AS_OF_TIME,
    )
    return summary


# ---------------------------------------------------------------------------
# Geography
# ---------------------------------------------------------------------------


def _village_names(rng: np.random.Generator, count: int, taken: set[str]) -> list[str]:
    stems = list(names.VILLAGE_FIXED) + [
        a + b for a in names.VILLAGE_FIRST for b in names.VILLAGE_SECOND
    ]
    order = rng.permutation(len(stems))
    out: list[str] = []
    for i in order.tolist():
        name = stems[i] + "村"
        if name not in taken:
            taken.add(name)
            out.append(name)
            if len(out) == count:
                break
    return out


def _community_names(rng: np.random.Generator, count: int, taken: set[str]) -> list[str]:
    order = rng.permutation(len(names.COMMUNITY_STEMS))
    out: list[str] = []
    for i in order.tolist():
        name = names.COMMUNITY_STEMS[i] + "社区"
        if name not in taken:
            taken.add(name)
            out.append(name)
            if len(out) == count:
                break
    if len(out) < count:
        raise ValueError("社区名称不足")
    return out


def _build_geography(
    world: PersonaWorld,
    size: ScenarioSize,
    rng: np.random.Generator,
    report: ProgressCallback,
) -> tuple[list[Village], list[tuple[Division, bool]]]:
    county = world.county
    taken = set(world.villages)
    chengguan = world.townships["城关镇"]
    hekou = world.townships["河口乡"]
    # (persona township or (name, kind, urban), [(village name, kind, urban)])
    Spec = list[tuple[str, str, bool]]
    plan: list[tuple[Division | tuple[str, str, bool], Spec]] = []
    plan.append(
        (
            chengguan,
            [
                (n, str(DivisionKind.COMMUNITY), True)
                for n in _community_names(rng, size.chengguan_communities, taken)
            ]
            + [
                (n, str(DivisionKind.VILLAGE), False)
                for n in _village_names(rng, size.chengguan_villages, taken)
            ],
        )
    )
    plan.append(
        (
            hekou,
            [
                (n, str(DivisionKind.VILLAGE), False)
                for n in _village_names(rng, size.hekou_villages, taken)
            ],
        )
    )
    for name in names.STREET_NAMES[: size.streets]:
        plan.append(
            (
                (name, str(DivisionKind.STREET), True),
                [
                    (n, str(DivisionKind.COMMUNITY), True)
                    for n in _community_names(rng, size.communities_per_street, taken)
                ],
            )
        )
    for name in names.RURAL_TOWNSHIP_NAMES[: size.rural_townships]:
        kind = str(DivisionKind.TOWN if name.endswith("镇") else DivisionKind.TOWNSHIP)
        plan.append(
            (
                (name, kind, False),
                [
                    (n, str(DivisionKind.VILLAGE), False)
                    for n in _village_names(rng, size.villages_per_rural, taken)
                ],
            )
        )
    total_villages = sum(len(v) for _, v in plan)
    done = 0
    villages: list[Village] = [
        Village(world.villages["东门社区"], chengguan, True),
        Village(world.villages["河口村"], hekou, False),
        Village(world.villages["桃源村"], hekou, False),
    ]
    townships: list[tuple[Division, bool]] = [(chengguan, False), (hekou, False)]
    next_suffix = 3
    for town_spec, village_specs in plan:
        if isinstance(town_spec, Division):
            town = town_spec
            used = Division.objects.filter(parent=town).count()
        else:
            name, kind, urban = town_spec
            town = do_create_division(
                f"{COUNTY_CODE[:6]}{next_suffix:03d}000",
                name,
                county,
                kind=kind,
                is_urban=urban,
                is_fictional=True,
            )
            next_suffix += 1
            townships.append((town, True))
            used = 0
        for offset, (v_name, v_kind, v_urban) in enumerate(village_specs, start=used + 1):
            division = do_create_division(
                f"{town.code[:9]}{offset:03d}",
                v_name,
                town,
                kind=v_kind,
                is_urban=v_urban,
                is_fictional=True,
            )
            villages.append(Village(division, town, v_urban))
            done += 1
        report(STAGE_GEO, done, total_villages)
    return villages, townships


def _widen_sqlite_cache() -> None:
    """A bigger SQLite page cache for this connection while the indexes of half a million rows
    are built (the default 2 MB makes index inserts page in and out); no effect elsewhere."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -262144")


def _assign_targets(rng: np.random.Generator, villages: list[Village], total: int) -> None:
    """Population target per village: urban share §8 40-50 % [DER/EST] (URBAN_SHARE), the
    rest spread over the villages with a ±40 % spread in size."""
    urban_total = round(total * cal.URBAN_SHARE)
    for urban, class_total in ((True, urban_total), (False, total - urban_total)):
        members = [v for v in villages if v.urban == urban]
        weights = 0.6 + 0.8 * rng.random(len(members))
        shares = weights / weights.sum()
        for v, share in zip(members, shares.tolist(), strict=True):
            v.target = max(1, round(class_total * share))


# ---------------------------------------------------------------------------
# Institutions
# ---------------------------------------------------------------------------

LEAD_EXTRA_DEPARTMENTS = (
    ("GUK", "骨科", 60), ("SJN", "神经内科", 40), ("HXN", "呼吸内科", 40), ("EBH", "五官科", 0),
    ("KQK", "口腔科", 0), ("ZYK", "中医科", 0), ("JYK", "检验科", 0), ("YXK", "医学影像科", 0),
    ("YJK", "药剂科", 0),
)  # fmt: skip
TCM_DEPARTMENTS = (
    ("ZYN", "中医内科", 150), ("ZJT", "针灸推拿科", 60), ("GSK", "骨伤科", 90),
    ("JYK", "检验科", 0), ("YJK", "药剂科", 0),
)  # fmt: skip
MCH_DEPARTMENTS = (
    ("FUK", "妇科", 40), ("CHK", "产科", 50), ("ERB", "儿童保健科", 30), ("JYK", "检验科", 0),
    ("YJK", "药剂科", 0),
)  # fmt: skip
THC_EXTRA_DEPARTMENTS = (("ZYK", "中医科"), ("JYK", "检验科"), ("YJK", "药剂科"))
SUB_CENTRE_DEPARTMENTS = (("WAI", "外科"), ("FUC", "妇产科"), ("JZK", "急诊科"))

# Specialty of clinical staff by department name; practice category of physicians there.
SPECIALTY = {
    "全科": "全科医学", "全科医学科": "全科医学", "中医科": "中医", "中医内科": "中医内科",
    "针灸推拿科": "针灸推拿", "骨伤科": "中医骨伤", "口腔科": "口腔医学", "公共卫生科": "公共卫生",
}  # fmt: skip
TCM_DEPARTMENT_NAMES = frozenset({"中医科", "中医内科", "针灸推拿科", "骨伤科"})


@dataclass
class Institutions:
    county: list[Institution]  # lead, TCM, MCH
    thc_by_township: dict[str, Institution]
    clinic_by_village: dict[str, Institution]
    cdc: Institution
    private: list[Institution]
    sub_centres: list[Institution]


def _scaled(value: float, total: int) -> int:
    return round(value * total / 500_000)


def _build_institutions(
    world: PersonaWorld,
    size: ScenarioSize,
    townships: list[tuple[Division, bool]],
    villages: list[Village],
    total: int,
    rng: np.random.Generator,
    report: ProgressCallback,
) -> Institutions:
    medcom = world.medcom
    lead = world.lead_hospital
    inst = world.institutions
    steps = len(villages) + len(townships) + 3
    done = 0
    for code, name, beds in LEAD_EXTRA_DEPARTMENTS:
        do_add_department(lead, code, name, beds)
    for key, specs in (("tcm", TCM_DEPARTMENTS), ("mch", MCH_DEPARTMENTS)):
        for code, name, beds in specs:
            do_add_department(inst[key], code, name, beds)
    # The county CDC: a member of the medcom under the lead hospital (calibration §1 "1,999
    # county CDCs" ≈ one per county [OFF]).
    cdc = do_add_institution(
        code="QH0004",
        name="青禾县疾病预防控制中心",
        short_name="县疾控中心",
        inst_type=InstitutionType.PUBLIC_HEALTH,
        division=world.townships["城关镇"],
        service_division=world.county,
        medcom=medcom,
        parent=lead,
        tree_link=TreeLink.COUNTY_MEMBER,
    )
    for code, name in (("CRB", "传染病防制科"), ("MBK", "慢性病防制科"), ("JYK", "检验科")):
        do_add_department(cdc, code, name, 0)
    done += 3
    report(STAGE_INST, done, steps)

    # Township centres: the persona two plus one per new township; sub-centres among the new
    # rural ones (县域医疗卫生次中心, seed 002), chosen by the generator.
    new_rural = [t for t, is_new in townships if is_new and t.kind != DivisionKind.STREET]
    pick = rng.choice(len(new_rural), size=min(size.sub_centres, len(new_rural)), replace=False)
    sub_codes = {new_rural[i].code for i in sorted(pick.tolist())}
    pop_share = {t.code: 0.0 for t, _ in townships}
    for v in villages:
        pop_share[v.township.code] += v.target
    # Beds: §8 3,000-3,500 per 500k in total [DER/EST]. What the personas and the private
    # hospitals do not hold goes to the new centres by population, a sub-centre 2.6 times a
    # plain THC, a community centre (街道) a quarter; each at least 10. (The persona county
    # hospitals alone exceed the demo's share, so the demo has more beds per head.)
    private_beds = sum(_scaled(b, total) for _, _, b in names.PRIVATE_INSTITUTIONS[: size.private])
    bed_pool = max(
        0,
        _scaled(cal.PER_500K["beds"], total)
        - sum(Institution.objects.values_list("beds", flat=True))
        - private_beds,
    )
    bed_weight = {
        t.code: pop_share[t.code]
        * (2.6 if t.code in sub_codes else 1.0)
        * (0.25 if t.kind == DivisionKind.STREET else 1.0)
        * (0.8 + 0.4 * rng.random())
        for t, is_new in townships
        if is_new
    }
    weight_sum = sum(bed_weight.values()) or 1.0
    thc_by_township = {
        world.townships["城关镇"].code: inst["thc_chengguan"],
        world.townships["河口乡"].code: inst["thc_hekou"],
    }
    sub_centres: list[Institution] = []
    next_code = 1003
    for town, is_new in townships:
        if not is_new:
            thc = thc_by_township[town.code]
            for code, name in THC_EXTRA_DEPARTMENTS:
                do_add_department(thc, code, name, 0)
            continue
        street = town.kind == DivisionKind.STREET
        sub = town.code in sub_codes
        beds = max(10, round(bed_pool * bed_weight[town.code] / weight_sum))
        thc = do_add_institution(
            code=f"QH{next_code}",
            name=f"青禾县{town.name}{'社区卫生服务中心' if street else '卫生院'}",
            short_name=f"{town.name}{'社区卫生服务中心' if street else '卫生院'}",
            inst_type=InstitutionType.COMMUNITY_HEALTH_CENTRE
            if street
            else InstitutionType.TOWNSHIP_HEALTH_CENTRE,
            level=InstitutionLevel.PRIMARY,
            beds=beds,
            division=town,
            service_division=town,
            medcom=medcom,
            parent=lead,
            tree_link=TreeLink.COUNTY_TOWNSHIP,
            is_legal_entity=True,
            is_sub_centre=sub,
        )
        next_code += 1
        do_add_affiliation(
            thc,
            AffiliationKind.ADMINISTRATIVE,
            parent_division=town,
            note="街道办事处属地管理" if street else "乡镇人民政府属地管理",
        )
        clinical = beds - (0 if not sub else beds // 3)
        do_add_department(thc, "QKY", "全科", clinical)
        do_add_department(thc, "GW", "公共卫生科", 0)
        for code, name in THC_EXTRA_DEPARTMENTS:
            do_add_department(thc, code, name, 0)
        if sub:
            third = beds // 3
            for (code, name), b in zip(
                SUB_CENTRE_DEPARTMENTS, (third - third // 2, third // 2, 0), strict=True
            ):
                do_add_department(thc, code, name, b)
            sub_centres.append(thc)
        thc_by_township[town.code] = thc
        done += 1
        report(STAGE_INST, done, steps)

    # One clinic per village (村卫生室) or community (社区卫生服务站), supervised by its centre.
    clinic_by_village = {
        world.villages["东门社区"].code: inst["vc_dongmen"],
        world.villages["河口村"].code: inst["vc_hekou"],
        world.villages["桃源村"].code: inst["vc_taoyuan"],
    }
    next_code = 2004
    for v in villages:
        if v.division.code in clinic_by_village:
            continue
        parent = thc_by_township[v.township.code]
        station = v.urban
        # 锦绣社区 + 卫生服务站 reads 锦绣社区卫生服务站 (no doubled 社区).
        if station:
            label = "卫生服务站" if v.division.name.endswith("社区") else "社区卫生服务站"
        else:
            label = "卫生室"
        clinic = do_add_institution(
            code=f"QH{next_code}",
            name=f"青禾县{v.township.name}{v.division.name}{label}",
            short_name=f"{v.division.name}{label}",
            inst_type=InstitutionType.COMMUNITY_HEALTH_STATION
            if station
            else InstitutionType.VILLAGE_CLINIC,
            level=InstitutionLevel.UNRATED,
            division=v.division,
            service_division=v.division,
            medcom=medcom,
            parent=parent,
            tree_link=TreeLink.TOWNSHIP_VILLAGE,
            is_legal_entity=False,
        )
        next_code += 1
        do_add_affiliation(
            clinic,
            AffiliationKind.SUPERVISION,
            parent_institution=parent,
            note="社区卫生服务一体化管理" if station else "乡村一体化管理",
        )
        clinic_by_village[v.division.code] = clinic
        done += 1
        if done % 20 == 0:
            report(STAGE_INST, done, steps)

    # Private institutions (民营医疗机构, calibration §1 "county-level hospitals about 9 …
    # the rest private" [DER]): outside the medcom, no parent. Only when the organisation
    # rules accept a parentless non-member.
    private: list[Institution] = []
    for index, (p_name, short, beds) in enumerate(names.PRIVATE_INSTITUTIONS[: size.private]):
        private.append(
            do_add_institution(
                code=f"QH{3001 + index}",
                name=p_name,
                short_name=short,
                inst_type=InstitutionType.PRIVATE,
                level=InstitutionLevel.PRIMARY if beds else InstitutionLevel.UNRATED,
                beds=_scaled(beds, total),
                division=world.townships["城关镇"],
                service_division=world.county,
                medcom=None,
                parent=None,
                tree_link=TreeLink.OTHER,
                is_public=False,
            )
        )
        do_add_department(private[-1], "MZ", "门诊部", 0)
    report(STAGE_INST, steps, steps)
    return Institutions(
        county=[lead, inst["tcm"], inst["mch"]],
        thc_by_township=thc_by_township,
        clinic_by_village=clinic_by_village,
        cdc=cdc,
        private=private,
        sub_centres=sub_centres,
    )


# ---------------------------------------------------------------------------
# Names (shared by staff and residents)
# ---------------------------------------------------------------------------


class NameMaker:
    """Draws full names: a surname by frequency and a cohort-fashioned given name."""

    def __init__(self, rng: np.random.Generator):
        self.surnames = [s for s, _ in names.SURNAMES]
        weights = np.array([w for _, w in names.SURNAMES])
        self.surname_p = weights / weights.sum()
        self.given: list[str] = []
        self.pool: dict[tuple[str, str], tuple[int, np.ndarray]] = {}
        for key in (("M", "old"), ("M", "young"), ("F", "old"), ("F", "young")):
            first, second, single = names.GIVEN[key]
            combos = [a + b for a in first for b in second if a != b]
            chosen = rng.choice(len(combos), size=names.GIVEN_POOL_SIZE, replace=False)
            pool = [combos[i] for i in chosen.tolist()] + list(single)
            # Zipf-like popularity within the pool; single names share SINGLE_GIVEN_SHARE.
            two = 1.0 / (np.arange(names.GIVEN_POOL_SIZE) + 8.0)
            two *= (1 - names.SINGLE_GIVEN_SHARE) / two.sum()
            one = np.full(len(single), names.SINGLE_GIVEN_SHARE / len(single))
            self.pool[key] = (len(self.given), np.concatenate([two, one]))
            self.given.extend(pool)

    def surname(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(len(self.surnames), size=n, p=self.surname_p)

    def given_index(
        self, rng: np.random.Generator, male: np.ndarray, birth_year: np.ndarray
    ) -> np.ndarray:
        out = np.empty(len(male), dtype=np.int64)
        old = birth_year < names.COHORT_SPLIT_YEAR
        for sex, mask_sex in (("M", male), ("F", ~male)):
            for cohort, mask_c in (("old", old), ("young", ~old)):
                idx = np.flatnonzero(mask_sex & mask_c)
                start, p = self.pool[(sex, cohort)]
                out[idx] = start + rng.choice(len(p), size=len(idx), p=p)
        return out

    def full(self, surname: np.ndarray, given: np.ndarray) -> list[str]:
        s, g = self.surnames, self.given
        return [s[a] + g[b] for a, b in zip(surname.tolist(), given.tolist(), strict=True)]


# ---------------------------------------------------------------------------
# Staff
# ---------------------------------------------------------------------------

TITLES = (
    TitleGrade.JUNIOR,
    TitleGrade.INTERMEDIATE,
    TitleGrade.ASSOCIATE_SENIOR,
    TitleGrade.SENIOR,
)
# Age range by title grade [EST]: a title takes years of service.
TITLE_AGES = {
    TitleGrade.NONE: (22, 58),
    TitleGrade.JUNIOR: (23, 40),
    TitleGrade.INTERMEDIATE: (30, 52),
    TitleGrade.ASSOCIATE_SENIOR: (38, 58),
    TitleGrade.SENIOR: (45, 60),
}


def _departments(institution: Institution) -> list[Department]:
    return list(institution.departments.order_by("code"))


def _build_staff(
    world: PersonaWorld,
    inst: Institutions,
    villages: list[Village],
    total: int,
    rng: np.random.Generator,
    report: ProgressCallback,
) -> int:
    """Physicians, nurses, pharmacists, technicians, public-health staff and village doctors."""
    maker = NameMaker(rng)
    physicians = _scaled(cal.PER_500K["physicians"], total)  # §8 1,300-1,600 [DER/EST]
    nurses = _scaled(cal.PER_500K["nurses"], total)  # §8 1,500-1,900 [DER/EST]
    pharmacists = round(physicians * cal.PHARMACIST_PER_PHYSICIAN)
    technicians = round(physicians * cal.TECHNICIAN_PER_PHYSICIAN)
    # Share of each profession by institution group [EST]: county hospitals carry about 45 %
    # of physicians and 55 % of nurses, THCs about 40 % / 33 %, private about 10 %, CDC the rest.
    thcs = list(inst.thc_by_township.values())
    thc_weight = np.array(
        [
            sum(v.target for v in villages if v.township.pk == t.division_id)
            * (1.6 if t.is_sub_centre else 1.0)
            for t in thcs
        ],
        dtype=float,
    )
    thc_weight = thc_weight / thc_weight.sum() if thc_weight.sum() else thc_weight
    county_weight = np.array([0.6, 0.25, 0.15])
    private_weight = np.array([max(p.beds, 20) for p in inst.private], dtype=float)

    plan: list[tuple[Institution, str, int, str]] = []  # (institution, profession, count, group)

    def spread(
        group: list[Institution], weights: np.ndarray, count: int, prof: str, key: str
    ) -> None:
        if not group or count <= 0:
            return
        shares = weights / weights.sum()
        counts = np.floor(shares * count).astype(int)
        for i in np.argsort(-(shares * count - counts), kind="stable")[: count - counts.sum()]:
            counts[i] += 1
        for institution, n in zip(group, counts.tolist(), strict=True):
            plan.append((institution, prof, n, key))

    has_private = bool(inst.private)
    splits: tuple[tuple[str, int, tuple[float, float, float, float]], ...] = (
        (Profession.PHYSICIAN, physicians, (0.45, 0.42, 0.10, 0.03)),
        (Profession.NURSE, nurses, (0.55, 0.33, 0.11, 0.01)),
        (Profession.PHARMACIST, pharmacists, (0.45, 0.45, 0.10, 0.0)),
        (Profession.TECHNICIAN, technicians, (0.45, 0.35, 0.10, 0.10)),
    )
    for prof, count, split in splits:
        county_n, thc_n, private_n, cdc_n = (round(count * s) for s in split)
        if not has_private:
            county_n += private_n
        spread(inst.county, county_weight, county_n, prof, "county")
        spread(thcs, thc_weight, thc_n, prof, "thc")
        spread(inst.private, private_weight, private_n if has_private else 0, prof, "private")
        if cdc_n:
            plan.append((inst.cdc, prof, cdc_n, "cdc"))
    # Public-health staff: 3-6 per THC (基本公共卫生) and about 40 per 500k at the CDC [EST].
    for thc in thcs:
        plan.append((thc, Profession.PUBLIC_HEALTH, 3 + int(rng.integers(0, 4)), "thc"))
    plan.append((inst.cdc, Profession.PUBLIC_HEALTH, max(5, _scaled(40, total)), "cdc"))
    # Village doctors: 1-2 per village clinic; community stations get a physician and a nurse.
    for v in villages:
        clinic = inst.clinic_by_village[v.division.code]
        if clinic.inst_type == InstitutionType.COMMUNITY_HEALTH_STATION:
            plan.append((clinic, Profession.PHYSICIAN, 1, "thc"))
            plan.append((clinic, Profession.NURSE, 1, "thc"))
        else:
            plan.append((clinic, Profession.VILLAGE_DOCTOR, 1 + int(rng.random() < 0.5), "village"))

    # Existing codes per institution (the personas hold a few).
    used: dict[int, int] = {}
    for code, employer_id in Practitioner.objects.values_list("code", "employer_id"):
        used[employer_id] = max(used.get(employer_id, 0), int(code.rsplit("-", 1)[1]))
    rows: list[PractitionerInput] = []
    dept_cache: dict[int, list[Department]] = {}
    for institution, prof, count, key in plan:
        if count <= 0:
            continue
        depts = dept_cache.setdefault(institution.pk, _departments(institution))
        rows.extend(_staff_rows(rng, maker, institution, depts, prof, count, key, used))
    report(STAGE_STAFF, 0, len(rows))
    created = bulk_create_practitioners(rows)
    report(STAGE_STAFF, len(rows), len(rows))
    # 多点执业: about one in six senior lead-hospital physicians also practises at a THC,
    # sub-centres first [EST].
    lead = world.lead_hospital
    seniors = [
        p
        for p in created
        if p.employer_id == lead.pk
        and p.profession == Profession.PHYSICIAN
        and p.title_grade in (TitleGrade.ASSOCIATE_SENIOR, TitleGrade.SENIOR)
    ]
    targets = inst.sub_centres or thcs
    for i, p in enumerate(seniors[::6]):
        site = targets[i % len(targets)]
        day = int(rng.integers(0, 700))
        do_add_practice_site(p, site, dt.date(2023, 6, 1) + dt.timedelta(days=day))
    return Practitioner.objects.count()


def _staff_rows(
    rng: np.random.Generator,
    maker: NameMaker,
    institution: Institution,
    depts: list[Department],
    prof: str,
    count: int,
    key: str,
    used: dict[int, int],
) -> list[PractitionerInput]:
    if prof == Profession.VILLAGE_DOCTOR:
        grades = np.where(
            rng.random(count) < cal.VILLAGE_DOCTOR_JUNIOR_SHARE, TitleGrade.JUNIOR, TitleGrade.NONE
        )
    else:
        grades = np.array(TITLES)[rng.choice(4, size=count, p=cal.TITLE_MIX[key])]
    # Nurses are mostly women, village doctors mostly men [EST].
    male_p = {str(Profession.NURSE): 0.04, str(Profession.VILLAGE_DOCTOR): 0.75}.get(prof, 0.55)
    male = rng.random(count) < male_p
    ages = np.array(
        [
            TITLE_AGES[g][0] + rng.random() * (TITLE_AGES[g][1] - TITLE_AGES[g][0])
            for g in grades.tolist()
        ]
    )
    birth = [AS_OF - dt.timedelta(days=int(a * 365.25)) for a in ages.tolist()]
    years = np.array([b.year for b in birth])
    full = maker.full(maker.surname(rng, count), maker.given_index(rng, male, years))
    clinical = [d for d in depts if d.beds > 0] or [
        d for d in depts if d.code in ("QKY", "MZ", "NEI")
    ]
    bed_w = np.array([max(d.beds, 1) for d in clinical], dtype=float)
    by_code = {d.code: d for d in depts}
    rows = []
    for i in range(count):
        grade = str(grades[i])
        dept: Department | None
        category = PracticeCategory.NONE
        specialty = ""
        gp = False
        if prof in (Profession.PHYSICIAN, Profession.NURSE) and clinical:
            if prof == Profession.PHYSICIAN and "KQK" in by_code and rng.random() < 0.03:
                dept = by_code["KQK"]
            elif prof == Profession.PHYSICIAN and "ZYK" in by_code and rng.random() < 0.08:
                dept = by_code["ZYK"]
            else:
                dept = clinical[int(rng.choice(len(clinical), p=bed_w / bed_w.sum()))]
        elif prof == Profession.PHARMACIST:
            dept = by_code.get("YJK")
        elif prof == Profession.TECHNICIAN:
            dept = (
                by_code.get("YXK")
                if "YXK" in by_code and rng.random() < 0.4
                else by_code.get("JYK")
            )
        elif prof == Profession.PUBLIC_HEALTH:
            dept = by_code.get("GW") or by_code.get("MBK") or by_code.get("CRB")
        else:
            dept = None
        if prof == Profession.PHYSICIAN:
            name = dept.name if dept else "全科"
            if institution.inst_type == InstitutionType.PUBLIC_HEALTH:
                category, specialty = PracticeCategory.PUBLIC_HEALTH, "疾病控制"
            elif (
                name in TCM_DEPARTMENT_NAMES
                or institution.inst_type == InstitutionType.TCM_HOSPITAL
            ):
                category, specialty = PracticeCategory.TCM, SPECIALTY.get(name, "中医")
            elif name == "口腔科":
                category, specialty = PracticeCategory.DENTAL, "口腔医学"
            else:
                category, specialty = PracticeCategory.CLINICAL, SPECIALTY.get(name, name)
            gp = specialty == "全科医学"
            if dept is None or institution.inst_type in (
                InstitutionType.COMMUNITY_HEALTH_STATION,
                InstitutionType.VILLAGE_CLINIC,
            ):
                specialty, gp = "全科医学", True
        elif prof == Profession.NURSE:
            specialty = "护理"
        elif prof == Profession.PHARMACIST:
            specialty = "药学"
        elif prof == Profession.TECHNICIAN:
            specialty = "医学影像" if dept is not None and dept.code == "YXK" else "医学检验"
        elif prof == Profession.PUBLIC_HEALTH:
            specialty = "疾病控制" if key == "cdc" else "基本公共卫生"
        elif prof == Profession.VILLAGE_DOCTOR:
            # Village doctors with a licence category (乡村全科执业助理医师) [EST]: about half.
            roll = rng.random()
            category = (
                PracticeCategory.CLINICAL
                if roll < 0.45
                else PracticeCategory.TCM
                if roll < 0.55
                else PracticeCategory.NONE
            )
            specialty = "全科"
        used[institution.pk] = used.get(institution.pk, 0) + 1
        serial = used[institution.pk]
        start = birth[i] + dt.timedelta(days=int((22 + rng.random() * 3) * 365.25))
        rows.append(
            PractitionerInput(
                code=f"{institution.code}-{serial:04d}",
                name=full[i],
                sex=Sex.MALE if male[i] else Sex.FEMALE,
                profession=prof,
                employer=institution,
                start_date=min(start, AS_OF),
                practice_category=category,
                title_grade=grade,
                birth_date=birth[i],
                department=dept,
                specialty=specialty,
                is_general_practitioner=gp,
                licence_number=f"{institution.code[2:]}{serial:05d}{birth[i]:%y%m%d}"
                if prof in (Profession.PHYSICIAN, Profession.NURSE)
                else "",
            )
        )
    return rows


# ---------------------------------------------------------------------------
# People: households drawn by template, members column-wise
# ---------------------------------------------------------------------------

# Relation codes used in the member arrays (index into RELATIONS).
RELATIONS = (
    Relation.HEAD,
    Relation.SPOUSE,
    Relation.CHILD,
    Relation.PARENT,
    Relation.GRANDCHILD,
    Relation.CHILD_IN_LAW,
)
HEAD, SPOUSE, CHILD, PARENT, GRANDCHILD, CHILD_IN_LAW = range(6)

# Household templates and their weights for rural villages and urban communities [EST, tuned
# so the generated county meets §1/§8: mean household size about 2.6 (2.62 OFF), 60+ about
# 23.8 % in villages (EST) and younger in towns, 0-14 near the national 17.95 % (OFF)].
TEMPLATES = (
    "single_old", "old_couple", "single_adult", "couple", "nuclear", "three_gen", "skipped",
    "stem",
)  # fmt: skip
TEMPLATE_WEIGHTS = {
    False: (0.10, 0.12, 0.16, 0.11, 0.23, 0.04, 0.08, 0.16),
    True: (0.11, 0.12, 0.18, 0.15, 0.29, 0.07, 0.01, 0.07),
}


@dataclass
class Members:
    """Column-wise members of a batch of households; slot 0 is the head."""

    household: list[np.ndarray] = field(default_factory=list)
    slot: list[np.ndarray] = field(default_factory=list)
    relation: list[np.ndarray] = field(default_factory=list)
    male: list[np.ndarray] = field(default_factory=list)
    age: list[np.ndarray] = field(default_factory=list)
    own_surname: list[np.ndarray] = field(default_factory=list)

    def add(
        self,
        hh: np.ndarray,
        present: np.ndarray,
        slot: int,
        relation: int,
        male: np.ndarray,
        age: np.ndarray,
        own_surname: np.ndarray | bool,
    ) -> None:
        n = int(present.sum())
        self.household.append(hh[present])
        self.slot.append(np.full(n, slot))
        self.relation.append(np.full(n, relation))
        self.male.append(male[present])
        self.age.append(np.clip(age[present], 0.0, 99.99))
        own = np.broadcast_to(np.asarray(own_surname), present.shape)
        self.own_surname.append(own[present])


def _age_sampler(
    rng: np.random.Generator, urban: bool
) -> Callable[[float, float, int], np.ndarray]:
    """Ages from the calibrated single-year weights, tilted to the rural or urban 60+ share."""
    weights = cal.single_year_weights()
    target = cal.URBAN_60_PLUS if urban else cal.RURAL_60_PLUS
    old = weights[60:].sum()
    weights[60:] *= target / old
    weights[:60] *= (1 - target) / (1 - old)
    cumulative = np.cumsum(weights)

    def sample(lo: float, hi: float, n: int) -> np.ndarray:
        a, b = int(lo), int(hi)
        low = cumulative[a - 1] if a > 0 else 0.0
        u = low + rng.random(n) * (cumulative[b] - low)
        years = np.searchsorted(cumulative, u, side="right")
        return np.clip(years, a, b) + rng.random(n)

    return sample


def _opposite_spouse(
    rng: np.random.Generator, head_male: np.ndarray, head_age: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    # Husbands are on average about two years older than wives [EST].
    gap = rng.normal(2.0, 2.5, len(head_age))
    age = np.where(head_male, head_age - gap, head_age + gap)
    return ~head_male, np.maximum(age, 20.0)


def _draw_template(
    rng: np.random.Generator,
    name: str,
    hh: np.ndarray,
    sample: Callable[[float, float, int], np.ndarray],
    members: Members,
) -> None:
    n = len(hh)
    yes = np.ones(n, dtype=bool)
    r = rng.random

    def kid_sex() -> np.ndarray:
        return r(n) < 0.515  # sex ratio at birth above 105 in the cohorts born 1990-2015 [EST]

    if name == "single_old":
        male = r(n) < 0.33
        members.add(hh, yes, 0, HEAD, male, sample(65, 99, n), True)
    elif name == "old_couple":
        male = r(n) < 0.9
        age = sample(60, 95, n)
        members.add(hh, yes, 0, HEAD, male, age, True)
        s_male, s_age = _opposite_spouse(rng, male, age)
        members.add(hh, yes, 1, SPOUSE, s_male, s_age, True)
    elif name == "single_adult":
        members.add(hh, yes, 0, HEAD, r(n) < 0.55, sample(20, 59, n), True)
    elif name == "couple":
        male = r(n) < 0.88
        age = sample(22, 59, n)
        members.add(hh, yes, 0, HEAD, male, age, True)
        s_male, s_age = _opposite_spouse(rng, male, age)
        members.add(hh, yes, 1, SPOUSE, s_male, s_age, True)
    elif name in ("nuclear", "three_gen"):
        # Children 0-30 from the pyramid; the head is 22-34 years older than the first and at
        # most 35 years older than the second (issue #3: children 20-35 years younger).
        child = sample(0, 20 if name == "three_gen" else 30, n)
        gap = 22 + 12 * r(n)
        age = child + gap
        male = r(n) < 0.9
        married = r(n) < 0.92
        members.add(hh, yes, 0, HEAD, male, age, True)
        s_male, s_age = _opposite_spouse(rng, male, age)
        members.add(hh, married, 1, SPOUSE, s_male, s_age, True)
        members.add(hh, yes, 2, CHILD, kid_sex(), child, False)
        second = child - 1 - r(n) * np.clip(34 - gap, 0, 7)
        members.add(hh, (r(n) < 0.45) & (second >= 0), 3, CHILD, kid_sex(), second, False)
        if name == "three_gen":
            father_age = age + 22 + 10 * r(n)
            mother_age = father_age - rng.normal(2.0, 2.5, n)
            both = r(n) < 0.45
            father = both | (r(n) < 0.35)
            members.add(hh, father & (father_age < 99), 4, PARENT, yes, father_age, False)
            members.add(hh, (both | ~father) & (mother_age < 99), 5, PARENT, ~yes, mother_age, True)
    elif name == "skipped":
        # 留守: grandparents with grandchildren whose parents work away.
        male = r(n) < 0.85
        age = sample(52, 80, n)
        members.add(hh, yes, 0, HEAD, male, age, True)
        s_male, s_age = _opposite_spouse(rng, male, age)
        members.add(hh, r(n) < 0.8, 1, SPOUSE, s_male, s_age, True)
        top = np.minimum(15.0, age - 42)
        members.add(hh, yes, 2, GRANDCHILD, kid_sex(), r(n) * top, False)
        members.add(hh, r(n) < 0.4, 3, GRANDCHILD, kid_sex(), r(n) * top, False)
    elif name == "stem":
        # An older head with a married son (or daughter), the in-law and grandchildren.
        male = r(n) < 0.85
        age = sample(50, 88, n)
        members.add(hh, yes, 0, HEAD, male, age, True)
        s_male, s_age = _opposite_spouse(rng, male, age)
        members.add(hh, r(n) < 0.8, 1, SPOUSE, s_male, s_age, True)
        son_male = r(n) < 0.85
        son_age = age - 22 - 12 * r(n)
        members.add(hh, yes, 2, CHILD, son_male, son_age, False)
        in_law = (son_age >= 22) & (r(n) < 0.85)
        members.add(
            hh,
            in_law,
            3,
            CHILD_IN_LAW,
            ~son_male,
            son_age - rng.normal(2.0, 2.5, n) * np.where(son_male, 1, -1),
            True,
        )
        top = np.clip(son_age - 21, 0.0, 17.0)
        kids = (son_age >= 21) & (r(n) < 0.85)
        members.add(hh, kids, 4, GRANDCHILD, kid_sex(), r(n) * top, False)
        members.add(hh, kids & (r(n) < 0.4), 5, GRANDCHILD, kid_sex(), r(n) * top, False)
    else:  # pragma: no cover - programming error
        raise ValueError(name)


@dataclass
class People:
    """Generated persons, ordered by household then slot; look-alikes come last."""

    household: np.ndarray  # global household index, -1 for look-alike records
    village: np.ndarray  # index into the villages list
    relation: np.ndarray
    male: np.ndarray
    age_days: np.ndarray
    surname: np.ndarray
    given: np.ndarray
    hh_village: np.ndarray  # village of each household
    hh_address: list[str]
    person_address: list[str]
    maker: NameMaker
    lookalike_of: np.ndarray  # for the last rows: index of the person they copy


def _draw_class(
    rng: np.random.Generator, urban: bool, target: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Households of one class until exactly ``target`` people; returns member columns."""
    if target <= 0:
        empty = np.empty(0)
        return (empty.astype(int), empty.astype(int), empty.astype(int), empty.astype(bool),
                empty, empty.astype(bool))  # fmt: skip
    sample = _age_sampler(rng, urban)
    n_hh = int(target / 2.2) + 10
    kinds = rng.choice(len(TEMPLATES), size=n_hh, p=np.array(TEMPLATE_WEIGHTS[urban]))
    members = Members()
    for k, name in enumerate(TEMPLATES):
        hh = np.flatnonzero(kinds == k)
        if len(hh):
            _draw_template(rng, name, hh, sample, members)
    hh = np.concatenate(members.household)
    slot = np.concatenate(members.slot)
    order = np.lexsort((slot, hh))
    hh = hh[order]
    cols = (
        np.concatenate(members.relation)[order],
        np.concatenate(members.male)[order],
        np.concatenate(members.age)[order],
        np.concatenate(members.own_surname)[order],
    )
    if len(hh) < target:  # pragma: no cover - the 2.2 divisor leaves ample room
        raise RuntimeError("户数不足")
    # Keep whole households up to the target; the last one is cut (head first, so it keeps one).
    hh, keep = hh[:target], slice(0, target)
    relation, male, age, own = (c[keep] for c in cols)
    # Renumber households densely 0..k-1 in order of appearance.
    starts = np.r_[True, hh[1:] != hh[:-1]]
    dense = np.cumsum(starts) - 1
    return dense, relation, male, age, own, starts


def _draw_people(
    rng: np.random.Generator,
    villages: list[Village],
    count: int,
    report: ProgressCallback,
) -> People:
    report(STAGE_PEOPLE, 0, 4)
    n_dup = round(count * cal.LOOKALIKE_SHARE)
    base = count - n_dup
    parts = []
    offset = 0
    village_of_hh: list[np.ndarray] = []
    total_targets = sum(v.target for v in villages)
    urban_targets = sum(v.target for v in villages if v.urban)
    # Rescale the class targets to the persons still to generate (personas excluded).
    urban_want = round(base * urban_targets / total_targets)
    for urban, want in ((True, urban_want), (False, base - urban_want)):
        idx = [i for i, v in enumerate(villages) if v.urban == urban]
        hh, relation, male, age, own, starts = _draw_class(rng, urban, want)
        n_house = int(hh.max()) + 1 if len(hh) else 0
        # Households go to villages in order until each village reaches its share.
        weights = np.array([villages[i].target for i in idx], dtype=float)
        bounds = np.cumsum(weights / weights.sum()) * len(hh)
        first_person = np.flatnonzero(starts)
        which = np.minimum(np.searchsorted(bounds, first_person, side="right"), len(idx) - 1)
        village_of_hh.append(np.array(idx)[which])
        parts.append((hh + offset, relation, male, age, own))
        offset += n_house
    report(STAGE_PEOPLE, 1, 4)
    hh = np.concatenate([p[0] for p in parts])
    relation = np.concatenate([p[1] for p in parts])
    male = np.concatenate([p[2] for p in parts])
    age = np.concatenate([p[3] for p in parts])
    own = np.concatenate([p[4] for p in parts])
    hh_village = np.concatenate(village_of_hh)
    village = hh_village[hh]
    age_days = np.floor(age * 365.2425).astype(np.int64)

    maker = NameMaker(rng)
    surname = maker.surname(rng, len(hh))
    head_pos = np.flatnonzero(relation == HEAD)
    head_of = head_pos[np.searchsorted(hh[head_pos], hh)]
    surname = np.where(own, surname, surname[head_of])
    birth_year = AS_OF.year - (age_days / 365.2425).astype(int)
    given = maker.given_index(rng, male, birth_year)
    report(STAGE_PEOPLE, 2, 4)

    # Look-alike records: a copy of a random person's name, sex, birth date and village.
    source = np.sort(rng.choice(len(hh), size=n_dup, replace=False)) if n_dup else np.empty(0, int)
    hh = np.concatenate([hh, np.full(n_dup, -1)])
    village = np.concatenate([village, village[source]])
    relation = np.concatenate([relation, np.full(n_dup, HEAD)])
    male = np.concatenate([male, male[source]])
    age_days = np.concatenate([age_days, age_days[source]])
    surname = np.concatenate([surname, surname[source]])
    given = np.concatenate([given, given[source]])

    hh_address, person_address = _addresses(rng, villages, hh_village, hh)
    report(STAGE_PEOPLE, 3, 4)
    return People(
        household=hh,
        village=village,
        relation=relation,
        male=male,
        age_days=age_days,
        surname=surname,
        given=given,
        hh_village=hh_village,
        hh_address=hh_address,
        person_address=person_address,
        maker=maker,
        lookalike_of=source,
    )


def _addresses(
    rng: np.random.Generator, villages: list[Village], hh_village: np.ndarray, hh: np.ndarray
) -> tuple[list[str], list[str]]:
    n = len(hh_village)
    group = rng.integers(1, 13, n)
    number = rng.integers(1, 80, n)
    road = rng.integers(0, len(names.ROADS), n)
    road_no = rng.integers(1, 300, n)
    building = rng.integers(1, 25, n)
    room = rng.integers(1, 19, n) * 100 + rng.integers(1, 5, n)
    details = []
    for i, v_i in enumerate(hh_village.tolist()):
        v = villages[v_i]
        if v.urban:
            details.append(
                f"{v.division.name}{names.ROADS[road[i]]}{road_no[i]}号{building[i]}栋{room[i]}室"
            )
        else:
            details.append(f"{v.division.name}{group[i]}组{number[i]}号")
    hh_address = [
        f"{villages[v].township.name}{d}" for v, d in zip(hh_village.tolist(), details, strict=True)
    ]
    person = [details[h] if h >= 0 else "" for h in hh.tolist()]
    return hh_address, person


def _id_numbers(
    rng: np.random.Generator, people: People, reserved: list[str]
) -> tuple[np.ndarray, list[str]]:
    """GB 11643 numbers: area + birth date + sequence (odd for men) + check digit; unique."""
    n = len(people.household)
    rel = people.relation
    # Born elsewhere [EST]: about 12 % of heads and children, 30 % of spouses and in-laws;
    # the look-alike records were first registered somewhere else.
    away_p = np.where((rel == SPOUSE) | (rel == CHILD_IN_LAW), 0.30, 0.12)
    away_p[people.household < 0] = 0.7
    away = rng.random(n) < away_p
    others = np.array(names.OTHER_AREA_CODES, dtype=np.int64)
    area = np.where(away, others[rng.integers(0, len(others), n)], names.HOME_AREA_CODE)
    birth = np.datetime64(AS_OF.isoformat(), "D") - people.age_days.astype("timedelta64[D]")
    years = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    months = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (birth - birth.astype("datetime64[M]")).astype(np.int64) + 1
    ymd = years * 10000 + months * 100 + days
    parity = people.male.astype(np.int64)
    prefix = area * 10**11 + ymd * 1000
    first17 = prefix + 2 * rng.integers(0, 500, n) + parity
    taken = np.array([int(r[:17]) for r in reserved], dtype=np.int64)
    while True:
        order = np.argsort(first17, kind="stable")
        ordered = first17[order]
        clash = np.zeros(n, dtype=bool)
        clash[order[1:][ordered[1:] == ordered[:-1]]] = True
        clash |= np.isin(first17, taken)
        k = int(clash.sum())
        if k == 0:
            break
        first17[clash] = prefix[clash] + 2 * rng.integers(0, 500, k) + parity[clash]
    weights = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
    total = np.zeros(n, dtype=np.int64)
    rest = first17.copy()
    for w in weights[::-1]:
        total += (rest % 10) * w
        rest //= 10
    checks = "10X98765432"
    numbers = [
        f"{v:017d}{checks[c]}" for v, c in zip(first17.tolist(), (total % 11).tolist(), strict=True)
    ]
    return birth, numbers


def _write_people(
    rng: np.random.Generator, people: People, villages: list[Village], report: ProgressCallback
) -> tuple[int, int, int]:
    n = len(people.household)
    age = people.age_days / 365.2425
    urban = np.array([villages[v].urban for v in people.village.tolist()])
    reserved = list(Resident.objects.order_by("id_number").values_list("id_number", flat=True))
    birth, ids = _id_numbers(rng, people, reserved)

    # Phones [EST]: most adults, some teenagers, no young children.
    phone_p = np.select([age < 12, age < 16, age < 70], [0.0, 0.35, 0.93], 0.72)
    has_phone = rng.random(n) < phone_p
    prefixes = np.array(names.MOBILE_PREFIXES, dtype=np.int64)
    phone_num = prefixes[rng.integers(0, len(prefixes), n)] * 10**8 + rng.integers(0, 10**8, n)

    # Insurance (calibration.INSURANCE_*): employee cover for adults, weighted to towns and to
    # working age, scaled so the expected share is 22 %; 2 % uninsured; the rest 城乡居民.
    propensity = np.where(age >= 18, np.where(urban, 1.0, 0.22), 0.0) * np.where(
        age >= 60, 0.8, 1.0
    )
    propensity *= cal.INSURANCE_EMPLOYEE * n / propensity.sum()
    roll = rng.random(n)
    employee = roll < np.minimum(propensity, 0.95)
    uninsured = ~employee & (rng.random(n) < cal.INSURANCE_NONE / (1 - cal.INSURANCE_EMPLOYEE))

    # Chronic conditions by age band (calibration §4).
    htn_p = np.zeros(n)
    for (lo, hi), p in cal.HYPERTENSION.items():
        htn_p[(age >= lo) & (age < hi)] = p
    adult = age >= 18
    old = age >= 60
    middle = adult & (age >= 45) & ~old
    young = adult & (age < 45)
    rest_needed = max(cal.DIABETES_ADULT * adult.sum() - cal.DIABETES_60_PLUS * old.sum(), 0.0)
    # Solve r_young so r_young·young + 3·r_young·middle = what the under-60 adults must carry.
    r_young = rest_needed / max(young.sum() + middle.sum() / cal.DIABETES_YOUNG_TO_MIDDLE, 1)
    dm_p = np.select(
        [old, middle, young],
        [cal.DIABETES_60_PLUS, r_young / cal.DIABETES_YOUNG_TO_MIDDLE, r_young],
        0.0,
    )
    teen_up = age >= 15
    smi_p = np.where(teen_up, cal.SMI_SHARE * n / max(int(teen_up.sum()), 1), 0.0)
    htn = rng.random(n) < htn_p
    dm = rng.random(n) < dm_p
    smi = rng.random(n) < smi_p

    full_names = people.maker.full(people.surname, people.given)
    report(STAGE_PEOPLE, 4, 4)

    # Households.
    hh_codes: list[str] = []
    counters: dict[int, int] = {}
    existing = {
        v.division.code: Household.objects.filter(division=v.division).count() for v in villages
    }
    for v_i in people.hh_village.tolist():
        v = villages[v_i]
        k = counters.get(v_i, existing[v.division.code]) + 1
        counters[v_i] = k
        hh_codes.append(f"H{v.division.code}-{k:04d}")
    rows = [
        (code, villages[v].division, addr)
        for code, v, addr in zip(
            hh_codes, people.hh_village.tolist(), people.hh_address, strict=True
        )
    ]
    report(STAGE_HOUSEHOLDS, 0, len(rows))
    household_ids: dict[str, int] = {}
    for start in range(0, len(rows), RESIDENT_CHUNK):
        household_ids.update(bulk_create_households(rows[start : start + RESIDENT_CHUNK]))
        report(STAGE_HOUSEHOLDS, min(start + RESIDENT_CHUNK, len(rows)), len(rows))

    codes = [villages[v].division.code for v in range(len(villages))]
    relation_values = [str(r) for r in RELATIONS]
    phones = [f"{p:011d}" for p in phone_num.tolist()]
    employee_serial = 1_000_000

    def resident_input(i: int) -> ResidentInput:
        h = int(people.household[i])
        if employee[i]:
            ins_type, ins_no = (
                InsuranceType.EMPLOYEE,
                f"E{names.HOME_AREA_CODE}{employee_serial + i:07d}",
            )
        elif uninsured[i]:
            ins_type, ins_no = InsuranceType.NONE, ""
        else:
            ins_type, ins_no = InsuranceType.RESIDENT, ids[i][:17]
        return ResidentInput(
            name=full_names[i],
            id_number=ids[i],
            division_code=codes[people.village[i]],
            phone=phones[i] if has_phone[i] else "",
            address_detail=people.person_address[i],
            household_code=hh_codes[h] if h >= 0 else "",
            relation_to_head=relation_values[people.relation[i]],
            insurance_type=ins_type,
            insurance_number=ins_no,
            has_hypertension=bool(htn[i]),
            has_diabetes=bool(dm[i]),
            has_severe_mental_illness=bool(smi[i]),
        )

    del birth
    report(STAGE_RESIDENTS, 0, n)
    _widen_sqlite_cache()
    inserted = 0
    for start in range(0, n, RESIDENT_CHUNK):
        result = bulk_register_residents(
            [resident_input(i) for i in range(start, min(start + RESIDENT_CHUNK, n))],
            today=AS_OF,
            now=AS_OF_TIME,
            household_ids=household_ids,
        )
        if result.rejected:
            index, errors = result.rejected[0]
            raise RuntimeError(f"生成的居民第{start + index + 1}行未通过校验：{errors}")
        inserted += result.inserted
        report(STAGE_RESIDENTS, min(start + RESIDENT_CHUNK, n), n)
    return len(rows), inserted, len(people.lookalike_of)
