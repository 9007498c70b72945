"""Pure rules for the medcom tree: who may hang under whom, codes, paths."""

from __future__ import annotations

import re

from yigongti.organizations.choices import (
    InstitutionLevel,
    InstitutionType,
    PatientGroup,
    TreeLink,
)

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{3,31}$")

# Which child link is allowed under which parent type (总院 → 分院 → 村卫生室).
_ALLOWED_LINKS: dict[str, frozenset[str]] = {
    TreeLink.COUNTY_MEMBER: frozenset({InstitutionType.GENERAL_HOSPITAL}),
    TreeLink.COUNTY_TOWNSHIP: frozenset({InstitutionType.GENERAL_HOSPITAL}),
    TreeLink.TOWNSHIP_VILLAGE: frozenset(
        {
            InstitutionType.TOWNSHIP_HEALTH_CENTRE,
            InstitutionType.COMMUNITY_HEALTH_CENTRE,
        }
    ),
    TreeLink.OTHER: frozenset(
        {
            InstitutionType.GENERAL_HOSPITAL,
            InstitutionType.TOWNSHIP_HEALTH_CENTRE,
            InstitutionType.COMMUNITY_HEALTH_CENTRE,
        }
    ),
}

_CHILD_TYPES: dict[str, frozenset[str]] = {
    TreeLink.ROOT: frozenset({InstitutionType.GENERAL_HOSPITAL, InstitutionType.TCM_HOSPITAL}),
    TreeLink.COUNTY_MEMBER: frozenset(
        {
            InstitutionType.GENERAL_HOSPITAL,
            InstitutionType.TCM_HOSPITAL,
            InstitutionType.MCH_HOSPITAL,
            InstitutionType.PUBLIC_HEALTH,
            InstitutionType.PRIVATE,
        }
    ),
    TreeLink.COUNTY_TOWNSHIP: frozenset(
        {
            InstitutionType.TOWNSHIP_HEALTH_CENTRE,
            InstitutionType.COMMUNITY_HEALTH_CENTRE,
        }
    ),
    TreeLink.TOWNSHIP_VILLAGE: frozenset(
        {InstitutionType.VILLAGE_CLINIC, InstitutionType.COMMUNITY_HEALTH_STATION}
    ),
    TreeLink.OTHER: frozenset(set(InstitutionType.values)),
}


def check_code(code: str) -> str:
    code = (code or "").strip().upper()
    if not _CODE.match(code):
        raise ValueError(f"机构代码“{code}”格式错误：4–32 位大写字母、数字或连字符")
    return code


def check_tree_link(child_type: str, link: str, parent_type: str | None) -> None:
    """Raise ValueError (Chinese) when ``child_type`` may not hang under ``parent_type``.

    ``OTHER`` without a parent is an institution outside any medcom tree (a private hospital,
    say): it stands alone.
    """
    type_label = InstitutionType(child_type).label
    if link == TreeLink.ROOT:
        if parent_type is not None:
            raise ValueError("牵头医院（总院）是医共体的根，不能再有上级")
        if child_type not in _CHILD_TYPES[TreeLink.ROOT]:
            raise ValueError(f"{type_label}不能作为牵头医院")
        return
    if parent_type is None:
        if link == TreeLink.OTHER:
            return
        raise ValueError(f"成员关系“{TreeLink(link).label}”需要指定上级机构")
    if child_type not in _CHILD_TYPES[link]:
        raise ValueError(f"{type_label}不能以“{TreeLink(link).label}”关系加入")
    if parent_type not in _ALLOWED_LINKS[link]:
        raise ValueError(
            f"{InstitutionType(parent_type).label}下不能挂“{TreeLink(link).label}”成员"
        )


def check_level(inst_type: str, level: str) -> None:
    """Grassroots institutions are 一级 or unrated; village clinics are always unrated."""
    if inst_type == InstitutionType.VILLAGE_CLINIC and level != InstitutionLevel.UNRATED:
        raise ValueError("村卫生室不评定等级，级别应为“未定级”")
    if inst_type in {
        InstitutionType.COMMUNITY_HEALTH_STATION,
    } and level not in {InstitutionLevel.UNRATED, InstitutionLevel.PRIMARY}:
        raise ValueError("社区卫生服务站级别只能为一级或未定级")


def child_path(parent_path: str | None, code: str) -> str:
    return f"{parent_path or ''}{code}/"


def is_in_subtree(path: str, root_path: str) -> bool:
    return path.startswith(root_path)


# 接诊对象 by the department's name [I]: what 儿科 and 妇产科 mean in every Chinese hospital;
# an administrator may set another in the admin.
_CHILDREN_WORDS = ("儿科", "儿童")
_WOMEN_WORDS = ("妇产科", "妇科", "产科")


def patients_by_name(name: str) -> str:
    """儿科 / 儿童保健科 → children; 妇产科 / 妇科 / 产科 → women; any other → all."""
    if any(word in name for word in _CHILDREN_WORDS):
        return PatientGroup.CHILDREN
    if any(word in name for word in _WOMEN_WORDS):
        return PatientGroup.WOMEN
    return PatientGroup.ALL
