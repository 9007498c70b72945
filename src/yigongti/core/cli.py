"""Helpers shared by management commands: Chinese field errors, date parsing."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import CommandError

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
