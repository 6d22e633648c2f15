"""The JSON API: schema, session and token authentication, and scoping of ids in URL and body."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client

from sanlian.core import services
from sanlian.core.roles import Role
from sanlian.core.validators import generate_resident_id
from sanlian.organizations.models import Person

from ..conftest import World

pytestmark = pytest.mark.django_db

VALID_ID = generate_resident_id("210102", dt.date(1975, 3, 9), 123)


def _bearer(world: World, role: str) -> dict[str, str]:
    _token, raw = services.api_token_create(user=world.users[role], name="t")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_openapi_schema_lists_the_endpoints(client: Client) -> None:
    schema = client.get("/api/openapi.json").json()
    assert {"/api/me", "/api/people", "/api/communities/{community_id}"} <= set(schema["paths"])


def test_anonymous_api_call_is_401(client: Client) -> None:
    assert client.get("/api/people").status_code == 401


def test_bearer_token_authenticates(world: World) -> None:
    response = Client().get("/api/me", **_bearer(world, Role.COMMUNITY_CADRE))
    assert response.json()["roles"] == [Role.COMMUNITY_CADRE]


def test_unknown_token_is_401(world: World) -> None:
    response = Client().get("/api/me", HTTP_AUTHORIZATION="Bearer sl_not-a-token")
    assert response.status_code == 401


def test_revoked_token_is_401(world: World) -> None:
    token, raw = services.api_token_create(user=world.users[Role.COMMUNITY_CADRE], name="t")
    services.api_token_revoke(token=token)
    response = Client().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401


def test_session_user_who_must_change_password_is_refused(world: World) -> None:
    user = world.users[Role.COMMUNITY_CADRE]
    user.must_change_password = True
    user.save()
    assert world.client(Role.COMMUNITY_CADRE).get("/api/me").status_code == 401


def test_community_outside_scope_is_404(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).get(f"/api/communities/{world.c2.pk}")
    assert response.status_code == 404


def test_community_list_is_scoped(world: World) -> None:
    items = world.client(Role.AREA_STAFF).get("/api/communities").json()["items"]
    assert [c["id"] for c in items] == [world.c1.pk]


def test_city_staff_sees_every_community(world: World) -> None:
    items = world.client(Role.FEDERATION_STAFF).get("/api/communities").json()["items"]
    assert {c["id"] for c in items} == {world.c1.pk, world.c2.pk}


def _post_person(client: Client, **body: object) -> object:
    return client.post("/api/people", data=json.dumps(body), content_type="application/json")


def test_person_create_masks_the_id_number(world: World) -> None:
    response = _post_person(
        world.client(Role.COMMUNITY_CADRE),
        name="王小明",
        community_id=world.c1.pk,
        id_number=VALID_ID,
    )
    assert response.json()["id_number_masked"] == VALID_ID[:4] + "*" * 10 + VALID_ID[-4:]


def test_community_id_in_body_outside_scope_is_404(world: World) -> None:
    response = _post_person(
        world.client(Role.COMMUNITY_CADRE),
        name="王小明",
        community_id=world.c2.pk,
        id_number=VALID_ID,
    )
    assert response.status_code == 404


def test_community_id_in_body_outside_scope_writes_nothing(world: World) -> None:
    before = Person.objects.count()
    _post_person(
        world.client(Role.COMMUNITY_CADRE),
        name="王小明",
        community_id=world.c2.pk,
        id_number=VALID_ID,
    )
    assert Person.objects.count() == before


def test_bad_check_digit_is_a_chinese_400(world: World) -> None:
    bad = VALID_ID[:17] + ("0" if VALID_ID[17] != "0" else "1")
    response = _post_person(
        world.client(Role.COMMUNITY_CADRE), name="王小明", community_id=world.c1.pk, id_number=bad
    )
    assert "校验位" in response.json()["detail"]["id_number"][0]


def test_duplicate_id_number_is_refused(world: World) -> None:
    client = world.client(Role.COMMUNITY_CADRE)
    _post_person(client, name="王小明", community_id=world.c1.pk, id_number=VALID_ID)
    response = _post_person(client, name="王晓明", community_id=world.c1.pk, id_number=VALID_ID)
    assert response.status_code == 400


def test_social_worker_cannot_register_residents(world: World) -> None:
    response = _post_person(
        world.client(Role.SOCIAL_WORKER), name="王小明", community_id=world.c1.pk
    )
    assert response.status_code == 403


def test_session_post_without_csrf_token_is_refused(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users[Role.COMMUNITY_CADRE])
    response = _post_person(client, name="王小明", community_id=world.c1.pk, id_number=VALID_ID)
    assert response.status_code in (401, 403)
