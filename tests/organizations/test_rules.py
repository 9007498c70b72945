from __future__ import annotations

import pytest

from yigongti.organizations import rules
from yigongti.organizations.choices import InstitutionLevel as L
from yigongti.organizations.choices import InstitutionType as T
from yigongti.organizations.choices import TreeLink


@pytest.mark.parametrize(
    ("child", "link", "parent"),
    [
        (T.GENERAL_HOSPITAL, TreeLink.ROOT, None),
        (T.TCM_HOSPITAL, TreeLink.ROOT, None),
        (T.TCM_HOSPITAL, TreeLink.COUNTY_MEMBER, T.GENERAL_HOSPITAL),
        (T.MCH_HOSPITAL, TreeLink.COUNTY_MEMBER, T.GENERAL_HOSPITAL),
        (T.PUBLIC_HEALTH, TreeLink.COUNTY_MEMBER, T.GENERAL_HOSPITAL),
        (T.TOWNSHIP_HEALTH_CENTRE, TreeLink.COUNTY_TOWNSHIP, T.GENERAL_HOSPITAL),
        (T.COMMUNITY_HEALTH_CENTRE, TreeLink.COUNTY_TOWNSHIP, T.GENERAL_HOSPITAL),
        (T.VILLAGE_CLINIC, TreeLink.TOWNSHIP_VILLAGE, T.TOWNSHIP_HEALTH_CENTRE),
        (T.COMMUNITY_HEALTH_STATION, TreeLink.TOWNSHIP_VILLAGE, T.COMMUNITY_HEALTH_CENTRE),
        (T.PRIVATE, TreeLink.OTHER, None),
    ],
)
def test_allowed_links(child: str, link: str, parent: str | None) -> None:
    rules.check_tree_link(child, link, parent)


@pytest.mark.parametrize(
    ("child", "link", "parent", "message"),
    [
        (T.VILLAGE_CLINIC, TreeLink.ROOT, None, "村卫生室不能作为牵头医院"),
        (T.GENERAL_HOSPITAL, TreeLink.ROOT, T.GENERAL_HOSPITAL, "牵头医院（总院）是医共体的根，不能再有上级"),
        (T.VILLAGE_CLINIC, TreeLink.COUNTY_TOWNSHIP, T.GENERAL_HOSPITAL, "村卫生室不能以“县乡一体（分院）”关系加入"),
        (T.TOWNSHIP_HEALTH_CENTRE, TreeLink.TOWNSHIP_VILLAGE, T.TOWNSHIP_HEALTH_CENTRE, "乡镇卫生院不能以“乡村一体（村卫生室）”关系加入"),
        (T.VILLAGE_CLINIC, TreeLink.TOWNSHIP_VILLAGE, T.GENERAL_HOSPITAL, "综合医院下不能挂“乡村一体（村卫生室）”成员"),
        (T.TOWNSHIP_HEALTH_CENTRE, TreeLink.COUNTY_TOWNSHIP, T.VILLAGE_CLINIC, "村卫生室下不能挂“县乡一体（分院）”成员"),
        (T.TOWNSHIP_HEALTH_CENTRE, TreeLink.COUNTY_TOWNSHIP, None, "成员关系“县乡一体（分院）”需要指定上级机构"),
    ],
)  # fmt: skip
def test_refused_links(child: str, link: str, parent: str | None, message: str) -> None:
    with pytest.raises(ValueError) as exc:
        rules.check_tree_link(child, link, parent)
    assert str(exc.value) == message


def test_levels() -> None:
    rules.check_level(T.VILLAGE_CLINIC, L.UNRATED)
    rules.check_level(T.GENERAL_HOSPITAL, L.TERTIARY)
    with pytest.raises(ValueError, match="村卫生室不评定等级"):
        rules.check_level(T.VILLAGE_CLINIC, L.PRIMARY)
    with pytest.raises(ValueError, match="社区卫生服务站级别只能为一级或未定级"):
        rules.check_level(T.COMMUNITY_HEALTH_STATION, L.SECONDARY)


@pytest.mark.parametrize(
    ("code", "ok"), [("QH0001", True), ("qh1001", True), ("Q1", False), ("QH 1", False)]
)
def test_codes(code: str, ok: bool) -> None:
    if ok:
        assert rules.check_code(code) == code.upper()
    else:
        with pytest.raises(ValueError, match="机构代码"):
            rules.check_code(code)


def test_paths() -> None:
    assert rules.child_path(None, "QH0001") == "QH0001/"
    assert rules.child_path("QH0001/", "QH1001") == "QH0001/QH1001/"
    assert rules.is_in_subtree("QH0001/QH1001/QH2001/", "QH0001/QH1001/")
    assert not rules.is_in_subtree("QH0001/QH10011/", "QH0001/QH1001/")


def test_patients_by_department_name() -> None:
    from yigongti.organizations.choices import PatientGroup
    from yigongti.organizations.rules import patients_by_name

    assert patients_by_name("儿科") == PatientGroup.CHILDREN
    assert patients_by_name("儿童保健科") == PatientGroup.CHILDREN
    assert patients_by_name("妇产科") == PatientGroup.WOMEN
    assert patients_by_name("产科") == PatientGroup.WOMEN
    assert patients_by_name("小儿外科") == PatientGroup.ALL  # 外科: not 儿科 by its name
    assert patients_by_name("心血管内科") == PatientGroup.ALL
