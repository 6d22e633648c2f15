"""Staff pages of the needs surveys: building, preview, QR code and poster, results with charts
and ranked needs, free-text answers (paged, exported), linking needs to project calls; all
within scope."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from sanlian.core.models import AuditAction, AuditEntry
from sanlian.core.roles import Role
from sanlian.delivery.models import CallNeedLink, Question, Survey, SurveyStatus

from ..conftest import World
from ..resources.factories import BudgetPoolFactory, ProjectCallFactory
from .factories_surveys import SurveyFactory, answer_sheet, option, survey_with_questions

pytestmark = pytest.mark.django_db

LIST = reverse("delivery:survey_list")
NEW = reverse("delivery:survey_create")


def _url(name: str, survey: Survey, *args: Any) -> str:
    return reverse(f"delivery:{name}", args=[survey.pk, *args])


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def test_the_list_shows_the_surveys_in_scope(world: World) -> None:
    near = SurveyFactory(communities=[world.c1])
    SurveyFactory(communities=[world.c2])
    response = world.client(Role.COMMUNITY_CADRE).get(LIST)
    assert [s.pk for s in response.context["page"]] == [near.pk]


def test_a_cadre_builds_and_publishes_a_survey(world: World) -> None:
    client = world.client(Role.COMMUNITY_CADRE)
    now = timezone.now()
    created = client.post(
        NEW,
        {
            "title": "居民需求调查",
            "communities": [world.c1.pk],
            "opens_at": _local(now - dt.timedelta(minutes=5)),
            "closes_at": _local(now + dt.timedelta(days=7)),
        },
    )
    survey = Survey.objects.get(title="居民需求调查")
    assert created.url == survey.get_absolute_url()
    client.post(
        _url("survey_question_add", survey),
        {
            "kind": "single",
            "text": "最需要的服务",
            "options": "四点半课堂\n居家养老",
            "required": "on",
            "is_need_question": "on",
        },
    )
    client.post(_url("survey_publish", survey))
    survey.refresh_from_db()
    assert (survey.status, survey.questions.get().options.count()) == (SurveyStatus.PUBLISHED, 2)


def test_a_survey_for_a_community_outside_the_area_is_refused(world: World) -> None:
    now = timezone.now()
    response = world.client(Role.COMMUNITY_CADRE).post(
        NEW,
        {
            "title": "越界调查",
            "communities": [world.c2.pk],
            "opens_at": _local(now),
            "closes_at": _local(now + dt.timedelta(days=7)),
        },
    )
    assert "所选社区不在您的管理范围内。" in response.content.decode()


def test_a_bad_question_is_shown_with_its_message(world: World) -> None:
    survey = SurveyFactory(communities=[world.c1], status=SurveyStatus.DRAFT)
    response = world.client(Role.COMMUNITY_CADRE).post(
        _url("survey_question_add", survey), {"kind": "single", "text": "单个选项", "options": "一"}
    )
    assert (response.status_code, "选择题至少需要两个选项。" in response.content.decode()) == (
        400,
        True,
    )


def test_a_survey_out_of_scope_is_not_found(world: World) -> None:
    far = SurveyFactory(communities=[world.c2])
    assert world.client(Role.COMMUNITY_CADRE).get(_url("survey_detail", far)).status_code == 404


def test_a_social_worker_may_not_add_questions(world: World) -> None:
    survey = SurveyFactory(communities=[world.c1], status=SurveyStatus.DRAFT)
    response = world.client(Role.SOCIAL_WORKER).post(
        _url("survey_question_add", survey), {"kind": "number", "text": "人数"}
    )
    assert (response.status_code, Question.objects.count()) == (403, 0)


def test_the_detail_gives_the_public_link(world: World) -> None:
    survey = survey_with_questions(world, communities=[world.c1])
    page = world.client(Role.COMMUNITY_CADRE).get(_url("survey_detail", survey)).content.decode()
    assert f"/svc/s/{survey.token}/" in page


def test_the_preview_has_no_submit_button(world: World) -> None:
    survey = survey_with_questions(world, status=SurveyStatus.DRAFT)
    page = world.client(Role.FEDERATION_STAFF).get(_url("survey_preview", survey)).content.decode()
    assert ("您家最需要哪项服务？" in page, 'type="submit"' in page) == (True, False)


def test_the_qr_code_is_a_png(world: World) -> None:
    survey = survey_with_questions(world)
    response = world.client(Role.FEDERATION_STAFF).get(_url("survey_qr", survey))
    assert (response["Content-Type"], response.content[:8]) == ("image/png", b"\x89PNG\r\n\x1a\n")


def test_the_poster_shows_the_title_and_the_code(world: World) -> None:
    survey = survey_with_questions(world)
    page = world.client(Role.FEDERATION_STAFF).get(_url("survey_poster", survey)).content.decode()
    assert survey.title in page and _url("survey_qr", survey) in page


def _answered(world: World) -> Survey:
    survey = survey_with_questions(world, communities=[world.c1])
    answer_sheet(survey, world.c1, {1: "居家养老", 3: 5, 5: "<b>多办讲座</b>"})
    answer_sheet(survey, world.c1, {1: "四点半课堂", 3: 3})
    return survey


def test_the_results_page_shows_the_ranked_needs(world: World) -> None:
    survey = _answered(world)
    response = world.client(Role.COMMUNITY_CADRE).get(_url("survey_results", survey))
    [group] = response.context["need_page"]
    assert [n.text for n in group.needs[:2]] == ["四点半课堂", "居家养老"]


def test_the_results_page_has_a_chart_per_question(world: World) -> None:
    survey = _answered(world)
    page = world.client(Role.COMMUNITY_CADRE).get(_url("survey_results", survey)).content.decode()
    assert page.count('data-chart="chart-') == 3  # two choice questions and the Likert scale


def test_free_text_answers_are_shown_as_text(world: World) -> None:
    survey = _answered(world)
    page = world.client(Role.COMMUNITY_CADRE).get(_url("survey_texts", survey)).content.decode()
    assert "&lt;b&gt;多办讲座&lt;/b&gt;" in page and "<b>多办讲座" not in page


def test_free_text_answers_are_exported(world: World) -> None:
    survey = _answered(world)
    response = world.client(Role.COMMUNITY_CADRE).get(
        _url("survey_texts", survey), {"format": "xlsx"}
    )
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    assert rows[1][1:] == (world.c1.name, "您的建议", "<b>多办讲座</b>")


def test_the_export_is_in_the_audit_trail(world: World) -> None:
    survey = _answered(world)
    world.client(Role.COMMUNITY_CADRE).get(_url("survey_texts", survey), {"format": "xlsx"})
    assert AuditEntry.objects.filter(
        action=AuditAction.EXPORT, object_type="delivery.Answer"
    ).exists()


def test_a_need_is_linked_to_a_call_and_shown_on_the_call_page(world: World) -> None:
    survey = _answered(world)
    call = ProjectCallFactory(pool=BudgetPoolFactory(owner=world.d1))
    client = world.client(Role.AREA_STAFF)
    client.post(
        _url("survey_need_link", survey),
        {"option": option(survey, 1, "居家养老").pk, "call": call.pk},
    )
    page = client.get(reverse("resources:call_detail", args=[call.pk])).content.decode()
    assert "回应的需求" in page and f"居家养老（{survey.title}）" in page


def test_a_call_out_of_sight_cannot_be_linked(world: World) -> None:
    survey = _answered(world)
    call = ProjectCallFactory(pool=BudgetPoolFactory(owner=world.d2))
    world.client(Role.AREA_STAFF).post(
        _url("survey_need_link", survey),
        {"option": option(survey, 1, "居家养老").pk, "call": call.pk},
    )
    assert not CallNeedLink.objects.exists()
