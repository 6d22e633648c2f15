"""Scope cases of the needs surveys (collected by tests/core/test_scoping.py). A is a
published survey of C1 (in D1/K1), B one of C2 (in D2/K2); questions, options, responses,
answers and links to project calls follow their survey. Area roles see the surveys of their
area; a social organisation's staff the published surveys of the community it is based in."""

from __future__ import annotations

from typing import Any

from sanlian.core.roles import Role as R

from ..resources.factories import BudgetPoolFactory, ProjectCallFactory
from .factories_surveys import (
    AnswerFactory,
    CallNeedLinkFactory,
    QuestionFactory,
    QuestionOptionFactory,
    SurveyFactory,
    SurveyResponseFactory,
)

SEEN = {
    R.FEDERATION_STAFF: "AB",
    R.AREA_STAFF: "A",
    R.COMMUNITY_CADRE: "A",
    R.PARTY_SECRETARY: "A",
    R.SOCIAL_ORG_MANAGER: "A",
    R.SOCIAL_WORKER: "A",
}


def _surveys(w: Any) -> tuple[Any, Any]:
    return SurveyFactory(communities=[w.c1]), SurveyFactory(communities=[w.c2])


def _questions(w: Any) -> tuple[Any, Any]:
    a, b = _surveys(w)
    return QuestionFactory(survey=a), QuestionFactory(survey=b)


def _options(w: Any) -> tuple[Any, Any]:
    a, b = _questions(w)
    return QuestionOptionFactory(question=a), QuestionOptionFactory(question=b)


def _responses(w: Any) -> tuple[Any, Any]:
    a, b = _surveys(w)
    return (
        SurveyResponseFactory(survey=a, community=w.c1),
        SurveyResponseFactory(survey=b, community=w.c2),
    )


def _answers(w: Any) -> tuple[Any, Any]:
    a, b = _options(w)
    return (
        AnswerFactory(
            response=SurveyResponseFactory(survey=a.question.survey, community=w.c1),
            question=a.question,
            option=a,
        ),
        AnswerFactory(
            response=SurveyResponseFactory(survey=b.question.survey, community=w.c2),
            question=b.question,
            option=b,
        ),
    )


def _links(w: Any) -> tuple[Any, Any]:
    a, b = _options(w)
    call = ProjectCallFactory(pool=BudgetPoolFactory(owner=w.city))
    return CallNeedLinkFactory(call=call, option=a), CallNeedLinkFactory(call=call, option=b)


CASES = {
    "delivery.Survey": (_surveys, SEEN),
    "delivery.Question": (_questions, SEEN),
    "delivery.QuestionOption": (_options, SEEN),
    "delivery.SurveyResponse": (_responses, SEEN),
    "delivery.Answer": (_answers, SEEN),
    "delivery.CallNeedLink": (_links, SEEN),
}
