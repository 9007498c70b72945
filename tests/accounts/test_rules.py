from __future__ import annotations

import datetime as dt

import pytest

from yigongti.accounts import rules
from yigongti.accounts.choices import Role, ScopeKind


class TestScopeResolution:
    def test_institution_only_is_exact(self) -> None:
        scope = rules.resolve_scope(
            ScopeKind.INSTITUTION,
            institution_path="QH0001/QH1002/",
            institution_service_prefix="439901002",
        )
        assert scope == rules.Scope(("QH0001/QH1002/",), ("439901002",), exact=True)
        assert scope.covers_institution("QH0001/QH1002/")
        assert not scope.covers_institution("QH0001/QH1002/QH2003/")
        assert scope.covers_division("439901002002")
        assert not scope.covers_division("439901001001")

    def test_subtree_covers_children(self) -> None:
        scope = rules.resolve_scope(
            ScopeKind.SUBTREE,
            institution_path="QH0001/QH1002/",
            institution_service_prefix="439901002",
        )
        assert scope.covers_institution("QH0001/QH1002/QH2003/")
        assert not scope.covers_institution("QH0001/QH1001/")
        assert not scope.covers_institution("QH0001/")

    def test_medcom(self) -> None:
        scope = rules.resolve_scope(
            ScopeKind.MEDCOM, medcom_root_paths=("QH0001/",), medcom_division_prefixes=("439901",)
        )
        assert scope.covers_institution("QH0001/QH1001/QH2001/")
        assert not scope.covers_institution("XX0001/")
        assert scope.covers_division("439901002002")
        assert not scope.covers_division("439902002002")

    def test_region(self) -> None:
        scope = rules.resolve_scope(
            ScopeKind.REGION, region_prefix="4399", region_root_paths=("QH0001/", "QX0001/")
        )
        assert scope.covers_institution("QX0001/QX1001/")
        assert scope.covers_division("439902001001")

    @pytest.mark.parametrize(
        ("kind", "kwargs"),
        [
            (ScopeKind.INSTITUTION, {}),
            (ScopeKind.SUBTREE, {"institution_path": "QH0001/"}),
            (ScopeKind.MEDCOM, {}),
            (ScopeKind.REGION, {}),
            ("nonsense", {}),
        ],
    )
    def test_missing_anchor_gives_empty_scope_never_everything(
        self, kind: str, kwargs: dict[str, str]
    ) -> None:
        scope = rules.resolve_scope(kind, **kwargs)  # type: ignore[arg-type]
        assert scope == rules.EMPTY_SCOPE
        assert not scope.covers_institution("QH0001/")
        assert not scope.covers_division("439901")

    def test_unlimited_scope(self) -> None:
        scope = rules.Scope(None, None)
        assert scope.covers_institution("anything/") and scope.covers_division("11")


class TestCapabilities:
    @pytest.mark.parametrize("role", list(Role))
    def test_only_auditors_read_the_audit_log(self, role: Role) -> None:
        assert rules.can_read_audit(role) is (role == Role.AUDITOR)

    @pytest.mark.parametrize("role", list(Role))
    def test_aggregate_roles_cannot_break_glass_or_search(self, role: Role) -> None:
        if role in (Role.CENTRE_STAFF, Role.INSURANCE_REVIEWER, Role.PHARMACIST, Role.AUDITOR):
            assert not rules.can_break_glass(role)
            assert not rules.can_search_residents(role)
        else:
            assert rules.can_break_glass(role)
            assert rules.can_search_residents(role)

    def test_mpi_managers(self) -> None:
        assert {r for r in Role if rules.can_manage_mpi(r)} == {
            Role.COUNTY_ADMIN,
            Role.INSTITUTION_ADMIN,
        }


class TestLockout:
    now = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)

    def times(self, *minutes_ago: int) -> list[dt.datetime]:
        return [self.now - dt.timedelta(minutes=m) for m in minutes_ago]

    def test_below_limit(self) -> None:
        assert not rules.is_locked_out(self.times(1, 2, 3, 4), self.now, 5, 15)

    def test_at_limit(self) -> None:
        assert rules.is_locked_out(self.times(1, 2, 3, 4, 5), self.now, 5, 15)

    def test_old_failures_do_not_count(self) -> None:
        assert not rules.is_locked_out(self.times(1, 2, 3, 4, 15), self.now, 5, 15)
