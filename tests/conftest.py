"""Shared fixtures: the persona county and actors built from it.

The test profile is set before Django loads its settings; ``./dev test`` also runs the whole
suite a second time against a throwaway PostgreSQL cluster through YIGONGTI_DATABASE_URL.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("YIGONGTI_PROFILE", "test")
os.environ.setdefault("YIGONGTI_DATA_DIR", tempfile.mkdtemp(prefix="yigongti-test-"))

import pytest


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    """The tiny scenario's personas (青禾县): institutions, staff, users, 张德福 and family."""
    from yigongti.synth.personas import build_personas

    return build_personas()


@pytest.fixture
def actor_for(world):  # type: ignore[no-untyped-def]
    """``actor_for("family_doctor")`` → an Actor for that persona in their first role."""
    from yigongti.accounts.queries import get_actor

    def make(key: str, role: str | None = None, channel: str = "web"):  # type: ignore[no-untyped-def]
        return get_actor(world.users[key], role, client_ip="127.0.0.1", channel=channel)

    return make
