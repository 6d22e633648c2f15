"""Restructuring areas: move, merge and split communities; everything hanging on them follows,
the preview counts what moves, one audit entry records it, and it is all or nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from sanlian.core.models import AuditEntry
from sanlian.core.roles import Role
from sanlian.organizations import services
from sanlian.organizations.models import (
    CoBuildingAgreement,
    Community,
    Membership,
    Organization,
    OrgKind,
    Person,
    SocialWorker,
    Venue,
    Volunteer,
)
from sanlian.organizations.services import restructuring

from ..conftest import World
from ..factories import (
    MembershipFactory,
    OrganizationFactory,
    PersonFactory,
    SocialWorkerFactory,
    VolunteerFactory,
)
from .factories_cobuilding import CoBuildingAgreementFactory
from .factories_tree import VenueFactory

pytestmark = pytest.mark.django_db


@dataclass
class Far:
    """What hangs on C2: people, a membership, a social worker of O2, a volunteer of T2,
    a community venue, O2's own venue and a co-building agreement."""

    people: list[Person]
    membership: Membership
    worker: SocialWorker
    volunteer: Volunteer
    venue: Venue
    org_venue: Venue
    agreement: Any


@pytest.fixture
def far(world: World) -> Far:
    c2 = world.c2
    people = [
        PersonFactory(community=c2, address="沈阳市沈河区青年大街1号1栋"),
        PersonFactory(community=c2, address="沈阳市沈河区青年大街1号2栋"),
        PersonFactory(community=c2, address="沈阳市沈河区青年大街1号2栋"),
    ]
    return Far(
        people=people,
        membership=MembershipFactory(person=people[0]),
        worker=SocialWorkerFactory(person=people[1], organization=world.o2),
        volunteer=VolunteerFactory(person=people[2], team=world.t2),
        venue=VenueFactory(community=c2, name="丽都职工之家"),
        org_venue=VenueFactory(organization=world.o2, name="同心活动室"),
        agreement=CoBuildingAgreementFactory(community=c2),
    )


def _city(world: World) -> Any:
    return world.users[Role.FEDERATION_STAFF]


def _merge(world: World, **kwargs: Any) -> restructuring.Preview:
    return services.community_merge(source=world.c2, target=world.c1, by=_city(world), **kwargs)


def _reload(obj: models.Model) -> Any:
    return type(obj)._default_manager.get(pk=obj.pk)


# ---- merge B (C2) into A (C1) ---------------------------------------------------------------


def test_merge_moves_the_people(world: World, far: Far) -> None:
    _merge(world)
    assert set(Person.objects.filter(community=world.c1).values_list("pk", flat=True)) >= {
        p.pk for p in far.people
    }


def test_merge_re_parents_the_organisations_under_the_receiving_union(
    world: World, far: Far
) -> None:
    _merge(world)
    assert {_reload(world.o2).parent_id, _reload(world.t2).parent_id} == {world.c1.organization.pk}


def test_merge_rewrites_the_paths_of_the_moved_organisations(world: World, far: Far) -> None:
    _merge(world)
    assert _reload(world.o2).path == f"{world.c1.organization.path}{world.o2.pk}/"


def test_merge_moves_memberships_to_the_receiving_union(world: World, far: Far) -> None:
    _merge(world)
    assert _reload(far.membership).union_id == world.c1.organization.pk


def test_merge_brings_social_workers_and_volunteers_into_the_receiving_scope(
    world: World, far: Far
) -> None:
    _merge(world)
    cadre = world.users[Role.COMMUNITY_CADRE]
    assert (
        SocialWorker.objects.visible_to(cadre).filter(pk=far.worker.pk).exists(),
        Volunteer.objects.visible_to(cadre).filter(pk=far.volunteer.pk).exists(),
    ) == (True, True)


def test_merge_moves_the_community_venues(world: World, far: Far) -> None:
    _merge(world)
    assert _reload(far.venue).community_id == world.c1.pk


def test_merge_moves_records_with_a_foreign_key_to_community_found_automatically(
    world: World, far: Far
) -> None:
    _merge(world)
    assert _reload(far.agreement).community_id == world.c1.pk


def test_merge_retires_b_and_records_where_it_went(world: World, far: Far) -> None:
    _merge(world)
    c2 = Community.objects.select_related("organization").get(pk=world.c2.pk)
    assert (c2.organization.is_active, c2.merged_into_id) == (False, world.c1.pk)


def test_merge_adds_the_population_counts(world: World, far: Far) -> None:
    _merge(world)
    assert _reload(world.c1).population == world.c1.population + world.c2.population


def test_merge_writes_one_audit_entry_with_counts_and_ids(world: World, far: Far) -> None:
    before = AuditEntry.objects.count()
    _merge(world)
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry is not None
    assert AuditEntry.objects.count() - before == 1
    assert entry.changes["moved"]["organizations.Person"] == {
        "count": 3,
        "ids": sorted(p.pk for p in far.people),
    }


def _under(community: Community) -> dict[str, int]:
    """How many rows of each hanging model are under `community` now."""
    path = community.organization.path
    return {
        "organizations.Person": Person.objects.filter(community=community).count(),
        "organizations.Organization": Organization.objects.filter(path__startswith=path)
        .exclude(path=path)
        .count(),
        "organizations.Membership": Membership.objects.filter(union__path__startswith=path).count(),
        "organizations.SocialWorker": SocialWorker.objects.filter(
            organization__path__startswith=path
        ).count(),
        "organizations.Volunteer": Volunteer.objects.filter(team__path__startswith=path).count(),
        "organizations.Venue": Venue.objects.filter(
            Q(community=community) | Q(organization__path__startswith=path)
        ).count(),
        "organizations.CoBuildingAgreement": CoBuildingAgreement.objects.filter(
            community=community
        ).count(),
    }


def test_merge_preview_counts_equal_what_moved_for_every_hanging_model(
    world: World, far: Far
) -> None:
    preview = services.community_merge_preview(source=world.c2, target=world.c1)
    before = _under(world.c1)
    _merge(world, expected_digest=preview.digest)
    after = _under(world.c1)
    assert {k: after[k] - before[k] for k in before} == {k: preview.count(k) for k in before}


def test_merge_preview_counts_are_not_empty(world: World, far: Far) -> None:
    preview = services.community_merge_preview(source=world.c2, target=world.c1)
    assert {k: preview.count(k) for k in _under(world.c1)} == {
        "organizations.Person": 3,
        "organizations.Organization": 2,
        "organizations.Membership": 1,
        "organizations.SocialWorker": 1,
        "organizations.Volunteer": 1,
        "organizations.Venue": 2,
        "organizations.CoBuildingAgreement": 1,
    }


def test_merge_refuses_a_stale_preview(world: World, far: Far) -> None:
    preview = services.community_merge_preview(source=world.c2, target=world.c1)
    PersonFactory(community=world.c2)
    with pytest.raises(ValidationError, match="预览之后数据已有变化"):
        _merge(world, expected_digest=preview.digest)


def test_merge_across_districts_is_refused_for_district_staff(world: World, far: Far) -> None:
    with pytest.raises(ValidationError, match="共同上级"):
        services.community_merge(source=world.c2, target=world.c1, by=world.users[Role.AREA_STAFF])


def test_merging_into_itself_is_refused(world: World) -> None:
    with pytest.raises(ValidationError, match="不能把社区并入它自己"):
        services.community_merge(source=world.c1, target=world.c1, by=_city(world))


def test_merging_a_merged_community_again_is_refused(world: World, far: Far) -> None:
    _merge(world)
    c3 = services.community_create(by=_city(world), street=world.s1, name="第三社区")
    with pytest.raises(ValidationError, match="已撤销或已被合并"):
        services.community_merge(source=_reload(world.c2), target=c3, by=_city(world))


def test_merge_is_all_or_nothing(world: World, far: Far, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(plan: restructuring.Plan, qs: models.QuerySet[Any]) -> int:
        raise ValidationError("boom")

    broken = restructuring.Follower("坏的", Volunteer, lambda plan: Q(), fail)
    monkeypatch.setitem(restructuring._registry, "organizations.Volunteer", broken)
    with pytest.raises(ValidationError):
        _merge(world)
    assert (
        Person.objects.filter(community=world.c2).count(),
        _reload(world.o2).parent_id,
        _reload(world.c2.organization).is_active,
    ) == (3, world.c2.organization.pk, True)


def test_merge_preview_notes_the_accounts_of_the_old_union(world: World, far: Far) -> None:
    from ..factories import UserFactory

    UserFactory(organization=world.c2.organization, roles=[Role.COMMUNITY_CADRE])
    preview = services.community_merge_preview(source=world.c2, target=world.c1)
    assert "1 个账号" in preview.notes[0]


# ---- move to another street -----------------------------------------------------------------


def test_move_hangs_the_union_under_the_new_street(world: World, far: Far) -> None:
    services.community_move(community=world.c2, street=world.s1, by=_city(world))
    c2 = Community.objects.select_related("organization").get(pk=world.c2.pk)
    assert (c2.organization.parent_id, c2.street_id, c2.district_id) == (
        world.s1.pk,
        world.s1.pk,
        world.d1.pk,
    )


def test_move_brings_the_communitys_records_into_the_new_districts_scope(
    world: World, far: Far
) -> None:
    services.community_move(community=world.c2, street=world.s1, by=_city(world))
    d1_staff = world.users[Role.AREA_STAFF]
    visible = (
        Person.objects.visible_to(d1_staff).filter(pk__in=[p.pk for p in far.people]).count(),
        Membership.objects.visible_to(d1_staff).filter(pk=far.membership.pk).count(),
        SocialWorker.objects.visible_to(d1_staff).filter(pk=far.worker.pk).count(),
        Venue.objects.visible_to(d1_staff).filter(pk__in=[far.venue.pk, far.org_venue.pk]).count(),
    )
    assert visible == (3, 1, 1, 2)


def test_move_preview_counts_everything_of_the_community(world: World, far: Far) -> None:
    preview = services.community_move_preview(community=world.c2, street=world.s1)
    assert (
        preview.count("organizations.Person"),
        preview.count("organizations.Organization"),
        preview.count("organizations.Venue"),
    ) == (3, 2, 2)


def test_move_to_its_own_street_is_refused(world: World) -> None:
    with pytest.raises(ValidationError, match="社区已在该街道"):
        services.community_move(community=world.c1, street=world.s1, by=_city(world))


def test_move_writes_one_audit_entry(world: World, far: Far) -> None:
    before = AuditEntry.objects.count()
    services.community_move(community=world.c2, street=world.s1, by=_city(world))
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry is not None
    assert (AuditEntry.objects.count() - before, entry.changes["street"]) == (
        1,
        [world.s2.pk, world.s1.pk],
    )


# ---- split ----------------------------------------------------------------------------------


def _split(world: World, far: Far, **kwargs: Any) -> restructuring.SplitResult:
    people = restructuring.people_to_split(
        world.c2, address_prefixes=["沈阳市沈河区青年大街1号2栋"], person_ids=[far.people[0].pk]
    )
    return services.community_split(
        community=world.c2,
        name="丽都二社区",
        by=_city(world),
        person_ids=people,
        organization_ids=[world.o2.pk],
        population=1000,
        **kwargs,
    )


def test_people_to_split_takes_address_prefixes_and_ids(world: World, far: Far) -> None:
    chosen = restructuring.people_to_split(
        world.c2, address_prefixes=["沈阳市沈河区青年大街1号2栋"], person_ids=[far.people[0].pk]
    )
    assert chosen == {p.pk for p in far.people}


def test_people_to_split_ignores_people_of_other_communities(world: World, far: Far) -> None:
    chosen = restructuring.people_to_split(world.c2, person_ids=[world.people["worker"].pk])
    assert chosen == frozenset()


def test_split_creates_the_new_community_in_the_same_street(world: World, far: Far) -> None:
    new = _split(world, far).new
    assert (new.street_id, new.organization.parent_id, new.name) == (
        world.s2.pk,
        world.s2.pk,
        "丽都二社区",
    )


def test_split_moves_the_chosen_people(world: World, far: Far) -> None:
    new = _split(world, far).new
    assert Person.objects.filter(community=new).count() == 3


def test_split_moves_the_memberships_of_the_people_who_move(world: World, far: Far) -> None:
    new = _split(world, far).new
    assert _reload(far.membership).union_id == new.organization_id


def test_split_moves_the_chosen_organisations_with_their_staff(world: World, far: Far) -> None:
    new = _split(world, far).new
    assert _reload(world.o2).parent_id == new.organization_id
    assert SocialWorker.objects.filter(
        pk=far.worker.pk, organization__path__startswith=new.organization.path
    ).exists()


def test_split_keeps_what_was_not_chosen(world: World, far: Far) -> None:
    _split(world, far)
    assert (_reload(world.t2).parent_id, _reload(far.venue).community_id) == (
        world.c2.organization.pk,
        world.c2.pk,
    )


def test_split_moves_the_population_given(world: World, far: Far) -> None:
    new = _split(world, far).new
    assert (_reload(new).population, _reload(world.c2).population) == (
        1000,
        world.c2.population - 1000,
    )


def test_split_cannot_take_more_population_than_there_is(world: World, far: Far) -> None:
    with pytest.raises(ValidationError, match="不能超过原社区的数量"):
        services.community_split(
            community=world.c2,
            name="丽都二社区",
            by=_city(world),
            person_ids=frozenset({far.people[0].pk}),
            population=world.c2.population + 1,
        )


def test_split_with_nothing_chosen_is_refused(world: World) -> None:
    with pytest.raises(ValidationError, match="请至少选择一名居民或一个组织"):
        services.community_split(
            community=world.c2, name="空社区", by=_city(world), person_ids=frozenset()
        )


def test_split_refuses_organisations_of_another_community(world: World, far: Far) -> None:
    with pytest.raises(ValidationError, match="只能选择本社区联合工会下的组织"):
        services.community_split(
            community=world.c2,
            name="丽都二社区",
            by=_city(world),
            person_ids=frozenset(),
            organization_ids=[world.o1.pk],
        )


def test_split_preview_counts_equal_what_moved(world: World, far: Far) -> None:
    people = restructuring.people_to_split(
        world.c2, address_prefixes=["沈阳市沈河区青年大街1号2栋"], person_ids=[far.people[0].pk]
    )
    preview = services.community_split_preview(
        community=world.c2, person_ids=people, organization_ids=[world.o2.pk]
    )
    new = _split(world, far, expected_digest=preview.digest).new
    assert (
        Person.objects.filter(community=new).count(),
        Membership.objects.filter(union=new.organization).count(),
        Organization.objects.filter(parent=new.organization).count(),
        SocialWorker.objects.filter(organization__parent=new.organization).count(),
    ) == (
        preview.count("organizations.Person"),
        preview.count("organizations.Membership"),
        preview.count("organizations.Organization"),
        preview.count("organizations.SocialWorker"),
    )


def test_split_writes_one_audit_entry_naming_the_new_community(world: World, far: Far) -> None:
    before = AuditEntry.objects.count()
    new = _split(world, far).new
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry is not None
    assert (AuditEntry.objects.count() - before, entry.changes["new_community"]) == (1, new.pk)


def test_split_by_street_staff_of_another_district_is_refused(world: World, far: Far) -> None:
    with pytest.raises(ValidationError, match="管辖范围"):
        services.community_split(
            community=world.c2,
            name="丽都二社区",
            by=world.users[Role.AREA_STAFF],
            person_ids=frozenset({far.people[0].pk}),
        )


# ---- the registry ---------------------------------------------------------------------------


def test_every_model_with_a_foreign_key_to_community_follows() -> None:
    excluded = {"organizations.Community", "organizations.CommunityAreaPeriod"}
    hanging = {
        m._meta.label
        for m in apps.get_models()
        if any(
            isinstance(f, models.ForeignKey)
            and not isinstance(f, models.OneToOneField)
            and f.related_model is Community
            for f in m._meta.concrete_fields
        )
    } - excluded
    assert hanging <= {f.key for f in restructuring.followers()}


def test_a_registered_follower_appears_in_the_preview_and_is_re_pointed(
    world: World, far: Far, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []

    def repoint(plan: restructuring.Plan, qs: models.QuerySet[Any]) -> int:
        seen.extend(qs.values_list("pk", flat=True))
        return len(seen)

    follower = restructuring.Follower(
        "评估机构", Organization, lambda plan: Q(kind=OrgKind.EVALUATOR), repoint, "test.Evaluators"
    )
    monkeypatch.setitem(restructuring._registry, follower.key, follower)
    result = _merge(world)
    assert (result.count("test.Evaluators"), seen) == (1, [world.evaluator_org.pk])


def test_move_carries_the_organisations_beside_the_union(world: World) -> None:
    street = OrganizationFactory(kind=OrgKind.STREET_UNION, parent=world.d1)
    services.community_move(community=world.c1, street=street, by=world.users[Role.AREA_STAFF])
    assert _reload(world.party1).path.startswith(street.path)
