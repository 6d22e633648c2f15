"""Merging two records of one person: every link moves, one audit entry, refusals named."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from sanlian.core.models import AuditEntry
from sanlian.core.roles import Role
from sanlian.organizations import services
from sanlian.organizations.models import HouseholdMember, Membership, Person, Relation
from sanlian.organizations.services.people import PersonLink

from ..conftest import World
from ..factories import (
    MembershipFactory,
    PersonFactory,
    SocialWorkerFactory,
    UserFactory,
    VolunteerFactory,
)
from .factories_people import HouseholdFactory, HouseholdMemberFactory, PersonTagFactory

pytestmark = pytest.mark.django_db


def pair(world: World) -> tuple[Person, Person]:
    """Two records of 王芳: the second was entered without an ID number."""
    keep = PersonFactory(name="王芳", phone="13812345678", community=world.c1, address="")
    merge = PersonFactory(
        name="王芳", phone="13812345678", community=world.c1, address="幸福路8号", id_number=None
    )
    merge.set_id_number("")
    merge.save()
    return keep, merge


def do_merge(world: World, keep: Person, merge: Person) -> Person:
    return services.person_merge(keep=keep, merge=merge, by=world.users[Role.COMMUNITY_CADRE])


def test_merge_retires_the_merged_record(world: World) -> None:
    keep, merge = pair(world)
    do_merge(world, keep, merge)
    gone = Person.objects.get(pk=merge.pk)
    assert (gone.is_active, gone.merged_into_id) == (False, keep.pk)


def test_merge_moves_memberships(world: World) -> None:
    keep, merge = pair(world)
    m = MembershipFactory(person=merge)
    do_merge(world, keep, merge)
    assert Membership.objects.get(pk=m.pk).person_id == keep.pk


def test_merge_moves_the_household_membership_and_headship(world: World) -> None:
    keep, merge = pair(world)
    household = HouseholdFactory(head=merge)
    do_merge(world, keep, merge)
    link = HouseholdMember.objects.get(household=household)
    household.refresh_from_db()
    assert (link.person_id, link.relation, household.head_id) == (keep.pk, Relation.SELF, keep.pk)


def test_merge_within_one_household_keeps_one_row(world: World) -> None:
    keep, merge = pair(world)
    household = HouseholdFactory(head=merge)
    HouseholdMemberFactory(household=household, person=keep, relation=Relation.SPOUSE)
    do_merge(world, keep, merge)
    assert list(household.members.values_list("person_id", "relation")) == [
        (keep.pk, Relation.SELF)
    ]


def test_merge_moves_a_social_worker_record(world: World) -> None:
    keep, merge = pair(world)
    worker = SocialWorkerFactory(person=merge, organization=world.o1)
    do_merge(world, keep, merge)
    worker.refresh_from_db()
    assert worker.person_id == keep.pk


def test_merge_moves_the_user_account(world: World) -> None:
    keep, merge = pair(world)
    user = UserFactory()
    Person.objects.filter(pk=merge.pk).update(user=user)
    merge.refresh_from_db()
    do_merge(world, keep, merge)
    assert Person.objects.get(user=user).pk == keep.pk


def test_merge_unites_tags(world: World) -> None:
    keep, merge = pair(world)
    PersonTagFactory(person=keep, tag="disabled")
    PersonTagFactory(person=merge, tag="disabled")
    PersonTagFactory(person=merge, tag="subsistence")
    do_merge(world, keep, merge)
    assert sorted(keep.tags.values_list("tag", flat=True)) == ["disabled", "subsistence"]


def test_merge_fills_empty_fields_from_the_merged_record(world: World) -> None:
    keep, merge = pair(world)
    do_merge(world, keep, merge)
    assert Person.objects.get(pk=keep.pk).address == "幸福路8号"


def test_merge_takes_the_id_number_when_keep_has_none(world: World) -> None:
    merge, keep = pair(world)  # this time the kept record is the one without a number
    do_merge(world, keep, merge)
    assert Person.objects.get(pk=keep.pk).id_number() == merge.id_number()


def test_merge_writes_one_audit_entry_listing_the_moved_links(world: World) -> None:
    keep, merge = pair(world)
    MembershipFactory(person=merge)
    before = AuditEntry.objects.count()
    do_merge(world, keep, merge)
    entry = AuditEntry.objects.order_by("-id").first()
    assert (AuditEntry.objects.count() - before, entry.changes["merge"]["moved"]) == (  # type: ignore[union-attr]
        1,
        {"organizations.Membership.person": 1},
    )


def test_both_social_worker_records_refuse_and_say_which(world: World) -> None:
    keep, merge = pair(world)
    SocialWorkerFactory(person=keep, organization=world.o1)
    SocialWorkerFactory(person=merge, organization=world.o1)
    with pytest.raises(ValidationError, match="社工"):
        do_merge(world, keep, merge)


def test_both_volunteer_records_refuse_and_write_nothing(world: World) -> None:
    keep, merge = pair(world)
    VolunteerFactory(person=keep, team=world.t1)
    VolunteerFactory(person=merge, team=world.t1)
    with pytest.raises(ValidationError):
        do_merge(world, keep, merge)
    assert Person.objects.get(pk=merge.pk).is_active


def test_two_active_memberships_refuse(world: World) -> None:
    keep, merge = pair(world)
    MembershipFactory(person=keep)
    MembershipFactory(person=merge)
    with pytest.raises(ValidationError, match="有效会籍"):
        do_merge(world, keep, merge)


def test_different_id_numbers_refuse(world: World) -> None:
    keep = PersonFactory(community=world.c1)
    other = PersonFactory(community=world.c1)
    with pytest.raises(ValidationError, match="身份证号不同"):
        do_merge(world, keep, other)


def test_a_registered_link_repoints_its_own_rows(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    keep, merge = pair(world)
    VolunteerFactory(person=merge, team=world.t1)
    calls: list[tuple[int, int]] = []

    def repoint(k: Person, m: Person) -> int:
        calls.append((k.pk, m.pk))
        return 0

    link = PersonLink("organizations.Volunteer.person", repoint=repoint)
    monkeypatch.setitem(services.people._links, link.relation, link)
    do_merge(world, keep, merge)
    assert calls == [(keep.pk, merge.pk)]


def test_a_registered_conflict_refuses(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    keep, merge = pair(world)
    link = PersonLink("organizations.Volunteer.person", conflict=lambda k, m: "个案未结案")
    monkeypatch.setitem(services.people._links, link.relation, link)
    with pytest.raises(ValidationError, match="个案未结案"):
        do_merge(world, keep, merge)


def test_every_relation_to_person_is_known() -> None:
    keys = {r.key for r in services.person_relations()}
    assert {"organizations.Membership.person", "organizations.SocialWorker.person"} <= keys


# ---- pages ---------------------------------------------------------------------------------


def test_duplicates_page_lists_same_name_and_phone(world: World) -> None:
    keep, merge = pair(world)
    body = world.client(Role.COMMUNITY_CADRE).get("/org/people/duplicates/").content.decode()
    assert f"keep={keep.pk}&amp;merge={merge.pk}" in body


def test_duplicates_page_stays_within_scope(world: World) -> None:
    PersonFactory(name="王芳", phone="13812345678", community=world.c2)
    PersonFactory(name="王芳", phone="13812345678", community=world.c2)
    response = world.client(Role.COMMUNITY_CADRE).get("/org/people/duplicates/")
    assert response.context["groups"] == []


def test_merge_preview_shows_what_moves(world: World) -> None:
    keep, merge = pair(world)
    MembershipFactory(person=merge)
    response = world.client(Role.COMMUNITY_CADRE).get(
        "/org/people/merge/", {"keep": keep.pk, "merge": merge.pk}
    )
    assert response.context["plan"].moves == {"会员": 1}


def test_merge_preview_changes_nothing(world: World) -> None:
    keep, merge = pair(world)
    world.client(Role.COMMUNITY_CADRE).get(
        "/org/people/merge/", {"keep": keep.pk, "merge": merge.pk}
    )
    assert Person.objects.get(pk=merge.pk).is_active


def test_merge_confirmed_on_the_page(world: World) -> None:
    keep, merge = pair(world)
    world.client(Role.COMMUNITY_CADRE).post(
        "/org/people/merge/", {"keep": keep.pk, "merge": merge.pk}
    )
    assert Person.objects.get(pk=merge.pk).merged_into_id == keep.pk


def test_merge_of_a_record_outside_scope_is_404(world: World) -> None:
    keep, _merge = pair(world)
    far = PersonFactory(name="王芳", phone="13812345678", community=world.c2)
    response = world.client(Role.COMMUNITY_CADRE).post(
        "/org/people/merge/", {"keep": keep.pk, "merge": far.pk}
    )
    assert response.status_code == 404


def test_merged_record_page_links_to_the_kept_one(world: World) -> None:
    keep, merge = pair(world)
    do_merge(world, keep, merge)
    body = world.client(Role.COMMUNITY_CADRE).get(merge.get_absolute_url()).content.decode()
    assert "已合并到" in body and keep.get_absolute_url() in body


def test_refused_merge_on_the_page_says_why(world: World) -> None:
    keep, merge = pair(world)
    MembershipFactory(person=keep)
    MembershipFactory(person=merge)
    response = world.client(Role.COMMUNITY_CADRE).get(
        "/org/people/merge/", {"keep": keep.pk, "merge": merge.pk}
    )
    assert "有效会籍" in response.content.decode()


def test_merge_date_fields_fill(world: World) -> None:
    keep, merge = pair(world)
    Person.objects.filter(pk=keep.pk).update(birth_date=None)
    keep.refresh_from_db()
    do_merge(world, keep, merge)
    assert Person.objects.get(pk=keep.pk).birth_date == dt.date(1980, 5, 17)
