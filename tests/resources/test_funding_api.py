"""JSON API of the funding part: scoped reads, the application, review and award writes with
the pages' Chinese messages."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from sanlian.core.roles import Role
from sanlian.resources.models import (
    Application,
    ApplicationStatus,
    BudgetPool,
    CallStatus,
    ProjectCall,
    ReviewStatus,
)

from ..conftest import World
from .factories import BudgetPoolFactory, application_to, call_of

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def _reviewing(world: World, **kwargs: Any) -> ProjectCall:
    return call_of(
        world.d1,
        communities=[world.c1],
        status=CallStatus.REVIEWING,
        reviewers=[world.users[Role.EVALUATOR]],
        **kwargs,
    )


def _body(world: World, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "银龄守护计划",
        "proposal": "独居老人探访与互助小组。",
        "community_ids": [world.c1.pk],
        "beneficiaries": 120,
        "amount": "150000.00",
        "months": 12,
        "team_ids": [world.people["worker"].social_worker.pk],
        "indicators": [{"kind": "output", "metric": "cases", "name": "个案服务", "target": 20}],
        "budget_lines": [
            {"category": "staff", "item": "社工薪酬", "amount": "90000"},
            {"category": "activity", "item": "小组活动", "amount": 60000},
        ],
    }
    body.update(overrides)
    return body


def test_the_schema_lists_the_endpoints(client: Client) -> None:
    paths = set(client.get("/api/openapi.json").json()["paths"])
    assert {
        "/api/budget-pools",
        "/api/project-calls",
        "/api/project-calls/{call_id}/applications",
        "/api/applications/{application_id}/reviews",
        "/api/applications/{application_id}/award",
    } <= paths


def test_pools_are_scoped(world: World) -> None:
    near = BudgetPoolFactory(owner=world.d1)
    BudgetPoolFactory(owner=world.d2)
    items = world.client(Role.AREA_STAFF).get("/api/budget-pools").json()["items"]
    assert [(p["id"], p["remaining"]) for p in items] == [(near.pk, "1000000.00")]


def test_a_pool_outside_scope_is_404(world: World) -> None:
    far = BudgetPoolFactory(owner=world.d2)
    assert world.client(Role.AREA_STAFF).get(f"/api/budget-pools/{far.pk}").status_code == 404


def test_a_social_organisation_lists_the_calls_above_it(world: World) -> None:
    near = call_of(world.d1, communities=[world.c1])
    call_of(world.d2)
    items = world.client(Role.SOCIAL_ORG_MANAGER).get("/api/project-calls").json()["items"]
    assert [(c["id"], [x["weight"] for x in c["criteria"]]) for c in items] == [
        (near.pk, [30, 40, 30])
    ]


def test_an_application_is_made_and_submitted(world: World) -> None:
    call = call_of(world.d1, communities=[world.c1])
    response = _post(
        world.client(Role.SOCIAL_ORG_MANAGER),
        f"/api/project-calls/{call.pk}/applications",
        _body(world, submit=True),
    )
    body = response.json()
    assert (
        response.status_code,
        body["status"],
        len(body["budget_lines"]),
        body["indicators"][0]["target"],
    ) == (
        201,
        ApplicationStatus.SUBMITTED,
        2,
        "20",
    )


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-1", "金额不能为负数。"),
        ("abc", "金额须为数字（元，最多两位小数）。"),
        (1.234, "金额最多两位小数（精确到分）。"),
    ],
)
def test_a_bad_amount_is_refused_in_chinese(world: World, amount: Any, message: str) -> None:
    call = call_of(world.d1, communities=[world.c1])
    response = _post(
        world.client(Role.SOCIAL_ORG_MANAGER),
        f"/api/project-calls/{call.pk}/applications",
        _body(world, amount=amount),
    )
    assert (response.status_code, response.json()["detail"]["amount"]) == (400, [message])


def test_a_budget_that_does_not_add_up_is_refused(world: World) -> None:
    call = call_of(world.d1, communities=[world.c1])
    response = _post(
        world.client(Role.SOCIAL_ORG_MANAGER),
        f"/api/project-calls/{call.pk}/applications",
        _body(world, amount="160000"),
    )
    assert response.json()["detail"]["budget_lines"] == [
        "预算明细合计 ¥150,000.00 与申请金额 ¥160,000.00 不一致。"
    ]


def test_an_evaluator_cannot_apply(world: World) -> None:
    call = call_of(world.d1, communities=[world.c1], reviewers=[world.users[Role.EVALUATOR]])
    response = _post(
        world.client(Role.EVALUATOR), f"/api/project-calls/{call.pk}/applications", _body(world)
    )
    assert response.status_code == 403


def test_applications_are_scoped(world: World) -> None:
    near = application_to(call_of(world.d1, communities=[world.c1]), world.o1)
    application_to(call_of(world.d2, communities=[world.c2]), world.o2)
    items = world.client(Role.SOCIAL_ORG_MANAGER).get("/api/applications").json()["items"]
    assert [a["id"] for a in items] == [near.pk]


def test_an_applicant_does_not_see_the_ranking_during_the_review(world: World) -> None:
    application = application_to(_reviewing(world), world.o1, average_score=Decimal("80"), rank=1)
    applicant = world.client(Role.SOCIAL_ORG_MANAGER).get(f"/api/applications/{application.pk}")
    funder = world.client(Role.AREA_STAFF).get(f"/api/applications/{application.pk}")
    assert (applicant.json()["rank"], funder.json()["rank"]) == (None, 1)


def test_a_review_is_submitted(world: World) -> None:
    call = _reviewing(world)
    application = application_to(call, world.o1)
    scores = {str(c.pk): v for c, v in zip(call.criteria.all(), [80, "90", 70.5], strict=True)}
    response = _post(
        world.client(Role.EVALUATOR),
        f"/api/applications/{application.pk}/reviews",
        {"scores": scores, "comment": "方案扎实。"},
    )
    assert (response.status_code, response.json()["status"], response.json()["total"]) == (
        201,
        ReviewStatus.SUBMITTED,
        "81.15",
    )


def test_a_review_by_someone_off_the_panel_is_403(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    response = _post(
        world.client(Role.AREA_STAFF),
        f"/api/applications/{application.pk}/reviews",
        {"scores": {}, "comment": "x"},
    )
    assert response.status_code == 403


def test_a_conflicted_review_is_refused(world: World) -> None:
    from ..factories import PersonFactory

    call = _reviewing(world)
    application = application_to(call, world.o1)
    PersonFactory(community=world.c1, employer=world.o1, user=world.users[Role.EVALUATOR])
    response = _post(
        world.client(Role.EVALUATOR),
        f"/api/applications/{application.pk}/reviews",
        {"scores": {str(c.pk): 80 for c in call.criteria.all()}, "comment": "x"},
    )
    assert response.json()["detail"]["__all__"] == [
        "您受雇于申报机构“阳光社工中心”，存在利益冲突，须回避，不能评分。"
    ]


def test_a_reviewer_recuses(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    response = _post(
        world.client(Role.EVALUATOR),
        f"/api/applications/{application.pk}/recuse",
        {"note": "亲属关系"},
    )
    assert response.json()["status"] == ReviewStatus.RECUSED


def test_an_award_reserves_the_pool(world: World) -> None:
    call = _reviewing(world)
    application = application_to(call, world.o1)
    response = _post(
        world.client(Role.AREA_STAFF),
        f"/api/applications/{application.pk}/award",
        {"amount": "100000", "reason": "排名第一"},
    )
    assert (response.json()["status"], BudgetPool.objects.get(pk=call.pool_id).allocated) == (
        ApplicationStatus.AWARDED,
        Decimal("100000.00"),
    )


def test_an_award_beyond_the_pool_is_refused(world: World) -> None:
    pool = BudgetPoolFactory(
        owner=world.d1, amount=Decimal("1000000.00"), allocated=Decimal("990000.00")
    )
    application = application_to(_reviewing(world, pool=pool), world.o1)
    response = _post(
        world.client(Role.AREA_STAFF),
        f"/api/applications/{application.pk}/award",
        {"amount": "10000.01", "reason": "排名第一"},
    )
    assert (response.status_code, response.json()["detail"]["__all__"]) == (
        400,
        [f"资金池“{pool.name}”剩余可分配额 ¥10,000.00，不足以立项 ¥10,000.01。"],
    )


def test_a_rejection_needs_its_reasons(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    response = _post(
        world.client(Role.AREA_STAFF),
        f"/api/applications/{application.pk}/reject",
        {"reason": ""},
    )
    assert response.json()["detail"]["reason"] == ["请填写决定理由。"]


def test_an_application_is_rejected(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    _post(
        world.client(Role.AREA_STAFF),
        f"/api/applications/{application.pk}/reject",
        {"reason": "覆盖人群不足"},
    )
    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.REJECTED


def test_a_social_organisation_cannot_award(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    response = _post(
        world.client(Role.SOCIAL_ORG_MANAGER),
        f"/api/applications/{application.pk}/award",
        {"amount": "1", "reason": "x"},
    )
    assert response.status_code == 403


def test_a_call_is_opened_through_the_api(world: World) -> None:
    call = call_of(world.d1, status=CallStatus.DRAFT)
    response = _post(
        world.client(Role.AREA_STAFF), f"/api/project-calls/{call.pk}/transitions/open", {}
    )
    assert response.json()["status"] == CallStatus.OPEN


def test_cancelling_through_the_api_needs_a_reason(world: World) -> None:
    call = call_of(world.d1)
    response = _post(
        world.client(Role.AREA_STAFF), f"/api/project-calls/{call.pk}/transitions/cancel", {}
    )
    assert response.json()["detail"]["reason"] == ["请填写撤销原因。"]
