"""Pages of the projects part: the pipeline board, the project page (contract, tranches and
disbursements, milestones and evidence, indicators, evaluations, charts), the contract form,
milestone reports, the disbursement approval queue and the evaluations list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from sanlian.core.decorators import role_required
from sanlian.core.roles import Role
from sanlian.core.scoping import scope_for
from sanlian.core.xlsx import export_response, wants_xlsx
from sanlian.organizations.models import Organization

from ..forms.projects import (
    AcceptForm,
    BoardFilterForm,
    DisbursementActionForm,
    DisbursementRequestForm,
    EvaluationAssignForm,
    EvaluationSubmitForm,
    IndicatorReportForm,
    MilestoneReportForm,
    MilestoneReviewForm,
    SignForm,
    TerminateForm,
    plan_for_application,
    plan_for_project,
)
from ..lifecycle import Transition
from ..models import (
    FUNDER_ROLES,
    Application,
    ApplicationStatus,
    Disbursement,
    DisbursementStatus,
    Evaluation,
    EvaluationStatus,
    Milestone,
    MilestoneEvidence,
    ProjectIndicator,
    ProjectStatus,
    ServiceProject,
    Tranche,
)
from ..services import indicators
from ..services import projects as services

BOARD_STAGES = (
    ProjectStatus.DRAFT,
    ProjectStatus.ACTIVE,
    ProjectStatus.CLOSING,
    ProjectStatus.ACCEPTED,
)
BOARD_CARDS = 30  # per column; the rest through the filters or the export
BOARD_RELATED = ("pool__owner", "organization", "call")
OPEN_DISBURSEMENT = (DisbursementStatus.REQUESTED, DisbursementStatus.APPROVED)


def _user(request: HttpRequest) -> Any:
    return request.user


def _link(obj: Any) -> str:
    return str(obj.get_absolute_url())


def _errors(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _form_errors(request: HttpRequest, form: Any) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _visible_project(request: HttpRequest, pk: int) -> ServiceProject:
    return get_object_or_404(
        ServiceProject.objects.visible_to(request.user).select_related(
            "pool__owner", "organization", "call", "application"
        ),
        pk=pk,
    )


# ---- the pipeline board ----------------------------------------------------------------------


@dataclass
class Column:
    status: str
    label: str
    count: int
    amount: Decimal
    disbursed: Decimal
    projects: list[ServiceProject]
    more: int
    awaiting: list[tuple[Application, str]] = field(default_factory=list)


def _board_projects(request: HttpRequest, user: Any) -> tuple[QuerySet[ServiceProject], Any]:
    projects = ServiceProject.objects.visible_to(user)
    years = list(projects.order_by("-pool__year").values_list("pool__year", flat=True).distinct())
    funders = Organization.objects.filter(pk__in=projects.values("pool__owner")).order_by("path")
    form = BoardFilterForm(request.GET or None, years=years, funders=funders)
    if form.is_valid():
        data = form.cleaned_data
        if data.get("year"):
            projects = projects.filter(pool__year=data["year"])
        if data.get("funder"):
            projects = projects.filter(pool__owner=data["funder"])
        if data.get("field"):
            projects = projects.filter(call__service_field=data["field"])
    projects = projects.select_related(*BOARD_RELATED).order_by("-starts_on", "-pk")
    return projects, form


def _board_cards(projects: QuerySet[ServiceProject]) -> dict[str, list[ServiceProject]]:
    """The first BOARD_CARDS projects of each column, in the board's order. Ranked on narrow
    rows first and then read whole by primary key: sorting the joined wide rows of every
    project of a city (25,000 over five years) took 0.1 s per column."""
    order = [F("starts_on").desc(), F("pk").desc()]
    ranked = (
        projects.filter(status__in=BOARD_STAGES)
        .order_by()
        .annotate(rank=Window(RowNumber(), partition_by=F("status"), order_by=order))
        .filter(rank__lte=BOARD_CARDS)
        .values_list("pk", flat=True)
    )
    cards: dict[str, list[ServiceProject]] = {}
    rows = ServiceProject.objects.filter(pk__in=list(ranked)).select_related(*BOARD_RELATED)
    for project in rows.order_by(*order):
        cards.setdefault(project.status, []).append(project)
    return cards


def _awaiting_contract(user: Any, form: Any) -> list[tuple[Application, str]]:
    """Awarded applications of the user's funding levels that have no contract yet."""
    scope = scope_for(user)
    if scope.area_path is None or not scope.has(*FUNDER_ROLES):
        return []
    qs = Application.objects.visible_to(user).filter(
        status=ApplicationStatus.AWARDED,
        project__isnull=True,
        call__pool__owner__path__startswith=scope.area_path,
    )
    if form.is_valid():
        data = form.cleaned_data
        if data.get("year"):
            qs = qs.filter(call__pool__year=data["year"])
        if data.get("funder"):
            qs = qs.filter(call__pool__owner=data["funder"])
        if data.get("field"):
            qs = qs.filter(call__service_field=data["field"])
    apps = qs.select_related("organization", "call").order_by("-decided_at", "-pk")[:50]
    return [(a, _link(a)) for a in apps]


def _export_projects(request: HttpRequest, projects: QuerySet[ServiceProject]) -> HttpResponse:
    rows = (
        [
            p.contract_number,
            p.title,
            p.organization.name,
            p.pool.owner.name,
            p.pool.year,
            p.call.get_service_field_display(),
            p.get_status_display(),
            p.amount,
            p.disbursed,
            p.starts_on,
            p.ends_on,
            p.signed_on,
            p.get_final_grade_display() if p.final_grade else "",
            p.final_score,
        ]
        for p in projects
    )
    headers = [
        _("合同编号"),
        _("项目名称"),
        _("承接机构"),
        _("资金层级"),
        _("年度"),
        _("服务领域"),
        _("状态"),
        _("合同金额（元）"),
        _("已拨付（元）"),
        _("服务期起"),
        _("服务期止"),
        _("签约日期"),
        _("结项等级"),
        _("结项评估得分"),
    ]
    return export_response(
        request,
        filename=_("服务项目.xlsx"),
        title=_("服务项目"),
        headers=headers,
        rows=rows,
        object_type="resources.ServiceProject",
    )


@login_required
def project_board(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    projects, form = _board_projects(request, user)
    if wants_xlsx(request):
        return _export_projects(request, projects)
    totals = {
        row["status"]: row
        for row in projects.order_by()
        .values("status")
        .annotate(n=Count("pk"), amount=Sum("amount"), disbursed=Sum("disbursed"))
    }
    columns = []
    shown = _board_cards(projects)
    for status in BOARD_STAGES:
        row = totals.get(status, {})
        count = int(row.get("n", 0))
        cards = shown.get(status, [])
        columns.append(
            Column(
                status=status,
                label=str(ProjectStatus(status).label),
                count=count,
                amount=row.get("amount") or Decimal(0),
                disbursed=row.get("disbursed") or Decimal(0),
                projects=cards,
                more=max(count - len(cards), 0),
            )
        )
    columns[0].awaiting = _awaiting_contract(user, form)
    terminated = totals.get(ProjectStatus.TERMINATED, {}).get("n", 0)
    context = {"columns": columns, "form": form, "terminated": terminated}
    return render(request, "resources/projects/board.html", context)


# ---- the project page ------------------------------------------------------------------------


@dataclass
class TrancheRow:
    tranche: Tranche
    disbursements: list[tuple[Disbursement, list[Transition]]]
    can_request: bool
    request_refusal: str
    request_form: DisbursementRequestForm | None


def _tranche_rows(project: ServiceProject, user: Any) -> list[TrancheRow]:
    tranches = project.tranches.select_related(
        "milestone", "project__pool__owner"
    ).prefetch_related(
        Prefetch(
            "disbursements",
            queryset=Disbursement.objects.select_related("requested_by", "paid_by")
            .prefetch_related("approvals__approver")
            .order_by("pk"),
        )
    )
    rows = []
    for t in tranches:
        t.project = project  # the caller's copy, already loaded
        for d in t.disbursements.all():
            d.project = project
        disbursements = [
            (
                d,
                services.allowed(
                    services.DISBURSEMENT_LIFECYCLE, services.disbursement_check, d, user
                ),
            )
            for d in t.disbursements.all()
        ]
        try:
            services.tranche_request_check(t, user)
        except ValidationError as exc:
            refusal = exc.messages[0]
            can = False
        else:
            refusal, can = "", True
        form = (
            DisbursementRequestForm(
                user=user,
                initial={"tranche": t.pk, "request_key": DisbursementRequestForm.new_key()},
            )
            if can
            else None
        )
        rows.append(TrancheRow(t, disbursements, can, refusal, form))
    return rows


def _tranche_context(project: ServiceProject, user: Any, error: str = "") -> dict[str, Any]:
    return {
        "project": project,
        "tranche_rows": _tranche_rows(project, user),
        "tranche_error": error,
        "funds": services.funds(user, project),
        "requester": services.funds(user, project)
        or services.delivers(user, project, manager_only=True),
        "four_eyes_above": services.four_eyes_threshold(),
    }


def _burn_chart(project: ServiceProject, rows: list[TrancheRow]) -> dict[str, Any]:
    """Cumulative money: the tranche schedule (by milestone due date) against what was paid
    (by payment date); from the page's tranche rows, which hold every disbursement."""
    planned = [(r.tranche.milestone.due_on, r.tranche.amount) for r in rows]
    paid = [
        (timezone.localdate(d.paid_at), d.amount)
        for r in rows
        for d, _actions in r.disbursements
        if d.status == DisbursementStatus.PAID and d.paid_at is not None
    ]
    days = sorted({project.starts_on, *(d for d, _ in planned), *(d for d, _ in paid)})

    def cumulative(events: Iterable[tuple[dt.date, Decimal]], day: dt.date) -> Decimal:
        return sum((a for d, a in events if d <= day), Decimal("0.00"))

    return {
        "_kind": "line",
        "categories": [f"{d:%Y-%m-%d}" for d in days],
        "series": [
            {"name": _("计划拨付（累计）"), "data": [cumulative(planned, d) for d in days]},
            {"name": _("实际拨付（累计）"), "data": [cumulative(paid, d) for d in days]},
        ],
    }


def _indicator_chart(progress: list[indicators.Progress]) -> dict[str, Any]:
    return {
        "_kind": "bar",
        "horizontal": True,
        "categories": [p.indicator.name for p in progress],
        "series": [
            {"name": _("目标值"), "data": [p.target for p in progress]},
            {"name": _("完成值"), "data": [p.actual or 0 for p in progress]},
        ],
    }


@login_required
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    project = _visible_project(request, pk)
    funds = services.funds(user, project)
    delivers = services.delivers(user, project)
    milestones = project.milestones.prefetch_related("evidence").select_related("reviewed_by")
    milestone_rows = [
        (m, services.allowed(services.MILESTONE_LIFECYCLE, _milestone_check(project), m, user))
        for m in milestones
    ]
    progress = indicators.project_progress(project)
    evaluations = [
        (e, services.allowed(services.EVALUATION_LIFECYCLE, services.evaluation_check, e, user))
        for e in Evaluation.objects.visible_to(user)
        .filter(project=project)
        .select_related("evaluator", "evaluator_org")
    ]
    tranches = _tranche_context(project, user)
    context = {
        **tranches,
        "funds": funds,
        "delivers": delivers,
        "actions": services.allowed(
            services.PROJECT_LIFECYCLE, services.project_check, project, user
        ),
        "communities": project.communities.order_by("organization__path"),
        "milestone_rows": milestone_rows,
        "progress": progress,
        "can_report_indicators": delivers
        and project.status in (ProjectStatus.ACTIVE, ProjectStatus.CLOSING),
        "evaluations": evaluations,
        "can_assign": funds and project.status in (ProjectStatus.ACTIVE, ProjectStatus.CLOSING),
        "burn_chart": _burn_chart(project, tranches["tranche_rows"]),
        "indicator_chart": _indicator_chart(progress),
        "review_form": MilestoneReviewForm(),
        "sign_form": SignForm(initial={"signed_on": timezone.localdate()}),
        "terminate_form": TerminateForm(),
        "accept_form": AcceptForm(initial={"accepted_on": timezone.localdate()}),
        "application_link": _link(project.application) if project.application else "",
        "call_link": _link(project.call),
    }
    return render(request, "resources/projects/detail.html", context)


def _milestone_check(project: ServiceProject) -> Any:
    def check(milestone: Milestone, action: str, user: Any) -> Any:
        milestone.project = project
        return services.milestone_check(milestone, action, user)

    return check


# ---- the contract ----------------------------------------------------------------------------


@role_required(*FUNDER_ROLES)
def project_create(request: HttpRequest, application_pk: int) -> HttpResponse:
    """Draw up the contract of an awarded application."""
    user = _user(request)
    application = get_object_or_404(
        Application.objects.visible_to(user).select_related("call__pool__owner", "organization"),
        pk=application_pk,
    )
    existing = ServiceProject.objects.visible_to(user).filter(application=application).first()
    if existing is not None:
        messages.info(request, _("该申报已起草合同。"))
        return redirect(existing)
    data = request.POST if request.method == "POST" else None
    plan = plan_for_application(data, application, timezone.localdate())
    if data is not None and plan.is_valid():
        try:
            project = services.project_draw_up(
                application=application, by=user, **plan.service_kwargs()
            )
        except ValidationError as exc:
            plan.add_error(exc)
        else:
            messages.success(request, _("合同已起草，请核对后签约。"))
            for warning in plan.form.warnings():
                messages.warning(request, warning)
            return redirect(project)
    context = {
        "plan": plan,
        "application": application,
        "application_link": _link(application),
        "project": None,
    }
    return render(request, "resources/projects/contract_form.html", context)


@role_required(*FUNDER_ROLES)
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Redraw a contract that is not signed yet."""
    user = _user(request)
    project = _visible_project(request, pk)
    if project.status != ProjectStatus.DRAFT:
        messages.error(request, _("合同已签订，不能再修改。"))
        return redirect(project)
    data = request.POST if request.method == "POST" else None
    plan = plan_for_project(data, project)
    if data is not None and plan.is_valid():
        try:
            services.project_draft_update(project=project, by=user, **plan.service_kwargs())
        except ValidationError as exc:
            plan.add_error(exc)
        else:
            messages.success(request, _("合同已修改。"))
            return redirect(project)
    context = {
        "plan": plan,
        "application": project.application,
        "application_link": _link(project.application) if project.application else "",
        "project": project,
    }
    return render(request, "resources/projects/contract_form.html", context)


def _project_step(
    request: HttpRequest, pk: int, action: str, done: str, **kwargs: Any
) -> HttpResponse:
    user = _user(request)
    project = _visible_project(request, pk)
    steps: dict[str, Callable[..., ServiceProject]] = {
        "sign": services.project_sign,
        "request_closure": services.project_request_closure,
        "accept": services.project_accept,
        "terminate": services.project_terminate,
    }
    try:
        steps[action](project=project, by=user, **kwargs)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, done)
    return redirect(project)


@login_required
@require_POST
def project_sign(request: HttpRequest, pk: int) -> HttpResponse:
    form = SignForm(request.POST)
    signed_on = form.cleaned_data.get("signed_on") if form.is_valid() else None
    return _project_step(
        request, pk, "sign", _("合同已签订，项目进入执行阶段。"), signed_on=signed_on
    )


@login_required
@require_POST
def project_request_closure(request: HttpRequest, pk: int) -> HttpResponse:
    return _project_step(request, pk, "request_closure", _("已申请结项，等待结项评估。"))


@login_required
@require_POST
def project_accept(request: HttpRequest, pk: int) -> HttpResponse:
    form = AcceptForm(request.POST)
    accepted_on = form.cleaned_data.get("accepted_on") if form.is_valid() else None
    return _project_step(request, pk, "accept", _("项目已结项。"), accepted_on=accepted_on)


@login_required
@require_POST
def project_terminate(request: HttpRequest, pk: int) -> HttpResponse:
    form = TerminateForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(_visible_project(request, pk))
    return _project_step(
        request, pk, "terminate", _("项目已终止。"), reason=form.cleaned_data["reason"]
    )


# ---- milestones, evidence, indicators --------------------------------------------------------


def _visible_milestone(request: HttpRequest, pk: int) -> Milestone:
    return get_object_or_404(
        Milestone.objects.visible_to(request.user).select_related(
            "project__pool__owner", "project__organization"
        ),
        pk=pk,
    )


@login_required
def milestone_report(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    milestone = _visible_milestone(request, pk)
    project = milestone.project
    try:
        services.milestone_check(milestone, "report", user)
    except ValidationError as exc:
        _errors(request, exc)
        return redirect(project)
    form = MilestoneReportForm(
        request.POST or None, request.FILES or None, initial={"report": milestone.report}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.milestone_report(
                milestone=milestone,
                by=user,
                report=form.cleaned_data["report"],
                files=form.cleaned_data["evidence"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("节点报告已提交，等待验收。"))
            return redirect(project)
    context = {
        "milestone": milestone,
        "project": project,
        "form": form,
        "evidence": milestone.evidence.order_by("pk"),
    }
    return render(request, "resources/projects/milestone_report.html", context)


@login_required
@require_POST
def milestone_review(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    milestone = _visible_milestone(request, pk)
    form = MilestoneReviewForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(milestone.project)
    note = form.cleaned_data.get("note", "")
    try:
        if form.cleaned_data["decision"] == "accept":
            services.milestone_accept(milestone=milestone, by=user, note=note)
            messages.success(request, _("节点已验收。"))
        else:
            services.milestone_return(milestone=milestone, by=user, note=note)
            messages.success(request, _("节点已退回修改。"))
    except ValidationError as exc:
        _errors(request, exc)
    return redirect(milestone.project)


@login_required
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    evidence = get_object_or_404(MilestoneEvidence.objects.visible_to(request.user), pk=pk)
    return FileResponse(evidence.file.open("rb"), as_attachment=True, filename=evidence.name)


@login_required
@require_POST
def evidence_remove(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = get_object_or_404(
        MilestoneEvidence.objects.visible_to(request.user).select_related("milestone"), pk=pk
    )
    milestone = evidence.milestone
    try:
        services.evidence_remove(evidence=evidence, by=_user(request))
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("佐证材料已删除。"))
    return redirect("resources:milestone_report", milestone.pk)


@login_required
@require_POST
def indicator_report(request: HttpRequest, pk: int) -> HttpResponse:
    indicator = get_object_or_404(
        ProjectIndicator.objects.visible_to(request.user).select_related("project__organization"),
        pk=pk,
    )
    form = IndicatorReportForm(request.POST)
    if form.is_valid():
        try:
            services.indicator_report(
                indicator=indicator, by=_user(request), reported=form.cleaned_data["reported"]
            )
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("指标完成值已更新。"))
    else:
        _form_errors(request, form)
    return redirect(indicator.project)


# ---- disbursements ---------------------------------------------------------------------------


def _after_disbursement(
    request: HttpRequest, project: ServiceProject, error: str, done: str, *, paid: bool = False
) -> HttpResponse:
    """Under htmx the tranches card is re-rendered in place (after a payment the whole page
    is reloaded: the contract's disbursed amount and the burn chart change with it);
    otherwise back to the page."""
    user = _user(request)
    if _is_htmx(request) and paid and not error:
        messages.success(request, done)
        return HttpResponseClientRefresh()
    if _is_htmx(request):
        project = _visible_project(request, project.pk)
        return render(
            request,
            "resources/projects/detail.html#tranches",
            _tranche_context(project, user, error),
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    if request.POST.get("next") == "queue":
        return redirect("resources:disbursement_queue")
    return redirect(project)


@login_required
@require_POST
def disbursement_request(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = DisbursementRequestForm(request.POST, user=user)
    if not form.is_valid():
        raw = str(request.POST.get("tranche", ""))
        if not raw.isdigit():
            raise Http404
        tranche = get_object_or_404(
            Tranche.objects.visible_to(user).select_related("project"), pk=int(raw)
        )
        message = "；".join(str(e) for errors in form.errors.values() for e in errors)
        return _after_disbursement(request, tranche.project, message, "")
    tranche = form.cleaned_data["tranche"]
    error = ""
    try:
        services.disbursement_request(
            tranche=tranche,
            by=user,
            request_key=form.cleaned_data["request_key"],
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        error = "；".join(exc.messages)
    return _after_disbursement(request, tranche.project, error, _("拨付申请已提交，等待审批。"))


@login_required
@require_POST
def disbursement_action(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    disbursement = get_object_or_404(
        Disbursement.objects.visible_to(user).select_related("project"), pk=pk
    )
    form = DisbursementActionForm(request.POST)
    if not form.is_valid():
        message = "；".join(str(e) for errors in form.errors.values() for e in errors)
        return _after_disbursement(request, disbursement.project, message, "")
    action = form.cleaned_data["action"]
    comment = form.cleaned_data["comment"]
    done = {
        "approve": _("已审批。"),
        "reject": _("拨付申请已驳回。"),
        "cancel": _("拨付申请已撤销。"),
        "pay": _("已确认拨付。"),
    }[action]
    error = ""
    try:
        if action == "approve":
            services.disbursement_approve(disbursement=disbursement, by=user, comment=comment)
        elif action == "reject":
            services.disbursement_reject(disbursement=disbursement, by=user, reason=comment)
        elif action == "cancel":
            services.disbursement_cancel(disbursement=disbursement, by=user, reason=comment)
        else:
            services.disbursement_pay(
                disbursement=disbursement,
                by=user,
                payment_reference=form.cleaned_data["payment_reference"],
            )
    except ValidationError as exc:
        error = "；".join(exc.messages)
    return _after_disbursement(request, disbursement.project, error, done, paid=action == "pay")


def _queue(user: Any, status: str) -> QuerySet[Disbursement]:
    scope = scope_for(user)
    qs = Disbursement.objects.visible_to(user).filter(
        project__pool__owner__path__startswith=scope.area_path or "-"
    )
    qs = qs.filter(status=status) if status else qs.filter(status__in=OPEN_DISBURSEMENT)
    return qs.select_related(
        "project__organization", "project__pool__owner", "tranche__milestone", "requested_by"
    ).order_by("requested_at", "pk")


@role_required(*FUNDER_ROLES)
def disbursement_queue(request: HttpRequest) -> HttpResponse:
    """The funder's desk: requests awaiting approval and approved ones awaiting payment."""
    user = _user(request)
    status = request.GET.get("status", "")
    status = status if status in DisbursementStatus.values else ""
    disbursements = _queue(user, status)
    if wants_xlsx(request):
        export_rows = (
            [
                d.project.contract_number,
                d.project.title,
                d.project.organization.name,
                str(d.tranche),
                d.amount,
                d.get_status_display(),
                str(d.requested_by),
                d.requested_at,
                d.approvals.count(),
                d.approvals_required,
                d.paid_at,
                d.payment_reference,
            ]
            for d in disbursements
        )
        headers = [
            _("合同编号"),
            _("项目名称"),
            _("承接机构"),
            _("拨付期次"),
            _("金额（元）"),
            _("状态"),
            _("申请人"),
            _("申请时间"),
            _("已审批人数"),
            _("所需审批人数"),
            _("拨付时间"),
            _("支付凭证号"),
        ]
        return export_response(
            request,
            filename=_("拨付审批.xlsx"),
            title=_("拨付审批"),
            headers=headers,
            rows=export_rows,
            object_type="resources.Disbursement",
        )
    rows = [
        (d, services.allowed(services.DISBURSEMENT_LIFECYCLE, services.disbursement_check, d, user))
        for d in disbursements.prefetch_related("approvals__approver")[:200]
    ]
    context = {
        "rows": rows,
        "status": status,
        "statuses": DisbursementStatus.choices,
        "four_eyes_above": services.four_eyes_threshold(),
    }
    return render(request, "resources/projects/queue.html", context)


# ---- evaluations -----------------------------------------------------------------------------


def _mine(user: Any) -> Q:
    scope = scope_for(user)
    q = Q(evaluator_id=user.pk)
    if scope.has(Role.EVALUATOR) and scope.org_id is not None:
        q |= Q(evaluator__isnull=True, evaluator_org_id=scope.org_id)
    return q


@login_required
def evaluation_list(request: HttpRequest) -> HttpResponse:
    """我的评估: the evaluations assigned to the user (or to their evaluation organisation);
    funder staff may also list every evaluation of their projects (?all=1)."""
    user = _user(request)
    evaluations = Evaluation.objects.visible_to(user).select_related(
        "project__organization", "evaluator", "evaluator_org"
    )
    show_all = request.GET.get("all") == "1" and user.has_role(*FUNDER_ROLES)
    if not show_all:
        evaluations = evaluations.filter(_mine(user))
    evaluations = evaluations.order_by("status", "-pk")
    if wants_xlsx(request):
        rows = (
            [
                e.project.contract_number,
                e.project.title,
                e.project.organization.name,
                e.get_stage_display(),
                e.get_framework_display(),
                str(e.evaluator or ""),
                e.evaluator_org.name if e.evaluator_org else "",
                e.get_status_display(),
                e.score,
                e.get_grade_display() if e.grade else "",
                e.submitted_at,
            ]
            for e in evaluations
        )
        headers = [
            _("合同编号"),
            _("项目名称"),
            _("承接机构"),
            _("评估阶段"),
            _("评估框架"),
            _("评估人"),
            _("评估机构"),
            _("状态"),
            _("总分"),
            _("等级"),
            _("提交时间"),
        ]
        return export_response(
            request,
            filename=_("项目评估.xlsx"),
            title=_("项目评估"),
            headers=headers,
            rows=rows,
            object_type="resources.Evaluation",
        )
    context = {
        "evaluations": evaluations[:200],
        "show_all": show_all,
        "can_show_all": user.has_role(*FUNDER_ROLES),
    }
    return render(request, "resources/projects/evaluation_list.html", context)


@role_required(*FUNDER_ROLES)
def evaluation_assign(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    project = _visible_project(request, pk)
    form = EvaluationAssignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.evaluation_assign(project=project, by=user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("评估已分派。"))
            return redirect(project)
    return render(
        request, "resources/projects/evaluation_assign.html", {"form": form, "project": project}
    )


@login_required
def evaluation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The evaluation; its evaluator scores it here, seeing the contract's indicators."""
    user = _user(request)
    evaluation = get_object_or_404(
        Evaluation.objects.visible_to(user).select_related(
            "project__pool__owner", "project__organization", "evaluator", "evaluator_org"
        ),
        pk=pk,
    )
    try:
        services.evaluation_check(evaluation, "submit", user)
        can_submit = True
    except ValidationError:
        can_submit = False
    form = None
    if can_submit:
        form = EvaluationSubmitForm(request.POST or None, evaluation=evaluation)
        if request.method == "POST" and form.is_valid():
            try:
                services.evaluation_submit(
                    evaluation=evaluation,
                    by=user,
                    scores=form.scores(),
                    findings=form.cleaned_data["findings"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("评估已提交。"))
                return redirect("resources:evaluation_detail", evaluation.pk)
    dims = [
        (label, top, evaluation.scores.get(code, ""))
        for code, label, top in services.dimensions(evaluation.framework)
    ]
    context = {
        "evaluation": evaluation,
        "project": evaluation.project,
        "progress": indicators.project_progress(evaluation.project),
        "dims": dims,
        "form": form,
        "submitted": evaluation.status == EvaluationStatus.SUBMITTED,
    }
    return render(request, "resources/projects/evaluation_detail.html", context)
