"""Social workers, volunteers and the service hours volunteers log."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, Self

from django.conf import settings
from django.db import models
from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sanlian.core.audit import AuditedModel
from sanlian.core.models import VersionedModel
from sanlian.core.roles import Role
from sanlian.core.scoping import NOTHING, Scope, ScopedQuerySet, path_q, scope_for

from .people import Person
from .tree import Organization

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from sanlian.core.models import User


# ---- social workers ------------------------------------------------------------------------


class Qualification(models.TextChoices):
    ASSISTANT = "assistant", _("助理社会工作师")
    SOCIAL_WORKER = "social_worker", _("社会工作师")
    SENIOR = "senior", _("高级社会工作师")


class SocialWorkerStatus(models.TextChoices):
    ACTIVE = "active", _("在岗")
    LEFT = "left", _("离职")


class SocialWorkerQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            return path_q(scope, "organization__path")
        if scope.has(Role.SOCIAL_ORG_MANAGER) and scope.org_id is not None:
            return Q(organization_id=scope.org_id)
        if scope.user_id is not None and not scope.is_admin:
            return Q(person__user_id=scope.user_id)
        return NOTHING

    def active(self) -> SocialWorkerQuerySet:
        return self.filter(status=SocialWorkerStatus.ACTIVE)


class SocialWorker(AuditedModel, VersionedModel):
    person = models.OneToOneField(
        Person, verbose_name=_("姓名"), on_delete=models.PROTECT, related_name="social_worker"
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("所在机构"),
        on_delete=models.PROTECT,
        related_name="social_workers",
    )
    qualification = models.CharField(
        _("职业资格"), max_length=16, choices=Qualification.choices, blank=True
    )
    # Free text (the format changed over the years), but one certificate belongs to one person.
    certificate_number = models.CharField(_("证书编号"), max_length=40, blank=True)
    certificate_date = models.DateField(_("取得时间"), null=True, blank=True)
    is_supervisor = models.BooleanField(_("督导"), default=False)
    status = models.CharField(
        _("状态"),
        max_length=8,
        choices=SocialWorkerStatus.choices,
        default=SocialWorkerStatus.ACTIVE,
        db_index=True,
    )
    joined_on = models.DateField(_("入职日期"), null=True, blank=True)
    left_on = models.DateField(_("离职日期"), null=True, blank=True)

    objects = SocialWorkerQuerySet.as_manager()

    class Meta:
        verbose_name = _("社工")
        verbose_name_plural = _("社工")
        constraints = [
            models.UniqueConstraint(
                fields=["certificate_number"],
                condition=~Q(certificate_number=""),
                name="socialworker_unique_certificate",
                violation_error_message=_("该证书编号已登记在其他社工名下，请核对"),
                violation_error_code="unique",
            ),
            models.CheckConstraint(
                condition=Q(certificate_number="") | ~Q(qualification=""),
                name="socialworker_certificate_has_qualification",
                violation_error_message=_("填写证书编号时请选择职业资格"),
            ),
            models.CheckConstraint(
                condition=Q(status="active", left_on__isnull=True)
                | Q(status="left", left_on__isnull=False),
                name="socialworker_left_has_date",
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True)
                | Q(joined_on__isnull=True)
                | Q(left_on__gte=F("joined_on")),
                name="socialworker_left_after_joined",
                violation_error_message=_("离职日期不能早于入职日期"),
            ),
        ]

    def __str__(self) -> str:
        return str(self.person)

    def get_absolute_url(self) -> str:
        return reverse("organizations:social_worker_detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status == SocialWorkerStatus.ACTIVE


# ---- volunteers ----------------------------------------------------------------------------


class PartOfDay(models.TextChoices):
    AM = "am", _("上午")
    PM = "pm", _("下午")
    EVENING = "evening", _("晚上")


WEEKDAYS = (_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日"))
# The fixed list of the skills form; anything else goes into "other skills".
VOLUNTEER_SKILLS = (
    "法律咨询",
    "心理疏导",
    "义诊",
    "课业辅导",
    "家电维修",
    "理发",
    "文艺",
    "摄影",
    "助老",
    "信息技术",
)
SKILL_SEPARATOR = "、"


def availability_slot(weekday: int, part: str) -> str:
    """One entry of `Volunteer.availability`: "weekday:part", weekday 0 (Monday) to 6."""
    return f"{weekday}:{part}"


def parse_slot(slot: str) -> tuple[int, str] | None:
    day, _sep, part = str(slot).partition(":")
    if not day.isdigit() or not 0 <= int(day) <= 6 or part not in PartOfDay.values:
        return None
    return int(day), part


def slot_is_outside_working_hours(weekday: int, part: str) -> bool:
    """Evenings and weekends are outside the 8-hour working day (8小时以外)."""
    return weekday >= 5 or part == PartOfDay.EVENING


def coordinated_team_ids(user_id: int | None) -> QuerySet[Any]:
    """The volunteer teams whose coordinator this user is (a subquery)."""
    if user_id is None:
        return Volunteer.objects.none().values("team_id")
    return Volunteer.objects.filter(person__user_id=user_id, is_coordinator=True).values("team_id")


class VolunteerQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            return path_q(scope, "team__path")
        if scope.has(Role.SOCIAL_ORG_MANAGER) and scope.org_id is not None:
            return Q(team_id=scope.org_id)
        if scope.user_id is not None and not scope.is_admin:
            return Q(person__user_id=scope.user_id)
        return NOTHING

    def with_confirmed_sum(self) -> VolunteerQuerySet:
        return self.annotate(
            confirmed_sum=Coalesce(
                Sum("hour_logs__hours", filter=Q(hour_logs__status=HourLogStatus.CONFIRMED)),
                Decimal("0"),
                output_field=models.DecimalField(max_digits=8, decimal_places=1),
            )
        )

    def hours_mismatched(self) -> VolunteerQuerySet:
        """Volunteers whose cached total differs from the sum of their confirmed logs."""
        return self.with_confirmed_sum().exclude(hours_logged=F("confirmed_sum"))


class Volunteer(AuditedModel, VersionedModel):
    person = models.OneToOneField(
        Person, verbose_name=_("姓名"), on_delete=models.PROTECT, related_name="volunteer"
    )
    team = models.ForeignKey(
        Organization,
        verbose_name=_("志愿服务队"),
        on_delete=models.PROTECT,
        related_name="volunteers",
    )
    # Chosen from VOLUNTEER_SKILLS, joined with "、"; anything else in skills_other.
    skills = models.CharField(_("技能"), max_length=200, blank=True)
    skills_other = models.CharField(_("其他技能"), max_length=100, blank=True)
    # Weekday 0-6 × part of day, e.g. ["6:am", "1:evening"]: most service is outside 8 hours.
    availability = models.JSONField(_("可服务时间"), default=list, blank=True)
    # A cache of the sum of confirmed hour logs, kept by the confirm service
    # (`Volunteer.objects.hours_mismatched()` finds any drift).
    hours_logged = models.DecimalField(
        _("累计服务时长"), max_digits=8, decimal_places=1, default=0, editable=False
    )
    is_coordinator = models.BooleanField(
        _("服务队协调人"), default=False, help_text=_("协调人可以确认本队队员记录的服务时长")
    )

    objects = VolunteerQuerySet.as_manager()

    class Meta:
        verbose_name = _("志愿者")
        verbose_name_plural = _("志愿者")
        constraints = [
            models.CheckConstraint(
                condition=Q(hours_logged__gte=0), name="volunteer_hours_logged_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return str(self.person)

    def get_absolute_url(self) -> str:
        return reverse("organizations:volunteer_detail", args=[self.pk])

    def availability_slots(self) -> set[tuple[int, str]]:
        parsed = (parse_slot(s) for s in (self.availability or []))
        return {p for p in parsed if p is not None}

    @property
    def outside_working_hours(self) -> float | None:
        """Share of the available slots that lie outside 8 hours; None when none are given."""
        slots = self.availability_slots()
        if not slots:
            return None
        outside = sum(1 for day, part in slots if slot_is_outside_working_hours(day, part))
        return outside / len(slots)

    @property
    def outside_working_hours_percent(self) -> int | None:
        share = self.outside_working_hours
        return None if share is None else round(share * 100)

    def availability_grid(self) -> list[tuple[str, list[bool]]]:
        """Rows of the weekly grid: (weekday label, [available am, pm, evening])."""
        slots = self.availability_slots()
        return [
            (str(label), [(day, part) in slots for part in PartOfDay.values])
            for day, label in enumerate(WEEKDAYS)
        ]

    def skill_list(self) -> list[str]:
        chosen = [s for s in self.skills.split(SKILL_SEPARATOR) if s]
        return chosen + ([self.skills_other] if self.skills_other else [])

    @property
    def pending_log_count(self) -> int:
        return self.hour_logs.filter(status=HourLogStatus.PENDING).count()


# ---- volunteer hour logs -------------------------------------------------------------------


class HourLogStatus(models.TextChoices):
    PENDING = "pending", _("待确认")
    CONFIRMED = "confirmed", _("已确认")
    RETURNED = "returned", _("已退回")


# The 8-hour working day the "outside working hours" share is measured against.
WORKDAY_START = dt.time(8, 30)
WORKDAY_END = dt.time(17, 30)
MAX_HOURS_PER_ENTRY = 12
MAX_BACKDATE_DAYS = 90
_TENTH = Decimal("0.1")


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(_TENTH, rounding=ROUND_HALF_UP)


def split_hours(served_on: dt.date, start: dt.time, end: dt.time) -> tuple[Decimal, Decimal]:
    """(hours, hours outside Mon–Fri 08:30–17:30) of one entry, to 0.1 h."""
    begin, finish = _minutes(start), _minutes(end)
    total = max(finish - begin, 0)
    inside = 0
    if served_on.weekday() < 5:
        inside = max(0, min(finish, _minutes(WORKDAY_END)) - max(begin, _minutes(WORKDAY_START)))
    return _hours(total), _hours(total - inside)


class VolunteerHourLogQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            return path_q(scope, "volunteer__team__path")
        if scope.has(Role.SOCIAL_ORG_MANAGER) and scope.org_id is not None:
            return Q(volunteer__team_id=scope.org_id)
        if scope.user_id is not None and not scope.is_admin:
            return Q(volunteer__person__user_id=scope.user_id) | Q(
                volunteer__team_id__in=coordinated_team_ids(scope.user_id)
            )
        return NOTHING

    def pending(self) -> Self:
        return self.filter(status=HourLogStatus.PENDING)

    def confirmed(self) -> Self:
        return self.filter(status=HourLogStatus.CONFIRMED)

    def reviewable_by(self, user: User | AnonymousUser | None) -> Self:
        """Logs this user may confirm or return: area staff those of their area, a team's
        coordinator those of the team; never their own."""
        scope = scope_for(user)
        qs = self.visible_to(user).exclude(volunteer__person__user_id=scope.user_id)
        if scope.area_path is not None:
            return qs
        return qs.filter(volunteer__team_id__in=coordinated_team_ids(scope.user_id))


class VolunteerHourLog(AuditedModel):
    """志愿服务时长: one stretch of service a volunteer logs; a coordinator confirms it."""

    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("志愿者"), on_delete=models.PROTECT, related_name="hour_logs"
    )
    served_on = models.DateField(_("服务日期"))
    start_time = models.TimeField(_("开始时间"))
    end_time = models.TimeField(_("结束时间"))
    hours = models.DecimalField(_("时长（小时）"), max_digits=4, decimal_places=1, editable=False)
    hours_outside = models.DecimalField(
        _("8小时以外时长"), max_digits=4, decimal_places=1, editable=False
    )
    activity = models.CharField(_("服务内容"), max_length=200)
    place = models.CharField(_("服务地点"), max_length=100, blank=True)
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=HourLogStatus.choices,
        default=HourLogStatus.PENDING,
        db_index=True,
    )
    created_at = models.DateTimeField(_("记录时间"), default=timezone.now)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reject_reason = models.CharField(_("退回原因"), max_length=200, blank=True)

    objects = VolunteerHourLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("志愿服务时长")
        verbose_name_plural = _("志愿服务时长")
        ordering = ["-served_on", "-start_time", "-pk"]
        indexes = [
            models.Index(fields=["volunteer", "served_on"], name="hourlog_volunteer_day_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="hourlog_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(hours__gt=0, hours__lte=MAX_HOURS_PER_ENTRY),
                name="hourlog_hours_in_range",
            ),
            models.CheckConstraint(
                condition=Q(hours_outside__gte=0, hours_outside__lte=F("hours")),
                name="hourlog_outside_within_hours",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", confirmed_at__isnull=True)
                | (~Q(status="pending") & Q(confirmed_at__isnull=False)),
                name="hourlog_reviewed_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="returned") | ~Q(reject_reason=""),
                name="hourlog_returned_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} {self.served_on:%Y-%m-%d} {self.start_time:%H:%M}–{self.end_time:%H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The hours always follow the times: no path can store one without the other.
        self.hours, self.hours_outside = split_hours(self.served_on, self.start_time, self.end_time)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"start_time", "end_time", "served_on"} & set(
            update_fields
        ):
            kwargs["update_fields"] = {*update_fields, "hours", "hours_outside"}
        super().save(*args, **kwargs)

    @property
    def outside_working_hours(self) -> Decimal:
        """Hours of this entry outside Mon–Fri 08:30–17:30 (8小时以外)."""
        return self.hours_outside

    @property
    def status_badge(self) -> str:
        return {
            HourLogStatus.PENDING: "badge-warn",
            HourLogStatus.CONFIRMED: "badge-ok",
            HourLogStatus.RETURNED: "badge-danger",
        }[HourLogStatus(self.status)]
