"""JSON API of community activities (社区活动) and of the service times across parts.

Bodies are validated by the pages' forms (fed as form data), so the rules and the Chinese
messages are the same; every id in a path or a body is looked up through visible_to()
(outside the caller's scope: 404)."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from sanlian.core.api import ErrorOut, form_data, form_errors
from sanlian.core.scoping import AREA_ROLES
from sanlian.core.xlsx import disclosure_for
from sanlian.organizations.models import Community, Venue, Volunteer
from sanlian.resources.models import ServiceProject

from .. import outputs
from ..forms.activities import (
    ActivityForm,
    CancelForm,
    CheckInForm,
    ServiceTimesForm,
    ShiftForm,
    WalkInForm,
)
from ..models import Activity, Registration, VolunteerShift
from ..services import activities as services

router = Router()


def _user(request: HttpRequest) -> Any:
    return request.user


def _activity(request: HttpRequest, activity_id: int, *, manage: bool = False) -> Activity:
    activity = get_object_or_404(Activity.objects.visible_to(request.user), pk=activity_id)
    if manage and not services.may_manage(request.user):
        raise HttpError(403, "无权管理社区活动")
    return activity


# ---- schemas -----------------------------------------------------------------------------------


class ActivityOut(Schema):
    id: int
    title: str
    community_id: int
    community_name: str = Field(alias="community.name")
    organizer_id: int
    project_id: int | None
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    venue_id: int | None
    booking_id: int | None
    place: str
    capacity: int
    seats_taken: int
    description: str
    status: str
    cancelled_reason: str


class ActivityIn(Schema):
    title: str
    community_id: int
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    capacity: int
    venue_id: int | None = None
    place: str = ""
    description: str = ""
    project_id: int | None = None


class CancelIn(Schema):
    reason: str = ""


class RegistrationOut(Schema):
    id: int
    name: str
    phone: str
    companions: int
    is_walk_in: bool
    person_id: int | None
    created_at: dt.datetime
    checked_in_at: dt.datetime | None
    rating: int | None
    comment: str


class CheckInIn(Schema):
    code: str


class WalkInIn(Schema):
    name: str
    phone: str
    companions: int = 0


class ShiftOut(Schema):
    id: int
    volunteer_id: int
    volunteer_name: str = Field(alias="volunteer.person.name")
    start_time: dt.time
    end_time: dt.time
    task: str
    hour_log_id: int | None


class ShiftIn(Schema):
    volunteer_id: int
    start_time: dt.time
    end_time: dt.time
    task: str = ""


class TimeShareOut(Schema):
    label: str
    services: int
    hours: Decimal
    hours_outside: Decimal
    share_outside: Decimal


# ---- activities --------------------------------------------------------------------------------


@router.get("/activities", response=list[ActivityOut])
@paginate
def activities(
    request: HttpRequest,
    status: str | None = None,
    community_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> Any:
    qs = Activity.objects.visible_to(request.user).select_related("community")
    if status:
        qs = qs.filter(status=status)
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    if date_from is not None:
        qs = qs.filter(date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(date__lte=date_to)
    return qs.order_by("-date", "-start_time", "-pk")


@router.get("/activities/{activity_id}", response=ActivityOut)
def activity(request: HttpRequest, activity_id: int) -> Activity:
    return _activity(request, activity_id)


@router.post("/activities", response={201: ActivityOut, 400: ErrorOut})
def activity_create(request: HttpRequest, payload: ActivityIn) -> Any:
    user = _user(request)
    if not services.may_manage(user):
        raise HttpError(403, "无权组织社区活动")
    get_object_or_404(Community.objects.visible_to(user), pk=payload.community_id)
    if payload.venue_id is not None:
        get_object_or_404(Venue.objects.visible_to(user), pk=payload.venue_id)
    if payload.project_id is not None:
        get_object_or_404(ServiceProject.objects.visible_to(user), pk=payload.project_id)
    form = ActivityForm(
        form_data(
            {
                "title": payload.title,
                "community": payload.community_id,
                "date": payload.date,
                "start_time": payload.start_time,
                "end_time": payload.end_time,
                "capacity": payload.capacity,
                "venue": payload.venue_id,
                "place": payload.place,
                "description": payload.description,
                "project": payload.project_id,
            }
        ),
        communities=services.plannable_communities(user),
        venues=services.activity_venues(user),
        projects=services.activity_projects(user),
    )
    if not form.is_valid():
        return form_errors(form)
    try:
        created = services.activity_create(by=user, **form.cleaned_data)
    except ValidationError as exc:
        return form_errors(exc)
    return Status(201, created)


def _transition(request: HttpRequest, activity_id: int, action: Any) -> Any:
    found = _activity(request, activity_id, manage=True)
    try:
        return action(found)
    except ValidationError as exc:
        return form_errors(exc)


@router.post("/activities/{activity_id}/publish", response={200: ActivityOut, 400: ErrorOut})
def activity_publish(request: HttpRequest, activity_id: int) -> Any:
    return _transition(
        request,
        activity_id,
        lambda a: services.activity_publish(activity=a, by=_user(request)),
    )


@router.post("/activities/{activity_id}/complete", response={200: ActivityOut, 400: ErrorOut})
def activity_complete(request: HttpRequest, activity_id: int) -> Any:
    """Mark done; the volunteers' shifts become confirmed hour logs (once)."""
    return _transition(
        request,
        activity_id,
        lambda a: services.activity_complete(activity=a, by=_user(request)),
    )


@router.post("/activities/{activity_id}/cancel", response={200: ActivityOut, 400: ErrorOut})
def activity_cancel(request: HttpRequest, activity_id: int, payload: CancelIn) -> Any:
    form = CancelForm({"reason": payload.reason})
    if not form.is_valid():
        _activity(request, activity_id, manage=True)
        return form_errors(form)
    return _transition(
        request,
        activity_id,
        lambda a: services.activity_cancel(
            activity=a, by=_user(request), reason=form.cleaned_data["reason"]
        ),
    )


# ---- registrations and check-in ----------------------------------------------------------------


@router.get("/activities/{activity_id}/registrations", response=list[RegistrationOut])
@paginate
def registrations(request: HttpRequest, activity_id: int) -> Any:
    found = _activity(request, activity_id)
    disclosure = disclosure_for(request.user)
    rows = list(found.registrations.order_by("created_at", "pk"))
    for r in rows:
        r.phone = disclosure.phone(r.phone)
    return rows


def _registration_out(registration: Registration, request: HttpRequest) -> Registration:
    registration.phone = disclosure_for(request.user).phone(registration.phone)
    return registration


@router.post("/activities/{activity_id}/check-in", response={200: RegistrationOut, 400: ErrorOut})
def check_in(request: HttpRequest, activity_id: int, payload: CheckInIn) -> Any:
    """Check a participant in by their personal code (a second check-in: 400 已签到)."""
    found = _activity(request, activity_id, manage=True)
    form = CheckInForm({"code": payload.code})
    if not form.is_valid():
        return form_errors(form)
    try:
        done = services.registration_check_in(
            activity=found, code=form.cleaned_data["code"], by=_user(request)
        )
    except ValidationError as exc:
        return form_errors(exc)
    return _registration_out(done, request)


@router.post("/activities/{activity_id}/walk-ins", response={201: RegistrationOut, 400: ErrorOut})
def walk_in(request: HttpRequest, activity_id: int, payload: WalkInIn) -> Any:
    found = _activity(request, activity_id, manage=True)
    form = WalkInForm(form_data(payload.dict()))
    if not form.is_valid():
        return form_errors(form)
    try:
        done = services.walk_in_add(activity=found, by=_user(request), **form.cleaned_data)
    except ValidationError as exc:
        return form_errors(exc)
    return Status(201, _registration_out(done, request))


# ---- volunteer shifts --------------------------------------------------------------------------


@router.get("/activities/{activity_id}/shifts", response=list[ShiftOut])
def shifts(request: HttpRequest, activity_id: int) -> Any:
    found = _activity(request, activity_id)
    return VolunteerShift.objects.filter(activity=found).select_related("volunteer__person")


@router.post("/activities/{activity_id}/shifts", response={201: ShiftOut, 400: ErrorOut})
def shift_create(request: HttpRequest, activity_id: int, payload: ShiftIn) -> Any:
    user = _user(request)
    found = _activity(request, activity_id, manage=True)
    get_object_or_404(Volunteer.objects.visible_to(user), pk=payload.volunteer_id)
    form = ShiftForm(
        form_data(
            {
                "volunteer": payload.volunteer_id,
                "start_time": payload.start_time,
                "end_time": payload.end_time,
                "task": payload.task,
            }
        ),
        volunteers=services.assignable_volunteers(user),
    )
    if not form.is_valid():
        return form_errors(form)
    try:
        created = services.shift_assign(activity=found, by=user, **form.cleaned_data)
    except ValidationError as exc:
        return form_errors(exc)
    return Status(201, created)


# ---- service times across the parts ------------------------------------------------------------


@router.get("/service-times", response={200: list[TimeShareOut], 400: ErrorOut})
def service_time_shares(request: HttpRequest, date_from: dt.date, date_to: dt.date) -> Any:
    """Per kind of service: how many, their hours, and the share outside Mon–Fri 8:30–17:30."""
    user = _user(request)
    if not user.has_role(*AREA_ROLES):
        raise HttpError(403, "无权查看服务时间分布")
    form = ServiceTimesForm(form_data({"date_from": date_from, "date_to": date_to}))
    if not form.is_valid():
        return form_errors(form)
    return [
        {
            "label": str(s.label),
            "services": s.services,
            "hours": s.hours,
            "hours_outside": s.hours_outside,
            "share_outside": s.share_outside,
        }
        for s in outputs.service_time_shares(
            user, form.cleaned_data["date_from"], form.cleaned_data["date_to"]
        )
    ]
