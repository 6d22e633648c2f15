"""Pages of the projects part, per role: the pipeline board, the project page with its
actions and charts, the contract form, milestone reports, the disbursement queue and the
evaluations."""

from __future__ import annotations

import io
import json
import re
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from sanlian.core.roles import Role
from sanlian.resources.models import (
    BudgetPool,
    Disbursement,
    DisbursementStatus,
    EvaluationStage,
    Milestone,
    MilestoneStatus,
    ProjectStatus,
    ServiceProject,
)
from sanlian.resources.services import projects as services

from ..conftest import World
from .factories import (
    EvaluationFactory,
    MilestoneEvidenceFactory,
    ProjectIndicatorFactory,
    awarded_application,
    project_in,
)

pytestmark = pytest.mark.django_db

R = Role
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def _project(world: World, **kwargs: Any) -> ServiceProject:
    return project_in(world.d1, world.c1, world.o1, **kwargs)


def _accepted(world: World, **kwargs: Any) -> ServiceProject:
    project = _project(world, **kwargs)
    Milestone.objects.filter(project=project).update(status=MilestoneStatus.ACCEPTED)
    return project


def _text(response: Any) -> str:
    return str(response.content.decode())


def _xlsx_rows(response: Any) -> list[tuple[Any, ...]]:
    sheet = load_workbook(io.BytesIO(response.content)).active
    return list(sheet.iter_rows(values_only=True))


# ---- the board -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role",
    [
        R.FEDERATION_STAFF,
        R.AREA_STAFF,
        R.COMMUNITY_CADRE,
        R.PARTY_SECRETARY,
        R.SOCIAL_ORG_MANAGER,
        R.SOCIAL_WORKER,
    ],
)
def test_the_board_shows_the_project_to_those_who_see_it(world: World, role: str) -> None:
    project = _project(world)
    response = world.client(role).get("/res/projects/")
    assert project.title in _text(response)


def test_the_board_hides_other_areas_projects(world: World) -> None:
    far = project_in(world.d2, world.c2, world.o2)
    assert far.title not in _text(world.client(R.AREA_STAFF).get("/res/projects/"))


def test_the_board_counts_and_sums_each_stage(world: World) -> None:
    _project(world)
    _project(world, amount=Decimal("50000.00"))
    _project(world, status=ProjectStatus.CLOSING)
    html = _text(world.client(R.AREA_STAFF).get("/res/projects/"))
    assert re.search(r'data-testid="count-active">2<', html)
    assert "¥150,000.00" in html


def test_the_board_filters_by_year(world: World) -> None:
    project = _project(world)
    response = world.client(R.AREA_STAFF).get("/res/projects/", {"year": 2025})
    assert project.title not in _text(response)


def test_the_board_lists_awards_awaiting_a_contract(world: World) -> None:
    application = awarded_application(world.d1, world.c1, world.o1)
    html = _text(world.client(R.AREA_STAFF).get("/res/projects/"))
    assert f"/res/projects/contract/{application.pk}/" in html


def test_the_board_exports_the_filtered_projects(world: World) -> None:
    project = _project(world)
    response = world.client(R.AREA_STAFF).get("/res/projects/", {"format": "xlsx"})
    rows = _xlsx_rows(response)
    assert (rows[0][:2], rows[1][:2]) == (
        ("合同编号", "项目名称"),
        (project.contract_number, project.title),
    )


def test_the_sidebar_offers_the_queue_to_funders_only(world: World) -> None:
    funder = _text(world.client(R.AREA_STAFF).get("/res/projects/"))
    manager = _text(world.client(R.SOCIAL_ORG_MANAGER).get("/res/projects/"))
    assert ("/res/disbursements/" in funder, "/res/disbursements/" in manager) == (True, False)


# ---- the project page ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", [R.FEDERATION_STAFF, R.AREA_STAFF, R.COMMUNITY_CADRE, R.SOCIAL_ORG_MANAGER]
)
def test_the_project_page_opens_for_those_who_see_it(world: World, role: str) -> None:
    project = _project(world)
    assert world.client(role).get(f"/res/projects/{project.pk}/").status_code == 200


def test_the_project_page_is_404_outside_scope(world: World) -> None:
    far = project_in(world.d2, world.c2, world.o2)
    assert world.client(R.SOCIAL_ORG_MANAGER).get(f"/res/projects/{far.pk}/").status_code == 404


def test_the_page_carries_the_budget_burn_chart(world: World) -> None:
    project = _project(world)
    html = _text(world.client(R.AREA_STAFF).get(f"/res/projects/{project.pk}/"))
    data = json.loads(re.search(r'id="burn-chart-data"[^>]*>(.*?)</script>', html).group(1))  # type: ignore[union-attr]
    assert (data["_kind"], data["series"][0]["data"][-1]) == ("line", "100000.00")


def test_the_page_carries_the_indicator_chart(world: World) -> None:
    project = _project(world)
    ProjectIndicatorFactory(project=project, name="个案服务")
    html = _text(world.client(R.AREA_STAFF).get(f"/res/projects/{project.pk}/"))
    data = json.loads(re.search(r'id="indicator-chart-data"[^>]*>(.*?)</script>', html).group(1))  # type: ignore[union-attr]
    assert (data["categories"], "vendor/echarts/echarts.min.js" in html) == (["个案服务"], True)


def test_the_funder_is_offered_termination(world: World) -> None:
    project = _project(world)
    html = _text(world.client(R.AREA_STAFF).get(f"/res/projects/{project.pk}/"))
    assert f"/res/projects/{project.pk}/terminate/" in html


def test_the_organisation_is_not_offered_termination(world: World) -> None:
    project = _project(world)
    html = _text(world.client(R.SOCIAL_ORG_MANAGER).get(f"/res/projects/{project.pk}/"))
    assert f"/res/projects/{project.pk}/terminate/" not in html


def test_closure_is_offered_once_every_milestone_is_accepted(world: World) -> None:
    project = _accepted(world)
    html = _text(world.client(R.SOCIAL_ORG_MANAGER).get(f"/res/projects/{project.pk}/"))
    assert f"/res/projects/{project.pk}/request-closure/" in html


def test_the_manager_is_offered_a_request_for_an_accepted_milestone(world: World) -> None:
    project = _accepted(world)
    html = _text(world.client(R.SOCIAL_ORG_MANAGER).get(f"/res/projects/{project.pk}/"))
    assert 'data-testid="request-1"' in html


def test_the_page_says_why_a_tranche_cannot_be_requested(world: World) -> None:
    project = _project(world)
    html = _text(world.client(R.SOCIAL_ORG_MANAGER).get(f"/res/projects/{project.pk}/"))
    assert "节点“第1阶段”尚未验收，不能申请第1期拨付。" in html


def test_signing_from_the_page(world: World) -> None:
    project = _project(world, status=ProjectStatus.DRAFT)
    BudgetPool.objects.filter(pk=project.pool_id).update(contracted=0)  # not signed yet
    world.client(R.AREA_STAFF).post(
        f"/res/projects/{project.pk}/sign/", {"signed_on": "2026-02-20"}
    )
    project.refresh_from_db()
    assert project.status == ProjectStatus.ACTIVE


def test_terminating_from_the_page(world: World) -> None:
    project = _project(world)
    world.client(R.AREA_STAFF).post(
        f"/res/projects/{project.pk}/terminate/", {"reason": "机构注销"}
    )
    project.refresh_from_db()
    assert (project.status, project.terminated_reason) == (ProjectStatus.TERMINATED, "机构注销")


def test_a_refused_step_shows_its_reason(world: World) -> None:
    project = _project(world)
    response = world.client(R.SOCIAL_ORG_MANAGER).post(
        f"/res/projects/{project.pk}/request-closure/", follow=True
    )
    assert "尚有节点未验收" in _text(response)


# ---- the contract form -----------------------------------------------------------------------


def _contract_post(**overrides: Any) -> dict[str, Any]:
    data = {
        "title": "银龄守护计划",
        "contract_number": "HT-2026-101",
        "amount": "100000.00",
        "starts_on": "2026-03-01",
        "ends_on": "2027-02-28",
        "tranche_mode": "percent",
        "milestones-TOTAL_FORMS": "3",
        "milestones-INITIAL_FORMS": "0",
        "milestones-0-title": "启动",
        "milestones-0-due_on": "2026-05-31",
        "milestones-0-share": "30",
        "milestones-1-title": "中期",
        "milestones-1-due_on": "2026-10-31",
        "milestones-1-share": "40",
        "milestones-2-title": "结项",
        "milestones-2-due_on": "2027-02-28",
        "milestones-2-share": "30",
        "indicators-TOTAL_FORMS": "1",
        "indicators-INITIAL_FORMS": "0",
        "indicators-0-kind": "output",
        "indicators-0-metric": "cases",
        "indicators-0-name": "个案服务",
        "indicators-0-target": "20",
        "indicators-0-unit": "个",
    }
    data.update(overrides)
    return data


def test_the_contract_form_is_prefilled_from_the_application(world: World) -> None:
    application = awarded_application(world.d1, world.c1, world.o1)
    html = _text(world.client(R.AREA_STAFF).get(f"/res/projects/contract/{application.pk}/"))
    assert ('value="100000.00"' in html, "个案服务" in html) == (True, True)


def test_the_contract_form_draws_up_a_draft(world: World) -> None:
    application = awarded_application(world.d1, world.c1, world.o1)
    response = world.client(R.AREA_STAFF).post(
        f"/res/projects/contract/{application.pk}/", _contract_post()
    )
    project = ServiceProject.objects.get(application=application)
    assert (response.status_code, response["Location"], project.tranches.count()) == (
        302,
        f"/res/projects/{project.pk}/",
        3,
    )


def test_the_contract_form_refuses_tranches_that_do_not_add_up(world: World) -> None:
    application = awarded_application(world.d1, world.c1, world.o1)
    response = world.client(R.AREA_STAFF).post(
        f"/res/projects/contract/{application.pk}/", _contract_post(**{"milestones-2-share": "20"})
    )
    html = _text(response)
    # Said once, in the card of the tranches (where it is corrected), not above the terms.
    assert html.count("各期拨付比例之和为 90%，须等于 100%。") == 1
    errors = re.search(r'data-testid="milestone-errors">(.*?)</ul>', html)
    assert errors and "各期拨付比例之和为 90%，须等于 100%。" in errors.group(1)


def test_the_contract_form_refuses_a_negative_amount(world: World) -> None:
    application = awarded_application(world.d1, world.c1, world.o1)
    response = world.client(R.AREA_STAFF).post(
        f"/res/projects/contract/{application.pk}/", _contract_post(amount="-1")
    )
    assert "金额不能为负数。" in _text(response)


def test_the_contract_form_refuses_three_decimals(world: World) -> None:
    application = awarded_application(world.d1, world.c1, world.o1)
    response = world.client(R.AREA_STAFF).post(
        f"/res/projects/contract/{application.pk}/", _contract_post(amount="100.123")
    )
    assert "金额最多保留两位小数（精确到分）。" in _text(response)


def test_the_contract_form_refuses_a_milestone_outside_the_period(world: World) -> None:
    application = awarded_application(world.d1, world.c1, world.o1)
    response = world.client(R.AREA_STAFF).post(
        f"/res/projects/contract/{application.pk}/",
        _contract_post(**{"milestones-2-due_on": "2027-03-31"}),
    )
    assert "不在合同服务期（2026-03-01 至 2027-02-28）内" in _text(response)


def test_the_contract_form_is_for_funders(world: World) -> None:
    application = awarded_application(world.d1, world.c1, world.o1)
    response = world.client(R.SOCIAL_ORG_MANAGER).get(f"/res/projects/contract/{application.pk}/")
    assert response.status_code == 403


def test_a_draft_is_redrawn_from_its_page(world: World) -> None:
    project = _project(world, status=ProjectStatus.DRAFT)
    world.client(R.AREA_STAFF).post(
        f"/res/projects/{project.pk}/edit/",
        _contract_post(contract_number=project.contract_number, amount="90000.00"),
    )
    project.refresh_from_db()
    assert project.amount == Decimal("90000.00")


# ---- milestones ------------------------------------------------------------------------------


def test_a_milestone_is_reported_with_files(world: World) -> None:
    project = _project(world)
    milestone = project.milestones.get(seq=1)
    world.client(R.SOCIAL_WORKER).post(
        f"/res/milestones/{milestone.pk}/report/",
        {
            "report": "完成需求评估",
            "evidence": [
                SimpleUploadedFile("签到表.pdf", b"%PDF-1.4 a"),
                SimpleUploadedFile("照片.jpg", b"\xff\xd8\xff\xe0 jpeg"),
            ],
        },
    )
    milestone.refresh_from_db()
    assert (milestone.status, milestone.evidence.count()) == (MilestoneStatus.REPORTED, 2)


def test_a_bad_file_is_refused_on_the_report_page(world: World) -> None:
    milestone = _project(world).milestones.get(seq=1)
    response = world.client(R.SOCIAL_WORKER).post(
        f"/res/milestones/{milestone.pk}/report/",
        {"report": "完成", "evidence": [SimpleUploadedFile("a.exe", b"MZ")]},
    )
    assert "文件“a.exe”的类型不支持" in _text(response)


def test_the_funder_accepts_a_milestone_from_the_page(world: World) -> None:
    milestone = _project(world).milestones.get(seq=1)
    Milestone.objects.filter(pk=milestone.pk).update(status=MilestoneStatus.REPORTED)
    world.client(R.AREA_STAFF).post(
        f"/res/milestones/{milestone.pk}/review/", {"decision": "accept", "note": ""}
    )
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.ACCEPTED


def test_evidence_downloads_for_those_who_see_the_project(world: World) -> None:
    evidence = MilestoneEvidenceFactory(milestone=_project(world).milestones.get(seq=1))
    response = world.client(R.COMMUNITY_CADRE).get(f"/res/evidence/{evidence.pk}/")
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test"  # type: ignore[attr-defined]


def test_evidence_is_404_to_another_organisation(world: World) -> None:
    far = project_in(world.d2, world.c2, world.o2)
    evidence = MilestoneEvidenceFactory(milestone=far.milestones.get(seq=1))
    assert world.client(R.SOCIAL_WORKER).get(f"/res/evidence/{evidence.pk}/").status_code == 404


def test_the_organisation_reports_an_indicator_from_the_page(world: World) -> None:
    project = _project(world)
    indicator = ProjectIndicatorFactory(project=project)
    world.client(R.SOCIAL_ORG_MANAGER).post(
        f"/res/indicators/{indicator.pk}/report/", {"reported": "12"}
    )
    indicator.refresh_from_db()
    assert indicator.reported == Decimal("12.00")


# ---- disbursements ---------------------------------------------------------------------------


def _request_data(project: ServiceProject, key: uuid.UUID, seq: int = 1) -> dict[str, Any]:
    return {"tranche": project.tranches.get(seq=seq).pk, "request_key": str(key), "note": ""}


def test_a_double_submitted_request_makes_one_disbursement(world: World) -> None:
    project = _accepted(world)
    client = world.client(R.SOCIAL_ORG_MANAGER)
    data = _request_data(project, uuid.uuid4())
    client.post("/res/disbursements/request/", data)
    client.post("/res/disbursements/request/", data)
    assert Disbursement.objects.filter(project=project).count() == 1


def test_under_htmx_the_tranches_are_re_rendered(world: World) -> None:
    project = _accepted(world)
    response = world.client(R.SOCIAL_ORG_MANAGER).post(
        "/res/disbursements/request/", _request_data(project, uuid.uuid4()), **HTMX
    )
    html = _text(response)
    assert ('id="tranches"' in html, "<html" in html, "待审批" in html) == (True, False, True)


def test_a_request_for_an_unaccepted_milestone_shows_why(world: World) -> None:
    project = _project(world)
    response = world.client(R.SOCIAL_ORG_MANAGER).post(
        "/res/disbursements/request/", _request_data(project, uuid.uuid4()), **HTMX
    )
    assert "节点“第1阶段”尚未验收，不能申请第1期拨付。" in _text(response)


def test_a_request_for_an_invisible_tranche_is_404(world: World) -> None:
    far = project_in(world.d2, world.c2, world.o2)
    response = world.client(R.SOCIAL_ORG_MANAGER).post(
        "/res/disbursements/request/", _request_data(far, uuid.uuid4())
    )
    assert response.status_code == 404


def test_a_self_approval_is_refused_on_the_page(world: World) -> None:
    project = _accepted(world)
    d, _created = services.disbursement_request(
        tranche=project.tranches.get(seq=1), by=world.users[R.AREA_STAFF], request_key=uuid.uuid4()
    )
    response = world.client(R.AREA_STAFF).post(
        f"/res/disbursements/{d.pk}/", {"action": "approve"}, **HTMX
    )
    assert "申请人不能审批自己的拨付申请。" in _text(response)


def test_approve_then_pay_from_the_page(world: World) -> None:
    project = _accepted(world)
    d, _created = services.disbursement_request(
        tranche=project.tranches.get(seq=1),
        by=world.users[R.SOCIAL_ORG_MANAGER],
        request_key=uuid.uuid4(),
    )
    client = world.client(R.AREA_STAFF)
    client.post(f"/res/disbursements/{d.pk}/", {"action": "approve"})
    client.post(f"/res/disbursements/{d.pk}/", {"action": "pay", "payment_reference": "ZF-9"})
    d.refresh_from_db()
    assert (d.status, d.payment_reference) == (DisbursementStatus.PAID, "ZF-9")


def test_a_payment_under_htmx_reloads_the_page(world: World) -> None:
    """Money moved: the contract's disbursed amount and the burn chart change too."""
    project = _accepted(world)
    d, _created = services.disbursement_request(
        tranche=project.tranches.get(seq=1),
        by=world.users[R.SOCIAL_ORG_MANAGER],
        request_key=uuid.uuid4(),
    )
    client = world.client(R.AREA_STAFF)
    client.post(f"/res/disbursements/{d.pk}/", {"action": "approve"}, **HTMX)
    response = client.post(f"/res/disbursements/{d.pk}/", {"action": "pay"}, **HTMX)
    assert (response.status_code, response["HX-Refresh"]) == (200, "true")
    html = _text(client.get(f"/res/projects/{project.pk}/"))
    assert "已确认拨付。" in html


def test_a_rejection_without_reason_is_refused_on_the_page(world: World) -> None:
    project = _accepted(world)
    d, _created = services.disbursement_request(
        tranche=project.tranches.get(seq=1),
        by=world.users[R.SOCIAL_ORG_MANAGER],
        request_key=uuid.uuid4(),
    )
    response = world.client(R.AREA_STAFF).post(
        f"/res/disbursements/{d.pk}/", {"action": "reject", "comment": ""}, **HTMX
    )
    assert "请填写驳回原因。" in _text(response)


def test_the_queue_lists_requests_awaiting_the_funder(world: World) -> None:
    project = _accepted(world)
    d, _created = services.disbursement_request(
        tranche=project.tranches.get(seq=1),
        by=world.users[R.SOCIAL_ORG_MANAGER],
        request_key=uuid.uuid4(),
    )
    html = _text(world.client(R.AREA_STAFF).get("/res/disbursements/"))
    assert (f'data-testid="row-{d.pk}"' in html, "审批通过" in html) == (True, True)


def test_the_queue_is_for_funders(world: World) -> None:
    assert world.client(R.SOCIAL_ORG_MANAGER).get("/res/disbursements/").status_code == 403


def test_an_approval_from_the_queue_returns_to_it(world: World) -> None:
    project = _accepted(world)
    d, _created = services.disbursement_request(
        tranche=project.tranches.get(seq=1),
        by=world.users[R.SOCIAL_ORG_MANAGER],
        request_key=uuid.uuid4(),
    )
    response = world.client(R.AREA_STAFF).post(
        f"/res/disbursements/{d.pk}/", {"action": "approve", "next": "queue"}
    )
    assert response["Location"] == "/res/disbursements/"


def test_the_queue_exports_to_excel(world: World) -> None:
    project = _accepted(world)
    services.disbursement_request(
        tranche=project.tranches.get(seq=1),
        by=world.users[R.SOCIAL_ORG_MANAGER],
        request_key=uuid.uuid4(),
    )
    rows = _xlsx_rows(world.client(R.AREA_STAFF).get("/res/disbursements/", {"format": "xlsx"}))
    assert rows[1][:2] == (project.contract_number, project.title)


# ---- evaluations -----------------------------------------------------------------------------


def test_my_evaluations_lists_the_evaluators_assignments(world: World) -> None:
    project = _project(world)
    EvaluationFactory(project=project, evaluator=world.users[R.EVALUATOR])
    html = _text(world.client(R.EVALUATOR).get("/res/evaluations/"))
    assert project.title in html


def test_the_evaluator_scores_on_the_evaluation_page(world: World) -> None:
    project = _project(world)
    evaluation = EvaluationFactory(
        project=project, stage=EvaluationStage.FINAL, evaluator=world.users[R.EVALUATOR]
    )
    world.client(R.EVALUATOR).post(
        f"/res/evaluations/{evaluation.pk}/",
        {
            "score_input": "18",
            "score_process": "27",
            "score_output": "28",
            "score_outcome": "17",
            "findings": "达到预期",
        },
    )
    evaluation.refresh_from_db()
    assert (evaluation.score, evaluation.grade) == (Decimal("90.00"), "excellent")


def test_the_evaluation_page_shows_the_indicators(world: World) -> None:
    project = _project(world)
    ProjectIndicatorFactory(project=project, metric="other", name="个案服务", reported=5)
    evaluation = EvaluationFactory(project=project, evaluator=world.users[R.EVALUATOR])
    html = _text(world.client(R.EVALUATOR).get(f"/res/evaluations/{evaluation.pk}/"))
    assert ("个案服务" in html, "机构填报" in html) == (True, True)


def test_a_score_over_the_maximum_is_refused_on_the_page(world: World) -> None:
    evaluation = EvaluationFactory(project=_project(world), evaluator=world.users[R.EVALUATOR])
    response = world.client(R.EVALUATOR).post(
        f"/res/evaluations/{evaluation.pk}/",
        {
            "score_input": "25",
            "score_process": "27",
            "score_output": "28",
            "score_outcome": "17",
            "findings": "x",
        },
    )
    assert "不能大于 20。" in _text(response)


def test_the_funder_assigns_an_evaluation_from_the_page(world: World) -> None:
    project = _project(world)
    world.client(R.AREA_STAFF).post(
        f"/res/projects/{project.pk}/evaluations/new/",
        {"stage": "midterm", "framework": "ipoo", "evaluator": world.users[R.EVALUATOR].pk},
    )
    assert project.evaluations.get().evaluator == world.users[R.EVALUATOR]


def test_the_evaluations_export_to_excel(world: World) -> None:
    project = _project(world)
    EvaluationFactory(project=project, evaluator=world.users[R.EVALUATOR])
    rows = _xlsx_rows(world.client(R.EVALUATOR).get("/res/evaluations/", {"format": "xlsx"}))
    assert rows[1][:2] == (project.contract_number, project.title)
