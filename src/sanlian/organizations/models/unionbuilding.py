"""Union building in social organisations (建会入会: 帮工会、懂工会、建工会) and Trade Union Law
training (《工会法》及维权培训) of their staff, with per-organisation training coverage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sanlian.core.audit import AuditedModel
from sanlian.core.models import VersionedModel
from sanlian.core.roles import Role
from sanlian.core.scoping import NOTHING, Scope, ScopedQuerySet, path_q

from .people import Person
from .tree import Organization

PERCENT = Decimal("0.1")


def rate(part: int, whole: int) -> Decimal | None:
    """part / whole as a percentage with one decimal, capped at 100 (a staff count recorded
    before new hires were trained can be lower than the number trained); None without staff."""
    if whole <= 0:
        return None
    value = min(Decimal(part) * 100 / Decimal(whole), Decimal(100))
    return value.quantize(PERCENT, rounding=ROUND_HALF_UP)


def one_year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


class UnionBuildingQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            return path_q(scope, "organization__path")
        if scope.has(Role.SOCIAL_ORG_MANAGER) and scope.org_id is not None:
            return Q(organization_id=scope.org_id)
        return NOTHING

    def latest_per_organization(self) -> UnionBuildingQuerySet:
        """The most recent snapshot of each organisation."""
        newest = UnionBuilding.objects.filter(organization_id=models.OuterRef("organization_id"))
        return self.filter(
            pk=models.Subquery(newest.order_by("-year", "-as_of", "-pk").values("pk")[:1])
        )


class UnionBuilding(AuditedModel, VersionedModel):
    """One organisation's union-building status in one year (one row per organisation and
    year, so the history stays); the newest row is the current status."""

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("社会组织"),
        on_delete=models.PROTECT,
        related_name="union_building",
    )
    as_of = models.DateField(_("统计日期"))
    year = models.PositiveSmallIntegerField(_("年度"), editable=False)
    union_founded = models.BooleanField(_("已建立工会"), default=False)
    founded_on = models.DateField(_("建会日期"), null=True, blank=True)
    union_name = models.CharField(_("工会名称"), max_length=100, blank=True)
    staff_count = models.PositiveIntegerField(_("职工人数"))
    member_count = models.PositiveIntegerField(_("入会人数"))

    objects = UnionBuildingQuerySet.as_manager()

    class Meta:
        verbose_name = _("建会入会")
        verbose_name_plural = _("建会入会")
        ordering = ["organization", "-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "year"], name="unionbuilding_one_a_year"
            ),
            models.CheckConstraint(
                condition=Q(member_count__lte=models.F("staff_count")),
                name="unionbuilding_members_within_staff",
                violation_error_message=_("入会人数不能超过职工人数。"),
            ),
            models.CheckConstraint(
                condition=Q(union_founded=False) | Q(founded_on__isnull=False),
                name="unionbuilding_founded_has_date",
                violation_error_message=_("已建立工会的，请填写建会日期。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} · {self.year}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.year = self.as_of.year
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("organizations:unionbuilding_detail", args=[self.organization_id])

    @property
    def membership_rate(self) -> Decimal | None:
        """入会率 in percent."""
        return rate(self.member_count, self.staff_count)


class TrainingTopic(models.TextChoices):
    TRADE_UNION_LAW = "trade_union_law", _("《工会法》解读")
    LABOUR_CONTRACT = "labour_contract", _("劳动合同与维权")
    RIGHTS = "rights", _("职工权益保障")
    COLLECTIVE_BARGAINING = "collective_bargaining", _("集体协商")
    WORK_SAFETY = "work_safety", _("安全生产")
    OTHER = "other", _("其他")


class TrainingSessionQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            # Organised in the area, or attended by staff of the area's organisations.
            attended = TrainingAttendance.objects.filter(
                organization__path__startswith=scope.area_path
            ).values("session_id")
            return path_q(scope, "organiser__path") | Q(pk__in=attended)
        if scope.has(Role.SOCIAL_ORG_MANAGER) and scope.org_id is not None:
            mine = TrainingAttendance.objects.filter(organization_id=scope.org_id)
            return Q(pk__in=mine.values("session_id"))
        return NOTHING


class TrainingSession(AuditedModel, VersionedModel):
    """工会法培训: one session run by an area union for staff of social organisations."""

    topic = models.CharField(_("培训主题"), max_length=24, choices=TrainingTopic.choices)
    title = models.CharField(_("培训名称"), max_length=200)
    held_on = models.DateField(_("培训日期"), db_index=True)
    place = models.CharField(_("地点"), max_length=200, blank=True)
    trainer = models.CharField(_("授课人"), max_length=100)
    organiser = models.ForeignKey(
        Organization,
        verbose_name=_("主办工会"),
        on_delete=models.PROTECT,
        related_name="trainings_organised",
    )
    description = models.TextField(_("培训内容"), blank=True)

    objects = TrainingSessionQuerySet.as_manager()

    class Meta:
        verbose_name = _("工会法培训")
        verbose_name_plural = _("工会法培训")
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("organizations:training_detail", args=[self.pk])


class TrainingAttendanceQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            return path_q(scope, "organization__path")
        if scope.has(Role.SOCIAL_ORG_MANAGER) and scope.org_id is not None:
            return Q(organization_id=scope.org_id)
        return NOTHING

    def trained_between(self, since: date, until: date) -> TrainingAttendanceQuerySet:
        """Attended a session held after `since`, up to and including `until`."""
        return self.filter(attended=True, session__held_on__gt=since, session__held_on__lte=until)

    def trained_per_organization(self, today: date) -> dict[int, int]:
        """Distinct staff of each organisation trained in the twelve months up to `today`:
        a registered person counts once however many sessions they attended, a typed name
        once per name."""
        rows = (
            self.trained_between(one_year_before(today), today)
            .values("organization_id")
            .annotate(
                people=Count("person", distinct=True),
                names=Count("attendee_name", filter=Q(person__isnull=True), distinct=True),
            )
            .order_by()
        )
        return {r["organization_id"]: r["people"] + r["names"] for r in rows}


class TrainingAttendance(AuditedModel):
    """One attendee of a session: a registered person or a typed name, from one social
    organisation, with the test score."""

    session = models.ForeignKey(
        TrainingSession, on_delete=models.CASCADE, related_name="attendance"
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("人员"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="trainings",
    )
    attendee_name = models.CharField(_("姓名"), max_length=50)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("所在组织"),
        on_delete=models.PROTECT,
        related_name="training_attendance",
    )
    attended = models.BooleanField(_("出席"), default=True)
    test_score = models.DecimalField(
        _("测试成绩"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )

    objects = TrainingAttendanceQuerySet.as_manager()

    class Meta:
        verbose_name = _("培训签到")
        verbose_name_plural = _("培训签到")
        ordering = ["session", "organization", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "person"],
                condition=Q(person__isnull=False),
                name="trainingattendance_person_once",
            ),
            models.UniqueConstraint(
                fields=["session", "organization", "attendee_name"],
                name="trainingattendance_name_once",
            ),
            models.CheckConstraint(
                condition=Q(test_score__isnull=True)
                | Q(test_score__gte=Decimal(0), test_score__lte=Decimal(100)),
                name="trainingattendance_score_0_100",
                violation_error_message=_("测试成绩须在0至100之间。"),
            ),
            models.CheckConstraint(
                condition=Q(test_score__isnull=True) | Q(attended=True),
                name="trainingattendance_score_only_if_attended",
                violation_error_message=_("未出席者不能登记测试成绩。"),
            ),
            models.CheckConstraint(
                condition=~Q(attendee_name=""), name="trainingattendance_name_required"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.attendee_name} · {self.session}"


@dataclass(frozen=True)
class OrgUnionStatus:
    """One social organisation's line on the 建会入会 overview."""

    organization: Organization
    snapshot: UnionBuilding | None
    trained: int

    @property
    def staff_count(self) -> int | None:
        return self.snapshot.staff_count if self.snapshot else None

    @property
    def coverage(self) -> Decimal | None:
        """Staff trained in the last twelve months / staff count, in percent."""
        return rate(self.trained, self.snapshot.staff_count) if self.snapshot else None


def union_status_rows(
    organizations: models.QuerySet[Organization], user: Any, today: date
) -> list[OrgUnionStatus]:
    """The overview lines of these social organisations as `user` may see them."""
    orgs = list(organizations)
    ids = [o.pk for o in orgs]
    snapshots = {
        s.organization_id: s
        for s in UnionBuilding.objects.visible_to(user)
        .filter(organization_id__in=ids)
        .latest_per_organization()
    }
    trained = (
        TrainingAttendance.objects.visible_to(user)
        .filter(organization_id__in=ids)
        .trained_per_organization(today)
    )
    return [OrgUnionStatus(o, snapshots.get(o.pk), trained.get(o.pk, 0)) for o in orgs]
