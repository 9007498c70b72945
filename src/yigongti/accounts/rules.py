"""Pure access rules: what a role may do and which org subtree a scope covers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from yigongti.accounts.choices import Role, ScopeKind

# Roles that read person-level records for care (with a care relationship) and may, with a
# written reason, open a record without one (break-glass, reviewed afterwards).
CLINICAL_ROLES = frozenset(
    {Role.DOCTOR, Role.VILLAGE_DOCTOR, Role.FAMILY_DOCTOR, Role.PUBLIC_HEALTH}
)
BREAK_GLASS_ROLES = CLINICAL_ROLES | {Role.COUNTY_ADMIN, Role.INSTITUTION_ADMIN}
# Aggregate roles see de-identified data only (DESIGN.md security model).
AGGREGATE_ROLES = frozenset({Role.CENTRE_STAFF, Role.INSURANCE_REVIEWER, Role.PHARMACIST})
AUDIT_ROLES = frozenset({Role.AUDITOR})
MPI_MANAGER_ROLES = frozenset({Role.COUNTY_ADMIN, Role.INSTITUTION_ADMIN})
RESIDENT_SEARCH_ROLES = BREAK_GLASS_ROLES


def can_search_residents(role: str) -> bool:
    return role in RESIDENT_SEARCH_ROLES


def can_break_glass(role: str) -> bool:
    return role in BREAK_GLASS_ROLES


def can_read_audit(role: str) -> bool:
    return role in AUDIT_ROLES


def can_manage_mpi(role: str) -> bool:
    return role in MPI_MANAGER_ROLES


def can_edit_residents(role: str) -> bool:
    return role in BREAK_GLASS_ROLES


@dataclass(frozen=True)
class Scope:
    """What a user may see: institution subtrees (by path) and resident areas (by code prefix).

    ``None`` for either means no limit (a national or provincial super-scope, never granted by
    default).
    """

    institution_paths: tuple[str, ...] | None
    division_prefixes: tuple[str, ...] | None
    exact: bool = False  # True: the listed institutions only, not their descendants

    def covers_institution(self, path: str) -> bool:
        if self.institution_paths is None:
            return True
        if self.exact:
            return path in self.institution_paths
        return any(path.startswith(root) for root in self.institution_paths)

    def covers_division(self, code: str) -> bool:
        if self.division_prefixes is None:
            return True
        return any(code.startswith(prefix) for prefix in self.division_prefixes)


EMPTY_SCOPE = Scope(institution_paths=(), division_prefixes=())


def resolve_scope(
    kind: str,
    *,
    institution_path: str | None = None,
    institution_service_prefix: str | None = None,
    medcom_root_paths: tuple[str, ...] = (),
    medcom_division_prefixes: tuple[str, ...] = (),
    region_prefix: str | None = None,
    region_root_paths: tuple[str, ...] = (),
) -> Scope:
    """Turn a user's scope setting into concrete path and area prefixes.

    - ``institution``: that institution only; residents of the area it serves.
    - ``subtree``: the institution and everything under it in the medcom tree.
    - ``medcom``: every member of the user's medcom(s); residents of the medcom's area.
    - ``region``: every institution in the region's medcoms; residents of the region.
    A missing anchor yields an empty scope, never an unlimited one.
    """
    if kind == ScopeKind.INSTITUTION:
        if not institution_path or not institution_service_prefix:
            return EMPTY_SCOPE
        return Scope((institution_path,), (institution_service_prefix,), exact=True)
    if kind == ScopeKind.SUBTREE:
        if not institution_path or not institution_service_prefix:
            return EMPTY_SCOPE
        return Scope((institution_path,), (institution_service_prefix,))
    if kind == ScopeKind.MEDCOM:
        if not medcom_root_paths:
            return EMPTY_SCOPE
        return Scope(tuple(medcom_root_paths), tuple(medcom_division_prefixes))
    if kind == ScopeKind.REGION:
        if not region_prefix:
            return EMPTY_SCOPE
        return Scope(tuple(region_root_paths), (region_prefix,))
    return EMPTY_SCOPE


def is_locked_out(
    failure_times: list[dt.datetime], now: dt.datetime, limit: int, lockout_minutes: int
) -> bool:
    """Locked when ``limit`` failures fall inside the last ``lockout_minutes``."""
    window_start = now - dt.timedelta(minutes=lockout_minutes)
    recent = [t for t in failure_times if t > window_start]
    return len(recent) >= limit
