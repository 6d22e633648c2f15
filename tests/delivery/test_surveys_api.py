"""JSON API of the needs surveys: scoped reads, building through the pages' forms (same Chinese
messages), results with ranked needs, ids in bodies looked up in scope."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from sanlian.core.roles import Role
from sanlian.delivery.models import CallNeedLink, SurveyStatus

from ..conftest import World
from ..resources.factories import BudgetPoolFactory, ProjectCallFactory
from .factories_surveys import SurveyFactory, answer_sheet, option, survey_with_questions

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, json.dumps(body or {}, default=str), content_type="application/json")


def _body(world: World, **fields: Any) -> dict[str, Any]:
    now = timezone.now()
    body: dict[str, Any] = {
        "title": "居民需求调查",
        "community_ids": [world.c1.pk],
        "opens_at": now.isoformat(),
        "closes_at": (now + dt.timedelta(days=7)).isoformat(),
    }
    body.update(fields)
    return body


def test_the_list_is_scoped(world: World) -> None:
    near = SurveyFactory(communities=[world.c1])
    SurveyFactory(communities=[world.c2])
    items = world.client(Role.COMMUNITY_CADRE).get("/api/surveys").json()["items"]
    assert [s["id"] for s in items] == [near.pk]


def test_a_survey_out_of_scope_is_not_found(world: World) -> None:
    far = SurveyFactory(communities=[world.c2])
    assert world.client(Role.COMMUNITY_CADRE).get(f"/api/surveys/{far.pk}").status_code == 404


def test_a_survey_is_built_and_published(world: World) -> None:
    client = world.client(Role.COMMUNITY_CADRE)
    created = _post(client, "/api/surveys", _body(world)).json()
    _post(
        client,
        f"/api/surveys/{created['id']}/questions",
        {"kind": "multiple", "text": "需要的服务", "options": ["托育", "养老"]},
    )
    published = _post(client, f"/api/surveys/{created['id']}/publish").json()
    assert (published["status"], published["public_url"].endswith("/")) == (
        SurveyStatus.PUBLISHED,
        True,
    )


def test_a_community_out_of_scope_is_refused_in_chinese(world: World) -> None:
    response = _post(
        world.client(Role.COMMUNITY_CADRE),
        "/api/surveys",
        _body(world, community_ids=[world.c2.pk]),
    )
    assert response.json()["detail"]["communities"] == ["所选社区不在您的管理范围内。"]


def test_a_bad_question_is_refused_in_chinese(world: World) -> None:
    survey = SurveyFactory(communities=[world.c1], status=SurveyStatus.DRAFT)
    response = _post(
        world.client(Role.COMMUNITY_CADRE),
        f"/api/surveys/{survey.pk}/questions",
        {"kind": "number", "text": "人数", "is_need_question": True},
    )
    assert response.json()["detail"]["is_need_question"] == ["只有单选题和多选题可以作为需求题。"]


def test_the_results_rank_the_needs(world: World) -> None:
    survey = survey_with_questions(world, communities=[world.c1])
    answer_sheet(survey, world.c1, {1: "法律援助", 3: 4})
    data = world.client(Role.COMMUNITY_CADRE).get(f"/api/surveys/{survey.pk}/results").json()
    top = data["needs"][0]["by_community"][0]["needs"][0]
    assert (data["total"], top["text"], top["share"]) == (1, "法律援助", "100.0")


def test_a_need_is_linked_to_a_call(world: World) -> None:
    survey = survey_with_questions(world, communities=[world.c1])
    call = ProjectCallFactory(pool=BudgetPoolFactory(owner=world.d1))
    response = _post(
        world.client(Role.AREA_STAFF),
        f"/api/surveys/{survey.pk}/need-links",
        {"option_id": option(survey, 1, "居家养老").pk, "call_id": call.pk},
    )
    assert (response.status_code, CallNeedLink.objects.count()) == (201, 1)


def test_a_call_out_of_scope_is_not_found(world: World) -> None:
    survey = survey_with_questions(world, communities=[world.c1])
    call = ProjectCallFactory(pool=BudgetPoolFactory(owner=world.d2))
    response = _post(
        world.client(Role.AREA_STAFF),
        f"/api/surveys/{survey.pk}/need-links",
        {"option_id": option(survey, 1, "居家养老").pk, "call_id": call.pk},
    )
    assert response.status_code == 404
