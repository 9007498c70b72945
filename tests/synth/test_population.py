"""The generated population (synth/population.py): determinism, validity, calibration bands.

Small sizes (``residents=``) keep the file fast; the scenario's geography is unchanged.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from typing import Any

import pytest
from django.db import transaction

from yigongti.organizations.choices import InstitutionType, TreeLink
from yigongti.organizations.models import Affiliation, Institution
from yigongti.residents import rules
from yigongti.residents.choices import Relation
from yigongti.residents.models import DuplicateCandidate, Household, Resident
from yigongti.staff import rules as staff_rules
from yigongti.staff.models import PracticeSite, Practitioner
from yigongti.synth.personas import AS_OF, build_personas
from yigongti.synth.population import PopulationSummary, build_population

SMALL = 3000


class _Rollback(Exception):
    pass


def build(seed: int, residents: int = SMALL) -> PopulationSummary:
    world = build_personas(seed)
    return build_population(world, scenario="demo", seed=seed, residents=residents)


def dump() -> dict[str, list[tuple[Any, ...]]]:
    return {
        "residents": sorted(
            Resident.objects.values_list(
                "id_number",
                "name",
                "birth_date",
                "division_code",
                "phone",
                "insurance_type",
                "insurance_number",
                "relation_to_head",
                "household__code",
                "has_hypertension",
                "has_diabetes",
                "has_severe_mental_illness",
                "mpi_id",
            )
        ),
        "households": sorted(Household.objects.values_list("code", "division__code", "address")),
        "staff": sorted(
            Practitioner.objects.values_list(
                "code", "name", "sex", "birth_date", "title_grade", "department__code"
            )
        ),
        "institutions": sorted(Institution.objects.values_list("code", "name", "beds", "path")),
    }


def generate_and_dump(seed: int) -> dict[str, list[tuple[Any, ...]]]:
    """Generate inside a savepoint, dump, and roll back so the next run starts empty."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    try:
        with transaction.atomic():
            build(seed)
            rows = dump()
            raise _Rollback
    except _Rollback:
        pass
    assert Resident.objects.count() == 0
    return rows


@pytest.mark.django_db
def test_same_seed_same_rows_and_other_seed_other_people() -> None:
    first = generate_and_dump(7)
    second = generate_and_dump(7)
    other = generate_and_dump(8)
    assert len(first["residents"]) == SMALL
    assert first == second
    ids_first = {row[0] for row in first["residents"]}
    ids_other = {row[0] for row in other["residents"]}
    # The three persona residents are shared; otherwise only a chance identity number or two
    # (500 sequence numbers per birth date and area).
    assert 3 <= len(ids_first & ids_other) < 3 + 0.01 * SMALL
    assert first["residents"] != other["residents"]
    assert first["staff"] != other["staff"]


@pytest.mark.django_db
def test_identity_numbers_phones_and_insurance_are_valid() -> None:
    summary = build(11)
    assert Resident.objects.count() == SMALL
    assert summary.residents == SMALL - 3
    rows = list(
        Resident.objects.values_list(
            "id_number", "sex", "birth_date", "phone", "insurance_type", "insurance_number"
        )
    )
    assert len({r[0] for r in rows}) == SMALL
    mobile = re.compile(r"^1[3-9]\d{9}$")
    for id_number, sex, birth, phone, ins_type, ins_no in rows:
        info = rules.parse_id_number(id_number, today=AS_OF)
        assert info.number == id_number
        assert info.sex == sex
        assert info.birth_date == birth
        assert phone == "" or mobile.match(phone)
        assert (ins_type == "none") == (ins_no == "")
    # Young children have no phone of their own.
    young = Resident.objects.filter(birth_date__gt=dt.date(2015, 1, 1))
    assert young.exists()
    assert not young.exclude(phone="").exists()


@pytest.mark.django_db
def test_households_are_coherent() -> None:
    build(12)
    members: dict[int, list[tuple[str, str, dt.date, str]]] = defaultdict(list)
    for hh, relation, sex, birth, name in Resident.objects.filter(
        household__isnull=False
    ).values_list("household_id", "relation_to_head", "sex", "birth_date", "name"):
        members[hh].append((relation, sex, birth, name))
    assert Household.objects.count() == len(members)
    sizes = [len(m) for m in members.values()]
    assert 2.3 <= sum(sizes) / len(sizes) <= 2.9
    spouses = 0
    for people in members.values():
        heads = [p for p in people if p[0] == Relation.HEAD]
        assert len(heads) == 1
        _, head_sex, head_birth, head_name = heads[0]
        for relation, sex, birth, name in people:
            if relation == Relation.SPOUSE:
                spouses += 1
                assert sex != head_sex
                assert abs((birth - head_birth).days) < 20 * 366
            if relation == Relation.CHILD:
                gap = (birth - head_birth).days / 365.2425
                assert 21.9 <= gap <= 35.1, (head_birth, birth)
                assert name[0] == head_name[0]
            if relation == Relation.PARENT:
                assert birth < head_birth
            if relation == Relation.GRANDCHILD:
                assert (birth - head_birth).days > 36 * 365
    assert spouses > 0.2 * len(members)


@pytest.mark.django_db
def test_calibrated_shares() -> None:
    build(13, residents=20_000)
    total = Resident.objects.count()
    assert total == 20_000
    cutoff_60 = dt.date(AS_OF.year - 60, AS_OF.month, AS_OF.day)
    rural = Resident.objects.filter(division__is_urban=False, household__isnull=False)
    urban = Resident.objects.filter(division__is_urban=True, household__isnull=False)
    rural_old = rural.filter(birth_date__lte=cutoff_60).count() / rural.count()
    urban_old = urban.filter(birth_date__lte=cutoff_60).count() / urban.count()
    all_old = Resident.objects.filter(birth_date__lte=cutoff_60).count() / total
    # calibration §1/§8: rural 60+ about 23.8 %, county 22-25 %; towns younger.
    assert 0.22 <= rural_old <= 0.265
    assert urban_old < rural_old
    assert 0.20 <= all_old <= 0.25
    urban_share = Resident.objects.filter(division__is_urban=True).count() / total
    assert 0.40 <= urban_share <= 0.50
    males = Resident.objects.filter(sex="M").count()
    assert 1.00 <= males / (total - males) <= 1.10
    smi = Resident.objects.filter(has_severe_mental_illness=True).count() / total
    assert 0.0025 <= smi <= 0.0065
    cutoff_18 = dt.date(AS_OF.year - 18, AS_OF.month, AS_OF.day)
    adults = Resident.objects.filter(birth_date__lte=cutoff_18)
    diabetes = adults.filter(has_diabetes=True).count() / adults.count()
    assert 0.10 <= diabetes <= 0.14
    assert not Resident.objects.filter(birth_date__gt=cutoff_18, has_hypertension=True).exists()
    kinds = Counter(Resident.objects.values_list("insurance_type", flat=True))
    assert 0.18 <= kinds["employee"] / total <= 0.26
    assert 0.005 <= kinds["none"] / total <= 0.035


@pytest.mark.django_db
def test_lookalikes_reach_the_duplicate_queue() -> None:
    summary = build(14)
    assert summary.lookalikes == round((SMALL - 3) * 0.0005)
    assert summary.duplicate_pairs >= summary.lookalikes
    assert DuplicateCandidate.objects.count() == summary.duplicate_pairs
    for a, b in DuplicateCandidate.objects.values_list("resident_a", "resident_b"):
        ra, rb = Resident.objects.get(pk=a), Resident.objects.get(pk=b)
        assert rules.duplicate_key(ra.name, ra.birth_date, ra.division_code) == (
            rules.duplicate_key(rb.name, rb.birth_date, rb.division_code)
        )
        assert ra.id_number != rb.id_number


@pytest.mark.django_db
def test_institution_tree_and_staff() -> None:
    build(15)
    clinics = Institution.objects.filter(
        inst_type__in=[InstitutionType.VILLAGE_CLINIC, InstitutionType.COMMUNITY_HEALTH_STATION]
    ).select_related("parent", "division")
    centres = {InstitutionType.TOWNSHIP_HEALTH_CENTRE, InstitutionType.COMMUNITY_HEALTH_CENTRE}
    # demo geography: 41 villages and communities, one clinic each; 6 township centres.
    assert clinics.count() == 41
    for clinic in clinics:
        assert clinic.parent is not None
        assert clinic.parent.inst_type in centres
        assert clinic.parent.division_id == clinic.division.parent_id
        assert clinic.tree_link == TreeLink.TOWNSHIP_VILLAGE
        assert clinic.path == f"{clinic.parent.path}{clinic.code}/"
        assert Affiliation.objects.filter(
            institution=clinic, kind="supervision", parent_institution=clinic.parent
        ).exists()
        if clinic.code not in ("QH2001", "QH2002", "QH2003"):  # personas: all 卫生室
            assert (clinic.inst_type == InstitutionType.COMMUNITY_HEALTH_STATION) == (
                clinic.division.is_urban
            )
    thcs = Institution.objects.filter(inst_type__in=centres)
    assert thcs.count() == 6
    assert thcs.filter(is_sub_centre=True).count() == 2
    for thc in thcs:
        assert Affiliation.objects.get(
            institution=thc, kind="administrative"
        ).parent_division_id == (thc.division_id)
    cdc = Institution.objects.get(inst_type=InstitutionType.PUBLIC_HEALTH)
    assert cdc.tree_link == TreeLink.COUNTY_MEMBER and cdc.parent.tree_link == TreeLink.ROOT
    staff = list(Practitioner.objects.select_related("department"))
    for p in staff:
        assert (
            staff_rules.check_practitioner(
                p.profession, p.practice_category, p.title_grade, p.birth_date
            )
            == {}
        )
        assert p.department is None or p.department.institution_id == p.employer_id
        assert PracticeSite.objects.filter(practitioner=p, is_primary=True).count() == 1
    # Every village clinic has one or two village doctors (community stations: staff).
    for clinic in clinics.filter(inst_type=InstitutionType.VILLAGE_CLINIC):
        assert 1 <= clinic.employees.filter(profession="village_doctor").count() <= 3
