"""Service projects (the contract of an awarded application), their indicators, milestones,
payment tranches, disbursements with their approvals, and evaluations.

The money guarantees hold in the database, whatever the code above it does:
- a project's `disbursed` never exceeds its `amount` (CHECK), and the pool's totals are
  bounded the same way (see `BudgetPool`);
- a tranche has at most one live disbursement (a partial UNIQUE index on tranche where the
  status is requested/approved/paid), so it is never paid twice;
- a request carries a client key (UNIQUE): a retried request finds the first one;
- an approval is unique per (disbursement, approver) and its approver differs from the
  requester (CHECK on the row, which copies the requester).
The services add the row locks (SELECT … FOR UPDATE on the project, then the pool) that
make concurrent approvals queue instead of fail."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sanlian.core.audit import AuditedModel
from sanlian.core.models import User, VersionedModel
from sanlian.core.roles import Role
from sanlian.core.scoping import NOTHING, Scope, ScopedQuerySet, path_q
from sanlian.organizations.models import Community, Organization, OrgKind

from ..money import ZERO, MoneyField
from .funding import Application, BudgetPool, ChildScopedQuerySet, ProjectCall

# ---- projects ------------------------------------------------------------------------------


class ProjectStatus(models.TextChoices):
    DRAFT = "draft", _("待签约")
    ACTIVE = "active", _("执行中")
    CLOSING = "closing", _("结项评估中")
    ACCEPTED = "accepted", _("已结项")
    TERMINATED = "terminated", _("已终止")


class Grade(models.TextChoices):
    EXCELLENT = "excellent", _("优秀")
    GOOD = "good", _("良好")
    PASS = "pass", _("基本合格")
    FAIL = "fail", _("不合格")


def grade_for(score: Decimal) -> str:
    """The usual bands of purchase-of-service evaluation: 90 / 75 / 60."""
    if score >= 90:
        return Grade.EXCELLENT
    if score >= 75:
        return Grade.GOOD
    if score >= 60:
        return Grade.PASS
    return Grade.FAIL


class ServiceProjectQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            # Funded by one of the user's levels, or serving one of its communities.
            return path_q(scope, "pool__owner__path") | Q(
                pk__in=ServiceProject.communities.through.objects.filter(
                    community__organization__path__startswith=scope.area_path
                ).values("serviceproject_id")
            )
        if scope.org_id is None or scope.is_admin:
            return NOTHING
        q = NOTHING
        if scope.has(Role.SOCIAL_ORG_MANAGER, Role.SOCIAL_WORKER):
            q |= Q(organization_id=scope.org_id)
        if scope.has(Role.EVALUATOR):
            assigned = Evaluation.objects.filter(
                Q(evaluator_id=scope.user_id) | Q(evaluator_org_id=scope.org_id)
            )
            q |= Q(pk__in=assigned.values("project"))
        return q

    def running(self) -> ServiceProjectQuerySet:
        return self.filter(status=ProjectStatus.ACTIVE)


class ServiceProject(AuditedModel, VersionedModel):
    """购买服务项目 and its contract: the awarded application, the amount, the period."""

    application = models.OneToOneField(
        Application,
        verbose_name=_("立项申报"),
        on_delete=models.PROTECT,
        related_name="project",
        null=True,
        blank=True,
    )
    call = models.ForeignKey(
        ProjectCall, verbose_name=_("项目指南"), on_delete=models.PROTECT, related_name="projects"
    )
    pool = models.ForeignKey(
        BudgetPool, verbose_name=_("资金池"), on_delete=models.PROTECT, related_name="projects"
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("承接机构"),
        on_delete=models.PROTECT,
        related_name="service_projects",
        limit_choices_to={"kind": OrgKind.SOCIAL_ORG},
    )
    title = models.CharField(_("项目名称"), max_length=200)
    contract_number = models.CharField(_("合同编号"), max_length=40, unique=True)
    communities = models.ManyToManyField(
        Community, verbose_name=_("服务社区"), related_name="service_projects"
    )
    amount = MoneyField(_("合同金额（元）"))
    disbursed = MoneyField(_("已拨付（元）"), default=ZERO, editable=False)
    signed_on = models.DateField(_("签约日期"), null=True, blank=True)
    starts_on = models.DateField(_("服务期起"))
    ends_on = models.DateField(_("服务期止"))
    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=ProjectStatus.choices,
        default=ProjectStatus.DRAFT,
        db_index=True,
    )
    # Set by acceptance (结项): the final evaluation's grade follows the organisation.
    final_score = models.DecimalField(
        _("结项评估得分"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    final_grade = models.CharField(
        _("结项等级"), max_length=10, choices=Grade.choices, blank=True, db_index=True
    )
    accepted_on = models.DateField(_("结项日期"), null=True, blank=True)
    terminated_reason = models.CharField(_("终止原因"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = ServiceProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("服务项目")
        verbose_name_plural = _("服务项目")
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="project_amount_positive",
                violation_error_message=_("合同金额须大于 0。"),
            ),
            models.CheckConstraint(
                condition=Q(disbursed__gte=0) & Q(disbursed__lte=F("amount")),
                name="project_disbursed_within_amount",
                violation_error_message=_("拨付总额超过合同金额。"),
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gt=F("starts_on")),
                name="project_ends_after_start",
                violation_error_message=_("服务期止须晚于服务期起。"),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("resources:project_detail", args=[self.pk])

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.disbursed


class IndicatorKind(models.TextChoices):
    OUTPUT = "output", _("产出指标")
    OUTCOME = "outcome", _("成效指标")


class Metric(models.TextChoices):
    """What an indicator counts. The first five are counted from the services recorded in the
    system once 服务联动 records them (see `services.indicators.register_counter`)."""

    CASES = "cases", _("个案数")
    GROUP_SESSIONS = "group_sessions", _("小组节数")
    ACTIVITIES = "activities", _("社区活动场次")
    BENEFICIARIES = "beneficiaries", _("服务人次")
    SATISFACTION = "satisfaction", _("服务对象满意度（%）")
    VOLUNTEER_HOURS = "volunteer_hours", _("志愿服务时长")
    OTHER = "other", _("其他")


class ProjectIndicatorQuerySet(ChildScopedQuerySet):
    parent_field = "project"


class ProjectIndicator(models.Model):
    """A contract's output or outcome target. `reported` is the organisation's own count,
    used until the metric is counted from recorded services."""

    project = models.ForeignKey(
        ServiceProject,
        verbose_name=_("服务项目"),
        on_delete=models.CASCADE,
        related_name="indicators",
    )
    kind = models.CharField(_("类别"), max_length=8, choices=IndicatorKind.choices)
    metric = models.CharField(_("指标"), max_length=20, choices=Metric.choices)
    name = models.CharField(_("名称"), max_length=100)
    target = models.DecimalField(_("目标值"), max_digits=12, decimal_places=2)
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    reported = models.DecimalField(
        _("机构填报完成值"), max_digits=12, decimal_places=2, null=True, blank=True
    )

    objects = ProjectIndicatorQuerySet.as_manager()

    class Meta:
        verbose_name = _("绩效指标")
        verbose_name_plural = _("绩效指标")
        ordering = ["project", "kind", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="indicator_unique_name"),
            models.CheckConstraint(
                condition=Q(target__gt=0),
                name="indicator_target_positive",
                violation_error_message=_("目标值须大于 0。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name


# ---- milestones and tranches ---------------------------------------------------------------


class MilestoneStatus(models.TextChoices):
    PENDING = "pending", _("待提交")
    REPORTED = "reported", _("已提交")
    ACCEPTED = "accepted", _("已验收")
    RETURNED = "returned", _("退回修改")


class MilestoneQuerySet(ChildScopedQuerySet):
    parent_field = "project"


class Milestone(AuditedModel):
    project = models.ForeignKey(
        ServiceProject,
        verbose_name=_("服务项目"),
        on_delete=models.CASCADE,
        related_name="milestones",
    )
    seq = models.PositiveSmallIntegerField(_("序号"))
    title = models.CharField(_("节点名称"), max_length=100)
    due_on = models.DateField(_("计划完成日期"))
    deliverables = models.TextField(_("交付要求"), blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=MilestoneStatus.choices, default=MilestoneStatus.PENDING
    )
    report = models.TextField(_("完成情况"), blank=True)
    reported_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    reported_by = models.ForeignKey(
        User, verbose_name=_("提交人"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("验收时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        User, verbose_name=_("验收人"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    review_note = models.CharField(_("验收意见"), max_length=300, blank=True)

    objects = MilestoneQuerySet.as_manager()

    class Meta:
        verbose_name = _("项目节点")
        verbose_name_plural = _("项目节点")
        ordering = ["project", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["project", "seq"], name="milestone_unique_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.seq}. {self.title}"


def evidence_path(instance: MilestoneEvidence, filename: str) -> str:
    # The stored name is ours (the user's file name is kept in `name`).
    suffix = filename.rsplit(".", 1)[-1].lower()[:8] if "." in filename else "bin"
    return f"evidence/{instance.milestone.project_id}/{uuid.uuid4().hex}.{suffix}"


class MilestoneEvidenceQuerySet(ChildScopedQuerySet):
    parent_field = "milestone"


class MilestoneEvidence(AuditedModel):
    """A file that shows a milestone's work (sign-in sheets, photos, minutes)."""

    milestone = models.ForeignKey(
        Milestone, verbose_name=_("项目节点"), on_delete=models.CASCADE, related_name="evidence"
    )
    file = models.FileField(_("文件"), upload_to=evidence_path)
    name = models.CharField(_("文件名"), max_length=200)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        User, verbose_name=_("上传人"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    objects = MilestoneEvidenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")
        ordering = ["milestone", "pk"]

    def __str__(self) -> str:
        return self.name


class TrancheQuerySet(ChildScopedQuerySet):
    parent_field = "project"


class Tranche(models.Model):
    """A payment tranche (e.g. 30/40/30) tied to a milestone; the tranches of a project add up
    to its amount (checked by the service that draws up the contract)."""

    project = models.ForeignKey(
        ServiceProject,
        verbose_name=_("服务项目"),
        on_delete=models.CASCADE,
        related_name="tranches",
    )
    seq = models.PositiveSmallIntegerField(_("期次"))
    milestone = models.OneToOneField(
        Milestone, verbose_name=_("对应节点"), on_delete=models.PROTECT, related_name="tranche"
    )
    amount = MoneyField(_("金额（元）"))

    objects = TrancheQuerySet.as_manager()

    class Meta:
        verbose_name = _("拨付期次")
        verbose_name_plural = _("拨付期次")
        ordering = ["project", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["project", "seq"], name="tranche_unique_seq"),
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="tranche_amount_positive",
                violation_error_message=_("每期金额须大于 0。"),
            ),
        ]

    def __str__(self) -> str:
        return str(_("第%(seq)s期") % {"seq": self.seq})


# ---- disbursements -------------------------------------------------------------------------


class DisbursementStatus(models.TextChoices):
    REQUESTED = "requested", _("待审批")
    APPROVED = "approved", _("已批准")
    PAID = "paid", _("已拨付")
    REJECTED = "rejected", _("已驳回")
    CANCELLED = "cancelled", _("已撤销")


LIVE_DISBURSEMENT = (
    DisbursementStatus.REQUESTED,
    DisbursementStatus.APPROVED,
    DisbursementStatus.PAID,
)


class DisbursementQuerySet(ChildScopedQuerySet):
    parent_field = "project"


class Disbursement(AuditedModel):
    """拨付: a tranche's money, requested after its milestone is accepted, approved by the
    funding level (two different approvers above the four-eyes threshold), then paid."""

    tranche = models.ForeignKey(
        Tranche, verbose_name=_("拨付期次"), on_delete=models.PROTECT, related_name="disbursements"
    )
    project = models.ForeignKey(
        ServiceProject,
        verbose_name=_("服务项目"),
        on_delete=models.PROTECT,
        related_name="disbursements",
    )
    amount = MoneyField(_("金额（元）"))
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=DisbursementStatus.choices,
        default=DisbursementStatus.REQUESTED,
        db_index=True,
    )
    # The client's key of the request: a retried submit finds the disbursement it made.
    request_key = models.UUIDField(_("请求标识"), unique=True, default=uuid.uuid4, editable=False)
    approvals_required = models.PositiveSmallIntegerField(_("所需审批人数"), default=1)
    requested_by = models.ForeignKey(
        User, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    note = models.CharField(_("申请说明"), max_length=300, blank=True)
    paid_by = models.ForeignKey(
        User, verbose_name=_("拨付经办人"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    paid_at = models.DateTimeField(_("拨付时间"), null=True, blank=True)
    payment_reference = models.CharField(_("支付凭证号"), max_length=60, blank=True)
    closed_reason = models.CharField(_("驳回/撤销原因"), max_length=300, blank=True)

    objects = DisbursementQuerySet.as_manager()

    class Meta:
        verbose_name = _("拨付")
        verbose_name_plural = _("拨付")
        ordering = ["project", "tranche__seq", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="disbursement_amount_positive",
                violation_error_message=_("拨付金额须大于 0。"),
            ),
            models.CheckConstraint(
                condition=Q(approvals_required__gte=1) & Q(approvals_required__lte=2),
                name="disbursement_approvals_one_or_two",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_at__isnull=False),
                name="disbursement_paid_has_time",
            ),
            models.UniqueConstraint(
                fields=["tranche"],
                condition=Q(status__in=["requested", "approved", "paid"]),
                name="disbursement_one_live_per_tranche",
                violation_error_message=_("该期次已有拨付申请或已拨付，不能重复拨付。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} · {self.tranche}"


class DisbursementApprovalQuerySet(ChildScopedQuerySet):
    parent_field = "disbursement"


class DisbursementApproval(models.Model):
    disbursement = models.ForeignKey(
        Disbursement, verbose_name=_("拨付"), on_delete=models.CASCADE, related_name="approvals"
    )
    approver = models.ForeignKey(
        User, verbose_name=_("审批人"), on_delete=models.PROTECT, related_name="+"
    )
    # The requester, copied so that the database itself refuses a self-approval.
    requested_by = models.ForeignKey(
        User, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("审批时间"), auto_now_add=True)
    comment = models.CharField(_("审批意见"), max_length=300, blank=True)

    objects = DisbursementApprovalQuerySet.as_manager()

    class Meta:
        verbose_name = _("拨付审批")
        verbose_name_plural = _("拨付审批")
        ordering = ["disbursement", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["disbursement", "approver"],
                name="approval_once_per_approver",
                violation_error_message=_("您已审批过该拨付申请，不能重复审批。"),
            ),
            models.CheckConstraint(
                condition=~Q(approver=F("requested_by")),
                name="approval_not_by_requester",
                violation_error_message=_("申请人不能审批自己的拨付申请。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.disbursement} · {self.approver}"


# ---- evaluations ---------------------------------------------------------------------------


class EvaluationStage(models.TextChoices):
    MIDTERM = "midterm", _("中期评估")
    FINAL = "final", _("结项评估")


class EvaluationStatus(models.TextChoices):
    ASSIGNED = "assigned", _("待评估")
    SUBMITTED = "submitted", _("已提交")


class Framework(models.TextChoices):
    """Dimensions and their maximum points (adding up to 100)."""

    IPOO = "ipoo", _("投入/过程/产出/效果")
    FIVE = "five", _("相关性/效率/效果/公平性/可持续性")


FRAMEWORK_DIMENSIONS: dict[str, tuple[tuple[str, object, int], ...]] = {
    Framework.IPOO: (
        ("input", _("投入"), 20),
        ("process", _("过程"), 30),
        ("output", _("产出"), 30),
        ("outcome", _("效果"), 20),
    ),
    Framework.FIVE: (
        ("relevance", _("相关性"), 20),
        ("efficiency", _("效率"), 20),
        ("effectiveness", _("效果"), 20),
        ("fairness", _("公平性"), 20),
        ("sustainability", _("可持续性"), 20),
    ),
}


class EvaluationQuerySet(ChildScopedQuerySet):
    parent_field = "project"


class Evaluation(AuditedModel):
    """评估: a mid-term or final evaluation of a project, by a funding-level staff member or
    a third-party evaluator, scored out of 100 along a framework's dimensions."""

    project = models.ForeignKey(
        ServiceProject,
        verbose_name=_("服务项目"),
        on_delete=models.CASCADE,
        related_name="evaluations",
    )
    stage = models.CharField(_("评估阶段"), max_length=8, choices=EvaluationStage.choices)
    framework = models.CharField(
        _("评估框架"), max_length=6, choices=Framework.choices, default=Framework.IPOO
    )
    evaluator = models.ForeignKey(
        User,
        verbose_name=_("评估人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    evaluator_org = models.ForeignKey(
        Organization,
        verbose_name=_("评估机构"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evaluations",
        limit_choices_to={"kind": OrgKind.EVALUATOR},
    )
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=EvaluationStatus.choices,
        default=EvaluationStatus.ASSIGNED,
    )
    # {dimension code: points}, each within the framework's maximum.
    scores = models.JSONField(_("各维度得分"), default=dict, blank=True)
    score = models.DecimalField(_("总分"), max_digits=5, decimal_places=2, null=True, blank=True)
    grade = models.CharField(_("等级"), max_length=10, choices=Grade.choices, blank=True)
    findings = models.TextField(_("评估意见"), blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)

    objects = EvaluationQuerySet.as_manager()

    class Meta:
        verbose_name = _("项目评估")
        verbose_name_plural = _("项目评估")
        ordering = ["project", "stage", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "stage"],
                name="evaluation_once_per_stage",
                violation_error_message=_("该项目的本阶段评估已存在。"),
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | (Q(score__gte=0) & Q(score__lte=100)),
                name="evaluation_score_range",
                violation_error_message=_("总分为 0 至 100 分。"),
            ),
            models.CheckConstraint(
                condition=~Q(status="submitted") | (Q(score__isnull=False) & ~Q(grade="")),
                name="evaluation_submitted_scored",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} · {self.get_stage_display()}"
