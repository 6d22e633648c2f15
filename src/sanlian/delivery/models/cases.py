"""Case work (个案工作) after MZ/T 094-2017: the case file through its phases, the goals of its
plan, the contact records of the intervention, follow-up visits and referrals.

Confidentiality. A case file is read by its assigned social worker and its designated
supervisor (督导); the manager of the organisation that holds it sees the file's header (who,
which worker, which phase, dates, the problem's category) to run the caseload, never its
notes. Area staff (federation, district, street, community) see no case rows at all, only
counts (`services.cases.case_counts`). The receiving organisation of a referral sees the
referral: the person's name and the problem's category, and the shared summary only when the
person consented or the supervisor documented an override.

Every note (presenting problem, assessment texts, plan, goals, contact and follow-up notes,
summaries, referral texts) is stored encrypted (`core.crypto`) in a `<name>_encrypted` column
and read through a `Sealed` attribute of the same name; the audit trail records that such a
column changed, never its value.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, overload

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sanlian.core import crypto
from sanlian.core.audit import AuditedModel
from sanlian.core.roles import Role
from sanlian.core.scoping import NOTHING, Scope, ScopedQuerySet
from sanlian.organizations.models import Organization, Person, SocialWorker
from sanlian.resources.models import ServiceProject

__all__ = [
    "Attainment",
    "Case",
    "CaseContact",
    "CaseFollowUp",
    "CaseGoal",
    "CasePhase",
    "CaseSource",
    "ClosureReason",
    "ConsentMethod",
    "ContactKind",
    "ProblemCategory",
    "Referral",
    "ReferralStatus",
    "ShareBasis",
]

SEALED_SUFFIX = "_encrypted"


class Sealed:
    """A text attribute kept encrypted at rest in the `<name>_encrypted` column."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.column = f"{name}{SEALED_SUFFIX}"

    @overload
    def __get__(self, obj: None, objtype: type | None = None) -> Sealed: ...
    @overload
    def __get__(self, obj: object, objtype: type | None = None) -> str: ...
    def __get__(self, obj: object | None, objtype: type | None = None) -> Sealed | str:
        if obj is None:
            return self
        token: str = getattr(obj, self.column)
        return crypto.decrypt(token) if token else ""

    def __set__(self, obj: object, value: str) -> None:
        setattr(obj, self.column, crypto.encrypt(value) if value else "")


def sealed_column() -> models.TextField[str, str]:
    return models.TextField(blank=True, default="", editable=False)


class SealedAuditMixin(AuditedModel):
    """The audit trail notes that an encrypted column changed, never its ciphertext."""

    class Meta:
        abstract = True

    def audit_snapshot(self) -> dict[str, Any]:
        return {
            key: ("***" if value else "") if key.endswith(SEALED_SUFFIX) else value
            for key, value in super().audit_snapshot().items()
        }

    def audit_diff(self) -> dict[str, Any]:
        loaded: dict[str, Any] | None = getattr(self, "_loaded_values", None)
        diff = super().audit_diff()
        for key in [k for k in diff if k.endswith(SEALED_SUFFIX)]:
            if loaded is not None and loaded.get(key) == getattr(self, key):
                del diff[key]
            else:
                old = loaded.get(key) if loaded is not None else None
                diff[key] = ["***" if old else "", "***" if getattr(self, key) else ""]
        return diff


# ---- choices -------------------------------------------------------------------------------


class CasePhase(models.TextChoices):
    INTAKE = "intake", _("接案")
    NOT_TAKEN = "not_taken", _("不接案")
    ASSESSMENT = "assessment", _("预估")
    PLANNING = "planning", _("计划")
    INTERVENTION = "intervention", _("介入")
    EVALUATION = "evaluation", _("评估")
    CLOSING = "closing", _("结案待审核")
    CLOSED = "closed", _("已结案")


# The phases of a case that was taken, in the order of the standard.
PHASE_ORDER: tuple[str, ...] = (
    CasePhase.INTAKE,
    CasePhase.ASSESSMENT,
    CasePhase.PLANNING,
    CasePhase.INTERVENTION,
    CasePhase.EVALUATION,
    CasePhase.CLOSING,
    CasePhase.CLOSED,
)
# A case in one of these was taken (接案): it counts for its project.
TAKEN_PHASES: tuple[str, ...] = PHASE_ORDER[1:]
# The phases where the worker is serving the person (notes may be written).
WORKING_PHASES: tuple[str, ...] = (
    CasePhase.ASSESSMENT,
    CasePhase.PLANNING,
    CasePhase.INTERVENTION,
    CasePhase.EVALUATION,
)


class CaseSource(models.TextChoices):
    ASKED = "asked", _("主动求助")
    REFERRED = "referred", _("转介")
    OUTREACH = "outreach", _("外展发现")


class ProblemCategory(models.TextChoices):
    FINANCIAL = "financial", _("经济困难")
    EMPLOYMENT = "employment", _("就业与技能")
    LABOUR = "labour", _("劳动争议与法律援助")
    FAMILY = "family", _("家庭关系")
    EMOTIONAL = "emotional", _("心理与情绪")
    HEALTH = "health", _("健康与照护")
    CHILDREN = "children", _("子女教育")
    OTHER = "other", _("其他")


class ConsentMethod(models.TextChoices):
    SIGNED = "signed", _("书面签字")
    ORAL = "oral", _("口头同意（有见证人）")


class ContactKind(models.TextChoices):
    FACE = "face", _("面谈")
    PHONE = "phone", _("电话")
    HOME = "home", _("家访")


class Attainment(models.TextChoices):
    FULL = "full", _("完全达成")
    MOSTLY = "mostly", _("大部分达成")
    PARTLY = "partly", _("部分达成")
    NONE = "none", _("未达成")


class ClosureReason(models.TextChoices):
    GOALS_MET = "goals_met", _("服务目标达成")
    WITHDREW = "withdrew", _("服务对象主动退出")
    REFERRED = "referred", _("目标无法达成，已转介")
    CHANGE = "change", _("社工或服务对象发生变动")


class ShareBasis(models.TextChoices):
    NONE = "none", _("不提供个案信息")
    CONSENT = "consent", _("服务对象同意")
    OVERRIDE = "override", _("督导书面决定")


class ReferralStatus(models.TextChoices):
    PENDING = "pending", _("待接收")
    ACCEPTED = "accepted", _("已接收")
    DECLINED = "declined", _("已拒绝")


# Who answers a referral for the receiving organisation (its users with one of these roles).
REFERRAL_RECEIVER_ROLES = (Role.SOCIAL_ORG_MANAGER, Role.COMMUNITY_CADRE, Role.AREA_STAFF)


# ---- scope rules ---------------------------------------------------------------------------


def _worker_ids(scope: Scope, user_id: int) -> list[int]:
    """The user's social-worker records (usually one), looked up once per scope: an OR of
    `worker__person__user_id` and `supervisor__person__user_id` joins every case to two
    people and no index answers it (a worker's case list took 4.6 s at city scale, 5 ms with
    the ids)."""
    ids: list[int] | None = scope.lookups.get("social_workers")
    if ids is None:
        ids = list(
            SocialWorker.objects.filter(person__user_id=user_id).values_list("pk", flat=True)
        )
        scope.lookups["social_workers"] = ids
    return ids


def case_team_q(scope: Scope, prefix: str = "") -> Q:
    """Rows of the cases this user works on: as the assigned worker or the supervisor."""
    if scope.user_id is None or scope.is_admin:
        return NOTHING
    ids = _worker_ids(scope, scope.user_id)
    if not ids:
        return NOTHING
    return Q(**{f"{prefix}worker_id__in": ids}) | Q(**{f"{prefix}supervisor_id__in": ids})


def _manager_q(scope: Scope, prefix: str = "") -> Q:
    if scope.has(Role.SOCIAL_ORG_MANAGER) and scope.org_id is not None and not scope.is_admin:
        return Q(**{f"{prefix}organization_id": scope.org_id})
    return NOTHING


class CaseQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        # The team reads the file; the holding organisation's manager its header only.
        return case_team_q(scope) | _manager_q(scope)

    def taken(self) -> CaseQuerySet:
        return self.filter(phase__in=TAKEN_PHASES)

    def open(self) -> CaseQuerySet:
        return self.filter(phase__in=(CasePhase.INTAKE, *WORKING_PHASES, CasePhase.CLOSING))

    def held_by(self, user: Any) -> CaseQuerySet:
        return self.filter(worker__person__user=user)

    def supervised_by(self, user: Any) -> CaseQuerySet:
        return self.filter(supervisor__person__user=user)

    def awaiting_sign_off(self) -> CaseQuerySet:
        """The plan written but not signed, or the closure submitted."""
        return self.filter(
            Q(phase=CasePhase.PLANNING, plan_submitted_at__isnull=False, plan_signed_at=None)
            | Q(phase=CasePhase.CLOSING)
        )


class CaseChildQuerySet(ScopedQuerySet):
    """Notes of a case (goals, contacts, follow-ups): the case team only."""

    def scope_q(self, scope: Scope) -> Q:
        return case_team_q(scope, "case__")


class ReferralQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        q = case_team_q(scope, "case__") | _manager_q(scope, "case__")
        if scope.has(*REFERRAL_RECEIVER_ROLES) and scope.org_id is not None:
            q |= Q(to_org_id=scope.org_id)
        return q

    def incoming_for(self, org_id: int | None) -> ReferralQuerySet:
        return self.filter(to_org_id=org_id)


# ---- the case file -------------------------------------------------------------------------


class Case(SealedAuditMixin):
    """个案: one person's case file, from intake (接案) to closure (结案) and follow-up."""

    organization = models.ForeignKey(
        Organization, verbose_name=_("承办机构"), on_delete=models.PROTECT, related_name="cases"
    )
    worker = models.ForeignKey(
        SocialWorker, verbose_name=_("负责社工"), on_delete=models.PROTECT, related_name="cases"
    )
    supervisor = models.ForeignKey(
        SocialWorker,
        verbose_name=_("督导"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supervised_cases",
    )
    person = models.ForeignKey(
        Person, verbose_name=_("服务对象"), on_delete=models.PROTECT, related_name="cases"
    )
    project = models.ForeignKey(
        ServiceProject,
        verbose_name=_("服务项目"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
    )
    phase = models.CharField(
        _("阶段"), max_length=16, choices=CasePhase.choices, default=CasePhase.INTAKE
    )
    # 接案
    source = models.CharField(_("来源"), max_length=10, choices=CaseSource.choices)
    problem_category = models.CharField(
        _("问题类别"), max_length=12, choices=ProblemCategory.choices
    )
    presenting_problem_encrypted = sealed_column()
    presenting_problem = Sealed()
    opened_on = models.DateField(_("接案日期"), default=timezone.localdate)
    not_taken_reason = models.CharField(_("不接案原因"), max_length=300, blank=True)
    agreement_on = models.DateField(_("服务协议签订日期"), null=True, blank=True)
    # 敏感个人信息处理的单独同意 (个人信息保护法 第二十九条)
    consent_on = models.DateField(_("单独同意日期"), null=True, blank=True)
    consent_method = models.CharField(
        _("同意方式"), max_length=8, choices=ConsentMethod.choices, blank=True
    )
    consent_witness = models.CharField(_("见证人"), max_length=50, blank=True)
    # 预估
    information_encrypted = sealed_column()
    information = Sealed()
    problems_encrypted = sealed_column()
    problems = Sealed()
    strengths_encrypted = sealed_column()
    strengths = Sealed()
    assessment_summary_encrypted = sealed_column()
    assessment_summary = Sealed()
    # Sensitive personal information (PIPL Art. 28): only with the separate consent.
    health_encrypted = sealed_column()
    health = Sealed()
    finances_encrypted = sealed_column()
    finances = Sealed()
    # 计划
    aims_encrypted = sealed_column()
    aims = Sealed()
    strategies_encrypted = sealed_column()
    strategies = Sealed()
    partners = models.CharField(_("合作方"), max_length=300, blank=True)
    timetable = models.CharField(_("时间安排"), max_length=300, blank=True)
    plan_submitted_at = models.DateTimeField(_("计划提交审核时间"), null=True, blank=True)
    plan_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("计划审核督导"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    plan_signed_at = models.DateTimeField(_("计划审核时间"), null=True, blank=True)
    # 评估
    evaluation_summary_encrypted = sealed_column()
    evaluation_summary = Sealed()
    # 结案
    closure_reason = models.CharField(
        _("结案原因"), max_length=10, choices=ClosureReason.choices, blank=True
    )
    closure_summary_encrypted = sealed_column()
    closure_summary = Sealed()
    phase_before_closing = models.CharField(
        max_length=16, choices=CasePhase.choices, blank=True, editable=False
    )
    returned_note = models.CharField(_("督导退回意见"), max_length=300, blank=True)
    closure_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("结案审核督导"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    closure_signed_at = models.DateTimeField(_("结案审核时间"), null=True, blank=True)
    closed_on = models.DateField(_("结案日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("个案")
        verbose_name_plural = _("个案")
        ordering = ["-opened_on", "-pk"]
        indexes = [models.Index(fields=["organization", "phase"], name="case_org_phase_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(phase="not_taken") | ~Q(not_taken_reason=""),
                name="case_not_taken_has_reason",
                violation_error_message=_("不接案须填写原因。"),
            ),
            # Taken only under a service agreement.
            models.CheckConstraint(
                condition=Q(phase__in=("intake", "not_taken")) | Q(agreement_on__isnull=False),
                name="case_taken_has_agreement",
                violation_error_message=_("接案须签订服务协议。"),
            ),
            models.CheckConstraint(
                condition=Q(consent_on__isnull=True, consent_method="")
                | (Q(consent_on__isnull=False) & ~Q(consent_method="")),
                name="case_consent_complete",
                violation_error_message=_("单独同意须同时填写日期和方式。"),
            ),
            models.CheckConstraint(
                condition=~Q(consent_method="oral") | ~Q(consent_witness=""),
                name="case_oral_consent_has_witness",
                violation_error_message=_("口头同意须填写见证人。"),
            ),
            # Sensitive fields only with the separate consent.
            models.CheckConstraint(
                condition=Q(consent_on__isnull=False)
                | Q(health_encrypted="", finances_encrypted=""),
                name="case_sensitive_needs_consent",
                violation_error_message=_("未取得服务对象的单独同意，不能填写敏感个人信息。"),
            ),
            # Past planning only with the plan signed off by the supervisor.
            models.CheckConstraint(
                condition=Q(phase__in=("intake", "not_taken", "assessment", "planning"))
                | Q(plan_signed_at__isnull=False)
                | ~Q(closure_reason__in=("", "goals_met")),
                name="case_past_plan_is_signed",
                violation_error_message=_("服务计划须经督导审核后才能进入介入阶段。"),
            ),
            # Closed only with the supervisor's sign-off, a reason and a date.
            models.CheckConstraint(
                condition=~Q(phase="closed")
                | Q(
                    closure_signed_at__isnull=False,
                    closed_on__isnull=False,
                    closure_reason__in=ClosureReason.values,
                ),
                name="case_closed_is_signed",
                violation_error_message=_("结案须经督导审核。"),
            ),
            models.CheckConstraint(
                condition=Q(supervisor__isnull=True) | ~Q(supervisor=F("worker")),
                name="case_supervisor_not_worker",
                violation_error_message=_("督导不能是负责社工本人。"),
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(name)s的个案") % {"name": self.person.name}

    def get_absolute_url(self) -> str:
        return reverse("delivery:case_detail", args=[self.pk])

    @property
    def number(self) -> str:
        return f"GA{self.opened_on:%Y}-{self.pk:05d}"

    @property
    def has_consent(self) -> bool:
        return self.consent_on is not None

    @property
    def is_taken(self) -> bool:
        return self.phase in TAKEN_PHASES

    @property
    def is_open(self) -> bool:
        return self.phase not in (CasePhase.NOT_TAKEN, CasePhase.CLOSED)

    @property
    def plan_is_signed(self) -> bool:
        return self.plan_signed_at is not None

    def next_phase(self) -> str | None:
        """The phase after this one in the standard's order (None at an ending)."""
        if self.phase not in PHASE_ORDER or self.phase == CasePhase.CLOSED:
            return None
        return PHASE_ORDER[PHASE_ORDER.index(self.phase) + 1]

    def phase_index(self) -> int:
        return PHASE_ORDER.index(self.phase) if self.phase in PHASE_ORDER else -1


class CaseGoal(SealedAuditMixin):
    """One goal of a case's service plan, with its measure and, at evaluation, its attainment."""

    case = models.ForeignKey(
        Case, verbose_name=_("个案"), on_delete=models.CASCADE, related_name="goals"
    )
    seq = models.PositiveSmallIntegerField(_("序号"))
    goal_encrypted = sealed_column()
    goal = Sealed()
    measure_encrypted = sealed_column()
    measure = Sealed()
    attainment = models.CharField(
        _("达成情况"), max_length=8, choices=Attainment.choices, blank=True
    )
    attainment_note_encrypted = sealed_column()
    attainment_note = Sealed()

    objects = CaseChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("个案服务目标")
        verbose_name_plural = _("个案服务目标")
        ordering = ["case", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["case", "seq"], name="casegoal_unique_seq"),
        ]

    def __str__(self) -> str:
        return gettext("目标%(seq)s") % {"seq": self.seq}


class CaseRecord(SealedAuditMixin):
    """What a contact and a follow-up record share: how, the notes, who wrote them when."""

    kind = models.CharField(_("方式"), max_length=8, choices=ContactKind.choices)
    notes_encrypted = sealed_column()
    notes = Sealed()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    class Meta:
        abstract = True


class CaseContact(CaseRecord):
    """介入记录: one dated contact with the person (or for them), with its times."""

    case = models.ForeignKey(
        Case, verbose_name=_("个案"), on_delete=models.PROTECT, related_name="contacts"
    )
    served_on = models.DateField(_("日期"))
    start_time = models.TimeField(_("开始时间"))
    end_time = models.TimeField(_("结束时间"))

    objects = CaseChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("个案介入记录")
        verbose_name_plural = _("个案介入记录")
        ordering = ["-served_on", "-start_time", "-pk"]
        indexes = [models.Index(fields=["served_on"], name="casecontact_day_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")),
                name="casecontact_end_after_start",
                violation_error_message=_("结束时间须晚于开始时间。"),
            ),
            models.CheckConstraint(
                condition=~Q(notes_encrypted=""),
                name="casecontact_has_notes",
                violation_error_message=_("请填写服务记录。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.served_on:%Y-%m-%d} {self.start_time:%H:%M}–{self.end_time:%H:%M}"

    @property
    def minutes(self) -> int:
        start = dt.datetime.combine(self.served_on, self.start_time)
        return int((dt.datetime.combine(self.served_on, self.end_time) - start).seconds // 60)


class CaseFollowUp(CaseRecord):
    """回访: a visit after closure to see that the change holds."""

    case = models.ForeignKey(
        Case, verbose_name=_("个案"), on_delete=models.PROTECT, related_name="follow_ups"
    )
    visited_on = models.DateField(_("回访日期"))

    objects = CaseChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("个案回访")
        verbose_name_plural = _("个案回访")
        ordering = ["-visited_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.visited_on:%Y-%m-%d}"


class Referral(SealedAuditMixin):
    """转介: a case referred to another organisation, which accepts or declines it. What it
    shares beyond the person's name and the problem's category needs a basis."""

    case = models.ForeignKey(
        Case, verbose_name=_("个案"), on_delete=models.PROTECT, related_name="referrals"
    )
    to_org = models.ForeignKey(
        Organization,
        verbose_name=_("接收机构"),
        on_delete=models.PROTECT,
        related_name="referrals_received",
    )
    reason_encrypted = sealed_column()
    reason = Sealed()
    share_basis = models.CharField(
        _("信息提供依据"), max_length=8, choices=ShareBasis.choices, default=ShareBasis.NONE
    )
    consent_on = models.DateField(_("同意提供信息日期"), null=True, blank=True)
    summary_encrypted = sealed_column()
    summary = Sealed()
    override_reason = models.CharField(_("督导决定理由"), max_length=300, blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("决定督导"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收处理人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    decline_reason = models.CharField(_("拒绝原因"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("转介人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("转介时间"), default=timezone.now)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        verbose_name = _("转介")
        verbose_name_plural = _("转介")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Nothing beyond the minimum leaves without a basis.
            models.CheckConstraint(
                condition=~Q(share_basis="none") | Q(summary_encrypted=""),
                name="referral_shares_only_with_basis",
                violation_error_message=_(
                    "未取得服务对象同意且无督导书面决定，不能向接收机构提供个案信息。"
                ),
            ),
            models.CheckConstraint(
                condition=~Q(share_basis="consent") | Q(consent_on__isnull=False),
                name="referral_consent_has_date",
                violation_error_message=_("请填写服务对象同意提供信息的日期。"),
            ),
            models.CheckConstraint(
                condition=~Q(share_basis="override")
                | (Q(override_by__isnull=False) & ~Q(override_reason="")),
                name="referral_override_is_documented",
                violation_error_message=_("督导决定须写明理由。"),
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""),
                name="referral_declined_has_reason",
                violation_error_message=_("拒绝转介须填写原因。"),
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(name)s转介至%(org)s") % {
            "name": self.case.person.name,
            "org": self.to_org,
        }

    @property
    def shares_case_information(self) -> bool:
        return self.share_basis != ShareBasis.NONE
