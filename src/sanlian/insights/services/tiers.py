"""社区分类: the indicators of each community from what the links record, combined by
entropy-weight TOPSIS (`methods.topsis`) into a score and proposed tiers; a person with the
right role accepts or overrides each proposal, the reason kept in the audit trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Avg, Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sanlian.core import audit
from sanlian.core.models import User
from sanlian.delivery.models import Activity, Case, Demand
from sanlian.organizations.models import (
    Community,
    Membership,
    Organization,
    OrgKind,
    SocialWorker,
    Tier,
    Venue,
)

from ..methods import MethodError
from ..methods import topsis as method
from ..models import TierAssessment, TierDecision, TierProposal
from .common import analysis_area, count_per_community

YEAR = dt.timedelta(days=365)


@dataclass(frozen=True)
class IndicatorDef:
    key: str
    label: Any
    benefit: bool = True


# The indicator set (configurable per assessment: any subset, at least two).
INDICATORS = (
    IndicatorDef("member_rate", gettext_lazy("会员率（每百名居民会员数）")),
    IndicatorDef("venues", gettext_lazy("每千人场地数")),
    IndicatorDef("social_orgs", gettext_lazy("活跃社会组织数")),
    IndicatorDef("services", gettext_lazy("近一年服务量（每千人活动与个案）")),
    IndicatorDef("satisfaction", gettext_lazy("诉求满意度（1—5）")),
    IndicatorDef("cadres", gettext_lazy("社工力量（每千人社工数）")),
)
BY_KEY = {i.key: i for i in INDICATORS}


def _per_thousand(n: float, population: int) -> float | None:
    return n / population * 1000 if population > 0 else None


def indicator_matrix(
    communities: Sequence[Community], keys: Sequence[str]
) -> list[list[float | None]]:
    """One row per community, one column per indicator key; None where the value cannot be
    known (no residents recorded, no rated demand)."""
    ids = [c.pk for c in communities]
    paths = {c.organization.path: c.pk for c in communities}
    since = timezone.localdate() - YEAR
    members = count_per_community(Membership.objects.active(), "union__path", paths)
    social = count_per_community(
        Organization.objects.filter(kind=OrgKind.SOCIAL_ORG, is_active=True), "path", paths
    )
    workers = count_per_community(SocialWorker.objects.all(), "organization__path", paths)
    venues = dict(
        Venue.objects.filter(community__in=ids)
        .order_by()
        .values_list("community")
        .annotate(n=Count("pk"))
    )
    activities = dict(
        Activity.objects.filter(community__in=ids, date__gte=since)
        .order_by()
        .values_list("community")
        .annotate(n=Count("pk"))
    )
    cases = dict(
        Case.objects.filter(person__community__in=ids, opened_on__gte=since)
        .order_by()
        .values_list("person__community")
        .annotate(n=Count("pk"))
    )
    satisfaction = dict(
        Demand.objects.filter(community__in=ids, satisfaction__isnull=False).order_by().values_list("community").annotate(a=Avg("satisfaction"))
    )  # fmt: skip
    rows = []
    for c in communities:
        pop = c.population
        values: dict[str, float | None] = {
            "member_rate": members[c.pk] / pop * 100 if pop > 0 else None,
            "venues": _per_thousand(venues.get(c.pk, 0), pop),
            "social_orgs": float(social[c.pk]),
            "services": _per_thousand(activities.get(c.pk, 0) + cases.get(c.pk, 0), pop),
            "satisfaction": float(satisfaction[c.pk]) if c.pk in satisfaction else None,
            "cadres": _per_thousand(workers[c.pk], pop),
        }
        rows.append([values[k] for k in keys])
    return rows


def _area(by: User) -> Organization:
    return analysis_area(by, _("只有工会联合会或区域工作人员可以评估社区分类。"))


def _q(x: float) -> Decimal:
    return Decimal(str(round(x, 5)))


@transaction.atomic
def assessment_run(
    *,
    by: User,
    title: str,
    keys: Sequence[str],
    star_share: Decimal = Decimal("0.15"),
    weak_share: Decimal = Decimal("0.25"),
    impute: bool = True,
) -> TierAssessment:
    """Scores the active communities of the user's area and proposes tiers. Raises
    ValidationError with the method's Chinese explanation when it cannot (fewer than two
    indicators or communities, no variance, missing values without imputation…)."""
    area = _area(by)
    unknown = [k for k in keys if k not in BY_KEY]
    if unknown or len(keys) < 2:
        raise ValidationError({"keys": _("请至少选择两个评估指标。")})
    communities = list(
        Community.objects.visible_to(by).active().select_related("organization").order_by("pk")
    )
    indicators = [method.Indicator(k, str(BY_KEY[k].label), BY_KEY[k].benefit) for k in keys]
    matrix = indicator_matrix(communities, keys)
    try:
        result = method.topsis(
            matrix,
            indicators,
            labels=[c.name for c in communities],
            missing="mean" if impute else "error",
        )
        proposed = method.propose_tiers(
            result.scores, star_share=float(star_share), weak_share=float(weak_share)
        )
        weak_below, star_from = method.tier_cutoffs(
            result.scores, star_share=float(star_share), weak_share=float(weak_share)
        )
    except MethodError as exc:
        raise ValidationError(" ".join([exc.message, *exc.details])) from exc
    assessment = TierAssessment.objects.create(
        area=area,
        title=title.strip() or _("社区分类评估"),
        indicators=[{"key": i.key, "label": i.label, "benefit": i.benefit} for i in indicators],
        weights={
            w.key: {"weight": w.weight, "entropy": w.entropy, "divergence": w.divergence}
            for w in result.weights
        },
        notes=[*result.notes, *[f"{d.label}：{d.reason}" for d in result.dropped]],
        star_share=star_share,
        weak_share=weak_share,
        star_from=_q(star_from if star_from is not None else 1.0),
        weak_below=_q(weak_below if weak_below is not None else 0.0),
        created_by=by,
    )
    TierProposal.objects.bulk_create(
        TierProposal(
            assessment=assessment,
            community=c,
            score=_q(score),
            rank=rank,
            tier_before=c.tier,
            proposed_tier=tier,
            explanation=[
                {
                    "label": t.label,
                    "raw": t.raw,
                    "imputed": t.imputed,
                    "weighted": t.weighted,
                    "ideal": t.ideal,
                    "plus": t.to_ideal_sq,
                    "minus": t.to_anti_ideal_sq,
                }
                for t in explanation.contributions
            ],
        )
        for c, score, rank, tier, explanation in zip(
            communities, result.scores, result.ranks, proposed, result.rows, strict=True
        )
    )
    return assessment


@transaction.atomic
def proposal_decide(
    *, proposal: TierProposal, by: User, tier: str | None = None, reason: str = ""
) -> TierProposal:
    """Accepts the proposed tier (tier None or equal to it) or sets another with a reason;
    the community's tier changes and the audit trail keeps who, what and why."""
    _area(by)
    if not TierProposal.objects.visible_to(by).filter(pk=proposal.pk).exists():
        raise PermissionDenied(_("您不能决定这个社区的分类。"))
    proposal = TierProposal.objects.select_for_update().get(pk=proposal.pk)
    chosen = tier or proposal.proposed_tier
    if chosen not in Tier.values:
        raise ValidationError({"tier": _("请选择明星、普通或薄弱。")})
    overridden = chosen != proposal.proposed_tier
    reason = reason.strip()
    if overridden and not reason:
        raise ValidationError({"reason": _("不采纳建议分类时，请说明理由。")})
    community = Community.objects.select_for_update().get(pk=proposal.community_id)
    before = community.tier
    community.tier = chosen
    community.save()
    proposal.decision = TierDecision.OVERRIDDEN if overridden else TierDecision.ACCEPTED
    proposal.decided_tier, proposal.reason = chosen, reason
    proposal.decided_by, proposal.decided_at = by, timezone.now()
    proposal.save()
    audit.record(
        "tier_decided",
        obj=community,
        changes={
            "tier": [before, chosen],
            "proposed": proposal.proposed_tier,
            "score": str(proposal.score),
            "assessment": proposal.assessment_id,
            "reason": reason,
        },
    )
    return proposal
