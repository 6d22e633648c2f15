"""Delivery: milestone reports with evidence, acceptance or return by the funder, and the
indicators' actual figures (counted by a registered counter, or reported)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from sanlian.core.roles import Role
from sanlian.resources.models import (
    Metric,
    Milestone,
    MilestoneEvidence,
    MilestoneStatus,
    ProjectStatus,
    ServiceProject,
)
from sanlian.resources.services import indicators
from sanlian.resources.services import projects as services

from ..conftest import World
from ..factories import UserFactory
from .factories import ProjectIndicatorFactory, project_in

pytestmark = pytest.mark.django_db

R = Role
PDF = b"%PDF-1.4 sign-in sheet"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def _pdf(name: str = "签到表.pdf", data: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def _project(world: World) -> ServiceProject:
    return project_in(world.d1, world.c1, world.o1)


def _first(project: ServiceProject) -> Milestone:
    return project.milestones.get(seq=1)


def _report(world: World, milestone: Milestone, role: str = R.SOCIAL_WORKER) -> Milestone:
    return services.milestone_report(
        milestone=milestone,
        by=world.users[role],
        report="完成需求评估，走访独居老人 40 户。",
        files=[_pdf()],
    )


# ---- reports and evidence --------------------------------------------------------------------


def test_a_social_worker_reports_a_milestone_with_evidence(world: World) -> None:
    milestone = _report(world, _first(_project(world)))
    assert (milestone.status, milestone.reported_by, milestone.evidence.count()) == (
        MilestoneStatus.REPORTED,
        world.users[R.SOCIAL_WORKER],
        1,
    )


def test_the_evidence_keeps_the_file(world: World) -> None:
    milestone = _report(world, _first(_project(world)))
    evidence = milestone.evidence.get()
    assert (evidence.name, evidence.file.read()) == ("签到表.pdf", PDF)


def test_a_report_without_evidence_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        services.milestone_report(
            milestone=_first(_project(world)), by=world.users[R.SOCIAL_WORKER], report="已完成"
        )
    assert exc.value.messages == ["请上传至少一份佐证材料。"]


def test_evidence_uploaded_before_counts(world: World) -> None:
    milestone = _first(_project(world))
    services.evidence_add(milestone=milestone, by=world.users[R.SOCIAL_WORKER], file=_pdf())
    reported = services.milestone_report(
        milestone=milestone, by=world.users[R.SOCIAL_WORKER], report="已完成"
    )
    assert reported.status == MilestoneStatus.REPORTED


def test_a_report_without_text_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        services.milestone_report(
            milestone=_first(_project(world)),
            by=world.users[R.SOCIAL_WORKER],
            report=" ",
            files=[_pdf()],
        )
    assert exc.value.messages == ["请填写节点完成情况。"]


def test_a_refused_report_leaves_no_evidence(world: World) -> None:
    milestone = _first(_project(world))
    with pytest.raises(ValidationError):
        services.milestone_report(
            milestone=milestone,
            by=world.users[R.SOCIAL_WORKER],
            report="已完成",
            files=[_pdf(), _pdf("病毒.exe", b"MZ")],
        )
    assert MilestoneEvidence.objects.filter(milestone=milestone).count() == 0


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "名单.exe",
            b"MZ",
            "文件“名单.exe”的类型不支持，仅限 PDF、图片（JPG/PNG）、Word、Excel、PPT 或文本文件。",
        ),
        ("空.pdf", b"", "文件“空.pdf”是空文件。"),
        ("照片.png", b"GIF89a....", "文件“照片.png”的内容与扩展名不符。"),
    ],
)
def test_bad_evidence_is_refused(world: World, name: str, data: bytes, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        services.evidence_add(
            milestone=_first(_project(world)),
            by=world.users[R.SOCIAL_WORKER],
            file=SimpleUploadedFile(name, data),
        )
    assert exc.value.messages == [message]


def test_evidence_over_the_size_limit_is_refused(world: World, settings: Any) -> None:
    settings.EVIDENCE_MAX_BYTES = 1024 * 1024
    big = _pdf("扫描件.pdf", PDF + b"0" * (1024 * 1024))
    with pytest.raises(ValidationError) as exc:
        services.evidence_add(
            milestone=_first(_project(world)), by=world.users[R.SOCIAL_WORKER], file=big
        )
    assert exc.value.messages == ["文件“扫描件.pdf”超过 1 MB 的上限。"]


def test_another_organisation_cannot_report(world: World) -> None:
    stranger = UserFactory(organization=world.o2, roles=[R.SOCIAL_ORG_MANAGER])
    with pytest.raises(ValidationError) as exc:
        services.milestone_report(
            milestone=_first(_project(world)), by=stranger, report="x", files=[_pdf()]
        )
    assert exc.value.messages == ["只有承接机构（阳光社工中心）可以提交节点报告。"]


def test_a_draft_project_takes_no_reports(world: World) -> None:
    project = project_in(world.d1, world.c1, world.o1, status=ProjectStatus.DRAFT)
    with pytest.raises(ValidationError) as exc:
        _report(world, _first(project))
    assert exc.value.messages == ["项目当前状态为“待签约”，不能提交节点报告。"]


def test_evidence_can_be_removed_before_the_report(world: World) -> None:
    milestone = _first(_project(world))
    evidence = services.evidence_add(
        milestone=milestone, by=world.users[R.SOCIAL_WORKER], file=_pdf()
    )
    services.evidence_remove(evidence=evidence, by=world.users[R.SOCIAL_WORKER])
    assert not MilestoneEvidence.objects.filter(milestone=milestone).exists()


def test_evidence_is_frozen_once_reported(world: World) -> None:
    milestone = _report(world, _first(_project(world)))
    with pytest.raises(ValidationError, match="节点“已提交”"):
        services.evidence_remove(evidence=milestone.evidence.get(), by=world.users[R.SOCIAL_WORKER])


# ---- acceptance by the funder ----------------------------------------------------------------


def test_the_funder_accepts_a_reported_milestone(world: World) -> None:
    milestone = _report(world, _first(_project(world)))
    accepted = services.milestone_accept(
        milestone=milestone, by=world.users[R.AREA_STAFF], note="材料齐全"
    )
    assert (accepted.status, accepted.reviewed_by, accepted.review_note) == (
        MilestoneStatus.ACCEPTED,
        world.users[R.AREA_STAFF],
        "材料齐全",
    )


def test_an_unreported_milestone_cannot_be_accepted(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        services.milestone_accept(milestone=_first(_project(world)), by=world.users[R.AREA_STAFF])
    assert exc.value.messages == ["当前状态为“待提交”，不能执行“验收节点”（仅限已提交状态）。"]


def test_the_organisation_cannot_accept_its_own_milestone(world: World) -> None:
    milestone = _report(world, _first(_project(world)))
    with pytest.raises(ValidationError) as exc:
        services.milestone_accept(milestone=milestone, by=world.users[R.SOCIAL_ORG_MANAGER])
    assert exc.value.messages == ["您的角色无权执行“验收节点”。"]


def test_returning_needs_a_note(world: World) -> None:
    milestone = _report(world, _first(_project(world)))
    with pytest.raises(ValidationError) as exc:
        services.milestone_return(milestone=milestone, by=world.users[R.AREA_STAFF], note="")
    assert exc.value.messages == ["请填写退回原因。"]


def test_a_returned_milestone_is_reported_again(world: World) -> None:
    milestone = _report(world, _first(_project(world)))
    services.milestone_return(milestone=milestone, by=world.users[R.AREA_STAFF], note="缺签到表")
    again = _report(world, milestone)
    assert (again.status, again.evidence.count()) == (MilestoneStatus.REPORTED, 2)


# ---- indicators ------------------------------------------------------------------------------


@pytest.fixture
def counted_activities() -> Iterator[None]:
    """A real counter for activities: here, the accepted milestones stand for the activities
    服务联动 will count."""

    def accepted_milestones(project: ServiceProject) -> Decimal:
        return Decimal(project.milestones.filter(status=MilestoneStatus.ACCEPTED).count())

    previous = indicators.register_counter(Metric.ACTIVITIES, accepted_milestones)
    yield
    if previous is None:
        indicators.unregister_counter(Metric.ACTIVITIES)
    else:
        indicators.register_counter(Metric.ACTIVITIES, previous)


@pytest.mark.usefixtures("counted_activities")
def test_a_registered_counter_gives_the_actual_figure(world: World) -> None:
    project = _project(world)
    ProjectIndicatorFactory(project=project, metric=Metric.ACTIVITIES, name="社区活动", target=10)
    Milestone.objects.filter(project=project, seq__lte=2).update(status=MilestoneStatus.ACCEPTED)
    [progress] = indicators.project_progress(project)
    assert (progress.actual, progress.source, progress.percent) == (
        Decimal("2.00"),
        indicators.Source.COUNTED,
        20,
    )


@pytest.mark.usefixtures("counted_activities")
def test_a_counted_figure_wins_over_the_reported_one(world: World) -> None:
    project = _project(world)
    ProjectIndicatorFactory(
        project=project, metric=Metric.ACTIVITIES, name="社区活动", target=10, reported=9
    )
    [progress] = indicators.project_progress(project)
    assert (progress.actual, progress.source) == (Decimal("0.00"), indicators.Source.COUNTED)


def test_without_a_counter_the_reported_figure_is_the_actual(world: World) -> None:
    project = _project(world)
    ProjectIndicatorFactory(project=project, metric=Metric.OTHER, target=20, reported=12)
    [progress] = indicators.project_progress(project)
    assert (progress.actual, progress.source, progress.percent) == (
        Decimal("12.00"),
        indicators.Source.REPORTED,
        60,
    )


def test_an_indicator_not_yet_reported_has_no_figure(world: World) -> None:
    project = _project(world)
    ProjectIndicatorFactory(project=project, metric=Metric.OTHER)
    [progress] = indicators.project_progress(project)
    assert (progress.actual, str(progress.source_label)) == (None, "尚未填报")


def test_an_unknown_metric_cannot_be_registered() -> None:
    with pytest.raises(ValueError, match="unknown metric"):
        indicators.register_counter("hugs", lambda project: Decimal(0))


def test_the_organisation_reports_an_indicator(world: World) -> None:
    indicator = ProjectIndicatorFactory(project=_project(world), metric=Metric.CASES)
    services.indicator_report(
        indicator=indicator, by=world.users[R.SOCIAL_WORKER], reported=Decimal("7")
    )
    indicator.refresh_from_db()
    assert indicator.reported == Decimal("7.00")


def test_a_negative_figure_is_refused(world: World) -> None:
    indicator = ProjectIndicatorFactory(project=_project(world), metric=Metric.CASES)
    with pytest.raises(ValidationError) as exc:
        services.indicator_report(
            indicator=indicator, by=world.users[R.SOCIAL_WORKER], reported=Decimal("-1")
        )
    assert exc.value.messages == ["完成值不能为负数。"]


def test_the_funder_does_not_report_the_organisations_figures(world: World) -> None:
    indicator = ProjectIndicatorFactory(project=_project(world), metric=Metric.CASES)
    with pytest.raises(ValidationError) as exc:
        services.indicator_report(
            indicator=indicator, by=world.users[R.AREA_STAFF], reported=Decimal("7")
        )
    assert exc.value.messages == ["只有承接机构（阳光社工中心）可以填报指标完成值。"]
