"""Outpatient schedules with slots in two pools, bookings, and ward bed reservations.

The invariants live in the database: one live booking per slot and one live booking per
resident per session (partial unique constraints), slot numbers unique per schedule; the
services lock the schedule (or ward) row while they choose, so concurrent bookers queue
instead of racing (DESIGN.md, "Check-then-act races").
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from yigongti.organizations.models import Department, Institution
from yigongti.residents.models import Resident
from yigongti.scheduling.choices import (
    BedStatus,
    BookingStatus,
    Channel,
    Pool,
    ScheduleStatus,
    Session,
)
from yigongti.staff.models import Practitioner

LIVE_BOOKING_Q = Q(status__in=[BookingStatus.BOOKED, BookingStatus.ATTENDED, BookingStatus.NO_SHOW])


class Schedule(models.Model):
    """排班: one session of a department (and doctor) on one day, published with its slots."""

    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="schedules", verbose_name="机构"
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="schedules", verbose_name="科室"
    )
    doctor = models.ForeignKey(
        Practitioner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="schedules",
        verbose_name="出诊医生",
    )
    day = models.DateField("出诊日期")
    session = models.CharField("时段", max_length=4, choices=Session.choices)
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    slot_count = models.PositiveSmallIntegerField("号源数")
    reserved_count = models.PositiveSmallIntegerField("基层预留号源数")
    fee = models.DecimalField("挂号费（元）", max_digits=8, decimal_places=2, default=0)
    reserved_opens_at = models.DateTimeField("基层预留号源开放时间")
    public_opens_at = models.DateTimeField("公众号源开放时间")
    cutoff_at = models.DateTimeField("预留号源转公众时间")
    status = models.CharField(
        "状态", max_length=12, choices=ScheduleStatus.choices, default=ScheduleStatus.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField("发布时间")

    class Meta:
        verbose_name = "排班"
        verbose_name_plural = "排班"
        ordering = ["day", "starts_at", "department_id"]
        indexes = [models.Index(fields=["institution", "day"], name="schedule_inst_day")]

    def __str__(self) -> str:
        return f"{self.department} {self.day} {self.get_session_display()}"


class Slot(models.Model):
    """号源: one appointment time of a schedule, in the reserved or the public pool."""

    schedule = models.ForeignKey(
        Schedule, on_delete=models.CASCADE, related_name="slots", verbose_name="排班"
    )
    seq = models.PositiveSmallIntegerField("序号")
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    pool = models.CharField("号源池", max_length=12, choices=Pool.choices)

    class Meta:
        verbose_name = "号源"
        verbose_name_plural = "号源"
        ordering = ["schedule_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "seq"], name="slot_seq_once"),
        ]

    def __str__(self) -> str:
        return f"{self.schedule_id}#{self.seq}"


class Booking(models.Model):
    """预约: a resident in a slot, booked by a grassroots user or the public channel."""

    slot = models.ForeignKey(
        Slot, on_delete=models.PROTECT, related_name="bookings", verbose_name="号源"
    )
    schedule = models.ForeignKey(
        Schedule, on_delete=models.PROTECT, related_name="bookings", verbose_name="排班"
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="bookings", verbose_name="居民"
    )
    channel = models.CharField("预约渠道", max_length=12, choices=Channel.choices)
    pool = models.CharField("号源池", max_length=12, choices=Pool.choices)
    status = models.CharField(
        "状态", max_length=12, choices=BookingStatus.choices, default=BookingStatus.BOOKED
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    from_institution = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="预约机构",
    )
    fee = models.DecimalField("应收挂号费（元）", max_digits=8, decimal_places=2, default=0)
    fee_waived = models.BooleanField("免挂号费", default=False)
    priority = models.BooleanField("优先接诊", default=False)
    note = models.CharField("备注", max_length=200, blank=True)
    booked_at = models.DateTimeField("预约时间")
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    cancel_reason = models.CharField("取消原因", max_length=200, blank=True)

    class Meta:
        verbose_name = "预约"
        verbose_name_plural = "预约"
        ordering = ["-booked_at"]
        constraints = [
            # The race guard: a slot holds one live booking, whatever the services do.
            models.UniqueConstraint(
                fields=["slot"], condition=LIVE_BOOKING_Q, name="booking_slot_once"
            ),
            models.UniqueConstraint(
                fields=["schedule", "resident"],
                condition=Q(status=BookingStatus.BOOKED),
                name="booking_resident_once_per_session",
            ),
        ]
        indexes = [models.Index(fields=["resident", "booked_at"], name="booking_resident")]

    def __str__(self) -> str:
        return f"{self.resident_id}@{self.slot_id} {self.status}"


class BedBooking(models.Model):
    """床位预约: a bed of a ward (a department with beds) held for a resident."""

    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="bed_bookings", verbose_name="病区"
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="bed_bookings", verbose_name="居民"
    )
    pool = models.CharField("床位池", max_length=12, choices=Pool.choices)
    up_referral = models.BooleanField("上转患者", default=False)
    status = models.CharField(
        "状态", max_length=12, choices=BedStatus.choices, default=BedStatus.HELD
    )
    expected_on = models.DateField("预计入院日期")
    from_institution = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="申请机构",
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    booked_at = models.DateTimeField("预约时间")
    admitted_at = models.DateTimeField("入院时间", null=True, blank=True)
    closed_at = models.DateTimeField("释放时间", null=True, blank=True)
    reason = models.CharField("取消/释放原因", max_length=200, blank=True)

    class Meta:
        verbose_name = "床位预约"
        verbose_name_plural = "床位预约"
        ordering = ["-booked_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "resident"],
                condition=Q(status__in=[BedStatus.HELD, BedStatus.ADMITTED]),
                name="bed_resident_once_per_ward",
            )
        ]
        indexes = [models.Index(fields=["department", "status"], name="bed_ward_status")]

    def __str__(self) -> str:
        return f"{self.department_id} {self.resident_id} {self.status}"
