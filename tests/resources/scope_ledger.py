"""Scope cases of the resource ledger and venue bookings (collected by
tests/core/test_scoping.py). A lies in K1 (brought by O1, a venue of C1 booked by O1); B lies in
K2 (brought by O2, a venue of C2 booked by O2)."""

from __future__ import annotations

from typing import Any

from sanlian.core.roles import Role as R

from .factories import ResourceEntryFactory, VenueBookingFactory, VenueFactory


def _entries(w: Any) -> tuple[Any, Any]:
    return (
        ResourceEntryFactory(community=w.c1, source_org=w.o1),
        ResourceEntryFactory(community=w.c2, source_org=w.o2),
    )


def _bookings(w: Any) -> tuple[Any, Any]:
    return (
        VenueBookingFactory(venue=VenueFactory(community=w.c1), organization=w.o1),
        VenueBookingFactory(venue=VenueFactory(community=w.c2), organization=w.o2),
    )


CASES = {
    # Area roles by the community; the social organisation (manager and staff) what it brought.
    "resources.ResourceEntry": (
        _entries,
        {
            R.FEDERATION_STAFF: "AB",
            R.AREA_STAFF: "A",
            R.COMMUNITY_CADRE: "A",
            R.PARTY_SECRETARY: "A",
            R.SOCIAL_ORG_MANAGER: "A",
            R.SOCIAL_WORKER: "A",
        },
    ),
    # Whoever sees the venue sees its use: the area, and the organisations based in K1.
    "resources.VenueBooking": (
        _bookings,
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
