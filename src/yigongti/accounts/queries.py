"""Who is acting and what they may see."""

from __future__ import annotations

from dataclasses import dataclass

from yigongti.accounts import rules
from yigongti.accounts.choices import Role, ScopeKind
from yigongti.accounts.models import User
from yigongti.core.services import AuditContext
from yigongti.organizations.choices import TreeLink
from yigongti.organizations.models import Institution


@dataclass(frozen=True)
class Actor:
    """A user acting in one of their roles, with the scope that role sees."""

    user: User
    role: str
    scope: rules.Scope
    client_ip: str = ""
    channel: str = "web"

    @property
    def institution(self) -> Institution | None:
        return self.user.institution

    @property
    def role_label(self) -> str:
        return Role(self.role).label if self.role in Role.values else self.role

    def audit_context(self) -> AuditContext:
        inst = self.user.institution
        return AuditContext(
            user_id=self.user.pk,
            username=self.user.username,
            role=self.role,
            institution_code=inst.code if inst else "",
            client_ip=self.client_ip,
            channel=self.channel,
        )


def list_roles(user: User) -> list[str]:
    return list(user.role_assignments.order_by("id").values_list("role", flat=True))


def _medcom_roots(medcom_ids: list[int]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    roots = Institution.objects.filter(medcom_id__in=medcom_ids, tree_link=TreeLink.ROOT)
    paths = tuple(r.path for r in roots)
    prefixes = tuple(
        Institution.objects.filter(medcom_id__in=medcom_ids, tree_link=TreeLink.ROOT)
        .values_list("medcom__division__prefix", flat=True)
        .distinct()
    )
    # Members that sit outside the lead hospital's subtree (a county CDC, say) still belong.
    loose = tuple(
        Institution.objects.filter(medcom_id__in=medcom_ids, parent__isnull=True)
        .exclude(tree_link=TreeLink.ROOT)
        .values_list("path", flat=True)
    )
    return paths + loose, prefixes


def get_scope(user: User) -> rules.Scope:
    """Resolve the user's scope setting into institution paths and area prefixes."""
    inst = user.institution
    kind = user.scope_kind
    if kind == ScopeKind.MEDCOM:
        medcom_id = user.scope_medcom_id or (inst.medcom_id if inst else None)
        if medcom_id is None:
            return rules.EMPTY_SCOPE
        paths, prefixes = _medcom_roots([medcom_id])
        return rules.resolve_scope(kind, medcom_root_paths=paths, medcom_division_prefixes=prefixes)
    if kind == ScopeKind.REGION:
        region = user.scope_division
        if region is None:
            return rules.EMPTY_SCOPE
        medcom_ids = list(
            Institution.objects.filter(medcom__division__prefix__startswith=region.prefix)
            .values_list("medcom_id", flat=True)
            .distinct()
        )
        paths, _ = _medcom_roots([m for m in medcom_ids if m is not None])
        return rules.resolve_scope(kind, region_prefix=region.prefix, region_root_paths=paths)
    if inst is None:
        return rules.EMPTY_SCOPE
    return rules.resolve_scope(
        kind,
        institution_path=inst.path,
        institution_service_prefix=inst.service_division.prefix,
    )


def get_actor(
    user: User, role: str | None = None, *, client_ip: str = "", channel: str = "web"
) -> Actor:
    """The actor for ``user`` in ``role`` (their first role when not given or not held)."""
    roles = list_roles(user)
    if role not in roles:
        role = roles[0] if roles else ""
    return Actor(
        user=user, role=role or "", scope=get_scope(user), client_ip=client_ip, channel=channel
    )
