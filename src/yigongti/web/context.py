"""Template context shared by every page: platform name, the acting user's role and navigation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from yigongti.accounts import rules as access
from yigongti.accounts.choices import Role
from yigongti.accounts.queries import Actor, list_roles
from yigongti.indicators import rules as indicator_rules
from yigongti.scheduling import rules as scheduling_rules

PLATFORM_NAME = "医共体一体化管理平台"


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    active: bool


@dataclass(frozen=True)
class NavArea:
    label: str
    items: tuple[NavItem, ...]


# (area, label, url name, who may use it); url names are in the "web" namespace unless dotted.
_NAV: tuple[tuple[str, str, str, Any], ...] = (
    ("工作台", "首页", "web:home", lambda role: True),
    ("机构与人员", "医共体机构树", "web:org_tree", lambda role: True),
    ("机构与人员", "卫生人员", "web:staff_list", lambda role: True),
    ("居民主索引", "居民查询", "web:resident_search", access.can_search_residents),
    ("居民主索引", "登记居民档案", "residents:register", access.can_edit_residents),
    ("居民主索引", "疑似重复记录", "web:duplicates", access.can_manage_mpi),
    (
        "诊疗服务",
        "诊疗记录",
        "encounter_pages:list",
        lambda role: role in access.CLINICAL_ROLES | {Role.INSTITUTION_ADMIN, Role.COUNTY_ADMIN},
    ),
    (
        "诊疗服务",
        "双向转诊",
        "referrals:worklist",
        lambda role: (
            role
            in access.CLINICAL_ROLES
            | {Role.COUNTY_ADMIN, Role.CENTRE_STAFF, Role.INSTITUTION_ADMIN}
        ),
    ),
    ("号源与床位", "号源预约", "scheduling:slots", scheduling_rules.can_book),
    ("号源与床位", "我的预约", "scheduling:my_bookings", scheduling_rules.can_book),
    (
        "号源与床位",
        "门诊预约工作单",
        "scheduling:worklist",
        scheduling_rules.can_work_hospital_side,
    ),
    ("号源与床位", "床位看板", "scheduling:beds", scheduling_rules.can_work_hospital_side),
    ("号源与床位", "排班管理", "scheduling:manage", scheduling_rules.can_publish),
    (
        "数据管理",
        "数据导入",
        "encounters:import",
        access.can_manage_mpi,
    ),  # county/institution admin
    (
        "监测与分析",
        "监测指标",
        "indicators:dashboard",
        lambda role: (
            role
            in {
                Role.COUNTY_ADMIN,
                Role.CENTRE_STAFF,
                Role.INSTITUTION_ADMIN,
                Role.INSURANCE_REVIEWER,
            }
        ),
    ),
    ("监测与分析", "紧密型证据登记", "indicators:evidence", indicator_rules.can_view_evidence),
    ("安全审计", "审计日志", "web:audit_log", access.can_read_audit),
    ("系统管理", "基础数据管理", "admin:index", lambda role: role == Role.COUNTY_ADMIN),
    ("系统管理", "修改密码", "web:password_change", lambda role: True),
)


def navigation(role: str, current_path: str) -> list[NavArea]:
    """The left navigation for ``role``: only what that role may use, grouped by work area."""
    areas: dict[str, list[NavItem]] = {}
    for area, label, name, allowed in _NAV:
        if not allowed(role):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:  # a page another domain has not shipped yet
            continue
        active = current_path == url if url == "/" else current_path.startswith(url)
        areas.setdefault(area, []).append(NavItem(label, url, active))
    # The most specific match only: "/residents/" must not light up with "/residents/duplicates/".
    best = max(
        (item.url for items in areas.values() for item in items if item.active),
        key=len,
        default="",
    )
    return [
        NavArea(area, tuple(NavItem(i.label, i.url, i.url == best) for i in items))
        for area, items in areas.items()
    ]


def platform(request: HttpRequest) -> dict[str, Any]:
    actor: Actor | None = getattr(request, "actor", None)
    context: dict[str, Any] = {"platform_name": PLATFORM_NAME, "actor": actor}
    if actor is not None:
        context["nav_areas"] = navigation(actor.role, request.path)
        context["held_roles"] = [
            (role, Role(role).label if role in Role.values else role)
            for role in list_roles(actor.user)
        ]
    return context
