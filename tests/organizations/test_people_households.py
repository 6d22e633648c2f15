"""Households: a head and members with their relation; a person in at most one household."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from sanlian.core.roles import Role
from sanlian.organizations import services
from sanlian.organizations.models import Household, HouseholdMember, Relation

from ..conftest import World
from ..factories import PersonFactory
from .factories_people import HouseholdFactory, HouseholdMemberFactory

pytestmark = pytest.mark.django_db


def test_creating_a_household_makes_the_head_its_first_member(world: World) -> None:
    head = PersonFactory(community=world.c1)
    household = services.household_create(head=head)
    assert list(household.members.values_list("person_id", "relation")) == [
        (head.pk, Relation.SELF)
    ]


def test_a_person_is_in_at_most_one_household(world: World) -> None:
    household = HouseholdFactory(head=PersonFactory(community=world.c1))
    person = PersonFactory(community=world.c1)
    HouseholdMemberFactory(household=household, person=person)
    other = HouseholdFactory(head=PersonFactory(community=world.c1))
    with pytest.raises(ValidationError, match="只能属于一个家庭"):
        services.household_add_member(household=other, person=person, relation=Relation.CHILD)


def test_the_database_refuses_a_second_household(world: World) -> None:
    person = PersonFactory(community=world.c1)
    HouseholdMemberFactory(
        household=HouseholdFactory(head=PersonFactory(community=world.c1)), person=person
    )
    with pytest.raises(IntegrityError):
        HouseholdMemberFactory(
            household=HouseholdFactory(head=PersonFactory(community=world.c1)), person=person
        )


def test_a_member_from_another_community_is_refused(world: World) -> None:
    household = HouseholdFactory(head=PersonFactory(community=world.c1))
    with pytest.raises(ValidationError, match="不能加入其他社区的家庭"):
        services.household_add_member(
            household=household, person=PersonFactory(community=world.c2), relation="child"
        )


def test_only_the_head_is_self(world: World) -> None:
    household = HouseholdFactory(head=PersonFactory(community=world.c1))
    with pytest.raises(ValidationError):
        services.household_add_member(
            household=household, person=PersonFactory(community=world.c1), relation="self"
        )


def test_the_head_cannot_leave_before_the_others(world: World) -> None:
    head = PersonFactory(community=world.c1)
    household = HouseholdFactory(head=head)
    HouseholdMemberFactory(household=household, person=PersonFactory(community=world.c1))
    with pytest.raises(ValidationError, match="户主不能移出"):
        services.household_remove_member(household=household, person=head)


def test_the_last_member_leaving_dissolves_the_household(world: World) -> None:
    head = PersonFactory(community=world.c1)
    household = HouseholdFactory(head=head)
    services.household_remove_member(household=household, person=head)
    assert not Household.objects.filter(pk=household.pk).exists()


def test_household_page_lists_members_with_relations(world: World) -> None:
    household = HouseholdFactory(head=PersonFactory(community=world.c1, name="户主甲"))
    HouseholdMemberFactory(
        household=household, person=PersonFactory(community=world.c1, name="配偶乙")
    )
    body = world.client(Role.COMMUNITY_CADRE).get(household.get_absolute_url()).content.decode()
    assert "户主甲" in body and "配偶乙" in body and "配偶" in body


def test_household_page_outside_scope_is_404(world: World) -> None:
    household = HouseholdFactory(head=PersonFactory(community=world.c2))
    response = world.client(Role.COMMUNITY_CADRE).get(household.get_absolute_url())
    assert response.status_code == 404


def test_social_organisation_cannot_see_a_household(world: World) -> None:
    household = HouseholdFactory(head=PersonFactory(community=world.c1, employer=world.o1))
    response = world.client(Role.SOCIAL_ORG_MANAGER).get(household.get_absolute_url())
    assert response.status_code == 404


def test_add_member_by_phone_on_the_page(world: World) -> None:
    household = HouseholdFactory(head=PersonFactory(community=world.c1))
    child = PersonFactory(community=world.c1, phone="13812345678")
    world.client(Role.COMMUNITY_CADRE).post(
        household.get_absolute_url(), {"who": "13812345678", "relation": "child"}
    )
    assert HouseholdMember.objects.get(person=child).relation == Relation.CHILD


def test_add_member_from_outside_the_community_is_not_found(world: World) -> None:
    household = HouseholdFactory(head=PersonFactory(community=world.c1))
    PersonFactory(community=world.c2, phone="13812345678")
    response = world.client(Role.AREA_STAFF).post(
        household.get_absolute_url(), {"who": "13812345678", "relation": "child"}
    )
    assert "没有找到" in response.context["form"].errors["who"][0]


def test_ambiguous_name_asks_for_phone_or_id(world: World) -> None:
    household = HouseholdFactory(head=PersonFactory(community=world.c1))
    PersonFactory(community=world.c1, name="王芳")
    PersonFactory(community=world.c1, name="王芳")
    response = world.client(Role.COMMUNITY_CADRE).post(
        household.get_absolute_url(), {"who": "王芳", "relation": "child"}
    )
    assert "找到多人" in response.context["form"].errors["who"][0]


def test_remove_member_on_the_page(world: World) -> None:
    household = HouseholdFactory(head=PersonFactory(community=world.c1))
    member = PersonFactory(community=world.c1)
    HouseholdMemberFactory(household=household, person=member)
    world.client(Role.COMMUNITY_CADRE).post(f"/org/households/{household.pk}/remove/{member.pk}/")
    assert not HouseholdMember.objects.filter(person=member).exists()


def test_person_page_shows_the_household(world: World) -> None:
    head = PersonFactory(community=world.c1)
    household = HouseholdFactory(head=head)
    body = world.client(Role.COMMUNITY_CADRE).get(head.get_absolute_url()).content.decode()
    assert household.get_absolute_url() in body


def test_household_created_from_the_person_page(world: World) -> None:
    head = PersonFactory(community=world.c1)
    world.client(Role.COMMUNITY_CADRE).post(
        f"/org/people/{head.pk}/household/", {"address": "幸福路8号"}
    )
    assert Household.objects.get(head=head).address == "幸福路8号"


def test_person_page_hides_the_household_from_the_social_organisation(world: World) -> None:
    head = PersonFactory(community=world.c1, employer=world.o1)
    household = HouseholdFactory(head=head)
    body = world.client(Role.SOCIAL_ORG_MANAGER).get(head.get_absolute_url()).content.decode()
    assert household.get_absolute_url() not in body and "尚未登记家庭" not in body
