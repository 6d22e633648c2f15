"""预算分配: the applications of a project call as candidates, the rules a funding level
sets, the exact MIP of `methods.allocation` (HiGHS), and the comparison with two baselines
(funding by review score until the money runs out; last year's actual awards) with the
fairness figures of each. Scenarios are saved so that rule sets can be compared."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from sanlian.core.models import User
from sanlian.organizations.models import Tier
from sanlian.resources.models import Application, ApplicationStatus, ProjectCall

from ..methods import MethodError, fairness
from ..methods import allocation as method
from ..models import AllocationScenario, TierProposal
from .common import analysis_area

# Without a tier assessment, a community's need score follows its tier (documented on the
# page): weak communities need most.
TIER_NEED = {Tier.WEAK: 1.0, Tier.ORDINARY: 0.7, Tier.STAR: 0.4}


def calls(user: User) -> QuerySet[ProjectCall]:
    return ProjectCall.objects.visible_to(user).published().select_related("pool")


def _need_scores(user: User) -> dict[int, float]:
    """1 − the community's latest entropy-weight TOPSIS score visible to the user."""
    out: dict[int, float] = {}
    latest = TierProposal.objects.visible_to(user).order_by(
        "community", "-assessment__created_at", "-pk"
    )
    for cid, score in latest.values_list("community", "score"):
        out.setdefault(cid, round(1 - float(score), 6))
    return out


def call_candidates(
    user: User, call: ProjectCall
) -> tuple[list[method.Candidate], list[str], dict[int, str], dict[int, str]]:
    """The submitted (or decided) applications of the call with a review score, as
    candidates; notes say which were left out and how need was scored."""
    notes: list[str] = []
    apps = (
        Application.objects.visible_to(user)
        .filter(call=call)
        .exclude(status__in=[ApplicationStatus.DRAFT, ApplicationStatus.WITHDRAWN])
        .select_related("organization")
        .prefetch_related("communities")
        .order_by("pk")
    )
    needs = _need_scores(user)
    by_tier: set[int] = set()
    candidates, unscored, several = [], [], 0
    community_names: dict[int, str] = {}
    org_names: dict[int, str] = {}
    for app in apps:
        communities = sorted(app.communities.all(), key=lambda c: (c.name, c.pk))
        if app.average_score is None or not communities:
            unscored.append(app.title)
            continue
        first = communities[0]
        several += len(communities) > 1
        need = needs.get(first.pk)
        if need is None:
            need = TIER_NEED.get(first.tier, 0.7)
            by_tier.add(first.pk)
        community_names[first.pk] = first.name
        org_names[app.organization_id] = app.organization.name
        candidates.append(
            method.Candidate(
                id=app.pk,
                cost=app.amount,
                beneficiaries=app.beneficiaries,
                community_id=first.pk,
                tier=first.tier,
                field=call.service_field,
                org_id=app.organization_id,
                review_score=float(app.average_score),
                need_score=need,
                label=app.title,
            )
        )
    if unscored:
        notes.append(
            _("%(n)d 个申报尚无评审得分或服务社区，未参加分配：%(names)s")
            % {"n": len(unscored), "names": "、".join(unscored[:10])}
        )
    if several:
        notes.append(
            _("%(n)d 个申报服务多个社区，按第一个服务社区计入社区上限和类别。") % {"n": several}
        )
    if by_tier:
        notes.append(
            _("%(n)d 个社区尚无分类评估得分，需求分按类别取值：薄弱 1.0，普通 0.7，明星 0.4。")
            % {"n": len(by_tier)}
        )
    return candidates, notes, community_names, org_names


def _fairness(alloc: method.Allocation) -> dict[str, Any]:
    amounts = [float(g.amount) for g in alloc.by_community.values()]
    try:
        m = fairness.summarise(amounts)
    except MethodError as exc:
        return {"error": exc.message}
    return {"gini": m.gini, "theil": m.theil, "hhi": m.hhi, "top10": m.top10_share}


def _summary(alloc: method.Allocation) -> dict[str, Any]:
    spent = alloc.spent or Decimal(0)
    return {
        "chosen": list(alloc.chosen),
        "objective": alloc.objective,
        "spent": str(alloc.spent),
        "leftover": str(alloc.leftover) if alloc.leftover is not None else None,
        "status": alloc.status,
        "gap": alloc.gap,
        "solver_seconds": alloc.solver_seconds,
        "total_seconds": alloc.total_seconds,
        "beneficiaries": sum(g.beneficiaries for g in alloc.by_tier.values()),
        "tiers": {
            t: {
                "amount": str(g.amount),
                "projects": g.projects,
                "share": float(g.amount / spent * 100) if spent else 0.0,
            }
            for t, g in alloc.by_tier.items()
        },
        "communities_funded": sum(1 for g in alloc.by_community.values() if g.projects),
        "fairness": _fairness(alloc),
        "notes": list(alloc.notes),
    }


def _last_year(
    user: User, call: ProjectCall, candidates: Sequence[method.Candidate]
) -> dict[str, Any] | None:
    """Last year's actual awards of the same funding level, as a distribution."""
    awarded = list(
        Application.objects.visible_to(user)
        .filter(
            call__pool__owner=call.pool.owner,
            call__pool__year=call.pool.year - 1,
            status=ApplicationStatus.AWARDED,
        )
        .prefetch_related("communities")
    )
    if not awarded:
        return None
    past = []
    for app in awarded:
        communities = sorted(app.communities.all(), key=lambda c: (c.name, c.pk))
        if not communities:
            continue
        c = communities[0]
        past.append(
            method.Candidate(
                id=app.pk, cost=app.awarded_amount or app.amount, beneficiaries=app.beneficiaries,
                community_id=c.pk, tier=c.tier, field="", org_id=app.organization_id,
                review_score=float(app.average_score or 0), need_score=TIER_NEED.get(c.tier, 0.7),
                label=app.title,
            )
        )  # fmt: skip
    if not past:
        return None
    return _summary(method.allocation_from_ids(past, [c.id for c in past]))


@transaction.atomic
def scenario_run(
    *,
    by: User,
    call: ProjectCall,
    name: str,
    budget: Decimal,
    max_community_share: Decimal | None = None,
    weak_floor: Decimal | None = None,
    max_per_org: Decimal | None = None,
    must_fund: Sequence[int] = (),
    must_not_fund: Sequence[int] = (),
) -> AllocationScenario:
    """Solves the scenario and saves it with its result; contradictory rules are saved too,
    with the explanation of which rules conflict."""
    area = analysis_area(by, _("只有工会联合会或区域工作人员可以做预算分配。"))
    if not calls(by).filter(pk=call.pk).exists():
        raise PermissionDenied(_("您不能使用这个项目指南。"))
    if budget <= 0:
        raise ValidationError({"budget": _("预算须大于 0。")})
    candidates, notes, community_names, org_names = call_candidates(by, call)
    result: dict[str, Any] = {"notes": notes, "candidates": len(candidates)}
    rules = method.Rules(
        budget=budget,
        max_community_share=float(max_community_share) if max_community_share else None,
        weak_floor=float(weak_floor) if weak_floor else None,
        max_per_org=max_per_org,
        must_fund=frozenset(must_fund),
        must_not_fund=frozenset(must_not_fund),
    )
    try:
        solved = method.solve(
            candidates, rules, community_names=community_names, org_names=org_names
        )
        result["solved"] = _summary(solved)
    except MethodError as exc:
        result["error"] = exc.message
        result["details"] = list(exc.details)
    if candidates:
        try:
            result["by_review"] = _summary(method.baseline_by_review(candidates, budget))
        except MethodError as exc:
            result["by_review"] = {"error": exc.message}
    result["last_year"] = _last_year(by, call, candidates)
    result["labels"] = {str(c.id): c.label for c in candidates}
    return AllocationScenario.objects.create(
        area=area,
        call=call,
        name=name.strip() or _("分配方案"),
        budget=budget,
        max_community_share=max_community_share,
        weak_floor=weak_floor,
        max_per_org=max_per_org,
        must_fund=sorted(must_fund),
        must_not_fund=sorted(must_not_fund),
        result=result,
        created_by=by,
    )
