"""Errors that services raise and that pages, the API and the CLI turn into Chinese messages."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal by a service: bad input or a broken rule.

    ``field_errors`` maps a field name to its Chinese messages; the API answers 422 with
    them, pages show them next to the field, the CLI prints them.
    """

    def __init__(self, field_errors: dict[str, list[str]] | str, field: str = "__all__"):
        if isinstance(field_errors, str):
            field_errors = {field: [field_errors]}
        self.field_errors = field_errors
        super().__init__(self.summary())

    def summary(self) -> str:
        parts = []
        for name, messages in self.field_errors.items():
            label = "" if name == "__all__" else f"{name}："
            parts.append(label + "；".join(messages))
        return "；".join(parts)

    def text(self) -> str:
        """The messages alone, as a page shows them away from any field (no ``year：``
        prefix: field names are identifiers, not words users read)."""
        return "；".join(m for messages in self.field_errors.values() for m in messages)


class AccessDenied(Exception):
    """The caller may not see or change this record; the reason is in Chinese."""

    def __init__(self, reason: str, *, can_break_glass: bool = False):
        self.reason = reason
        self.can_break_glass = can_break_glass
        super().__init__(reason)
