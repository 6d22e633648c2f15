"""Funding services: pools, calls and applications — every rule and its Chinese refusal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from sanlian.core.models import AuditEntry
from sanlian.core.roles import Role
from sanlian.core.services import ConcurrentEditError
from sanlian.organizations.models import OrgKind, ServiceField, Tier
from sanlian.resources.forms.funding import PoolForm
from sanlian.resources.models import (
    Application,
    ApplicationStatus,
    BudgetPool,
    CallStatus,
    ProjectCall,
)
from sanlian.resources.services import funding as services

from ..conftest import World
from ..factories import (
    CommunityFactory,
    OrganizationFactory,
    PersonFactory,
    SocialWorkerFactory,
    UserFactory,
)
from .factories import BudgetPoolFactory, application_to, call_of

pytestmark = pytest.mark.django_db

NOW = timezone.now()
LATER = NOW + dt.timedelta(days=30)


def _staff(world: World) -> Any:
    return world.users[Role.AREA_STAFF]  # of D1


def _manager(world: World) -> Any:
    return world.users[Role.SOCIAL_ORG_MANAGER]  # of O1


def _criteria(*weights: int) -> list[services.CriterionSpec]:
    return [services.CriterionSpec(name=f"指标{i}", weight=w) for i, w in enumerate(weights)]


def _new_call(world: World, pool: BudgetPool | None = None, **kwargs: Any) -> ProjectCall:
    values: dict[str, Any] = {
        "title": "社区养老服务",
        "service_field": ServiceField.ELDERLY,
        "budget_ceiling": Decimal("200000.00"),
        "total_budget": Decimal("600000.00"),
        "deadline": LATER,
        "communities": [world.c1],
        "criteria": _criteria(30, 40, 30),
    }
    values.update(kwargs)
    return services.call_create(
        pool=pool or BudgetPoolFactory(owner=world.d1), by=_staff(world), **values
    )


def _apply(world: World, call: ProjectCall, **kwargs: Any) -> Application:
    values: dict[str, Any] = {
        "title": "银龄守护计划",
        "proposal": "独居老人探访与互助小组。",
        "communities": [world.c1],
        "beneficiaries": 120,
        "amount": Decimal("150000.00"),
        "months": 12,
        "budget_lines": [
            services.BudgetLineSpec("staff", "社工薪酬", Decimal("90000.00")),
            services.BudgetLineSpec("activity", "小组活动", Decimal("60000.00")),
        ],
        "indicators": [
            services.IndicatorSpec("output", "cases", "个案服务", Decimal("20"), "个"),
        ],
    }
    values.update(kwargs)
    return services.application_create(call=call, by=_manager(world), **values)


def _messages(exc: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [str(m) for m in exc.value.messages]


# ---- money ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("-1", "金额不能为负数。"),
        ("abc", "金额须为数字（元，最多两位小数）。"),
        ("1.234", "金额最多两位小数（精确到分）。"),
        ("0", "金额须大于 0。"),
        ("NaN", "金额须为数字（元，最多两位小数）。"),
        ("1000000000000", "金额过大。"),
    ],
)
def test_bad_amounts_are_refused_in_chinese(raw: str, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        services.to_money(raw)
    assert _messages(exc) == [message]


def test_a_float_is_refused_as_inexact() -> None:
    with pytest.raises(ValidationError):
        services.to_money(0.1)


def test_an_amount_keeps_its_fen() -> None:
    assert services.to_money("1,234.5") == Decimal("1234.50")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("-1", "金额不能为负数。"),
        ("abc", "金额须为数字（元，最多两位小数）。"),
        ("1.234", "金额最多两位小数（精确到分）。"),
    ],
)
def test_the_pool_form_refuses_bad_amounts(raw: str, message: str) -> None:
    form = PoolForm({"year": 2026, "name": "资金", "amount": raw})
    assert form.errors["amount"] == [message]


# ---- pools ---------------------------------------------------------------------------------


def test_a_pool_belongs_to_the_staff_members_level(world: World) -> None:
    pool = services.pool_create(
        by=_staff(world), year=2026, name="区购买服务", amount=Decimal("500000")
    )
    assert (pool.owner, pool.amount, pool.allocated) == (world.d1, Decimal("500000.00"), 0)


def test_a_pool_is_refused_below_the_street_level(world: World) -> None:
    staff = UserFactory(organization=world.c1.organization, roles=[Role.AREA_STAFF])
    with pytest.raises(ValidationError, match="不是资金层级"):
        services.pool_create(by=staff, year=2026, name="社区资金", amount=Decimal("1000"))


def test_a_pool_is_refused_to_a_community_cadre(world: World) -> None:
    with pytest.raises(ValidationError, match="只有市、区、街道工会工作人员"):
        services.pool_create(
            by=world.users[Role.COMMUNITY_CADRE], year=2026, name="资金", amount=Decimal("1")
        )


def test_two_pools_of_one_level_and_year_need_different_names(world: World) -> None:
    BudgetPoolFactory(owner=world.d1, name="区购买服务")
    with pytest.raises(ValidationError, match="已有同名资金池"):
        services.pool_create(by=_staff(world), year=2026, name="区购买服务", amount=Decimal("1"))


def test_lowering_a_pool_below_its_allocated_money_is_refused(world: World) -> None:
    pool = BudgetPoolFactory(owner=world.d1, allocated=Decimal("300000.00"))
    with pytest.raises(ValidationError) as exc:
        services.pool_update(
            pool=pool,
            by=_staff(world),
            expected_version=pool.version,
            name=pool.name,
            amount=Decimal("299999.99"),
        )
    assert exc.value.message_dict["amount"] == [
        "资金总额不能低于已分配额 ¥300,000.00（已立项的资金）。"
    ]


def test_a_pool_may_be_lowered_to_its_allocated_money(world: World) -> None:
    pool = BudgetPoolFactory(owner=world.d1, allocated=Decimal("300000.00"))
    services.pool_update(
        pool=pool,
        by=_staff(world),
        expected_version=pool.version,
        name=pool.name,
        amount=Decimal("300000.00"),
    )
    pool.refresh_from_db()
    assert (pool.amount, pool.version) == (Decimal("300000.00"), 2)


def test_a_stale_pool_edit_is_refused(world: World) -> None:
    pool = BudgetPoolFactory(owner=world.d1)
    with pytest.raises(ConcurrentEditError):
        services.pool_update(
            pool=pool, by=_staff(world), expected_version=0, name="新名称", amount=pool.amount
        )


def test_an_earmark_that_a_live_call_does_not_fit_is_refused(world: World) -> None:
    pool = BudgetPoolFactory(owner=world.d1)
    call_of(world.d1, pool=pool, communities=[world.c1])  # c1 is a star community
    with pytest.raises(ValidationError, match="凯旋社区"):
        services.pool_update(
            pool=pool,
            by=_staff(world),
            expected_version=pool.version,
            name=pool.name,
            amount=pool.amount,
            tier=Tier.WEAK,
        )


def test_another_levels_pool_cannot_be_edited(world: World) -> None:
    pool = BudgetPoolFactory(owner=world.d2)
    with pytest.raises(ValidationError, match="无权管理"):
        services.pool_update(
            pool=pool, by=_staff(world), expected_version=1, name="x", amount=pool.amount
        )


# ---- calls ---------------------------------------------------------------------------------


def test_a_call_is_created_as_a_draft_with_its_criteria(world: World) -> None:
    call = _new_call(world)
    assert (call.status, [c.weight for c in call.criteria.all()]) == (
        CallStatus.DRAFT,
        [30, 40, 30],
    )


def test_criteria_weights_must_add_up_to_100(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        _new_call(world, criteria=_criteria(30, 40, 20))
    assert exc.value.message_dict["criteria"] == ["评审指标权重合计须为 100，当前为 90。"]


def test_a_call_must_fit_its_pools_service_field(world: World) -> None:
    pool = BudgetPoolFactory(owner=world.d1, service_field=ServiceField.YOUTH)
    with pytest.raises(ValidationError) as exc:
        _new_call(world, pool=pool)
    assert exc.value.message_dict["service_field"] == [
        f"资金池“{pool.name}”限定用于青少年服务，项目指南的服务领域须一致。"
    ]


def test_a_call_must_fit_its_pools_tier(world: World) -> None:
    pool = BudgetPoolFactory(owner=world.d1, tier=Tier.WEAK)
    with pytest.raises(ValidationError) as exc:
        _new_call(world, pool=pool)
    assert exc.value.message_dict["communities"] == [
        f"资金池“{pool.name}”限定用于薄弱社区，“凯旋社区”是明星社区。"
    ]


def test_a_tier_earmarked_call_names_its_communities(world: World) -> None:
    weak = CommunityFactory(street_org=world.s1, tier=Tier.WEAK)
    pool = BudgetPoolFactory(owner=world.d1, tier=Tier.WEAK)
    call = _new_call(world, pool=pool, communities=[weak])
    assert list(call.communities.all()) == [weak]


def test_a_call_cannot_target_a_community_outside_the_funders_area(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        _new_call(world, communities=[world.c2])
    assert exc.value.message_dict["communities"] == ["社区“丽都社区”不在一区总工会的范围内。"]


def test_a_ceiling_above_the_total_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        _new_call(world, budget_ceiling=Decimal("700000"))
    assert exc.value.message_dict["budget_ceiling"] == ["单个项目资助上限不能超过本指南计划资金。"]


def test_a_term_over_three_years_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        _new_call(world, max_months=37)
    assert exc.value.message_dict["max_months"] == ["项目周期上限为 1 至 36 个月。"]


def test_a_call_gets_a_code(world: World) -> None:
    call = _new_call(world)
    assert call.code.startswith(f"ZN{call.pool.year}-")


def test_opening_needs_criteria_adding_up_to_100(world: World) -> None:
    call = _new_call(world, criteria=[])
    with pytest.raises(ValidationError) as exc:
        services.call_open(call=call, by=_staff(world))
    assert _messages(exc) == ["发布前须设置评审指标，且权重合计为 100（当前为 0）。"]


def test_opening_needs_a_future_deadline(world: World) -> None:
    call = _new_call(world)
    with pytest.raises(ValidationError, match="已过，请先修改截止时间"):
        services.call_open(call=call, by=_staff(world), now=LATER + dt.timedelta(minutes=1))


def test_opening_needs_the_total_within_the_pools_remaining_money(world: World) -> None:
    pool = BudgetPoolFactory(
        owner=world.d1, amount=Decimal("1000000.00"), allocated=Decimal("500000.00")
    )
    call = _new_call(world, pool=pool)
    with pytest.raises(ValidationError) as exc:
        services.call_open(call=call, by=_staff(world))
    assert _messages(exc) == [
        f"本指南计划资金 ¥600,000.00 超过资金池“{pool.name}”剩余可分配额 ¥500,000.00。"
    ]


def test_opening_publishes_the_call_and_audits_it(world: World) -> None:
    call = _new_call(world)
    services.call_open(call=call, by=_staff(world), now=NOW)
    call.refresh_from_db()
    entry = AuditEntry.objects.filter(object_type="resources.ProjectCall").order_by("id").last()
    assert (call.status, call.opens_at, entry.changes["status"]) == (  # type: ignore[union-attr]
        CallStatus.OPEN,
        NOW,
        ["draft", "open"],
    )


def test_opening_an_open_call_again_is_refused_by_the_lifecycle(world: World) -> None:
    call = call_of(world.d1)
    with pytest.raises(ValidationError) as exc:
        services.call_open(call=call, by=_staff(world))
    assert _messages(exc) == ["当前状态为“征集中”，不能执行“发布”（仅限草稿状态）。"]


def test_criteria_of_a_published_call_cannot_change(world: World) -> None:
    call = call_of(world.d1)
    with pytest.raises(ValidationError, match="只有草稿可以修改评审指标"):
        services.call_set_criteria(call=call, by=_staff(world), criteria=_criteria(50, 50))


def test_a_draft_calls_criteria_are_replaced(world: World) -> None:
    call = _new_call(world)
    services.call_set_criteria(call=call, by=_staff(world), criteria=_criteria(50, 50))
    assert [c.weight for c in call.criteria.all()] == [50, 50]


def test_staff_may_close_a_call_for_review(world: World) -> None:
    call = call_of(world.d1)
    services.call_close(call=call, by=_staff(world))
    call.refresh_from_db()
    assert call.status == CallStatus.REVIEWING


def test_the_system_does_not_close_a_call_before_its_deadline(world: World) -> None:
    call = call_of(world.d1)
    with pytest.raises(ValidationError, match="申报尚未截止"):
        services.call_close(call=call, by=None)


def test_calls_past_their_deadline_close_by_themselves(world: World) -> None:
    due = call_of(world.d1, deadline=NOW - dt.timedelta(minutes=1))
    ahead = call_of(world.d1)
    services.calls_close_due(now=NOW)
    due.refresh_from_db()
    ahead.refresh_from_db()
    assert (due.status, ahead.status) == (CallStatus.REVIEWING, CallStatus.OPEN)


def test_deciding_waits_for_every_submitted_application(world: World) -> None:
    call = call_of(world.d1, status=CallStatus.REVIEWING)
    application_to(call, world.o1)
    with pytest.raises(ValidationError) as exc:
        services.call_decide(call=call, by=_staff(world))
    assert _messages(exc) == ["还有 1 份申报尚未作出立项决定（立项或不予立项）。"]


def test_a_call_is_decided_once_every_application_is(world: World) -> None:
    call = call_of(world.d1, status=CallStatus.REVIEWING)
    application_to(call, world.o1, status=ApplicationStatus.REJECTED)
    services.call_decide(call=call, by=_staff(world), now=NOW)
    call.refresh_from_db()
    assert (call.status, call.decided_at) == (CallStatus.DECIDED, NOW)


def test_cancelling_a_call_closes_its_submitted_applications(world: World) -> None:
    call = call_of(world.d1)
    application = application_to(call, world.o1)
    services.call_cancel(call=call, by=_staff(world), reason="需求已由其他项目覆盖")
    application.refresh_from_db()
    assert (application.status, application.decision_reason) == (
        ApplicationStatus.REJECTED,
        "项目指南已撤销：需求已由其他项目覆盖",
    )


def test_a_call_in_review_cannot_be_cancelled(world: World) -> None:
    call = call_of(world.d1, status=CallStatus.REVIEWING)
    with pytest.raises(ValidationError, match="不能执行“撤销指南”"):
        services.call_cancel(call=call, by=_staff(world), reason="x")


def test_another_districts_staff_cannot_open_a_call(world: World) -> None:
    staff = UserFactory(organization=world.d2, roles=[Role.AREA_STAFF])
    call = _new_call(world)
    with pytest.raises(ValidationError, match="您无权管理"):
        services.call_open(call=call, by=staff)


def test_city_staff_manage_a_districts_call(world: World) -> None:
    call = _new_call(world)
    services.call_open(call=call, by=world.users[Role.FEDERATION_STAFF])
    call.refresh_from_db()
    assert call.status == CallStatus.OPEN


def test_an_evaluator_may_review(world: World) -> None:
    call = _new_call(world)
    services.call_add_reviewer(call=call, by=_staff(world), reviewer=world.users[Role.EVALUATOR])
    assert list(call.reviewers.values_list("reviewer", flat=True)) == [
        world.users[Role.EVALUATOR].pk
    ]


def test_a_community_cadre_may_not_review(world: World) -> None:
    call = _new_call(world)
    with pytest.raises(ValidationError, match="不能担任评审专家"):
        services.call_add_reviewer(
            call=call, by=_staff(world), reviewer=world.users[Role.COMMUNITY_CADRE]
        )


def test_a_reviewer_is_added_once(world: World) -> None:
    call = _new_call(world)
    services.call_add_reviewer(call=call, by=_staff(world), reviewer=world.users[Role.EVALUATOR])
    with pytest.raises(ValidationError, match="已在本指南的评审名单中"):
        services.call_add_reviewer(
            call=call, by=_staff(world), reviewer=world.users[Role.EVALUATOR]
        )


def test_the_needs_section_is_empty_until_the_needs_app_registers(world: World) -> None:
    assert services.call_needs(call_of(world.d1), _staff(world)) == []


def test_a_registered_needs_provider_lists_the_needs_a_call_answers(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "_needs_providers", [])
    call = call_of(world.d1)

    def needs(c: ProjectCall, user: Any) -> list[services.CallNeed]:
        return [services.CallNeed(label=f"{c.title}：独居老人探访")]

    services.register_call_needs(needs)
    assert services.call_needs(call, _staff(world)) == [
        services.CallNeed(label=f"{call.title}：独居老人探访")
    ]


# ---- applications --------------------------------------------------------------------------


def test_an_application_is_drafted_with_its_budget_and_indicators(world: World) -> None:
    application = _apply(world, call_of(world.d1, communities=[world.c1]))
    assert (
        application.status,
        application.organization,
        [line.amount for line in application.budget_lines.all()],
        application.indicators[0]["target"],
    ) == (ApplicationStatus.DRAFT, world.o1, [Decimal("90000.00"), Decimal("60000.00")], "20")


def test_only_a_social_organisation_may_apply(world: World) -> None:
    enterprise = OrganizationFactory(
        kind=OrgKind.ENTERPRISE, parent=world.c1.organization, credit_code=None
    )
    manager = UserFactory(organization=enterprise, roles=[Role.SOCIAL_ORG_MANAGER])
    with pytest.raises(ValidationError) as exc:
        services.applicant_org(manager)
    assert _messages(exc) == [f"“{enterprise.name}”不是社会组织，不能申报。"]


def test_a_social_organisation_without_a_credit_code_may_not_apply(world: World) -> None:
    world.o1.credit_code = None
    world.o1.save()
    with pytest.raises(ValidationError) as exc:
        services.applicant_org(_manager(world))
    assert _messages(exc) == ["“阳光社工中心”未登记统一社会信用代码，不能申报。"]


def test_a_social_organisation_with_an_invalid_credit_code_may_not_apply(world: World) -> None:
    world.o1.credit_code = "91210102MA0XXXXXX1"
    world.o1.save()
    with pytest.raises(ValidationError, match="统一社会信用代码无效"):
        services.applicant_org(_manager(world))


def test_a_retired_social_organisation_may_not_apply(world: World) -> None:
    world.o1.is_active = False
    world.o1.retired_on = dt.date(2026, 1, 1)
    world.o1.save()
    with pytest.raises(ValidationError, match="已撤销，不能申报"):
        services.applicant_org(_manager(world))


def test_an_amount_over_the_ceiling_is_refused(world: World) -> None:
    call = call_of(world.d1, communities=[world.c1])
    with pytest.raises(ValidationError) as exc:
        _apply(
            world,
            call,
            amount=Decimal("250000.00"),
            budget_lines=[services.BudgetLineSpec("staff", "薪酬", Decimal("250000.00"))],
        )
    assert exc.value.message_dict["amount"] == [
        "申请金额 ¥250,000.00 超过本指南单个项目资助上限 ¥200,000.00。"
    ]


def test_budget_lines_must_add_up_to_the_amount(world: World) -> None:
    call = call_of(world.d1, communities=[world.c1])
    with pytest.raises(ValidationError) as exc:
        _apply(
            world,
            call,
            budget_lines=[services.BudgetLineSpec("staff", "薪酬", Decimal("149999.99"))],
        )
    assert exc.value.message_dict["budget_lines"] == [
        "预算明细合计 ¥149,999.99 与申请金额 ¥150,000.00 不一致。"
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [("-1", "金额不能为负数。"), ("1.234", "金额最多两位小数（精确到分）。")],
)
def test_an_application_with_a_bad_amount_is_refused(world: World, raw: str, message: str) -> None:
    call = call_of(world.d1, communities=[world.c1])
    with pytest.raises(ValidationError) as exc:
        _apply(world, call, amount=Decimal(raw))
    assert _messages(exc) == [message]


def test_a_term_over_the_calls_maximum_is_refused(world: World) -> None:
    call = call_of(world.d1, communities=[world.c1], max_months=12)
    with pytest.raises(ValidationError) as exc:
        _apply(world, call, months=13)
    assert exc.value.message_dict["months"] == ["项目周期须为 1 至 12 个月（本指南上限）。"]


def test_a_community_outside_the_calls_targets_is_refused(world: World) -> None:
    other = CommunityFactory(name="东山社区", street_org=world.s1)
    call = call_of(world.d1, communities=[world.c1])
    with pytest.raises(ValidationError) as exc:
        _apply(world, call, communities=[other])
    assert exc.value.message_dict["communities"] == ["社区“东山社区”不在本指南的服务社区之中。"]


def test_a_call_without_targets_takes_any_community_of_its_area(world: World) -> None:
    other = CommunityFactory(name="东山社区", street_org=world.s1)
    application = _apply(world, call_of(world.d1), communities=[other])
    assert list(application.communities.all()) == [other]


def test_the_team_is_the_organisations_own_social_workers(world: World) -> None:
    stranger = SocialWorkerFactory(person=PersonFactory(community=world.c2), organization=world.o2)
    call = call_of(world.d1, communities=[world.c1])
    with pytest.raises(ValidationError) as exc:
        _apply(world, call, team=[stranger])
    assert exc.value.message_dict["team"] == [f"{stranger} 不是阳光社工中心的在岗社工。"]


def test_a_social_organisation_cannot_answer_another_districts_call(world: World) -> None:
    with pytest.raises(ValidationError, match="不面向您的机构"):
        _apply(world, call_of(world.d2), communities=[world.c2])


def test_an_application_after_the_deadline_is_refused_saying_the_deadline(world: World) -> None:
    call = call_of(world.d1, communities=[world.c1])
    application = _apply(world, call)
    with pytest.raises(ValidationError) as exc:
        services.application_submit(application=application, by=_manager(world), now=call.deadline)
    deadline = timezone.localtime(call.deadline).strftime("%Y-%m-%d %H:%M")
    assert _messages(exc) == [f"项目指南“{call.title}”的申报已于 {deadline} 截止，不能再提交。"]


def test_an_application_to_a_call_in_review_is_refused(world: World) -> None:
    call = call_of(world.d1, communities=[world.c1])
    application = _apply(world, call)
    ProjectCall.objects.filter(pk=call.pk).update(status=CallStatus.REVIEWING)
    with pytest.raises(ValidationError, match="不在申报期"):
        services.application_submit(application=application, by=_manager(world))


def test_a_submission_records_who_and_when(world: World) -> None:
    application = _apply(world, call_of(world.d1, communities=[world.c1]))
    services.application_submit(application=application, by=_manager(world), now=NOW)
    application.refresh_from_db()
    assert (application.status, application.submitted_at, application.submitted_by) == (
        ApplicationStatus.SUBMITTED,
        NOW,
        _manager(world),
    )


def test_a_submission_checks_the_stored_budget_again(world: World) -> None:
    call = call_of(world.d1, communities=[world.c1])
    application = application_to(call, world.o1, status=ApplicationStatus.DRAFT)
    application.budget_lines.update(amount=Decimal("1.00"))
    with pytest.raises(ValidationError, match=r"预算明细合计 ¥1\.00"):
        services.application_submit(application=application, by=_manager(world))


def test_another_organisations_application_cannot_be_submitted(world: World) -> None:
    call = call_of(world.d1, communities=[world.c1])
    application = application_to(call, world.o2, status=ApplicationStatus.DRAFT)
    with pytest.raises(ValidationError, match="只能处理本机构的申报"):
        services.application_submit(application=application, by=_manager(world))


def test_a_submitted_application_cannot_be_edited(world: World) -> None:
    call = call_of(world.d1, communities=[world.c1])
    application = application_to(call, world.o1)
    with pytest.raises(ValidationError, match="只有草稿可以修改"):
        services.application_update(
            application=application,
            by=_manager(world),
            expected_version=application.version,
            title="改名",
            proposal="x",
            communities=[world.c1],
            beneficiaries=1,
            amount=application.amount,
            months=12,
            budget_lines=[services.BudgetLineSpec("staff", "x", application.amount)],
        )


def test_a_draft_is_edited_with_its_rows(world: World) -> None:
    application = _apply(world, call_of(world.d1, communities=[world.c1]))
    services.application_update(
        application=application,
        by=_manager(world),
        expected_version=application.version,
        title="银龄守护计划（修订）",
        proposal="x",
        communities=[world.c1],
        beneficiaries=80,
        amount=Decimal("100000.00"),
        months=10,
        budget_lines=[services.BudgetLineSpec("staff", "薪酬", Decimal("100000.00"))],
    )
    application.refresh_from_db()
    assert (application.title, application.budget_lines.count(), application.indicators) == (
        "银龄守护计划（修订）",
        1,
        [],
    )


def test_a_submitted_application_is_withdrawn_while_the_call_is_open(world: World) -> None:
    application = application_to(call_of(world.d1, communities=[world.c1]), world.o1)
    services.application_withdraw(application=application, by=_manager(world))
    application.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN


def test_withdrawing_after_the_call_closed_is_refused(world: World) -> None:
    call = call_of(world.d1, communities=[world.c1], status=CallStatus.REVIEWING)
    application = application_to(call, world.o1)
    with pytest.raises(ValidationError, match="不能再撤回"):
        services.application_withdraw(application=application, by=_manager(world))


def test_one_title_per_organisation_and_call(world: World) -> None:
    call = call_of(world.d1, communities=[world.c1])
    _apply(world, call)
    with pytest.raises(ValidationError, match="已就该指南申报过同名项目"):
        _apply(world, call)


def test_a_withdrawn_title_may_be_used_again(world: World) -> None:
    call = call_of(world.d1, communities=[world.c1])
    application_to(call, world.o1, title="银龄守护计划", status=ApplicationStatus.WITHDRAWN)
    assert _apply(world, call).title == "银龄守护计划"
