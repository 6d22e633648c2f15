"""Residents' demands (诉求): the demand with its routing and lifecycle, its timeline of events,
the routing rules area staff keep, and the corrections staff made to a routing (which the
suggestion learns from).

A demand lies in a community: area roles see it through the community's path; the organisation
it is routed to (its manager and social workers) sees it too, and so does the area above that
organisation; whoever recorded it keeps seeing it. The resident has no account: a secret token
opens a public page with the status and the public reply only."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sanlian.core.audit import AuditedModel
from sanlian.core.models import User
from sanlian.core.roles import Role
from sanlian.core.scoping import NOTHING, Scope, ScopedQuerySet, path_q
from sanlian.organizations.models import Community, Organization
from sanlian.resources.models import ServiceProject

__all__ = [
    "DISPUTE_CATEGORIES",
    "OPEN_STATUSES",
    "Demand",
    "DemandCategory",
    "DemandChannel",
    "DemandEvent",
    "DemandEventKind",
    "DemandStatus",
    "FeedbackBy",
    "RoutingCorrection",
    "RoutingRule",
    "RoutingSource",
]


class DemandCategory(models.TextChoices):
    LABOUR = "labour", _("劳动争议/工资待遇")
    HARDSHIP = "hardship", _("困难帮扶")
    LEGAL = "legal", _("法律咨询")
    PROPERTY = "property", _("物业纠纷")
    NEIGHBOUR = "neighbour", _("邻里纠纷")
    ELDERLY = "elderly", _("养老照护")
    EDUCATION = "education", _("子女教育")
    MENTAL = "mental", _("心理疏导")
    EMPLOYMENT = "employment", _("就业培训")
    OTHER = "other", _("其他")


# Disputes, which can be settled by mediation inside the community (调解在社区).
DISPUTE_CATEGORIES = (DemandCategory.LABOUR, DemandCategory.PROPERTY, DemandCategory.NEIGHBOUR)


class DemandChannel(models.TextChoices):
    PUBLIC_PAGE = "public_page", _("网上提交")
    PHONE = "phone", _("电话")
    WALK_IN = "walk_in", _("来访")
    HOTLINE = "hotline", _("热线")


class DemandStatus(models.TextChoices):
    RECEIVED = "received", _("待受理")
    ACCEPTED = "accepted", _("已受理")
    IN_PROGRESS = "in_progress", _("办理中")
    RESOLVED = "resolved", _("已办结")
    CLOSED = "closed", _("已关闭")
    REJECTED = "rejected", _("不予受理")


# Statuses in which the demand is still being worked on (deadlines run).
OPEN_STATUSES = (DemandStatus.RECEIVED, DemandStatus.ACCEPTED, DemandStatus.IN_PROGRESS)


class RoutingSource(models.TextChoices):
    RULE = "rule", _("规则")
    LEARNED = "learned", _("以往改派")
    MANUAL = "manual", _("人工改派")
    NONE = "none", _("未匹配")


class FeedbackBy(models.TextChoices):
    STAFF = "staff", _("工作人员回访")
    RESIDENT = "resident", _("居民自评")


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _handler_q(scope: Scope, field: str) -> Q:
    """Rows routed (through `field`) to the user's own organisation, for its staff."""
    if scope.org_id is None or scope.is_admin:
        return NOTHING
    if scope.has(Role.SOCIAL_ORG_MANAGER, Role.SOCIAL_WORKER):
        return Q(**{f"{field}_id": scope.org_id})
    return NOTHING


class DemandQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.is_admin or scope.user_id is None:
            return NOTHING
        q = _handler_q(scope, "handler_org") | Q(created_by_id=scope.user_id)
        if scope.area_path is not None:
            q |= path_q(scope, "community__organization__path") | path_q(scope, "handler_org__path")
        return q

    def open(self) -> DemandQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, today: dt.date | None = None) -> DemandQuerySet:
        """Not accepted by the acceptance deadline, or not resolved by the resolution one."""
        day = today or timezone.localdate()
        return self.filter(
            Q(status=DemandStatus.RECEIVED, accept_due__lt=day)
            | Q(
                status__in=(DemandStatus.ACCEPTED, DemandStatus.IN_PROGRESS),
                resolve_due__lt=day,
            )
        )


class Demand(AuditedModel):
    """诉求: what a resident asked for, where it was routed, and how it ended."""

    community = models.ForeignKey(
        Community, verbose_name=_("社区"), on_delete=models.PROTECT, related_name="demands"
    )
    category = models.CharField(
        _("类别"), max_length=16, choices=DemandCategory.choices, db_index=True
    )
    channel = models.CharField(_("来源渠道"), max_length=16, choices=DemandChannel.choices)
    description = models.TextField(_("诉求内容"), max_length=2000)
    resident_name = models.CharField(_("居民姓名"), max_length=50)
    resident_phone = models.CharField(_("联系电话"), max_length=11)
    handler_org = models.ForeignKey(
        Organization,
        verbose_name=_("承办组织"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="demands_handled",
    )
    routing_source = models.CharField(
        _("分派依据"), max_length=10, choices=RoutingSource.choices, default=RoutingSource.NONE
    )
    routing_note = models.CharField(_("分派说明"), max_length=300, blank=True)
    project = models.ForeignKey(
        ServiceProject,
        verbose_name=_("服务项目"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="demands",
    )
    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=DemandStatus.choices,
        default=DemandStatus.RECEIVED,
        db_index=True,
    )
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)
    accept_due = models.DateField(_("受理期限"))
    resolve_due = models.DateField(_("办结期限"))
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    resolution = models.TextField(_("办理结果"), max_length=2000, blank=True)
    public_reply = models.TextField(_("答复居民"), max_length=1000, blank=True)
    resolved_in_community = models.BooleanField(_("调解在社区"), default=False)
    reject_reason = models.CharField(_("不予受理原因"), max_length=300, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("满意度"), null=True, blank=True)
    feedback_by = models.CharField(
        _("评价方式"), max_length=10, choices=FeedbackBy.choices, blank=True
    )
    feedback_comment = models.CharField(_("评价意见"), max_length=500, blank=True)
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    created_by = models.ForeignKey(
        User,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = DemandQuerySet.as_manager()

    class Meta:
        verbose_name = _("诉求")
        verbose_name_plural = _("诉求")
        ordering = ["-received_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "accept_due"], name="demand_status_accept_due"),
            models.Index(fields=["status", "resolve_due"], name="demand_status_resolve_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True)
                | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="demand_satisfaction_1_to_5",
                violation_error_message=_("满意度须为 1 至 5 分。"),
            ),
            models.CheckConstraint(
                condition=~Q(status=DemandStatus.CLOSED) | Q(satisfaction__isnull=False),
                name="demand_closed_has_satisfaction",
                violation_error_message=_("关闭诉求须有居民的满意度评价。"),
            ),
            models.CheckConstraint(
                condition=~Q(status=DemandStatus.REJECTED) | ~Q(reject_reason=""),
                name="demand_rejected_has_reason",
                violation_error_message=_("不予受理须说明原因。"),
            ),
            models.CheckConstraint(
                condition=Q(resolved_in_community=False)
                | Q(category__in=[c.value for c in DISPUTE_CATEGORIES]),
                name="demand_mediation_only_for_disputes",
                violation_error_message=_("只有纠纷类诉求可以标记为“调解在社区”。"),
            ),
            models.CheckConstraint(
                condition=Q(resolve_due__gte=models.F("accept_due")),
                name="demand_resolve_due_after_accept_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.get_category_display()}"

    def get_absolute_url(self) -> str:
        return reverse("delivery:demand_detail", args=[self.pk])

    def public_url(self) -> str:
        return reverse("delivery:demand_status", args=[self.token])

    @property
    def number(self) -> str:
        """The reference a resident is told on the phone: SQ + date received + id."""
        day = timezone.localtime(self.received_at).date() if self.received_at else None
        return f"SQ{day:%Y%m%d}-{self.pk or 0:05d}" if day else f"SQ-{self.pk or 0:05d}"

    @property
    def is_dispute(self) -> bool:
        return self.category in DISPUTE_CATEGORIES

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def overdue_label(self, today: dt.date | None = None) -> str:
        """ "受理超期" / "办结超期", or "" when on time or no longer open."""
        day = today or timezone.localdate()
        if self.status == DemandStatus.RECEIVED and self.accept_due < day:
            return str(_("受理超期"))
        if (
            self.status in (DemandStatus.ACCEPTED, DemandStatus.IN_PROGRESS)
            and self.resolve_due < day
        ):
            return str(_("办结超期"))
        return ""

    @property
    def is_overdue(self) -> bool:
        return bool(self.overdue_label())


class DemandEventKind(models.TextChoices):
    SUBMITTED = "submitted", _("居民提交")
    RECORDED = "recorded", _("登记")
    ROUTED = "routed", _("分派")
    REROUTED = "rerouted", _("改派")
    ACCEPTED = "accepted", _("受理")
    STARTED = "started", _("开始办理")
    RESOLVED = "resolved", _("办结")
    CLOSED = "closed", _("回访关闭")
    REJECTED = "rejected", _("不予受理")
    NOTE = "note", _("备注")


class DemandEventQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        return Q(demand__in=Demand.objects.filter(Demand.objects.all().scope_q(scope)).values("pk"))


class DemandEvent(AuditedModel):
    """One line of a demand's timeline: who did what, when (written by the services only)."""

    demand = models.ForeignKey(
        Demand, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("事件"), max_length=12, choices=DemandEventKind.choices)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    actor = models.ForeignKey(
        User,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The actor as shown in the timeline ("居民" when the resident acted through the link).
    actor_name = models.CharField(_("操作人"), max_length=100)
    from_status = models.CharField(_("原状态"), max_length=12, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12, blank=True)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("承办组织"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.TextField(_("说明"), max_length=2000, blank=True)

    objects = DemandEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("诉求办理记录")
        verbose_name_plural = _("诉求办理记录")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.demand_id} {self.get_kind_display()}"


class RoutingRuleQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        """Area roles: the rules made in their area, and those of the levels above that apply
        to it. Nobody else (the rules are the area's own bookkeeping)."""
        if scope.area_path is None or scope.is_admin:
            return NOTHING
        above = [int(p) for p in scope.area_path.strip("/").split("/") if p]
        return path_q(scope, "owner__path") | Q(owner_id__in=above)

    def active(self) -> RoutingRuleQuerySet:
        return self.filter(is_active=True)

    def applying_to(self, community: Community, category: str) -> RoutingRuleQuerySet:
        """Active rules of the category made at or above the community, for it, for its
        street, or for the whole area of their maker."""
        return self.active().filter(
            Q(community=community)
            | Q(community__isnull=True, street_id=community.street_id)
            | Q(community__isnull=True, street__isnull=True),
            category=category,
            owner_id__in=community.organization.ancestor_ids(),
            organization__is_active=True,
        )


class RoutingRule(AuditedModel):
    """分派规则: demands of a category (in a community, a street, or the whole area of the
    level that made the rule) go to an organisation."""

    owner = models.ForeignKey(
        Organization,
        verbose_name=_("制定单位"),
        on_delete=models.PROTECT,
        related_name="demand_rules_made",
    )
    category = models.CharField(_("类别"), max_length=16, choices=DemandCategory.choices)
    community = models.ForeignKey(
        Community,
        verbose_name=_("社区"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    street = models.ForeignKey(
        Organization,
        verbose_name=_("街道"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("承办组织"),
        on_delete=models.PROTECT,
        related_name="demand_rules",
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(
        User, verbose_name=_("制定人"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("制定时间"), auto_now_add=True)

    objects = RoutingRuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("分派规则")
        verbose_name_plural = _("分派规则")
        ordering = ["category", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(community__isnull=True) | Q(street__isnull=True),
                name="routing_rule_community_or_street",
                violation_error_message=_("规则只能指定社区或街道之一。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} → {self.organization}"

    @property
    def where(self) -> Any:
        return self.community or self.street or self.owner


class RoutingCorrectionQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        return Q(demand__in=Demand.objects.filter(Demand.objects.all().scope_q(scope)).values("pk"))


class RoutingCorrection(models.Model):
    """改派: staff sent a demand to another organisation than the one it was routed to. The
    category, community and street are copied so that the suggestion can count what staff
    chose for similar demands, whatever happens to the demand later."""

    demand = models.ForeignKey(
        Demand, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="corrections"
    )
    category = models.CharField(_("类别"), max_length=16, choices=DemandCategory.choices)
    community = models.ForeignKey(
        Community, verbose_name=_("社区"), on_delete=models.PROTECT, related_name="+"
    )
    street = models.ForeignKey(
        Organization, verbose_name=_("街道"), on_delete=models.PROTECT, related_name="+"
    )
    from_org = models.ForeignKey(
        Organization,
        verbose_name=_("原承办组织"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    to_org = models.ForeignKey(
        Organization, verbose_name=_("改派至"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("改派原因"), max_length=300)
    by = models.ForeignKey(
        User, verbose_name=_("改派人"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField(_("改派时间"), default=timezone.now)

    objects = RoutingCorrectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("改派记录")
        verbose_name_plural = _("改派记录")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["category", "community", "-at"], name="correction_cat_comm"),
            models.Index(fields=["category", "street", "-at"], name="correction_cat_street"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="routing_correction_has_reason",
                violation_error_message=_("请填写改派原因。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.demand_id} → {self.to_org_id}"
