"""Scope cases of venues and community area periods (collected by tests/core/test_scoping.py).
A lies in K1, B in K2."""

from __future__ import annotations

from typing import Any

from sanlian.core.roles import Role as R

from .factories_tree import CommunityAreaPeriodFactory, VenueFactory


def _community_venues(w: Any) -> tuple[Any, Any]:
    return VenueFactory(community=w.c1), VenueFactory(community=w.c2)


def _periods(w: Any) -> tuple[Any, Any]:
    return CommunityAreaPeriodFactory(community=w.c1), CommunityAreaPeriodFactory(community=w.c2)


CASES = {
    "organizations.Venue": (
        _community_venues,
        {
            R.FEDERATION_STAFF: "AB",
            R.AREA_STAFF: "A",
            R.COMMUNITY_CADRE: "A",
            R.PARTY_SECRETARY: "A",
            # organisations based in K1 see (and may book) its venues
            R.SOCIAL_ORG_MANAGER: "A",
            R.SOCIAL_WORKER: "A",
            R.VOLUNTEER: "A",
        },
    ),
    "organizations.CommunityAreaPeriod": (
        _periods,
        {
            R.FEDERATION_STAFF: "AB",
            R.AREA_STAFF: "A",
            R.COMMUNITY_CADRE: "A",
            R.PARTY_SECRETARY: "A",
            R.SOCIAL_ORG_MANAGER: "A",
            R.SOCIAL_WORKER: "A",
            R.VOLUNTEER: "A",
        },
    ),
}
