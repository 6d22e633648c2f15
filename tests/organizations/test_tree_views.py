"""Pages of the tree: create, move, retire organisations; the community profile; restructuring
with preview and confirmation; venues."""

from __future__ import annotations

import pytest
from django.utils import timezone

from sanlian.core.models import AuditEntry
from sanlian.core.roles import Role
from sanlian.core.validators import make_credit_code
from sanlian.organizations.models import (
    Community,
    Membership,
    MembershipStatus,
    Organization,
    OrgKind,
    Person,
    Venue,
)

from ..conftest import World
from ..factories import MembershipFactory, OrganizationFactory, PersonFactory
from .factories_tree import VenueFactory

pytestmark = pytest.mark.django_db


def today() -> str:
    # Read when the request is made: a module-level date goes stale when a run crosses
    # midnight in Asia/Shanghai (16:00 UTC) and the forms refuse yesterday.
    return timezone.localdate().isoformat()


# ---- organisations --------------------------------------------------------------------------


def test_cadre_creates_a_volunteer_team_in_their_community(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).post(
        "/org/organizations/new/",
        {"kind": "volunteer_team", "parent": world.c1.organization.pk, "name": "凯旋二队"},
    )
    created = Organization.objects.get(name="凯旋二队")
    assert response.url == created.get_absolute_url()  # type: ignore[attr-defined]


def test_create_form_offers_only_parents_in_scope(world: World) -> None:
    form = world.client(Role.COMMUNITY_CADRE).get("/org/organizations/new/").context["form"]
    parents = set(form.fields["parent"].queryset.values_list("pk", flat=True))
    assert world.c1.organization.pk in parents and world.c2.organization.pk not in parents


def test_create_with_a_parent_outside_scope_is_refused(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).post(
        "/org/organizations/new/",
        {"kind": "volunteer_team", "parent": world.c2.organization.pk, "name": "越界队"},
    )
    assert "parent" in response.context["form"].errors
    assert not Organization.objects.filter(name="越界队").exists()


def test_create_page_with_a_parent_outside_scope_is_404(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).get(
        "/org/organizations/new/", {"parent": world.c2.organization.pk}
    )
    assert response.status_code == 404


def test_create_offers_the_kinds_that_may_hang_under_the_parent(world: World) -> None:
    form = (
        world.client(Role.AREA_STAFF)
        .get("/org/organizations/new/", {"parent": world.s1.pk})
        .context["form"]
    )
    kinds = {value for value, _label in form.fields["kind"].choices if value}
    assert kinds == {"social_org", "enterprise", "volunteer_team"}


def test_a_wrong_credit_code_is_refused_with_a_chinese_message(world: World) -> None:
    code = make_credit_code("210102", 4242)
    wrong = code[:-1] + ("1" if code[-1] != "1" else "2")
    response = world.client(Role.COMMUNITY_CADRE).post(
        "/org/organizations/new/",
        {
            "kind": "social_org",
            "parent": world.c1.organization.pk,
            "name": "新社工中心",
            "credit_code": wrong,
        },
    )
    assert "统一社会信用代码第18位校验码应为" in response.content.decode()


def test_a_social_organisation_needs_a_credit_code(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).post(
        "/org/organizations/new/",
        {"kind": "social_org", "parent": world.c1.organization.pk, "name": "无码中心"},
    )
    assert "社会组织必须填写统一社会信用代码" in response.content.decode()


def test_create_stores_the_service_fields(world: World) -> None:
    world.client(Role.COMMUNITY_CADRE).post(
        "/org/organizations/new/",
        {
            "kind": "social_org",
            "parent": world.c1.organization.pk,
            "name": "乐龄中心",
            "credit_code": make_credit_code("210102", 4243),
            "service_fields": ["elderly", "mental_health"],
            "rating": "3A",
        },
    )
    org = Organization.objects.get(name="乐龄中心")
    assert (org.service_fields, org.rating) == (["elderly", "mental_health"], "3A")


def test_social_organisation_page_shows_its_service_fields(world: World) -> None:
    Organization.objects.filter(pk=world.o1.pk).update(service_fields=["legal"], rating="5A")
    body = world.client(Role.COMMUNITY_CADRE).get(f"/org/organizations/{world.o1.pk}/")
    assert "法律援助与劳动争议" in body.content.decode() and "5A" in body.content.decode()


def test_move_page_moves_the_organisation(world: World) -> None:
    other = OrganizationFactory(kind=OrgKind.STREET_UNION, parent=world.d1, name="新街道工会")
    team = OrganizationFactory(kind=OrgKind.VOLUNTEER_TEAM, parent=world.s1, credit_code=None)
    world.client(Role.AREA_STAFF).post(
        f"/org/organizations/{team.pk}/move/", {"parent": other.pk, "effective_on": today()}
    )
    assert Organization.objects.get(pk=team.pk).parent_id == other.pk


def test_move_page_offers_no_descendants_and_no_wrong_levels(world: World) -> None:
    form = (
        world.client(Role.FEDERATION_STAFF)
        .get(f"/org/organizations/{world.s1.pk}/move/")
        .context["form"]
    )
    assert set(form.fields["parent"].queryset.values_list("pk", flat=True)) == {world.d2.pk}


def test_moving_a_community_union_goes_through_the_restructuring_page(world: World) -> None:
    response = world.client(Role.AREA_STAFF).get(
        f"/org/organizations/{world.c1.organization.pk}/move/"
    )
    assert response.url == f"/org/communities/{world.c1.pk}/restructure/move/"  # type: ignore[attr-defined]


def test_retire_page_says_what_blocks_it(world: World) -> None:
    body = world.client(Role.AREA_STAFF).get(f"/org/organizations/{world.s1.pk}/retire/")
    assert "仍有 1 个在用的下级组织：凯旋社区联合工会" in body.content.decode()


def test_retire_page_retires(world: World) -> None:
    world.client(Role.COMMUNITY_CADRE).post(
        f"/org/organizations/{world.t1.pk}/retire/", {"retired_on": today(), "reason": "解散"}
    )
    assert Organization.objects.get(pk=world.t1.pk).is_active is False


def test_retired_organisations_leave_the_tree(world: World) -> None:
    world.client(Role.COMMUNITY_CADRE).post(
        f"/org/organizations/{world.t1.pk}/retire/", {"retired_on": today(), "reason": "解散"}
    )
    body = world.client(Role.COMMUNITY_CADRE).get("/org/tree/").content.decode()
    assert "凯旋志愿队" not in body


def test_social_worker_cannot_open_the_create_page(world: World) -> None:
    assert world.client(Role.SOCIAL_WORKER).get("/org/organizations/new/").status_code == 403


# ---- the community profile ------------------------------------------------------------------


def test_profile_shows_the_counts_and_venues(world: World) -> None:
    VenueFactory(community=world.c1, name="凯旋职工之家")
    context = world.client(Role.COMMUNITY_CADRE).get(f"/org/communities/{world.c1.pk}/").context
    assert (
        context["social_worker_count"],
        context["volunteer_count"],
        [v.name for v in context["venues"]],
    ) == (1, 1, ["凯旋职工之家"])


def test_profile_groups_the_organisations_beside_the_union_by_kind(world: World) -> None:
    context = world.client(Role.COMMUNITY_CADRE).get(f"/org/communities/{world.c1.pk}/").context
    assert {label: len(orgs) for label, orgs in context["org_groups"]} == {
        "社区党组织": 1,
        "社会组织": 1,
        "志愿服务队": 1,
    }


def test_profile_has_the_include_points_for_cobuilding_and_union_building(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).get(f"/org/communities/{world.c1.pk}/")
    names = {t.name for t in response.templates}
    assert {
        "organizations/community/_cobuilding.html",
        "organizations/community/_unionbuilding.html",
    } <= names


def test_community_list_hides_merged_communities(world: World) -> None:
    from sanlian.organizations import services

    services.community_merge(
        source=world.c2, target=world.c1, by=world.users[Role.FEDERATION_STAFF]
    )
    rows = world.client(Role.FEDERATION_STAFF).get("/org/communities/").context["communities"]
    assert [c.pk for c in rows] == [world.c1.pk]


def test_community_list_counts_residents_and_active_members(world: World) -> None:
    # Counted apart: joining residents and memberships in one query would multiply them.
    residents = [PersonFactory(community=world.c1) for _ in range(3)]
    for person in residents[:2]:
        MembershipFactory(person=person)
    MembershipFactory(
        person=residents[2], status=MembershipStatus.WITHDRAWN, ended_on=timezone.localdate()
    )
    before = Person.objects.filter(community=world.c2).count()
    rows = world.client(Role.FEDERATION_STAFF).get("/org/communities/").context["communities"]
    by_pk = {c.pk: c for c in rows}
    people_c1 = Person.objects.filter(community=world.c1).count()
    assert (by_pk[world.c1.pk].people_count, by_pk[world.c1.pk].member_count) == (
        people_c1,
        Membership.objects.filter(union=world.c1.organization, status="active").count(),
    )
    assert by_pk[world.c1.pk].member_count >= 2
    assert people_c1 >= 3
    assert by_pk[world.c2.pk].people_count == before


def test_city_staff_create_a_community(world: World) -> None:
    world.client(Role.FEDERATION_STAFF).post(
        "/org/communities/new/",
        {
            "street": world.s2.pk,
            "name": "新城",
            "tier": "weak",
            "population": 3000,
            "worker_count": 0,
            "retiree_count": 0,
        },
    )
    assert Community.objects.get(name="新城社区").organization.parent_id == world.s2.pk


# ---- restructuring pages --------------------------------------------------------------------


def _merge_post(world: World, action: str, **extra: object) -> object:
    return world.client(Role.FEDERATION_STAFF).post(
        f"/org/communities/{world.c2.pk}/restructure/merge/",
        {"target": world.c1.pk, "effective_on": today(), "action": action, **extra},
    )


def test_preview_lists_what_moves_and_changes_nothing(world: World) -> None:
    PersonFactory(community=world.c2)
    response = _merge_post(world, "preview")
    preview = response.context["preview"]  # type: ignore[attr-defined]
    assert (
        preview.count("organizations.Person"),
        Person.objects.filter(community=world.c2).count(),
    ) == (1, 1)


def test_confirm_carries_out_the_merge(world: World) -> None:
    PersonFactory(community=world.c2)
    digest = _merge_post(world, "preview").context["preview"].digest  # type: ignore[attr-defined]
    response = _merge_post(world, "confirm", preview_digest=digest)
    assert response.url == world.c1.get_absolute_url()  # type: ignore[attr-defined]
    assert Person.objects.filter(community=world.c2).count() == 0


def test_a_stale_confirmation_shows_the_new_preview_instead(world: World) -> None:
    digest = _merge_post(world, "preview").context["preview"].digest  # type: ignore[attr-defined]
    PersonFactory(community=world.c2)
    response = _merge_post(world, "confirm", preview_digest=digest)
    assert response.context["preview"].count("organizations.Person") == 1  # type: ignore[attr-defined]
    assert Community.objects.get(pk=world.c2.pk).merged_into_id is None


def test_district_staff_cannot_merge_into_another_district(world: World) -> None:
    response = world.client(Role.AREA_STAFF).post(
        f"/org/communities/{world.c1.pk}/restructure/merge/",
        {"target": world.c2.pk, "effective_on": today(), "action": "confirm"},
    )
    assert "target" in response.context["form"].errors


def test_district_staff_cannot_restructure_a_community_outside_scope(world: World) -> None:
    response = world.client(Role.AREA_STAFF).get(
        f"/org/communities/{world.c2.pk}/restructure/move/"
    )
    assert response.status_code == 404


def test_community_cadre_cannot_restructure(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).get(
        f"/org/communities/{world.c1.pk}/restructure/split/"
    )
    assert response.status_code == 403


def test_split_page_splits_by_address_prefix(world: World) -> None:
    person = PersonFactory(community=world.c1, address="沈阳市和平区中山路12号3栋1单元")
    world.client(Role.AREA_STAFF).post(
        f"/org/communities/{world.c1.pk}/restructure/split/",
        {
            "name": "中山",
            "tier": "ordinary",
            "address_prefixes": "沈阳市和平区中山路12号3栋",
            "population": 0,
            "worker_count": 0,
            "retiree_count": 0,
            "effective_on": today(),
            "action": "confirm",
        },
    )
    assert Person.objects.get(pk=person.pk).community.name == "中山社区"


def test_restructuring_writes_an_audit_entry_from_the_page(world: World) -> None:
    _merge_post(world, "confirm")
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry is not None and entry.changes["restructure"] == "merge"


# ---- venues ---------------------------------------------------------------------------------


def _venue_data(**extra: object) -> dict[str, object]:
    return {
        "kind": "service_station",
        "name": "凯旋服务站",
        "address": "沈阳市和平区中山路1号",
        "area": "85.5",
        "capacity": "30",
        "opening_hours": "周一至周五 8:30-17:00",
        **extra,
    }


def test_cadre_adds_a_venue_to_their_community(world: World) -> None:
    world.client(Role.COMMUNITY_CADRE).post(
        "/org/venues/new/", _venue_data(community=world.c1.pk, is_active="on")
    )
    assert Venue.objects.get(name="凯旋服务站").community_id == world.c1.pk


def test_a_venue_needs_exactly_one_owner(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).post(
        "/org/venues/new/", _venue_data(community=world.c1.pk, organization=world.o1.pk)
    )
    assert "请在“所属社区”和“所属组织”中选择且只选择一个" in response.content.decode()


def test_a_venue_outside_scope_cannot_be_created(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).post(
        "/org/venues/new/", _venue_data(community=world.c2.pk)
    )
    assert "community" in response.context["form"].errors


def test_a_venue_area_must_be_positive(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).post(
        "/org/venues/new/", _venue_data(community=world.c1.pk, area="0")
    )
    assert "面积应大于 0" in response.content.decode()


def test_social_organisation_manager_adds_only_its_own_venues(world: World) -> None:
    form = world.client(Role.SOCIAL_ORG_MANAGER).get("/org/venues/new/").context["form"]
    assert (
        list(form.fields["community"].queryset),
        list(form.fields["organization"].queryset),
    ) == ([], [world.o1])


def test_venue_edit_is_versioned(world: World) -> None:
    venue = VenueFactory(community=world.c1)
    world.client(Role.COMMUNITY_CADRE).post(
        f"/org/venues/{venue.pk}/edit/",
        _venue_data(community=world.c1.pk, expected_version=1, name="改名职工之家", is_active="on"),
    )
    saved = Venue.objects.get(pk=venue.pk)
    assert (saved.name, saved.version) == ("改名职工之家", 2)


def test_venue_outside_scope_is_404(world: World) -> None:
    venue = VenueFactory(community=world.c2)
    assert world.client(Role.AREA_STAFF).get(f"/org/venues/{venue.pk}/").status_code == 404


def test_venue_list_is_scoped(world: World) -> None:
    VenueFactory(community=world.c1, name="近处场地")
    VenueFactory(community=world.c2, name="远处场地")
    body = world.client(Role.AREA_STAFF).get("/org/venues/").content.decode()
    assert "近处场地" in body and "远处场地" not in body


def test_edit_a_social_organisations_service_fields(world: World) -> None:
    world.client(Role.COMMUNITY_CADRE).post(
        f"/org/organizations/{world.o1.pk}/edit/",
        {
            "name": world.o1.name,
            "credit_code": world.o1.credit_code,
            "service_fields": ["family", "health"],
            "rating": "2A",
            "expected_version": 1,
        },
    )
    org = Organization.objects.get(pk=world.o1.pk)
    assert (org.service_fields, org.rating, org.version) == (["family", "health"], "2A", 2)


def test_edit_form_of_a_party_organisation_has_no_social_organisation_fields(
    world: World,
) -> None:
    form = (
        world.client(Role.COMMUNITY_CADRE)
        .get(f"/org/organizations/{world.party1.pk}/edit/")
        .context["form"]
    )
    assert "service_fields" not in form.fields
