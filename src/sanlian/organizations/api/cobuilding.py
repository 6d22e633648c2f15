"""API for co-building agreements, joint meetings and follow-up items.

Bodies are validated by the forms of the pages (fed as form data), so the rules and the
Chinese messages are the same; every id is looked up through visible_to().
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from sanlian.core.api import ErrorOut, form_errors, formset_data
from sanlian.core.scoping import AREA_ROLES
from sanlian.core.services import ConcurrentEditError

from .. import services
from ..forms import AgreementCreateForm, FollowUpStatusForm, JointMeetingCreateForm
from ..forms.cobuilding import (
    attendance_formset,
    follow_up_formset,
    meeting_organizations,
    party_formset,
)
from ..models import (
    AgreementParty,
    CoBuildingAgreement,
    Community,
    FollowUpItem,
    JointMeeting,
    MeetingAttendance,
)

router = Router()


def require_editor(request: HttpRequest) -> Any:
    user = request.user
    if not user.has_role(*AREA_ROLES):  # type: ignore[union-attr]
        raise HttpError(403, "无权登记联建协议与联席会议")
    return user


# ---- schemas -------------------------------------------------------------------------------


class PartyOut(Schema):
    id: int
    organization_id: int
    organization_name: str = Field(alias="organization.name")
    role: str
    signed_on: dt.date | None
    signatory_name: str


class AgreementOut(Schema):
    id: int
    community_id: int
    title: str
    document_number: str
    signed_on: dt.date
    valid_from: dt.date
    valid_to: dt.date
    status: str
    commitments: str
    version: int
    parties: list[PartyOut]

    @staticmethod
    def resolve_parties(obj: CoBuildingAgreement) -> list[AgreementParty]:
        return list(obj.parties.select_related("organization").order_by("pk"))


class AgreementCreatedOut(AgreementOut):
    warnings: list[str] = []


class PartyIn(Schema):
    organization_id: int
    role: str = ""
    signed_on: dt.date | None = None
    signatory_name: str = ""


class AgreementIn(Schema):
    community_id: int
    title: str
    document_number: str = ""
    signed_on: dt.date
    valid_from: dt.date
    valid_to: dt.date
    status: str = "draft"
    commitments: str = ""
    parties: list[PartyIn]


class AttendanceOut(Schema):
    id: int
    organization_id: int | None
    attendee_name: str
    present: bool


class FollowUpOut(Schema):
    id: int
    meeting_id: int
    description: str
    owner_organization_id: int | None
    owner_name: str
    due_on: dt.date
    status: str
    completed_on: dt.date | None
    overdue: bool
    version: int

    @staticmethod
    def resolve_overdue(obj: FollowUpItem) -> bool:
        return obj.is_overdue(timezone.localdate())


class MeetingOut(Schema):
    id: int
    community_id: int
    agreement_id: int | None
    title: str
    held_on: dt.datetime
    place: str
    chair: str
    minutes: str
    decisions: str
    version: int
    attendance: list[AttendanceOut]
    follow_ups: list[FollowUpOut]

    @staticmethod
    def resolve_attendance(obj: JointMeeting) -> list[MeetingAttendance]:
        return list(obj.attendance.order_by("pk"))

    @staticmethod
    def resolve_follow_ups(obj: JointMeeting) -> list[FollowUpItem]:
        return list(obj.follow_ups.order_by("due_on", "pk"))


class AttendeeIn(Schema):
    attendee_name: str
    organization_id: int | None = None
    present: bool = True


class FollowUpIn(Schema):
    description: str
    due_on: dt.date
    owner_organization_id: int | None = None
    owner_name: str = ""


class MeetingIn(Schema):
    agreement_id: int | None = None
    community_id: int | None = None
    title: str
    held_on: dt.datetime
    chair: str
    place: str = ""
    minutes: str = ""
    decisions: str = ""
    attendees: list[AttendeeIn] = []
    follow_ups: list[FollowUpIn] = []


class StatusIn(Schema):
    status: str
    version: int


# ---- agreements ----------------------------------------------------------------------------


@router.get("/agreements", response=list[AgreementOut])
@paginate
def agreements(
    request: HttpRequest, community_id: int | None = None, status: str | None = None
) -> Any:
    qs = CoBuildingAgreement.objects.visible_to(request.user).order_by("pk")
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    return qs.filter(status=status) if status else qs


@router.get("/agreements/{agreement_id}", response=AgreementOut)
def agreement(request: HttpRequest, agreement_id: int) -> CoBuildingAgreement:
    return get_object_or_404(CoBuildingAgreement.objects.visible_to(request.user), pk=agreement_id)


@router.post("/agreements", response={201: AgreementCreatedOut, 400: ErrorOut})
def agreement_create(request: HttpRequest, payload: AgreementIn) -> Any:
    user = require_editor(request)
    community = get_object_or_404(Community.objects.visible_to(user), pk=payload.community_id)
    body = payload.dict()
    rows = body.pop("parties")
    body.pop("community_id")
    form = AgreementCreateForm(
        {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in body.items()}
    )
    parties = party_formset(
        formset_data(
            "parties",
            [{**r, "organization": r.pop("organization_id")} for r in rows],
        ),
        user=user,
        community=community,
    )
    if not (form.is_valid() and parties.is_valid()):
        return form_errors(form, parties)
    try:
        created = services.agreement_create(
            community=community,
            parties=[
                services.PartySpec(
                    organization=r["organization"],
                    role=r["role"],
                    signed_on=r.get("signed_on"),
                    signatory_name=r.get("signatory_name", ""),
                )
                for r in parties.rows()
            ],
            **form.cleaned_data,
        )
    except ValidationError as exc:
        return form_errors(exc)
    created.warnings = form.warnings()  # type: ignore[attr-defined]
    return Status(201, created)


# ---- joint meetings ------------------------------------------------------------------------


@router.get("/joint-meetings", response=list[MeetingOut])
@paginate
def meetings(
    request: HttpRequest, community_id: int | None = None, agreement_id: int | None = None
) -> Any:
    qs = JointMeeting.objects.visible_to(request.user).order_by("-held_on", "-pk")
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    return qs.filter(agreement_id=agreement_id) if agreement_id is not None else qs


@router.get("/joint-meetings/{meeting_id}", response=MeetingOut)
def meeting(request: HttpRequest, meeting_id: int) -> JointMeeting:
    return get_object_or_404(JointMeeting.objects.visible_to(request.user), pk=meeting_id)


@router.post("/joint-meetings", response={201: MeetingOut, 400: ErrorOut})
def meeting_create(request: HttpRequest, payload: MeetingIn) -> Any:
    user = require_editor(request)
    agreement = None
    if payload.agreement_id is not None:
        agreement = get_object_or_404(
            CoBuildingAgreement.objects.visible_to(user).select_related("community"),
            pk=payload.agreement_id,
        )
        community = agreement.community
        if payload.community_id is not None and payload.community_id != community.pk:
            return form_errors(ValidationError({"community_id": ["联建协议不属于该社区。"]}))
    elif payload.community_id is not None:
        community = get_object_or_404(Community.objects.visible_to(user), pk=payload.community_id)
    else:
        return form_errors(ValidationError({"community_id": ["请指定社区或联建协议。"]}))
    form = JointMeetingCreateForm(
        {
            "title": payload.title,
            "held_on": payload.held_on.isoformat(),
            "chair": payload.chair,
            "place": payload.place,
            "minutes": payload.minutes,
            "decisions": payload.decisions,
        }
    )
    organizations = meeting_organizations(user, community)
    attendees = attendance_formset(
        formset_data(
            "attendance",
            [
                {
                    "organization": a.organization_id,
                    "attendee_name": a.attendee_name,
                    "present": a.present,
                }
                for a in payload.attendees
            ],
        ),
        organizations=organizations,
        initial=None,
    )
    follow_ups = follow_up_formset(
        formset_data(
            "followups",
            [
                {
                    "description": f.description,
                    "due_on": f.due_on,
                    "owner_organization": f.owner_organization_id,
                    "owner_name": f.owner_name,
                }
                for f in payload.follow_ups
            ],
        ),
        organizations=organizations,
    )
    if form.is_valid():
        follow_ups.set_meeting_date(timezone.localdate(form.cleaned_data["held_on"]))
    if not (form.is_valid() and attendees.is_valid() and follow_ups.is_valid()):
        return form_errors(form, attendees, follow_ups)
    try:
        created = services.joint_meeting_create(
            community=community,
            agreement=agreement,
            attendees=[
                services.AttendeeSpec(
                    attendee_name=r["attendee_name"],
                    organization=r.get("organization"),
                    present=bool(r.get("present")),
                )
                for r in attendees.rows()
            ],
            follow_ups=[
                services.FollowUpSpec(
                    description=r["description"],
                    due_on=r["due_on"],
                    owner_organization=r.get("owner_organization"),
                    owner_name=r.get("owner_name", ""),
                )
                for r in follow_ups.rows()
            ],
            **form.cleaned_data,
        )
    except ValidationError as exc:
        return form_errors(exc)
    return Status(201, created)


# ---- follow-up items -----------------------------------------------------------------------


@router.get("/follow-ups", response=list[FollowUpOut])
@paginate
def follow_ups(
    request: HttpRequest,
    overdue: bool = False,
    status: str | None = None,
    meeting_id: int | None = None,
) -> Any:
    qs = FollowUpItem.objects.visible_to(request.user).order_by("due_on", "pk")
    if overdue:
        qs = qs.overdue(timezone.localdate())
    if meeting_id is not None:
        qs = qs.filter(meeting_id=meeting_id)
    return qs.filter(status=status) if status else qs


@router.get("/follow-ups/{item_id}", response=FollowUpOut)
def follow_up(request: HttpRequest, item_id: int) -> FollowUpItem:
    return get_object_or_404(FollowUpItem.objects.visible_to(request.user), pk=item_id)


@router.post(
    "/follow-ups/{item_id}/status", response={200: FollowUpOut, 400: ErrorOut, 409: ErrorOut}
)
def follow_up_status(request: HttpRequest, item_id: int, payload: StatusIn) -> Any:
    user = request.user
    item = get_object_or_404(FollowUpItem.objects.visible_to(user), pk=item_id)
    if not item.can_be_updated_by(user):
        raise HttpError(403, "无权更新该事项")
    form = FollowUpStatusForm({"status": payload.status, "expected_version": payload.version})
    if not form.is_valid():
        return form_errors(form)
    try:
        services.follow_up_set_status(
            item=item,
            status=form.cleaned_data["status"],
            expected_version=form.cleaned_data["expected_version"],
            today=timezone.localdate(),
        )
    except ConcurrentEditError as exc:
        return Status(409, {"detail": {"__all__": [str(exc)]}})
    return item
