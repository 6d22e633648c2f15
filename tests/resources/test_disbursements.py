"""Disbursements: requests (idempotent by request key), approvals (four-eyes, never by the
requester, never twice), rejection, cancellation, payment into the ledger; and the database
constraints behind them, translated into Chinese."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from sanlian.core.models import AuditEntry, User
from sanlian.core.roles import Role
from sanlian.resources.models import (
    BudgetPool,
    Disbursement,
    DisbursementStatus,
    Milestone,
    MilestoneStatus,
    ResourceEntry,
    ResourceKind,
    ServiceProject,
    Tranche,
)
from sanlian.resources.services import projects as services

from ..conftest import World
from ..factories import CommunityFactory, UserFactory
from .factories import DisbursementApprovalFactory, DisbursementFactory, project_in

pytestmark = pytest.mark.django_db

R = Role


def _project(world: World, **kwargs: Any) -> ServiceProject:
    project = project_in(world.d1, world.c1, world.o1, **kwargs)
    Milestone.objects.filter(project=project).update(status=MilestoneStatus.ACCEPTED)
    return project


def _tranche(project: ServiceProject, seq: int = 1) -> Tranche:
    return project.tranches.get(seq=seq)


def _request(
    world: World, tranche: Tranche, *, by: str = R.SOCIAL_ORG_MANAGER, key: uuid.UUID | None = None
) -> Disbursement:
    disbursement, _created = services.disbursement_request(
        tranche=tranche, by=world.users[by], request_key=key or uuid.uuid4()
    )
    return disbursement


def _approved(world: World, project: ServiceProject, seq: int = 1) -> Disbursement:
    d = _request(world, _tranche(project, seq))
    return services.disbursement_approve(disbursement=d, by=world.users[R.AREA_STAFF])


def _funder(world: World) -> User:
    return UserFactory(organization=world.d1, roles=[R.AREA_STAFF])


def _refusal(call: Any, **kwargs: Any) -> list[str]:
    with pytest.raises(ValidationError) as exc:
        call(**kwargs)
    return exc.value.messages


# ---- requests --------------------------------------------------------------------------------


def test_a_request_before_the_milestone_is_accepted_is_refused(world: World) -> None:
    project = project_in(world.d1, world.c1, world.o1)
    assert _refusal(
        services.disbursement_request,
        tranche=_tranche(project),
        by=world.users[R.SOCIAL_ORG_MANAGER],
        request_key=uuid.uuid4(),
    ) == ["节点“第1阶段”尚未验收，不能申请第1期拨付。"]


def test_a_request_for_an_accepted_milestone_waits_for_approval(world: World) -> None:
    d = _request(world, _tranche(_project(world)))
    assert (d.status, d.amount, d.approvals_required) == (
        DisbursementStatus.REQUESTED,
        Decimal("30000.00"),
        1,
    )


def test_a_retried_request_returns_the_first(world: World) -> None:
    tranche = _tranche(_project(world))
    key = uuid.uuid4()
    first, created_first = services.disbursement_request(
        tranche=tranche, by=world.users[R.SOCIAL_ORG_MANAGER], request_key=key
    )
    again, created_again = services.disbursement_request(
        tranche=tranche, by=world.users[R.SOCIAL_ORG_MANAGER], request_key=key
    )
    assert (again.pk, created_first, created_again, Disbursement.objects.count()) == (
        first.pk,
        True,
        False,
        1,
    )


def test_a_key_used_for_another_tranche_is_refused(world: World) -> None:
    project = _project(world)
    key = uuid.uuid4()
    _request(world, _tranche(project, 1), key=key)
    assert _refusal(
        services.disbursement_request,
        tranche=_tranche(project, 2),
        by=world.users[R.SOCIAL_ORG_MANAGER],
        request_key=key,
    ) == ["该请求标识已用于其他期次的拨付申请。"]


def test_a_second_request_for_a_tranche_is_refused(world: World) -> None:
    tranche = _tranche(_project(world))
    _request(world, tranche)
    assert _refusal(
        services.disbursement_request,
        tranche=tranche,
        by=world.users[R.AREA_STAFF],
        request_key=uuid.uuid4(),
    ) == ["该期次已有拨付申请或已拨付，不能重复拨付。"]


def test_a_rejected_request_may_be_made_again(world: World) -> None:
    tranche = _tranche(_project(world))
    first = _request(world, tranche)
    services.disbursement_reject(
        disbursement=first, by=world.users[R.AREA_STAFF], reason="材料不全"
    )
    assert _request(world, tranche).pk != first.pk


def test_a_social_worker_cannot_request_money(world: World) -> None:
    assert _refusal(
        services.disbursement_request,
        tranche=_tranche(_project(world)),
        by=world.users[R.SOCIAL_WORKER],
        request_key=uuid.uuid4(),
    ) == ["只有承接机构负责人或项目资金层级的工作人员可以申请拨付。"]


def test_the_database_keeps_one_live_disbursement_per_tranche(world: World) -> None:
    tranche = _tranche(_project(world))
    DisbursementFactory(tranche=tranche)
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        DisbursementFactory(tranche=tranche)
    assert services.integrity_message(exc.value) == "该期次已有拨付申请或已拨付，不能重复拨付。"


# ---- approvals -------------------------------------------------------------------------------


def test_one_approval_approves_below_the_threshold(world: World) -> None:
    d = _approved(world, _project(world))
    assert (d.status, d.approvals.count()) == (DisbursementStatus.APPROVED, 1)


def test_above_the_threshold_two_approvals_are_needed(world: World, settings: Any) -> None:
    settings.DISBURSEMENT_FOUR_EYES_ABOVE = "29999.99"
    d = _approved(world, _project(world))
    assert (d.approvals_required, d.status) == (2, DisbursementStatus.REQUESTED)


def test_a_second_approver_completes_four_eyes(world: World, settings: Any) -> None:
    settings.DISBURSEMENT_FOUR_EYES_ABOVE = "29999.99"
    d = _approved(world, _project(world))
    d = services.disbursement_approve(disbursement=d, by=world.users[R.FEDERATION_STAFF])
    assert (d.status, d.approvals.count()) == (DisbursementStatus.APPROVED, 2)


def test_the_threshold_itself_needs_one_approval(world: World, settings: Any) -> None:
    settings.DISBURSEMENT_FOUR_EYES_ABOVE = "30000"
    assert _request(world, _tranche(_project(world))).approvals_required == 1


def test_a_second_approval_by_the_same_person_is_refused(world: World, settings: Any) -> None:
    settings.DISBURSEMENT_FOUR_EYES_ABOVE = "29999.99"
    d = _approved(world, _project(world))
    assert _refusal(
        services.disbursement_approve, disbursement=d, by=world.users[R.AREA_STAFF]
    ) == ["您已审批过该拨付申请，不能重复审批。"]


def test_approving_an_approved_request_again_is_refused(world: World) -> None:
    d = _approved(world, _project(world))
    assert _refusal(
        services.disbursement_approve, disbursement=d, by=world.users[R.AREA_STAFF]
    ) == ["您已审批过该拨付申请，不能重复审批。"]


def test_the_requester_cannot_approve(world: World) -> None:
    d = _request(world, _tranche(_project(world)), by=R.AREA_STAFF)
    assert _refusal(
        services.disbursement_approve, disbursement=d, by=world.users[R.AREA_STAFF]
    ) == ["申请人不能审批自己的拨付申请。"]


def test_four_eyes_needs_two_approvers_besides_the_requester(world: World, settings: Any) -> None:
    settings.DISBURSEMENT_FOUR_EYES_ABOVE = "29999.99"
    d = _request(world, _tranche(_project(world)), by=R.AREA_STAFF)
    d = services.disbursement_approve(disbursement=d, by=world.users[R.FEDERATION_STAFF])
    assert _refusal(
        services.disbursement_approve, disbursement=d, by=world.users[R.AREA_STAFF]
    ) == ["申请人不能审批自己的拨付申请。"]


def test_staff_of_another_level_cannot_approve(world: World) -> None:
    d = _request(world, _tranche(_project(world)))
    stranger = UserFactory(organization=world.d2, roles=[R.AREA_STAFF])
    assert _refusal(services.disbursement_approve, disbursement=d, by=stranger) == [
        "只有项目资金层级（一区总工会）及上级工会的工作人员可以审批通过。"
    ]


def test_a_social_organisation_cannot_approve(world: World) -> None:
    d = _request(world, _tranche(_project(world)), by=R.AREA_STAFF)
    assert _refusal(
        services.disbursement_approve, disbursement=d, by=world.users[R.SOCIAL_ORG_MANAGER]
    ) == ["您的角色无权执行“审批通过”。"]


def test_the_database_refuses_a_self_approval(world: World) -> None:
    d = DisbursementFactory(tranche=_tranche(_project(world)))
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        DisbursementApprovalFactory(disbursement=d, approver=d.requested_by)
    assert services.integrity_message(exc.value) == "申请人不能审批自己的拨付申请。"


def test_the_database_refuses_a_duplicate_approval(world: World) -> None:
    d = DisbursementFactory(tranche=_tranche(_project(world)))
    DisbursementApprovalFactory(disbursement=d, approver=world.users[R.AREA_STAFF])
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        DisbursementApprovalFactory(disbursement=d, approver=world.users[R.AREA_STAFF])
    assert services.integrity_message(exc.value) == "您已审批过该拨付申请，不能重复审批。"


# ---- rejection and cancellation --------------------------------------------------------------


def test_a_rejection_needs_a_reason(world: World) -> None:
    d = _request(world, _tranche(_project(world)))
    assert _refusal(
        services.disbursement_reject, disbursement=d, by=world.users[R.AREA_STAFF], reason=""
    ) == ["请填写驳回原因。"]


def test_a_rejection_keeps_its_reason(world: World) -> None:
    d = _request(world, _tranche(_project(world)))
    d = services.disbursement_reject(
        disbursement=d, by=world.users[R.AREA_STAFF], reason="佐证材料不全"
    )
    assert (d.status, d.closed_reason) == (DisbursementStatus.REJECTED, "佐证材料不全")


def test_the_requester_cancels_a_request(world: World) -> None:
    d = _request(world, _tranche(_project(world)))
    d = services.disbursement_cancel(disbursement=d, by=world.users[R.SOCIAL_ORG_MANAGER])
    assert d.status == DisbursementStatus.CANCELLED


def test_only_the_requester_cancels(world: World) -> None:
    d = _request(world, _tranche(_project(world)))
    assert _refusal(services.disbursement_cancel, disbursement=d, by=world.users[R.AREA_STAFF]) == [
        "只有申请人可以撤销拨付申请。"
    ]


def test_an_approved_request_is_no_longer_cancelled(world: World) -> None:
    d = _approved(world, _project(world))
    assert _refusal(
        services.disbursement_cancel, disbursement=d, by=world.users[R.SOCIAL_ORG_MANAGER]
    ) == ["当前状态为“已批准”，不能执行“撤销申请”（仅限待审批状态）。"]


# ---- payment ---------------------------------------------------------------------------------


def test_a_request_is_not_paid_before_approval(world: World) -> None:
    d = _request(world, _tranche(_project(world)))
    assert _refusal(services.disbursement_pay, disbursement=d, by=world.users[R.AREA_STAFF]) == [
        "当前状态为“待审批”，不能执行“确认拨付”（仅限已批准状态）。"
    ]


def test_paying_moves_the_project_and_the_pool(world: World) -> None:
    project = _project(world)
    d = _approved(world, project)
    services.disbursement_pay(disbursement=d, by=world.users[R.AREA_STAFF])
    project.refresh_from_db()
    pool = BudgetPool.objects.get(pk=project.pool_id)
    assert (project.disbursed, pool.disbursed) == (Decimal("30000.00"), Decimal("30000.00"))


def test_a_payment_records_who_and_when(world: World) -> None:
    d = _approved(world, _project(world))
    d = services.disbursement_pay(
        disbursement=d, by=world.users[R.FEDERATION_STAFF], payment_reference="ZF-001"
    )
    assert (d.status, d.paid_by, d.payment_reference, d.paid_at is not None) == (
        DisbursementStatus.PAID,
        world.users[R.FEDERATION_STAFF],
        "ZF-001",
        True,
    )


def test_a_tranche_is_paid_once(world: World) -> None:
    d = _approved(world, _project(world))
    services.disbursement_pay(disbursement=d, by=world.users[R.AREA_STAFF])
    assert _refusal(services.disbursement_pay, disbursement=d, by=world.users[R.AREA_STAFF]) == [
        "当前状态为“已拨付”，不能执行“确认拨付”（仅限已批准状态）。"
    ]


def test_a_paid_tranche_takes_no_new_request(world: World) -> None:
    project = _project(world)
    d = _approved(world, project)
    services.disbursement_pay(disbursement=d, by=world.users[R.AREA_STAFF])
    assert _refusal(
        services.disbursement_request,
        tranche=_tranche(project),
        by=world.users[R.SOCIAL_ORG_MANAGER],
        request_key=uuid.uuid4(),
    ) == ["该期次已有拨付申请或已拨付，不能重复拨付。"]


def test_a_payment_beyond_the_contract_is_refused(world: World) -> None:
    project = _project(world)
    d = _approved(world, project)
    ServiceProject.objects.filter(pk=project.pk).update(disbursed=Decimal("80000.00"))
    assert _refusal(services.disbursement_pay, disbursement=d, by=world.users[R.AREA_STAFF]) == [
        "拨付后累计金额（¥110,000.00）将超过合同金额（¥100,000.00）。"
    ]


def test_a_payment_beyond_the_pool_is_refused(world: World) -> None:
    project = _project(world)
    d = _approved(world, project)
    BudgetPool.objects.filter(pk=project.pool_id).update(disbursed=Decimal("80000.00"))
    assert _refusal(services.disbursement_pay, disbursement=d, by=world.users[R.AREA_STAFF])[
        0
    ].endswith("拨付总额将超过签约总额。")


def test_a_payment_enters_the_ledger_once_per_community(world: World) -> None:
    project = _project(world, amount=Decimal("100000.01"))
    project.communities.add(
        CommunityFactory(street_org=world.s1), CommunityFactory(street_org=world.s1)
    )
    d = _approved(world, project, seq=3)
    services.disbursement_pay(disbursement=d, by=world.users[R.AREA_STAFF])
    entries = ResourceEntry.objects.filter(disbursement=d).order_by("community_id")
    # 30,000.01 in three: the remainder (1 分) goes to the last community.
    assert [(e.kind, e.value) for e in entries] == [
        (ResourceKind.FUNDS, Decimal("10000.00")),
        (ResourceKind.FUNDS, Decimal("10000.00")),
        (ResourceKind.FUNDS, Decimal("10000.01")),
    ]


def test_a_ledger_entry_names_the_project_and_the_source(world: World) -> None:
    project = _project(world)
    d = _approved(world, project)
    services.disbursement_pay(disbursement=d, by=world.users[R.AREA_STAFF])
    entry = ResourceEntry.objects.get(disbursement=d)
    assert (entry.community, entry.project, entry.source_org, entry.description) == (
        world.c1,
        project,
        world.d1,
        f"{project.title} 第1期拨付",
    )


def test_a_terminated_projects_request_is_not_paid(world: World) -> None:
    project = _project(world)
    d = _approved(world, project)
    services.project_terminate(project=project, by=world.users[R.AREA_STAFF], reason="违约")
    assert _refusal(services.disbursement_pay, disbursement=d, by=world.users[R.AREA_STAFF]) == [
        "当前状态为“已撤销”，不能执行“确认拨付”（仅限已批准状态）。"
    ]


# ---- the audit trail -------------------------------------------------------------------------


def test_every_change_of_state_is_audited(world: World) -> None:
    d = _approved(world, _project(world))
    services.disbursement_pay(disbursement=d, by=world.users[R.AREA_STAFF])
    transitions = [
        e.changes.get("transition")
        for e in AuditEntry.objects.filter(
            object_type="resources.Disbursement", object_id=str(d.pk)
        ).order_by("id")
    ]
    assert transitions == [None, "approve", "pay"]  # created, approved, paid


def test_a_payment_audits_the_totals_it_moves(world: World) -> None:
    project = _project(world)
    d = _approved(world, project)
    services.disbursement_pay(disbursement=d, by=world.users[R.AREA_STAFF])
    entry = AuditEntry.objects.filter(
        object_type="resources.BudgetPool", object_id=str(project.pool_id)
    ).latest("id")
    assert entry.changes["disbursed"] == ["0.00", "30000.00"]


def test_an_approval_is_audited(world: World, settings: Any) -> None:
    settings.DISBURSEMENT_FOUR_EYES_ABOVE = "29999.99"
    d = _approved(world, _project(world))
    entry = AuditEntry.objects.filter(object_type="resources.DisbursementApproval").get()
    assert entry.changes == {
        "disbursement": d.pk,
        "approver": world.users[R.AREA_STAFF].pk,
        "approvals": [1, 2],
    }


def test_a_new_funder_account_may_approve(world: World) -> None:
    d = _request(world, _tranche(_project(world)))
    assert services.disbursement_approve(disbursement=d, by=_funder(world)).status == (
        DisbursementStatus.APPROVED
    )
