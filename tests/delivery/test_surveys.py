"""Needs surveys (需求调查): building and publishing a questionnaire, who may do it, the
results (counts, averages, needs ranked per community and tier) and the link of needs to
project calls shown on the call page of 资源联合."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from sanlian.core.roles import Role
from sanlian.delivery.models import (
    CallNeedLink,
    Question,
    QuestionKind,
    Survey,
    SurveyStatus,
)
from sanlian.delivery.services import surveys as services
from sanlian.resources.services.funding import call_needs

from ..conftest import World
from ..resources.factories import BudgetPoolFactory, ProjectCallFactory
from .factories_surveys import (
    NEEDS,
    QuestionFactory,
    SurveyFactory,
    answer_sheet,
    option,
    questions_of,
    survey_with_questions,
)

pytestmark = pytest.mark.django_db


def _draft(world: World, **kwargs: Any) -> Survey:
    now = timezone.now()
    fields: dict[str, Any] = {
        "by": world.users[Role.COMMUNITY_CADRE],
        "title": "2026年凯旋社区居民需求调查",
        "communities": [world.c1],
        "opens_at": now,
        "closes_at": now + dt.timedelta(days=14),
    }
    fields.update(kwargs)
    return services.survey_create(**fields)


def _add(world: World, survey: Survey, **kwargs: Any) -> Question:
    fields: dict[str, Any] = {
        "survey": survey,
        "by": world.users[Role.COMMUNITY_CADRE],
        "kind": QuestionKind.SINGLE,
        "text": "您最需要哪项服务？",
        "options": ["四点半课堂", "居家养老"],
    }
    fields.update(kwargs)
    return services.question_add(**fields)


# ---- building ----------------------------------------------------------------------------------


def test_a_cadre_creates_a_draft_for_the_community(world: World) -> None:
    survey = _draft(world)
    assert (survey.status, list(survey.communities.all())) == (SurveyStatus.DRAFT, [world.c1])


def test_a_survey_of_a_community_outside_the_area_is_refused(world: World) -> None:
    with pytest.raises(ValidationError, match="不在您的管理范围内"):
        _draft(world, communities=[world.c2])


def test_a_survey_ending_before_it_starts_is_refused(world: World) -> None:
    now = timezone.now()
    with pytest.raises(ValidationError, match="结束时间须晚于开始时间"):
        _draft(world, opens_at=now, closes_at=now - dt.timedelta(hours=1))


def test_a_social_worker_may_not_create_a_survey(world: World) -> None:
    with pytest.raises(ValidationError, match="只有工会和社区工作人员"):
        _draft(world, by=world.users[Role.SOCIAL_WORKER])


def test_questions_are_numbered_in_order(world: World) -> None:
    survey = _draft(world)
    _add(world, survey)
    second = _add(world, survey, kind=QuestionKind.LIKERT, text="满意度", options=[])
    assert second.seq == 2


def test_a_choice_question_needs_two_options(world: World) -> None:
    with pytest.raises(ValidationError, match="至少需要两个选项"):
        _add(world, _draft(world), options=["只有一个"])


def test_repeated_options_are_refused(world: World) -> None:
    with pytest.raises(ValidationError, match="选项不能重复"):
        _add(world, _draft(world), options=["养老", "养老"])


def test_a_need_question_must_be_a_choice(world: World) -> None:
    with pytest.raises(ValidationError, match="只有单选题和多选题"):
        _add(world, _draft(world), kind=QuestionKind.NUMBER, options=[], is_need_question=True)


def test_a_condition_must_be_an_option_of_the_same_survey(world: World) -> None:
    other = _add(world, _draft(world))
    with pytest.raises(ValidationError, match="显示条件"):
        _add(world, _draft(world), show_if_option=other.options.first())


def test_a_published_survey_takes_no_new_question(world: World) -> None:
    survey = _draft(world)
    _add(world, survey)
    services.survey_publish(survey=survey, by=world.users[Role.COMMUNITY_CADRE])
    with pytest.raises(ValidationError, match="题目不能再修改"):
        _add(world, survey)


def test_a_survey_without_questions_cannot_be_published(world: World) -> None:
    with pytest.raises(ValidationError, match="还没有题目"):
        services.survey_publish(survey=_draft(world), by=world.users[Role.COMMUNITY_CADRE])


def test_a_published_survey_takes_answers(world: World) -> None:
    survey = _draft(world)
    _add(world, survey)
    published = services.survey_publish(survey=survey, by=world.users[Role.COMMUNITY_CADRE])
    assert published.is_open()


def test_closing_a_survey_stops_the_answers(world: World) -> None:
    survey = survey_with_questions(world, communities=[world.c1])
    closed = services.survey_close(survey=survey, by=world.users[Role.COMMUNITY_CADRE])
    assert (closed.status, closed.is_open()) == (SurveyStatus.CLOSED, False)


def test_deleting_a_question_drops_the_conditions_on_it(world: World) -> None:
    survey = _draft(world)
    first = _add(world, survey)
    second = _add(world, survey, show_if_option=first.options.first())
    services.question_delete(question=first, by=world.users[Role.COMMUNITY_CADRE])
    second.refresh_from_db()
    assert second.show_if_option is None


def test_a_cadre_does_not_manage_a_survey_reaching_beyond_the_community(world: World) -> None:
    survey = survey_with_questions(world)  # C1 and C2
    assert not services.may_manage(world.users[Role.COMMUNITY_CADRE], survey)


def test_the_city_manages_a_survey_of_several_districts(world: World) -> None:
    survey = survey_with_questions(world)
    assert services.may_manage(world.users[Role.FEDERATION_STAFF], survey)


def test_a_social_worker_does_not_see_drafts(world: World) -> None:
    SurveyFactory(communities=[world.c1], status=SurveyStatus.DRAFT)
    assert not Survey.objects.visible_to(world.users[Role.SOCIAL_WORKER]).exists()


# ---- results -----------------------------------------------------------------------------------


def _answered(world: World) -> Survey:
    survey = survey_with_questions(world)
    answer_sheet(survey, world.c1, {1: "居家养老", 2: ["周末"], 3: 5, 4: 3})
    answer_sheet(survey, world.c1, {1: "居家养老", 2: ["周末", "工作日晚上"], 3: 4, 4: 2})
    answer_sheet(survey, world.c1, {1: "四点半课堂", 3: 3})
    answer_sheet(survey, world.c2, {1: "法律援助", 3: 1, 5: "多办讲座"})
    return survey


def test_results_count_the_responses(world: World) -> None:
    assert services.survey_results(_answered(world)).total == 4


def test_results_count_each_option(world: World) -> None:
    results = services.survey_results(_answered(world))
    times = next(r for r in results.questions if r.question.seq == 2)
    assert [(o.text, o.count) for o in times.options] == [
        ("工作日白天", 0),
        ("工作日晚上", 1),
        ("周末", 2),
    ]


def test_a_multiple_choice_counts_people_not_ticks(world: World) -> None:
    survey = survey_with_questions(world, status="published")
    answer_sheet(survey, world.c1, {1: "四点半课堂", 2: ["工作日晚上", "周末"]})
    answer_sheet(survey, world.c1, {1: "四点半课堂", 2: ["周末"]})
    times = next(r for r in services.survey_results(survey).questions if r.question.seq == 2)
    assert times.answered == 2


def test_results_average_the_likert_answers(world: World) -> None:
    results = services.survey_results(_answered(world))
    likert = next(r for r in results.questions if r.question.seq == 3)
    assert (likert.average, likert.distribution) == (Decimal("3.25"), [1, 0, 1, 1, 1])


def test_results_average_the_numbers(world: World) -> None:
    results = services.survey_results(_answered(world))
    number = next(r for r in results.questions if r.question.seq == 4)
    assert (number.average, number.answered) == (Decimal("2.50"), 2)


def test_needs_are_ranked_per_community_by_share(world: World) -> None:
    survey = _answered(world)
    results = services.survey_results(survey)
    need_q = questions_of(survey)[1]
    c1 = next(g for g in results.by_community[need_q.pk] if g.label == world.c1.name)
    assert [(n.text, n.share) for n in c1.needs[:2]] == [
        ("居家养老", Decimal("66.7")),
        ("四点半课堂", Decimal("33.3")),
    ]


def test_needs_are_compared_by_tier(world: World) -> None:
    survey = _answered(world)
    results = services.survey_results(survey)
    weak = next(g for g in results.by_tier[questions_of(survey)[1].pk] if g.tier == "weak")
    assert (weak.respondents, weak.needs[0].text, weak.needs[0].share) == (
        1,
        "法律援助",
        Decimal("100.0"),
    )


def test_the_tier_chart_has_one_series_per_tier_with_answers(world: World) -> None:
    survey = _answered(world)
    chart = services.survey_results(survey).tier_chart(questions_of(survey)[1].pk)
    assert (chart["categories"], len(chart["series"])) == (list(NEEDS), 2)


def test_results_take_a_fixed_number_of_queries(
    world: World, django_assert_max_num_queries: Any
) -> None:
    survey = _answered(world)
    for _ in range(20):
        answer_sheet(survey, world.c2, {1: "其他", 3: 2, 6: "停车难"})
    with django_assert_max_num_queries(9):
        services.survey_results(survey)


def test_text_answers_are_listed_newest_first(world: World) -> None:
    survey = _answered(world)
    answer_sheet(survey, world.c1, {1: "其他", 3: 2, 6: "停车难"})
    assert [a.text for a in services.text_answers(survey)] == ["停车难", "多办讲座"]


# ---- needs and project calls -------------------------------------------------------------------


def _call(world: World) -> Any:
    return ProjectCallFactory(pool=BudgetPoolFactory(owner=world.d1))


def _c1_survey(world: World) -> Survey:
    return survey_with_questions(world, communities=[world.c1])


def test_a_need_is_linked_to_a_call(world: World) -> None:
    survey, call = _c1_survey(world), _call(world)
    services.call_need_link(
        option=option(survey, 1, "居家养老"), call=call, by=world.users[Role.AREA_STAFF]
    )
    assert CallNeedLink.objects.filter(call=call).count() == 1


def test_an_option_of_an_ordinary_question_is_not_a_need(world: World) -> None:
    survey, call = _c1_survey(world), _call(world)
    with pytest.raises(ValidationError, match="只有需求题的选项"):
        services.call_need_link(
            option=option(survey, 2, "周末"), call=call, by=world.users[Role.AREA_STAFF]
        )


def test_a_need_is_linked_to_a_call_once(world: World) -> None:
    survey, call = _c1_survey(world), _call(world)
    need = option(survey, 1, "居家养老")
    services.call_need_link(option=need, call=call, by=world.users[Role.AREA_STAFF])
    with pytest.raises(ValidationError, match="已关联"):
        services.call_need_link(option=need, call=call, by=world.users[Role.AREA_STAFF])


def test_the_call_lists_the_needs_it_answers(world: World) -> None:
    survey, call = _c1_survey(world), _call(world)
    answer_sheet(survey, world.c1, {1: "居家养老", 3: 5})
    answer_sheet(survey, world.c1, {1: "四点半课堂", 3: 5})
    services.call_need_link(
        option=option(survey, 1, "居家养老"), call=call, by=world.users[Role.AREA_STAFF]
    )
    [need] = call_needs(call, world.users[Role.AREA_STAFF])
    assert (need.label, "50.0%" in need.detail) == (f"居家养老（{survey.title}）", True)


def test_the_call_hides_needs_of_surveys_out_of_sight(world: World) -> None:
    survey = SurveyFactory(communities=[world.c2])
    need_q = QuestionFactory(survey=survey, is_need_question=True, options=["养老", "托育"])
    call = ProjectCallFactory(pool=BudgetPoolFactory(owner=world.city))
    CallNeedLink.objects.create(
        call=call, option=need_q.options.first(), linked_by=world.users[Role.FEDERATION_STAFF]
    )
    assert call_needs(call, world.users[Role.AREA_STAFF]) == []
