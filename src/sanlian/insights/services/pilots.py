"""试点评估: pilot batches (communities, comparison communities, indicators and their
baseline and follow-up values), the difference-in-differences evaluation of
`methods.pilots`, and the ranking of the next pilots from what the links record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from sanlian.core.models import User
from sanlian.delivery.models import Demand
from sanlian.organizations.models import Community, Membership, Organization, OrgKind, Volunteer
from sanlian.resources.models import ResourceEntry

from ..methods import MethodError
from ..methods import pilots as method
from ..models import Period, PilotBatch, PilotIndicator, PilotValue
from .common import analysis_area, count_per_community


def _area(by: User) -> Organization:
    return analysis_area(by, _("只有工会联合会或区域工作人员可以管理试点。"))


def _check_communities(by: User, communities: Iterable[Community], field: str) -> list[Community]:
    chosen = list(communities)
    visible = set(
        Community.objects.visible_to(by)
        .filter(pk__in=[c.pk for c in chosen])
        .values_list("pk", flat=True)
    )
    outside = [c.name for c in chosen if c.pk not in visible]
    if outside:
        raise ValidationError(
            {field: _("不在您的管理范围内：%(names)s") % {"names": "、".join(outside)}}
        )
    return chosen


@transaction.atomic
def pilot_create(
    *,
    by: User,
    name: str,
    starts_on: dt.date,
    pilots: Sequence[Community],
    comparisons: Sequence[Community] = (),
    indicators: Sequence[tuple[str, str, bool]] = (),
    note: str = "",
) -> PilotBatch:
    """A batch of the user's area with its pilot and comparison communities and indicators
    (name, unit, higher is better)."""
    area = _area(by)
    pilots = _check_communities(by, pilots, "pilots")
    comparisons = _check_communities(by, comparisons, "comparisons")
    if not pilots:
        raise ValidationError({"pilots": _("请至少选择一个试点社区。")})
    both = {c.pk for c in pilots} & {c.pk for c in comparisons}
    if both:
        names = "、".join(c.name for c in pilots if c.pk in both)
        raise ValidationError(
            {"comparisons": _("对照社区不能同时是试点社区：%(names)s") % {"names": names}}
        )
    batch = PilotBatch.objects.create(
        area=area, name=name.strip(), starts_on=starts_on, note=note.strip(), created_by=by
    )
    batch.pilots.set(pilots)
    batch.comparisons.set(comparisons)
    for indicator_name, unit, higher in indicators:
        indicator_add(batch=batch, by=by, name=indicator_name, unit=unit, higher_is_better=higher)
    return batch


def _managed(by: User, batch: PilotBatch) -> None:
    if not PilotBatch.objects.visible_to(by).filter(pk=batch.pk).exists():
        raise PermissionDenied(_("您不能修改这个试点批次。"))
    _area(by)


def indicator_add(
    *, batch: PilotBatch, by: User, name: str, unit: str = "", higher_is_better: bool = True
) -> PilotIndicator:
    _managed(by, batch)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("请填写指标名称。")})
    if batch.indicators.filter(name=name).exists():
        raise ValidationError({"name": _("本批次已有同名指标。")})
    return PilotIndicator.objects.create(
        batch=batch, name=name, unit=unit.strip(), higher_is_better=higher_is_better
    )


def batch_communities(batch: PilotBatch) -> list[tuple[Community, bool]]:
    """(community, is a pilot) of a batch, pilots first."""
    pilots = list(batch.pilots.order_by("name", "pk"))
    comparisons = list(batch.comparisons.order_by("name", "pk"))
    return [(c, True) for c in pilots] + [(c, False) for c in comparisons]


@transaction.atomic
def values_save(
    *,
    indicator: PilotIndicator,
    by: User,
    values: dict[tuple[int, str], Decimal | None],
) -> int:
    """Baseline and follow-up values of the batch's communities ((community id, period) →
    value; None clears). All or nothing: a community outside the batch refuses the lot."""
    _managed(by, indicator.batch)
    allowed = {c.pk for c, _pilot in batch_communities(indicator.batch)}
    stray = sorted({cid for cid, _period in values} - allowed)
    if stray:
        raise ValidationError(_("社区不在本批次中：%(ids)s") % {"ids": stray})
    changed = 0
    for (community_id, period), value in values.items():
        if period not in Period.values:
            raise ValidationError(_("期次只能是基线或跟进。"))
        existing = PilotValue.objects.filter(
            indicator=indicator, community_id=community_id, period=period
        ).first()
        if value is None:
            if existing is not None:
                existing.delete()
                changed += 1
            continue
        if existing is None:
            PilotValue.objects.create(
                indicator=indicator, community_id=community_id, period=period, value=value,
                recorded_by=by,
            )  # fmt: skip
            changed += 1
        elif existing.value != value:
            existing.value, existing.recorded_by = value, by
            existing.save()
            changed += 1
    return changed


def value_grid(indicator: PilotIndicator) -> dict[tuple[int, str], Decimal]:
    return {
        (cid, period): value
        for cid, period, value in indicator.values.values_list("community_id", "period", "value")
    }


@dataclass
class Evaluation:
    indicator: PilotIndicator
    overall: method.DidResult | None
    error: str
    details: list[str]
    by_tier: dict[str, method.DidResult | MethodError]


def evaluate(
    indicator: PilotIndicator,
    *,
    alpha: float = 0.05,
    communities: list[tuple[Community, bool]] | None = None,
) -> Evaluation:
    """The effect of the pilot on one indicator, overall and within each tier (pass the
    batch's `communities` when evaluating several indicators). For an indicator where lower
    is better the sign is as measured (a fall is a negative effect)."""
    if communities is None:
        communities = batch_communities(indicator.batch)
    grid = value_grid(indicator)
    observations = [
        method.Observation(
            community_id=c.pk, tier=c.tier, pilot=pilot, period=period,  # type: ignore[arg-type]
            value=float(grid[(c.pk, period)]), label=c.name,
        )
        for c, pilot in communities
        for period in Period.values
        if (c.pk, period) in grid
    ]  # fmt: skip
    name = indicator.name
    try:
        overall = method.did(observations, alpha=alpha, indicator=name)
    except MethodError as exc:
        return Evaluation(indicator, None, exc.message, exc.details, {})
    try:
        by_tier = method.did_by_tier(observations, alpha=alpha, indicator=name)
    except MethodError as exc:  # pragma: no cover - the overall estimate passed the same checks
        by_tier = {"": exc}
    return Evaluation(indicator, overall, "", [], by_tier)


# ---- the next pilots ---------------------------------------------------------------------------

YEAR = dt.timedelta(days=365)


@dataclass(frozen=True)
class Readiness:
    social_orgs: int
    members: int
    volunteers: int
    population: int

    def score(self) -> float:
        """Three conditions, each worth a third when fully met: a social organisation based
        in the community (two or more for the full third), union members (30 per 100
        residents) and volunteers (10 per 1,000 residents)."""
        pop = max(self.population, 1)
        return (
            min(1.0, self.social_orgs / 2)
            + min(1.0, self.members / pop / 0.30)
            + min(1.0, self.volunteers / pop * 1000 / 10)
        ) / 3


def next_pilot_candidates(user: User) -> list[method.PilotCandidate]:
    """The visible active communities with the figures the ranking needs: need (demands of
    the last year per 1,000 residents), readiness (see Readiness) and their share of the
    last year's resources; communities already in a pilot batch are marked."""
    communities = list(Community.objects.visible_to(user).active().select_related("organization"))
    paths = {c.organization.path: c.pk for c in communities}
    since = timezone.now() - YEAR
    demands = dict(
        Demand.objects.filter(community__in=communities, received_at__gte=since)
        .order_by()
        .values_list("community")
        .annotate(n=Count("pk"))
    )
    resources = dict(
        ResourceEntry.objects.filter(
            community__in=communities, occurred_on__gte=timezone.localdate() - YEAR
        )
        .order_by()
        .values_list("community")
        .annotate(total=Sum("value"))
    )
    total = sum(resources.values(), Decimal(0))
    social = count_per_community(
        Organization.objects.filter(kind=OrgKind.SOCIAL_ORG, is_active=True), "path", paths
    )
    members = count_per_community(Membership.objects.active(), "union__path", paths)
    volunteers = count_per_community(Volunteer.objects.all(), "team__path", paths)
    in_pilot = set(
        PilotBatch.objects.visible_to(user).values_list("pilots", flat=True).exclude(pilots=None)
    )
    out = []
    for c in communities:
        readiness = Readiness(social[c.pk], members[c.pk], volunteers[c.pk], c.population)
        out.append(
            method.PilotCandidate(
                community_id=c.pk,
                label=c.name,
                tier=c.tier,
                need=demands.get(c.pk, 0) / max(c.population, 1) * 1000,
                readiness=readiness.score(),
                resource_share=float(resources.get(c.pk, 0) / total) if total else 0.0,
                already_pilot=c.pk in in_pilot,
            )
        )
    return out


def rank_next_pilots(user: User, *, limit: int = 30) -> tuple[Any | None, str]:
    """The ranking (methods.pilots.PilotRanking) or why there is none, in Chinese."""
    try:
        return method.rank_next_pilots(next_pilot_candidates(user), limit=limit), ""
    except MethodError as exc:
        return None, exc.message


def batches(user: User) -> QuerySet[PilotBatch]:
    return PilotBatch.objects.visible_to(user).annotate(
        n_pilots=Count("pilots", distinct=True), n_comparisons=Count("comparisons", distinct=True)
    )
