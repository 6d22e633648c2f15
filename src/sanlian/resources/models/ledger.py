"""The resource ledger (资源台账): every resource that reaches a community, with its value;
and venue bookings (场地预约), where double bookings are impossible.

On PostgreSQL an exclusion constraint (btree_gist, migration 0002) refuses two confirmed
bookings of one venue whose times overlap, whoever writes them; on SQLite, whose writers take
the database lock for the whole transaction, the booking service checks inside it."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from sanlian.core.audit import AuditedModel
from sanlian.core.models import User
from sanlian.core.roles import Role
from sanlian.core.scoping import NOTHING, Scope, ScopedQuerySet, path_q
from sanlian.organizations.models import Community, Organization, Venue

from ..money import MoneyField
from .projects import Disbursement, ServiceProject


class ResourceKind(models.TextChoices):
    FUNDS = "funds", _("资金")
    VENUE = "venue", _("场地")
    MATERIALS = "materials", _("物资")
    IN_KIND = "in_kind", _("实物捐赠")
    EXTERNAL = "external", _("链接外部资源")
    VOLUNTEER_HOURS = "volunteer_hours", _("志愿服务时长")


class ResourceEntryQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            return path_q(scope, "community__organization__path")
        if scope.org_id is None or scope.is_admin:
            return NOTHING
        if scope.has(Role.SOCIAL_ORG_MANAGER, Role.SOCIAL_WORKER):
            return Q(project__organization_id=scope.org_id) | Q(source_org_id=scope.org_id)
        return NOTHING

    def funds(self) -> ResourceEntryQuerySet:
        return self.filter(kind=ResourceKind.FUNDS)


class ResourceEntry(AuditedModel):
    """One resource that reached one community: money (a disbursement's share), a venue's use,
    materials, gifts, outside resources, volunteer hours; valued in 元 (estimated where it is
    not money)."""

    community = models.ForeignKey(
        Community, verbose_name=_("社区"), on_delete=models.PROTECT, related_name="resources"
    )
    project = models.ForeignKey(
        ServiceProject,
        verbose_name=_("服务项目"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resources",
    )
    kind = models.CharField(
        _("资源类型"), max_length=16, choices=ResourceKind.choices, db_index=True
    )
    source_org = models.ForeignKey(
        Organization,
        verbose_name=_("来源组织"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resources_given",
    )
    source_name = models.CharField(_("来源说明"), max_length=200, blank=True)
    description = models.CharField(_("内容"), max_length=300)
    quantity = models.DecimalField(
        _("数量"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    value = MoneyField(_("价值（元）"))
    is_estimated = models.BooleanField(_("估算价值"), default=False)
    occurred_on = models.DateField(_("日期"), db_index=True)
    # A disbursement's money is entered once per community it serves (split by the service).
    disbursement = models.ForeignKey(
        Disbursement,
        verbose_name=_("拨付"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    booking = models.OneToOneField(
        "VenueBooking",
        verbose_name=_("场地预约"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ledger_entry",
    )
    recorded_by = models.ForeignKey(
        User, verbose_name=_("登记人"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = ResourceEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("资源台账")
        verbose_name_plural = _("资源台账")
        ordering = ["-occurred_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(value__gte=0),
                name="resource_value_not_negative",
                violation_error_message=_("价值不能为负数。"),
            ),
            models.UniqueConstraint(
                fields=["disbursement", "community"],
                name="resource_disbursement_once_per_community",
            ),
        ]

    def __str__(self) -> str:
        return self.description


class BookingPurpose(models.TextChoices):
    ACTIVITY = "activity", _("社区活动")
    GROUP_SESSION = "group_session", _("小组活动")
    MEETING = "meeting", _("会议")
    TRAINING = "training", _("培训")
    OTHER = "other", _("其他")


class BookingStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("已预约")
    CANCELLED = "cancelled", _("已取消")


class VenueBookingQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        # Whoever may see the venue sees its use (when it is taken); one's own bookings too.
        return Q(venue__in=Venue.objects.filter(Venue.objects.all().scope_q(scope))) | (
            Q(organization_id=scope.org_id)
            if scope.org_id is not None and not scope.is_admin
            else NOTHING
        )

    def confirmed(self) -> VenueBookingQuerySet:
        return self.filter(status=BookingStatus.CONFIRMED)

    def overlapping(self, starts_at: object, ends_at: object) -> VenueBookingQuerySet:
        return self.filter(starts_at__lt=ends_at, ends_at__gt=starts_at)


class VenueBooking(AuditedModel):
    venue = models.ForeignKey(
        Venue, verbose_name=_("场地"), on_delete=models.PROTECT, related_name="bookings"
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("预约组织"),
        on_delete=models.PROTECT,
        related_name="venue_bookings",
    )
    project = models.ForeignKey(
        ServiceProject,
        verbose_name=_("服务项目"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="venue_bookings",
    )
    purpose = models.CharField(_("用途"), max_length=16, choices=BookingPurpose.choices)
    title = models.CharField(_("活动名称"), max_length=200)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    attendees = models.PositiveIntegerField(_("预计人数"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=BookingStatus.choices, default=BookingStatus.CONFIRMED
    )
    booked_by = models.ForeignKey(
        User, verbose_name=_("预约人"), on_delete=models.PROTECT, related_name="+"
    )
    booked_at = models.DateTimeField(_("预约时间"), auto_now_add=True)
    cancelled_reason = models.CharField(_("取消原因"), max_length=200, blank=True)

    objects = VenueBookingQuerySet.as_manager()

    class Meta:
        verbose_name = _("场地预约")
        verbose_name_plural = _("场地预约")
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["venue", "starts_at"], name="booking_venue_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="booking_ends_after_start",
                violation_error_message=_("结束时间须晚于开始时间。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.venue} · {self.title}"
