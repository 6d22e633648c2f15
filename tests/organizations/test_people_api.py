"""The people API: registration and edits through the page's form, households, memberships,
duplicates and merging; ids in bodies and paths scoped like everything else."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from sanlian.core.roles import Role
from sanlian.core.validators import generate_resident_id
from sanlian.organizations.models import HouseholdMember, Membership, Person

from ..conftest import World
from ..factories import CommunityFactory, MembershipFactory, PersonFactory
from .factories_people import HouseholdFactory, PersonTagFactory

pytestmark = pytest.mark.django_db

ID_1975 = generate_resident_id("210102", dt.date(1975, 3, 9), 123)


def call(client: Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    return getattr(client, method)(
        "/api" + path, data=json.dumps(body or {}), content_type="application/json"
    )


def cadre(world: World) -> Client:
    return world.client(Role.COMMUNITY_CADRE)


def test_create_derives_sex_and_birth_date(world: World) -> None:
    body = call(
        cadre(world),
        "post",
        "/people",
        {"name": "王小明", "community_id": world.c1.pk, "id_number": ID_1975},
    ).json()
    assert (body["sex"], body["birth_date"]) == ("M", "1975-03-09")


def test_create_with_a_duplicate_id_names_the_visible_record(world: World) -> None:
    existing = PersonFactory(community=world.c1, id_number=ID_1975)
    response = call(
        cadre(world),
        "post",
        "/people",
        {"name": "王小明", "community_id": world.c1.pk, "id_number": ID_1975},
    )
    assert (response.status_code, response.json()["detail"]["duplicate_of"]) == (400, existing.pk)


def test_create_with_same_name_and_phone_needs_confirmation(world: World) -> None:
    PersonFactory(name="王小明", phone="13812345678", community=world.c1)
    body = {"name": "王小明", "community_id": world.c1.pk, "sex": "M", "phone": "13812345678"}
    refused = call(cadre(world), "post", "/people", body)
    accepted = call(cadre(world), "post", "/people", {**body, "confirm_not_duplicate": True})
    assert (refused.status_code, accepted.status_code) == (400, 201)


def test_patch_with_the_current_version_saves(world: World) -> None:
    person = PersonFactory(community=world.c1)
    response = call(
        cadre(world),
        "patch",
        f"/people/{person.pk}",
        {"version": person.version, "address": "新址"},
    )
    assert (response.status_code, Person.objects.get(pk=person.pk).address) == (200, "新址")


def test_patch_with_a_stale_version_is_a_conflict(world: World) -> None:
    person = PersonFactory(community=world.c1)
    call(
        cadre(world), "patch", f"/people/{person.pk}", {"version": person.version, "address": "甲"}
    )
    response = call(
        cadre(world), "patch", f"/people/{person.pk}", {"version": person.version, "address": "乙"}
    )
    assert (response.status_code, Person.objects.get(pk=person.pk).address) == (409, "甲")


def test_patch_renames_and_refreshes_the_search_keys(world: World) -> None:
    person = PersonFactory(community=world.c1, name="张三")
    call(cadre(world), "patch", f"/people/{person.pk}", {"version": person.version, "name": "李四"})
    items = cadre(world).get("/api/people", {"q": "ls"}).json()["items"]
    assert [p["id"] for p in items] == [person.pk]


def test_patch_outside_scope_is_404(world: World) -> None:
    person = PersonFactory(community=world.c2)
    response = call(cadre(world), "patch", f"/people/{person.pk}", {"version": 1, "address": "x"})
    assert response.status_code == 404


def test_patch_moving_to_a_community_outside_scope_is_404(world: World) -> None:
    person = PersonFactory(community=world.c1)
    response = call(
        cadre(world),
        "patch",
        f"/people/{person.pk}",
        {"version": person.version, "community_id": world.c2.pk},
    )
    assert response.status_code == 404


def test_list_finds_by_pinyin_initials(world: World) -> None:
    person = PersonFactory(community=world.c1, name="张三")
    items = cadre(world).get("/api/people", {"q": "zs"}).json()["items"]
    assert [p["id"] for p in items] == [person.pk]


def test_tags_are_set_and_read_by_area_staff(world: World) -> None:
    person = PersonFactory(community=world.c1)
    call(cadre(world), "put", f"/people/{person.pk}/tags", {"tags": ["disabled"]})
    assert cadre(world).get(f"/api/people/{person.pk}/tags").json() == ["disabled"]


def test_tags_are_closed_to_social_organisations(world: World) -> None:
    person = PersonFactory(community=world.c1, employer=world.o1)
    PersonTagFactory(person=person)
    response = world.client(Role.SOCIAL_ORG_MANAGER).get(f"/api/people/{person.pk}/tags")
    assert response.status_code == 403


def test_unknown_tag_is_a_400(world: World) -> None:
    person = PersonFactory(community=world.c1)
    response = call(cadre(world), "put", f"/people/{person.pk}/tags", {"tags": ["rich"]})
    assert response.status_code == 400


def test_duplicate_check_counts_records_outside_scope_without_naming_them(world: World) -> None:
    PersonFactory(community=world.c2, id_number=ID_1975)
    body = call(cadre(world), "post", "/people/duplicates", {"id_number": ID_1975}).json()
    assert (body["same_id"], body["same_id_elsewhere"]) == (None, True)


def test_merge_preview_and_merge(world: World) -> None:
    keep = PersonFactory(community=world.c1, name="王芳", phone="13812345678")
    merge = PersonFactory(community=world.c1, name="王芳", phone="13812345678")
    merge.set_id_number("")
    merge.save()
    MembershipFactory(person=merge)
    preview = (
        cadre(world).get("/api/people/merge", {"keep_id": keep.pk, "merge_id": merge.pk}).json()
    )
    call(cadre(world), "post", "/people/merge", {"keep_id": keep.pk, "merge_id": merge.pk})
    assert (preview["moves"], Membership.objects.get().person_id) == ({"会员": 1}, keep.pk)


def test_merge_refused_is_a_conflict(world: World) -> None:
    keep = PersonFactory(community=world.c1)
    other = PersonFactory(community=world.c1)
    response = call(
        cadre(world), "post", "/people/merge", {"keep_id": keep.pk, "merge_id": other.pk}
    )
    assert response.status_code == 409


# ---- households ----------------------------------------------------------------------------


def test_household_create_and_add_member(world: World) -> None:
    head = PersonFactory(community=world.c1)
    child = PersonFactory(community=world.c1)
    household = call(cadre(world), "post", "/households", {"head_id": head.pk}).json()
    body = call(
        cadre(world),
        "post",
        f"/households/{household['id']}/members",
        {"person_id": child.pk, "relation": "child"},
    ).json()
    assert [(m["person_id"], m["relation"]) for m in body["members"]] == [
        (head.pk, "self"),
        (child.pk, "child"),
    ]


def test_household_member_outside_scope_is_404(world: World) -> None:
    household = HouseholdFactory(head=PersonFactory(community=world.c1))
    far = PersonFactory(community=world.c2)
    response = call(
        world.client(Role.AREA_STAFF),
        "post",
        f"/households/{household.pk}/members",
        {"person_id": far.pk, "relation": "child"},
    )
    assert response.status_code == 404


def test_household_member_removed(world: World) -> None:
    household = HouseholdFactory(head=PersonFactory(community=world.c1))
    child = PersonFactory(community=world.c1)
    HouseholdMember.objects.create(household=household, person=child, relation="child")
    response = cadre(world).delete(f"/api/households/{household.pk}/members/{child.pk}")
    assert (response.status_code, HouseholdMember.objects.filter(person=child).exists()) == (
        204,
        False,
    )


def test_households_list_closed_to_social_organisations(world: World) -> None:
    HouseholdFactory(head=PersonFactory(community=world.c1, employer=world.o1))
    items = world.client(Role.SOCIAL_ORG_MANAGER).get("/api/households").json()["items"]
    assert items == []


# ---- memberships ---------------------------------------------------------------------------


def test_join_transfer_and_history(world: World) -> None:
    person = PersonFactory(community=world.c1)
    to = CommunityFactory(name="新城社区", street_org=world.s1).organization
    client = world.client(Role.AREA_STAFF)
    joined = call(
        client,
        "post",
        "/memberships",
        {
            "person_id": person.pk,
            "union_id": world.c1.organization_id,
            "card_number": "HY7",
            "joined_on": "2024-01-01",
        },
    ).json()
    moved = call(
        client,
        "post",
        f"/memberships/{joined['id']}/transfer",
        {"to_union_id": to.pk, "on": "2025-06-01"},
    ).json()
    history = client.get("/api/memberships", {"person_id": person.pk}).json()["items"]
    assert (moved["previous_id"], [m["status"] for m in history]) == (
        joined["id"],
        ["active", "transferred"],
    )


def test_transfer_to_a_union_outside_scope_is_404(world: World) -> None:
    m = MembershipFactory(person=PersonFactory(community=world.c1))
    response = call(
        world.client(Role.AREA_STAFF),
        "post",
        f"/memberships/{m.pk}/transfer",
        {"to_union_id": world.c2.organization_id, "on": "2025-06-01"},
    )
    assert response.status_code == 404


def test_withdraw_needs_a_reason(world: World) -> None:
    m = MembershipFactory(person=PersonFactory(community=world.c1))
    response = call(
        cadre(world), "post", f"/memberships/{m.pk}/withdraw", {"on": "2025-06-01", "reason": ""}
    )
    assert response.status_code == 400


def test_withdraw_and_reinstate(world: World) -> None:
    m = MembershipFactory(person=PersonFactory(community=world.c1))
    call(
        cadre(world),
        "post",
        f"/memberships/{m.pk}/withdraw",
        {"on": "2025-06-01", "reason": "本人申请"},
    )
    back = call(cadre(world), "post", f"/memberships/{m.pk}/reinstate", {"on": "2025-09-01"}).json()
    assert (back["status"], back["card_number"]) == ("active", m.card_number)


def test_life_recorded(world: World) -> None:
    m = MembershipFactory(person=PersonFactory(community=world.c1))
    body = call(
        cadre(world), "post", f"/memberships/{m.pk}/life", {"activity_on": "2025-06-01"}
    ).json()
    assert body["last_activity_on"] == "2025-06-01"


def test_lapsed_list_is_scoped(world: World) -> None:
    near = MembershipFactory(person=PersonFactory(community=world.c1))
    MembershipFactory(person=PersonFactory(community=world.c2))
    items = (
        world.client(Role.AREA_STAFF)
        .get("/api/memberships/lapsed", {"on": "2026-11-15"})
        .json()["items"]
    )
    assert [m["id"] for m in items] == [near.pk]


def test_social_worker_cannot_transfer_by_api(world: World) -> None:
    m = MembershipFactory(person=PersonFactory(community=world.c1))
    response = call(
        world.client(Role.SOCIAL_WORKER),
        "post",
        f"/memberships/{m.pk}/withdraw",
        {"on": "2025-06-01", "reason": "x"},
    )
    assert response.status_code == 403
