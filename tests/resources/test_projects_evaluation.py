"""Evaluations (assigned to a third-party evaluator or to the funder staff member, scored
along the framework's dimensions) and acceptance (结项) with the final evaluation's grade."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from sanlian.core.roles import Role
from sanlian.resources.models import (
    Evaluation,
    EvaluationStage,
    EvaluationStatus,
    Grade,
    Milestone,
    MilestoneStatus,
    ProjectStatus,
    ServiceProject,
)
from sanlian.resources.models.projects import Framework
from sanlian.resources.services import projects as services

from ..conftest import World
from ..factories import UserFactory
from .factories import EvaluationFactory, project_in

pytestmark = pytest.mark.django_db

R = Role
SCORES = {"input": "18", "process": "27", "output": "28", "outcome": "17"}  # 90: 优秀


def _project(world: World) -> ServiceProject:
    return project_in(world.d1, world.c1, world.o1)


def _assign(world: World, project: ServiceProject, **kwargs: Any) -> Evaluation:
    kwargs.setdefault("stage", EvaluationStage.FINAL)
    return services.evaluation_assign(project=project, by=world.users[R.AREA_STAFF], **kwargs)


def _submit(world: World, evaluation: Evaluation, scores: dict[str, str] = SCORES) -> Evaluation:
    return services.evaluation_submit(
        evaluation=evaluation,
        by=world.users[R.EVALUATOR],
        scores={k: Decimal(v) for k, v in scores.items()},
        findings="个案服务达到目标，满意度调查样本偏少。",
    )


def _closing(world: World) -> ServiceProject:
    project = _project(world)
    Milestone.objects.filter(project=project).update(status=MilestoneStatus.ACCEPTED)
    return services.project_request_closure(project=project, by=world.users[R.SOCIAL_ORG_MANAGER])


def _refusal(call: Any, **kwargs: Any) -> list[str]:
    with pytest.raises(ValidationError) as exc:
        call(**kwargs)
    return exc.value.messages


# ---- assignment ------------------------------------------------------------------------------


def test_an_evaluator_account_brings_its_organisation(world: World) -> None:
    e = _assign(world, _project(world), evaluator=world.users[R.EVALUATOR])
    assert (e.evaluator, e.evaluator_org, e.status) == (
        world.users[R.EVALUATOR],
        world.evaluator_org,
        EvaluationStatus.ASSIGNED,
    )


def test_the_assigned_evaluator_sees_the_project(world: World) -> None:
    project = _project(world)
    _assign(world, project, evaluator_org=world.evaluator_org)
    assert list(ServiceProject.objects.visible_to(world.users[R.EVALUATOR])) == [project]


def test_without_an_evaluator_the_funder_evaluates(world: World) -> None:
    e = _assign(world, _project(world))
    assert (e.evaluator, e.evaluator_org) == (world.users[R.AREA_STAFF], None)


def test_an_account_that_is_not_an_evaluator_is_refused(world: World) -> None:
    assert _refusal(
        services.evaluation_assign,
        project=_project(world),
        by=world.users[R.AREA_STAFF],
        stage=EvaluationStage.MIDTERM,
        evaluator=world.users[R.COMMUNITY_CADRE],
    ) == ["评估人须为第三方评估机构的评估人员账号或您本人。"]


def test_a_stage_is_evaluated_once(world: World) -> None:
    project = _project(world)
    _assign(world, project)
    assert _refusal(
        services.evaluation_assign,
        project=project,
        by=world.users[R.AREA_STAFF],
        stage=EvaluationStage.FINAL,
    ) == ["该项目的本阶段评估已存在。"]


def test_the_organisation_cannot_assign_its_evaluation(world: World) -> None:
    assert _refusal(
        services.evaluation_assign,
        project=_project(world),
        by=world.users[R.SOCIAL_ORG_MANAGER],
        stage=EvaluationStage.FINAL,
    ) == ["只有项目资金层级（一区总工会）及上级工会的工作人员可以分派评估。"]


# ---- scoring ---------------------------------------------------------------------------------


def test_scores_give_the_total_and_the_grade(world: World) -> None:
    e = _submit(world, _assign(world, _project(world), evaluator=world.users[R.EVALUATOR]))
    assert (e.status, e.score, e.grade, e.scores["process"]) == (
        EvaluationStatus.SUBMITTED,
        Decimal("90.00"),
        Grade.EXCELLENT,
        "27.00",
    )


@pytest.mark.parametrize(
    ("scores", "grade"),
    [
        ({"input": "15", "process": "25", "output": "20", "outcome": "14.99"}, Grade.PASS),
        ({"input": "10", "process": "20", "output": "20", "outcome": "9.99"}, Grade.FAIL),
        ({"input": "15", "process": "25", "output": "20", "outcome": "15"}, Grade.GOOD),
    ],
)
def test_the_grade_follows_the_bands(world: World, scores: dict[str, str], grade: str) -> None:
    e = _assign(world, _project(world), evaluator=world.users[R.EVALUATOR])
    assert _submit(world, e, scores).grade == grade


def test_a_dimension_over_its_maximum_is_refused(world: World) -> None:
    e = _assign(world, _project(world), evaluator=world.users[R.EVALUATOR])
    assert _refusal(_submit, world=world, evaluation=e, scores={**SCORES, "input": "21"}) == [
        "“投入”的得分不能超过 20 分。"
    ]


def test_a_negative_score_is_refused(world: World) -> None:
    e = _assign(world, _project(world), evaluator=world.users[R.EVALUATOR])
    assert _refusal(_submit, world=world, evaluation=e, scores={**SCORES, "input": "-1"}) == [
        "投入不能为负数。"
    ]


def test_a_missing_dimension_is_refused(world: World) -> None:
    e = _assign(world, _project(world), evaluator=world.users[R.EVALUATOR])
    scores = {k: v for k, v in SCORES.items() if k != "outcome"}
    assert _refusal(_submit, world=world, evaluation=e, scores=scores) == ["请为“效果”打分。"]


def test_the_five_dimension_framework_is_scored_on_its_own_dimensions(world: World) -> None:
    e = _assign(
        world, _project(world), evaluator=world.users[R.EVALUATOR], framework=Framework.FIVE
    )
    e = _submit(
        world,
        e,
        {
            "relevance": "16",
            "efficiency": "16",
            "effectiveness": "16",
            "fairness": "16",
            "sustainability": "16",
        },
    )
    assert (e.score, e.grade) == (Decimal("80.00"), Grade.GOOD)


def test_someone_not_assigned_cannot_submit(world: World) -> None:
    e = _assign(world, _project(world))  # the funder's own
    assert _refusal(_submit, world=world, evaluation=e) == ["该评估未分派给您。"]


def test_an_evaluator_of_the_assigned_organisation_submits(world: World) -> None:
    e = _submit(world, _assign(world, _project(world), evaluator_org=world.evaluator_org))
    assert e.evaluator == world.users[R.EVALUATOR]


def test_an_evaluation_is_submitted_once(world: World) -> None:
    e = _submit(world, _assign(world, _project(world), evaluator=world.users[R.EVALUATOR]))
    assert _refusal(_submit, world=world, evaluation=e) == [
        "当前状态为“已提交”，不能执行“提交评估”（仅限待评估状态）。"
    ]


def test_findings_are_required(world: World) -> None:
    e = _assign(world, _project(world), evaluator=world.users[R.EVALUATOR])
    assert _refusal(
        services.evaluation_submit,
        evaluation=e,
        by=world.users[R.EVALUATOR],
        scores={k: Decimal(v) for k, v in SCORES.items()},
        findings=" ",
    ) == ["请填写评估意见。"]


# ---- acceptance ------------------------------------------------------------------------------


def test_acceptance_needs_the_final_evaluation(world: World) -> None:
    project = _closing(world)
    EvaluationFactory(project=project, stage=EvaluationStage.FINAL)  # assigned, not submitted
    assert _refusal(services.project_accept, project=project, by=world.users[R.AREA_STAFF]) == [
        "结项评估尚未提交，不能结项验收。"
    ]


def test_acceptance_closes_the_project_with_the_final_grade(world: World) -> None:
    project = _closing(world)
    _submit(world, _assign(world, project, evaluator=world.users[R.EVALUATOR]))
    accepted = services.project_accept(
        project=project, by=world.users[R.AREA_STAFF], accepted_on=dt.date(2027, 3, 10)
    )
    assert (
        accepted.status,
        accepted.final_score,
        accepted.final_grade,
        accepted.accepted_on,
    ) == (ProjectStatus.ACCEPTED, Decimal("90.00"), Grade.EXCELLENT, dt.date(2027, 3, 10))


def test_a_running_project_is_not_accepted(world: World) -> None:
    project = _project(world)
    assert _refusal(services.project_accept, project=project, by=world.users[R.AREA_STAFF]) == [
        "当前状态为“执行中”，不能执行“结项验收”（仅限结项评估中状态）。"
    ]


def test_the_evaluator_cannot_accept_the_project(world: World) -> None:
    project = _closing(world)
    _submit(world, _assign(world, project, evaluator=world.users[R.EVALUATOR]))
    assert _refusal(services.project_accept, project=project, by=world.users[R.EVALUATOR]) == [
        "您的角色无权执行“结项验收”。"
    ]


def test_city_staff_may_accept_a_district_project(world: World) -> None:
    project = _closing(world)
    _submit(world, _assign(world, project, evaluator=world.users[R.EVALUATOR]))
    city = UserFactory(organization=world.city, roles=[R.FEDERATION_STAFF])
    assert services.project_accept(project=project, by=city).status == ProjectStatus.ACCEPTED
