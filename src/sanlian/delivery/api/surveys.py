"""JSON API of the needs surveys (需求调查): list and read surveys in scope, build them (create,
add questions, publish, close), read their results and ranked needs, link needs to project
calls. Bodies are validated by the pages' forms; ids are looked up through visible_to()
(outside the caller's scope: 404). Residents answer on the public page, not here."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from sanlian.core.api import ErrorOut, PageRows

from ..forms.surveys import CallNeedLinkForm, QuestionForm, SurveyForm
from ..models.surveys import Survey
from ..services import surveys as services

router = Router()


def _errors(*sources: BaseForm | ValidationError) -> Status[dict[str, Any]]:
    detail: dict[str, list[str]] = {}
    for source in sources:
        if isinstance(source, ValidationError):
            if hasattr(source, "error_dict"):
                for k, v in source.message_dict.items():
                    detail.setdefault(k, []).extend(str(m) for m in v)
            else:
                detail.setdefault("__all__", []).extend(str(m) for m in source.messages)
        else:
            for name, errs in source.errors.items():
                detail.setdefault(name, []).extend(str(m) for m in errs)
    return Status(400, {"detail": detail})


def _user(request: HttpRequest) -> Any:
    return request.user


def _survey(request: HttpRequest, survey_id: int) -> Survey:
    return get_object_or_404(Survey.objects.visible_to(_user(request)), pk=survey_id)


def _managed(request: HttpRequest, survey_id: int) -> Survey:
    survey = _survey(request, survey_id)
    if not services.may_manage(_user(request), survey):
        raise HttpError(403, "无权管理该问卷")
    return survey


# ---- schemas -----------------------------------------------------------------------------------


class OptionOut(Schema):
    id: int
    seq: int
    text: str


class QuestionOut(Schema):
    id: int
    seq: int
    kind: str
    text: str
    required: bool
    is_need_question: bool
    show_if_option_id: int | None
    options: list[OptionOut]


class SurveyOut(Schema):
    id: int
    title: str
    intro: str
    status: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    community_ids: list[int]
    public_url: str | None


class SurveyDetailOut(SurveyOut):
    questions: list[QuestionOut]


class SurveyIn(Schema):
    title: str
    intro: str = ""
    community_ids: list[int]
    opens_at: dt.datetime
    closes_at: dt.datetime


class QuestionIn(Schema):
    kind: str
    text: str
    required: bool = True
    is_need_question: bool = False
    options: list[str] = []
    show_if_option_id: int | None = None


class NeedOut(Schema):
    option_id: int
    text: str
    count: int
    share: Decimal


class NeedGroupOut(Schema):
    label: str
    tier: str
    respondents: int
    needs: list[NeedOut]


class QuestionResultOut(Schema):
    question_id: int
    kind: str
    text: str
    answered: int
    average: Decimal | None
    options: list[NeedOut]
    distribution: list[int]


class NeedQuestionOut(Schema):
    question_id: int
    text: str
    by_community: list[NeedGroupOut]
    by_tier: list[NeedGroupOut]


class ResultsOut(Schema):
    survey_id: int
    total: int
    questions: list[QuestionResultOut]
    needs: list[NeedQuestionOut]


class LinkIn(Schema):
    option_id: int
    call_id: int


class LinkOut(Schema):
    id: int
    option_id: int
    call_id: int


def _out(request: HttpRequest, survey: Survey, *, detail: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": survey.pk,
        "title": survey.title,
        "intro": survey.intro,
        "status": survey.status,
        "opens_at": survey.opens_at,
        "closes_at": survey.closes_at,
        "community_ids": [c.pk for c in survey.communities.all()],
        "public_url": None
        if survey.status == "draft"
        else request.build_absolute_uri(reverse("delivery:survey_answer", args=[survey.token])),
    }
    if detail:
        out["questions"] = [
            {
                "id": q.pk,
                "seq": q.seq,
                "kind": q.kind,
                "text": q.text,
                "required": q.required,
                "is_need_question": q.is_need_question,
                "show_if_option_id": q.show_if_option_id,
                "options": [{"id": o.pk, "seq": o.seq, "text": o.text} for o in q.options.all()],
            }
            for q in survey.questions.prefetch_related("options").order_by("seq")
        ]
    return out


# ---- endpoints ---------------------------------------------------------------------------------


@router.get("/surveys", response=list[SurveyOut])
@paginate
def surveys(request: HttpRequest, status: str | None = None) -> Any:
    qs = Survey.objects.visible_to(_user(request)).prefetch_related("communities")
    if status:
        qs = qs.filter(status=status)
    return PageRows(qs.order_by("-created_at", "-pk"), lambda s: _out(request, s))


@router.get("/surveys/{survey_id}", response=SurveyDetailOut)
def survey(request: HttpRequest, survey_id: int) -> dict[str, Any]:
    return _out(request, _survey(request, survey_id), detail=True)


@router.post("/surveys", response={201: SurveyDetailOut, 400: ErrorOut})
def survey_create(request: HttpRequest, payload: SurveyIn) -> Any:
    user = _user(request)
    if not user.has_role(*services.BUILDER_ROLES):
        raise HttpError(403, "无权发起需求调查")
    form = SurveyForm(
        {
            "title": payload.title,
            "intro": payload.intro,
            "communities": payload.community_ids,
            "opens_at": payload.opens_at.isoformat(),
            "closes_at": payload.closes_at.isoformat(),
        },
        communities=services.survey_communities(user),
    )
    if not form.is_valid():
        return _errors(form)
    try:
        created = services.survey_create(by=user, **form.cleaned_data)
    except ValidationError as exc:
        return _errors(exc)
    return Status(201, _out(request, created, detail=True))


@router.post("/surveys/{survey_id}/questions", response={201: SurveyDetailOut, 400: ErrorOut})
def question_add(request: HttpRequest, survey_id: int, payload: QuestionIn) -> Any:
    user = _user(request)
    target = _managed(request, survey_id)
    data: dict[str, Any] = {
        "kind": payload.kind,
        "text": payload.text,
        "options": "\n".join(payload.options),
    }
    if payload.required:
        data["required"] = "on"
    if payload.is_need_question:
        data["is_need_question"] = "on"
    if payload.show_if_option_id is not None:
        data["show_if_option"] = payload.show_if_option_id
    form = QuestionForm(data, conditions=services.show_if_choices(target))
    if not form.is_valid():
        return _errors(form)
    try:
        services.question_add(survey=target, by=user, **form.cleaned_data)
    except ValidationError as exc:
        return _errors(exc)
    return Status(201, _out(request, target, detail=True))


@router.post("/surveys/{survey_id}/publish", response={200: SurveyOut, 400: ErrorOut})
def survey_publish(request: HttpRequest, survey_id: int) -> Any:
    try:
        done = services.survey_publish(survey=_managed(request, survey_id), by=_user(request))
    except ValidationError as exc:
        return _errors(exc)
    return _out(request, done)


@router.post("/surveys/{survey_id}/close", response={200: SurveyOut, 400: ErrorOut})
def survey_close(request: HttpRequest, survey_id: int) -> Any:
    try:
        done = services.survey_close(survey=_managed(request, survey_id), by=_user(request))
    except ValidationError as exc:
        return _errors(exc)
    return _out(request, done)


def _group(g: services.NeedGroup) -> dict[str, Any]:
    return {
        "label": g.label,
        "tier": g.tier,
        "respondents": g.respondents,
        "needs": [
            {"option_id": n.option_id, "text": n.text, "count": n.count, "share": n.share}
            for n in g.needs
        ],
    }


@router.get("/surveys/{survey_id}/results", response=ResultsOut)
def results(request: HttpRequest, survey_id: int) -> dict[str, Any]:
    """Response count, per-question figures, and ranked needs by community and by tier."""
    target = _survey(request, survey_id)
    r = services.survey_results(target)
    return {
        "survey_id": target.pk,
        "total": r.total,
        "questions": [
            {
                "question_id": q.question.pk,
                "kind": q.question.kind,
                "text": q.question.text,
                "answered": q.answered,
                "average": q.average,
                "options": [
                    {"option_id": o.id, "text": o.text, "count": o.count, "share": o.share}
                    for o in q.options
                ],
                "distribution": q.distribution,
            }
            for q in r.questions
        ],
        "needs": [
            {
                "question_id": q.pk,
                "text": q.text,
                "by_community": [_group(g) for g in r.by_community[q.pk]],
                "by_tier": [_group(g) for g in r.by_tier[q.pk]],
            }
            for q in r.need_questions
        ],
    }


@router.post("/surveys/{survey_id}/need-links", response={201: LinkOut, 400: ErrorOut})
def need_link(request: HttpRequest, survey_id: int, payload: LinkIn) -> Any:
    user = _user(request)
    target = _managed(request, survey_id)
    get_object_or_404(services.linkable_calls(user), pk=payload.call_id)
    form = CallNeedLinkForm(
        {"option": payload.option_id, "call": payload.call_id},
        options=services.need_options(target),
        calls=services.linkable_calls(user),
    )
    if not form.is_valid():
        return _errors(form)
    try:
        link = services.call_need_link(by=user, **form.cleaned_data)
    except ValidationError as exc:
        return _errors(exc)
    return Status(201, {"id": link.pk, "option_id": link.option_id, "call_id": link.call_id})
