"""Correcting co-building records: a signatory taken off a draft agreement, a meeting
entered by mistake deleted (with its attendance and follow-ups), both audited."""

from __future__ import annotations

import pytest

from sanlian.core.models import AuditEntry
from sanlian.core.roles import Role
from sanlian.organizations.models import (
    AgreementParty,
    AgreementStatus,
    FollowUpItem,
    FollowUpStatus,
    JointMeeting,
)

from ..conftest import World
from .factories_cobuilding import FollowUpItemFactory, JointMeetingFactory, agreement_with_parties

pytestmark = pytest.mark.django_db


def _draft(world: World) -> object:
    return agreement_with_parties(
        world.c1, world.party1, world.c1.organization, world.o1, status=AgreementStatus.DRAFT
    )


def test_a_social_organisation_comes_off_a_draft_agreement(world: World) -> None:
    agreement = _draft(world)
    party = agreement.parties.get(organization=world.o1)
    response = world.client(Role.COMMUNITY_CADRE).post(
        f"/org/cobuilding/{agreement.pk}/parties/{party.pk}/remove/"
    )
    assert response.status_code == 302
    assert not AgreementParty.objects.filter(pk=party.pk).exists()


def test_the_removal_is_audited(world: World) -> None:
    agreement = _draft(world)
    party = agreement.parties.get(organization=world.o1)
    world.client(Role.COMMUNITY_CADRE).post(
        f"/org/cobuilding/{agreement.pk}/parties/{party.pk}/remove/"
    )
    assert AuditEntry.objects.filter(
        action="delete", object_type="organizations.AgreementParty", object_id=str(party.pk)
    ).exists()


def test_the_party_organisation_cannot_come_off(world: World) -> None:
    agreement = _draft(world)
    party = agreement.parties.get(organization=world.party1)
    response = world.client(Role.COMMUNITY_CADRE).post(
        f"/org/cobuilding/{agreement.pk}/parties/{party.pk}/remove/", follow=True
    )
    assert "签署方须包括本社区党组织" in response.content.decode()
    assert AgreementParty.objects.filter(pk=party.pk).exists()


def test_an_agreement_in_force_keeps_its_parties(world: World) -> None:
    agreement = agreement_with_parties(
        world.c1, world.party1, world.c1.organization, world.o1, status=AgreementStatus.ACTIVE
    )
    party = agreement.parties.get(organization=world.o1)
    response = world.client(Role.COMMUNITY_CADRE).post(
        f"/org/cobuilding/{agreement.pk}/parties/{party.pk}/remove/", follow=True
    )
    assert "只能删除草拟状态协议的签署方" in response.content.decode()
    assert AgreementParty.objects.filter(pk=party.pk).exists()


def test_another_communitys_agreement_is_404(world: World) -> None:
    agreement = agreement_with_parties(world.c2, world.c2.organization, world.o2)
    party = agreement.parties.get(organization=world.o2)
    response = world.client(Role.COMMUNITY_CADRE).post(
        f"/org/cobuilding/{agreement.pk}/parties/{party.pk}/remove/"
    )
    assert response.status_code == 404


def test_a_meeting_is_deleted_with_its_follow_ups(world: World) -> None:
    meeting = JointMeetingFactory(agreement=_draft(world))
    item = FollowUpItemFactory(meeting=meeting)
    world.client(Role.COMMUNITY_CADRE).post(f"/org/cobuilding/meetings/{meeting.pk}/delete/")
    assert (
        JointMeeting.objects.filter(pk=meeting.pk).exists(),
        FollowUpItem.objects.filter(pk=item.pk).exists(),
    ) == (False, False)


def test_the_delete_page_asks_first(world: World) -> None:
    meeting = JointMeetingFactory(agreement=_draft(world))
    response = world.client(Role.COMMUNITY_CADRE).get(
        f"/org/cobuilding/meetings/{meeting.pk}/delete/"
    )
    assert "确认删除" in response.content.decode()
    assert JointMeeting.objects.filter(pk=meeting.pk).exists()


def test_a_meeting_whose_follow_ups_were_worked_on_is_kept(world: World) -> None:
    meeting = JointMeetingFactory(agreement=_draft(world))
    FollowUpItemFactory(meeting=meeting, status=FollowUpStatus.IN_PROGRESS)
    response = world.client(Role.COMMUNITY_CADRE).post(
        f"/org/cobuilding/meetings/{meeting.pk}/delete/", follow=True
    )
    assert "不能删除" in response.content.decode()
    assert JointMeeting.objects.filter(pk=meeting.pk).exists()


def test_a_social_organisation_cannot_delete_a_meeting(world: World) -> None:
    meeting = JointMeetingFactory(agreement=_draft(world))
    response = world.client(Role.SOCIAL_ORG_MANAGER).post(
        f"/org/cobuilding/meetings/{meeting.pk}/delete/"
    )
    assert response.status_code == 403
