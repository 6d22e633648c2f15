"""JSON API of the funding part: pools, calls, applications (scoped reads), creating and
submitting an application, reviews, award decisions and call transitions.

Bodies are validated by the pages' forms (fed as form data) and written by the same
services, so the rules and the Chinese messages are the same; every id is looked up through
visible_to(). Errors: 400 {"detail": {field: [messages]}}, 403 for a wrong role.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from sanlian.core.api import ErrorOut, form_errors, formset_data
from sanlian.core.models import User
from sanlian.core.roles import Role

from ..forms.funding import ApplicationBundle, CancelForm, Decision, DecisionForm, ReviewForm
from ..models import (
    FUNDER_ROLES,
    Application,
    BudgetPool,
    CallCriterion,
    CallReviewer,
    CallStatus,
    ProjectCall,
    Review,
)
from ..services import funding as services

router = Router()


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _require(request: HttpRequest, *roles: str, message: str) -> User:
    user = _user(request)
    if not user.has_role(*roles):
        raise HttpError(403, message)
    return user


def _text(value: Any) -> Any:
    """A JSON value as form data: numbers as their text, so "1.234" stays what was sent."""
    if value is None:
        return ""
    return str(value) if isinstance(value, int | float | Decimal) else value


# ---- schemas -------------------------------------------------------------------------------


class PoolOut(Schema):
    id: int
    owner_id: int
    owner_name: str = Field(alias="owner.name")
    year: int
    name: str
    service_field: str
    tier: str
    amount: Decimal
    allocated: Decimal
    contracted: Decimal
    disbursed: Decimal
    remaining: Decimal
    note: str
    version: int


class CriterionOut(Schema):
    id: int
    seq: int
    name: str
    description: str
    weight: int


class CallOut(Schema):
    id: int
    pool_id: int
    funder: str = Field(alias="pool.owner.name")
    year: int = Field(alias="pool.year")
    code: str
    title: str
    service_field: str
    description: str
    community_ids: list[int]
    budget_ceiling: Decimal
    total_budget: Decimal
    max_months: int
    opens_at: dt.datetime | None
    deadline: dt.datetime
    status: str
    decided_at: dt.datetime | None
    criteria: list[CriterionOut]
    version: int

    @staticmethod
    def resolve_community_ids(obj: ProjectCall) -> list[int]:
        return sorted(obj.communities.values_list("pk", flat=True))

    @staticmethod
    def resolve_criteria(obj: ProjectCall) -> list[CallCriterion]:
        return list(obj.criteria.all())


class BudgetLineOut(Schema):
    id: int
    category: str
    item: str
    amount: Decimal


class ApplicationOut(Schema):
    id: int
    call_id: int
    organization_id: int
    organization_name: str = Field(alias="organization.name")
    title: str
    amount: Decimal
    months: int
    beneficiaries: int
    status: str
    submitted_at: dt.datetime | None
    average_score: Decimal | None
    rank: int | None
    awarded_amount: Decimal | None
    decision_reason: str
    decided_at: dt.datetime | None
    version: int

    @staticmethod
    def resolve_average_score(obj: Application, context: Any) -> Decimal | None:
        return obj.average_score if _scores_shown(obj, context) else None

    @staticmethod
    def resolve_rank(obj: Application, context: Any) -> int | None:
        return obj.rank if _scores_shown(obj, context) else None


def _scores_shown(obj: Application, context: Any) -> bool:
    """Averages and ranks are the funders' while the review runs; everyone's once decided."""
    if obj.call.status == CallStatus.DECIDED:
        return True
    request = context.get("request") if context else None
    return request is not None and services.can_manage(request.user, obj.call.pool.owner)


class ApplicationDetailOut(ApplicationOut):
    proposal: str
    beneficiaries_note: str
    community_ids: list[int]
    team_ids: list[int]
    indicators: list[dict[str, Any]]
    budget_lines: list[BudgetLineOut]

    @staticmethod
    def resolve_community_ids(obj: Application) -> list[int]:
        return sorted(obj.communities.values_list("pk", flat=True))

    @staticmethod
    def resolve_team_ids(obj: Application) -> list[int]:
        return sorted(obj.team.values_list("pk", flat=True))

    @staticmethod
    def resolve_budget_lines(obj: Application) -> list[Any]:
        return list(obj.budget_lines.all())


class IndicatorIn(Schema):
    kind: str = "output"
    metric: str = "other"
    name: str
    target: str | int | float
    unit: str = ""


class BudgetLineIn(Schema):
    category: str = "other"
    item: str
    amount: str | int | float


class ApplicationIn(Schema):
    title: str
    proposal: str
    community_ids: list[int]
    beneficiaries: int
    beneficiaries_note: str = ""
    amount: str | int | float
    months: int = 12
    team_ids: list[int] = []
    indicators: list[IndicatorIn] = []
    budget_lines: list[BudgetLineIn]
    submit: bool = False


class ReviewIn(Schema):
    scores: dict[int, str | int | float]
    comment: str


class RecuseIn(Schema):
    note: str


class ReviewOut(Schema):
    id: int
    application_id: int
    reviewer_id: int
    status: str
    total: Decimal | None
    comment: str
    conflict_declared: bool
    conflict_note: str
    submitted_at: dt.datetime | None


class AwardIn(Schema):
    amount: str | int | float
    reason: str


class RejectIn(Schema):
    reason: str


class TransitionIn(Schema):
    reason: str = ""


# ---- pools ---------------------------------------------------------------------------------


@router.get("/budget-pools", response=list[PoolOut])
@paginate
def pools(request: HttpRequest, year: int | None = None) -> Any:
    qs = BudgetPool.objects.visible_to(request.user).select_related("owner").order_by("pk")
    return qs.filter(year=year) if year is not None else qs


@router.get("/budget-pools/{pool_id}", response=PoolOut)
def pool(request: HttpRequest, pool_id: int) -> BudgetPool:
    return get_object_or_404(
        BudgetPool.objects.visible_to(request.user).select_related("owner"), pk=pool_id
    )


# ---- calls ---------------------------------------------------------------------------------


@router.get("/project-calls", response=list[CallOut])
@paginate
def calls(request: HttpRequest, status: str | None = None, year: int | None = None) -> Any:
    services.calls_close_due()
    qs = ProjectCall.objects.visible_to(request.user).select_related("pool__owner").order_by("pk")
    if year is not None:
        qs = qs.filter(pool__year=year)
    return qs.filter(status=status) if status else qs


@router.get("/project-calls/{call_id}", response=CallOut)
def call(request: HttpRequest, call_id: int) -> ProjectCall:
    services.calls_close_due()
    return get_object_or_404(
        ProjectCall.objects.visible_to(request.user).select_related("pool__owner"), pk=call_id
    )


@router.post(
    "/project-calls/{call_id}/transitions/{action}",
    response={200: CallOut, 400: ErrorOut},
)
def call_transition(request: HttpRequest, call_id: int, action: str, payload: TransitionIn) -> Any:
    """open (发布), close (截止征集), decide (完成立项) or cancel (撤销, with a reason)."""
    user = _require(request, *FUNDER_ROLES, message="无权管理项目指南")
    target = get_object_or_404(
        ProjectCall.objects.visible_to(user).select_related("pool__owner"), pk=call_id
    )
    if not services.can_manage(user, target.pool.owner):
        raise HttpError(403, "无权管理该项目指南")
    try:
        if action == "open":
            done = services.call_open(call=target, by=user)
        elif action == "close":
            done = services.call_close(call=target, by=user)
        elif action == "decide":
            done = services.call_decide(call=target, by=user)
        elif action == "cancel":
            form = CancelForm({"reason": payload.reason})
            if not form.is_valid():
                return form_errors(form)
            done = services.call_cancel(call=target, by=user, reason=form.cleaned_data["reason"])
        else:
            raise HttpError(404, "未知操作")
    except ValidationError as exc:
        return form_errors(exc)
    return done


# ---- applications --------------------------------------------------------------------------


def _applications(request: HttpRequest) -> Any:
    return Application.objects.visible_to(request.user).select_related(
        "organization", "call__pool__owner"
    )


@router.get("/applications", response=list[ApplicationOut])
@paginate
def applications(
    request: HttpRequest, call_id: int | None = None, status: str | None = None
) -> Any:
    qs = _applications(request).order_by("call", "rank", "pk")
    if call_id is not None:
        qs = qs.filter(call_id=call_id)
    return qs.filter(status=status) if status else qs


@router.get("/applications/{application_id}", response=ApplicationDetailOut)
def application(request: HttpRequest, application_id: int) -> Application:
    return get_object_or_404(_applications(request), pk=application_id)


@router.post(
    "/project-calls/{call_id}/applications",
    response={201: ApplicationDetailOut, 400: ErrorOut},
)
def application_create(request: HttpRequest, call_id: int, payload: ApplicationIn) -> Any:
    """A draft application of the user's social organisation; `submit: true` also submits
    it."""
    user = _require(request, Role.SOCIAL_ORG_MANAGER, message="只有社会组织负责人可以申报项目")
    target = get_object_or_404(
        ProjectCall.objects.visible_to(user).select_related("pool__owner"), pk=call_id
    )
    try:
        org = services.applicant_org(user)
    except ValidationError as exc:
        return form_errors(exc)
    data: dict[str, Any] = {
        "title": payload.title,
        "proposal": payload.proposal,
        "communities": [str(pk) for pk in payload.community_ids],
        "beneficiaries": payload.beneficiaries,
        "beneficiaries_note": payload.beneficiaries_note,
        "amount": _text(payload.amount),
        "months": payload.months,
        "team": [str(pk) for pk in payload.team_ids],
        **formset_data(
            "indicators",
            [{**i.dict(), "target": _text(i.target)} for i in payload.indicators],
        ),
        **formset_data(
            "lines", [{**b.dict(), "amount": _text(b.amount)} for b in payload.budget_lines]
        ),
    }
    bundle = ApplicationBundle(data, call=target, org=org)
    if not bundle.is_valid():
        return form_errors(bundle.form, bundle.indicators, bundle.lines)
    try:
        with transaction.atomic():  # with `submit`, a refused submission keeps no draft
            created = services.application_create(call=target, by=user, **bundle.values())
            if payload.submit:
                created = services.application_submit(application=created, by=user)
    except ValidationError as exc:
        return form_errors(exc)
    return Status(201, created)


def _own_application(request: HttpRequest, application_id: int) -> tuple[User, Application]:
    user = _require(request, Role.SOCIAL_ORG_MANAGER, message="只有社会组织负责人可以处理申报")
    found = get_object_or_404(_applications(request), pk=application_id)
    if found.organization_id != user.organization_id:
        raise HttpError(403, "只能处理本机构的申报")
    return user, found


@router.post(
    "/applications/{application_id}/submit", response={200: ApplicationDetailOut, 400: ErrorOut}
)
def application_submit(request: HttpRequest, application_id: int) -> Any:
    user, found = _own_application(request, application_id)
    try:
        return services.application_submit(application=found, by=user)
    except ValidationError as exc:
        return form_errors(exc)


@router.post(
    "/applications/{application_id}/withdraw",
    response={200: ApplicationDetailOut, 400: ErrorOut},
)
def application_withdraw(request: HttpRequest, application_id: int) -> Any:
    user, found = _own_application(request, application_id)
    try:
        return services.application_withdraw(application=found, by=user)
    except ValidationError as exc:
        return form_errors(exc)


# ---- reviews -------------------------------------------------------------------------------


def _review_target(request: HttpRequest, application_id: int) -> tuple[User, Application]:
    user = _require(request, *services.REVIEWER_ROLES, message="无权评审")
    found = get_object_or_404(_applications(request), pk=application_id)
    if not CallReviewer.objects.filter(call_id=found.call_id, reviewer=user).exists():
        raise HttpError(403, "您不是本项目指南的评审专家")
    return user, found


@router.post("/applications/{application_id}/reviews", response={201: ReviewOut, 400: ErrorOut})
def review_submit(request: HttpRequest, application_id: int, payload: ReviewIn) -> Any:
    """Scores by criterion id (0–100 each) and the comment; the weighted total follows."""
    user, found = _review_target(request, application_id)
    criteria = list(found.call.criteria.all())
    data = {
        ReviewForm.field_name(c): _text(payload.scores.get(c.pk))
        for c in criteria
        if c.pk in payload.scores
    }
    unknown = set(payload.scores) - {c.pk for c in criteria}
    if unknown:
        return form_errors(
            ValidationError({"scores": [f"评审指标 {sorted(unknown)} 不属于本项目指南。"]})
        )
    form = ReviewForm({**data, "comment": payload.comment}, criteria=criteria)
    if not form.is_valid():
        return form_errors(form)
    try:
        review = services.review_submit(
            application=found,
            reviewer=user,
            scores=form.scores(),
            comment=form.cleaned_data["comment"],
        )
    except ValidationError as exc:
        return form_errors(exc)
    return Status(201, review)


@router.post("/applications/{application_id}/recuse", response={200: ReviewOut, 400: ErrorOut})
def review_recuse(request: HttpRequest, application_id: int, payload: RecuseIn) -> Review | Any:
    user, found = _review_target(request, application_id)
    try:
        return services.review_recuse(application=found, reviewer=user, note=payload.note)
    except ValidationError as exc:
        return form_errors(exc)


# ---- award decision ------------------------------------------------------------------------


def _decision_target(request: HttpRequest, application_id: int) -> tuple[User, Application]:
    user = _require(request, *FUNDER_ROLES, message="无权作出立项决定")
    found = get_object_or_404(_applications(request), pk=application_id)
    if not services.can_manage(user, found.call.pool.owner):
        raise HttpError(403, "无权对该项目指南作出立项决定")
    return user, found


@router.post(
    "/applications/{application_id}/award",
    response={200: ApplicationDetailOut, 400: ErrorOut},
)
def application_award(request: HttpRequest, application_id: int, payload: AwardIn) -> Any:
    user, found = _decision_target(request, application_id)
    form = DecisionForm(
        {"decision": Decision.AWARD, "amount": _text(payload.amount), "reason": payload.reason}
    )
    if not form.is_valid():
        return form_errors(form)
    try:
        return services.application_award(
            application=found,
            by=user,
            amount=form.cleaned_data["amount"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as exc:
        return form_errors(exc)


@router.post(
    "/applications/{application_id}/reject",
    response={200: ApplicationDetailOut, 400: ErrorOut},
)
def application_reject(request: HttpRequest, application_id: int, payload: RejectIn) -> Any:
    user, found = _decision_target(request, application_id)
    form = DecisionForm({"decision": Decision.REJECT, "reason": payload.reason})
    if not form.is_valid():
        return form_errors(form)
    try:
        return services.application_reject(
            application=found, by=user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        return form_errors(exc)
