"""Writes of the funding part of 资源联合: budget pools, project calls (项目指南) with their
criteria and reviewers, applications (申报) with budget lines, reviews (评审) and the award
decision (立项).

Callers look every object up through visible_to() and validate input with the forms of
`forms.funding`; every rule that must hold whoever calls is checked here again, and each
refusal is a ValidationError with a Chinese message. Money moves only under a row lock on the
pool, and the pool's CHECK constraints are the last line of defence.

The link to needs (服务联动): a call will answer surveyed needs (Demand records). That app
registers a provider with `register_call_needs`; the call page shows the section 回应的需求
only when a provider returns something for the call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sanlian.core import audit
from sanlian.core.models import AuditAction, User
from sanlian.core.roles import Role
from sanlian.core.services import save_versioned
from sanlian.core.validators import validate_credit_code
from sanlian.organizations.models import (
    Community,
    Organization,
    OrgKind,
    Person,
    ServiceField,
    SocialWorker,
    Tier,
)

from ..lifecycle import Lifecycle, Transition
from ..models import (
    FUNDER_KINDS,
    FUNDER_ROLES,
    Application,
    ApplicationStatus,
    BudgetLine,
    BudgetPool,
    CallCriterion,
    CallReviewer,
    CallStatus,
    Grade,
    IndicatorKind,
    Metric,
    ProjectCall,
    ProjectStatus,
    Review,
    ReviewScore,
    ReviewStatus,
    ServiceProject,
)
from ..models.funding import APPLICANT_ROLES
from ..money import CENT, MAX_DIGITS, ZERO, yuan

REVIEWER_ROLES = frozenset({*FUNDER_ROLES, Role.EVALUATOR})
# The pool's year and a call's term are bounded so a typo (20266) is refused.
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_MONTHS = 36
HUNDRED = Decimal(100)

CALL_LIFECYCLE = Lifecycle(
    CallStatus,
    [
        Transition(
            "open", gettext_lazy("发布"), (CallStatus.DRAFT,), CallStatus.OPEN, FUNDER_ROLES
        ),
        Transition(
            "close",
            gettext_lazy("截止征集并进入评审"),
            (CallStatus.OPEN,),
            CallStatus.REVIEWING,
            FUNDER_ROLES,
        ),
        Transition(
            "decide",
            gettext_lazy("完成立项"),
            (CallStatus.REVIEWING,),
            CallStatus.DECIDED,
            FUNDER_ROLES,
        ),
        Transition(
            "cancel",
            gettext_lazy("撤销指南"),
            (CallStatus.DRAFT, CallStatus.OPEN),
            CallStatus.CANCELLED,
            FUNDER_ROLES,
        ),
    ],
)

APPLICATION_LIFECYCLE = Lifecycle(
    ApplicationStatus,
    [
        Transition(
            "submit",
            gettext_lazy("提交申报"),
            (ApplicationStatus.DRAFT,),
            ApplicationStatus.SUBMITTED,
            APPLICANT_ROLES,
        ),
        Transition(
            "withdraw",
            gettext_lazy("撤回申报"),
            (ApplicationStatus.SUBMITTED,),
            ApplicationStatus.WITHDRAWN,
            APPLICANT_ROLES,
        ),
        Transition(
            "award",
            gettext_lazy("立项"),
            (ApplicationStatus.SUBMITTED,),
            ApplicationStatus.AWARDED,
            FUNDER_ROLES,
        ),
        Transition(
            "reject",
            gettext_lazy("不予立项"),
            (ApplicationStatus.SUBMITTED,),
            ApplicationStatus.REJECTED,
            FUNDER_ROLES,
        ),
    ],
)

REVIEW_LIFECYCLE = Lifecycle(
    ReviewStatus,
    [
        Transition(
            "submit",
            gettext_lazy("提交评分"),
            (ReviewStatus.DRAFT,),
            ReviewStatus.SUBMITTED,
            REVIEWER_ROLES,
        ),
        Transition(
            "recuse",
            gettext_lazy("声明利益冲突并回避"),
            (ReviewStatus.DRAFT,),
            ReviewStatus.RECUSED,
            REVIEWER_ROLES,
        ),
    ],
)


# ---- money ---------------------------------------------------------------------------------


def to_money(value: object, *, allow_zero: bool = False) -> Decimal:
    """An amount in 元 to the 分, or ValidationError saying what is wrong with it: not a
    number, negative, more than two decimals, too large. Floats are refused: they are not
    exact."""
    if isinstance(value, bool | float):
        raise ValidationError(_("金额须为数字（元，最多两位小数）。"), code="money_invalid")
    try:
        amount = Decimal(str(value).strip().replace(",", "").replace("，", ""))
    except (InvalidOperation, ValueError):
        raise ValidationError(
            _("金额须为数字（元，最多两位小数）。"), code="money_invalid"
        ) from None
    if not amount.is_finite():
        raise ValidationError(_("金额须为数字（元，最多两位小数）。"), code="money_invalid")
    if amount < 0:
        raise ValidationError(_("金额不能为负数。"), code="money_negative")
    if amount == 0 and not allow_zero:
        raise ValidationError(_("金额须大于 0。"), code="money_zero")
    if amount != 0 and amount.adjusted() >= MAX_DIGITS - 2:
        raise ValidationError(_("金额过大。"), code="money_too_large")
    if amount != amount.quantize(CENT):
        raise ValidationError(_("金额最多两位小数（精确到分）。"), code="money_places")
    return amount.quantize(CENT)


# ---- who funds -----------------------------------------------------------------------------


def funder_level(user: User) -> Organization:
    """The funding level (市总/区总/街道工会) a funder staff member acts for, or why not."""
    if not user.has_role(*FUNDER_ROLES):
        raise ValidationError(_("只有市、区、街道工会工作人员可以管理资金与项目指南。"))
    org: Organization | None = user.organization
    level = org.area_node() if org is not None else None
    if level is None or level.kind not in FUNDER_KINDS:
        raise ValidationError(
            _("您所在的组织不是资金层级（市总工会、区总工会或街道工会），不能管理资金与项目指南。")
        )
    return level


def can_manage(user: Any, owner: Organization) -> bool:
    """Whether the user is funder staff of `owner`'s level or a level above it."""
    try:
        level = funder_level(user)
    except ValidationError:
        return False
    return owner.path.startswith(level.path)


def _require_manager(user: User, pool: BudgetPool) -> None:
    level = funder_level(user)
    if not pool.owner.path.startswith(level.path):
        raise ValidationError(
            _("资金池“%(pool)s”属于%(owner)s，您无权管理。")
            % {"pool": pool.name, "owner": pool.owner.name}
        )


# ---- pools ---------------------------------------------------------------------------------


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationError(
            {"year": _("年度须在 %(a)s 至 %(b)s 之间。") % {"a": MIN_YEAR, "b": MAX_YEAR}}
        )


def _check_earmarks(service_field: str, tier: str) -> None:
    if service_field and service_field not in ServiceField.values:
        raise ValidationError({"service_field": _("未知的服务领域。")})
    if tier and tier not in Tier.values:
        raise ValidationError({"tier": _("未知的社区类别。")})


@transaction.atomic
def pool_create(
    *,
    by: User,
    year: int,
    name: str,
    amount: Decimal,
    service_field: str = "",
    tier: str = "",
    note: str = "",
) -> BudgetPool:
    """A new annual pool of the user's own funding level."""
    owner = funder_level(by)
    _check_year(year)
    _check_earmarks(service_field, tier)
    pool = BudgetPool(
        owner=owner,
        year=year,
        name=name.strip(),
        amount=to_money(amount),
        service_field=service_field,
        tier=tier,
        note=note,
    )
    pool.validate_constraints()
    pool.save()
    return pool


def _earmark_conflicts(pool: BudgetPool, service_field: str, tier: str) -> list[str]:
    """Why the pool's live calls would not fit a new earmark."""
    calls = pool.calls.exclude(status=CallStatus.CANCELLED)
    errors = []
    if service_field:
        off = calls.exclude(service_field=service_field).first()
        if off is not None:
            errors.append(
                _("项目指南“%(call)s”的服务领域为%(field)s，与新的限定不符。")
                % {"call": off.title, "field": off.get_service_field_display()}
            )
    if tier:
        off_community = Community.objects.filter(project_calls__in=calls).exclude(tier=tier).first()
        if off_community is not None:
            errors.append(
                _("社区“%(c)s”为%(tier)s社区，已是本资金池项目指南的服务社区。")
                % {"c": off_community.name, "tier": off_community.get_tier_display()}
            )
    return errors


@transaction.atomic
def pool_update(
    *,
    pool: BudgetPool,
    by: User,
    expected_version: int,
    name: str,
    amount: Decimal,
    service_field: str = "",
    tier: str = "",
    note: str = "",
) -> BudgetPool:
    """Edit a pool. Its amount may not drop below what is already allocated (checked under
    the pool's row lock, so a concurrent award cannot slip in between); a stale version is
    refused (ConcurrentEditError)."""
    _require_manager(by, pool)
    _check_earmarks(service_field, tier)
    amount = to_money(amount, allow_zero=True)
    locked = BudgetPool.objects.select_for_update().get(pk=pool.pk)
    if amount < locked.allocated:
        raise ValidationError(
            {
                "amount": _("资金总额不能低于已分配额 %(allocated)s（已立项的资金）。")
                % {"allocated": yuan(locked.allocated)}
            }
        )
    conflicts = _earmark_conflicts(locked, service_field, tier)
    if conflicts:
        raise ValidationError(conflicts)
    pool.name, pool.amount, pool.service_field, pool.tier, pool.note = (
        name.strip(),
        amount,
        service_field,
        tier,
        note,
    )
    pool.allocated, pool.contracted, pool.disbursed = (
        locked.allocated,
        locked.contracted,
        locked.disbursed,
    )
    pool.validate_constraints()
    try:
        with transaction.atomic():
            save_versioned(
                pool,
                expected_version=expected_version,
                fields=["name", "amount", "service_field", "tier", "note"],
            )
    except IntegrityError:
        raise ValidationError(_("资金总额不能低于已分配额。")) from None
    return pool


def pool_reserve(*, pool: BudgetPool, amount: Decimal) -> None:
    """Move `amount` into the pool's allocated total. The caller holds the pool's row lock and
    has checked what remains; should anything slip past, the CHECK constraint
    `pool_allocated_within_amount` refuses, and the refusal is said in Chinese."""
    try:
        with transaction.atomic():
            BudgetPool.objects.filter(pk=pool.pk).update(allocated=F("allocated") + amount)
    except IntegrityError as exc:
        raise ValidationError(
            _("资金池“%(pool)s”剩余可分配资金不足，立项金额 %(amount)s 未能预留。")
            % {"pool": pool.name, "amount": yuan(amount)},
            code="pool_exhausted",
        ) from exc


# ---- calls ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionSpec:
    name: str
    weight: int
    description: str = ""


def criteria_errors(criteria: Sequence[CriterionSpec]) -> list[str]:
    """What is wrong with a call's criteria: names, weights 1–100 adding up to 100."""
    errors: list[str] = []
    names = [c.name.strip() for c in criteria]
    if any(not n for n in names):
        errors.append(_("请填写评审指标名称。"))
    dupes = sorted({n for n in names if n and names.count(n) > 1})
    if dupes:
        errors.append(_("评审指标“%(name)s”重复。") % {"name": dupes[0]})
    if any(not 1 <= c.weight <= 100 for c in criteria):
        errors.append(_("每项评审指标的权重为 1 至 100。"))
    total = sum(c.weight for c in criteria)
    if total != 100:
        errors.append(_("评审指标权重合计须为 100，当前为 %(total)s。") % {"total": total})
    return errors


def call_field_errors(
    *,
    pool: BudgetPool,
    service_field: str,
    communities: Sequence[Community],
    budget_ceiling: Decimal,
    total_budget: Decimal,
    max_months: int,
    deadline: datetime | None,
    opens_at: datetime | None,
) -> dict[str, list[str]]:
    """The rules of a call's fields against its pool, by field (the form shows them beside
    the fields; the services refuse with them)."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if service_field not in ServiceField.values:
        add("service_field", _("未知的服务领域。"))
    elif pool.service_field and service_field != pool.service_field:
        add(
            "service_field",
            _("资金池“%(pool)s”限定用于%(field)s，项目指南的服务领域须一致。")
            % {"pool": pool.name, "field": pool.get_service_field_display()},
        )
    for community in communities:
        if not community.organization.path.startswith(pool.owner.path):
            add(
                "communities",
                _("社区“%(c)s”不在%(owner)s的范围内。")
                % {"c": community.name, "owner": pool.owner.name},
            )
        elif pool.tier and community.tier != pool.tier:
            add(
                "communities",
                _("资金池“%(pool)s”限定用于%(tier)s社区，“%(c)s”是%(its)s社区。")
                % {
                    "pool": pool.name,
                    "tier": pool.get_tier_display(),
                    "c": community.name,
                    "its": community.get_tier_display(),
                },
            )
    if pool.tier and not communities:
        add(
            "communities",
            _("资金池“%(pool)s”限定用于%(tier)s社区，请选择服务社区。")
            % {"pool": pool.name, "tier": pool.get_tier_display()},
        )
    if budget_ceiling <= 0:
        add("budget_ceiling", _("单个项目资助上限须大于 0。"))
    if total_budget <= 0:
        add("total_budget", _("本指南计划资金须大于 0。"))
    elif budget_ceiling > total_budget:
        add("budget_ceiling", _("单个项目资助上限不能超过本指南计划资金。"))
    if not 1 <= max_months <= MAX_MONTHS:
        add("max_months", _("项目周期上限为 1 至 36 个月。"))
    if deadline is not None and opens_at is not None and opens_at >= deadline:
        add("deadline", _("申报截止时间须晚于申报开始时间。"))
    return errors


def reviewer_candidates(pool: BudgetPool) -> QuerySet[User]:
    """Who may review the calls of a pool: funder staff of the pool's level or a level above
    it (they see the applications), and third-party evaluators."""
    owner = pool.owner
    funders = Q(
        role_grants__role__in=list(FUNDER_ROLES),
        organization_id__in=owner.ancestor_ids(),
    )
    evaluators = Q(role_grants__role=Role.EVALUATOR, organization__kind=OrgKind.EVALUATOR)
    ids = User.objects.filter(funders | evaluators, is_active=True).values("pk")
    return User.objects.filter(pk__in=ids).order_by("organization__path", "username")


def _check_reviewer(pool: BudgetPool, reviewer: User) -> None:
    if not reviewer_candidates(pool).filter(pk=reviewer.pk).exists():
        raise ValidationError(
            {
                "reviewer": _(
                    "%(user)s 不能担任评审专家：评审专家须为本层级或上级工会的工作人员，或第三方评估人员。"
                )
                % {"user": reviewer}
            }
        )


def _next_code(pool: BudgetPool) -> str:
    prefix = f"ZN{pool.year}-{pool.owner_id}-"
    n = ProjectCall.objects.filter(code__startswith=prefix).count() + 1
    while ProjectCall.objects.filter(code=f"{prefix}{n:03d}").exists():
        n += 1
    return f"{prefix}{n:03d}"


def _save_criteria(call: ProjectCall, criteria: Sequence[CriterionSpec]) -> list[CallCriterion]:
    call.criteria.all().delete()
    return [
        CallCriterion.objects.create(
            call=call,
            seq=seq,
            name=c.name.strip(),
            weight=c.weight,
            description=c.description,
        )
        for seq, c in enumerate(criteria, start=1)
    ]


@transaction.atomic
def call_create(
    *,
    pool: BudgetPool,
    by: User,
    title: str,
    service_field: str,
    budget_ceiling: Decimal,
    total_budget: Decimal,
    deadline: datetime,
    communities: Sequence[Community] = (),
    max_months: int = 12,
    description: str = "",
    opens_at: datetime | None = None,
    code: str = "",
    criteria: Sequence[CriterionSpec] = (),
    reviewers: Sequence[User] = (),
) -> ProjectCall:
    """A draft call under a pool, with its criteria (weights adding up to 100, when given)
    and reviewers."""
    _require_manager(by, pool)
    budget_ceiling, total_budget = to_money(budget_ceiling), to_money(total_budget)
    errors = call_field_errors(
        pool=pool,
        service_field=service_field,
        communities=communities,
        budget_ceiling=budget_ceiling,
        total_budget=total_budget,
        max_months=max_months,
        deadline=deadline,
        opens_at=opens_at,
    )
    if errors:
        raise ValidationError(errors)
    if criteria:
        problems = criteria_errors(criteria)
        if problems:
            raise ValidationError({"criteria": problems})
    code = code.strip() or _next_code(pool)
    if ProjectCall.objects.filter(code=code).exists():
        raise ValidationError({"code": _("指南编号 %(code)s 已被使用。") % {"code": code}})
    call = ProjectCall.objects.create(
        pool=pool,
        code=code,
        title=title.strip(),
        service_field=service_field,
        description=description,
        budget_ceiling=budget_ceiling,
        total_budget=total_budget,
        max_months=max_months,
        opens_at=opens_at,
        deadline=deadline,
        created_by=by,
    )
    call.communities.set(communities)
    _save_criteria(call, criteria)
    for reviewer in reviewers:
        call_add_reviewer(call=call, by=by, reviewer=reviewer)
    return call


def _require_draft(call: ProjectCall, what: str) -> None:
    if call.status != CallStatus.DRAFT:
        raise ValidationError(
            _("项目指南当前为“%(status)s”，只有草稿可以%(what)s。")
            % {"status": call.get_status_display(), "what": what}
        )


@transaction.atomic
def call_update(
    *,
    call: ProjectCall,
    by: User,
    expected_version: int,
    title: str,
    service_field: str,
    budget_ceiling: Decimal,
    total_budget: Decimal,
    deadline: datetime,
    communities: Sequence[Community] = (),
    max_months: int = 12,
    description: str = "",
    opens_at: datetime | None = None,
) -> ProjectCall:
    """Edit a draft call (a published one is what applicants answered: it stays as it is)."""
    _require_manager(by, call.pool)
    ProjectCall.objects.select_for_update().filter(pk=call.pk).first()
    call.refresh_from_db(fields=["status"])
    _require_draft(call, _("修改"))
    budget_ceiling, total_budget = to_money(budget_ceiling), to_money(total_budget)
    errors = call_field_errors(
        pool=call.pool,
        service_field=service_field,
        communities=communities,
        budget_ceiling=budget_ceiling,
        total_budget=total_budget,
        max_months=max_months,
        deadline=deadline,
        opens_at=opens_at,
    )
    if errors:
        raise ValidationError(errors)
    call.title, call.service_field, call.description = title.strip(), service_field, description
    call.budget_ceiling, call.total_budget, call.max_months = (
        budget_ceiling,
        total_budget,
        max_months,
    )
    call.opens_at, call.deadline = opens_at, deadline
    save_versioned(
        call,
        expected_version=expected_version,
        fields=[
            "title",
            "service_field",
            "description",
            "budget_ceiling",
            "total_budget",
            "max_months",
            "opens_at",
            "deadline",
        ],
    )
    before = sorted(call.communities.values_list("pk", flat=True))
    call.communities.set(communities)
    after = sorted(c.pk for c in communities)
    if before != after:
        audit.record(AuditAction.UPDATE, obj=call, changes={"communities": [before, after]})
    return call


@transaction.atomic
def call_set_criteria(
    *, call: ProjectCall, by: User, criteria: Sequence[CriterionSpec]
) -> list[CallCriterion]:
    """Replace a draft call's criteria; their weights must add up to 100 (an empty list
    clears them: a draft may wait for its criteria, publishing may not)."""
    _require_manager(by, call.pool)
    ProjectCall.objects.select_for_update().filter(pk=call.pk).first()
    call.refresh_from_db(fields=["status"])
    _require_draft(call, _("修改评审指标"))
    problems = criteria_errors(criteria) if criteria else []
    if problems:
        raise ValidationError({"criteria": problems})
    before = [(c.name, c.weight) for c in call.criteria.all()]
    saved = _save_criteria(call, criteria)
    audit.record(
        AuditAction.UPDATE,
        obj=call,
        changes={"criteria": [before, [(c.name, c.weight) for c in saved]]},
    )
    return saved


@transaction.atomic
def call_add_reviewer(*, call: ProjectCall, by: User, reviewer: User) -> CallReviewer:
    """Add a reviewer (until the call is decided or cancelled)."""
    _require_manager(by, call.pool)
    if call.status in (CallStatus.DECIDED, CallStatus.CANCELLED):
        raise ValidationError(
            _("项目指南已%(status)s，不能再调整评审专家。") % {"status": call.get_status_display()}
        )
    _check_reviewer(call.pool, reviewer)
    row = CallReviewer(call=call, reviewer=reviewer)
    row.validate_constraints()
    row.save()
    return row


@transaction.atomic
def call_remove_reviewer(*, call: ProjectCall, by: User, reviewer: User) -> None:
    """Take a reviewer off the call; one who has already scored stays (the scores count)."""
    _require_manager(by, call.pool)
    if Review.objects.filter(
        application__call=call, reviewer=reviewer, status=ReviewStatus.SUBMITTED
    ).exists():
        raise ValidationError(_("%(user)s 已提交评分，不能移出评审名单。") % {"user": reviewer})
    for row in CallReviewer.objects.filter(call=call, reviewer=reviewer):
        row.delete()


def _locked_call(call: ProjectCall) -> ProjectCall:
    locked = ProjectCall.objects.select_for_update().select_related("pool__owner").get(pk=call.pk)
    return locked


def _set_call_status(call: ProjectCall, status: str, *, note: str = "", **extra: Any) -> None:
    """Move a locked call to `status` (the save is audited with what changed)."""
    call.status = status
    for key, value in extra.items():
        setattr(call, key, value)
    call.version += 1
    call.save()
    if note:
        audit.record(AuditAction.UPDATE, obj=call, changes={"note": note})


@transaction.atomic
def call_open(*, call: ProjectCall, by: User, now: datetime | None = None) -> ProjectCall:
    """Publish a draft call: its criteria add up to 100, its deadline is ahead, and its total
    budget fits in what the pool has left."""
    now = now or timezone.now()
    _require_manager(by, call.pool)
    locked = _locked_call(call)
    CALL_LIFECYCLE.check(locked, "open", by)
    weights = [c.weight for c in locked.criteria.all()]
    if not weights or sum(weights) != 100:
        raise ValidationError(
            _("发布前须设置评审指标，且权重合计为 100（当前为 %(total)s）。")
            % {"total": sum(weights)}
        )
    if locked.deadline <= now:
        raise ValidationError(
            _("申报截止时间 %(deadline)s 已过，请先修改截止时间。")
            % {"deadline": _local(locked.deadline)}
        )
    pool = BudgetPool.objects.select_for_update().get(pk=locked.pool_id)
    if locked.total_budget > pool.remaining:
        raise ValidationError(
            _("本指南计划资金 %(total)s 超过资金池“%(pool)s”剩余可分配额 %(remaining)s。")
            % {
                "total": yuan(locked.total_budget),
                "pool": pool.name,
                "remaining": yuan(pool.remaining),
            }
        )
    _set_call_status(locked, CallStatus.OPEN, opens_at=locked.opens_at or now)
    return locked


@transaction.atomic
def call_close(*, call: ProjectCall, by: User | None, now: datetime | None = None) -> ProjectCall:
    """End the application period and start the review. Funder staff may close a call; the
    system (`by=None`) closes it once its deadline has passed."""
    now = now or timezone.now()
    if by is not None:
        _require_manager(by, call.pool)
    locked = _locked_call(call)
    CALL_LIFECYCLE.check(locked, "close", by)
    if by is None and locked.deadline > now:
        raise ValidationError(_("申报尚未截止，不能自动进入评审。"))
    _set_call_status(locked, CallStatus.REVIEWING, note="" if by is not None else "deadline passed")
    return locked


def calls_close_due(*, now: datetime | None = None) -> int:
    """Close every open call whose deadline has passed (run when calls are looked at: the
    application period ends at the deadline whether or not anyone clicks)."""
    now = now or timezone.now()
    closed = 0
    for call in ProjectCall.objects.filter(status=CallStatus.OPEN, deadline__lte=now):
        try:
            call_close(call=call, by=None, now=now)
        except ValidationError:
            continue  # closed meanwhile by someone else
        closed += 1
    return closed


@transaction.atomic
def call_decide(*, call: ProjectCall, by: User, now: datetime | None = None) -> ProjectCall:
    """Close the review: every submitted application has been awarded or rejected."""
    now = now or timezone.now()
    _require_manager(by, call.pool)
    locked = _locked_call(call)
    CALL_LIFECYCLE.check(locked, "decide", by)
    pending = locked.applications.filter(status=ApplicationStatus.SUBMITTED).count()
    if pending:
        raise ValidationError(
            _("还有 %(n)s 份申报尚未作出立项决定（立项或不予立项）。") % {"n": pending}
        )
    _set_call_status(locked, CallStatus.DECIDED, decided_at=now)
    return locked


@transaction.atomic
def call_cancel(
    *, call: ProjectCall, by: User, reason: str, now: datetime | None = None
) -> ProjectCall:
    """Withdraw a draft or open call; applications already submitted are closed as not
    awarded, with the reason."""
    now = now or timezone.now()
    _require_manager(by, call.pool)
    if not reason.strip():
        raise ValidationError({"reason": _("请填写撤销原因。")})
    locked = _locked_call(call)
    CALL_LIFECYCLE.check(locked, "cancel", by)
    for application in locked.applications.filter(status=ApplicationStatus.SUBMITTED):
        _decide(
            application,
            ApplicationStatus.REJECTED,
            by=by,
            now=now,
            reason=_("项目指南已撤销：%(reason)s") % {"reason": reason.strip()},
        )
    _set_call_status(locked, CallStatus.CANCELLED, note=reason.strip())
    return locked


# ---- needs (服务联动) -----------------------------------------------------------------------


@dataclass(frozen=True)
class CallNeed:
    """A surveyed need a call answers, as the needs app describes it."""

    label: str
    url: str = ""
    detail: str = ""


CallNeedsProvider = Callable[[ProjectCall, Any], Sequence[CallNeed]]
_needs_providers: list[CallNeedsProvider] = []


def register_call_needs(provider: CallNeedsProvider) -> None:
    """The needs app (服务联动) registers how to list the needs a call answers, as the user
    may see them; until one is registered the call page has no 回应的需求 section."""
    if provider not in _needs_providers:
        _needs_providers.append(provider)


def call_needs(call: ProjectCall, user: Any) -> list[CallNeed]:
    return [need for provider in _needs_providers for need in provider(call, user)]


# ---- applications --------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorSpec:
    kind: str
    metric: str
    name: str
    target: Decimal
    unit: str = ""

    def as_json(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "metric": self.metric,
            "name": self.name,
            "target": str(self.target),
            "unit": self.unit,
        }


@dataclass(frozen=True)
class BudgetLineSpec:
    category: str
    item: str
    amount: Decimal


def applicant_org(user: User) -> Organization:
    """The social organisation a manager applies for, or why it may not apply: it must be
    a social organisation in use, registered with a valid unified social credit code."""
    if not user.has_role(*APPLICANT_ROLES):
        raise ValidationError(_("只有社会组织负责人可以申报项目。"))
    org: Organization | None = user.organization
    if org is None:
        raise ValidationError(_("您的账号未关联社会组织，不能申报。"))
    if org.kind != OrgKind.SOCIAL_ORG:
        raise ValidationError(_("“%(org)s”不是社会组织，不能申报。") % {"org": org.name})
    if not org.is_active:
        raise ValidationError(_("“%(org)s”已撤销，不能申报。") % {"org": org.name})
    if not org.credit_code:
        raise ValidationError(_("“%(org)s”未登记统一社会信用代码，不能申报。") % {"org": org.name})
    try:
        validate_credit_code(org.credit_code)
    except ValidationError as exc:
        raise ValidationError(
            _("“%(org)s”的统一社会信用代码无效（%(why)s），不能申报。")
            % {"org": org.name, "why": "；".join(exc.messages)}
        ) from None
    return org


def application_communities(call: ProjectCall) -> QuerySet[Community]:
    """The communities an application to this call may serve: the call's own, or, when it
    names none, the communities of the funding level's area."""
    if call.pk and call.communities.exists():
        return call.communities.order_by("organization__path")
    return Community.objects.active().filter(organization__path__startswith=call.pool.owner.path)


def application_team(org: Organization) -> QuerySet[SocialWorker]:
    return SocialWorker.objects.active().filter(organization=org).select_related("person")


def application_errors(
    *,
    call: ProjectCall,
    org: Organization,
    communities: Sequence[Community],
    amount: Decimal,
    months: int,
    beneficiaries: int,
    indicators: Sequence[IndicatorSpec],
    budget_lines: Sequence[BudgetLineSpec],
    team: Sequence[SocialWorker],
) -> dict[str, list[str]]:
    """Every rule of an application's content against its call, by field."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if amount > call.budget_ceiling:
        add(
            "amount",
            _("申请金额 %(amount)s 超过本指南单个项目资助上限 %(ceiling)s。")
            % {"amount": yuan(amount), "ceiling": yuan(call.budget_ceiling)},
        )
    if not 1 <= months <= call.max_months:
        add(
            "months",
            _("项目周期须为 1 至 %(max)s 个月（本指南上限）。") % {"max": call.max_months},
        )
    if beneficiaries < 1:
        add("beneficiaries", _("受益人数须大于 0。"))
    if not communities:
        add("communities", _("请选择服务社区。"))
    allowed = set(application_communities(call).values_list("pk", flat=True))
    for community in communities:
        if community.pk not in allowed:
            add(
                "communities",
                _("社区“%(c)s”不在本指南的服务社区之中。") % {"c": community.name},
            )
    if not budget_lines:
        add("budget_lines", _("请填写预算明细。"))
    elif sum((line.amount for line in budget_lines), ZERO) != amount:
        add(
            "budget_lines",
            _("预算明细合计 %(total)s 与申请金额 %(amount)s 不一致。")
            % {
                "total": yuan(sum((line.amount for line in budget_lines), ZERO)),
                "amount": yuan(amount),
            },
        )
    for line in budget_lines:
        if line.category not in BudgetLine.Category.values:
            add("budget_lines", _("未知的预算科目。"))
        if line.amount <= 0:
            add("budget_lines", _("每项预算金额须大于 0。"))
    names = [i.name.strip() for i in indicators]
    for indicator in indicators:
        if indicator.kind not in IndicatorKind.values or indicator.metric not in Metric.values:
            add("indicators", _("未知的绩效指标类别。"))
        if not indicator.name.strip():
            add("indicators", _("请填写绩效指标名称。"))
        elif names.count(indicator.name.strip()) > 1:
            add("indicators", _("绩效指标“%(name)s”重复。") % {"name": indicator.name})
        if indicator.target <= 0:
            add(
                "indicators",
                _("绩效指标“%(name)s”的目标值须大于 0。") % {"name": indicator.name},
            )
    for worker in team:
        if worker.organization_id != org.pk or not worker.is_active:
            add(
                "team",
                _("%(name)s 不是%(org)s的在岗社工。") % {"name": worker, "org": org.name},
            )
    return {k: sorted(set(v), key=v.index) for k, v in errors.items()}


def _check_call_is_above(call: ProjectCall, org: Organization) -> None:
    if not org.path.startswith(call.pool.owner.path):
        raise ValidationError(_("该项目指南不面向您的机构。"))


def _check_accepting(call: ProjectCall, now: datetime) -> None:
    """Applications are taken while the call is open and before its deadline."""
    if call.deadline <= now:
        raise ValidationError(
            _("项目指南“%(call)s”的申报已于 %(deadline)s 截止，不能再提交。")
            % {"call": call.title, "deadline": _local(call.deadline)},
            code="deadline",
        )
    if call.status != CallStatus.OPEN:
        raise ValidationError(
            _("项目指南“%(call)s”当前为“%(status)s”，不在申报期。")
            % {"call": call.title, "status": call.get_status_display()},
            code="not_open",
        )


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _write_content(
    application: Application,
    *,
    communities: Sequence[Community],
    indicators: Sequence[IndicatorSpec],
    budget_lines: Sequence[BudgetLineSpec],
    team: Sequence[SocialWorker],
) -> None:
    application.communities.set(communities)
    application.team.set(team)
    application.budget_lines.all().delete()
    BudgetLine.objects.bulk_create(
        [
            BudgetLine(
                application=application,
                category=line.category,
                item=line.item.strip(),
                amount=line.amount,
            )
            for line in budget_lines
        ]
    )


@transaction.atomic
def application_create(
    *,
    call: ProjectCall,
    by: User,
    title: str,
    proposal: str,
    communities: Sequence[Community],
    beneficiaries: int,
    amount: Decimal,
    months: int,
    budget_lines: Sequence[BudgetLineSpec],
    indicators: Sequence[IndicatorSpec] = (),
    team: Sequence[SocialWorker] = (),
    beneficiaries_note: str = "",
    now: datetime | None = None,
) -> Application:
    """A draft application of the user's social organisation to an open call."""
    now = now or timezone.now()
    org = applicant_org(by)
    _check_call_is_above(call, org)
    _check_accepting(call, now)
    amount = to_money(amount)
    lines = [BudgetLineSpec(b.category, b.item, to_money(b.amount)) for b in budget_lines]
    errors = application_errors(
        call=call,
        org=org,
        communities=communities,
        amount=amount,
        months=months,
        beneficiaries=beneficiaries,
        indicators=indicators,
        budget_lines=lines,
        team=team,
    )
    if errors:
        raise ValidationError(errors)
    application = Application(
        call=call,
        organization=org,
        title=title.strip(),
        proposal=proposal,
        beneficiaries=beneficiaries,
        beneficiaries_note=beneficiaries_note,
        indicators=[i.as_json() for i in indicators],
        amount=amount,
        months=months,
    )
    application.validate_constraints()
    application.save()
    _write_content(
        application,
        communities=communities,
        indicators=indicators,
        budget_lines=lines,
        team=team,
    )
    return application


def _require_own(application: Application, by: User) -> Organization:
    org = applicant_org(by)
    if application.organization_id != org.pk:
        raise ValidationError(_("只能处理本机构的申报。"))
    return org


@transaction.atomic
def application_update(
    *,
    application: Application,
    by: User,
    expected_version: int,
    title: str,
    proposal: str,
    communities: Sequence[Community],
    beneficiaries: int,
    amount: Decimal,
    months: int,
    budget_lines: Sequence[BudgetLineSpec],
    indicators: Sequence[IndicatorSpec] = (),
    team: Sequence[SocialWorker] = (),
    beneficiaries_note: str = "",
) -> Application:
    """Edit a draft application (a submitted one is what the reviewers score)."""
    org = _require_own(application, by)
    Application.objects.select_for_update().filter(pk=application.pk).first()
    application.refresh_from_db(fields=["status"])
    if application.status != ApplicationStatus.DRAFT:
        raise ValidationError(
            _("申报当前为“%(status)s”，只有草稿可以修改。")
            % {"status": application.get_status_display()}
        )
    amount = to_money(amount)
    lines = [BudgetLineSpec(b.category, b.item, to_money(b.amount)) for b in budget_lines]
    errors = application_errors(
        call=application.call,
        org=org,
        communities=communities,
        amount=amount,
        months=months,
        beneficiaries=beneficiaries,
        indicators=indicators,
        budget_lines=lines,
        team=team,
    )
    if errors:
        raise ValidationError(errors)
    application.title, application.proposal = title.strip(), proposal
    application.beneficiaries, application.beneficiaries_note = beneficiaries, beneficiaries_note
    application.indicators = [i.as_json() for i in indicators]
    application.amount, application.months = amount, months
    application.validate_constraints()
    save_versioned(
        application,
        expected_version=expected_version,
        fields=[
            "title",
            "proposal",
            "beneficiaries",
            "beneficiaries_note",
            "indicators",
            "amount",
            "months",
        ],
    )
    _write_content(
        application,
        communities=communities,
        indicators=indicators,
        budget_lines=lines,
        team=team,
    )
    return application


def _stored_specs(
    application: Application,
) -> tuple[list[IndicatorSpec], list[BudgetLineSpec]]:
    indicators = [
        IndicatorSpec(
            kind=str(i.get("kind", "")),
            metric=str(i.get("metric", "")),
            name=str(i.get("name", "")),
            target=Decimal(str(i.get("target", "0"))),
            unit=str(i.get("unit", "")),
        )
        for i in application.indicators or []
    ]
    lines = [
        BudgetLineSpec(line.category, line.item, line.amount)
        for line in application.budget_lines.all()
    ]
    return indicators, lines


@transaction.atomic
def application_submit(
    *, application: Application, by: User, now: datetime | None = None
) -> Application:
    """Submit a draft while the call is open and before its deadline; every rule is checked
    again on what is stored."""
    now = now or timezone.now()
    org = _require_own(application, by)
    locked = (
        Application.objects.select_for_update()
        .select_related("call__pool__owner")
        .get(pk=application.pk)
    )
    APPLICATION_LIFECYCLE.check(locked, "submit", by)
    call = locked.call
    _check_accepting(call, now)
    indicators, lines = _stored_specs(locked)
    errors = application_errors(
        call=call,
        org=org,
        communities=list(locked.communities.all()),
        amount=locked.amount,
        months=locked.months,
        beneficiaries=locked.beneficiaries,
        indicators=indicators,
        budget_lines=lines,
        team=list(locked.team.all()),
    )
    if errors:
        raise ValidationError(errors)
    locked.status = ApplicationStatus.SUBMITTED
    locked.submitted_at, locked.submitted_by = now, by
    locked.version += 1
    locked.save()
    return locked


@transaction.atomic
def application_withdraw(
    *, application: Application, by: User, now: datetime | None = None
) -> Application:
    """Withdraw a submitted application while the call is still taking applications."""
    now = now or timezone.now()
    _require_own(application, by)
    locked = Application.objects.select_for_update().select_related("call").get(pk=application.pk)
    APPLICATION_LIFECYCLE.check(locked, "withdraw", by)
    if locked.call.status != CallStatus.OPEN or locked.call.deadline <= now:
        raise ValidationError(_("项目指南已截止征集，申报不能再撤回。"))
    locked.status = ApplicationStatus.WITHDRAWN
    locked.average_score = None
    locked.rank = None
    locked.version += 1
    locked.save()
    return locked


# ---- reviews -------------------------------------------------------------------------------


def review_conflict(application: Application, reviewer: User) -> str | None:
    """A tie between the reviewer and the applicant that the system can see, said in words,
    or None: the reviewer's own organisation applies, or the reviewer is a person employed
    by the applicant (as staff or as its social worker)."""
    org = application.organization
    if reviewer.organization_id == org.pk:
        return _("您所在的机构即申报机构“%(org)s”") % {"org": org.name}
    if Person.objects.filter(user=reviewer, employer=org, is_active=True).exists():
        return _("您受雇于申报机构“%(org)s”") % {"org": org.name}
    if SocialWorker.objects.active().filter(person__user=reviewer, organization=org).exists():
        return _("您是申报机构“%(org)s”的社工") % {"org": org.name}
    return None


def weighted_total(weights: Mapping[int, int], scores: Mapping[int, Decimal]) -> Decimal:
    """Σ score × weight / 100, to the hundredth (weights by criterion, adding up to 100)."""
    total = sum((scores[pk] * weight for pk, weight in weights.items()), ZERO) / HUNDRED
    return total.quantize(CENT, rounding=ROUND_HALF_UP)


def _reviewable(application: Application, reviewer: User) -> tuple[ProjectCall, Review]:
    """Lock the call, check the reviewer may act on this application now, and return the
    (locked) review row, created as a draft the first time."""
    call = ProjectCall.objects.select_for_update().get(pk=application.call_id)
    if not CallReviewer.objects.filter(call=call, reviewer=reviewer).exists():
        raise ValidationError(_("您不是本项目指南的评审专家。"))
    if call.status != CallStatus.REVIEWING:
        raise ValidationError(
            _("项目指南“%(call)s”当前为“%(status)s”，不在评审阶段。")
            % {"call": call.title, "status": call.get_status_display()}
        )
    application.refresh_from_db(fields=["status"])
    if application.status != ApplicationStatus.SUBMITTED:
        raise ValidationError(
            _("该申报当前为“%(status)s”，不能再评审。")
            % {"status": application.get_status_display()}
        )
    review, _created = Review.objects.get_or_create(application=application, reviewer=reviewer)
    review = Review.objects.select_for_update().get(pk=review.pk)
    return call, review


@transaction.atomic
def review_submit(
    *,
    application: Application,
    reviewer: User,
    scores: Mapping[int, Decimal],
    comment: str,
    now: datetime | None = None,
) -> Review:
    """Score an application against each criterion of its call (0–100 each), with a comment.
    A reviewer tied to the applicant is refused; the call's averages and ranks follow."""
    now = now or timezone.now()
    tie = review_conflict(application, reviewer)
    if tie:
        raise ValidationError(
            _("%(tie)s，存在利益冲突，须回避，不能评分。") % {"tie": tie}, code="conflict"
        )
    call, review = _reviewable(application, reviewer)
    REVIEW_LIFECYCLE.check(review, "submit", reviewer)
    if not comment.strip():
        raise ValidationError({"comment": _("请填写评审意见。")})
    criteria = list(call.criteria.all())
    missing = [c.name for c in criteria if c.pk not in scores]
    if missing:
        raise ValidationError(
            _("请为每项评审指标打分（未打分：%(names)s）。") % {"names": _("、").join(missing)}
        )
    checked: dict[int, Decimal] = {}
    for criterion in criteria:
        score = scores[criterion.pk]
        if not isinstance(score, Decimal) or not score.is_finite() or not 0 <= score <= 100:
            raise ValidationError(
                _("“%(name)s”的得分须为 0 至 100 分。") % {"name": criterion.name}
            )
        if score != score.quantize(CENT):
            raise ValidationError(_("“%(name)s”的得分最多两位小数。") % {"name": criterion.name})
        checked[criterion.pk] = score
    review.scores.all().delete()
    ReviewScore.objects.bulk_create(
        [ReviewScore(review=review, criterion=c, score=checked[c.pk]) for c in criteria]
    )
    review.total = weighted_total({c.pk: c.weight for c in criteria}, checked)
    review.comment = comment.strip()
    review.status = ReviewStatus.SUBMITTED
    review.submitted_at = now
    review.save()
    call_rank(call=call)
    return review


@transaction.atomic
def review_recuse(
    *, application: Application, reviewer: User, note: str, now: datetime | None = None
) -> Review:
    """The reviewer declares a conflict of interest and steps aside (no score)."""
    now = now or timezone.now()
    if not note.strip():
        raise ValidationError({"conflict_note": _("请说明利益冲突的情况。")})
    _call, review = _reviewable(application, reviewer)
    REVIEW_LIFECYCLE.check(review, "recuse", reviewer)
    review.status = ReviewStatus.RECUSED
    review.conflict_declared = True
    review.conflict_note = note.strip()
    review.total = None
    review.submitted_at = now
    review.save()
    return review


def call_rank(*, call: ProjectCall) -> None:
    """Average the submitted review totals of each application and rank the call's
    applications by it (ties: the earlier submission first); unscored ones have no rank."""
    applications = list(
        call.applications.filter(
            status__in=[
                ApplicationStatus.SUBMITTED,
                ApplicationStatus.AWARDED,
                ApplicationStatus.REJECTED,
            ]
        )
    )
    totals: dict[int, list[Decimal]] = {}
    for application_id, total in Review.objects.filter(
        application__in=applications, status=ReviewStatus.SUBMITTED
    ).values_list("application_id", "total"):
        totals.setdefault(application_id, []).append(total)
    averages = {
        pk: (sum(values, ZERO) / len(values)).quantize(CENT, rounding=ROUND_HALF_UP)
        for pk, values in totals.items()
    }
    scored = sorted(
        (a for a in applications if a.pk in averages),
        key=lambda a: (-averages[a.pk], a.submitted_at or a.created_at, a.pk),
    )
    ranks = {a.pk: n for n, a in enumerate(scored, start=1)}
    for application in applications:
        average, rank = averages.get(application.pk), ranks.get(application.pk)
        if (application.average_score, application.rank) != (average, rank):
            Application.objects.filter(pk=application.pk).update(average_score=average, rank=rank)


def applicant_track_record(org: Organization) -> QuerySet[ServiceProject]:
    """The organisation's accepted projects with their final grades, newest first: shown to
    reviewers and funders (优秀/良好 stand out; 不合格 bars next year's awards). A deliberate
    disclosure of the title, year and grade only."""
    return (
        ServiceProject.objects.filter(organization=org, status=ProjectStatus.ACCEPTED)
        .exclude(final_grade="")
        .select_related("pool")
        .order_by("-accepted_on", "-pk")
    )


# ---- award decision (立项) ------------------------------------------------------------------


def _failed_last_year(application: Application, call: ProjectCall) -> ServiceProject | None:
    return (
        ServiceProject.objects.filter(
            organization_id=application.organization_id,
            status=ProjectStatus.ACCEPTED,
            final_grade=Grade.FAIL,
            pool__year=call.pool.year - 1,
        )
        .order_by("-accepted_on")
        .first()
    )


def _decide(
    application: Application, status: str, *, by: User | None, now: datetime, reason: str
) -> None:
    """Record a decision on a locked application (the save is audited with what changed:
    status, amount, reason, who and when)."""
    application.status = status
    application.decision_reason = reason
    application.decided_by = by
    application.decided_at = now
    application.version += 1
    application.save()


def _decision_call(application: Application, by: User) -> tuple[ProjectCall, Application]:
    """Lock the call, then the application (always in that order), and check the call is in
    review."""
    call = (
        ProjectCall.objects.select_for_update()
        .select_related("pool__owner")
        .get(pk=application.call_id)
    )
    _require_manager(by, call.pool)
    if call.status != CallStatus.REVIEWING:
        raise ValidationError(
            _("项目指南“%(call)s”当前为“%(status)s”，只能在评审中作出立项决定。")
            % {"call": call.title, "status": call.get_status_display()}
        )
    locked = (
        Application.objects.select_for_update()
        .select_related("organization")
        .get(pk=application.pk)
    )
    return call, locked


@transaction.atomic
def application_award(
    *,
    application: Application,
    by: User,
    amount: Decimal,
    reason: str,
    now: datetime | None = None,
) -> Application:
    """立项: award an amount (≤ the request, ≤ the call's ceiling) and reserve it in the pool.

    Locks, in order: the call (awards of one call queue, so their sum stays within the call's
    total), the application (it is decided once), the pool (its remaining is read and moved
    in one step; the CHECK constraint is the last line of defence)."""
    now = now or timezone.now()
    amount = to_money(amount)
    if not reason.strip():
        raise ValidationError({"reason": _("请填写立项理由。")})
    call, locked = _decision_call(application, by)
    APPLICATION_LIFECYCLE.check(locked, "award", by)
    if amount > locked.amount:
        raise ValidationError(
            {
                "amount": _("立项金额 %(amount)s 超过申请金额 %(requested)s。")
                % {"amount": yuan(amount), "requested": yuan(locked.amount)}
            }
        )
    if amount > call.budget_ceiling:
        raise ValidationError(
            {
                "amount": _("立项金额 %(amount)s 超过本指南单个项目资助上限 %(ceiling)s。")
                % {"amount": yuan(amount), "ceiling": yuan(call.budget_ceiling)}
            }
        )
    failed = _failed_last_year(locked, call)
    if failed is not None:
        raise ValidationError(
            _(
                "“%(org)s”承接的项目“%(project)s”（%(year)s年度）结项评估为不合格，"
                "不能在%(next)s年度的项目指南中立项。"
            )
            % {
                "org": locked.organization.name,
                "project": failed.title,
                "year": call.pool.year - 1,
                "next": call.pool.year,
            },
            code="failed_last_year",
        )
    awarded = (
        call.applications.filter(status=ApplicationStatus.AWARDED).aggregate(
            s=Sum("awarded_amount")
        )["s"]
        or ZERO
    )
    if awarded + amount > call.total_budget:
        raise ValidationError(
            {
                "amount": _(
                    "本指南已立项 %(awarded)s，再立项 %(amount)s 将超过计划资金 %(total)s。"
                )
                % {
                    "awarded": yuan(awarded),
                    "amount": yuan(amount),
                    "total": yuan(call.total_budget),
                }
            }
        )
    pool = BudgetPool.objects.select_for_update().get(pk=call.pool_id)
    if amount > pool.remaining:
        raise ValidationError(
            _("资金池“%(pool)s”剩余可分配额 %(remaining)s，不足以立项 %(amount)s。")
            % {"pool": pool.name, "remaining": yuan(pool.remaining), "amount": yuan(amount)},
            code="pool_exhausted",
        )
    pool_reserve(pool=pool, amount=amount)
    audit.record(
        AuditAction.UPDATE,
        obj=pool,
        changes={
            "allocated": [pool.allocated, pool.allocated + amount],
            "application": locked.pk,
        },
    )
    locked.awarded_amount = amount
    _decide(locked, ApplicationStatus.AWARDED, by=by, now=now, reason=reason.strip())
    return locked


@transaction.atomic
def application_reject(
    *, application: Application, by: User, reason: str, now: datetime | None = None
) -> Application:
    """Not awarded, with the reasons."""
    now = now or timezone.now()
    if not reason.strip():
        raise ValidationError({"reason": _("请填写不予立项的理由。")})
    _call, locked = _decision_call(application, by)
    APPLICATION_LIFECYCLE.check(locked, "reject", by)
    _decide(locked, ApplicationStatus.REJECTED, by=by, now=now, reason=reason.strip())
    return locked
