"""Contracts: drawing up from an awarded application (amount, period, milestones, tranches,
indicators), signing against the pool, closure request and termination."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from sanlian.core.models import AuditEntry
from sanlian.core.roles import Role
from sanlian.resources.models import (
    ApplicationStatus,
    BudgetPool,
    Disbursement,
    DisbursementStatus,
    Milestone,
    MilestoneStatus,
    ProjectStatus,
    ServiceProject,
)
from sanlian.resources.services import projects as services
from sanlian.resources.services.projects import MilestoneSpec, TrancheMode

from ..conftest import World
from ..factories import UserFactory
from .factories import DisbursementFactory, awarded_application, project_in

pytestmark = pytest.mark.django_db

R = Role
START = dt.date(2026, 3, 1)
END = dt.date(2027, 2, 28)


def _milestones(*shares: str) -> list[MilestoneSpec]:
    return [
        MilestoneSpec(
            title=f"第{i}阶段", due_on=START + dt.timedelta(days=100 * i), share=Decimal(s)
        )
        for i, s in enumerate(shares or ("30", "40", "30"), start=1)
    ]


def _draw_up(world: World, **overrides: Any) -> ServiceProject:
    application = overrides.pop("application", None) or awarded_application(
        world.d1, world.c1, world.o1
    )
    kwargs: dict[str, Any] = {
        "application": application,
        "by": world.users[R.AREA_STAFF],
        "contract_number": "HT-2026-001",
        "amount": Decimal("100000.00"),
        "starts_on": START,
        "ends_on": END,
        "milestones": _milestones(),
        "tranche_mode": TrancheMode.PERCENT,
        "indicators": services.indicators_from_application(application),
    }
    kwargs.update(overrides)
    return services.project_draw_up(**kwargs)


def _refusal(world: World, **overrides: Any) -> list[str]:
    with pytest.raises(ValidationError) as exc:
        _draw_up(world, **overrides)
    return exc.value.messages


def _accept_all(project: ServiceProject) -> None:
    Milestone.objects.filter(project=project).update(status=MilestoneStatus.ACCEPTED)


# ---- drawing up ------------------------------------------------------------------------------


def test_a_contract_is_drawn_up_as_a_draft(world: World) -> None:
    project = _draw_up(world)
    assert (project.status, project.organization, list(project.communities.all())) == (
        ProjectStatus.DRAFT,
        world.o1,
        [world.c1],
    )


def test_percent_tranches_follow_the_milestones(world: World) -> None:
    project = _draw_up(world)
    assert [(t.seq, t.milestone.title, t.amount) for t in project.tranches.order_by("seq")] == [
        (1, "第1阶段", Decimal("30000.00")),
        (2, "第2阶段", Decimal("40000.00")),
        (3, "第3阶段", Decimal("30000.00")),
    ]


def test_fen_rounding_goes_to_the_last_tranche(world: World) -> None:
    # 30% and 40% of 99,999.99 round up to 30,000.00 and 40,000.00; the last takes the rest.
    project = _draw_up(world, amount=Decimal("99999.99"))
    assert list(project.tranches.order_by("seq").values_list("amount", flat=True)) == [
        Decimal("30000.00"),
        Decimal("40000.00"),
        Decimal("29999.99"),
    ]


def test_tranches_given_as_amounts_are_kept(world: World) -> None:
    project = _draw_up(
        world,
        tranche_mode=TrancheMode.AMOUNT,
        milestones=_milestones("25000.50", "50000", "24999.50"),
    )
    assert list(project.tranches.order_by("seq").values_list("amount", flat=True)) == [
        Decimal("25000.50"),
        Decimal("50000.00"),
        Decimal("24999.50"),
    ]


def test_amounts_that_do_not_add_up_are_refused(world: World) -> None:
    messages = _refusal(
        world, tranche_mode=TrancheMode.AMOUNT, milestones=_milestones("30000", "40000", "29999")
    )
    assert messages == ["各期拨付金额之和（¥99,999.00）须等于合同金额（¥100,000.00）。"]


def test_percentages_that_do_not_add_up_are_refused(world: World) -> None:
    assert _refusal(world, milestones=_milestones("30", "40", "20")) == [
        "各期拨付比例之和为 90%，须等于 100%。"
    ]


def test_nothing_is_written_when_the_tranches_are_refused(world: World) -> None:
    _refusal(world, milestones=_milestones("30", "40", "20"))
    assert (ServiceProject.objects.count(), Milestone.objects.count()) == (0, 0)


def test_a_negative_amount_is_refused(world: World) -> None:
    assert _refusal(world, amount=Decimal("-100.00")) == ["合同金额不能为负数。"]


def test_an_amount_with_three_decimals_is_refused(world: World) -> None:
    assert _refusal(world, amount=Decimal("100000.005")) == [
        "合同金额最多保留两位小数（精确到分）。"
    ]


def test_a_non_numeric_amount_is_refused(world: World) -> None:
    assert _refusal(world, amount="十万元") == ["合同金额须为数字。"]


def test_the_contract_may_not_exceed_the_award(world: World) -> None:
    assert _refusal(world, amount=Decimal("100000.01")) == [
        "合同金额（¥100,000.01）不能超过立项金额（¥100,000.00）。"
    ]


def test_a_period_longer_than_three_years_is_refused(world: World) -> None:
    assert _refusal(world, ends_on=dt.date(2029, 3, 1)) == [
        "合同服务期最长三年：自 2026-03-01 起，服务期止最晚为 2029-02-28。"
    ]


def test_a_period_of_exactly_three_years_is_accepted(world: World) -> None:
    assert _draw_up(world, ends_on=dt.date(2029, 2, 28)).ends_on == dt.date(2029, 2, 28)


def test_a_period_ending_before_it_starts_is_refused(world: World) -> None:
    assert _refusal(world, ends_on=START) == ["服务期止须晚于服务期起。"]


def test_a_milestone_due_outside_the_period_is_refused(world: World) -> None:
    late = [*_milestones("50", "50")[:1], MilestoneSpec("结项", dt.date(2027, 3, 1), Decimal(50))]
    assert _refusal(world, milestones=late) == [
        "节点“结项”的计划完成日期 2027-03-01 不在合同服务期（2026-03-01 至 2027-02-28）内。"
    ]


def test_an_application_not_awarded_cannot_be_contracted(world: World) -> None:
    application = awarded_application(world.d1, world.c1, world.o1)
    application.status = ApplicationStatus.SUBMITTED
    application.save()
    assert _refusal(world, application=application) == ["只有已立项的申报可以起草合同。"]


def test_an_application_is_contracted_once(world: World) -> None:
    project = _draw_up(world)
    assert _refusal(world, application=project.application, contract_number="HT-2") == [
        "该申报已起草合同。"
    ]


def test_staff_of_another_level_cannot_draw_up(world: World) -> None:
    other = UserFactory(organization=world.d2, roles=[R.AREA_STAFF])
    assert _refusal(world, by=other) == [
        "只有项目资金层级（一区总工会）及上级工会的工作人员可以起草合同。"
    ]


def test_a_contract_number_is_used_once(world: World) -> None:
    _draw_up(world)
    other = awarded_application(world.d1, world.c1, world.o1)
    assert _refusal(world, application=other) == ["合同编号 HT-2026-001 已被使用。"]


def test_the_application_indicators_are_copied(world: World) -> None:
    project = _draw_up(world)
    assert list(project.indicators.order_by("pk").values_list("metric", "name", "target")) == [
        ("cases", "个案服务", Decimal("20.00")),
        ("satisfaction", "满意度", Decimal("90.00")),
    ]


def test_a_draft_is_redrawn_as_a_whole(world: World) -> None:
    project = _draw_up(world)
    services.project_draft_update(
        project=project,
        by=world.users[R.AREA_STAFF],
        contract_number="HT-2026-009",
        amount=Decimal("80000.00"),
        starts_on=START,
        ends_on=END,
        milestones=_milestones("50", "50"),
        tranche_mode=TrancheMode.PERCENT,
        indicators=[],
    )
    project.refresh_from_db()
    assert (
        project.amount,
        list(project.tranches.values_list("amount", flat=True)),
        project.indicators.count(),
    ) == (Decimal("80000.00"), [Decimal("40000.00"), Decimal("40000.00")], 0)


# ---- signing ---------------------------------------------------------------------------------


def test_signing_moves_the_contract_into_the_pool(world: World) -> None:
    project = _draw_up(world, amount=Decimal("90000.00"))
    services.project_sign(project=project, by=world.users[R.AREA_STAFF])
    pool = BudgetPool.objects.get(pk=project.pool_id)
    # The award reserved 100,000; the contract is 90,000: 10,000 goes back.
    assert (pool.allocated, pool.contracted) == (Decimal("90000.00"), Decimal("90000.00"))


def test_signing_activates_the_project(world: World) -> None:
    project = _draw_up(world)
    signed = services.project_sign(
        project=project, by=world.users[R.AREA_STAFF], signed_on=dt.date(2026, 2, 20)
    )
    assert (signed.status, signed.signed_on) == (ProjectStatus.ACTIVE, dt.date(2026, 2, 20))


def test_signing_is_audited_as_a_transition(world: World) -> None:
    project = _draw_up(world)
    services.project_sign(project=project, by=world.users[R.AREA_STAFF])
    entry = AuditEntry.objects.filter(
        object_type="resources.ServiceProject", object_id=str(project.pk)
    ).latest("id")
    assert (entry.changes["transition"], entry.changes["status"]) == (
        "sign",
        ["draft", "active"],
    )


def test_a_social_organisation_cannot_sign(world: World) -> None:
    project = _draw_up(world)
    with pytest.raises(ValidationError) as exc:
        services.project_sign(project=project, by=world.users[R.SOCIAL_ORG_MANAGER])
    assert exc.value.messages == ["您的角色无权执行“签约”。"]


def test_a_contract_is_signed_once(world: World) -> None:
    project = _draw_up(world)
    services.project_sign(project=project, by=world.users[R.AREA_STAFF])
    with pytest.raises(ValidationError) as exc:
        services.project_sign(project=project, by=world.users[R.AREA_STAFF])
    assert exc.value.messages == ["当前状态为“执行中”，不能执行“签约”（仅限待签约状态）。"]


def test_signing_beyond_the_pool_is_refused(world: World) -> None:
    project = _draw_up(world)
    BudgetPool.objects.filter(pk=project.pool_id).update(contracted=Decimal("50000.00"))
    with pytest.raises(ValidationError, match="可签约余额不足"):
        services.project_sign(project=project, by=world.users[R.AREA_STAFF])


def test_the_database_refuses_a_project_overspent(world: World) -> None:
    project = project_in(world.d1, world.c1, world.o1)
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        ServiceProject.objects.filter(pk=project.pk).update(disbursed=F("amount") + 1)
    assert services.integrity_message(exc.value) == "拨付总额超过合同金额。"


def test_the_database_refuses_a_pool_contracted_beyond_its_allocation(world: World) -> None:
    project = project_in(world.d1, world.c1, world.o1)
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        BudgetPool.objects.filter(pk=project.pool_id).update(contracted=F("allocated") + 1)
    assert services.integrity_message(exc.value) == "签约总额超过已分配额。"


# ---- closure and termination -----------------------------------------------------------------


def test_closure_needs_every_milestone_accepted(world: World) -> None:
    project = project_in(world.d1, world.c1, world.o1)
    Milestone.objects.filter(project=project, seq=1).update(status=MilestoneStatus.ACCEPTED)
    with pytest.raises(ValidationError) as exc:
        services.project_request_closure(project=project, by=world.users[R.SOCIAL_ORG_MANAGER])
    assert exc.value.messages == ["尚有节点未验收（2. 第2阶段、3. 第3阶段），不能申请结项。"]


def test_the_organisation_asks_for_closure(world: World) -> None:
    project = project_in(world.d1, world.c1, world.o1)
    _accept_all(project)
    closing = services.project_request_closure(
        project=project, by=world.users[R.SOCIAL_ORG_MANAGER]
    )
    assert closing.status == ProjectStatus.CLOSING


def test_another_organisation_cannot_ask_for_closure(world: World) -> None:
    project = project_in(world.d1, world.c1, world.o1)
    _accept_all(project)
    stranger = UserFactory(organization=world.o2, roles=[R.SOCIAL_ORG_MANAGER])
    with pytest.raises(ValidationError) as exc:
        services.project_request_closure(project=project, by=stranger)
    assert exc.value.messages == ["只有承接机构负责人（阳光社工中心）可以申请结项。"]


def test_termination_needs_a_reason(world: World) -> None:
    project = project_in(world.d1, world.c1, world.o1)
    with pytest.raises(ValidationError) as exc:
        services.project_terminate(project=project, by=world.users[R.AREA_STAFF], reason=" ")
    assert exc.value.messages == ["请填写终止原因。"]


def test_terminating_releases_the_undisbursed_remainder(world: World) -> None:
    project = project_in(world.d1, world.c1, world.o1)
    ServiceProject.objects.filter(pk=project.pk).update(disbursed=Decimal("30000.00"))
    BudgetPool.objects.filter(pk=project.pool_id).update(disbursed=Decimal("30000.00"))
    services.project_terminate(
        project=project, by=world.users[R.AREA_STAFF], reason="机构无法继续履约"
    )
    pool = BudgetPool.objects.get(pk=project.pool_id)
    assert (pool.allocated, pool.contracted, pool.disbursed) == (
        Decimal("30000.00"),
        Decimal("30000.00"),
        Decimal("30000.00"),
    )


def test_terminating_a_draft_releases_the_award(world: World) -> None:
    project = _draw_up(world)
    services.project_terminate(project=project, by=world.users[R.AREA_STAFF], reason="放弃签约")
    pool = BudgetPool.objects.get(pk=project.pool_id)
    assert (pool.allocated, pool.contracted) == (Decimal("0.00"), Decimal("0.00"))


def test_terminating_cancels_open_requests(world: World) -> None:
    project = project_in(world.d1, world.c1, world.o1)
    open_one = DisbursementFactory(
        tranche=project.tranches.get(seq=1), requested_by=world.users[R.SOCIAL_ORG_MANAGER]
    )
    services.project_terminate(project=project, by=world.users[R.AREA_STAFF], reason="违约")
    open_one.refresh_from_db()
    assert (open_one.status, open_one.closed_reason) == (
        DisbursementStatus.CANCELLED,
        "项目终止：违约",
    )


def test_a_terminated_project_cannot_be_terminated_again(world: World) -> None:
    project = project_in(world.d1, world.c1, world.o1)
    services.project_terminate(project=project, by=world.users[R.AREA_STAFF], reason="违约")
    with pytest.raises(ValidationError, match="当前状态为“已终止”"):
        services.project_terminate(project=project, by=world.users[R.AREA_STAFF], reason="违约")


def test_terminating_leaves_no_live_disbursement(world: World) -> None:
    project = project_in(world.d1, world.c1, world.o1)
    DisbursementFactory(
        tranche=project.tranches.get(seq=1), requested_by=world.users[R.SOCIAL_ORG_MANAGER]
    )
    services.project_terminate(project=project, by=world.users[R.AREA_STAFF], reason="违约")
    assert not Disbursement.objects.filter(
        project=project, status=DisbursementStatus.REQUESTED
    ).exists()
