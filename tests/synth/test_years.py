"""Volumes by year (synth/calibration.year_volumes): a demo's earlier year is smaller by the
calibrated growth, not a copy of the later one's counts. A module of its own: the module-scoped
world of test_encounters.py would clash with the one built here."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import transaction

from yigongti.encounters.models import Encounter, ExternalSettlement
from yigongti.synth.encounters import build_encounters
from yigongti.synth.personas import build_personas
from yigongti.synth.population import build_population

from .test_encounters import SMALL, _Rollback, ensure_catalogues

pytestmark = pytest.mark.django_db


def test_a_year_before_is_smaller_by_the_calibrated_growth() -> None:
    """Two years of the same residents: the earlier has 1 / VISIT_GROWTH of the later's visits
    and 1 / ADMISSION_GROWTH of its admissions (§2, 2023 → 2024), each place's count rounded;
    before, both years had the same counts to the visit."""
    from yigongti.synth import calibration as cal

    assert cal.year_volumes(2025, 2025) == (6.8, 20.0)
    per_person, per_100 = cal.year_volumes(2024, 2025)
    assert (round(per_person, 4), round(per_100, 4)) == (6.4222, 19.3665)
    try:
        with transaction.atomic():
            ensure_catalogues()
            world = build_personas(11)
            build_population(world, scenario="demo", seed=11, residents=SMALL)
            build_encounters(world, scenario="demo", seed=11, years=2)
            visits, stays = Counter(), Counter()
            for year in (2024, 2025):
                visits[year] = (
                    Encounter.objects.exclude(setting="inpatient")
                    .filter(visit_date__year=year)
                    .count()
                    + ExternalSettlement.objects.filter(
                        kind="out_of_county", setting="outpatient", settlement_date__year=year
                    ).count()
                )
                stays[year] = Encounter.objects.filter(
                    setting="inpatient", visit_date__year=year
                ).count()
            raise _Rollback
    except _Rollback:
        pass
    assert visits[2025] > 15000 and stays[2025] > 400
    assert abs(visits[2024] - visits[2025] / cal.VISIT_GROWTH) <= 2
    assert abs(stays[2024] - stays[2025] / cal.ADMISSION_GROWTH) <= 1
