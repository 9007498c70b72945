"""Helpers shared by management commands: Chinese field errors, date parsing, progress bars,
file checksums."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from yigongti.core.errors import DomainError


class Command(BaseCommand):
    """A management command whose refusals read "错误：…" on the command line (Django prints
    "CommandError: …"), exit 1; ``--traceback`` and ``call_command`` still raise them."""

    def execute(self, *args: Any, **options: Any) -> Any:
        if not getattr(self, "_called_from_command_line", False) or options.get("traceback"):
            return super().execute(*args, **options)
        try:
            return super().execute(*args, **options)
        except CommandError as exc:
            self.stderr.write(f"错误：{exc}")
            sys.exit(exc.returncode)


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Writes to ``path`` inside: an OSError (xlsxwriter wraps one in FileCreateError)
    becomes a CommandError saying in Chinese why the file cannot be written."""
    from xlsxwriter.exceptions import FileCreateError

    try:
        yield
    except FileCreateError as exc:
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else None
        raise _unwritable(path, cause) from None
    except OSError as exc:
        raise _unwritable(path, exc) from None


def _unwritable(path: Path, exc: OSError | None) -> CommandError:
    if isinstance(exc, IsADirectoryError) or path.is_dir():
        return CommandError(f"无法写入 {path}：这是一个目录，请指定文件名")
    if not path.parent.is_dir():
        return CommandError(f"无法写入 {path}：目录 {path.parent} 不存在")
    if isinstance(exc, PermissionError):
        return CommandError(f"无法写入 {path}：没有写入权限")
    if isinstance(exc, FileNotFoundError) or exc is None:
        return CommandError(f"无法写入 {path}：该位置不能创建文件")
    return CommandError(f"无法写入 {path}：{exc.strerror or exc}")


def write_output(path: Path, content: bytes) -> None:
    """``content`` written to ``path``, or a CommandError saying in Chinese why it cannot be."""
    with writing(path):
        path.write_bytes(content)


def progress_bar(*columns: Any, transient: bool = False) -> Progress:
    """A rich progress display of ``columns`` on stderr, so that a command's result on stdout
    can be piped or kept in a file; off when ``CI`` is set (a log has no use for a redrawn
    bar) or stderr is no terminal."""
    return Progress(
        *columns,
        console=Console(stderr=True),
        disable=bool(os.environ.get("CI")) or not sys.stderr.isatty(),
        transient=transient,
    )


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
    """A ``progress_bar`` with one bar per stage; yields ``progress(stage, done, total)``."""
    with progress_bar(
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
