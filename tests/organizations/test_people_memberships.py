"""Union membership: joining, transfers, withdrawals, reinstatement, dues and lapsed members."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from openpyxl import load_workbook

from sanlian.core.models import AuditEntry
from sanlian.core.roles import Role
from sanlian.organizations import services
from sanlian.organizations.models import Membership, MembershipStatus, OrgKind, lapse_cutoff

from ..conftest import World
from ..factories import CommunityFactory, MembershipFactory, OrganizationFactory, PersonFactory

pytestmark = pytest.mark.django_db

ON = dt.date(2026, 11, 15)
LONG_AGO = dt.date(2020, 1, 1)


def member(world: World, **fields: object) -> Membership:
    person = PersonFactory(community=world.c1)
    fields.setdefault("joined_on", LONG_AGO)
    return MembershipFactory(person=person, **fields)


def lapsed_ids(on: dt.date = ON) -> set[int]:
    return set(Membership.objects.lapsed(on=on).values_list("pk", flat=True))


# ---- six months without dues or organisational life ---------------------------------------


def test_six_calendar_months_back() -> None:
    assert lapse_cutoff(dt.date(2027, 8, 31)) == dt.date(2027, 2, 28)


def test_member_without_dues_or_activity_for_six_months_is_lapsed(world: World) -> None:
    m = member(world, last_dues_on=dt.date(2026, 5, 14), last_activity_on=dt.date(2026, 4, 1))
    assert m.pk in lapsed_ids()


def test_dues_exactly_six_months_ago_still_count(world: World) -> None:
    m = member(world, last_dues_on=dt.date(2026, 5, 15))
    assert m.pk not in lapsed_ids()


def test_recent_organisational_life_keeps_a_member_active(world: World) -> None:
    m = member(world, last_dues_on=dt.date(2025, 1, 1), last_activity_on=dt.date(2026, 10, 1))
    assert m.pk not in lapsed_ids()


def test_member_with_no_record_at_all_is_lapsed(world: World) -> None:
    m = member(world)
    assert m.pk in lapsed_ids()


def test_member_who_joined_within_six_months_is_not_lapsed(world: World) -> None:
    m = member(world, joined_on=dt.date(2026, 6, 1))
    assert m.pk not in lapsed_ids()


def test_withdrawn_member_is_not_lapsed(world: World) -> None:
    m = member(world, status=MembershipStatus.WITHDRAWN, ended_on=dt.date(2021, 1, 1))
    assert m.pk not in lapsed_ids()


def test_is_lapsed_agrees_with_the_query(world: World) -> None:
    m = member(world, last_dues_on=dt.date(2026, 5, 14))
    assert m.is_lapsed(ON) and not m.is_lapsed(dt.date(2026, 11, 14))


def test_lapsed_page_lists_lapsed_members_in_scope(world: World) -> None:
    near = member(world)
    MembershipFactory(person=PersonFactory(community=world.c2), joined_on=LONG_AGO)
    response = world.client(Role.AREA_STAFF).get("/org/members/lapsed/")
    assert [m.pk for m in response.context["page"]] == [near.pk]


def test_lapsed_export_is_audited(world: World) -> None:
    member(world)
    response = world.client(Role.COMMUNITY_CADRE).get("/org/members/lapsed/", {"format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2 and AuditEntry.objects.filter(action="export").count() == 1


def test_person_page_shows_the_lapsed_badge(world: World) -> None:
    m = member(world)
    body = world.client(Role.COMMUNITY_CADRE).get(m.person.get_absolute_url()).content.decode()
    assert 'data-testid="lapsed-badge"' in body


def test_person_page_has_no_badge_for_a_paying_member(world: World) -> None:
    m = member(world, last_dues_on=dt.date.today())
    body = world.client(Role.COMMUNITY_CADRE).get(m.person.get_absolute_url()).content.decode()
    assert 'data-testid="lapsed-badge"' not in body


# ---- dues and organisational life ----------------------------------------------------------


def test_recording_dues_moves_the_date_forward(world: World) -> None:
    m = member(world, last_dues_on=dt.date(2026, 1, 1))
    services.membership_record_life(membership=m, dues_on=dt.date(2026, 3, 1), today=ON)
    assert Membership.objects.get(pk=m.pk).last_dues_on == dt.date(2026, 3, 1)


def test_an_earlier_date_leaves_the_record_as_it_is(world: World) -> None:
    m = member(world, last_activity_on=dt.date(2026, 3, 1))
    services.membership_record_life(membership=m, activity_on=dt.date(2026, 1, 1), today=ON)
    assert Membership.objects.get(pk=m.pk).last_activity_on == dt.date(2026, 3, 1)


def test_a_future_date_is_refused(world: World) -> None:
    m = member(world)
    with pytest.raises(ValidationError):
        services.membership_record_life(membership=m, dues_on=dt.date(2026, 12, 1), today=ON)


def test_recording_life_on_the_person_page(world: World) -> None:
    m = member(world)
    today = dt.date.today().isoformat()
    world.client(Role.COMMUNITY_CADRE).post(f"/org/memberships/{m.pk}/life/", {"dues_on": today})
    assert Membership.objects.get(pk=m.pk).last_dues_on == dt.date.today()


# ---- joining -------------------------------------------------------------------------------


def test_join_on_the_page(world: World) -> None:
    person = PersonFactory(community=world.c1, workplace="沈阳地铁")
    world.client(Role.COMMUNITY_CADRE).post(
        f"/org/people/{person.pk}/join/",
        {"union": world.c1.organization_id, "card_number": "HY001", "joined_on": "2024-05-01"},
    )
    m = Membership.objects.get(person=person)
    assert (m.card_number, m.union_id, m.status) == ("HY001", world.c1.organization_id, "active")


def test_a_card_number_of_another_person_is_refused(world: World) -> None:
    other = member(world, card_number="HY001")
    person = PersonFactory(community=world.c1)
    with pytest.raises(ValidationError, match="已属于其他会员"):
        services.membership_join(
            person=person, union=other.union, card_number="HY001", joined_on=ON
        )


def test_a_second_active_membership_is_refused(world: World) -> None:
    m = member(world)
    with pytest.raises(ValidationError, match="转会"):
        services.membership_join(person=m.person, union=world.s1, card_number="HY002", joined_on=ON)


def test_only_a_union_can_have_members(world: World) -> None:
    person = PersonFactory(community=world.c1)
    with pytest.raises(ValidationError, match="不是工会组织"):
        services.membership_join(person=person, union=world.o1, card_number="X1", joined_on=ON)


# ---- transfers -----------------------------------------------------------------------------


def other_union(world: World) -> object:
    return CommunityFactory(name="新城社区", street_org=world.s1).organization


def test_transfer_ends_the_membership_as_transferred(world: World) -> None:
    m = member(world)
    services.membership_transfer(membership=m, to_union=other_union(world), on=ON)  # type: ignore[arg-type]
    old = Membership.objects.get(pk=m.pk)
    assert (old.status, old.ended_on) == (MembershipStatus.TRANSFERRED, ON)


def test_transfer_starts_a_membership_in_the_new_union(world: World) -> None:
    m = member(world, card_number="HY9", last_dues_on=dt.date(2026, 10, 1))
    union = other_union(world)
    new = services.membership_transfer(membership=m, to_union=union, on=ON)  # type: ignore[arg-type]
    assert (new.union, new.card_number, new.joined_on, new.previous_id, new.last_dues_on) == (
        union,
        "HY9",
        ON,
        m.pk,
        dt.date(2026, 10, 1),
    )


def test_transfer_is_audited_with_both_unions(world: World) -> None:
    m = member(world)
    union = other_union(world)
    services.membership_transfer(membership=m, to_union=union, on=ON)  # type: ignore[arg-type]
    entry = AuditEntry.objects.filter(changes__has_key="membership_transfer").get()
    assert entry.changes["membership_transfer"]["to"][0] == union.pk  # type: ignore[attr-defined]


def test_transfer_to_the_same_union_is_refused(world: World) -> None:
    m = member(world)
    with pytest.raises(ValidationError):
        services.membership_transfer(membership=m, to_union=m.union, on=ON)


def test_transfer_before_joining_is_refused_and_writes_nothing(world: World) -> None:
    m = member(world)
    with pytest.raises(ValidationError):
        services.membership_transfer(
            membership=m,
            to_union=other_union(world),  # type: ignore[arg-type]
            on=dt.date(2019, 1, 1),
        )
    assert Membership.objects.count() == 1


def test_transfer_on_the_page(world: World) -> None:
    m = member(world)
    union = other_union(world)
    world.client(Role.AREA_STAFF).post(
        f"/org/memberships/{m.pk}/transfer/",
        {"to_union": union.pk, "on": "2026-01-10"},  # type: ignore[attr-defined]
    )
    assert Membership.objects.active().get(person=m.person).union == union


def test_transfer_to_a_union_outside_scope_is_refused(world: World) -> None:
    m = member(world)
    response = world.client(Role.AREA_STAFF).post(
        f"/org/memberships/{m.pk}/transfer/",
        {"to_union": world.c2.organization_id, "on": "2026-01-10"},
    )
    assert "to_union" in response.context["form"].errors


def test_history_lists_every_stint(world: World) -> None:
    m = member(world)
    services.membership_transfer(membership=m, to_union=other_union(world), on=ON)  # type: ignore[arg-type]
    body = world.client(Role.AREA_STAFF).get(m.person.get_absolute_url()).content.decode()
    assert body.count("<td>已转出</td>") == 1 and "新城社区联合工会" in body


# ---- withdrawal and reinstatement ----------------------------------------------------------


def test_withdrawal_records_date_and_reason(world: World) -> None:
    m = member(world)
    services.membership_withdraw(membership=m, on=ON, reason="本人申请")
    saved = Membership.objects.get(pk=m.pk)
    assert (saved.status, saved.ended_on, saved.end_reason) == ("withdrawn", ON, "本人申请")


def test_withdrawal_needs_a_reason(world: World) -> None:
    m = member(world)
    with pytest.raises(ValidationError, match="退会原因"):
        services.membership_withdraw(membership=m, on=ON, reason=" ")


def test_withdrawal_on_the_page(world: World) -> None:
    m = member(world)
    world.client(Role.COMMUNITY_CADRE).post(
        f"/org/memberships/{m.pk}/withdraw/", {"on": "2026-01-10", "reason": "连续六个月未缴费"}
    )
    assert Membership.objects.get(pk=m.pk).status == MembershipStatus.WITHDRAWN


def test_reinstatement_starts_a_new_stint_and_keeps_the_withdrawal(world: World) -> None:
    m = member(world)
    services.membership_withdraw(membership=m, on=dt.date(2025, 1, 1), reason="未缴费")
    new = services.membership_reinstate(membership=m, on=ON)
    assert (new.status, new.previous_id, Membership.objects.get(pk=m.pk).status) == (
        "active",
        m.pk,
        "withdrawn",
    )


def test_only_a_withdrawn_membership_is_reinstated(world: World) -> None:
    m = member(world)
    with pytest.raises(ValidationError):
        services.membership_reinstate(membership=m, on=ON)


def test_social_worker_cannot_transfer(world: World) -> None:
    m = member(world)
    union = OrganizationFactory(kind=OrgKind.COMMUNITY_UNION, parent=world.s1, credit_code=None)
    response = world.client(Role.SOCIAL_WORKER).post(
        f"/org/memberships/{m.pk}/transfer/", {"to_union": union.pk, "on": "2026-01-10"}
    )
    assert response.status_code == 403
