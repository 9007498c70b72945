"""Readers of the snapshot: where it lives and what its manifest says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

from yigongti.analytics.services import read_manifest


def default_root() -> Path:
    """``<data dir>/snapshot``."""
    return Path(settings.SNAPSHOT_ROOT)


def get_manifest(root: Path | None = None) -> dict[str, Any]:
    return read_manifest(root or default_root())
