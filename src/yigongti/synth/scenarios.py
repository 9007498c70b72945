"""Scenarios: ``tiny`` (the personas only), ``demo`` (~50,000 residents), ``county`` (500,000).

Every scenario is deterministic by seed: the same seed gives the same rows, byte for byte.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from yigongti.core import clock
from yigongti.core.services import do_load_default_parameters
from yigongti.synth.personas import AS_OF, AS_OF_TIME, PersonaWorld, build_personas

SCENARIOS = ("tiny", "demo", "county")

ProgressCallback = Callable[[str, int, int], None]


@dataclass
class GenerateSummary:
    scenario: str
    seed: int
    counts: dict[str, int] = field(default_factory=dict)


def generate(
    scenario: str,
    seed: int,
    progress: ProgressCallback | None = None,
    *,
    encounters: bool = True,
    encounter_years: int = 1,
    residents: int | None = None,
) -> GenerateSummary:
    """Build a scenario; ``encounters=False`` skips the year(s) of encounters and settlements;
    ``residents`` cuts the population to that size (tests: the same pipeline, smaller)."""
    if scenario not in SCENARIOS:
        raise ValueError(f"未知场景“{scenario}”，可选：{'、'.join(SCENARIOS)}")
    # A fixed clock: every timestamp (records, audit events) is the scenario's as-of time, so
    # the same seed gives the same rows byte for byte.
    with transaction.atomic(), clock.frozen(AS_OF_TIME):
        do_load_default_parameters()
        world = build_personas(seed)
        summary = GenerateSummary(scenario, seed)
        if scenario != "tiny":
            from yigongti.synth.population import build_population

            build_population(
                world, scenario=scenario, seed=seed, progress=progress, residents=residents
            )
            if encounters:
                from yigongti.synth.encounters import build_encounters

                build_encounters(
                    world,
                    scenario=scenario,
                    seed=seed,
                    years=encounter_years,
                    progress=progress,
                )
            from yigongti.synth.evidence import build_evidence

            # The evidence register of nhc-01 … nhc-03 (a few tiny documents, assessments).
            build_evidence(world)
            from yigongti.synth.scheduling import build_history, build_schedules

            # The lead hospital's last four weeks before AS_OF as they went (sessions, bookings
            # attended or missed, beds held, admitted and released: ref-05 and ref-06 have
            # records in the demo's year), then the two weeks after AS_OF, bookings, bed holds.
            build_history(until=AS_OF - dt.timedelta(days=1), seed=seed)
            build_schedules(start=AS_OF + dt.timedelta(days=1), seed=seed)
            if encounters:
                from yigongti.synth.referrals import build_referrals

                # Two-way referrals matched to the year of encounters, their events, follow-up
                # tasks and referral access (synth/referrals.py).
                build_referrals(world, seed, progress=progress)
    summary.counts = count_rows()
    return summary


def count_rows() -> dict[str, int]:
    from yigongti.accounts.models import User
    from yigongti.encounters.models import Encounter, ExternalSettlement
    from yigongti.geo.models import Division
    from yigongti.organizations.models import Institution
    from yigongti.referrals.models import Referral
    from yigongti.residents.models import Household, Resident
    from yigongti.scheduling.models import Booking, Schedule
    from yigongti.staff.models import Practitioner

    return {
        "divisions": Division.objects.count(),
        "institutions": Institution.objects.count(),
        "practitioners": Practitioner.objects.count(),
        "users": User.objects.count(),
        "households": Household.objects.count(),
        "residents": Resident.objects.count(),
        "encounters": Encounter.objects.count(),
        "external_settlements": ExternalSettlement.objects.count(),
        "referrals": Referral.objects.count(),
        "schedules": Schedule.objects.count(),
        "bookings": Booking.objects.count(),
    }


__all__ = ["SCENARIOS", "GenerateSummary", "PersonaWorld", "count_rows", "generate"]
