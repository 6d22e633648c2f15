"""Households follow their people when a community is split."""

from __future__ import annotations

from typing import Any

import pytest

from sanlian.core.roles import Role
from sanlian.organizations import services
from sanlian.organizations.models import Household, Person, Relation
from sanlian.organizations.services import restructuring

from ..conftest import World
from ..factories import PersonFactory
from .factories_people import HouseholdFactory, HouseholdMemberFactory

pytestmark = pytest.mark.django_db


def _household(world: World) -> tuple[Household, Person, Person]:
    head = PersonFactory(community=world.c2, name="王建国")
    spouse = PersonFactory(community=world.c2, name="李秀英")
    household = HouseholdFactory(head=head)
    HouseholdMemberFactory(household=household, person=spouse, relation=Relation.SPOUSE)
    return household, head, spouse


def _split(world: World, *people: Person) -> Any:
    return services.community_split(
        community=world.c2,
        name="丽都二社区",
        by=world.users[Role.FEDERATION_STAFF],
        person_ids=frozenset(p.pk for p in people),
    )


def _preview(world: World, *people: Person) -> restructuring.Preview:
    return services.community_split_preview(
        community=world.c2, person_ids=frozenset(p.pk for p in people), organization_ids=[]
    )


def test_a_household_whose_members_all_move_moves_with_them(world: World) -> None:
    household, head, spouse = _household(world)
    new = _split(world, head, spouse).new
    household.refresh_from_db()
    assert household.community_id == new.pk


def test_the_preview_counts_the_households_that_move(world: World) -> None:
    _household(world)
    _other, other_head, other_spouse = _household(world)
    preview = _preview(world, other_head, other_spouse)
    assert preview.count("organizations.Household") == 1


def test_a_mixed_household_stays_with_its_head(world: World) -> None:
    household, _head, spouse = _household(world)
    _split(world, spouse)
    household.refresh_from_db()
    assert household.community_id == world.c2.pk


def test_a_mixed_household_goes_with_a_head_who_moves(world: World) -> None:
    household, head, _spouse = _household(world)
    new = _split(world, head).new
    household.refresh_from_db()
    assert household.community_id == new.pk


def test_the_preview_warns_about_a_mixed_household(world: World) -> None:
    _home, _head, spouse = _household(world)
    preview = _preview(world, spouse)
    assert preview.notes == (
        "1 户家庭的成员分属原社区和新社区，家庭随户主所在社区："
        "王建国家（随户主留在原社区）。请核对这些家庭的成员。",
    )


def test_the_preview_has_no_warning_when_households_stay_whole(world: World) -> None:
    _home, head, spouse = _household(world)
    assert _preview(world, head, spouse).notes == ()
