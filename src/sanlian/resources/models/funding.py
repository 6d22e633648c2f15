"""Budget pools (购买服务资金池), project calls (项目指南) with their criteria and reviewers,
applications (申报) with their budget lines, and reviews (评审) with scores per criterion."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sanlian.core.audit import AuditedModel
from sanlian.core.models import User, VersionedModel
from sanlian.core.roles import Role
from sanlian.core.scoping import NOTHING, Scope, ScopedQuerySet, path_q
from sanlian.organizations.models import (
    Community,
    Organization,
    OrgKind,
    ServiceField,
    SocialWorker,
    Tier,
)

from ..money import ZERO, MoneyField

# The levels that fund purchase of services, and the roles of their staff.
FUNDER_KINDS = (OrgKind.FEDERATION, OrgKind.DISTRICT_UNION, OrgKind.STREET_UNION)
FUNDER_ROLES = frozenset({Role.FEDERATION_STAFF, Role.AREA_STAFF})
APPLICANT_ROLES = frozenset({Role.SOCIAL_ORG_MANAGER})


class ChildScopedQuerySet(ScopedQuerySet):
    """Rows visible exactly when their parent (through `parent_field`) is: criteria with
    their call, scores with their review, milestones with their project."""

    parent_field = ""

    def scope_q(self, scope: Scope) -> Q:
        parent: Any = self.model._meta.get_field(self.parent_field).related_model
        visible = parent.objects.all().scope_q(scope)
        return Q(**{f"{self.parent_field}__in": parent.objects.filter(visible).values("pk")})


def _ancestor_of_org(scope: Scope, owner_path: str) -> Exists:
    """The row's funding level (its path through `owner_path`) is above the user's own
    organisation: a social organisation answers calls of the levels above it."""
    return Exists(
        Organization.objects.filter(pk=scope.org_id or 0, path__startswith=OuterRef(owner_path))
    )


# ---- pools ---------------------------------------------------------------------------------


class BudgetPoolQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None and scope.has(*FUNDER_ROLES):
            return path_q(scope, "owner__path")
        return NOTHING

    def for_year(self, year: int) -> BudgetPoolQuerySet:
        return self.filter(year=year)


class BudgetPool(AuditedModel, VersionedModel):
    """A funding level's annual money for purchase of services, optionally earmarked.

    The running totals are kept on the row and moved only by the services, under a row lock;
    the CHECK constraints make an overspend impossible whatever the code does:
    disbursed ≤ contracted ≤ allocated ≤ amount."""

    owner = models.ForeignKey(
        Organization,
        verbose_name=_("资金层级"),
        on_delete=models.PROTECT,
        related_name="budget_pools",
        limit_choices_to={"kind__in": FUNDER_KINDS},
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    name = models.CharField(_("名称"), max_length=100)
    amount = MoneyField(_("资金总额（元）"))
    service_field = models.CharField(
        _("限定服务领域"),
        max_length=20,
        choices=ServiceField.choices,
        blank=True,
        help_text=_("留空表示不限"),
    )
    tier = models.CharField(
        _("限定社区类别"),
        max_length=10,
        choices=Tier.choices,
        blank=True,
        help_text=_("例如专门用于薄弱社区；留空表示不限"),
    )
    # Reserved by award decisions (a contract's amount once signed), contracted, paid out.
    allocated = MoneyField(_("已分配（元）"), default=ZERO, editable=False)
    contracted = MoneyField(_("已签约（元）"), default=ZERO, editable=False)
    disbursed = MoneyField(_("已拨付（元）"), default=ZERO, editable=False)
    note = models.TextField(_("说明"), blank=True)

    objects = BudgetPoolQuerySet.as_manager()

    class Meta:
        verbose_name = _("资金池")
        verbose_name_plural = _("资金池")
        ordering = ["-year", "owner__path", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "year", "name"],
                name="pool_unique_name",
                violation_error_message=_("该层级本年度已有同名资金池。"),
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="pool_amount_not_negative",
                violation_error_message=_("资金总额不能为负数。"),
            ),
            models.CheckConstraint(
                condition=Q(allocated__gte=0) & Q(allocated__lte=F("amount")),
                name="pool_allocated_within_amount",
                violation_error_message=_("分配总额超过资金池总额。"),
            ),
            models.CheckConstraint(
                condition=Q(contracted__gte=0) & Q(contracted__lte=F("allocated")),
                name="pool_contracted_within_allocated",
                violation_error_message=_("签约总额超过已分配额。"),
            ),
            models.CheckConstraint(
                condition=Q(disbursed__gte=0) & Q(disbursed__lte=F("contracted")),
                name="pool_disbursed_within_contracted",
                violation_error_message=_("拨付总额超过签约总额。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("resources:pool_detail", args=[self.pk])

    @property
    def remaining(self) -> Decimal:
        """What is still free to award."""
        return self.amount - self.allocated


# ---- calls ---------------------------------------------------------------------------------


class CallStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    OPEN = "open", _("征集中")
    REVIEWING = "reviewing", _("评审中")
    DECIDED = "decided", _("已立项")
    CANCELLED = "cancelled", _("已撤销")


class ProjectCallQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            # Calls of the user's levels, and calls that target one of its communities.
            return path_q(scope, "pool__owner__path") | Q(
                pk__in=ProjectCall.communities.through.objects.filter(
                    community__organization__path__startswith=scope.area_path
                ).values("projectcall_id")
            ) & ~Q(status=CallStatus.DRAFT)
        if scope.org_id is None or scope.is_admin:
            return NOTHING
        q = NOTHING
        if scope.has(Role.SOCIAL_ORG_MANAGER, Role.SOCIAL_WORKER):
            # Published calls of the levels above the organisation.
            q |= Q(_ancestor_of_org(scope, "pool__owner__path")) & ~Q(status=CallStatus.DRAFT)
        if scope.has(Role.EVALUATOR) and scope.user_id is not None:
            q |= Q(pk__in=CallReviewer.objects.filter(reviewer_id=scope.user_id).values("call"))
        return q

    def published(self) -> ProjectCallQuerySet:
        return self.exclude(status__in=[CallStatus.DRAFT, CallStatus.CANCELLED])


class ProjectCall(AuditedModel, VersionedModel):
    """项目指南: what a level wants to buy, for which communities, up to what amount.

    Needs (服务联动): a call answers surveyed needs. `delivery.models.surveys.CallNeedLink` ties a
    survey's need (an option of a need question) to a call, and the surveys part registers a
    provider with `services.funding.register_call_needs`; the call page shows them under
    回应的需求."""

    pool = models.ForeignKey(
        BudgetPool, verbose_name=_("资金池"), on_delete=models.PROTECT, related_name="calls"
    )
    code = models.CharField(_("指南编号"), max_length=30, unique=True)
    title = models.CharField(_("名称"), max_length=200)
    service_field = models.CharField(_("服务领域"), max_length=20, choices=ServiceField.choices)
    description = models.TextField(_("项目需求说明"), blank=True)
    communities = models.ManyToManyField(
        Community, verbose_name=_("服务社区"), related_name="project_calls", blank=True
    )
    budget_ceiling = MoneyField(_("单个项目资助上限（元）"))
    total_budget = MoneyField(_("本指南计划资金（元）"))
    max_months = models.PositiveSmallIntegerField(_("项目周期上限（月）"), default=12)
    opens_at = models.DateTimeField(_("申报开始"), null=True, blank=True)
    deadline = models.DateTimeField(_("申报截止"))
    status = models.CharField(
        _("状态"), max_length=12, choices=CallStatus.choices, default=CallStatus.DRAFT
    )
    decided_at = models.DateTimeField(_("立项时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        User, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = ProjectCallQuerySet.as_manager()

    class Meta:
        verbose_name = _("项目指南")
        verbose_name_plural = _("项目指南")
        ordering = ["-deadline", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(budget_ceiling__gt=0) & Q(budget_ceiling__lte=F("total_budget")),
                name="call_ceiling_within_total",
                violation_error_message=_("单个项目资助上限须大于 0 且不超过计划资金。"),
            ),
            models.CheckConstraint(
                condition=Q(max_months__gte=1) & Q(max_months__lte=36),
                name="call_term_at_most_three_years",
                violation_error_message=_("项目周期为 1 至 36 个月。"),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("resources:call_detail", args=[self.pk])

    @property
    def year(self) -> int:
        return self.pool.year


class CallCriterionQuerySet(ChildScopedQuerySet):
    parent_field = "call"


class CallCriterion(models.Model):
    """A criterion of a call's review with its weight (the weights of a call add up to 100)."""

    call = models.ForeignKey(
        ProjectCall, verbose_name=_("项目指南"), on_delete=models.CASCADE, related_name="criteria"
    )
    seq = models.PositiveSmallIntegerField(_("序号"))
    name = models.CharField(_("评审指标"), max_length=100)
    description = models.CharField(_("评分说明"), max_length=300, blank=True)
    weight = models.PositiveSmallIntegerField(_("权重（%）"))

    objects = CallCriterionQuerySet.as_manager()

    class Meta:
        verbose_name = _("评审指标")
        verbose_name_plural = _("评审指标")
        ordering = ["call", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["call", "seq"], name="criterion_unique_seq"),
            models.CheckConstraint(
                condition=Q(weight__gte=1) & Q(weight__lte=100),
                name="criterion_weight_range",
                violation_error_message=_("权重为 1 至 100。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.weight}%）"


class CallReviewerQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        q = NOTHING
        if scope.user_id is not None and not scope.is_admin:
            q |= Q(reviewer_id=scope.user_id)
        if scope.area_path is not None and scope.has(*FUNDER_ROLES):
            q |= path_q(scope, "call__pool__owner__path")
        return q


class CallReviewer(AuditedModel):
    """An expert who scores a call's applications (staff of the funding level or a
    third-party evaluator)."""

    call = models.ForeignKey(
        ProjectCall, verbose_name=_("项目指南"), on_delete=models.CASCADE, related_name="reviewers"
    )
    reviewer = models.ForeignKey(
        User, verbose_name=_("评审专家"), on_delete=models.PROTECT, related_name="review_calls"
    )
    added_at = models.DateTimeField(_("加入时间"), auto_now_add=True)

    objects = CallReviewerQuerySet.as_manager()

    class Meta:
        verbose_name = _("评审专家")
        verbose_name_plural = _("评审专家")
        ordering = ["call", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["call", "reviewer"],
                name="reviewer_once_per_call",
                violation_error_message=_("该专家已在本指南的评审名单中。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.call} · {self.reviewer}"


# ---- applications --------------------------------------------------------------------------


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    WITHDRAWN = "withdrawn", _("已撤回")
    AWARDED = "awarded", _("已立项")
    REJECTED = "rejected", _("未立项")


class ApplicationQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            if not scope.has(*FUNDER_ROLES, Role.COMMUNITY_CADRE, Role.PARTY_SECRETARY):
                return NOTHING
            # Applications to the user's levels' calls (drafts stay with the applicant).
            return path_q(scope, "call__pool__owner__path") & ~Q(status=ApplicationStatus.DRAFT)
        if scope.org_id is None or scope.is_admin:
            return NOTHING
        q = NOTHING
        if scope.has(Role.SOCIAL_ORG_MANAGER, Role.SOCIAL_WORKER):
            q |= Q(organization_id=scope.org_id)
        if scope.has(Role.EVALUATOR) and scope.user_id is not None:
            q |= Q(
                call__in=CallReviewer.objects.filter(reviewer_id=scope.user_id).values("call")
            ) & ~Q(status=ApplicationStatus.DRAFT)
        return q

    def submitted(self) -> ApplicationQuerySet:
        return self.filter(
            status__in=[
                ApplicationStatus.SUBMITTED,
                ApplicationStatus.AWARDED,
                ApplicationStatus.REJECTED,
            ]
        )


class Application(AuditedModel, VersionedModel):
    """申报: a social organisation's proposal for a call."""

    call = models.ForeignKey(
        ProjectCall,
        verbose_name=_("项目指南"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("申报机构"),
        on_delete=models.PROTECT,
        related_name="applications",
        limit_choices_to={"kind": OrgKind.SOCIAL_ORG},
    )
    title = models.CharField(_("项目名称"), max_length=200)
    proposal = models.TextField(_("项目方案"))
    communities = models.ManyToManyField(
        Community, verbose_name=_("服务社区"), related_name="applications"
    )
    beneficiaries = models.PositiveIntegerField(_("受益人数"))
    beneficiaries_note = models.CharField(_("服务对象说明"), max_length=300, blank=True)
    # [{"kind": "output"|"outcome", "metric": Metric, "name": str, "target": str(Decimal),
    #   "unit": str}]; copied to ProjectIndicator rows when the contract is drawn up.
    indicators = models.JSONField(_("绩效指标"), default=list, blank=True)
    team = models.ManyToManyField(
        SocialWorker, verbose_name=_("项目团队"), related_name="applications", blank=True
    )
    amount = MoneyField(_("申请金额（元）"))
    months = models.PositiveSmallIntegerField(_("项目周期（月）"), default=12)
    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.DRAFT,
        db_index=True,
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        User, verbose_name=_("提交人"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    # The review's result and the award decision.
    average_score = models.DecimalField(
        _("评审平均分"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    rank = models.PositiveSmallIntegerField(_("排名"), null=True, blank=True)
    awarded_amount = MoneyField(_("立项金额（元）"), null=True, blank=True)
    decision_reason = models.TextField(_("立项决定理由"), blank=True)
    decided_by = models.ForeignKey(
        User, verbose_name=_("决定人"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("项目申报")
        verbose_name_plural = _("项目申报")
        ordering = ["call", "rank", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="application_amount_positive",
                violation_error_message=_("申请金额须大于 0。"),
            ),
            models.CheckConstraint(
                condition=Q(awarded_amount__isnull=True)
                | (Q(awarded_amount__gt=0) & Q(awarded_amount__lte=F("amount"))),
                name="application_award_within_request",
                violation_error_message=_("立项金额须大于 0 且不超过申请金额。"),
            ),
            models.CheckConstraint(
                condition=Q(months__gte=1) & Q(months__lte=36),
                name="application_term_at_most_three_years",
                violation_error_message=_("项目周期为 1 至 36 个月。"),
            ),
            # One live application per organisation and call (a withdrawn one may be redone).
            models.UniqueConstraint(
                fields=["call", "organization", "title"],
                condition=~Q(status="withdrawn"),
                name="application_unique_title_per_call",
                violation_error_message=_("本机构已就该指南申报过同名项目。"),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("resources:application_detail", args=[self.pk])


class BudgetLineQuerySet(ChildScopedQuerySet):
    parent_field = "application"


class BudgetLine(models.Model):
    """A line of an application's budget breakdown (预算明细); lines add up to the amount."""

    class Category(models.TextChoices):
        STAFF = "staff", _("人员经费")
        ACTIVITY = "activity", _("活动经费")
        MATERIALS = "materials", _("物资材料")
        TRAINING = "training", _("培训督导")
        ADMIN = "admin", _("管理费用")
        OTHER = "other", _("其他")

    application = models.ForeignKey(
        Application,
        verbose_name=_("项目申报"),
        on_delete=models.CASCADE,
        related_name="budget_lines",
    )
    category = models.CharField(_("科目"), max_length=12, choices=Category.choices)
    item = models.CharField(_("明细"), max_length=200)
    amount = MoneyField(_("金额（元）"))

    objects = BudgetLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("预算明细")
        verbose_name_plural = _("预算明细")
        ordering = ["application", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="budget_line_amount_positive",
                violation_error_message=_("预算金额须大于 0。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.item}"


# ---- reviews -------------------------------------------------------------------------------


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", _("评分中")
    SUBMITTED = "submitted", _("已提交")
    RECUSED = "recused", _("回避")


class ReviewQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        q = NOTHING
        if scope.user_id is not None and not scope.is_admin:
            q |= Q(reviewer_id=scope.user_id)  # one's own reviews
        if scope.area_path is not None and scope.has(*FUNDER_ROLES):
            q |= path_q(scope, "application__call__pool__owner__path")
        return q


class Review(AuditedModel):
    """One reviewer's scoring of one application. A reviewer tied to the applicant declares
    the conflict and recuses (the service also refuses ties it can see itself)."""

    application = models.ForeignKey(
        Application, verbose_name=_("项目申报"), on_delete=models.CASCADE, related_name="reviews"
    )
    reviewer = models.ForeignKey(
        User, verbose_name=_("评审专家"), on_delete=models.PROTECT, related_name="reviews"
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT
    )
    conflict_declared = models.BooleanField(_("存在利益冲突"), default=False)
    conflict_note = models.CharField(_("利益冲突说明"), max_length=300, blank=True)
    total = models.DecimalField(
        _("加权总分"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    comment = models.TextField(_("评审意见"), blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        verbose_name = _("评审")
        verbose_name_plural = _("评审")
        ordering = ["application", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "reviewer"],
                name="review_once_per_reviewer",
                violation_error_message=_("您已评审过该申报。"),
            ),
            models.CheckConstraint(
                condition=Q(total__isnull=True) | (Q(total__gte=0) & Q(total__lte=100)),
                name="review_total_range",
            ),
            # A recused review has no score; a submitted one has.
            models.CheckConstraint(
                condition=~Q(status="recused") | Q(total__isnull=True),
                name="review_recused_unscored",
            ),
            models.CheckConstraint(
                condition=~Q(status="submitted") | Q(total__isnull=False),
                name="review_submitted_scored",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application} · {self.reviewer}"


class ReviewScoreQuerySet(ChildScopedQuerySet):
    parent_field = "review"


class ReviewScore(models.Model):
    review = models.ForeignKey(
        Review, verbose_name=_("评审"), on_delete=models.CASCADE, related_name="scores"
    )
    criterion = models.ForeignKey(
        CallCriterion, verbose_name=_("评审指标"), on_delete=models.PROTECT, related_name="scores"
    )
    score = models.DecimalField(_("得分（百分制）"), max_digits=5, decimal_places=2)

    objects = ReviewScoreQuerySet.as_manager()

    class Meta:
        verbose_name = _("评审得分")
        verbose_name_plural = _("评审得分")
        ordering = ["review", "criterion__seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "criterion"], name="score_once_per_criterion"
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=100),
                name="score_range",
                violation_error_message=_("得分为 0 至 100 分。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.criterion.name}: {self.score}"
