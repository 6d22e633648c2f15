"""What 数据分析 keeps: community tier assessments (entropy-weight TOPSIS) and the decisions
on their proposals, budget allocation scenarios, pilot batches with their indicators and
values, and each area's fairness alert settings. Everything else it reads from the links."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sanlian.core.audit import AuditedModel
from sanlian.core.models import User
from sanlian.core.scoping import AREA_ROLES, NOTHING, Scope, ScopedQuerySet, path_q
from sanlian.organizations.models import Community, Organization, Tier
from sanlian.resources.models import ProjectCall
from sanlian.resources.money import MoneyField

SHARE = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))]


class AreaScopedQuerySet(ScopedQuerySet):
    """Rows of an area (through `area`): seen by the area roles of that area and above."""

    area_field = "area"

    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None and scope.has(*AREA_ROLES):
            return path_q(scope, f"{self.area_field}__path")
        return NOTHING


class ChildOfAreaQuerySet(AreaScopedQuerySet):
    area_field = ""


# ---- community tiers ---------------------------------------------------------------------------


class TierAssessment(AuditedModel):
    """社区分类评估: one run of entropy-weight TOPSIS over the communities of an area."""

    area = models.ForeignKey(
        Organization, verbose_name=_("评估范围"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("名称"), max_length=100)
    # [{"key", "label", "benefit"}] in the order of the matrix columns.
    indicators = models.JSONField(_("指标"), default=list)
    # {"key": {"weight", "entropy", "divergence"}}, and the indicators left out with why.
    weights = models.JSONField(_("权重"), default=dict)
    notes = models.JSONField(_("说明"), default=list, blank=True)
    star_share = models.DecimalField(
        _("明星社区比例"), max_digits=4, decimal_places=3, validators=SHARE
    )
    weak_share = models.DecimalField(
        _("薄弱社区比例"), max_digits=4, decimal_places=3, validators=SHARE
    )
    star_from = models.DecimalField(_("明星分数线"), max_digits=7, decimal_places=5)
    weak_below = models.DecimalField(_("薄弱分数线"), max_digits=7, decimal_places=5)
    created_by = models.ForeignKey(
        User, verbose_name=_("评估人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("评估时间"), auto_now_add=True)

    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("社区分类评估")
        verbose_name_plural = _("社区分类评估")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("insights:tier_detail", args=[self.pk])


class TierDecision(models.TextChoices):
    PENDING = "", _("待决定")
    ACCEPTED = "accepted", _("采纳建议")
    OVERRIDDEN = "overridden", _("另行确定")


class TierProposalQuerySet(ChildOfAreaQuerySet):
    area_field = "assessment__area"


class TierProposal(AuditedModel):
    """One community's score, rank and proposed tier in an assessment, and the decision."""

    assessment = models.ForeignKey(
        TierAssessment, verbose_name=_("评估"), on_delete=models.CASCADE, related_name="proposals"
    )
    community = models.ForeignKey(
        Community, verbose_name=_("社区"), on_delete=models.PROTECT, related_name="+"
    )
    score = models.DecimalField(_("得分"), max_digits=7, decimal_places=5)
    rank = models.PositiveIntegerField(_("排名"))
    tier_before = models.CharField(_("原分类"), max_length=10, choices=Tier.choices)
    proposed_tier = models.CharField(_("建议分类"), max_length=10, choices=Tier.choices)
    # Indicator by indicator: raw value, weighted normalised value, distance contributions.
    explanation = models.JSONField(_("得分说明"), default=list)
    decision = models.CharField(
        _("决定"), max_length=12, choices=TierDecision.choices, default="", blank=True
    )
    decided_tier = models.CharField(_("确定分类"), max_length=10, choices=Tier.choices, blank=True)
    reason = models.CharField(_("理由"), max_length=300, blank=True)
    decided_by = models.ForeignKey(
        User,
        verbose_name=_("决定人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)

    objects = TierProposalQuerySet.as_manager()

    class Meta:
        verbose_name = _("社区分类建议")
        verbose_name_plural = _("社区分类建议")
        ordering = ["assessment", "rank", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "community"], name="tier_proposal_once_per_community"
            ),
            models.CheckConstraint(
                condition=Q(decision="") | ~Q(decided_tier=""),
                name="tier_decision_has_tier",
            ),
            models.CheckConstraint(
                condition=~Q(decision="overridden") | ~Q(reason=""),
                name="tier_override_has_reason",
                violation_error_message=_("另行确定分类须说明理由。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assessment_id}:{self.community_id}"


# ---- budget allocation -------------------------------------------------------------------------


class AllocationScenario(AuditedModel):
    """预算分配方案: a budget, the candidates (the applications of a call) and the rules; the
    solved result and the two baselines are kept with it so scenarios can be compared."""

    area = models.ForeignKey(
        Organization, verbose_name=_("资金层级"), on_delete=models.PROTECT, related_name="+"
    )
    call = models.ForeignKey(
        ProjectCall,
        verbose_name=_("项目指南"),
        on_delete=models.PROTECT,
        related_name="allocation_scenarios",
    )
    name = models.CharField(_("方案名称"), max_length=100)
    budget = MoneyField(_("预算（元）"))
    max_community_share = models.DecimalField(
        _("单个社区上限（占预算比例）"),
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
        validators=SHARE,
    )
    weak_floor = models.DecimalField(
        _("薄弱社区下限（占预算比例）"),
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
        validators=SHARE,
    )
    max_per_org = MoneyField(_("单个机构上限（元）"), null=True, blank=True)
    must_fund = models.JSONField(_("必须资助"), default=list, blank=True)
    must_not_fund = models.JSONField(_("不予资助"), default=list, blank=True)
    # The solved allocation, the baselines and their fairness figures (see services).
    result = models.JSONField(_("结果"), default=dict, blank=True)
    created_by = models.ForeignKey(
        User, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("预算分配方案")
        verbose_name_plural = _("预算分配方案")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(budget__gt=0),
                name="allocation_budget_positive",
                violation_error_message=_("预算须大于 0。"),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("insights:allocation_detail", args=[self.pk])


# ---- pilots ------------------------------------------------------------------------------------


class PilotBatch(AuditedModel):
    """试点批次: the communities that try the model from a date, compared with comparable
    communities that do not."""

    area = models.ForeignKey(
        Organization, verbose_name=_("所属层级"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("批次名称"), max_length=100)
    starts_on = models.DateField(_("开始日期"))
    pilots = models.ManyToManyField(Community, verbose_name=_("试点社区"), related_name="+")
    comparisons = models.ManyToManyField(
        Community, verbose_name=_("对照社区"), related_name="+", blank=True
    )
    note = models.TextField(_("说明"), blank=True)
    created_by = models.ForeignKey(
        User, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("试点批次")
        verbose_name_plural = _("试点批次")
        ordering = ["-starts_on", "-pk"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("insights:pilot_detail", args=[self.pk])


class PilotIndicatorQuerySet(ChildOfAreaQuerySet):
    area_field = "batch__area"


class PilotIndicator(AuditedModel):
    batch = models.ForeignKey(
        PilotBatch, verbose_name=_("试点批次"), on_delete=models.CASCADE, related_name="indicators"
    )
    name = models.CharField(_("指标名称"), max_length=100)
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    higher_is_better = models.BooleanField(_("越高越好"), default=True)

    objects = PilotIndicatorQuerySet.as_manager()

    class Meta:
        verbose_name = _("试点指标")
        verbose_name_plural = _("试点指标")
        ordering = ["batch", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "name"], name="pilot_indicator_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Period(models.TextChoices):
    BASELINE = "baseline", _("基线")
    FOLLOW_UP = "follow_up", _("跟进")


class PilotValueQuerySet(ChildOfAreaQuerySet):
    area_field = "indicator__batch__area"


class PilotValue(AuditedModel):
    indicator = models.ForeignKey(
        PilotIndicator, verbose_name=_("指标"), on_delete=models.CASCADE, related_name="values"
    )
    community = models.ForeignKey(
        Community, verbose_name=_("社区"), on_delete=models.PROTECT, related_name="+"
    )
    period = models.CharField(_("期次"), max_length=10, choices=Period.choices)
    value = models.DecimalField(_("数值"), max_digits=14, decimal_places=4)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("录入人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("录入时间"), auto_now=True)

    objects = PilotValueQuerySet.as_manager()

    class Meta:
        verbose_name = _("试点指标值")
        verbose_name_plural = _("试点指标值")
        ordering = ["indicator", "community", "period"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "community", "period"], name="pilot_value_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id}:{self.community_id}:{self.period}"


# ---- fairness alerts ---------------------------------------------------------------------------


class FairnessSettings(AuditedModel):
    """An area's alert thresholds (资源均衡预警); an area without a row uses the defaults."""

    DEFAULT_STAR_SHARE = Decimal("0.40")
    DEFAULT_IDLE_DAYS = 180

    area = models.OneToOneField(
        Organization, verbose_name=_("层级"), on_delete=models.CASCADE, related_name="+"
    )
    star_share_alert = models.DecimalField(
        _("明星社区资源占比预警线"),
        max_digits=4,
        decimal_places=3,
        default=DEFAULT_STAR_SHARE,
        validators=SHARE,
    )
    weak_idle_days = models.PositiveIntegerField(
        _("薄弱社区无资源预警天数"), default=DEFAULT_IDLE_DAYS
    )

    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("资源均衡预警设置")
        verbose_name_plural = _("资源均衡预警设置")

    def __str__(self) -> str:
        return str(self.area)


# ---- dashboard rollups -------------------------------------------------------------------------


class DashboardSnapshot(models.Model):
    """数据看板快照: the figures of one area's dashboard, computed by a background task so that
    the page of a large area reads one row instead of aggregating millions. Derived data: it
    is recomputed, never edited, so it carries no audit fields; the page says how old it is.

    `payload` is the pickled figures (`services.snapshots`), written only by that task; a
    payload of another `version` (the figures' shape changed) is ignored and recomputed."""

    area = models.OneToOneField(
        Organization, verbose_name=_("层级"), on_delete=models.CASCADE, related_name="+"
    )
    computed_at = models.DateTimeField(_("统计时间"))
    seconds = models.FloatField(_("统计用时（秒）"))
    version = models.PositiveIntegerField(_("格式版本"))
    payload = models.BinaryField(_("统计结果"))

    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("数据看板快照")
        verbose_name_plural = _("数据看板快照")

    def __str__(self) -> str:
        return f"{self.area_id}@{self.computed_at:%Y-%m-%d %H:%M}"
