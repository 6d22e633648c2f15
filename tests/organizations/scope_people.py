"""Scope cases of households, household members and vulnerability tags (collected by
tests/core/test_scoping.py): family composition and vulnerable situations are for the area's
union staff only, never for social organisations, even about their own staff."""

from __future__ import annotations

from typing import Any

from sanlian.core.roles import Role as R

from ..factories import PersonFactory
from .factories_people import HouseholdFactory, HouseholdMemberFactory, PersonTagFactory

AREA_SEES_NEAR = {
    R.FEDERATION_STAFF: "AB",
    R.AREA_STAFF: "A",
    R.COMMUNITY_CADRE: "A",
    R.PARTY_SECRETARY: "A",
}


def _people(w: Any) -> tuple[Any, Any]:
    # Near: employed by the social organisation O1, whose manager still must not see these.
    return (
        PersonFactory(community=w.c1, employer=w.o1),
        PersonFactory(community=w.c2, employer=w.o2),
    )


def _households(w: Any) -> tuple[Any, Any]:
    a, b = _people(w)
    return HouseholdFactory(head=a), HouseholdFactory(head=b)


def _household_members(w: Any) -> tuple[Any, Any]:
    a, b = _households(w)
    return (
        HouseholdMemberFactory(household=a, person=PersonFactory(community=w.c1, employer=w.o1)),
        HouseholdMemberFactory(household=b, person=PersonFactory(community=w.c2, employer=w.o2)),
    )


def _tags(w: Any) -> tuple[Any, Any]:
    a, b = _people(w)
    return PersonTagFactory(person=a), PersonTagFactory(person=b)


CASES = {
    "organizations.Household": (_households, AREA_SEES_NEAR),
    "organizations.HouseholdMember": (_household_members, AREA_SEES_NEAR),
    "organizations.PersonTag": (_tags, AREA_SEES_NEAR),
}
