from __future__ import annotations

import pytest

from yigongti.core.errors import DomainError
from yigongti.organizations.choices import (
    AffiliationKind,
    InstitutionLevel,
    InstitutionType,
    ManagementUnitKind,
    TreeLink,
)
from yigongti.organizations.models import Institution, ManagementUnit
from yigongti.organizations.queries import list_institutions, list_tree
from yigongti.organizations.services import (
    do_add_affiliation,
    do_add_department,
    do_add_institution,
)


@pytest.mark.django_db
class TestMedcomTree:
    def test_management_centre_has_nine_departments(self, world) -> None:
        units = ManagementUnit.objects.filter(medcom=world.medcom)
        assert sorted(units.values_list("name", flat=True)) == sorted(
            u.label for u in ManagementUnitKind
        )
        assert units.count() == 9

    def test_tree_paths(self, world) -> None:
        tree = list(list_tree(world.medcom).values_list("code", "path", "depth"))
        assert tree == [
            ("QH0001", "QH0001/", 0),
            ("QH0002", "QH0001/QH0002/", 1),
            ("QH0003", "QH0001/QH0003/", 1),
            ("QH1001", "QH0001/QH1001/", 1),
            ("QH2001", "QH0001/QH1001/QH2001/", 2),
            ("QH1002", "QH0001/QH1002/", 1),
            ("QH2002", "QH0001/QH1002/QH2002/", 2),
            ("QH2003", "QH0001/QH1002/QH2003/", 2),
        ]

    def test_institution_sits_in_several_hierarchies(self, world) -> None:
        clinic = world.institutions["vc_taoyuan"]
        assert clinic.parent == world.institutions["thc_hekou"]
        assert clinic.affiliations.get().kind == AffiliationKind.SUPERVISION
        do_add_affiliation(
            clinic, AffiliationKind.ADMINISTRATIVE, parent_division=world.townships["河口乡"]
        )
        assert clinic.affiliations.count() == 2

    def test_subtree_listing(self, world) -> None:
        codes = list(
            list_institutions(within_paths=["QH0001/QH1002/"]).values_list("code", flat=True)
        )
        assert codes == ["QH1002", "QH2002", "QH2003"]
        assert list(list_institutions(within_paths=[]).values_list("code", flat=True)) == []

    def test_second_lead_hospital_refused(self, world) -> None:
        with pytest.raises(DomainError) as exc:
            do_add_institution(
                code="QH0009",
                name="第二总院",
                inst_type=InstitutionType.GENERAL_HOSPITAL,
                division=world.county,
                medcom=world.medcom,
                tree_link=TreeLink.ROOT,
            )
        assert exc.value.field_errors == {"tree_link": ["该医共体已有牵头医院"]}
        assert not Institution.objects.filter(code="QH0009").exists()

    def test_all_errors_at_once(self, world) -> None:
        with pytest.raises(DomainError) as exc:
            do_add_institution(
                code="QH0001",
                name=" ",
                inst_type=InstitutionType.VILLAGE_CLINIC,
                level=InstitutionLevel.PRIMARY,
                beds=-1,
                division=world.villages["河口村"],
                medcom=world.medcom,
                parent=world.lead_hospital,
                tree_link=TreeLink.TOWNSHIP_VILLAGE,
            )
        assert exc.value.field_errors == {
            "code": ["机构代码 QH0001 已存在"],
            "name": ["机构名称不能为空"],
            "beds": ["床位数不能为负数"],
            "level": ["村卫生室不评定等级，级别应为“未定级”"],
            "parent": ["综合医院下不能挂“乡村一体（村卫生室）”成员"],
        }

    def test_duplicate_department(self, world) -> None:
        with pytest.raises(DomainError, match="科室代码 XNK"):
            do_add_department(world.lead_hospital, "XNK", "心内")

    def test_self_affiliation_refused(self, world) -> None:
        with pytest.raises(DomainError, match="不能隶属于自身"):
            do_add_affiliation(
                world.lead_hospital, AffiliationKind.SUPPORT, parent_institution=world.lead_hospital
            )


def test_label_is_the_short_name_or_else_the_name() -> None:
    assert Institution(name="河口乡卫生院", short_name="河口卫生院").label == "河口卫生院"
    assert Institution(name="河口乡卫生院", short_name="").label == "河口乡卫生院"
