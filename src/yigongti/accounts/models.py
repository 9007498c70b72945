"""Users, their roles and data scope, API tokens and failed logins."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from yigongti.accounts.choices import Role, ScopeKind
from yigongti.geo.models import Division
from yigongti.organizations.choices import ManagementUnitKind
from yigongti.organizations.models import Institution, Medcom
from yigongti.staff.models import Practitioner


class User(AbstractUser):
    """A platform user: belongs to one institution, holds roles, sees one data scope."""

    display_name = models.CharField("姓名", max_length=32, blank=True)
    institution = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name="所在机构",
    )
    practitioner = models.OneToOneField(
        Practitioner,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="user",
        verbose_name="对应卫生人员",
    )
    scope_kind = models.CharField(
        "数据范围", max_length=16, choices=ScopeKind.choices, default=ScopeKind.INSTITUTION
    )
    scope_medcom = models.ForeignKey(
        Medcom,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="范围：医共体",
    )
    scope_division = models.ForeignKey(
        Division,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="范围：区域",
    )

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.display_name or self.username


class RoleAssignment(models.Model):
    """A role held by a user; management-centre staff also name their department."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField("角色", max_length=32, choices=Role.choices)
    management_unit = models.CharField(
        "管理中心部门", max_length=20, choices=ManagementUnitKind.choices, blank=True
    )

    class Meta:
        verbose_name = "角色分配"
        verbose_name_plural = "角色分配"
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="role_assignment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"


class ApiToken(models.Model):
    """A machine client's bearer token; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("用途", max_length=64)
    prefix = models.CharField("前缀", max_length=8)
    key_hash = models.CharField(max_length=64, unique=True)
    role = models.CharField("以角色", max_length=32, choices=Role.choices)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked = models.BooleanField("已吊销", default=False)

    class Meta:
        verbose_name = "接口令牌"
        verbose_name_plural = "接口令牌"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class LoginFailure(models.Model):
    """A failed login, counted for throttling (等保: 登录失败处理)."""

    username = models.CharField(max_length=150, db_index=True)
    client_ip = models.CharField(max_length=64, blank=True)
    occurred_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "登录失败记录"
        verbose_name_plural = "登录失败记录"

    def __str__(self) -> str:
        return f"{self.username} @ {self.occurred_at:%Y-%m-%d %H:%M}"
