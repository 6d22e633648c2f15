"""社区分类: an entropy-weight TOPSIS assessment of the communities in scope from what the
links record, and the decisions on its proposals (a change of tier with its reason in the
audit trail)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from sanlian.core.models import AuditEntry
from sanlian.core.roles import Role
from sanlian.insights.models import TierAssessment
from sanlian.insights.services import tiers as services
from sanlian.organizations.models import Community

from ..conftest import World
from ..factories import CommunityFactory
from ..resources.factories import VenueFactory

pytestmark = pytest.mark.django_db


def _world_with_four(w: World) -> None:
    for i, (tier, pop) in enumerate([("ordinary", 4000), ("ordinary", 2000)]):
        CommunityFactory(name=f"第{i}社区", street_org=w.s1, tier=tier, population=pop)
    VenueFactory(community=w.c1)


def _run(w: World, **kw: object) -> TierAssessment:
    return services.assessment_run(
        by=w.users[Role.FEDERATION_STAFF],
        title="年度评估",
        keys=["venues", "social_orgs", "member_rate"],
        **kw,  # type: ignore[arg-type]
    )


def test_every_community_in_scope_gets_a_score_and_a_rank(world: World) -> None:
    _world_with_four(world)
    assessment = _run(world)
    proposals = list(assessment.proposals.order_by("rank"))
    assert len(proposals) == Community.objects.active().count()
    assert all(Decimal(0) <= p.score <= Decimal(1) for p in proposals)


def test_the_weights_sum_to_one(world: World) -> None:
    _world_with_four(world)
    assessment = _run(world)
    total = sum(w["weight"] for w in assessment.weights.values())
    assert round(total, 9) == 1


def test_an_indicator_with_no_variance_gets_no_weight_and_a_note(world: World) -> None:
    _world_with_four(world)
    assessment = services.assessment_run(
        by=world.users[Role.FEDERATION_STAFF], title="t", keys=["venues", "services"]
    )
    assert (assessment.weights["services"]["weight"], len(assessment.notes) > 0) == (0, True)


def test_one_indicator_is_not_enough(world: World) -> None:
    with pytest.raises(ValidationError):
        services.assessment_run(by=world.users[Role.FEDERATION_STAFF], title="t", keys=["venues"])


def test_an_override_needs_a_reason(world: World) -> None:
    _world_with_four(world)
    proposal = _run(world).proposals.order_by("rank").first()
    assert proposal is not None
    other = "weak" if proposal.proposed_tier != "weak" else "star"
    with pytest.raises(ValidationError, match="理由"):
        services.proposal_decide(
            proposal=proposal, by=world.users[Role.FEDERATION_STAFF], tier=other
        )


def test_an_override_changes_the_tier_and_is_audited_with_its_reason(world: World) -> None:
    _world_with_four(world)
    proposal = _run(world).proposals.order_by("rank").first()
    assert proposal is not None
    other = "weak" if proposal.proposed_tier != "weak" else "star"
    services.proposal_decide(
        proposal=proposal,
        by=world.users[Role.FEDERATION_STAFF],
        tier=other,
        reason="新建小区，基础薄弱",
    )
    entry = AuditEntry.objects.filter(action="tier_decided").get()
    community = Community.objects.get(pk=proposal.community_id)
    assert (community.tier, entry.changes["reason"]) == (other, "新建小区，基础薄弱")


def test_the_page_runs_an_assessment_and_shows_the_weights(world: World) -> None:
    _world_with_four(world)
    client = world.client(Role.FEDERATION_STAFF)
    response = client.post(
        reverse("insights:tiers"),
        {"keys": ["venues", "social_orgs"], "star_share": "25", "weak_share": "25", "impute": "on"},
    )
    assessment = TierAssessment.objects.get()
    page = client.get(assessment.get_absolute_url()).content.decode()
    assert (response.status_code, 'data-testid="weights"' in page) == (302, True)


def test_an_area_assesses_only_its_own_communities(world: World) -> None:
    _world_with_four(world)
    assessment = services.assessment_run(
        by=world.users[Role.AREA_STAFF], title="一区", keys=["venues", "social_orgs"]
    )
    assert world.c2.pk not in set(assessment.proposals.values_list("community", flat=True))


def test_another_area_cannot_open_the_assessment(world: World) -> None:
    _world_with_four(world)
    assessment = _run(world)
    response = world.client(Role.AREA_STAFF).get(assessment.get_absolute_url())
    assert response.status_code == 404
