"""API shapes of the acting user."""

from __future__ import annotations

from ninja import Schema


class CodeLabelOut(Schema):
    code: str
    label: str


class InstitutionRefOut(Schema):
    code: str
    name: str


class ScopeOut(Schema):
    kind: str
    kind_label: str
    description: str


class MeOut(Schema):
    username: str
    display_name: str
    institution: InstitutionRefOut | None
    roles: list[CodeLabelOut]
    active_role: CodeLabelOut
    scope: ScopeOut
