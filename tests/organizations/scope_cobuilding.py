"""Scope cases of co-building agreements and joint meetings (collected by
tests/core/test_scoping.py). A lies in K1, with O1 as a signatory; B lies in K2."""

from __future__ import annotations

from typing import Any

from sanlian.core.roles import Role as R

from .factories_cobuilding import (
    FollowUpItemFactory,
    JointMeetingFactory,
    MeetingAttendanceFactory,
    agreement_with_parties,
)

# Area roles by the community's place in the tree; the social organisation that signed A.
SEEN = {
    R.FEDERATION_STAFF: "AB",
    R.AREA_STAFF: "A",
    R.COMMUNITY_CADRE: "A",
    R.PARTY_SECRETARY: "A",
    R.SOCIAL_ORG_MANAGER: "A",
}


def _agreements(w: Any) -> tuple[Any, Any]:
    near = agreement_with_parties(w.c1, w.party1, w.c1.organization, w.o1)
    far = agreement_with_parties(w.c2, w.c2.organization, w.o2)
    return near, far


def _parties(w: Any) -> tuple[Any, Any]:
    near, far = _agreements(w)
    return near.parties.get(organization=w.o1), far.parties.get(organization=w.o2)


def _meetings(w: Any) -> tuple[Any, Any]:
    near, far = _agreements(w)
    return JointMeetingFactory(agreement=near), JointMeetingFactory(agreement=far)


def _attendance(w: Any) -> tuple[Any, Any]:
    near, far = _meetings(w)
    return (
        MeetingAttendanceFactory(meeting=near, organization=w.party1),
        MeetingAttendanceFactory(meeting=far, organization=w.o2),
    )


def _follow_ups(w: Any) -> tuple[Any, Any]:
    near, far = _meetings(w)
    return (
        FollowUpItemFactory(meeting=near, owner_organization=w.c1.organization),
        # B is owned by O1 but belongs to K2's meeting: ownership alone shows nothing.
        FollowUpItemFactory(meeting=far, owner_organization=w.o1),
    )


CASES = {
    "organizations.CoBuildingAgreement": (_agreements, SEEN),
    "organizations.AgreementParty": (_parties, SEEN),
    "organizations.JointMeeting": (_meetings, SEEN),
    "organizations.MeetingAttendance": (_attendance, SEEN),
    "organizations.FollowUpItem": (_follow_ups, SEEN),
}
