"""Scope cases of community activities (collected by tests/core/test_scoping.py). A is an
activity in K1 organised by O1; B one in K2 organised by O2; registrations and volunteer
shifts go with their activity."""

from __future__ import annotations

from typing import Any

from sanlian.core.roles import Role as R

from ..factories import PersonFactory, VolunteerFactory
from .factories_activities import ActivityFactory, RegistrationFactory, VolunteerShiftFactory


def _activities(w: Any) -> tuple[Any, Any]:
    return (
        ActivityFactory(community=w.c1, organizer=w.o1),
        ActivityFactory(community=w.c2, organizer=w.o2),
    )


def _registrations(w: Any) -> tuple[Any, Any]:
    a, b = _activities(w)
    return RegistrationFactory(activity=a), RegistrationFactory(activity=b)


def _shifts(w: Any) -> tuple[Any, Any]:
    a, b = _activities(w)
    return (
        VolunteerShiftFactory(
            activity=a, volunteer=VolunteerFactory(person=PersonFactory(community=w.c1), team=w.t1)
        ),
        VolunteerShiftFactory(
            activity=b, volunteer=VolunteerFactory(person=PersonFactory(community=w.c2), team=w.t2)
        ),
    )


# Area roles by the community; the organising social organisation's staff.
EXPECTED = {
    R.FEDERATION_STAFF: "AB",
    R.AREA_STAFF: "A",
    R.COMMUNITY_CADRE: "A",
    R.PARTY_SECRETARY: "A",
    R.SOCIAL_ORG_MANAGER: "A",
    R.SOCIAL_WORKER: "A",
}

CASES = {
    "delivery.Activity": (_activities, EXPECTED),
    "delivery.Registration": (_registrations, EXPECTED),
    "delivery.VolunteerShift": (_shifts, EXPECTED),
}
