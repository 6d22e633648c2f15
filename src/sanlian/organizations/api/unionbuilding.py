"""API for union building in social organisations and Trade Union Law training."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from sanlian.core.api import ErrorOut, form_errors, formset_data
from sanlian.core.roles import Role
from sanlian.core.scoping import AREA_ROLES

from .. import services
from ..forms import TrainingCreateForm, UnionBuildingCreateForm
from ..forms.unionbuilding import trainee_formset
from ..models import (
    Organization,
    OrgKind,
    Person,
    TrainingAttendance,
    TrainingSession,
    UnionBuilding,
    union_status_rows,
)
from .cobuilding import require_editor

router = Router()


def _social_orgs(user: Any) -> Any:
    return Organization.objects.visible_to(user).of_kind(OrgKind.SOCIAL_ORG)


# ---- schemas -------------------------------------------------------------------------------


class UnionBuildingOut(Schema):
    id: int
    organization_id: int
    organization_name: str = Field(alias="organization.name")
    year: int
    as_of: dt.date
    union_founded: bool
    founded_on: dt.date | None
    union_name: str
    staff_count: int
    member_count: int
    membership_rate: Decimal | None
    version: int


class UnionBuildingIn(Schema):
    organization_id: int
    as_of: dt.date
    staff_count: int
    member_count: int
    union_founded: bool = False
    founded_on: dt.date | None = None
    union_name: str = ""


class CoverageOut(Schema):
    organization_id: int
    organization_name: str
    union_founded: bool | None
    staff_count: int | None
    member_count: int | None
    membership_rate: Decimal | None
    trained_last_12_months: int
    coverage: Decimal | None


class TrainingOut(Schema):
    id: int
    topic: str
    title: str
    held_on: dt.date
    place: str
    trainer: str
    organiser_id: int
    description: str
    version: int


class TrainingIn(Schema):
    topic: str
    title: str = ""
    held_on: dt.date
    trainer: str
    organiser_id: int
    place: str = ""
    description: str = ""


class AttendanceOut(Schema):
    id: int
    session_id: int
    person_id: int | None
    attendee_name: str
    organization_id: int
    attended: bool
    test_score: Decimal | None


class TraineeIn(Schema):
    person_id: int | None = None
    attendee_name: str = ""
    attended: bool = True
    test_score: Decimal | None = None


class AttendanceIn(Schema):
    organization_id: int
    trainees: list[TraineeIn]


# ---- union building ------------------------------------------------------------------------


@router.get("/union-building", response=list[UnionBuildingOut])
@paginate
def union_buildings(
    request: HttpRequest, organization_id: int | None = None, latest: bool = False
) -> Any:
    qs = UnionBuilding.objects.visible_to(request.user).select_related("organization")
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    if latest:
        qs = qs.latest_per_organization()
    return qs.order_by("organization_id", "-year")


@router.get("/union-building/coverage", response=list[CoverageOut])
@paginate
def union_building_coverage(request: HttpRequest) -> Any:
    """Per social organisation: union status, membership rate and training coverage."""
    orgs = _social_orgs(request.user).active().order_by("pk")
    return [
        {
            "organization_id": r.organization.pk,
            "organization_name": r.organization.name,
            "union_founded": r.snapshot.union_founded if r.snapshot else None,
            "staff_count": r.staff_count,
            "member_count": r.snapshot.member_count if r.snapshot else None,
            "membership_rate": r.snapshot.membership_rate if r.snapshot else None,
            "trained_last_12_months": r.trained,
            "coverage": r.coverage,
        }
        for r in union_status_rows(orgs, request.user, timezone.localdate())
    ]


@router.get("/union-building/{snapshot_id}", response=UnionBuildingOut)
def union_building(request: HttpRequest, snapshot_id: int) -> UnionBuilding:
    return get_object_or_404(UnionBuilding.objects.visible_to(request.user), pk=snapshot_id)


@router.post("/union-building", response={201: UnionBuildingOut, 400: ErrorOut})
def union_building_create(request: HttpRequest, payload: UnionBuildingIn) -> Any:
    user: Any = request.user
    org = get_object_or_404(_social_orgs(user), pk=payload.organization_id)
    own = user.has_role(Role.SOCIAL_ORG_MANAGER) and user.organization_id == org.pk
    if not (user.has_role(*AREA_ROLES) or own):
        raise HttpError(403, "无权登记该组织的建会入会情况")
    body = payload.dict()
    body.pop("organization_id")
    data = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in body.items()}
    if not data["union_founded"]:
        data.pop("union_founded")  # an unchecked box is absent from form data
    data = {k: v for k, v in data.items() if v is not None}
    form = UnionBuildingCreateForm(data, instance=UnionBuilding(organization=org))
    if not form.is_valid():
        return form_errors(form)
    try:
        created = services.union_building_record(organization=org, **form.cleaned_data)
    except ValidationError as exc:
        return form_errors(exc)
    return Status(201, created)


# ---- trainings -----------------------------------------------------------------------------


@router.get("/trainings", response=list[TrainingOut])
@paginate
def trainings(request: HttpRequest, topic: str | None = None) -> Any:
    qs = TrainingSession.objects.visible_to(request.user).order_by("-held_on", "-pk")
    return qs.filter(topic=topic) if topic else qs


@router.get("/trainings/{session_id}", response=TrainingOut)
def training(request: HttpRequest, session_id: int) -> TrainingSession:
    return get_object_or_404(TrainingSession.objects.visible_to(request.user), pk=session_id)


@router.post("/trainings", response={201: TrainingOut, 400: ErrorOut})
def training_create(request: HttpRequest, payload: TrainingIn) -> Any:
    user = require_editor(request)
    body = payload.dict()
    body["organiser"] = body.pop("organiser_id")
    body["held_on"] = payload.held_on.isoformat()
    organisers = Organization.objects.visible_to(user).areas().active()
    form = TrainingCreateForm(body, organisers=organisers)
    if not form.is_valid():
        return form_errors(form)
    return Status(201, form.save())


@router.get("/training-attendance", response=list[AttendanceOut])
@paginate
def training_attendance(
    request: HttpRequest, session_id: int | None = None, organization_id: int | None = None
) -> Any:
    qs = TrainingAttendance.objects.visible_to(request.user).order_by("session_id", "pk")
    if session_id is not None:
        qs = qs.filter(session_id=session_id)
    return qs.filter(organization_id=organization_id) if organization_id is not None else qs


@router.post(
    "/trainings/{session_id}/attendance", response={200: list[AttendanceOut], 400: ErrorOut}
)
def training_attendance_record(request: HttpRequest, session_id: int, payload: AttendanceIn) -> Any:
    """Record one organisation's attendees: registered staff by person_id, others by name."""
    user = require_editor(request)
    session = get_object_or_404(TrainingSession.objects.visible_to(user), pk=session_id)
    org = get_object_or_404(_social_orgs(user), pk=payload.organization_id)
    staff = Person.objects.visible_to(user).filter(employer=org)
    formset = trainee_formset(
        formset_data(
            "trainees",
            [
                {
                    "person": t.person_id,
                    "attendee_name": t.attendee_name,
                    "attended": t.attended,
                    "test_score": t.test_score,
                }
                for t in payload.trainees
            ],
        ),
        staff=staff,
    )
    if not formset.is_valid():
        return form_errors(formset)
    try:
        saved = services.training_attendance_record(
            session=session,
            organization=org,
            trainees=[
                services.TraineeSpec(
                    attendee_name=r.get("attendee_name", ""),
                    person=r.get("person"),
                    attended=bool(r.get("attended")),
                    test_score=r.get("test_score"),
                )
                for r in formset.rows()
            ],
        )
    except ValidationError as exc:
        return form_errors(exc)
    return saved
