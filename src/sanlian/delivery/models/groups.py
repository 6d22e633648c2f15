"""Group work (小组工作) after MZ/T 095-2017: the plan (计划书) with its phases, the members
recruited, the sessions (节次) with attendance, and pre/post scores on the group's scale.

Who sees a group: area roles by the community's place in the tree; the social organisation of
the group's leader (its manager and its social workers). Members, sessions and attendance are
seen exactly with their group."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from sanlian.core.audit import AuditedModel
from sanlian.core.models import User
from sanlian.core.roles import Role
from sanlian.core.scoping import NOTHING, Scope, ScopedQuerySet, path_q
from sanlian.organizations.models import Community, Person, SocialWorker, Venue
from sanlian.resources.models import ServiceProject

__all__ = [
    "GROUP_ATTENDED",
    "GROUP_PHASE_ORDER",
    "Group",
    "GroupAttendance",
    "GroupAttendanceStatus",
    "GroupKind",
    "GroupMember",
    "GroupMemberStatus",
    "GroupPhase",
    "GroupSession",
]


class GroupKind(models.TextChoices):
    THERAPY = "therapy", _("治疗小组")
    SUPPORT = "support", _("支持小组")
    GROWTH = "growth", _("成长小组")
    EDUCATION = "education", _("教育小组")
    RECREATION = "recreation", _("娱乐小组")
    TASK = "task", _("任务小组")


class GroupPhase(models.TextChoices):
    PREPARATION = "preparation", _("筹备期")
    FORMATION = "formation", _("形成期")
    TRANSITION = "transition", _("转折期")
    MATURITY = "maturity", _("成熟期")
    ENDING = "ending", _("结束期")


# The phases in the order a group passes them (one by one, never skipped or reversed).
GROUP_PHASE_ORDER: tuple[str, ...] = tuple(GroupPhase.values)


def group_q(scope: Scope, prefix: str = "") -> Q:
    """The scope rule of groups, for rows reached through `prefix` (e.g. "group__")."""
    if scope.area_path is not None:
        return path_q(scope, f"{prefix}community__organization__path")
    if scope.org_id is None or scope.is_admin:
        return NOTHING
    if scope.has(Role.SOCIAL_ORG_MANAGER, Role.SOCIAL_WORKER):
        return Q(**{f"{prefix}leader__organization_id": scope.org_id})
    return NOTHING


class GroupQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        return group_q(scope)

    def for_project(self, project: ServiceProject) -> GroupQuerySet:
        return self.filter(project=project)


class Group(AuditedModel):
    """小组: its plan (计划书) and where it stands."""

    name = models.CharField(_("小组名称"), max_length=100)
    kind = models.CharField(_("小组类型"), max_length=12, choices=GroupKind.choices)
    goals = models.TextField(_("小组目标"))
    target_members = models.CharField(_("服务对象"), max_length=200)
    planned_sessions = models.PositiveSmallIntegerField(_("计划节数"))
    leader = models.ForeignKey(
        SocialWorker,
        verbose_name=_("带领社工"),
        on_delete=models.PROTECT,
        related_name="groups_led",
    )
    co_leaders = models.ManyToManyField(
        SocialWorker, verbose_name=_("协同带领"), blank=True, related_name="groups_co_led"
    )
    community = models.ForeignKey(
        Community, verbose_name=_("所在社区"), on_delete=models.PROTECT, related_name="groups"
    )
    project = models.ForeignKey(
        ServiceProject,
        verbose_name=_("服务项目"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="groups",
    )
    scale_name = models.CharField(
        _("测量量表"), max_length=100, help_text=_("前测、后测使用的量表，例如：社会支持评定量表")
    )
    scale_min = models.DecimalField(_("量表最低分"), max_digits=7, decimal_places=2)
    scale_max = models.DecimalField(_("量表最高分"), max_digits=7, decimal_places=2)
    higher_is_better = models.BooleanField(
        _("得分越高越好"), default=True, help_text=_("不勾选表示得分越低越好（例如焦虑量表）")
    )
    phase = models.CharField(
        _("阶段"),
        max_length=12,
        choices=GroupPhase.choices,
        default=GroupPhase.PREPARATION,
        db_index=True,
    )
    phase_changed_at = models.DateTimeField(_("进入本阶段时间"), default=timezone.now)
    evaluation = models.TextField(_("带领者评估"), blank=True)
    evaluated_at = models.DateTimeField(_("评估时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        User, verbose_name=_("创建人"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = GroupQuerySet.as_manager()

    class Meta:
        verbose_name = _("小组")
        verbose_name_plural = _("小组")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scale_max__gt=F("scale_min")),
                name="group_scale_max_above_min",
                violation_error_message=_("量表最高分须大于最低分。"),
            ),
            models.CheckConstraint(
                condition=Q(planned_sessions__gte=1, planned_sessions__lte=100),
                name="group_planned_sessions_range",
                violation_error_message=_("计划节数应在 1 至 100 之间。"),
            ),
            models.CheckConstraint(
                condition=Q(evaluation="") | Q(phase="ending"),
                name="group_evaluation_in_ending",
                violation_error_message=_("带领者评估只能在结束期填写。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("delivery:group_detail", args=[self.pk])

    @property
    def next_phase(self) -> str | None:
        i = GROUP_PHASE_ORDER.index(self.phase)
        return GROUP_PHASE_ORDER[i + 1] if i + 1 < len(GROUP_PHASE_ORDER) else None

    @property
    def next_phase_label(self) -> str:
        nxt = self.next_phase
        return str(GroupPhase(nxt).label) if nxt else ""

    def phase_index(self) -> int:
        return GROUP_PHASE_ORDER.index(self.phase)

    def in_range(self, score: Any) -> bool:
        return bool(self.scale_min <= score <= self.scale_max)


class GroupMemberStatus(models.TextChoices):
    APPLIED = "applied", _("报名")
    ENROLLED = "enrolled", _("入组")
    WITHDRAWN = "withdrawn", pgettext_lazy("小组成员", "退出")


class GroupMemberQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        return group_q(scope, "group__")

    def enrolled(self) -> GroupMemberQuerySet:
        return self.filter(status=GroupMemberStatus.ENROLLED)


class GroupMember(AuditedModel):
    """组员: one person recruited into one group, with the pre-test and post-test scores."""

    group = models.ForeignKey(
        Group, verbose_name=_("小组"), on_delete=models.CASCADE, related_name="members"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("组员"), on_delete=models.PROTECT, related_name="group_memberships"
    )
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=GroupMemberStatus.choices,
        default=GroupMemberStatus.APPLIED,
    )
    consent = models.BooleanField(
        _("知情同意"), default=False, help_text=_("组员已知悉小组目标、保密原则并同意参加")
    )
    applied_on = models.DateField(_("报名日期"), default=timezone.localdate)
    withdrawn_reason = models.CharField(_("退出原因"), max_length=200, blank=True)
    pre_score = models.DecimalField(
        _("前测得分"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    post_score = models.DecimalField(
        _("后测得分"), max_digits=7, decimal_places=2, null=True, blank=True
    )

    objects = GroupMemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("小组组员")
        verbose_name_plural = _("小组组员")
        ordering = ["group", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["group", "person"], name="groupmember_once_per_group"),
            models.CheckConstraint(
                condition=Q(status="applied") | Q(consent=True),
                name="groupmember_enrolled_has_consent",
                violation_error_message=_("组员须知情同意后才能入组。"),
            ),
            models.CheckConstraint(
                condition=~Q(status="withdrawn") | ~Q(withdrawn_reason=""),
                name="groupmember_withdrawn_has_reason",
                violation_error_message=_("请填写退出原因。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group} · {self.person}"

    @property
    def change(self) -> Any:
        """Post − pre (None until both are entered)."""
        if self.pre_score is None or self.post_score is None:
            return None
        return self.post_score - self.pre_score


class GroupSessionQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        return group_q(scope, "group__")

    def held(self) -> GroupSessionQuerySet:
        """Sessions that took place (recorded for today or a past day)."""
        return self.filter(held_on__lte=timezone.localdate())


class GroupSession(AuditedModel):
    """节次: one meeting of the group."""

    group = models.ForeignKey(
        Group, verbose_name=_("小组"), on_delete=models.CASCADE, related_name="sessions"
    )
    number = models.PositiveSmallIntegerField(_("节次"))
    held_on = models.DateField(_("日期"), db_index=True)
    starts_at = models.TimeField(_("开始时间"))
    ends_at = models.TimeField(_("结束时间"))
    venue = models.ForeignKey(
        Venue,
        verbose_name=_("场地"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="group_sessions",
    )
    theme = models.CharField(_("主题"), max_length=200)
    activities = models.TextField(_("活动内容"), blank=True)
    notes = models.TextField(_("过程记录"), blank=True)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("记录人"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = GroupSessionQuerySet.as_manager()

    class Meta:
        verbose_name = _("小组节次")
        verbose_name_plural = _("小组节次")
        ordering = ["group", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "number"],
                name="groupsession_number_once_per_group",
                violation_error_message=_("该节次已记录。"),
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="groupsession_ends_after_start",
                violation_error_message=_("结束时间须晚于开始时间。"),
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="groupsession_number_positive"),
        ]

    def __str__(self) -> str:
        return str(_("%(group)s 第%(n)s节") % {"group": self.group, "n": self.number})

    def get_absolute_url(self) -> str:
        return reverse("delivery:group_session_edit", args=[self.group_id, self.pk])


class GroupAttendanceStatus(models.TextChoices):
    PRESENT = "present", _("出席")
    LATE = "late", _("迟到")
    ABSENT = "absent", _("缺席")


# Statuses that count as having attended.
GROUP_ATTENDED = (GroupAttendanceStatus.PRESENT, GroupAttendanceStatus.LATE)


class GroupAttendanceQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        return group_q(scope, "session__group__")

    def attended(self) -> GroupAttendanceQuerySet:
        return self.filter(status__in=GROUP_ATTENDED)


class GroupAttendance(AuditedModel):
    """签到: whether one member came to one session."""

    session = models.ForeignKey(
        GroupSession, verbose_name=_("节次"), on_delete=models.CASCADE, related_name="attendance"
    )
    member = models.ForeignKey(
        GroupMember, verbose_name=_("组员"), on_delete=models.CASCADE, related_name="attendance"
    )
    status = models.CharField(_("出勤"), max_length=8, choices=GroupAttendanceStatus.choices)

    objects = GroupAttendanceQuerySet.as_manager()

    class Meta:
        verbose_name = _("小组签到")
        verbose_name_plural = _("小组签到")
        ordering = ["session", "member"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "member"], name="groupattendance_once_per_session"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session} · {self.member.person} · {self.get_status_display()}"
