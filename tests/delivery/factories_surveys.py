"""Factories of the needs surveys (需求调查).

`survey_with_questions(w)` builds a published survey of C1 and C2 with one question of each
kind: 1 single choice (the need question), 2 multiple choice, 3 Likert, 4 number, 5 short
text, 6 long text shown only when option "其他" of question 1 is chosen."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.utils import timezone

from sanlian.delivery.models import (
    Answer,
    CallNeedLink,
    Question,
    QuestionKind,
    QuestionOption,
    Survey,
    SurveyResponse,
    SurveyStatus,
)

from ..factories import UserFactory


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"社区居民需求调查{n}")
    intro = "请根据您和家人的实际情况填写。"
    opens_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    closes_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=30))
    status = SurveyStatus.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)
    created_by = factory.SubFactory(UserFactory)

    @factory.post_generation
    def communities(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.communities.set(extracted)


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question
        skip_postgeneration_save = True

    survey = factory.SubFactory(SurveyFactory)
    seq = factory.Sequence(lambda n: n + 1)
    kind = QuestionKind.SINGLE
    text = factory.Sequence(lambda n: f"题目{n}")
    required = True

    @factory.post_generation
    def options(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            for i, text in enumerate(extracted, start=1):
                QuestionOptionFactory(question=self, seq=i, text=text)


class QuestionOptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QuestionOption

    question = factory.SubFactory(QuestionFactory)
    seq = factory.Sequence(lambda n: n + 1)
    text = factory.Sequence(lambda n: f"选项{n}")


class SurveyResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyResponse

    survey = factory.SubFactory(SurveyFactory)
    community: Any = None  # required: one of the survey's communities
    nonce = factory.Sequence(lambda n: f"nonce-{n}")
    device_hash = factory.Sequence(lambda n: f"device-{n}")
    ip_hash = "ip"


class AnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Answer

    response = factory.SubFactory(SurveyResponseFactory)
    survey = factory.LazyAttribute(lambda o: o.response.survey)
    community = factory.LazyAttribute(lambda o: o.response.community)
    question: Any = None


class CallNeedLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CallNeedLink

    call: Any = None
    option: Any = None
    linked_by = factory.SubFactory(UserFactory)


NEEDS = ("四点半课堂", "居家养老", "法律援助", "其他")


def survey_with_questions(w: Any, **kwargs: Any) -> Survey:
    kwargs.setdefault("communities", [w.c1, w.c2])
    survey = SurveyFactory(**kwargs)
    need = QuestionFactory(
        survey=survey, seq=1, text="您家最需要哪项服务？", is_need_question=True, options=NEEDS
    )
    QuestionFactory(
        survey=survey,
        seq=2,
        kind=QuestionKind.MULTIPLE,
        text="您能参加活动的时间",
        required=False,
        options=("工作日白天", "工作日晚上", "周末"),
    )
    QuestionFactory(survey=survey, seq=3, kind=QuestionKind.LIKERT, text="您对社区服务满意吗？")
    QuestionFactory(survey=survey, seq=4, kind=QuestionKind.NUMBER, text="家庭人口", required=False)
    QuestionFactory(
        survey=survey, seq=5, kind=QuestionKind.SHORT_TEXT, text="您的建议", required=False
    )
    QuestionFactory(
        survey=survey,
        seq=6,
        kind=QuestionKind.LONG_TEXT,
        text="请说明其他需求",
        required=True,
        show_if_option=need.options.get(text="其他"),
    )
    return survey


def questions_of(survey: Survey) -> dict[int, Question]:
    return {q.seq: q for q in survey.questions.all()}


def option(survey: Survey, seq: int, text: str) -> QuestionOption:
    return QuestionOption.objects.get(question__survey=survey, question__seq=seq, text=text)


def answer_sheet(survey: Survey, community: Any, choices: dict[int, Any]) -> SurveyResponse:
    """A stored response: {question seq: option text | [texts] | number | text}."""
    response = SurveyResponseFactory(survey=survey, community=community)
    for seq, value in choices.items():
        question = survey.questions.get(seq=seq)
        if question.is_choice:
            for text in value if isinstance(value, list) else [value]:
                AnswerFactory(
                    response=response, question=question, option=option(survey, seq, text)
                )
        elif question.is_numeric:
            AnswerFactory(response=response, question=question, number=value)
        else:
            AnswerFactory(response=response, question=question, text=value)
    return response
