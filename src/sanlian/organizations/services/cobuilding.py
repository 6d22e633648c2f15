"""Writes about co-building agreements, joint meetings and their follow-up items.

Callers have looked every object up through visible_to() and validated input with the forms
of `forms.cobuilding`; the rules that must hold whoever calls are checked here again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from sanlian.core.services import save_versioned

from ..models import (
    AgreementParty,
    AgreementStatus,
    CoBuildingAgreement,
    Community,
    FollowUpItem,
    FollowUpStatus,
    JointMeeting,
    MeetingAttendance,
    Organization,
)
from ..models.cobuilding import required_party_errors


@dataclass(frozen=True)
class PartySpec:
    organization: Organization
    role: str
    signed_on: date | None = None
    signatory_name: str = ""


@dataclass(frozen=True)
class AttendeeSpec:
    attendee_name: str
    organization: Organization | None = None
    present: bool = True


@dataclass(frozen=True)
class FollowUpSpec:
    description: str
    due_on: date
    owner_organization: Organization | None = None
    owner_name: str = ""


@transaction.atomic
def agreement_create(
    *,
    community: Community,
    title: str,
    signed_on: date,
    valid_from: date,
    valid_to: date,
    parties: list[PartySpec],
    status: str = AgreementStatus.DRAFT,
    document_number: str = "",
    commitments: str = "",
) -> CoBuildingAgreement:
    """A new agreement with its signatories; the community's Party organisation and joint
    union must be among them."""
    errors = required_party_errors(community, [(p.organization, p.role) for p in parties])
    if errors:
        raise ValidationError(errors)
    if len({p.organization.pk for p in parties}) != len(parties):
        raise ValidationError(_("同一组织不能重复列为签署方。"))
    agreement = CoBuildingAgreement(
        community=community,
        title=title,
        document_number=document_number,
        signed_on=signed_on,
        valid_from=valid_from,
        valid_to=valid_to,
        status=status,
        commitments=commitments,
    )
    agreement.validate_constraints()
    agreement.save()
    for p in parties:
        AgreementParty.objects.create(
            agreement=agreement,
            organization=p.organization,
            role=p.role,
            signed_on=p.signed_on or signed_on,
            signatory_name=p.signatory_name,
        )
    return agreement


@transaction.atomic
def agreement_party_add(*, agreement: CoBuildingAgreement, party: PartySpec) -> AgreementParty:
    CoBuildingAgreement.objects.select_for_update().filter(pk=agreement.pk).first()
    if agreement.parties.filter(organization=party.organization).exists():
        raise ValidationError({"organization": _("该组织已是本协议的签署方。")})
    return AgreementParty.objects.create(
        agreement=agreement,
        organization=party.organization,
        role=party.role,
        signed_on=party.signed_on,
        signatory_name=party.signatory_name,
    )


@transaction.atomic
def agreement_party_remove(*, party: AgreementParty) -> None:
    """Take a signatory off a draft agreement (entered by mistake). The community's Party
    organisation and joint union stay; an agreement in force keeps the parties that signed
    it (a change of parties is a new agreement)."""
    agreement = CoBuildingAgreement.objects.select_for_update().get(pk=party.agreement_id)
    if agreement.status != AgreementStatus.DRAFT:
        raise ValidationError(
            _("只能删除草拟状态协议的签署方；已生效的协议如需变更签署方，请终止后重新签订。")
        )
    remaining = [(p.organization, p.role) for p in agreement.parties.exclude(pk=party.pk)]
    errors = required_party_errors(agreement.community, remaining)
    if errors:
        raise ValidationError(errors)
    party.delete()


@transaction.atomic
def joint_meeting_delete(*, meeting: JointMeeting) -> None:
    """Delete a meeting entered by mistake, with its attendance and follow-up items (each
    deletion is in the audit trail). A meeting whose follow-up items have been worked on is
    kept: its record is what the work answers to."""
    JointMeeting.objects.select_for_update().filter(pk=meeting.pk).first()
    if meeting.follow_ups.exclude(status=FollowUpStatus.NOT_STARTED).exists():
        raise ValidationError(_("该会议的督办事项已有办理记录，不能删除。"))
    meeting.delete()


@transaction.atomic
def joint_meeting_create(
    *,
    community: Community,
    agreement: CoBuildingAgreement | None,
    title: str,
    held_on: datetime,
    chair: str,
    place: str = "",
    minutes: str = "",
    decisions: str = "",
    attendees: list[AttendeeSpec] | None = None,
    follow_ups: list[FollowUpSpec] | None = None,
) -> JointMeeting:
    """Record a joint meeting with who attended and what is to be followed up."""
    if agreement is not None and agreement.community_id != community.pk:
        raise ValidationError({"agreement": _("联建协议不属于该社区。")})
    meeting = JointMeeting.objects.create(
        community=community,
        agreement=agreement,
        title=title,
        held_on=held_on,
        place=place,
        chair=chair,
        minutes=minutes,
        decisions=decisions,
    )
    for a in attendees or []:
        MeetingAttendance.objects.create(
            meeting=meeting,
            organization=a.organization,
            attendee_name=a.attendee_name,
            present=a.present,
        )
    for f in follow_ups or []:
        follow_up_add(meeting=meeting, item=f)
    return meeting


@transaction.atomic
def follow_up_add(*, meeting: JointMeeting, item: FollowUpSpec) -> FollowUpItem:
    if item.due_on < meeting.held_on.date():
        raise ValidationError({"due_on": _("完成时限不能早于会议日期。")})
    return FollowUpItem.objects.create(
        meeting=meeting,
        description=item.description,
        owner_organization=item.owner_organization,
        owner_name=item.owner_name,
        due_on=item.due_on,
    )


@transaction.atomic
def follow_up_set_status(
    *, item: FollowUpItem, status: str, expected_version: int, today: date
) -> FollowUpItem:
    """Move an item to another status; 已完成 records the day. A stale version is refused
    (ConcurrentEditError) rather than overwriting someone else's change."""
    if status not in FollowUpStatus.values:
        raise ValidationError({"status": _("未知状态。")})
    was = item.status
    item.status = status
    if status == FollowUpStatus.DONE:
        item.completed_on = item.completed_on if was == FollowUpStatus.DONE else today
    else:
        item.completed_on = None
    save_versioned(item, expected_version=expected_version, fields=["status", "completed_on"])
    return item
