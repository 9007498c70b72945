"""Shared tables: the append-only audit log and versioned policy parameters."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from yigongti.core.choices import AccessBasis, AuditAction


class AppendOnlyError(RuntimeError):
    pass


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """Bulk updates and deletes are refused: the log is append-only."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("审计记录只能追加，不能修改")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("审计记录只能追加，不能删除")


class AuditEvent(models.Model):
    """One person-level read or write (or a denied attempt), hash-chained to the one before.

    Rows are never updated or deleted by the application; database triggers refuse both.
    """

    seq = models.PositiveBigIntegerField("序号", unique=True)
    occurred_at = models.DateTimeField("时间", db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="操作人",
        db_constraint=False,
    )
    actor_username = models.CharField("账号", max_length=150, blank=True)
    actor_role = models.CharField("角色", max_length=64, blank=True)
    actor_institution_code = models.CharField("所在机构代码", max_length=32, blank=True)
    action = models.CharField("动作", max_length=16, choices=AuditAction.choices, db_index=True)
    resource_type = models.CharField("记录类型", max_length=64)
    resource_id = models.CharField("记录编号", max_length=64, blank=True)
    subject_resident_id = models.BigIntegerField("涉及居民", null=True, blank=True, db_index=True)
    basis = models.CharField(
        "依据", max_length=32, choices=AccessBasis.choices, default=AccessBasis.NONE
    )
    purpose = models.CharField("事由", max_length=200, blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)
    client_ip = models.CharField("来源地址", max_length=64, blank=True)
    channel = models.CharField("渠道", max_length=16, default="web")  # web | api | cli
    prev_hash = models.CharField("前一条哈希", max_length=64)
    hash = models.CharField("本条哈希", max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = "审计事件"
        verbose_name_plural = "审计事件"
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.actor_username} {self.get_action_display()} {self.resource_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("审计记录只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("审计记录只能追加，不能删除")


class AuditChainHead(models.Model):
    """A single row locked while appending, so concurrent writers extend the chain in turn."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = "审计链头"
        verbose_name_plural = "审计链头"

    def __str__(self) -> str:
        return f"审计链头 #{self.last_seq}"


class PolicyParameter(models.Model):
    """A versioned policy value: a rule looks it up for the date of the event it judges."""

    key = models.CharField("参数", max_length=100, db_index=True)
    region_code = models.CharField("适用地区代码", max_length=12, blank=True, default="")
    effective_from = models.DateField("生效日期")
    effective_to = models.DateField("失效日期", null=True, blank=True)
    value = models.JSONField("取值")
    source = models.CharField("依据出处", max_length=300)
    note = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "政策参数"
        verbose_name_plural = "政策参数"
        ordering = ["key", "region_code", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["key", "region_code", "effective_from"], name="policy_param_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key}@{self.region_code or '全国'} {self.effective_from}"
