"""Community activities (社区活动): the plan, sign-ups with personal check-in codes, the
volunteers' shifts (their hours credited when the activity is done) and feedback."""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sanlian.core.audit import AuditedModel
from sanlian.core.roles import Role
from sanlian.core.scoping import NOTHING, Scope, ScopedQuerySet, path_q
from sanlian.organizations.models import (
    Community,
    Organization,
    Person,
    Venue,
    Volunteer,
    VolunteerHourLog,
)
from sanlian.resources.models import ServiceProject, VenueBooking

__all__ = [
    "Activity",
    "ActivityQuerySet",
    "ActivityStatus",
    "Registration",
    "RegistrationQuerySet",
    "VolunteerShift",
    "VolunteerShiftQuerySet",
]

# Personal check-in codes: short enough to type, no look-alike characters (0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
# Who organises: the area's staff, or a social organisation's staff.
ORGANIZER_STAFF_ROLES = (Role.SOCIAL_ORG_MANAGER, Role.SOCIAL_WORKER)


def new_token() -> str:
    return secrets.token_urlsafe(16)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _activity_q(scope: Scope, prefix: str = "") -> Q:
    """Area roles by the activity's community; a social organisation's staff the activities
    their organisation organises."""
    if scope.area_path is not None:
        return path_q(scope, f"{prefix}community__organization__path")
    if scope.org_id is not None and not scope.is_admin and scope.has(*ORGANIZER_STAFF_ROLES):
        return Q(**{f"{prefix}organizer_id": scope.org_id})
    return NOTHING


class ActivityStatus(models.TextChoices):
    PLANNED = "planned", _("筹备中")
    PUBLISHED = "published", _("已发布")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已取消")


class ActivityQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        return _activity_q(scope)

    def done(self) -> ActivityQuerySet:
        return self.filter(status=ActivityStatus.DONE)


class Activity(AuditedModel):
    """社区活动: planned for one community on one day, with an optional venue (booked through
    资源联合's venue bookings) and project; sign-up opens when it is published."""

    title = models.CharField(_("活动名称"), max_length=200)
    community = models.ForeignKey(
        Community, verbose_name=_("社区"), on_delete=models.PROTECT, related_name="activities"
    )
    organizer = models.ForeignKey(
        Organization,
        verbose_name=_("主办组织"),
        on_delete=models.PROTECT,
        related_name="activities_organized",
    )
    project = models.ForeignKey(
        ServiceProject,
        verbose_name=_("服务项目"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activities",
    )
    date = models.DateField(_("活动日期"), db_index=True)
    start_time = models.TimeField(_("开始时间"))
    end_time = models.TimeField(_("结束时间"))
    venue = models.ForeignKey(
        Venue,
        verbose_name=_("场地"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activities",
    )
    booking = models.OneToOneField(
        VenueBooking,
        verbose_name=_("场地预约"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activity",
    )
    place = models.CharField(
        _("活动地点"), max_length=200, blank=True, help_text=_("不使用登记场地时填写")
    )
    capacity = models.PositiveIntegerField(_("名额"))
    # Seats taken by sign-ups (a person and their companions), kept by the sign-up service
    # under the activity's row lock; the constraint below makes overselling impossible.
    seats_taken = models.PositiveIntegerField(_("已报名人数"), default=0, editable=False)
    description = models.TextField(_("活动内容"), max_length=2000, blank=True)
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=ActivityStatus.choices,
        default=ActivityStatus.PLANNED,
        db_index=True,
    )
    signup_token = models.CharField(max_length=32, unique=True, default=new_token, editable=False)
    door_token = models.CharField(max_length=32, unique=True, default=new_token, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    cancelled_reason = models.CharField(_("取消原因"), max_length=200, blank=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = _("社区活动")
        verbose_name_plural = _("社区活动")
        ordering = ["-date", "-start_time", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")),
                name="activity_ends_after_start",
                violation_error_message=_("结束时间须晚于开始时间。"),
            ),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="activity_capacity_positive"),
            models.CheckConstraint(
                condition=Q(seats_taken__lte=F("capacity")),
                name="activity_not_oversold",
                violation_error_message=_("名额不能少于已报名人数。"),
            ),
            models.CheckConstraint(
                condition=Q(status="done", done_at__isnull=False)
                | (~Q(status="done") & Q(done_at__isnull=True)),
                name="activity_done_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.title}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("delivery:activity_detail", args=[self.pk])

    @property
    def starts_at(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.date, self.start_time))

    @property
    def ends_at(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.date, self.end_time))

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    @property
    def where(self) -> str:
        return self.venue.name if self.venue is not None else self.place

    @property
    def status_badge(self) -> str:
        return {
            ActivityStatus.PLANNED: "badge-muted",
            ActivityStatus.PUBLISHED: "badge-warn",
            ActivityStatus.DONE: "badge-ok",
            ActivityStatus.CANCELLED: "badge-danger",
        }[ActivityStatus(self.status)]


class RegistrationQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        return _activity_q(scope, "activity__")

    def checked_in(self) -> RegistrationQuerySet:
        return self.filter(checked_in_at__isnull=False)


class Registration(AuditedModel):
    """One sign-up (报名) or walk-in: a resident known by name and mobile, with companions;
    a personal code to check in with and a personal link for the code and the feedback."""

    activity = models.ForeignKey(
        Activity, verbose_name=_("活动"), on_delete=models.CASCADE, related_name="registrations"
    )
    name = models.CharField(_("姓名"), max_length=50)
    phone = models.CharField(_("手机号"), max_length=11)
    companions = models.PositiveSmallIntegerField(_("同行人数"), default=0)
    # The resident's record when the phone matches exactly one person of the community.
    person = models.ForeignKey(
        Person,
        verbose_name=_("居民"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activity_registrations",
    )
    is_walk_in = models.BooleanField(_("现场登记"), default=False)
    code = models.CharField(_("签到码"), max_length=CODE_LENGTH, unique=True, default=new_code)
    token = models.CharField(max_length=32, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(_("报名时间"), default=timezone.now)
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签到经办人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    rating = models.PositiveSmallIntegerField(_("满意度评分"), null=True, blank=True)
    comment = models.CharField(_("评价"), max_length=500, blank=True)
    feedback_at = models.DateTimeField(_("评价时间"), null=True, blank=True)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        verbose_name = _("活动报名")
        verbose_name_plural = _("活动报名")
        ordering = ["activity", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "phone"],
                name="registration_one_per_phone",
                violation_error_message=_("该手机号已报名本活动。"),
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="registration_rating_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(checked_in_at__isnull=False),
                name="registration_feedback_after_checkin",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.activity.title}）"

    @property
    def seats(self) -> int:
        return 1 + self.companions

    @property
    def masked_name(self) -> str:
        return self.name[:1] + "*" * max(len(self.name) - 1, 1)


class VolunteerShiftQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        return _activity_q(scope, "activity__")


class VolunteerShift(AuditedModel):
    """志愿服务时段: a volunteer serving at an activity from one time to another. When the
    activity is done the shift becomes a confirmed hour log (once: `hour_log` is set)."""

    activity = models.ForeignKey(
        Activity, verbose_name=_("活动"), on_delete=models.CASCADE, related_name="shifts"
    )
    volunteer = models.ForeignKey(
        Volunteer,
        verbose_name=_("志愿者"),
        on_delete=models.PROTECT,
        related_name="activity_shifts",
    )
    start_time = models.TimeField(_("开始时间"))
    end_time = models.TimeField(_("结束时间"))
    task = models.CharField(_("岗位"), max_length=100, blank=True)
    hour_log = models.OneToOneField(
        VolunteerHourLog,
        verbose_name=_("服务时长记录"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activity_shift",
    )

    objects = VolunteerShiftQuerySet.as_manager()

    class Meta:
        verbose_name = _("志愿服务时段")
        verbose_name_plural = _("志愿服务时段")
        ordering = ["activity", "start_time", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")),
                name="shift_ends_after_start",
                violation_error_message=_("结束时间须晚于开始时间。"),
            ),
            models.UniqueConstraint(
                fields=["activity", "volunteer"],
                name="shift_one_per_volunteer",
                violation_error_message=_("该志愿者已安排在本活动中。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} {self.start_time:%H:%M}–{self.end_time:%H:%M}"
