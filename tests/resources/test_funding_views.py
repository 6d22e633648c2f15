"""Funding pages per role: what each sees (404 outside scope, 403 for a wrong role), the
forms with their Chinese refusals, exports."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from sanlian.core.models import AuditEntry
from sanlian.core.roles import Role
from sanlian.resources.models import (
    Application,
    ApplicationStatus,
    BudgetPool,
    CallStatus,
    ProjectCall,
    Review,
    ReviewStatus,
)

from ..conftest import World
from .factories import BudgetPoolFactory, application_to, call_of

pytestmark = pytest.mark.django_db


def _reviewing(world: World) -> ProjectCall:
    return call_of(
        world.d1,
        communities=[world.c1],
        status=CallStatus.REVIEWING,
        reviewers=[world.users[Role.EVALUATOR]],
    )


def _sheet(response: Any) -> list[tuple[Any, ...]]:
    workbook = load_workbook(io.BytesIO(response.content))
    return list(workbook.active.iter_rows(values_only=True))


# ---- pools ---------------------------------------------------------------------------------


def test_the_pool_overview_shows_the_levels_pools_with_a_chart(world: World) -> None:
    BudgetPoolFactory(owner=world.d1, name="一区购买服务")
    BudgetPoolFactory(owner=world.d2, name="二区购买服务")
    body = world.client(Role.AREA_STAFF).get("/res/pools/").content.decode()
    assert (
        "一区购买服务" in body,
        "二区购买服务" in body,
        'data-chart="pool-chart-data"' in body,
    ) == (
        True,
        False,
        True,
    )


def test_the_pool_overview_is_not_for_social_organisations(world: World) -> None:
    assert world.client(Role.SOCIAL_ORG_MANAGER).get("/res/pools/").status_code == 403


def test_the_pool_export_is_scoped_and_audited(world: World) -> None:
    BudgetPoolFactory(owner=world.d1, name="一区购买服务", allocated=Decimal("100.00"))
    BudgetPoolFactory(owner=world.d2, name="二区购买服务")
    response = world.client(Role.AREA_STAFF).get("/res/pools/?format=xlsx")
    rows = _sheet(response)
    entry = AuditEntry.objects.filter(object_type="resources.BudgetPool", action="export").get()
    assert ([r[2] for r in rows[1:]], rows[1][6], entry.changes["rows"]) == (
        ["一区购买服务"],
        100,
        1,
    )


def test_a_pool_outside_scope_is_404(world: World) -> None:
    far = BudgetPoolFactory(owner=world.d2)
    assert world.client(Role.AREA_STAFF).get(f"/res/pools/{far.pk}/").status_code == 404


def test_the_pool_page_shows_its_totals_and_calls(world: World) -> None:
    pool = BudgetPoolFactory(
        owner=world.d1, amount=Decimal("1000000.00"), allocated=Decimal("250000.00")
    )
    call = call_of(world.d1, pool=pool, title="社区养老指南")
    body = world.client(Role.AREA_STAFF).get(pool.get_absolute_url()).content.decode()
    assert ("¥750,000.00" in body, call.title in body) == (True, True)


def test_a_pool_is_created_from_the_page(world: World) -> None:
    response = world.client(Role.AREA_STAFF).post(
        "/res/pools/new/", {"year": 2026, "name": "区购买服务", "amount": "800000"}
    )
    pool = BudgetPool.objects.get(name="区购买服务")
    assert (response.status_code, pool.owner, pool.amount) == (302, world.d1, Decimal("800000.00"))


def test_the_pool_form_says_what_is_wrong_with_the_amount(world: World) -> None:
    response = world.client(Role.AREA_STAFF).post(
        "/res/pools/new/", {"year": 2026, "name": "区购买服务", "amount": "1.234"}
    )
    assert "金额最多两位小数（精确到分）。" in response.content.decode()


def test_lowering_a_pool_below_its_allocation_is_refused_on_the_page(world: World) -> None:
    pool = BudgetPoolFactory(owner=world.d1, allocated=Decimal("300000.00"))
    response = world.client(Role.AREA_STAFF).post(
        f"/res/pools/{pool.pk}/edit/",
        {"name": pool.name, "amount": "100000", "expected_version": pool.version},
    )
    pool.refresh_from_db()
    assert ("资金总额不能低于已分配额" in response.content.decode(), pool.amount) == (
        True,
        Decimal("1000000.00"),
    )


def test_a_community_cadre_cannot_create_pools(world: World) -> None:
    assert world.client(Role.COMMUNITY_CADRE).get("/res/pools/new/").status_code == 403


# ---- calls ---------------------------------------------------------------------------------


def test_a_social_organisation_sees_the_open_calls_above_it(world: World) -> None:
    call_of(world.d1, title="一区开放指南", communities=[world.c1])
    call_of(world.d1, title="一区草稿指南", status=CallStatus.DRAFT)
    call_of(world.d2, title="二区开放指南")
    body = world.client(Role.SOCIAL_ORG_MANAGER).get("/res/calls/").content.decode()
    assert ("一区开放指南" in body, "一区草稿指南" in body, "二区开放指南" in body) == (
        True,
        False,
        False,
    )


def test_the_call_export_is_scoped(world: World) -> None:
    call_of(world.d1, title="一区指南")
    call_of(world.d2, title="二区指南")
    rows = _sheet(world.client(Role.AREA_STAFF).get("/res/calls/?format=xlsx"))
    assert [r[1] for r in rows[1:]] == ["一区指南"]


def test_a_call_is_created_from_the_page_with_its_criteria(world: World) -> None:
    pool = BudgetPoolFactory(owner=world.d1)
    deadline = (timezone.localtime() + dt.timedelta(days=20)).strftime("%Y-%m-%dT%H:%M")
    response = world.client(Role.AREA_STAFF).post(
        "/res/calls/new/",
        {
            "pool": pool.pk,
            "title": "社区养老服务",
            "service_field": "elderly",
            "communities": [world.c1.pk],
            "budget_ceiling": "200000",
            "total_budget": "600000",
            "max_months": 12,
            "deadline": deadline,
            "criteria-TOTAL_FORMS": 2,
            "criteria-INITIAL_FORMS": 0,
            "criteria-0-name": "需求契合度",
            "criteria-0-weight": 40,
            "criteria-1-name": "方案可行性",
            "criteria-1-weight": 60,
            "reviewers": [world.users[Role.EVALUATOR].pk],
        },
    )
    call = ProjectCall.objects.get(title="社区养老服务")
    assert (
        response.status_code,
        call.status,
        [c.weight for c in call.criteria.all()],
        list(call.reviewers.values_list("reviewer", flat=True)),
    ) == (302, CallStatus.DRAFT, [40, 60], [world.users[Role.EVALUATOR].pk])


def test_the_call_form_says_the_weights_do_not_add_up(world: World) -> None:
    pool = BudgetPoolFactory(owner=world.d1)
    response = world.client(Role.AREA_STAFF).post(
        "/res/calls/new/",
        {
            "pool": pool.pk,
            "title": "社区养老服务",
            "service_field": "elderly",
            "budget_ceiling": "200000",
            "total_budget": "600000",
            "max_months": 12,
            "deadline": "2099-01-01T17:00",
            "criteria-TOTAL_FORMS": 1,
            "criteria-INITIAL_FORMS": 0,
            "criteria-0-name": "需求契合度",
            "criteria-0-weight": 40,
        },
    )
    assert ("评审指标权重合计须为 100，当前为 40。" in response.content.decode()) is True


def test_a_call_outside_scope_is_404(world: World) -> None:
    far = call_of(world.d2)
    assert world.client(Role.SOCIAL_ORG_MANAGER).get(far.get_absolute_url()).status_code == 404


def test_funders_see_the_ranking_and_applicants_do_not(world: World) -> None:
    call = _reviewing(world)
    application_to(call, world.o1, average_score=Decimal("87.50"), rank=1)
    funder = world.client(Role.AREA_STAFF).get(call.get_absolute_url()).content.decode()
    applicant = world.client(Role.SOCIAL_ORG_MANAGER).get(call.get_absolute_url()).content.decode()
    assert ("87.50" in funder, "87.50" in applicant) == (True, False)


def test_a_call_is_opened_from_its_page(world: World) -> None:
    call = call_of(world.d1, status=CallStatus.DRAFT)
    world.client(Role.AREA_STAFF).post(f"/res/calls/{call.pk}/do/open/")
    call.refresh_from_db()
    assert call.status == CallStatus.OPEN


def test_a_refused_transition_is_said_on_the_page(world: World) -> None:
    call = call_of(world.d1, status=CallStatus.DRAFT, criteria=[("需求契合度", 60)])
    response = world.client(Role.AREA_STAFF).post(f"/res/calls/{call.pk}/do/open/", follow=True)
    assert "发布前须设置评审指标，且权重合计为 100（当前为 60）。" in response.content.decode()


def test_a_targeted_communitys_cadre_sees_a_call_but_cannot_manage_it(world: World) -> None:
    call = call_of(world.d1, communities=[world.c1])
    client = world.client(Role.COMMUNITY_CADRE)
    assert (
        client.get(call.get_absolute_url()).status_code,
        client.post(f"/res/calls/{call.pk}/do/close/").status_code,
    ) == (200, 403)


def test_a_street_staff_member_cannot_manage_a_districts_call(world: World) -> None:
    from ..factories import UserFactory

    street = UserFactory(organization=world.s1, roles=[Role.AREA_STAFF])
    call = call_of(world.d1, communities=[world.c1])
    client = world.client(Role.AREA_STAFF)
    client.force_login(street)
    assert client.post(f"/res/calls/{call.pk}/do/close/").status_code == 403


def test_the_needs_section_is_absent_until_needs_exist(world: World) -> None:
    call = call_of(world.d1)
    body = world.client(Role.AREA_STAFF).get(call.get_absolute_url()).content.decode()
    assert "回应的需求" not in body


# ---- applications --------------------------------------------------------------------------


def _application_post(world: World, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "银龄守护计划",
        "proposal": "独居老人探访与互助小组。",
        "communities": [world.c1.pk],
        "beneficiaries": 120,
        "amount": "150000",
        "months": 12,
        "team": [world.people["worker"].social_worker.pk],
        "indicators-TOTAL_FORMS": 1,
        "indicators-INITIAL_FORMS": 0,
        "indicators-0-kind": "output",
        "indicators-0-metric": "cases",
        "indicators-0-name": "个案服务",
        "indicators-0-target": "20",
        "indicators-0-unit": "个",
        "lines-TOTAL_FORMS": 2,
        "lines-INITIAL_FORMS": 0,
        "lines-0-category": "staff",
        "lines-0-item": "社工薪酬",
        "lines-0-amount": "90000",
        "lines-1-category": "activity",
        "lines-1-item": "小组活动",
        "lines-1-amount": "60000",
    }
    data.update(overrides)
    return data


def test_an_application_is_made_and_submitted_from_the_page(world: World) -> None:
    call = call_of(world.d1, communities=[world.c1])
    response = world.client(Role.SOCIAL_ORG_MANAGER).post(
        f"/res/calls/{call.pk}/apply/", _application_post(world, submit="1")
    )
    application = Application.objects.get(call=call)
    assert (
        response.status_code,
        application.status,
        application.budget_lines.count(),
        application.team.count(),
    ) == (302, ApplicationStatus.SUBMITTED, 2, 1)


def test_the_application_page_says_the_budget_does_not_add_up(world: World) -> None:
    call = call_of(world.d1, communities=[world.c1])
    response = world.client(Role.SOCIAL_ORG_MANAGER).post(
        f"/res/calls/{call.pk}/apply/", _application_post(world, **{"lines-1-amount": "50000"})
    )
    assert (
        "预算明细合计 ¥140,000.00 与申请金额 ¥150,000.00 不一致。" in response.content.decode()
    ) is True


def test_the_application_page_says_the_amount_is_over_the_ceiling(world: World) -> None:
    call = call_of(world.d1, communities=[world.c1])
    response = world.client(Role.SOCIAL_ORG_MANAGER).post(
        f"/res/calls/{call.pk}/apply/", _application_post(world, amount="250000")
    )
    assert "超过本指南单个项目资助上限 ¥200,000.00" in response.content.decode()


def test_a_social_worker_cannot_apply(world: World) -> None:
    call = call_of(world.d1, communities=[world.c1])
    assert world.client(Role.SOCIAL_WORKER).get(f"/res/calls/{call.pk}/apply/").status_code == 403


def test_one_more_budget_row_comes_with_the_new_row_count(world: World) -> None:
    response = world.client(Role.SOCIAL_ORG_MANAGER).get(
        "/res/applications/rows/lines/?index=3", headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert ('name="lines-3-item"' in body, 'name="lines-TOTAL_FORMS" value="4"' in body) == (
        True,
        True,
    )


def test_an_unknown_row_kind_is_404(world: World) -> None:
    response = world.client(Role.SOCIAL_ORG_MANAGER).get("/res/applications/rows/x/?index=1")
    assert response.status_code == 404


def test_another_organisations_application_is_404(world: World) -> None:
    application = application_to(call_of(world.d2, communities=[world.c2]), world.o2)
    response = world.client(Role.SOCIAL_ORG_MANAGER).get(application.get_absolute_url())
    assert response.status_code == 404


def test_the_applicant_submits_a_draft_from_its_page(world: World) -> None:
    call = call_of(world.d1, communities=[world.c1])
    application = application_to(call, world.o1, status=ApplicationStatus.DRAFT)
    world.client(Role.SOCIAL_ORG_MANAGER).post(f"/res/applications/{application.pk}/submit/")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


def test_the_application_export_is_scoped(world: World) -> None:
    application_to(call_of(world.d1, communities=[world.c1]), world.o1, title="一区项目")
    application_to(call_of(world.d2, communities=[world.c2]), world.o2, title="二区项目")
    rows = _sheet(world.client(Role.AREA_STAFF).get("/res/applications/?format=xlsx"))
    assert [r[3] for r in rows[1:]] == ["一区项目"]


# ---- reviews and decisions -----------------------------------------------------------------


def test_the_review_queue_lists_the_applications_to_score(world: World) -> None:
    application = application_to(_reviewing(world), world.o1, title="银龄守护计划")
    body = world.client(Role.EVALUATOR).get("/res/reviews/").content.decode()
    assert (application.title in body, "待评 1" in body) == (True, True)


def test_a_review_is_submitted_from_the_page(world: World) -> None:
    call = _reviewing(world)
    application = application_to(call, world.o1)
    data: dict[str, Any] = {f"score_{c.pk}": "80" for c in call.criteria.all()}
    data["comment"] = "方案可行。"
    world.client(Role.EVALUATOR).post(f"/res/applications/{application.pk}/review/", data)
    review = Review.objects.get(application=application)
    assert (review.status, review.total) == (ReviewStatus.SUBMITTED, Decimal("80.00"))


def test_the_review_page_says_a_score_is_out_of_range(world: World) -> None:
    call = _reviewing(world)
    application = application_to(call, world.o1)
    data: dict[str, Any] = {f"score_{c.pk}": "120" for c in call.criteria.all()}
    data["comment"] = "x"
    response = world.client(Role.EVALUATOR).post(
        f"/res/applications/{application.pk}/review/", data
    )
    assert "得分为 0 至 100 分。" in response.content.decode()


def test_the_review_page_shows_a_visible_conflict(world: World) -> None:
    from ..factories import PersonFactory

    application = application_to(_reviewing(world), world.o1)
    PersonFactory(community=world.c1, employer=world.o1, user=world.users[Role.EVALUATOR])
    body = world.client(Role.EVALUATOR).get(f"/res/applications/{application.pk}/review/")
    assert 'data-testid="conflict"' in body.content.decode()


def test_a_reviewer_recuses_from_the_page(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    world.client(Role.EVALUATOR).post(
        f"/res/applications/{application.pk}/recuse/", {"conflict_note": "曾任该机构理事"}
    )
    assert Review.objects.get(application=application).status == ReviewStatus.RECUSED


def test_someone_not_on_the_panel_cannot_open_the_review_form(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    response = world.client(Role.FEDERATION_STAFF).get(
        f"/res/applications/{application.pk}/review/"
    )
    assert response.status_code == 403


def test_an_award_is_decided_from_the_page(world: World) -> None:
    call = _reviewing(world)
    application = application_to(call, world.o1)
    world.client(Role.AREA_STAFF).post(
        f"/res/applications/{application.pk}/decide/",
        {"decision": "award", "amount": "120000", "reason": "排名第一"},
    )
    application.refresh_from_db()
    assert (application.status, BudgetPool.objects.get(pk=call.pool_id).allocated) == (
        ApplicationStatus.AWARDED,
        Decimal("120000.00"),
    )


def test_the_decision_page_says_the_pool_is_exhausted(world: World) -> None:
    pool = BudgetPoolFactory(
        owner=world.d1, amount=Decimal("1000000.00"), allocated=Decimal("950000.00")
    )
    call = call_of(world.d1, pool=pool, communities=[world.c1], status=CallStatus.REVIEWING)
    application = application_to(call, world.o1)
    response = world.client(Role.AREA_STAFF).post(
        f"/res/applications/{application.pk}/decide/",
        {"decision": "award", "amount": "60000", "reason": "排名第一"},
    )
    assert "剩余可分配额 ¥50,000.00，不足以立项 ¥60,000.00" in response.content.decode()


def test_a_community_cadre_cannot_decide(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    response = world.client(Role.COMMUNITY_CADRE).get(f"/res/applications/{application.pk}/decide/")
    assert response.status_code == 403


def test_funders_see_the_reviews_and_the_track_record(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    body = world.client(Role.AREA_STAFF).get(application.get_absolute_url()).content.decode()
    assert ('data-testid="reviews"' in body, 'data-testid="track-record"' in body) == (True, True)


def test_the_sidebar_lists_the_funding_pages_per_role(world: World) -> None:
    funder = world.client(Role.AREA_STAFF).get("/res/pools/").content.decode()
    applicant = world.client(Role.SOCIAL_ORG_MANAGER).get("/res/calls/").content.decode()
    assert ("/res/reviews/" in funder, "/res/pools/" in applicant) == (True, False)


def _call_edit_post(call: ProjectCall, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "社区养老服务（修订）",
        "service_field": "elderly",
        "budget_ceiling": "150000",
        "total_budget": "450000",
        "max_months": 12,
        "deadline": "2099-01-01T17:00",
        "expected_version": call.version,
        "criteria-TOTAL_FORMS": 2,
        "criteria-INITIAL_FORMS": 0,
        "criteria-0-name": "需求契合度",
        "criteria-0-weight": 50,
        "criteria-1-name": "方案可行性",
        "criteria-1-weight": 50,
    }
    data.update(overrides)
    return data


def test_a_draft_call_is_edited_with_its_criteria(world: World) -> None:
    call = call_of(world.d1, status=CallStatus.DRAFT)
    world.client(Role.AREA_STAFF).post(f"/res/calls/{call.pk}/edit/", _call_edit_post(call))
    call.refresh_from_db()
    assert (call.title, call.budget_ceiling, [c.weight for c in call.criteria.all()]) == (
        "社区养老服务（修订）",
        Decimal("150000.00"),
        [50, 50],
    )


def test_a_refused_call_edit_changes_nothing(world: World) -> None:
    call = call_of(world.d1, status=CallStatus.DRAFT, title="社区养老服务")
    response = world.client(Role.AREA_STAFF).post(
        f"/res/calls/{call.pk}/edit/", _call_edit_post(call, **{"criteria-1-weight": 40})
    )
    call.refresh_from_db()
    assert ("评审指标权重合计须为 100，当前为 90。" in response.content.decode(), call.title) == (
        True,
        "社区养老服务",
    )


def test_a_published_call_is_not_edited(world: World) -> None:
    call = call_of(world.d1)
    world.client(Role.AREA_STAFF).post(f"/res/calls/{call.pk}/edit/", _call_edit_post(call))
    call.refresh_from_db()
    assert call.title != "社区养老服务（修订）"


def test_a_reviewer_is_added_from_the_call_page(world: World) -> None:
    call = call_of(world.d1, status=CallStatus.DRAFT)
    world.client(Role.AREA_STAFF).post(
        f"/res/calls/{call.pk}/reviewers/", {"reviewer": world.users[Role.EVALUATOR].pk}
    )
    assert list(call.reviewers.values_list("reviewer", flat=True)) == [
        world.users[Role.EVALUATOR].pk
    ]


def test_a_call_is_cancelled_from_its_page_with_a_reason(world: World) -> None:
    call = call_of(world.d1)
    world.client(Role.AREA_STAFF).post(f"/res/calls/{call.pk}/do/cancel/", {"reason": "需求变化"})
    call.refresh_from_db()
    assert call.status == CallStatus.CANCELLED
