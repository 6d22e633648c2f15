"""Registering a volunteer (登记志愿者) on the page and through the API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from sanlian.core.roles import Role
from sanlian.organizations.models import Volunteer

from ..conftest import World
from ..factories import PersonFactory

pytestmark = pytest.mark.django_db

PAGE = "/org/volunteers/new/"
API = "/api/volunteers"


def _post(client: Client, body: dict[str, Any]) -> Any:
    return client.post(API, json.dumps(body), content_type="application/json")


# ---- the page -------------------------------------------------------------------------------


def test_cadre_registers_a_volunteer_with_skills_and_availability(world: World) -> None:
    person = PersonFactory(community=world.c1)
    response = world.client(Role.COMMUNITY_CADRE).post(
        PAGE,
        {
            "person": person.pk,
            "team": world.t1.pk,
            "skills": ["理发", "法律咨询"],
            "skills_other": "手语",
            "availability": ["5:am", "1:evening"],
        },
    )
    volunteer = Volunteer.objects.get(person=person)
    assert (response["Location"], volunteer.skill_list(), volunteer.availability) == (
        volunteer.get_absolute_url(),
        ["法律咨询", "理发", "手语"],
        ["1:evening", "5:am"],
    )


def test_the_list_offers_registration_to_area_roles(world: World) -> None:
    body = world.client(Role.PARTY_SECRETARY).get("/org/volunteers/").content.decode()
    assert PAGE in body


def test_the_list_offers_no_registration_to_a_volunteer(world: World) -> None:
    body = world.client(Role.VOLUNTEER).get("/org/volunteers/").content.decode()
    assert PAGE not in body


def test_the_page_finds_a_person_by_phone(world: World) -> None:
    person = PersonFactory(community=world.c1, phone="13912345678")
    PersonFactory(community=world.c1)
    response = world.client(Role.AREA_STAFF).get(PAGE, {"q": "13912345678"})
    assert [p.pk for p in response.context["candidates"]] == [person.pk]


def test_the_page_finds_a_person_by_id_number(world: World) -> None:
    person = PersonFactory(community=world.c1)
    PersonFactory(community=world.c1)
    response = world.client(Role.AREA_STAFF).get(PAGE, {"q": person.id_number()})
    assert [p.pk for p in response.context["candidates"]] == [person.pk]


def test_a_second_registration_is_refused_with_a_link(world: World) -> None:
    existing = world.people["volunteer"].volunteer
    response = world.client(Role.COMMUNITY_CADRE).post(
        PAGE, {"person": existing.person_id, "team": world.t1.pk}
    )
    (error,) = response.context["form"].errors["person"]
    assert "已登记为志愿者（凯旋志愿队）" in error and existing.get_absolute_url() in error


def test_the_refusal_link_is_rendered_as_a_link(world: World) -> None:
    existing = world.people["volunteer"].volunteer
    response = world.client(Role.COMMUNITY_CADRE).post(
        PAGE, {"person": existing.person_id, "team": world.t1.pk}
    )
    assert f'<a href="{existing.get_absolute_url()}">' in response.content.decode()


def test_a_team_outside_scope_is_a_form_error(world: World) -> None:
    person = PersonFactory(community=world.c1)
    response = world.client(Role.COMMUNITY_CADRE).post(
        PAGE, {"person": person.pk, "team": world.t2.pk}
    )
    assert (
        "team" in response.context["form"].errors
        and not Volunteer.objects.filter(person=person).exists()
    )


def test_a_person_outside_scope_is_refused(world: World) -> None:
    stranger = PersonFactory(community=world.c2)
    response = world.client(Role.COMMUNITY_CADRE).post(
        PAGE, {"person": stranger.pk, "team": world.t1.pk}
    )
    assert response.context["form"].errors["person"] == [
        "请选择列表中的人员（只能选择您可查看的人员）"
    ]


def test_a_team_that_is_not_a_volunteer_team_is_refused(world: World) -> None:
    person = PersonFactory(community=world.c1)
    response = world.client(Role.COMMUNITY_CADRE).post(
        PAGE, {"person": person.pk, "team": world.o1.pk}
    )
    assert "team" in response.context["form"].errors


@pytest.mark.parametrize("role", [Role.SOCIAL_WORKER, Role.VOLUNTEER, Role.SOCIAL_ORG_MANAGER])
def test_other_roles_may_not_open_the_page(world: World, role: str) -> None:
    assert world.client(role).get(PAGE).status_code == 403


# ---- the API --------------------------------------------------------------------------------


def test_api_creates_a_volunteer(world: World) -> None:
    person = PersonFactory(community=world.c1)
    response = _post(
        world.client(Role.AREA_STAFF),
        {
            "person_id": person.pk,
            "team_id": world.t1.pk,
            "skills": ["义诊"],
            "availability": ["6:pm"],
        },
    )
    assert (response.status_code, response.json()["skills"], response.json()["availability"]) == (
        201,
        ["义诊"],
        ["6:pm"],
    )


def test_api_refuses_a_second_registration(world: World) -> None:
    existing = world.people["volunteer"].volunteer
    response = _post(
        world.client(Role.AREA_STAFF), {"person_id": existing.person_id, "team_id": world.t1.pk}
    )
    assert (response.status_code, response.json()["detail"]["volunteer_id"]) == (409, existing.pk)


def test_api_team_outside_scope_is_404(world: World) -> None:
    person = PersonFactory(community=world.c1)
    response = _post(
        world.client(Role.COMMUNITY_CADRE), {"person_id": person.pk, "team_id": world.t2.pk}
    )
    assert response.status_code == 404 and not Volunteer.objects.filter(person=person).exists()


def test_api_person_outside_scope_is_404(world: World) -> None:
    stranger = PersonFactory(community=world.c2)
    response = _post(
        world.client(Role.COMMUNITY_CADRE), {"person_id": stranger.pk, "team_id": world.t1.pk}
    )
    assert response.status_code == 404


def test_api_the_city_registers_in_any_district(world: World) -> None:
    person = PersonFactory(community=world.c2)
    response = _post(
        world.client(Role.FEDERATION_STAFF), {"person_id": person.pk, "team_id": world.t2.pk}
    )
    assert response.status_code == 201


def test_api_rejects_an_unknown_skill(world: World) -> None:
    person = PersonFactory(community=world.c1)
    response = _post(
        world.client(Role.AREA_STAFF),
        {"person_id": person.pk, "team_id": world.t1.pk, "skills": ["开挖掘机"]},
    )
    assert (response.status_code, list(response.json()["detail"])) == (400, ["skills"])


@pytest.mark.parametrize("role", [Role.SOCIAL_WORKER, Role.VOLUNTEER])
def test_api_other_roles_get_403(world: World, role: str) -> None:
    person = PersonFactory(community=world.c1)
    response = _post(world.client(role), {"person_id": person.pk, "team_id": world.t1.pk})
    assert response.status_code == 403
