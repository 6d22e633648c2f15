"""Demo data of the tree: venues for most communities (fewer in weak ones), area history."""

from __future__ import annotations

import pytest
from django.db.models import Count, Q

from sanlian.organizations.demo import seed
from sanlian.organizations.models import (
    Community,
    CommunityAreaPeriod,
    Organization,
    OrgKind,
    Tier,
    VenueKind,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_city(db: None) -> None:
    seed("small", 1)


def _venue_counts(tier: str) -> list[tuple[int, int]]:
    rows = (
        Community.objects.filter(tier=tier)
        .annotate(
            homes=Count("venues", filter=Q(venues__kind=VenueKind.WORKERS_HOME)),
            stations=Count("venues", filter=Q(venues__kind=VenueKind.SERVICE_STATION)),
        )
        .order_by("pk")
    )
    return [(c.homes, c.stations) for c in rows]


def test_star_and_ordinary_communities_have_a_workers_home_and_a_service_station(
    demo_city: None,
) -> None:
    counts = _venue_counts(Tier.STAR) + _venue_counts(Tier.ORDINARY)
    assert set(counts) == {(1, 1)}


def test_weak_communities_have_fewer_venues(demo_city: None) -> None:
    weak = _venue_counts(Tier.WEAK)
    assert sum(h + s for h, s in weak) < 2 * len(weak)


def test_every_community_has_a_current_area_period(demo_city: None) -> None:
    assert CommunityAreaPeriod.objects.current().count() == Community.objects.count()


def test_social_organisations_carry_service_fields(demo_city: None) -> None:
    orgs = Organization.objects.filter(kind=OrgKind.SOCIAL_ORG)
    assert all(o.service_fields and o.registration_date for o in orgs)
