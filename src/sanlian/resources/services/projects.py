"""Writes of the projects part: contracts drawn up from awarded applications, milestones and
their evidence, indicators, disbursements and their approvals, evaluations and acceptance.

Callers look every object up through visible_to() and validate input with the forms of
`forms.projects`; the rules that must hold whoever calls are checked here again. Who may do
what: the lifecycles below (status and role) plus the relation to the project — funder staff
of the pool's level or above (`funds`), the organisation that delivers it (`delivers`).

Money guarantees. The CHECK and UNIQUE constraints of the models are the last line of
defence; above them, each money move takes row locks in ONE order — the project, then its
pool, then the disbursement — before writing anything (the audit writer's own lock comes
last), so concurrent requests, approvals and payments queue instead of deadlocking. A
constraint that still fires is translated into a Chinese ValidationError (`_guarded`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sanlian.core import audit
from sanlian.core.audit import AuditedModel
from sanlian.core.models import AuditAction, User
from sanlian.core.roles import Role
from sanlian.core.scoping import scope_for
from sanlian.organizations.models import Organization, OrgKind

from ..lifecycle import Lifecycle, Transition
from ..models import (
    FUNDER_ROLES,
    Application,
    ApplicationStatus,
    BudgetPool,
    Disbursement,
    DisbursementApproval,
    DisbursementStatus,
    Evaluation,
    EvaluationStage,
    EvaluationStatus,
    IndicatorKind,
    Metric,
    Milestone,
    MilestoneEvidence,
    MilestoneStatus,
    ProjectIndicator,
    ProjectStatus,
    ResourceEntry,
    ResourceKind,
    ServiceProject,
    Tranche,
)
from ..models.projects import FRAMEWORK_DIMENSIONS, LIVE_DISBURSEMENT, Framework, grade_for
from ..money import CENT, ZERO, yuan
from ..money import split as split_money

P = ParamSpec("P")
T = TypeVar("T")

PROVIDER_ROLES = frozenset({Role.SOCIAL_ORG_MANAGER, Role.SOCIAL_WORKER})
MANAGER_ROLES = frozenset({Role.SOCIAL_ORG_MANAGER})
# The money may move while the project runs, while its closure is evaluated, and after it
# (the last tranche is often paid once the project is accepted).
PAYABLE_PROJECT = (ProjectStatus.ACTIVE, ProjectStatus.CLOSING, ProjectStatus.ACCEPTED)
MONEY_LIMIT = Decimal(10) ** 12  # what a MoneyField holds (14 digits, 2 of them decimals)
MAX_YEARS = 3

# ---- lifecycles ------------------------------------------------------------------------------

PROJECT_LIFECYCLE = Lifecycle(
    ProjectStatus,
    [
        Transition(
            "sign", gettext_lazy("签约"), (ProjectStatus.DRAFT,), ProjectStatus.ACTIVE, FUNDER_ROLES
        ),
        Transition(
            "request_closure",
            gettext_lazy("申请结项"),
            (ProjectStatus.ACTIVE,),
            ProjectStatus.CLOSING,
            MANAGER_ROLES,
        ),
        Transition(
            "accept",
            gettext_lazy("结项验收"),
            (ProjectStatus.CLOSING,),
            ProjectStatus.ACCEPTED,
            FUNDER_ROLES,
        ),
        Transition(
            "terminate",
            gettext_lazy("终止"),
            (ProjectStatus.DRAFT, ProjectStatus.ACTIVE),
            ProjectStatus.TERMINATED,
            FUNDER_ROLES,
        ),
    ],
)

MILESTONE_LIFECYCLE = Lifecycle(
    MilestoneStatus,
    [
        Transition(
            "report",
            gettext_lazy("提交节点报告"),
            (MilestoneStatus.PENDING, MilestoneStatus.RETURNED),
            MilestoneStatus.REPORTED,
            PROVIDER_ROLES,
        ),
        Transition(
            "accept",
            gettext_lazy("验收节点"),
            (MilestoneStatus.REPORTED,),
            MilestoneStatus.ACCEPTED,
            FUNDER_ROLES,
        ),
        Transition(
            "return",
            gettext_lazy("退回节点"),
            (MilestoneStatus.REPORTED,),
            MilestoneStatus.RETURNED,
            FUNDER_ROLES,
        ),
    ],
)

DISBURSEMENT_LIFECYCLE = Lifecycle(
    DisbursementStatus,
    [
        Transition(
            "approve",
            gettext_lazy("审批通过"),
            (DisbursementStatus.REQUESTED,),
            DisbursementStatus.APPROVED,
            FUNDER_ROLES,
        ),
        Transition(
            "reject",
            gettext_lazy("驳回"),
            (DisbursementStatus.REQUESTED, DisbursementStatus.APPROVED),
            DisbursementStatus.REJECTED,
            FUNDER_ROLES,
        ),
        Transition(
            "cancel",
            gettext_lazy("撤销申请"),
            (DisbursementStatus.REQUESTED,),
            DisbursementStatus.CANCELLED,
            FUNDER_ROLES | MANAGER_ROLES,
        ),
        Transition(
            "pay",
            gettext_lazy("确认拨付"),
            (DisbursementStatus.APPROVED,),
            DisbursementStatus.PAID,
            FUNDER_ROLES,
        ),
    ],
)

EVALUATION_LIFECYCLE = Lifecycle(
    EvaluationStatus,
    [
        Transition(
            "submit",
            gettext_lazy("提交评估"),
            (EvaluationStatus.ASSIGNED,),
            EvaluationStatus.SUBMITTED,
            FUNDER_ROLES | {Role.EVALUATOR},
        ),
    ],
)


class TrancheMode(models.TextChoices):
    PERCENT = "percent", gettext_lazy("按比例（%）")
    AMOUNT = "amount", gettext_lazy("按金额（元）")


# ---- integrity errors in Chinese -------------------------------------------------------------

# What the database says when a constraint fires, by the constraint's name (PostgreSQL names
# it) or the columns (SQLite names only those of a UNIQUE index).
_COLUMN_MESSAGES = {
    "resources_disbursement.tranche_id": gettext_lazy("该期次已有拨付申请或已拨付，不能重复拨付。"),
    "request_key": gettext_lazy("该请求标识已被使用。"),
    "resources_disbursementapproval.disbursement_id": gettext_lazy(
        "您已审批过该拨付申请，不能重复审批。"
    ),
    "contract_number": gettext_lazy("合同编号已被使用。"),
    "resources_serviceproject.application_id": gettext_lazy("该申报已起草合同。"),
    "application_id": gettext_lazy("该申报已起草合同。"),
    "resources_evaluation.project_id": gettext_lazy("该项目的本阶段评估已存在。"),
}


def _constraint_messages() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for model in (
        ServiceProject,
        BudgetPool,
        ProjectIndicator,
        Milestone,
        Tranche,
        Disbursement,
        DisbursementApproval,
        Evaluation,
        ResourceEntry,
    ):
        for constraint in model._meta.constraints:
            message = constraint.violation_error_message
            if message and message != constraint.default_violation_error_message:
                found.append((constraint.name, message))
    # Longest first: "approval_once_per_approver" before any shorter name inside it.
    found.sort(key=lambda pair: -len(pair[0]))
    return [*found, *_COLUMN_MESSAGES.items()]


def integrity_message(exc: IntegrityError) -> str:
    text = str(exc)
    for needle, message in _constraint_messages():
        if needle in text:
            return str(message)
    return _("数据未能保存：与已有记录冲突或超出限额，请刷新页面后重试。")


def _guarded(fn: Callable[P, T]) -> Callable[P, T]:
    """Outside the service's transaction: a constraint the checks did not foresee (a race
    the locks did not cover, a caller skipping the service) reaches the user in Chinese,
    after the transaction has rolled everything back."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except IntegrityError as exc:
            raise ValidationError(integrity_message(exc), code="integrity") from exc

    return wrapper


# ---- small rules -----------------------------------------------------------------------------


def check_decimal(
    value: Any, *, label: str, allow_zero: bool = False, money: bool = False
) -> Decimal:
    """A figure typed by a person: a number, not negative (not zero unless allowed), with at
    most two decimals; returned with exactly two."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(_("%(label)s须为数字。") % {"label": label}, code="number") from None
    if not number.is_finite():
        raise ValidationError(_("%(label)s须为数字。") % {"label": label}, code="number")
    if number < 0:
        raise ValidationError(_("%(label)s不能为负数。") % {"label": label}, code="negative")
    if number == 0 and not allow_zero:
        raise ValidationError(_("%(label)s须大于 0。") % {"label": label}, code="zero")
    if number != number.quantize(CENT, rounding=ROUND_DOWN):
        message = (
            _("%(label)s最多保留两位小数（精确到分）。")
            if money
            else _("%(label)s最多保留两位小数。")
        )
        raise ValidationError(message % {"label": label}, code="decimals")
    if number >= MONEY_LIMIT:
        raise ValidationError(_("%(label)s超出范围。") % {"label": label}, code="range")
    return number.quantize(CENT)


def check_money(value: Any, *, label: str, allow_zero: bool = False) -> Decimal:
    """An amount in 元, to the 分."""
    return check_decimal(value, label=label, allow_zero=allow_zero, money=True)


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def default_end(starts_on: dt.date) -> dt.date:
    """One year, as a rule: the day before the anniversary."""
    return add_years(starts_on, 1) - dt.timedelta(days=1)


def check_period(starts_on: dt.date, ends_on: dt.date) -> None:
    if ends_on <= starts_on:
        raise ValidationError(_("服务期止须晚于服务期起。"), code="period")
    last = add_years(starts_on, MAX_YEARS) - dt.timedelta(days=1)
    if ends_on > last:
        raise ValidationError(
            _("合同服务期最长三年：自 %(start)s 起，服务期止最晚为 %(last)s。")
            % {"start": f"{starts_on:%Y-%m-%d}", "last": f"{last:%Y-%m-%d}"},
            code="period",
        )


def tranche_amounts(amount: Decimal, shares: Sequence[Decimal], mode: str) -> list[Decimal]:
    """The tranches' amounts from percentages or amounts; they add up exactly to the contract
    amount (percentages are rounded to the 分, the remainder going to the last tranche)."""
    if not shares:
        raise ValidationError(_("请至少设置一个节点及其拨付期次。"), code="tranches")
    if mode == TrancheMode.PERCENT:
        for share in shares:
            if share <= 0 or share > 100:
                raise ValidationError(_("每期拨付比例须大于 0 且不超过 100%。"), code="tranches")
        total = sum(shares, Decimal(0))
        if total != 100:
            raise ValidationError(
                _("各期拨付比例之和为 %(total)s%%，须等于 100%%。")
                % {"total": format(total.normalize(), "f")},
                code="tranches",
            )
        parts = [(amount * s / 100).quantize(CENT, rounding=ROUND_HALF_UP) for s in shares[:-1]]
        last = amount - sum(parts, ZERO)
        if last <= 0 or any(p <= 0 for p in parts):
            raise ValidationError(_("按比例折算后有一期金额为 0，请调整比例。"), code="tranches")
        return [*parts, last]
    if mode != TrancheMode.AMOUNT:
        raise ValidationError(_("未知的拨付方式。"), code="tranches")
    parts = [check_money(s, label=_("每期拨付金额")) for s in shares]
    total = sum(parts, ZERO)
    if total != amount:
        raise ValidationError(
            _("各期拨付金额之和（%(total)s）须等于合同金额（%(amount)s）。")
            % {"total": yuan(total), "amount": yuan(amount)},
            code="tranches",
        )
    return parts


def funds(user: User | Any, project: ServiceProject) -> bool:
    """Staff of the level that funds the project (the pool's owner) or of a level above."""
    scope = scope_for(user)
    if scope.area_path is None or not scope.has(*FUNDER_ROLES):
        return False
    return bool(project.pool.owner.path.startswith(scope.area_path))


def funds_pool(user: User | Any, pool: BudgetPool) -> bool:
    scope = scope_for(user)
    if scope.area_path is None or not scope.has(*FUNDER_ROLES):
        return False
    return bool(pool.owner.path.startswith(scope.area_path))


def delivers(user: User | Any, project: ServiceProject, *, manager_only: bool = False) -> bool:
    """The manager (or, unless `manager_only`, a social worker) of the project's
    organisation."""
    scope = scope_for(user)
    if scope.org_id is None or scope.org_id != project.organization_id:
        return False
    return scope.has(*(MANAGER_ROLES if manager_only else PROVIDER_ROLES))


def _require_funder(user: User, project: ServiceProject, action: Any) -> None:
    if not funds(user, project):
        raise ValidationError(
            _("只有项目资金层级（%(owner)s）及上级工会的工作人员可以%(action)s。")
            % {"owner": project.pool.owner.name, "action": action},
            code="not_funder",
        )


def _require_provider(
    user: User, project: ServiceProject, action: Any, *, manager_only: bool = False
) -> None:
    if not delivers(user, project, manager_only=manager_only):
        who = _("承接机构负责人") if manager_only else _("承接机构")
        raise ValidationError(
            _("只有%(who)s（%(org)s）可以%(action)s。")
            % {"who": who, "org": project.organization.name, "action": action},
            code="not_provider",
        )


def _save_transition(obj: AuditedModel, action: str, fields: list[str], **extra: Any) -> None:
    """Save a state change as one audit entry that names it (instead of the bare diff)."""
    changes = {"transition": action, **obj.audit_diff(), **extra}
    obj._skip_audit = True  # type: ignore[attr-defined]
    try:
        obj.save(update_fields=fields)
    finally:
        obj._skip_audit = False  # type: ignore[attr-defined]
    obj._loaded_values = {  # type: ignore[attr-defined]
        f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields
    }
    audit.record(AuditAction.UPDATE, obj=obj, changes=changes)


def _lock_project(project: ServiceProject) -> ServiceProject:
    return ServiceProject.objects.select_for_update().get(pk=project.pk)


def _lock_pool(pool_id: int) -> BudgetPool:
    return BudgetPool.objects.select_for_update().get(pk=pool_id)


def _lock_disbursement(disbursement: Disbursement) -> Disbursement:
    return Disbursement.objects.select_for_update().get(pk=disbursement.pk)


# ---- the checks behind each action (pages ask them to show only the allowed buttons) ---------


def project_check(project: ServiceProject, action: str, user: User) -> Transition:
    t = PROJECT_LIFECYCLE.check(project, action, user)
    if action == "request_closure":
        _require_provider(user, project, t.label, manager_only=True)
        pending = [str(m) for m in project.milestones.exclude(status=MilestoneStatus.ACCEPTED)]
        if pending:
            raise ValidationError(
                _("尚有节点未验收（%(list)s），不能申请结项。") % {"list": _("、").join(pending)},
                code="milestones_pending",
            )
        return t
    _require_funder(user, project, t.label)
    if action == "accept" and not _final_evaluation(project):
        raise ValidationError(_("结项评估尚未提交，不能结项验收。"), code="no_final_evaluation")
    return t


def _final_evaluation(project: ServiceProject) -> Evaluation | None:
    return project.evaluations.filter(
        stage=EvaluationStage.FINAL, status=EvaluationStatus.SUBMITTED
    ).first()


def milestone_check(milestone: Milestone, action: str, user: User) -> Transition:
    t = MILESTONE_LIFECYCLE.check(milestone, action, user)
    project = milestone.project
    if project.status != ProjectStatus.ACTIVE:
        raise ValidationError(
            _("项目当前状态为“%(status)s”，不能%(action)s。")
            % {"status": project.get_status_display(), "action": t.label},
            code="project_status",
        )
    if action == "report":
        _require_provider(user, project, t.label)
    else:
        _require_funder(user, project, t.label)
    return t


def tranche_request_check(tranche: Tranche, user: User) -> None:
    """May `user` ask for this tranche's money now?"""
    project = tranche.project
    if project.status not in PAYABLE_PROJECT:
        raise ValidationError(
            _("项目当前状态为“%(status)s”，不能申请拨付。")
            % {"status": project.get_status_display()},
            code="project_status",
        )
    if not (delivers(user, project, manager_only=True) or funds(user, project)):
        raise ValidationError(
            _("只有承接机构负责人或项目资金层级的工作人员可以申请拨付。"), code="not_requester"
        )
    milestone = tranche.milestone
    if milestone.status != MilestoneStatus.ACCEPTED:
        raise ValidationError(
            _("节点“%(milestone)s”尚未验收，不能申请%(tranche)s拨付。")
            % {"milestone": milestone.title, "tranche": tranche},
            code="milestone_not_accepted",
        )
    # All of them (a few at most), so that a page's prefetched list answers for every tranche.
    if any(d.status in LIVE_DISBURSEMENT for d in tranche.disbursements.all()):
        raise ValidationError(_("该期次已有拨付申请或已拨付，不能重复拨付。"), code="tranche_taken")


def disbursement_check(disbursement: Disbursement, action: str, user: User) -> Transition:
    if action == "approve":
        # Named refusals first: they say more than "the status does not allow it".
        # All of them (two at most), so that a page's prefetched list answers.
        if any(a.approver_id == user.pk for a in disbursement.approvals.all()):
            raise ValidationError(_("您已审批过该拨付申请，不能重复审批。"), code="approved_twice")
        if disbursement.requested_by_id == user.pk:
            raise ValidationError(_("申请人不能审批自己的拨付申请。"), code="self_approval")
    t = DISBURSEMENT_LIFECYCLE.check(disbursement, action, user)
    project = disbursement.project
    if action == "cancel":
        if disbursement.requested_by_id != user.pk:
            raise ValidationError(_("只有申请人可以撤销拨付申请。"), code="not_requester")
        return t
    _require_funder(user, project, t.label)
    if action == "pay" and project.status not in PAYABLE_PROJECT:
        raise ValidationError(
            _("项目当前状态为“%(status)s”，不能拨付。") % {"status": project.get_status_display()},
            code="project_status",
        )
    return t


def evaluation_check(evaluation: Evaluation, action: str, user: User) -> Transition:
    t = EVALUATION_LIFECYCLE.check(evaluation, action, user)
    if not is_assigned_to(evaluation, user):
        raise ValidationError(_("该评估未分派给您。"), code="not_evaluator")
    project = evaluation.project
    if project.status not in (ProjectStatus.ACTIVE, ProjectStatus.CLOSING):
        raise ValidationError(
            _("项目当前状态为“%(status)s”，不能%(action)s。")
            % {"status": project.get_status_display(), "action": t.label},
            code="project_status",
        )
    return t


def is_assigned_to(evaluation: Evaluation, user: User) -> bool:
    if evaluation.evaluator_id is not None:
        return bool(evaluation.evaluator_id == user.pk)
    scope = scope_for(user)
    return bool(
        evaluation.evaluator_org_id is not None
        and scope.has(Role.EVALUATOR)
        and scope.org_id == evaluation.evaluator_org_id
    )


def allowed(
    lifecycle: Lifecycle, check: Callable[[Any, str, User], Transition], obj: Any, user: User
) -> list[Transition]:
    """The transitions `user` may make on `obj` now: the lifecycle's, then every rule of the
    action's check (one call per candidate; the buttons of a page)."""
    out = []
    for t in lifecycle.allowed(obj, user):
        try:
            check(obj, t.name, user)
        except ValidationError:
            continue
        out.append(t)
    return out


# ---- contracts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorSpec:
    kind: str
    metric: str
    name: str
    target: Decimal
    unit: str = ""


@dataclass(frozen=True)
class MilestoneSpec:
    title: str
    due_on: dt.date
    share: Decimal  # a percentage or an amount, by the contract's tranche mode
    deliverables: str = ""


def indicators_from_application(application: Application) -> list[IndicatorSpec]:
    """The application's indicators (JSON) as rows of the contract; rows that do not parse
    are left for the funder to re-enter."""
    out = []
    for row in application.indicators or []:
        if not isinstance(row, dict):
            continue
        try:
            target = Decimal(str(row.get("target", "")))
        except InvalidOperation:
            continue
        kind = str(row.get("kind") or "")
        kind = kind if kind in IndicatorKind.values else IndicatorKind.OUTPUT
        metric = str(row.get("metric") or "")
        metric = metric if metric in Metric.values else Metric.OTHER
        name = str(row.get("name") or "").strip()[:100]
        if name and target.is_finite() and target > 0:
            out.append(IndicatorSpec(kind, metric, name, target, str(row.get("unit") or "")[:20]))
    return out


def check_plan(
    *,
    amount: Decimal,
    starts_on: dt.date,
    ends_on: dt.date,
    milestones: Sequence[MilestoneSpec],
    tranche_mode: str,
    indicators: Sequence[IndicatorSpec],
) -> list[Decimal]:
    check_period(starts_on, ends_on)
    if not milestones:
        raise ValidationError(_("请至少设置一个节点及其拨付期次。"), code="tranches")
    previous: dt.date | None = None
    for m in milestones:
        if not m.title.strip():
            raise ValidationError(_("请填写节点名称。"), code="milestone")
        if not starts_on <= m.due_on <= ends_on:
            raise ValidationError(
                _(
                    "节点“%(title)s”的计划完成日期 %(due)s 不在合同服务期（%(start)s 至 %(end)s）内。"
                )
                % {
                    "title": m.title,
                    "due": f"{m.due_on:%Y-%m-%d}",
                    "start": f"{starts_on:%Y-%m-%d}",
                    "end": f"{ends_on:%Y-%m-%d}",
                },
                code="milestone_date",
            )
        if previous is not None and m.due_on < previous:
            raise ValidationError(_("节点须按计划完成日期先后排列。"), code="milestone_order")
        previous = m.due_on
    names = [i.name for i in indicators]
    if len(set(names)) != len(names):
        raise ValidationError(_("绩效指标名称不能重复。"), code="indicator")
    for i in indicators:
        if not i.target.is_finite() or i.target <= 0:
            raise ValidationError(
                _("指标“%(name)s”的目标值须大于 0。") % {"name": i.name}, code="indicator"
            )
        if i.kind not in IndicatorKind.values or i.metric not in Metric.values:
            raise ValidationError(
                _("指标“%(name)s”的类别无效。") % {"name": i.name}, code="indicator"
            )
    return tranche_amounts(amount, [m.share for m in milestones], tranche_mode)


def _write_plan(
    project: ServiceProject,
    milestones: Sequence[MilestoneSpec],
    amounts: Sequence[Decimal],
    indicators: Sequence[IndicatorSpec],
) -> None:
    project.tranches.all().delete()
    project.milestones.all().delete()
    project.indicators.all().delete()
    for seq, (spec, tranche_amount) in enumerate(zip(milestones, amounts, strict=True), start=1):
        milestone = Milestone.objects.create(
            project=project,
            seq=seq,
            title=spec.title.strip(),
            due_on=spec.due_on,
            deliverables=spec.deliverables,
        )
        Tranche.objects.create(project=project, seq=seq, milestone=milestone, amount=tranche_amount)
    for i in indicators:
        ProjectIndicator.objects.create(
            project=project,
            kind=i.kind,
            metric=i.metric,
            name=i.name,
            target=i.target,
            unit=i.unit,
        )
    audit.record(
        AuditAction.UPDATE,
        obj=project,
        changes={
            "plan": {
                "tranches": [str(a) for a in amounts],
                "milestones": [[m.title, m.due_on] for m in milestones],
                "indicators": [[i.name, i.target] for i in indicators],
            }
        },
    )


@_guarded
@transaction.atomic
def project_draw_up(
    *,
    application: Application,
    by: User,
    contract_number: str,
    amount: Decimal,
    starts_on: dt.date,
    ends_on: dt.date,
    milestones: Sequence[MilestoneSpec],
    tranche_mode: str,
    indicators: Sequence[IndicatorSpec],
    title: str = "",
) -> ServiceProject:
    """A draft contract (待签约) from an awarded application. Nothing moves in the pool
    until it is signed."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.status != ApplicationStatus.AWARDED or application.awarded_amount is None:
        raise ValidationError(_("只有已立项的申报可以起草合同。"), code="not_awarded")
    if ServiceProject.objects.filter(application=application).exists():
        raise ValidationError(_("该申报已起草合同。"), code="exists")
    pool = application.call.pool
    if not funds_pool(by, pool):
        raise ValidationError(
            _("只有项目资金层级（%(owner)s）及上级工会的工作人员可以起草合同。")
            % {"owner": pool.owner.name},
            code="not_funder",
        )
    amount = check_money(amount, label=_("合同金额"))
    if amount > application.awarded_amount:
        raise ValidationError(
            _("合同金额（%(amount)s）不能超过立项金额（%(awarded)s）。")
            % {"amount": yuan(amount), "awarded": yuan(application.awarded_amount)},
            code="amount",
        )
    communities = list(application.communities.all())
    if not communities:
        raise ValidationError(_("申报未指定服务社区，不能起草合同。"), code="communities")
    contract_number = contract_number.strip()
    _check_contract_number(contract_number, None)
    amounts = check_plan(
        amount=amount,
        starts_on=starts_on,
        ends_on=ends_on,
        milestones=milestones,
        tranche_mode=tranche_mode,
        indicators=indicators,
    )
    project = ServiceProject.objects.create(
        application=application,
        call=application.call,
        pool=pool,
        organization=application.organization,
        title=(title or application.title).strip(),
        contract_number=contract_number,
        amount=amount,
        starts_on=starts_on,
        ends_on=ends_on,
        status=ProjectStatus.DRAFT,
    )
    project.communities.set(communities)
    _write_plan(project, milestones, amounts, indicators)
    return project


def _check_contract_number(number: str, project: ServiceProject | None) -> None:
    if not number:
        raise ValidationError(_("请填写合同编号。"), code="contract_number")
    taken = ServiceProject.objects.filter(contract_number=number)
    if project is not None:
        taken = taken.exclude(pk=project.pk)
    if taken.exists():
        raise ValidationError(
            _("合同编号 %(number)s 已被使用。") % {"number": number}, code="contract_number"
        )


@_guarded
@transaction.atomic
def project_draft_update(
    *,
    project: ServiceProject,
    by: User,
    contract_number: str,
    amount: Decimal,
    starts_on: dt.date,
    ends_on: dt.date,
    milestones: Sequence[MilestoneSpec],
    tranche_mode: str,
    indicators: Sequence[IndicatorSpec],
    title: str = "",
) -> ServiceProject:
    """Redraw a contract that is not signed yet: its terms, milestones, tranches and
    indicators are replaced as a whole."""
    project = _lock_project(project)
    if project.status != ProjectStatus.DRAFT:
        raise ValidationError(_("合同已签订，不能再修改。"), code="not_draft")
    _require_funder(by, project, _("修改合同"))
    amount = check_money(amount, label=_("合同金额"))
    awarded = project.application.awarded_amount if project.application else None
    if awarded is not None and amount > awarded:
        raise ValidationError(
            _("合同金额（%(amount)s）不能超过立项金额（%(awarded)s）。")
            % {"amount": yuan(amount), "awarded": yuan(awarded)},
            code="amount",
        )
    contract_number = contract_number.strip()
    _check_contract_number(contract_number, project)
    amounts = check_plan(
        amount=amount,
        starts_on=starts_on,
        ends_on=ends_on,
        milestones=milestones,
        tranche_mode=tranche_mode,
        indicators=indicators,
    )
    project.title = title.strip() or project.title
    project.contract_number = contract_number
    project.amount = amount
    project.starts_on = starts_on
    project.ends_on = ends_on
    project.version += 1
    project.save()
    _write_plan(project, milestones, amounts, indicators)
    return project


@_guarded
@transaction.atomic
def project_sign(
    *, project: ServiceProject, by: User, signed_on: dt.date | None = None
) -> ServiceProject:
    """待签约 → 执行中. The pool moves the contract from its allocation into `contracted`
    and frees what the award reserved beyond the contract amount."""
    project = _lock_project(project)
    t = project_check(project, "sign", by)
    tranche_total = project.tranches.aggregate(s=models.Sum("amount"))["s"] or ZERO
    if tranche_total != project.amount:
        raise ValidationError(
            _("各期拨付金额之和（%(total)s）须等于合同金额（%(amount)s）。")
            % {"total": yuan(tranche_total), "amount": yuan(project.amount)},
            code="tranches",
        )
    pool = _lock_pool(project.pool_id)
    awarded = project.application.awarded_amount if project.application else None
    release = max((awarded or project.amount) - project.amount, ZERO)
    free = pool.allocated - release - pool.contracted
    if project.amount > free:
        raise ValidationError(
            _("资金池“%(pool)s”可签约余额不足：需 %(need)s，仅余 %(free)s。")
            % {"pool": pool, "need": yuan(project.amount), "free": yuan(max(free, ZERO))},
            code="pool",
        )
    BudgetPool.objects.filter(pk=pool.pk).update(
        contracted=F("contracted") + project.amount, allocated=F("allocated") - release
    )
    audit.record(
        AuditAction.UPDATE,
        obj=pool,
        changes={
            "transition": "project_sign",
            "project": project.pk,
            "contracted": [pool.contracted, pool.contracted + project.amount],
            "allocated": [pool.allocated, pool.allocated - release],
        },
    )
    project.status = t.target
    project.signed_on = signed_on or timezone.localdate()
    _save_transition(project, t.name, ["status", "signed_on"])
    return project


@_guarded
@transaction.atomic
def project_request_closure(*, project: ServiceProject, by: User) -> ServiceProject:
    """执行中 → 结项评估中, once every milestone is accepted."""
    project = _lock_project(project)
    t = project_check(project, "request_closure", by)
    project.status = t.target
    _save_transition(project, t.name, ["status"])
    return project


@_guarded
@transaction.atomic
def project_accept(
    *, project: ServiceProject, by: User, accepted_on: dt.date | None = None
) -> ServiceProject:
    """结项: the final evaluation's score and grade become the project's (they follow the
    organisation into later calls)."""
    project = _lock_project(project)
    t = project_check(project, "accept", by)
    final = _final_evaluation(project)
    assert final is not None  # project_check refused otherwise
    project.status = t.target
    project.final_score = final.score
    project.final_grade = final.grade
    project.accepted_on = accepted_on or timezone.localdate()
    _save_transition(
        project,
        t.name,
        ["status", "final_score", "final_grade", "accepted_on"],
        evaluation=final.pk,
    )
    return project


@_guarded
@transaction.atomic
def project_terminate(*, project: ServiceProject, by: User, reason: str) -> ServiceProject:
    """End a project early. Open disbursement requests are cancelled; the pool gets back
    what was not paid (from `contracted` and `allocated`; a draft's award reservation from
    `allocated`)."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("请填写终止原因。"), code="reason")
    project = _lock_project(project)
    t = project_check(project, "terminate", by)
    pool = _lock_pool(project.pool_id)
    open_ones = list(
        Disbursement.objects.select_for_update()
        .filter(
            project=project,
            status__in=[DisbursementStatus.REQUESTED, DisbursementStatus.APPROVED],
        )
        .order_by("pk")
    )
    for d in open_ones:
        d.status = DisbursementStatus.CANCELLED
        d.closed_reason = (_("项目终止：%(reason)s") % {"reason": reason})[:300]
        _save_transition(d, "project_terminate", ["status", "closed_reason"])
    if project.status == ProjectStatus.ACTIVE:
        remainder = project.amount - project.disbursed
        contracted = F("contracted") - remainder
    else:
        awarded = project.application.awarded_amount if project.application else None
        remainder = awarded or ZERO
        contracted = F("contracted")
    BudgetPool.objects.filter(pk=pool.pk).update(
        contracted=contracted, allocated=F("allocated") - remainder
    )
    audit.record(
        AuditAction.UPDATE,
        obj=pool,
        changes={
            "transition": "project_terminate",
            "project": project.pk,
            "released": remainder,
            "was": project.status,
        },
    )
    project.status = t.target
    project.terminated_reason = reason[:300]
    _save_transition(project, t.name, ["status", "terminated_reason"])
    return project


# ---- milestones, evidence, indicators --------------------------------------------------------

# Extension → the bytes such a file starts with (None: plain text, nothing to check).
EVIDENCE_TYPES: dict[str, tuple[bytes, ...] | None] = {
    "pdf": (b"%PDF",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
    "pptx": (b"PK\x03\x04",),
    "doc": (b"\xd0\xcf\x11\xe0",),
    "xls": (b"\xd0\xcf\x11\xe0",),
    "ppt": (b"\xd0\xcf\x11\xe0",),
    "txt": None,
}


def evidence_max_bytes() -> int:
    return int(settings.EVIDENCE_MAX_BYTES)


def validate_evidence_file(file: UploadedFile) -> None:
    """A sign-in sheet, photo, minutes: PDF, JPG/PNG, Office or text, within the size limit,
    and its first bytes fit its extension."""
    name = file.name or ""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in EVIDENCE_TYPES:
        raise ValidationError(
            _(
                "文件“%(name)s”的类型不支持，仅限 PDF、图片（JPG/PNG）、Word、Excel、PPT 或文本文件。"
            )
            % {"name": name},
            code="file_type",
        )
    size = file.size or 0
    if size == 0:
        raise ValidationError(_("文件“%(name)s”是空文件。") % {"name": name}, code="file_empty")
    limit = evidence_max_bytes()
    if size > limit:
        raise ValidationError(
            _("文件“%(name)s”超过 %(mb)s MB 的上限。")
            % {"name": name, "mb": limit // (1024 * 1024)},
            code="file_size",
        )
    magic = EVIDENCE_TYPES[suffix]
    if magic is not None:
        file.seek(0)
        head = file.read(8)
        file.seek(0)
        if not any(head.startswith(m) for m in magic):
            raise ValidationError(
                _("文件“%(name)s”的内容与扩展名不符。") % {"name": name}, code="file_content"
            )


def _evidence_open(milestone: Milestone, user: User) -> None:
    project = milestone.project
    _require_provider(user, project, _("上传佐证材料"))
    if project.status != ProjectStatus.ACTIVE:
        raise ValidationError(
            _("项目当前状态为“%(status)s”，不能上传佐证材料。")
            % {"status": project.get_status_display()},
            code="project_status",
        )
    if milestone.status not in (MilestoneStatus.PENDING, MilestoneStatus.RETURNED):
        raise ValidationError(
            _("节点“%(status)s”，不能再修改佐证材料。")
            % {"status": milestone.get_status_display()},
            code="milestone_status",
        )


def _store_evidence(
    milestone: Milestone, by: User, file: UploadedFile, description: str
) -> MilestoneEvidence:
    validate_evidence_file(file)
    return MilestoneEvidence.objects.create(
        milestone=milestone,
        file=file,
        name=(file.name or "")[:200],
        description=description[:200],
        uploaded_by=by,
    )


@transaction.atomic
def evidence_add(
    *, milestone: Milestone, by: User, file: UploadedFile, description: str = ""
) -> MilestoneEvidence:
    milestone = Milestone.objects.select_for_update().get(pk=milestone.pk)
    _evidence_open(milestone, by)
    return _store_evidence(milestone, by, file, description)


@transaction.atomic
def evidence_remove(*, evidence: MilestoneEvidence, by: User) -> None:
    milestone = Milestone.objects.select_for_update().get(pk=evidence.milestone_id)
    _evidence_open(milestone, by)
    evidence.file.delete(save=False)
    evidence.delete()


@_guarded
@transaction.atomic
def milestone_report(
    *,
    milestone: Milestone,
    by: User,
    report: str,
    files: Iterable[UploadedFile] = (),
    description: str = "",
) -> Milestone:
    """The organisation reports a milestone done, with evidence (at least one file, new or
    uploaded before)."""
    milestone = Milestone.objects.select_for_update().get(pk=milestone.pk)
    t = milestone_check(milestone, "report", by)
    report = report.strip()
    if not report:
        raise ValidationError(_("请填写节点完成情况。"), code="report")
    for file in files:
        _store_evidence(milestone, by, file, description)
    if not milestone.evidence.exists():
        raise ValidationError(_("请上传至少一份佐证材料。"), code="evidence")
    milestone.status = t.target
    milestone.report = report
    milestone.reported_at = timezone.now()
    milestone.reported_by = by
    _save_transition(milestone, t.name, ["status", "report", "reported_at", "reported_by"])
    return milestone


def _review(milestone: Milestone, by: User, action: str, note: str) -> Milestone:
    milestone = Milestone.objects.select_for_update().get(pk=milestone.pk)
    t = milestone_check(milestone, action, by)
    milestone.status = t.target
    milestone.review_note = note.strip()[:300]
    milestone.reviewed_at = timezone.now()
    milestone.reviewed_by = by
    _save_transition(milestone, t.name, ["status", "review_note", "reviewed_at", "reviewed_by"])
    return milestone


@_guarded
@transaction.atomic
def milestone_accept(*, milestone: Milestone, by: User, note: str = "") -> Milestone:
    return _review(milestone, by, "accept", note)


@_guarded
@transaction.atomic
def milestone_return(*, milestone: Milestone, by: User, note: str) -> Milestone:
    if not note.strip():
        raise ValidationError(_("请填写退回原因。"), code="note")
    return _review(milestone, by, "return", note)


@transaction.atomic
def indicator_report(
    *, indicator: ProjectIndicator, by: User, reported: Decimal
) -> ProjectIndicator:
    """The organisation's own figure for an indicator (used until the system counts it)."""
    project = indicator.project
    _require_provider(by, project, _("填报指标完成值"))
    if project.status not in (ProjectStatus.ACTIVE, ProjectStatus.CLOSING):
        raise ValidationError(
            _("项目当前状态为“%(status)s”，不能填报指标完成值。")
            % {"status": project.get_status_display()},
            code="project_status",
        )
    value = check_decimal(reported, label=_("完成值"), allow_zero=True)
    old = indicator.reported
    indicator.reported = value
    indicator.save(update_fields=["reported"])
    audit.record(
        AuditAction.UPDATE,
        obj=indicator,
        changes={"reported": [old, value], "project": project.pk},
    )
    return indicator


# ---- disbursements ---------------------------------------------------------------------------


def four_eyes_threshold() -> Decimal:
    return Decimal(str(settings.DISBURSEMENT_FOUR_EYES_ABOVE))


def _replay(existing: Disbursement, tranche: Tranche) -> tuple[Disbursement, bool]:
    if existing.tranche_id != tranche.pk:
        raise ValidationError(_("该请求标识已用于其他期次的拨付申请。"), code="request_key")
    return existing, False


@_guarded
@transaction.atomic
def disbursement_request(
    *, tranche: Tranche, by: User, request_key: uuid.UUID, note: str = ""
) -> tuple[Disbursement, bool]:
    """Ask for a tranche's money. A retry with the same `request_key` gets the first
    disbursement back (and `False`: nothing new was created)."""
    existing = Disbursement.objects.filter(request_key=request_key).first()
    if existing is not None:
        return _replay(existing, tranche)
    # Requests for one project queue here: the twin of this request, if any, has committed
    # by the time the lock is ours, and the checks below see it.
    _lock_project(tranche.project)
    existing = Disbursement.objects.filter(request_key=request_key).first()
    if existing is not None:
        return _replay(existing, tranche)
    tranche = Tranche.objects.select_related("milestone", "project").get(pk=tranche.pk)
    tranche_request_check(tranche, by)
    amount = tranche.amount
    disbursement = Disbursement.objects.create(
        tranche=tranche,
        project=tranche.project,
        amount=amount,
        request_key=request_key,
        approvals_required=2 if amount > four_eyes_threshold() else 1,
        requested_by=by,
        note=note.strip()[:300],
    )
    return disbursement, True


@_guarded
@transaction.atomic
def disbursement_approve(
    *, disbursement: Disbursement, by: User, comment: str = ""
) -> Disbursement:
    """One approval; the disbursement is approved once it has the approvals it needs (two
    different people above the four-eyes threshold, never the requester)."""
    d = _lock_disbursement(disbursement)
    t = disbursement_check(d, "approve", by)
    approval = DisbursementApproval.objects.create(
        disbursement=d, approver=by, requested_by_id=d.requested_by_id, comment=comment[:300]
    )
    count = d.approvals.count()
    audit.record(
        AuditAction.CREATE,
        obj=approval,
        changes={
            "disbursement": d.pk,
            "approver": by.pk,
            "approvals": [count, d.approvals_required],
        },
    )
    if count >= d.approvals_required:
        d.status = t.target
        _save_transition(d, t.name, ["status"], approvals=count)
    return d


@_guarded
@transaction.atomic
def disbursement_reject(*, disbursement: Disbursement, by: User, reason: str) -> Disbursement:
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("请填写驳回原因。"), code="reason")
    d = _lock_disbursement(disbursement)
    t = disbursement_check(d, "reject", by)
    d.status = t.target
    d.closed_reason = reason[:300]
    _save_transition(d, t.name, ["status", "closed_reason"])
    return d


@_guarded
@transaction.atomic
def disbursement_cancel(*, disbursement: Disbursement, by: User, reason: str = "") -> Disbursement:
    d = _lock_disbursement(disbursement)
    t = disbursement_check(d, "cancel", by)
    d.status = t.target
    d.closed_reason = reason.strip()[:300]
    _save_transition(d, t.name, ["status", "closed_reason"])
    return d


@_guarded
@transaction.atomic
def disbursement_pay(
    *,
    disbursement: Disbursement,
    by: User,
    payment_reference: str = "",
    paid_at: dt.datetime | None = None,
) -> Disbursement:
    """Pay an approved disbursement: the project's and the pool's `disbursed` grow by its
    amount, and the money enters the resource ledger, shared among the project's
    communities."""
    project = ServiceProject.objects.select_for_update().get(pk=disbursement.project_id)
    pool = _lock_pool(project.pool_id)
    d = _lock_disbursement(disbursement)
    t = disbursement_check(d, "pay", by)
    if project.disbursed + d.amount > project.amount:
        raise ValidationError(
            _("拨付后累计金额（%(total)s）将超过合同金额（%(amount)s）。")
            % {"total": yuan(project.disbursed + d.amount), "amount": yuan(project.amount)},
            code="over_contract",
        )
    if pool.disbursed + d.amount > pool.contracted:
        raise ValidationError(
            _("资金池“%(pool)s”拨付总额将超过签约总额。") % {"pool": pool}, code="over_pool"
        )
    ServiceProject.objects.filter(pk=project.pk).update(disbursed=F("disbursed") + d.amount)
    BudgetPool.objects.filter(pk=pool.pk).update(disbursed=F("disbursed") + d.amount)
    d.status = t.target
    d.paid_at = paid_at or timezone.now()
    d.paid_by = by
    d.payment_reference = payment_reference.strip()[:60]
    _save_transition(d, t.name, ["status", "paid_at", "paid_by", "payment_reference"])
    for obj in (project, pool):
        audit.record(
            AuditAction.UPDATE,
            obj=obj,
            changes={
                "transition": "disbursement_pay",
                "disbursement": d.pk,
                "disbursed": [obj.disbursed, obj.disbursed + d.amount],
            },
        )
    communities = list(project.communities.order_by("pk"))
    day = timezone.localdate(d.paid_at)
    tranche = d.tranche
    for community, value in zip(communities, split_money(d.amount, len(communities)), strict=True):
        ResourceEntry.objects.create(
            community=community,
            project=project,
            kind=ResourceKind.FUNDS,
            source_org=pool.owner,
            source_name=str(pool),
            description=(
                _("%(project)s %(tranche)s拨付") % {"project": project.title, "tranche": tranche}
            )[:300],
            value=value,
            occurred_on=day,
            disbursement=d,
            recorded_by=by,
        )
    return d


# ---- evaluations -----------------------------------------------------------------------------


def evaluator_accounts() -> models.QuerySet[User]:
    """Third-party evaluators a funder may assign. A directory, deliberately outside the
    user scoping (which shows accounts to administrators only): an account with the
    evaluator role in an evaluation organisation is public to the funders who hire it."""
    return (
        User.objects.filter(
            is_active=True,
            role_grants__role=Role.EVALUATOR,
            organization__kind=OrgKind.EVALUATOR,
        )
        .select_related("organization")
        .order_by("organization__name", "full_name", "pk")
        .distinct()
    )


def evaluator_organizations() -> models.QuerySet[Organization]:
    return Organization.objects.filter(kind=OrgKind.EVALUATOR, is_active=True).order_by("name")


@_guarded
@transaction.atomic
def evaluation_assign(
    *,
    project: ServiceProject,
    by: User,
    stage: str,
    framework: str = Framework.IPOO,
    evaluator: User | None = None,
    evaluator_org: Organization | None = None,
) -> Evaluation:
    """A mid-term or final evaluation, by a third-party evaluator (an account, an
    organisation, or both) or, when neither is given, by the funder staff member."""
    project = _lock_project(project)
    _require_funder(by, project, _("分派评估"))
    if project.status not in (ProjectStatus.ACTIVE, ProjectStatus.CLOSING):
        raise ValidationError(
            _("项目当前状态为“%(status)s”，不能分派评估。")
            % {"status": project.get_status_display()},
            code="project_status",
        )
    if stage not in EvaluationStage.values or framework not in Framework.values:
        raise ValidationError(_("评估阶段或评估框架无效。"), code="stage")
    if evaluator is None and evaluator_org is None:
        evaluator = by
    if evaluator is not None and evaluator.pk != by.pk:
        if not evaluator_accounts().filter(pk=evaluator.pk).exists():
            raise ValidationError(
                _("评估人须为第三方评估机构的评估人员账号或您本人。"), code="evaluator"
            )
        if evaluator_org is None:
            evaluator_org = evaluator.organization
    if evaluator_org is not None and evaluator_org.kind != OrgKind.EVALUATOR:
        raise ValidationError(_("评估机构须为第三方评估机构。"), code="evaluator_org")
    if (
        evaluator is not None
        and evaluator_org is not None
        and evaluator.pk != by.pk
        and evaluator.organization_id != evaluator_org.pk
    ):
        raise ValidationError(_("评估人不属于所选评估机构。"), code="evaluator_org")
    if project.evaluations.filter(stage=stage).exists():
        raise ValidationError(_("该项目的本阶段评估已存在。"), code="exists")
    return Evaluation.objects.create(
        project=project,
        stage=stage,
        framework=framework,
        evaluator=evaluator,
        evaluator_org=evaluator_org,
    )


def dimensions(framework: str) -> tuple[tuple[str, Any, int], ...]:
    return FRAMEWORK_DIMENSIONS[framework]


@_guarded
@transaction.atomic
def evaluation_submit(
    *, evaluation: Evaluation, by: User, scores: dict[str, Decimal], findings: str
) -> Evaluation:
    """Scores along the framework's dimensions (each within its maximum; 100 in all),
    findings, and the grade the total earns."""
    e = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
    t = evaluation_check(e, "submit", by)
    dims = dimensions(e.framework)
    unknown = set(scores) - {code for code, _label, _max in dims}
    if unknown:
        raise ValidationError(_("评分维度与评估框架不符。"), code="dimensions")
    clean: dict[str, Decimal] = {}
    for code, label, top in dims:
        if scores.get(code) is None:
            raise ValidationError(_("请为“%(dim)s”打分。") % {"dim": label}, code="score")
        value = check_decimal(scores[code], label=str(label), allow_zero=True)
        if value > top:
            raise ValidationError(
                _("“%(dim)s”的得分不能超过 %(max)s 分。") % {"dim": label, "max": top},
                code="score",
            )
        clean[code] = value
    findings = findings.strip()
    if not findings:
        raise ValidationError(_("请填写评估意见。"), code="findings")
    total = sum(clean.values(), ZERO)
    e.scores = {k: str(v) for k, v in clean.items()}
    e.score = total
    e.grade = grade_for(total)
    e.findings = findings
    e.submitted_at = timezone.now()
    if e.evaluator_id is None:
        e.evaluator = by  # who wrote it, for an evaluation assigned to an organisation
    e.status = t.target
    _save_transition(
        e,
        t.name,
        ["scores", "score", "grade", "findings", "submitted_at", "evaluator", "status"],
    )
    return e
