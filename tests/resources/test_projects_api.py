"""JSON API of projects: scoped reads, contracts, milestones, disbursements (idempotent
requests), evaluations and acceptance, with the pages' Chinese messages."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from sanlian.core.roles import Role
from sanlian.resources.models import (
    Disbursement,
    EvaluationStage,
    Milestone,
    MilestoneStatus,
    ProjectStatus,
    ServiceProject,
)

from ..conftest import World
from .factories import (
    EvaluationFactory,
    ProjectIndicatorFactory,
    awarded_application,
    project_in,
)

pytestmark = pytest.mark.django_db

R = Role


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def _post(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, json.dumps(body or {}, default=str), content_type="application/json")


def _project(world: World, **kwargs: Any) -> ServiceProject:
    return project_in(world.d1, world.c1, world.o1, **kwargs)


def _accepted(world: World) -> ServiceProject:
    project = _project(world)
    Milestone.objects.filter(project=project).update(status=MilestoneStatus.ACCEPTED)
    return project


def _request(world: World, project: ServiceProject, key: str, seq: int = 1) -> Any:
    return _post(
        world.client(R.SOCIAL_ORG_MANAGER),
        "/api/disbursements",
        {"tranche_id": project.tranches.get(seq=seq).pk, "request_key": key},
    )


def test_schema_lists_the_endpoints(client: Client) -> None:
    paths = set(client.get("/api/openapi.json").json()["paths"])
    assert {
        "/api/projects",
        "/api/projects/{project_id}",
        "/api/projects/{project_id}/accept",
        "/api/milestones/{milestone_id}/report",
        "/api/milestones/{milestone_id}/accept",
        "/api/disbursements",
        "/api/disbursements/{disbursement_id}/approve",
        "/api/disbursements/{disbursement_id}/pay",
        "/api/evaluations/{evaluation_id}/submit",
    } <= paths


# ---- projects --------------------------------------------------------------------------------


def test_the_project_list_is_scoped(world: World) -> None:
    near = _project(world)
    project_in(world.d2, world.c2, world.o2)
    items = world.client(R.SOCIAL_WORKER).get("/api/projects").json()["items"]
    assert [p["id"] for p in items] == [near.pk]


def test_a_project_outside_scope_is_404(world: World) -> None:
    far = project_in(world.d2, world.c2, world.o2)
    assert world.client(R.COMMUNITY_CADRE).get(f"/api/projects/{far.pk}").status_code == 404


def test_the_project_detail_carries_its_money(world: World) -> None:
    project = _project(world)
    body = world.client(R.AREA_STAFF).get(f"/api/projects/{project.pk}").json()
    assert (body["amount"], [t["amount"] for t in body["tranches"]]) == (
        "100000.00",
        ["30000.00", "40000.00", "30000.00"],
    )


def _contract(world: World, application_id: int, **overrides: Any) -> dict[str, Any]:
    body = {
        "application_id": application_id,
        "contract_number": "HT-API-1",
        "amount": "100000.00",
        "starts_on": "2026-03-01",
        "ends_on": "2027-02-28",
        "tranche_mode": "percent",
        "milestones": [
            {"title": "启动", "due_on": "2026-05-31", "share": "30"},
            {"title": "中期", "due_on": "2026-10-31", "share": "40"},
            {"title": "结项", "due_on": "2027-02-28", "share": "30"},
        ],
    }
    body.update(overrides)
    return body


def test_a_contract_is_drawn_up_through_the_api(world: World) -> None:
    application = awarded_application(world.d1, world.c1, world.o1)
    response = _post(world.client(R.AREA_STAFF), "/api/projects", _contract(world, application.pk))
    body = response.json()
    assert (response.status_code, body["status"], len(body["indicators"])) == (201, "draft", 2)


def test_tranches_that_do_not_add_up_are_refused_in_chinese(world: World) -> None:
    application = awarded_application(world.d1, world.c1, world.o1)
    milestones = [{"title": "全部", "due_on": "2026-12-31", "share": "99"}]
    response = _post(
        world.client(R.AREA_STAFF),
        "/api/projects",
        _contract(world, application.pk, milestones=milestones),
    )
    assert (response.status_code, response.json()["detail"]["__all__"]) == (
        400,
        ["各期拨付比例之和为 99%，须等于 100%。"],
    )


def test_a_non_numeric_amount_is_refused_in_chinese(world: World) -> None:
    application = awarded_application(world.d1, world.c1, world.o1)
    response = _post(
        world.client(R.AREA_STAFF), "/api/projects", _contract(world, application.pk, amount="十万")
    )
    assert response.json()["detail"]["amount"] == ["请输入数字金额。"]


def test_a_social_organisation_cannot_draw_up(world: World) -> None:
    application = awarded_application(world.d1, world.c1, world.o1)
    response = _post(
        world.client(R.SOCIAL_ORG_MANAGER), "/api/projects", _contract(world, application.pk)
    )
    assert response.status_code == 403


def test_signing_through_the_api(world: World) -> None:
    application = awarded_application(world.d1, world.c1, world.o1)
    client = world.client(R.AREA_STAFF)
    project_id = _post(client, "/api/projects", _contract(world, application.pk)).json()["id"]
    body = _post(client, f"/api/projects/{project_id}/sign", {"on": "2026-02-20"}).json()
    assert (body["status"], body["signed_on"]) == ("active", "2026-02-20")


def test_a_refused_step_is_400_with_its_reason(world: World) -> None:
    project = _project(world, status=ProjectStatus.DRAFT)
    response = _post(world.client(R.SOCIAL_ORG_MANAGER), f"/api/projects/{project.pk}/sign")
    assert (response.status_code, response.json()["detail"]["__all__"]) == (
        400,
        ["您的角色无权执行“签约”。"],
    )


# ---- milestones ------------------------------------------------------------------------------


def test_evidence_is_uploaded_then_the_milestone_reported(world: World) -> None:
    milestone = _project(world).milestones.get(seq=1)
    client = world.client(R.SOCIAL_WORKER)
    upload = client.post(
        f"/api/milestones/{milestone.pk}/evidence",
        {"file": SimpleUploadedFile("签到表.pdf", b"%PDF-1.4 x"), "description": "第一次活动"},
    )
    report = _post(client, f"/api/milestones/{milestone.pk}/report", {"report": "已完成"})
    assert (upload.status_code, report.json()["status"], len(report.json()["evidence"])) == (
        201,
        "reported",
        1,
    )


def test_a_bad_upload_is_refused_in_chinese(world: World) -> None:
    milestone = _project(world).milestones.get(seq=1)
    response = world.client(R.SOCIAL_WORKER).post(
        f"/api/milestones/{milestone.pk}/evidence",
        {"file": SimpleUploadedFile("病毒.exe", b"MZ")},
    )
    assert response.json()["detail"]["file"] == [
        "文件“病毒.exe”的类型不支持，仅限 PDF、图片（JPG/PNG）、Word、Excel、PPT 或文本文件。"
    ]


def test_the_funder_accepts_a_milestone_through_the_api(world: World) -> None:
    milestone = _project(world).milestones.get(seq=1)
    Milestone.objects.filter(pk=milestone.pk).update(status=MilestoneStatus.REPORTED)
    body = _post(
        world.client(R.AREA_STAFF), f"/api/milestones/{milestone.pk}/accept", {"note": "好"}
    ).json()
    assert (body["status"], body["review_note"]) == ("accepted", "好")


def test_a_return_without_a_note_is_refused(world: World) -> None:
    milestone = _project(world).milestones.get(seq=1)
    Milestone.objects.filter(pk=milestone.pk).update(status=MilestoneStatus.REPORTED)
    response = _post(world.client(R.AREA_STAFF), f"/api/milestones/{milestone.pk}/return")
    assert response.json()["detail"]["note"] == ["请填写退回原因。"]


def test_an_indicator_is_reported_through_the_api(world: World) -> None:
    indicator = ProjectIndicatorFactory(project=_project(world), metric="other")
    body = _post(
        world.client(R.SOCIAL_WORKER), f"/api/indicators/{indicator.pk}/report", {"reported": "8"}
    ).json()
    assert (body["actual"], body["source"]) == ("8.00", "reported")


# ---- disbursements ---------------------------------------------------------------------------


def test_a_request_is_created_then_replayed(world: World) -> None:
    project = _accepted(world)
    key = str(uuid.uuid4())
    first = _request(world, project, key)
    again = _request(world, project, key)
    assert (first.status_code, again.status_code, again.json()["id"]) == (
        201,
        200,
        first.json()["id"],
    )


def test_a_request_key_must_be_a_uuid(world: World) -> None:
    response = _request(world, _accepted(world), "12345")
    assert response.json()["detail"]["request_key"] == ["请求标识须为 UUID。"]


def test_a_request_for_an_unaccepted_milestone_is_refused(world: World) -> None:
    response = _request(world, _project(world), str(uuid.uuid4()))
    assert response.json()["detail"]["__all__"] == ["节点“第1阶段”尚未验收，不能申请第1期拨付。"]


def test_a_tranche_outside_scope_is_refused(world: World) -> None:
    far = project_in(world.d2, world.c2, world.o2)
    response = _request(world, far, str(uuid.uuid4()))
    assert response.json()["detail"]["tranche"] == ["拨付期次不存在或不在您的范围内。"]


def test_approve_then_pay_through_the_api(world: World) -> None:
    project = _accepted(world)
    d_id = _request(world, project, str(uuid.uuid4())).json()["id"]
    client = world.client(R.AREA_STAFF)
    _post(client, f"/api/disbursements/{d_id}/approve", {"comment": "同意"})
    body = _post(client, f"/api/disbursements/{d_id}/pay", {"payment_reference": "ZF-1"}).json()
    project.refresh_from_db()
    assert (body["status"], body["approvals"][0]["comment"], project.disbursed) == (
        "paid",
        "同意",
        Decimal("30000.00"),
    )


def test_a_second_approval_is_refused_through_the_api(world: World, settings: Any) -> None:
    settings.DISBURSEMENT_FOUR_EYES_ABOVE = "20000"
    d_id = _request(world, _accepted(world), str(uuid.uuid4())).json()["id"]
    client = world.client(R.AREA_STAFF)
    _post(client, f"/api/disbursements/{d_id}/approve")
    response = _post(client, f"/api/disbursements/{d_id}/approve")
    assert (response.status_code, response.json()["detail"]["__all__"]) == (
        400,
        ["您已审批过该拨付申请，不能重复审批。"],
    )


def test_a_self_approval_is_refused_through_the_api(world: World) -> None:
    project = _accepted(world)
    client = world.client(R.AREA_STAFF)
    d_id = _post(
        client,
        "/api/disbursements",
        {"tranche_id": project.tranches.get(seq=1).pk, "request_key": str(uuid.uuid4())},
    ).json()["id"]
    response = _post(client, f"/api/disbursements/{d_id}/approve")
    assert response.json()["detail"]["__all__"] == ["申请人不能审批自己的拨付申请。"]


def test_a_rejection_needs_a_reason_through_the_api(world: World) -> None:
    d_id = _request(world, _accepted(world), str(uuid.uuid4())).json()["id"]
    response = _post(world.client(R.AREA_STAFF), f"/api/disbursements/{d_id}/reject")
    assert response.json()["detail"]["comment"] == ["请填写驳回原因。"]


def test_the_requester_cancels_through_the_api(world: World) -> None:
    d_id = _request(world, _accepted(world), str(uuid.uuid4())).json()["id"]
    body = _post(world.client(R.SOCIAL_ORG_MANAGER), f"/api/disbursements/{d_id}/cancel").json()
    assert body["status"] == "cancelled"


def test_the_disbursement_list_is_scoped(world: World) -> None:
    near = _accepted(world)
    _request(world, near, str(uuid.uuid4()))
    items = world.client(R.SOCIAL_WORKER).get("/api/disbursements").json()["items"]
    assert [d["project_id"] for d in items] == [near.pk]


# ---- evaluations and acceptance --------------------------------------------------------------


def test_an_evaluation_is_assigned_through_the_api(world: World) -> None:
    project = _project(world)
    response = _post(
        world.client(R.AREA_STAFF),
        f"/api/projects/{project.pk}/evaluations",
        {"stage": "final", "evaluator_id": world.users[R.EVALUATOR].pk},
    )
    assert (response.status_code, response.json()["evaluator_org_id"]) == (
        201,
        world.evaluator_org.pk,
    )


def test_my_evaluations_through_the_api(world: World) -> None:
    mine = EvaluationFactory(project=_project(world), evaluator=world.users[R.EVALUATOR])
    items = world.client(R.EVALUATOR).get("/api/evaluations").json()["items"]
    assert [e["id"] for e in items] == [mine.pk]


def test_an_evaluation_is_submitted_through_the_api(world: World) -> None:
    evaluation = EvaluationFactory(project=_project(world), evaluator=world.users[R.EVALUATOR])
    body = _post(
        world.client(R.EVALUATOR),
        f"/api/evaluations/{evaluation.pk}/submit",
        {
            "scores": {"input": "15", "process": "25", "output": "20", "outcome": "15"},
            "findings": "基本达到目标",
        },
    ).json()
    assert (body["score"], body["grade"]) == ("75.00", "good")


def test_a_score_over_its_maximum_is_refused_through_the_api(world: World) -> None:
    evaluation = EvaluationFactory(project=_project(world), evaluator=world.users[R.EVALUATOR])
    response = _post(
        world.client(R.EVALUATOR),
        f"/api/evaluations/{evaluation.pk}/submit",
        {
            "scores": {"input": "21", "process": "25", "output": "20", "outcome": "15"},
            "findings": "x",
        },
    )
    assert response.json()["detail"]["score_input"] == ["不能大于 20。"]


def test_acceptance_through_the_api(world: World) -> None:
    project = _project(world, status=ProjectStatus.CLOSING)
    evaluation = EvaluationFactory(
        project=project, stage=EvaluationStage.FINAL, evaluator=world.users[R.EVALUATOR]
    )
    _post(
        world.client(R.EVALUATOR),
        f"/api/evaluations/{evaluation.pk}/submit",
        {
            "scores": {"input": "18", "process": "27", "output": "28", "outcome": "17"},
            "findings": "优秀",
        },
    )
    body = _post(world.client(R.AREA_STAFF), f"/api/projects/{project.pk}/accept").json()
    assert (body["status"], body["final_grade"], body["final_score"]) == (
        "accepted",
        "excellent",
        "90.00",
    )


def test_requests_are_not_multiplied_by_retries(world: World) -> None:
    project = _accepted(world)
    key = str(uuid.uuid4())
    for _ in range(3):
        _request(world, project, key)
    assert Disbursement.objects.filter(project=project).count() == 1
