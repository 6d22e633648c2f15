"""API for social workers, volunteers and volunteer hour logs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import ProtectedError
from django.forms import BaseForm
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from sanlian.core.api import ErrorOut
from sanlian.core.models import User
from sanlian.core.roles import Role
from sanlian.core.scoping import AREA_ROLES
from sanlian.core.services import ConcurrentEditError, save_versioned

from .. import services
from ..forms import (
    SocialWorkerCreateForm,
    SocialWorkerForm,
    VolunteerCreateForm,
    VolunteerHourLogForm,
)
from ..forms.workforce import SOCIAL_WORKER_FIELDS, already_volunteer_text
from ..models import (
    Organization,
    OrgKind,
    Person,
    SocialWorker,
    Volunteer,
    VolunteerHourLog,
)

router = Router()


def _errors(source: BaseForm | ValidationError) -> Status[dict[str, Any]]:
    if isinstance(source, BaseForm):
        detail = {k: [str(m) for m in v] for k, v in source.errors.items()}
    elif hasattr(source, "error_dict"):
        detail = {k: [str(m) for m in v] for k, v in source.message_dict.items()}
    else:
        detail = {"__all__": [str(m) for m in source.messages]}
    return Status(400, {"detail": detail})


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# ---- social workers ------------------------------------------------------------------------


class SocialWorkerOut(Schema):
    id: int
    person_id: int
    name: str = Field(alias="person.name")
    organization_id: int
    qualification: str
    certificate_number: str
    certificate_date: dt.date | None
    is_supervisor: bool
    status: str
    joined_on: dt.date | None
    left_on: dt.date | None
    version: int


class SocialWorkerIn(Schema):
    person_id: int
    organization_id: int | None = None
    qualification: str = ""
    certificate_number: str = ""
    certificate_date: dt.date | None = None
    is_supervisor: bool = False
    joined_on: dt.date | None = None


class SocialWorkerPatch(Schema):
    version: int
    qualification: str | None = None
    certificate_number: str | None = None
    certificate_date: dt.date | None = None
    is_supervisor: bool | None = None
    joined_on: dt.date | None = None


class LeaveIn(Schema):
    left_on: dt.date


def _managed_worker(request: HttpRequest, worker_id: int) -> SocialWorker:
    user = _user(request)
    worker = get_object_or_404(
        SocialWorker.objects.visible_to(user).select_related("person"), pk=worker_id
    )
    if not (
        user.has_role(Role.SOCIAL_ORG_MANAGER) and worker.organization_id == user.organization_id
    ):
        raise HttpError(403, "只有本机构的社会组织负责人可以管理社工")
    return worker


@router.get("/social-workers", response=list[SocialWorkerOut])
@paginate
def social_workers(
    request: HttpRequest,
    organization_id: int | None = None,
    qualification: str | None = None,
    status: str | None = None,
) -> Any:
    qs = SocialWorker.objects.visible_to(request.user).select_related("person").order_by("pk")
    if organization_id:
        qs = qs.filter(organization_id=organization_id)
    if qualification is not None:
        qs = qs.filter(qualification=qualification)
    if status:
        qs = qs.filter(status=status)
    return qs


@router.get("/social-workers/{worker_id}", response=SocialWorkerOut)
def social_worker(request: HttpRequest, worker_id: int) -> SocialWorker:
    return get_object_or_404(
        SocialWorker.objects.visible_to(request.user).select_related("person"), pk=worker_id
    )


@router.post("/social-workers", response={201: SocialWorkerOut, 400: ErrorOut})
def social_worker_create(request: HttpRequest, payload: SocialWorkerIn) -> Any:
    user = _user(request)
    if not user.has_role(Role.SOCIAL_ORG_MANAGER):
        raise HttpError(403, "只有社会组织负责人可以登记社工")
    organizations = Organization.objects.visible_to(user).of_kind(OrgKind.SOCIAL_ORG)
    data = payload.dict()
    data["person"] = data.pop("person_id")
    data["organization"] = data.pop("organization_id") or user.organization_id
    form = SocialWorkerCreateForm(
        data,
        people=Person.objects.visible_to(user).filter(social_worker__isnull=True),
        organizations=organizations,
    )
    if not form.is_valid():
        return _errors(form)
    try:
        worker = services.social_worker_create(**form.cleaned_data)
    except ValidationError as exc:
        return _errors(exc)
    return Status(201, worker)


@router.patch(
    "/social-workers/{worker_id}", response={200: SocialWorkerOut, 400: ErrorOut, 409: ErrorOut}
)
def social_worker_update(request: HttpRequest, worker_id: int, payload: SocialWorkerPatch) -> Any:
    worker = _managed_worker(request, worker_id)
    data: dict[str, Any] = {name: getattr(worker, name) for name in SOCIAL_WORKER_FIELDS}
    data.update(payload.dict(exclude_unset=True))
    data["expected_version"] = data.pop("version", worker.version)
    form = SocialWorkerForm(data, instance=worker)
    if not form.is_valid():
        return _errors(form)
    try:
        save_versioned(
            form.instance,
            expected_version=form.cleaned_data["expected_version"],
            fields=form.model_field_names(),
        )
    except ConcurrentEditError as exc:
        conflicts = [{"field": c.field, "theirs": str(c.theirs)} for c in exc.conflicts]
        return Status(409, {"detail": {"__all__": [str(exc)], "conflicts": conflicts}})
    return form.instance


@router.post("/social-workers/{worker_id}/leave", response={200: SocialWorkerOut, 400: ErrorOut})
def social_worker_leave(request: HttpRequest, worker_id: int, payload: LeaveIn) -> Any:
    worker = _managed_worker(request, worker_id)
    try:
        return services.social_worker_leave(worker=worker, left_on=payload.left_on)
    except ValidationError as exc:
        return _errors(exc)


@router.delete("/social-workers/{worker_id}", response={204: None, 409: ErrorOut})
def social_worker_delete(request: HttpRequest, worker_id: int) -> Any:
    worker = _managed_worker(request, worker_id)
    try:
        worker.delete()  # audited by the model
    except ProtectedError:
        return Status(409, {"detail": {"__all__": ["该社工已有业务记录，不能删除，请办理离职"]}})
    return Status(204, None)


# ---- volunteers ----------------------------------------------------------------------------


class VolunteerOut(Schema):
    id: int
    person_id: int
    name: str = Field(alias="person.name")
    team_id: int
    skills: list[str] = Field(alias="skill_list")
    availability: list[str]
    outside_working_hours: float | None
    hours_logged: Decimal
    is_coordinator: bool
    version: int


@router.get("/volunteers", response=list[VolunteerOut])
@paginate
def volunteers(request: HttpRequest, team_id: int | None = None) -> Any:
    qs = Volunteer.objects.visible_to(request.user).select_related("person").order_by("pk")
    return qs.filter(team_id=team_id) if team_id else qs


@router.get("/volunteers/{volunteer_id}", response=VolunteerOut)
def volunteer(request: HttpRequest, volunteer_id: int) -> Volunteer:
    return get_object_or_404(
        Volunteer.objects.visible_to(request.user).select_related("person"), pk=volunteer_id
    )


class VolunteerIn(Schema):
    person_id: int
    team_id: int
    skills: list[str] = []
    skills_other: str = ""
    availability: list[str] = []
    is_coordinator: bool = False


@router.post("/volunteers", response={201: VolunteerOut, 400: ErrorOut, 409: ErrorOut})
def volunteer_create(request: HttpRequest, payload: VolunteerIn) -> Any:
    """登记志愿者: area roles register a person of their area in a volunteer team of it."""
    user = _user(request)
    if not user.has_role(*AREA_ROLES):
        raise HttpError(403, "只有总工会、区（街道）工会、社区工作人员可以登记志愿者")
    people = Person.objects.visible_to(user).active()
    teams = Organization.objects.visible_to(user).of_kind(OrgKind.VOLUNTEER_TEAM)
    person = get_object_or_404(people, pk=payload.person_id)
    team = get_object_or_404(teams, pk=payload.team_id)
    data = payload.dict()
    data.update(person=person.pk, team=team.pk)
    form = VolunteerCreateForm(data, people=people, teams=teams)
    if not form.is_valid():
        if form.existing is not None:
            existing = form.existing
            detail = {
                "person": [already_volunteer_text(existing)],
                "volunteer_id": existing.pk,
                "url": existing.get_absolute_url(),
            }
            return Status(409, {"detail": detail})
        return _errors(form)
    try:
        volunteer = services.volunteer_create(**form.cleaned_data)
    except ValidationError as exc:
        return _errors(exc)
    return Status(201, volunteer)


# ---- hour logs -----------------------------------------------------------------------------


class HourLogOut(Schema):
    id: int
    volunteer_id: int
    volunteer_name: str = Field(alias="volunteer.person.name")
    served_on: dt.date
    start_time: dt.time
    end_time: dt.time
    hours: Decimal
    hours_outside: Decimal
    activity: str
    place: str
    status: str
    confirmed_by_id: int | None
    confirmed_at: dt.datetime | None
    reject_reason: str


class HourLogIn(Schema):
    served_on: dt.date
    start_time: dt.time
    end_time: dt.time
    activity: str
    place: str = ""


class ReturnIn(Schema):
    reason: str


def _logs(request: HttpRequest) -> Any:
    return VolunteerHourLog.objects.visible_to(request.user).select_related("volunteer__person")


@router.post("/volunteer-hours", response={201: HourLogOut, 400: ErrorOut})
def hour_log_create(request: HttpRequest, payload: HourLogIn) -> Any:
    """A volunteer logs their own hours; they wait for a coordinator's confirmation."""
    user = _user(request)
    # Only the volunteer themself: the record is found through the caller's own person.
    me = get_object_or_404(Volunteer.objects.visible_to(user), person__user=user)
    form = VolunteerHourLogForm(payload.dict(), volunteer=me)
    if not form.is_valid():
        return _errors(form)
    return Status(201, services.hour_log_submit(volunteer=me, **form.cleaned_data))


@router.get("/volunteer-hours/mine", response=list[HourLogOut])
@paginate
def my_hour_logs(request: HttpRequest) -> Any:
    return _logs(request).filter(volunteer__person__user=request.user)


@router.get("/volunteer-hours", response=list[HourLogOut])
@paginate
def hour_logs(request: HttpRequest, status: str | None = None, reviewable: bool = False) -> Any:
    """Logs the caller may see; `reviewable=true` keeps those they may confirm."""
    qs = _logs(request)
    if reviewable:
        qs = qs.filter(pk__in=VolunteerHourLog.objects.reviewable_by(request.user).values("pk"))
    return qs.filter(status=status) if status else qs


@router.get("/volunteer-hours/{log_id}", response=HourLogOut)
def hour_log(request: HttpRequest, log_id: int) -> VolunteerHourLog:
    return get_object_or_404(_logs(request), pk=log_id)


def _review(request: HttpRequest, log_id: int, action: str, reason: str = "") -> Any:
    log = get_object_or_404(_logs(request), pk=log_id)
    try:
        if action == "return":
            return services.hour_log_return(log=log, by=_user(request), reason=reason)
        return services.hour_log_confirm(log=log, by=_user(request))
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from exc
    except ValidationError as exc:
        return _errors(exc)


@router.post("/volunteer-hours/{log_id}/confirm", response={200: HourLogOut, 400: ErrorOut})
def hour_log_confirm(request: HttpRequest, log_id: int) -> Any:
    return _review(request, log_id, "confirm")


@router.post("/volunteer-hours/{log_id}/return", response={200: HourLogOut, 400: ErrorOut})
def hour_log_return(request: HttpRequest, log_id: int, payload: ReturnIn) -> Any:
    return _review(request, log_id, "return", payload.reason)
