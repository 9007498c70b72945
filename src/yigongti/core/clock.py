"""The one place that reads the wall clock, so tests and the generator can fix time."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone

_frozen = threading.local()


def now() -> dt.datetime:
    fixed = getattr(_frozen, "at", None)
    return fixed if fixed is not None else timezone.now()


def today() -> dt.date:
    return timezone.localdate(now())


@contextmanager
def frozen(at: dt.datetime) -> Iterator[None]:
    """Within the block, ``now()`` returns ``at`` in this thread (the generator's fixed date)."""
    if at.tzinfo is None:
        raise ValueError("frozen() needs an aware datetime")
    previous = getattr(_frozen, "at", None)
    _frozen.at = at
    try:
        yield
    finally:
        _frozen.at = previous
