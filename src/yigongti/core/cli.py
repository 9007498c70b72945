"""Helpers shared by management commands: Chinese field errors, date parsing, progress bars,
file checksums."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import CommandError
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from yigongti.core.errors import DomainError


def field_error(exc: DomainError, labels: dict[str, str]) -> CommandError:
    """One CommandError listing every field with its Chinese label and reason."""
    lines = ["输入有误，未写入任何数据 (invalid input, nothing written):"]
    for name, messages in exc.field_errors.items():
        label = labels.get(name, name)
        for message in messages:
            lines.append(f"  - {label}（{name}）：{message}")
    return CommandError("\n".join(lines))


def parse_date(value: str | None, field: str, label: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise DomainError(f"{label}“{value}”不是有效日期，应为 YYYY-MM-DD", field=field) from None


@contextmanager
def stage_progress(*, transient: bool = False) -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress display with one bar per stage; yields ``progress(stage, done, total)``."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        transient=transient,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield progress


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
