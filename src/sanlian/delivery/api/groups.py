"""JSON API of group work: groups (list, create, read, advance a phase, evaluation), members
(list, recruit, enrol/withdraw), sessions (list, record) with their attendance, and pre/post
scores.

Bodies are validated by the pages' forms (fed as form data), so the rules and the Chinese
messages are the same; every id in a path or a body is looked up through visible_to()
(outside the caller's scope: 404); a group the caller may see but not run: 403."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from sanlian.core.api import ErrorOut, form_data, form_errors
from sanlian.organizations.models import Community
from sanlian.resources.models import ServiceProject

from ..forms.groups import (
    AdvanceForm,
    GroupFilterForm,
    GroupForm,
    MemberAddForm,
    MemberQuickAddForm,
    MemberStatusForm,
    SessionForm,
)
from ..models import Group, GroupAttendance, GroupMember, GroupSession
from ..services import groups as services

router = Router(tags=["小组工作"])


def _group(request: HttpRequest, group_id: int) -> Group:
    return get_object_or_404(Group.objects.visible_to(request.user), pk=group_id)


def _managed(request: HttpRequest, group_id: int) -> Group:
    group = _group(request, group_id)
    if not services.may_manage(request.user, group):
        raise HttpError(403, _("无权管理该小组"))
    return group


# ---- schemas -----------------------------------------------------------------------------------


class GroupOut(Schema):
    id: int
    name: str
    kind: str
    goals: str
    target_members: str
    planned_sessions: int
    leader_id: int
    leader_name: str = Field(alias="leader.person.name")
    co_leader_ids: list[int]
    community_id: int
    community_name: str = Field(alias="community.name")
    project_id: int | None
    scale_name: str
    scale_min: Decimal
    scale_max: Decimal
    higher_is_better: bool
    phase: str
    evaluation: str

    @staticmethod
    def resolve_co_leader_ids(obj: Group) -> list[int]:
        return [c.pk for c in obj.co_leaders.all()]


class GroupIn(Schema):
    name: str
    kind: str
    goals: str
    target_members: str
    planned_sessions: int
    leader_id: int
    community_id: int
    scale_name: str
    scale_min: str | int | float
    scale_max: str | int | float
    higher_is_better: bool = True
    co_leader_ids: list[int] = []
    project_id: int | None = None


class AdvanceIn(Schema):
    to: str


class MemberOut(Schema):
    id: int
    person_id: int
    name: str = Field(alias="person.name")
    status: str
    consent: bool
    applied_on: dt.date
    withdrawn_reason: str
    pre_score: Decimal | None
    post_score: Decimal | None
    change: Decimal | None


class MemberIn(Schema):
    person_id: int | None = None
    name: str = ""
    sex: str = ""
    phone: str = ""
    consent: bool = False
    enroll: bool = False


class MemberStatusIn(Schema):
    status: str
    consent: bool = False
    reason: str = ""


class MarkIn(Schema):
    member_id: int
    status: str


class MarkOut(Schema):
    member_id: int
    name: str = Field(alias="member.person.name")
    status: str


class SessionOut(Schema):
    id: int
    group_id: int
    number: int
    held_on: dt.date
    starts_at: dt.time
    ends_at: dt.time
    venue_id: int | None
    theme: str
    activities: str
    notes: str


class SessionIn(Schema):
    held_on: dt.date
    starts_at: dt.time
    ends_at: dt.time
    theme: str
    number: int | None = None
    venue_id: int | None = None
    activities: str = ""
    notes: str = ""
    attendance: list[MarkIn] = []


class ScoreIn(Schema):
    member_id: int
    score: str | int | float | None = None


class ScoresIn(Schema):
    which: str = Field(description="pre（前测）或 post（后测）")
    scores: list[ScoreIn]


class EvaluationMemberOut(Schema):
    member_id: int
    name: str
    pre_score: Decimal | None
    post_score: Decimal | None
    change: Decimal | None
    improved: bool | None
    attended: int
    recorded: int
    attendance_rate: Decimal | None


class EvaluationSessionOut(Schema):
    session_id: int
    number: int
    held_on: dt.date
    attended: int
    recorded: int
    attendance_rate: Decimal | None


class EvaluationOut(Schema):
    group_id: int
    scale_name: str
    higher_is_better: bool
    n: int
    mean_pre: Decimal | None
    mean_post: Decimal | None
    mean_change: Decimal | None
    sd_change: Decimal | None
    t: Decimal | None
    improved: int
    unchanged: int
    worsened: int
    evaluation: str
    members: list[EvaluationMemberOut]
    sessions: list[EvaluationSessionOut]


# ---- groups ------------------------------------------------------------------------------------


@router.get("/groups", response=list[GroupOut])
@paginate
def groups(
    request: HttpRequest,
    kind: str | None = None,
    phase: str | None = None,
    community_id: int | None = None,
    project_id: int | None = None,
    q: str | None = None,
) -> Any:
    user = request.user
    form = GroupFilterForm(
        form_data(
            {"kind": kind, "phase": phase, "community": community_id, "project": project_id, "q": q}
        ),
        communities=Community.objects.visible_to(user),
        projects=ServiceProject.objects.visible_to(user),
    )
    if not form.is_valid():
        raise HttpError(400, "; ".join(str(m) for e in form.errors.values() for m in e))
    qs = Group.objects.visible_to(user).select_related("leader__person", "community")
    return services.filter_groups(qs, form.cleaned_data).prefetch_related("co_leaders")


@router.post("/groups", response={201: GroupOut, 400: ErrorOut, 403: ErrorOut})
def group_create(request: HttpRequest, payload: GroupIn) -> Any:
    user = request.user
    if not services.may_write(user):
        raise HttpError(403, _("无权创建小组"))
    data = payload.dict()
    form = GroupForm(
        form_data(
            {
                **{k: v for k, v in data.items() if not k.endswith("_id") and k != "co_leader_ids"},
                "leader": data["leader_id"],
                "community": data["community_id"],
                "project": data["project_id"],
                "co_leaders": data["co_leader_ids"],
            }
        ),
        leaders=services.leader_choices(user),
        communities=services.community_choices(user),
        projects=services.project_choices(user),
    )
    if not form.is_valid():
        return form_errors(form)
    try:
        group = services.group_create(by=user, **form.service_fields())
    except ValidationError as exc:
        return form_errors(exc)
    return Status(201, group)


@router.get("/groups/{group_id}", response=GroupOut)
def group(request: HttpRequest, group_id: int) -> Group:
    return _group(request, group_id)


@router.post("/groups/{group_id}/advance", response={200: GroupOut, 400: ErrorOut})
def group_advance(request: HttpRequest, group_id: int, payload: AdvanceIn) -> Any:
    group = _managed(request, group_id)
    form = AdvanceForm({"to": payload.to})
    if not form.is_valid():
        return form_errors(form)
    try:
        return services.group_advance(group=group, to=form.cleaned_data["to"])
    except ValidationError as exc:
        return form_errors(exc)


@router.get("/groups/{group_id}/evaluation", response=EvaluationOut)
def group_evaluation(request: HttpRequest, group_id: int) -> dict[str, Any]:
    group = _group(request, group_id)
    result = services.group_evaluation(group)
    s = result.summary
    return {
        "group_id": group.pk,
        "scale_name": group.scale_name,
        "higher_is_better": group.higher_is_better,
        "n": s.n,
        "mean_pre": s.mean_pre,
        "mean_post": s.mean_post,
        "mean_change": s.mean_change,
        "sd_change": s.sd_change,
        "t": s.t,
        "improved": s.improved,
        "unchanged": s.unchanged,
        "worsened": s.worsened,
        "evaluation": group.evaluation,
        "members": [
            {
                "member_id": r.member.pk,
                "name": r.member.person.name,
                "pre_score": r.member.pre_score,
                "post_score": r.member.post_score,
                "change": r.member.change,
                "improved": r.improved,
                "attended": r.attended,
                "recorded": r.recorded,
                "attendance_rate": r.rate,
            }
            for r in result.members
        ],
        "sessions": [
            {
                "session_id": r.session.pk,
                "number": r.session.number,
                "held_on": r.session.held_on,
                "attended": r.attended,
                "recorded": r.recorded,
                "attendance_rate": r.rate,
            }
            for r in result.sessions
        ],
    }


# ---- members -----------------------------------------------------------------------------------


@router.get("/groups/{group_id}/members", response=list[MemberOut])
def members(request: HttpRequest, group_id: int) -> Any:
    group = _group(request, group_id)
    return GroupMember.objects.visible_to(request.user).filter(group=group).select_related("person")


@router.post("/groups/{group_id}/members", response={201: MemberOut, 400: ErrorOut})
def member_add(request: HttpRequest, group_id: int, payload: MemberIn) -> Any:
    """Recruit a person of the register (`person_id`) or register one (`name`, `sex`,
    `phone`)."""
    group = _managed(request, group_id)
    flags = {"consent": payload.consent, "enroll": payload.enroll}
    form: MemberAddForm | MemberQuickAddForm
    if payload.person_id is not None:
        form = MemberAddForm(
            form_data({"person": payload.person_id, **flags}),
            people=services.member_choices(request.user, group),
        )
    else:
        form = MemberQuickAddForm(
            form_data({"name": payload.name, "sex": payload.sex, "phone": payload.phone, **flags})
        )
    if not form.is_valid():
        return form_errors(form)
    try:
        if isinstance(form, MemberAddForm):
            member = services.member_add(group=group, **form.cleaned_data)
        else:
            member = services.member_quick_add(group=group, **form.cleaned_data)
    except ValidationError as exc:
        return form_errors(exc)
    return Status(201, member)


@router.post(
    "/groups/{group_id}/members/{member_id}/status", response={200: MemberOut, 400: ErrorOut}
)
def member_status(
    request: HttpRequest, group_id: int, member_id: int, payload: MemberStatusIn
) -> Any:
    group = _managed(request, group_id)
    member = get_object_or_404(
        GroupMember.objects.visible_to(request.user), pk=member_id, group=group
    )
    form = MemberStatusForm(form_data(payload.dict()))
    if not form.is_valid():
        return form_errors(form)
    try:
        return services.member_set_status(member=member, **form.cleaned_data)
    except ValidationError as exc:
        return form_errors(exc)


@router.post("/groups/{group_id}/scores", response={200: list[MemberOut], 400: ErrorOut})
def scores(request: HttpRequest, group_id: int, payload: ScoresIn) -> Any:
    """Pre-test (形成期) or post-test (结束期) scores; a null score clears one."""
    group = _managed(request, group_id)
    if payload.which not in services.SCORE_PHASES:
        return Status(400, {"detail": {"which": [_("只能是 pre（前测）或 post（后测）。")]}})
    values: dict[int, Decimal | None] = {}
    for item in payload.scores:
        try:
            values[item.member_id] = None if item.score is None else Decimal(str(item.score))
        except ArithmeticError:
            return Status(400, {"detail": {"scores": [_("请输入数字。")]}})
        if values[item.member_id] is not None and not values[item.member_id].is_finite():  # type: ignore[union-attr]
            return Status(400, {"detail": {"scores": [_("请输入数字。")]}})
    try:
        services.scores_record(group=group, which=payload.which, scores=values)
    except ValidationError as exc:
        return form_errors(exc)
    return list(group.members.select_related("person").order_by("pk"))


# ---- sessions and attendance -------------------------------------------------------------------


@router.get("/groups/{group_id}/sessions", response=list[SessionOut])
def sessions(request: HttpRequest, group_id: int) -> Any:
    group = _group(request, group_id)
    return GroupSession.objects.visible_to(request.user).filter(group=group).order_by("number")


@router.post("/groups/{group_id}/sessions", response={201: SessionOut, 400: ErrorOut})
def session_create(request: HttpRequest, group_id: int, payload: SessionIn) -> Any:
    """Record a session with its attendance ([{member_id, status: present|late|absent}])."""
    user = request.user
    group = _managed(request, group_id)
    body = payload.dict(exclude={"attendance", "venue_id"})
    body["venue"] = payload.venue_id
    members = list(group.members.select_related("person"))
    known = {m.pk for m in members}
    for mark in payload.attendance:
        if mark.member_id not in known:
            return Status(400, {"detail": {"attendance": [_("签到名单中有不属于本小组的组员。")]}})
        body[f"att_{mark.member_id}"] = mark.status
    form = SessionForm(form_data(body), venues=services.venue_choices(user), members=members)
    if not form.is_valid():
        return form_errors(form)
    try:
        session = services.session_record(
            group=group, by=user, attendance=form.marks(), **form.service_fields()
        )
    except ValidationError as exc:
        return form_errors(exc)
    return Status(201, session)


def _session(request: HttpRequest, session_id: int) -> GroupSession:
    return get_object_or_404(
        GroupSession.objects.visible_to(request.user).select_related("group"), pk=session_id
    )


@router.get("/group-sessions/{session_id}/attendance", response=list[MarkOut])
def attendance(request: HttpRequest, session_id: int) -> Any:
    session = _session(request, session_id)
    return (
        GroupAttendance.objects.visible_to(request.user)
        .filter(session=session)
        .select_related("member__person")
    )


@router.post(
    "/group-sessions/{session_id}/attendance", response={200: list[MarkOut], 400: ErrorOut}
)
def attendance_record(request: HttpRequest, session_id: int, payload: list[MarkIn]) -> Any:
    session = _session(request, session_id)
    if not services.may_manage(request.user, session.group):
        raise HttpError(403, _("无权管理该小组"))
    try:
        services.attendance_record(session=session, marks={m.member_id: m.status for m in payload})
    except ValidationError as exc:
        return form_errors(exc)
    return session.attendance.select_related("member__person")
