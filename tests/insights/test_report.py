"""项目评估报告: the figures of one hand-built project (attainment, beneficiaries counted once,
pre/post change, satisfaction, spend, milestones), what is missing shown as 暂无 with its
reason, the PDF and the workbook, who may see them, and the audit entries of downloads."""

from __future__ import annotations

import builtins
import datetime as dt
import io
import re
import zlib
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

from sanlian.core.models import AuditAction, AuditEntry
from sanlian.core.roles import Role
from sanlian.delivery.models import ActivityStatus, CasePhase, DemandStatus, Group
from sanlian.insights.services import report as services
from sanlian.resources.models import (
    DisbursementStatus,
    IndicatorKind,
    Metric,
    MilestoneStatus,
    ServiceProject,
)
from sanlian.resources.services import indicators

from ..conftest import World
from ..delivery.factories_activities import RegistrationFactory, activity_in
from ..delivery.factories_cases import CaseContactFactory, CaseFactory, worker_of
from ..delivery.factories_demands import DemandFactory
from ..delivery.factories_groups import (
    GroupAttendanceFactory,
    GroupFactory,
    GroupMemberFactory,
    GroupSessionFactory,
)
from ..factories import PersonFactory, UserFactory
from ..resources.factories import (
    DisbursementFactory,
    ProjectIndicatorFactory,
    at,
    project_in,
)

pytestmark = pytest.mark.django_db

PAST = dt.date(2025, 9, 6)  # a Saturday, before any test's today


def _project(w: World) -> ServiceProject:
    return project_in(w.d1, w.c1, w.o1)  # 100 000 元, tranches 30/40/30 on three milestones


def _group(w: World, project: ServiceProject, **kwargs: Any) -> Group:
    return GroupFactory(leader=worker_of(w), community=w.c1, project=project, **kwargs)  # type: ignore[no-any-return]


def _report(project: ServiceProject) -> services.ProjectReport:
    return services.project_report(ServiceProject.objects.get(pk=project.pk))


def _url(project: ServiceProject) -> str:
    return reverse("insights:project_report", args=[project.pk])


def _pay(project: ServiceProject, amount: Decimal) -> None:
    """The first tranche paid (the project's running total follows, as the service keeps it)."""
    tranche = project.tranches.get(seq=1)
    DisbursementFactory(
        tranche=tranche, amount=amount, status=DisbursementStatus.PAID, paid_at=at(PAST)
    )
    ServiceProject.objects.filter(pk=project.pk).update(disbursed=amount)


def _three_served(w: World, project: ServiceProject) -> None:
    """Three people: one in a case, two in a group (session attended)."""
    CaseFactory(worker=worker_of(w), project=project, phase=CasePhase.ASSESSMENT)
    group = _group(w, project)
    session = GroupSessionFactory(group=group, held_on=PAST)
    for _ in range(2):
        GroupAttendanceFactory(session=session, member=GroupMemberFactory(group=group))


def _inflated(pdf: bytes) -> bytes:
    """The PDF's streams decompressed (WeasyPrint packs the objects and fonts in them)."""
    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(m.group(1)))
        except zlib.error:
            continue
    return b"".join(out)


# ---- the figures -------------------------------------------------------------------------------


def test_attainment_is_the_project_pages_completion_rate(world: World) -> None:
    project = _project(world)
    ProjectIndicatorFactory(
        project=project, metric=Metric.OTHER, name="入户探访", target=Decimal(40),
        reported=Decimal(30),
    )  # fmt: skip
    row = _report(project).indicators[0]
    page = indicators.project_progress(project)[0]
    assert (row.target, row.actual, row.percent) == (Decimal(40), Decimal(30), page.percent) == (
        Decimal(40), Decimal(30), 75,
    )  # fmt: skip


def test_an_indicator_without_a_figure_has_no_rate_rather_than_zero(world: World) -> None:
    project = _project(world)
    ProjectIndicatorFactory(project=project, metric=Metric.OTHER, kind=IndicatorKind.OUTCOME)
    row = _report(project).indicators[0]
    assert (row.actual, row.percent, row.source) == (None, None, "尚未填报")


def test_a_person_served_by_a_case_and_a_group_counts_once(world: World) -> None:
    project = _project(world)
    person = PersonFactory(community=world.c1)
    CaseFactory(worker=worker_of(world), project=project, person=person)
    group = _group(world, project)
    session = GroupSessionFactory(group=group, held_on=PAST)
    GroupAttendanceFactory(session=session, member=GroupMemberFactory(group=group, person=person))
    out = _report(project).outputs
    assert (out.beneficiaries.value, out.parts_total) == (Decimal(1), 2)


def test_service_volume_counts_cases_sessions_and_done_activities(world: World) -> None:
    project = _project(world)
    _three_served(world, project)
    activity_in(world, project=project, date=PAST, status=ActivityStatus.DONE, done_at=at(PAST))
    activity_in(world, project=project)  # published for tomorrow: not done yet
    out = _report(project).outputs
    assert (out.cases, out.groups, out.group_sessions, out.activities) == (1, 1, 1, 1)


def test_share_of_hours_outside_the_working_day(world: World) -> None:
    # A Saturday session 09:00–11:00 (2 h, all outside) and a Monday contact 10:00–11:00
    # (1 h, inside): 2 of 3 hours outside = 66.7 %.
    project = _project(world)
    GroupSessionFactory(group=_group(world, project), held_on=PAST)
    case = CaseFactory(worker=worker_of(world), project=project)
    CaseContactFactory(
        case=case, served_on=PAST + dt.timedelta(days=2),
        start_time=dt.time(10, 0), end_time=dt.time(11, 0),
    )  # fmt: skip
    assert _report(project).outputs.share_outside.value == Decimal("66.7")


def test_pre_post_mean_change_of_a_group(world: World) -> None:
    # Burden scale (lower is better): 60→50, 70→60, 80→75 → changes −10, −10, −5, mean −8.33;
    # a member with only a pre-test is listed but not paired.
    project = _project(world)
    group = _group(world, project, higher_is_better=False)
    for pre, post in ((60, 50), (70, 60), (80, 75)):
        GroupMemberFactory(group=group, pre_score=Decimal(pre), post_score=Decimal(post))
    GroupMemberFactory(group=group, pre_score=Decimal(90))
    change = _report(project).groups[0]
    assert (change.summary.n, change.summary.mean_change, change.summary.improved) == (
        3, Decimal("-8.33"), 3,
    )  # fmt: skip


def test_a_group_without_paired_scores_says_why(world: World) -> None:
    project = _project(world)
    GroupMemberFactory(group=_group(world, project), pre_score=Decimal(50))
    change = _report(project).groups[0]
    assert (change.summary.mean_change, change.missing) == (None, "尚无组员同时录入前测与后测得分")


def test_satisfaction_of_the_projects_demands(world: World) -> None:
    project = _project(world)
    for score in (5, 4, 2):
        DemandFactory(
            community=world.c1, project=project, status=DemandStatus.CLOSED, satisfaction=score
        )
    demands = _report(project).satisfaction.sources[0]
    assert (demands.label, demands.n, demands.mean.value, demands.satisfied_share.value) == (
        "诉求办结评价", 3, Decimal("3.67"), Decimal("66.7"),
    )  # fmt: skip


def test_satisfaction_of_the_projects_activity_feedback(world: World) -> None:
    project = _project(world)
    activity = activity_in(
        world, project=project, date=PAST, status=ActivityStatus.DONE, done_at=at(PAST)
    )
    for rating in (5, 3):
        RegistrationFactory(activity=activity, checked_in_at=at(PAST, 19), rating=rating)
    feedback = _report(project).satisfaction.sources[1]
    assert (feedback.n, feedback.mean.value, feedback.satisfied_share.value) == (
        2, Decimal("4.00"), Decimal("50.0"),
    )  # fmt: skip


def test_cost_per_beneficiary_is_the_disbursed_money_per_person(world: World) -> None:
    project = _project(world)
    _three_served(world, project)
    _pay(project, Decimal("30000.00"))
    spend = _report(project).spend
    assert (spend.disbursed_share, spend.cost_per_beneficiary.value) == (
        Decimal("30.0"), Decimal("10000.00"),
    )  # fmt: skip


def test_milestones_in_order_with_their_status(world: World) -> None:
    project = _project(world)
    project.milestones.filter(seq=1).update(status=MilestoneStatus.ACCEPTED)
    rows = _report(project).milestones
    assert [(m.seq, m.status) for m in rows] == [
        (1, "accepted"), (2, "pending"), (3, "pending"),
    ]  # fmt: skip


# ---- what is missing ---------------------------------------------------------------------------


def test_a_project_without_services_has_no_figures_only_reasons(world: World) -> None:
    report = _report(_project(world))
    figures = (
        report.outputs.beneficiaries,
        report.outputs.share_outside,
        report.spend.cost_per_beneficiary,
        report.satisfaction.sources[0].mean,
    )
    assert [(f.value, bool(f.reason)) for f in figures] == [(None, True)] * 4


def test_cost_per_beneficiary_waits_for_money(world: World) -> None:
    project = _project(world)
    _three_served(world, project)
    assert _report(project).spend.cost_per_beneficiary == services.Figure(None, "尚未拨付资金")


def test_the_page_shows_missing_data_as_zanwu_with_the_reason(world: World) -> None:
    project = _project(world)
    page = world.client(Role.AREA_STAFF).get(_url(project)).content.decode()
    assert ("暂无" in page, "尚无服务对象记录" in page, "本项目没有登记小组工作" in page) == (
        True, True, True,
    )  # fmt: skip


# ---- the page, the PDF, the workbook -------------------------------------------------------------


def test_the_page_offers_the_pdf_and_the_workbook(world: World) -> None:
    page = world.client(Role.AREA_STAFF).get(_url(_project(world))).content.decode()
    assert ("下载 PDF" in page, "导出 Excel" in page, "?format=pdf" in page) == (True, True, True)


def test_the_pages_own_styles_are_allowed_by_its_policy(world: World) -> None:
    response = world.client(Role.AREA_STAFF).get(_url(_project(world)))
    nonce = re.search(r'<style nonce="([^"]+)"', response.content.decode())
    assert nonce and f"'nonce-{nonce[1]}'" in response["Content-Security-Policy"]


def test_the_pdf_is_a_pdf_with_pages(world: World) -> None:
    response = world.client(Role.AREA_STAFF).get(_url(_project(world)), {"format": "pdf"})
    pages = re.findall(rb"/Type\s*/Page\b", _inflated(response.content))
    assert (response["Content-Type"], response.content[:4], len(pages) >= 1) == (
        "application/pdf", b"%PDF", True,
    )  # fmt: skip


def test_the_pdf_embeds_a_cjk_font(world: World) -> None:
    response = world.client(Role.AREA_STAFF).get(_url(_project(world)), {"format": "pdf"})
    assert b"NotoSansCJK" in _inflated(response.content)


def test_without_weasyprint_the_pdf_answers_503_in_chinese(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def no_weasyprint(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_weasyprint)
    response = world.client(Role.AREA_STAFF).get(_url(_project(world)), {"format": "pdf"})
    assert (response.status_code, "PDF 导出暂不可用" in response.content.decode()) == (503, True)


def test_the_workbook_has_one_sheet_per_section(world: World) -> None:
    response = world.client(Role.AREA_STAFF).get(_url(_project(world)), {"format": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "项目概况", "指标完成", "服务对象与服务量", "小组前后测", "满意度", "资金使用", "项目节点",
    ]  # fmt: skip


def test_the_workbook_shows_missing_figures_as_zanwu(world: World) -> None:
    response = world.client(Role.AREA_STAFF).get(_url(_project(world)), {"format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["服务对象与服务量"]
    assert str(sheet["B2"].value).startswith("暂无（尚无服务对象记录")


# ---- who may see it, and the audit trail ---------------------------------------------------------


def test_the_funder_and_the_provider_see_the_report(world: World) -> None:
    project = _project(world)
    codes = [
        world.client(r).get(_url(project)).status_code
        for r in (Role.AREA_STAFF, Role.SOCIAL_ORG_MANAGER)
    ]
    assert codes == [200, 200]


def test_another_areas_staff_gets_404(world: World) -> None:
    other = UserFactory(organization=world.d2, roles=[Role.AREA_STAFF])
    client = Client()
    client.force_login(other)
    assert client.get(_url(_project(world)), {"format": "pdf"}).status_code == 404


def test_another_organisation_gets_404(world: World) -> None:
    project = project_in(world.d2, world.c2, world.o2)
    assert world.client(Role.SOCIAL_ORG_MANAGER).get(_url(project)).status_code == 404


def test_a_pdf_download_is_audited(world: World) -> None:
    project = _project(world)
    world.client(Role.AREA_STAFF).get(_url(project), {"format": "pdf"})
    entry = AuditEntry.objects.filter(action=AuditAction.EXPORT).get()
    assert (entry.object_id, entry.actor_id, entry.changes["format"]) == (
        str(project.pk), world.users[Role.AREA_STAFF].pk, "pdf",
    )  # fmt: skip


def test_a_workbook_download_is_audited(world: World) -> None:
    project = _project(world)
    world.client(Role.AREA_STAFF).get(_url(project), {"format": "xlsx"})
    entry = AuditEntry.objects.filter(action=AuditAction.EXPORT).get()
    assert (entry.object_id, entry.changes["format"], entry.changes["rows"]["项目节点"]) == (
        str(project.pk), "xlsx", 3,
    )  # fmt: skip


def test_looking_at_the_page_is_not_an_export(world: World) -> None:
    world.client(Role.AREA_STAFF).get(_url(_project(world)))
    assert not AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()
