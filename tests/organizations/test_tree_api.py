"""The tree API: create, move and retire organisations; communities with venues; restructuring
preview (GET) and execution (POST); every id scoped."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from sanlian.core.roles import Role
from sanlian.core.validators import make_credit_code
from sanlian.organizations.models import Community, Organization, OrgKind, Person

from ..conftest import World
from ..factories import OrganizationFactory, PersonFactory
from .factories_tree import VenueFactory

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, **body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_openapi_lists_the_tree_endpoints(client: Client) -> None:
    paths = set(client.get("/api/openapi.json").json()["paths"])
    assert {
        "/api/organizations",
        "/api/organizations/{org_id}/move",
        "/api/organizations/{org_id}/retire",
        "/api/communities/{community_id}/merge/preview",
        "/api/communities/{community_id}/merge",
        "/api/communities/{community_id}/split/preview",
        "/api/communities/{community_id}/move",
    } <= paths


def test_create_an_organisation(world: World) -> None:
    response = _post(
        world.client(Role.COMMUNITY_CADRE),
        "/api/organizations",
        kind="social_org",
        parent_id=world.c1.organization.pk,
        name="API社工中心",
        credit_code=make_credit_code("210102", 9911),
        service_fields=["youth"],
    )
    assert (response.status_code, response.json()["service_fields"]) == (201, ["youth"])


def test_create_with_a_wrong_credit_code_is_400_in_chinese(world: World) -> None:
    response = _post(
        world.client(Role.COMMUNITY_CADRE),
        "/api/organizations",
        kind="social_org",
        parent_id=world.c1.organization.pk,
        name="API社工中心",
        credit_code="91210102MA0XXXXXX0",
    )
    assert response.status_code == 400
    assert "统一社会信用代码" in response.json()["detail"]["credit_code"][0]


def test_create_under_a_parent_outside_scope_is_404(world: World) -> None:
    response = _post(
        world.client(Role.COMMUNITY_CADRE),
        "/api/organizations",
        kind="volunteer_team",
        parent_id=world.c2.organization.pk,
        name="越界队",
    )
    assert response.status_code == 404


def test_social_worker_cannot_create(world: World) -> None:
    response = _post(
        world.client(Role.SOCIAL_WORKER),
        "/api/organizations",
        kind="volunteer_team",
        parent_id=world.c1.organization.pk,
        name="队",
    )
    assert response.status_code == 403


def test_move_an_organisation(world: World) -> None:
    response = _post(
        world.client(Role.FEDERATION_STAFF),
        f"/api/organizations/{world.o1.pk}/move",
        parent_id=world.c2.organization.pk,
    )
    assert response.json()["path"] == f"{world.c2.organization.path}{world.o1.pk}/"


def test_move_to_a_parent_outside_scope_is_404(world: World) -> None:
    response = _post(
        world.client(Role.AREA_STAFF),
        f"/api/organizations/{world.c1.organization.pk}/move",
        parent_id=world.s2.pk,
    )
    assert response.status_code == 404


def test_move_to_the_wrong_level_is_400(world: World) -> None:
    response = _post(
        world.client(Role.AREA_STAFF),
        f"/api/organizations/{world.o1.pk}/move",
        parent_id=world.party1.pk,
    )
    assert response.status_code == 400


def test_retire_with_blockers_is_400_naming_them(world: World) -> None:
    response = _post(
        world.client(Role.AREA_STAFF), f"/api/organizations/{world.s1.pk}/retire", reason="撤并"
    )
    assert "凯旋社区联合工会" in response.json()["detail"]["__all__"][0]


def test_retire(world: World) -> None:
    response = _post(
        world.client(Role.COMMUNITY_CADRE),
        f"/api/organizations/{world.t1.pk}/retire",
        reason="解散",
    )
    assert (response.json()["is_active"], response.json()["retired_reason"]) == (False, "解散")


def test_community_detail_lists_its_venues(world: World) -> None:
    venue = VenueFactory(community=world.c1)
    body = world.client(Role.COMMUNITY_CADRE).get(f"/api/communities/{world.c1.pk}").json()
    assert [v["id"] for v in body["venues"]] == [venue.pk]


def test_community_list_is_scoped(world: World) -> None:
    items = world.client(Role.AREA_STAFF).get("/api/communities").json()["items"]
    assert [c["id"] for c in items] == [world.c1.pk]


def test_merge_preview_then_execute(world: World) -> None:
    PersonFactory(community=world.c2)
    client = world.client(Role.FEDERATION_STAFF)
    preview = client.get(
        f"/api/communities/{world.c2.pk}/merge/preview", {"target_id": world.c1.pk}
    ).json()
    done = _post(
        client,
        f"/api/communities/{world.c2.pk}/merge",
        target_id=world.c1.pk,
        preview_digest=preview["digest"],
    ).json()
    assert (done["digest"], done["result_community_id"]) == (preview["digest"], world.c1.pk)
    assert Person.objects.filter(community=world.c2).count() == 0


def test_merge_with_a_stale_digest_is_400(world: World) -> None:
    client = world.client(Role.FEDERATION_STAFF)
    preview = client.get(
        f"/api/communities/{world.c2.pk}/merge/preview", {"target_id": world.c1.pk}
    ).json()
    PersonFactory(community=world.c2)
    response = _post(
        client,
        f"/api/communities/{world.c2.pk}/merge",
        target_id=world.c1.pk,
        preview_digest=preview["digest"],
    )
    assert (response.status_code, Community.objects.get(pk=world.c2.pk).merged_into_id) == (
        400,
        None,
    )


def test_merge_preview_outside_scope_is_404(world: World) -> None:
    response = world.client(Role.AREA_STAFF).get(
        f"/api/communities/{world.c2.pk}/merge/preview", {"target_id": world.c1.pk}
    )
    assert response.status_code == 404


def test_cadre_cannot_preview_a_restructuring(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).get(
        f"/api/communities/{world.c1.pk}/move/preview", {"street_id": world.s1.pk}
    )
    assert response.status_code == 403


def test_move_preview_and_execute(world: World) -> None:
    street = OrganizationFactory(kind=OrgKind.STREET_UNION, parent=world.d1)
    client = world.client(Role.AREA_STAFF)
    preview = client.get(
        f"/api/communities/{world.c1.pk}/move/preview", {"street_id": street.pk}
    ).json()
    _post(client, f"/api/communities/{world.c1.pk}/move", street_id=street.pk)
    assert (
        preview["lines"][0]["key"],
        Community.objects.get(pk=world.c1.pk).street_id,
    ) == ("organizations.Organization", street.pk)


def test_split_preview_and_execute(world: World) -> None:
    person = PersonFactory(community=world.c1, address="沈阳市和平区南京街8号5栋")
    client = world.client(Role.AREA_STAFF)
    preview = client.get(
        f"/api/communities/{world.c1.pk}/split/preview",
        {"address_prefixes": ["沈阳市和平区南京街8号"], "organization_ids": [world.t1.pk]},
    ).json()
    done = _post(
        client,
        f"/api/communities/{world.c1.pk}/split",
        name="南京街社区",
        address_prefixes=["沈阳市和平区南京街8号"],
        organization_ids=[world.t1.pk],
        preview_digest=preview["digest"],
    ).json()
    new = Community.objects.get(pk=done["result_community_id"])
    assert (
        Person.objects.get(pk=person.pk).community_id,
        Organization.objects.get(pk=world.t1.pk).parent_id,
    ) == (
        new.pk,
        new.organization_id,
    )
