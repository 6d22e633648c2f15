"""JSON API of the projects part: projects and their contracts, milestones and evidence,
indicators, disbursements (request with a client `request_key`, approve, reject, cancel,
pay), evaluations and acceptance.

Bodies are validated by the pages' forms (fed as form data) and written by the same
services, so the rules and the Chinese messages are the same; every id is looked up through
visible_to(). Amounts go out as strings ("30000.00") and are best sent as strings too.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from ninja import File, Form, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.pagination import paginate

from sanlian.core.api import ErrorOut, form_errors, formset_data
from sanlian.core.scoping import scope_for

from ..forms.projects import (
    ContractPlan,
    DisbursementActionForm,
    DisbursementRequestForm,
    EvaluationAssignForm,
    EvaluationSubmitForm,
    EvidenceForm,
    IndicatorReportForm,
    MilestoneReviewForm,
    TerminateForm,
)
from ..models import (
    FUNDER_ROLES,
    Application,
    Disbursement,
    Evaluation,
    Milestone,
    ProjectIndicator,
    ServiceProject,
    Tranche,
)
from ..services import indicators
from ..services import projects as services

router = Router()

Amount = str | int | float


def _body(**values: Any) -> dict[str, Any]:
    """JSON values as the POST data of a form (dates as ISO text, None left out)."""
    return {
        k: v.isoformat() if hasattr(v, "isoformat") else v
        for k, v in values.items()
        if v is not None
    }


def _project(request: HttpRequest, project_id: int) -> ServiceProject:
    return get_object_or_404(
        ServiceProject.objects.visible_to(request.user).select_related(
            "pool__owner", "organization", "application"
        ),
        pk=project_id,
    )


# ---- schemas -------------------------------------------------------------------------------


class TrancheOut(Schema):
    id: int
    seq: int
    milestone_id: int
    amount: Decimal


class ApprovalOut(Schema):
    approver_id: int
    approved_at: dt.datetime
    comment: str


class DisbursementOut(Schema):
    id: int
    project_id: int
    tranche_id: int
    amount: Decimal
    status: str
    request_key: uuid.UUID
    approvals_required: int
    approvals: list[ApprovalOut]
    requested_by_id: int
    requested_at: dt.datetime
    note: str
    paid_by_id: int | None
    paid_at: dt.datetime | None
    payment_reference: str
    closed_reason: str

    @staticmethod
    def resolve_approvals(obj: Disbursement) -> list[Any]:
        return list(obj.approvals.order_by("pk"))


class EvidenceOut(Schema):
    id: int
    name: str
    description: str
    uploaded_at: dt.datetime
    url: str

    @staticmethod
    def resolve_url(obj: Any) -> str:
        return reverse("resources:evidence_download", args=[obj.pk])


class MilestoneOut(Schema):
    id: int
    project_id: int
    seq: int
    title: str
    due_on: dt.date
    deliverables: str
    status: str
    report: str
    reported_at: dt.datetime | None
    reviewed_at: dt.datetime | None
    review_note: str
    evidence: list[EvidenceOut]

    @staticmethod
    def resolve_evidence(obj: Milestone) -> list[Any]:
        return list(obj.evidence.order_by("pk"))


class IndicatorOut(Schema):
    id: int
    kind: str
    metric: str
    name: str
    target: Decimal
    unit: str
    reported: Decimal | None
    actual: Decimal | None
    source: str


def _indicator_out(p: indicators.Progress) -> dict[str, Any]:
    i = p.indicator
    return {
        "id": i.pk,
        "kind": i.kind,
        "metric": i.metric,
        "name": i.name,
        "target": i.target,
        "unit": i.unit,
        "reported": i.reported,
        "actual": p.actual,
        "source": p.source,
    }


class EvaluationOut(Schema):
    id: int
    project_id: int
    stage: str
    framework: str
    evaluator_id: int | None
    evaluator_org_id: int | None
    status: str
    scores: dict[str, str]
    score: Decimal | None
    grade: str
    findings: str
    submitted_at: dt.datetime | None


class ProjectOut(Schema):
    id: int
    title: str
    contract_number: str
    status: str
    organization_id: int
    pool_id: int
    call_id: int
    application_id: int | None
    amount: Decimal
    disbursed: Decimal
    starts_on: dt.date
    ends_on: dt.date
    signed_on: dt.date | None
    final_score: Decimal | None
    final_grade: str
    accepted_on: dt.date | None
    terminated_reason: str
    community_ids: list[int]

    @staticmethod
    def resolve_community_ids(obj: ServiceProject) -> list[int]:
        return sorted(c.pk for c in obj.communities.all())


class ProjectDetailOut(ProjectOut):
    tranches: list[TrancheOut]
    milestones: list[MilestoneOut]
    indicators: list[IndicatorOut]
    disbursements: list[DisbursementOut]
    evaluations: list[EvaluationOut]

    @staticmethod
    def resolve_tranches(obj: ServiceProject) -> list[Any]:
        return list(obj.tranches.order_by("seq"))

    @staticmethod
    def resolve_milestones(obj: ServiceProject) -> list[Any]:
        return list(obj.milestones.order_by("seq"))

    @staticmethod
    def resolve_indicators(obj: ServiceProject) -> list[dict[str, Any]]:
        return [_indicator_out(p) for p in indicators.project_progress(obj)]

    @staticmethod
    def resolve_disbursements(obj: ServiceProject) -> list[Any]:
        return list(obj.disbursements.order_by("pk"))

    @staticmethod
    def resolve_evaluations(obj: ServiceProject) -> list[Any]:
        return list(obj.evaluations.order_by("stage", "pk"))


class MilestoneIn(Schema):
    title: str
    due_on: dt.date
    share: Amount
    deliverables: str = ""


class IndicatorIn(Schema):
    kind: str = "output"
    metric: str = "other"
    name: str
    target: Amount
    unit: str = ""


class ContractIn(Schema):
    application_id: int
    title: str = ""
    contract_number: str
    amount: Amount
    starts_on: dt.date
    ends_on: dt.date
    tranche_mode: str = "percent"
    milestones: list[MilestoneIn]
    indicators: list[IndicatorIn] | None = None


class DateIn(Schema):
    on: dt.date | None = None


class ReasonIn(Schema):
    reason: str = ""


class NoteIn(Schema):
    note: str = ""


class ReportIn(Schema):
    report: str


class ReportedIn(Schema):
    reported: Amount


class DisbursementIn(Schema):
    tranche_id: int
    request_key: str
    note: str = ""


class CommentIn(Schema):
    comment: str = ""


class PayIn(Schema):
    payment_reference: str = ""


class AssignIn(Schema):
    stage: str
    framework: str = "ipoo"
    evaluator_id: int | None = None
    evaluator_org_id: int | None = None


class SubmitIn(Schema):
    scores: dict[str, Amount]
    findings: str


# ---- projects ------------------------------------------------------------------------------


@router.get("/projects", response=list[ProjectOut])
@paginate
def projects(request: HttpRequest, status: str | None = None, year: int | None = None) -> Any:
    qs = ServiceProject.objects.visible_to(request.user).order_by("pk")
    if status:
        qs = qs.filter(status=status)
    if year is not None:
        qs = qs.filter(pool__year=year)
    return qs.prefetch_related("communities")


@router.get("/projects/{project_id}", response=ProjectDetailOut)
def project(request: HttpRequest, project_id: int) -> ServiceProject:
    return _project(request, project_id)


@router.post("/projects", response={201: ProjectDetailOut, 400: ErrorOut})
def project_create(request: HttpRequest, payload: ContractIn) -> Any:
    """Draw up the contract of an awarded application (indicators default to the
    application's)."""
    user: Any = request.user
    if not user.has_role(*FUNDER_ROLES):
        raise HttpError(403, "只有资金层级的工会工作人员可以起草合同")
    application = get_object_or_404(Application.objects.visible_to(user), pk=payload.application_id)
    indicator_rows = (
        [r.dict() for r in payload.indicators]
        if payload.indicators is not None
        else [
            {"kind": i.kind, "metric": i.metric, "name": i.name, "target": i.target, "unit": i.unit}
            for i in services.indicators_from_application(application)
        ]
    )
    data = {
        **_body(
            title=payload.title or application.title,
            contract_number=payload.contract_number,
            amount=payload.amount,
            starts_on=payload.starts_on,
            ends_on=payload.ends_on,
            tranche_mode=payload.tranche_mode,
        ),
        **formset_data("milestones", [m.dict() for m in payload.milestones]),
        **formset_data("indicators", indicator_rows),
    }
    plan = ContractPlan(data, application=application)
    if not plan.is_valid():
        return form_errors(plan.form, plan.milestones, plan.indicators)
    try:
        created = services.project_draw_up(
            application=application, by=user, **plan.service_kwargs()
        )
    except ValidationError as exc:
        return form_errors(exc)
    return Status(201, created)


def _step(request: HttpRequest, project_id: int, action: str, **kwargs: Any) -> Any:
    project = _project(request, project_id)
    steps: dict[str, Any] = {
        "sign": services.project_sign,
        "request_closure": services.project_request_closure,
        "accept": services.project_accept,
        "terminate": services.project_terminate,
    }
    try:
        return steps[action](project=project, by=request.user, **kwargs)
    except ValidationError as exc:
        return form_errors(exc)


@router.post("/projects/{project_id}/sign", response={200: ProjectDetailOut, 400: ErrorOut})
def project_sign(request: HttpRequest, project_id: int, payload: DateIn) -> Any:
    return _step(request, project_id, "sign", signed_on=payload.on)


@router.post(
    "/projects/{project_id}/request-closure", response={200: ProjectDetailOut, 400: ErrorOut}
)
def project_request_closure(request: HttpRequest, project_id: int) -> Any:
    return _step(request, project_id, "request_closure")


@router.post("/projects/{project_id}/accept", response={200: ProjectDetailOut, 400: ErrorOut})
def project_accept(request: HttpRequest, project_id: int, payload: DateIn) -> Any:
    """结项: closes the project with the submitted final evaluation's score and grade."""
    return _step(request, project_id, "accept", accepted_on=payload.on)


@router.post("/projects/{project_id}/terminate", response={200: ProjectDetailOut, 400: ErrorOut})
def project_terminate(request: HttpRequest, project_id: int, payload: ReasonIn) -> Any:
    form = TerminateForm({"reason": payload.reason})
    if not form.is_valid():
        return form_errors(form)
    return _step(request, project_id, "terminate", reason=form.cleaned_data["reason"])


# ---- milestones and indicators -------------------------------------------------------------


def _milestone(request: HttpRequest, milestone_id: int) -> Milestone:
    return get_object_or_404(
        Milestone.objects.visible_to(request.user).select_related(
            "project__pool__owner", "project__organization"
        ),
        pk=milestone_id,
    )


@router.post("/milestones/{milestone_id}/evidence", response={201: EvidenceOut, 400: ErrorOut})
def milestone_evidence(
    request: HttpRequest,
    milestone_id: int,
    file: File[UploadedFile],
    description: Form[str] = "",
) -> Any:
    """Upload one evidence file (multipart) before reporting the milestone."""
    milestone = _milestone(request, milestone_id)
    form = EvidenceForm({"description": description}, MultiValueDict({"file": [file]}))
    if not form.is_valid():
        return form_errors(form)
    try:
        evidence = services.evidence_add(
            milestone=milestone,
            by=request.user,  # type: ignore[arg-type]
            file=form.cleaned_data["file"],
            description=form.cleaned_data["description"],
        )
    except ValidationError as exc:
        return form_errors(exc)
    return Status(201, evidence)


@router.post("/milestones/{milestone_id}/report", response={200: MilestoneOut, 400: ErrorOut})
def milestone_report(request: HttpRequest, milestone_id: int, payload: ReportIn) -> Any:
    milestone = _milestone(request, milestone_id)
    try:
        return services.milestone_report(
            milestone=milestone,
            by=request.user,  # type: ignore[arg-type]
            report=payload.report,
        )
    except ValidationError as exc:
        return form_errors(exc)


def _review(request: HttpRequest, milestone_id: int, decision: str, note: str) -> Any:
    milestone = _milestone(request, milestone_id)
    form = MilestoneReviewForm({"decision": decision, "note": note})
    if not form.is_valid():
        return form_errors(form)
    review = services.milestone_accept if decision == "accept" else services.milestone_return
    try:
        return review(milestone=milestone, by=request.user, note=form.cleaned_data["note"])  # type: ignore[arg-type]
    except ValidationError as exc:
        return form_errors(exc)


@router.post("/milestones/{milestone_id}/accept", response={200: MilestoneOut, 400: ErrorOut})
def milestone_accept(request: HttpRequest, milestone_id: int, payload: NoteIn) -> Any:
    return _review(request, milestone_id, "accept", payload.note)


@router.post("/milestones/{milestone_id}/return", response={200: MilestoneOut, 400: ErrorOut})
def milestone_return(request: HttpRequest, milestone_id: int, payload: NoteIn) -> Any:
    return _review(request, milestone_id, "return", payload.note)


@router.post("/indicators/{indicator_id}/report", response={200: IndicatorOut, 400: ErrorOut})
def indicator_report(request: HttpRequest, indicator_id: int, payload: ReportedIn) -> Any:
    indicator = get_object_or_404(
        ProjectIndicator.objects.visible_to(request.user).select_related("project__organization"),
        pk=indicator_id,
    )
    form = IndicatorReportForm({"reported": str(payload.reported)})
    if not form.is_valid():
        return form_errors(form)
    try:
        services.indicator_report(
            indicator=indicator,
            by=request.user,  # type: ignore[arg-type]
            reported=form.cleaned_data["reported"],
        )
    except ValidationError as exc:
        return form_errors(exc)
    return _indicator_out(indicators.actual_of(indicator))


# ---- disbursements -------------------------------------------------------------------------


@router.get("/disbursements", response=list[DisbursementOut])
@paginate
def disbursements(
    request: HttpRequest, status: str | None = None, project_id: int | None = None
) -> Any:
    qs = Disbursement.objects.visible_to(request.user).order_by("pk")
    if status:
        qs = qs.filter(status=status)
    if project_id is not None:
        qs = qs.filter(project_id=project_id)
    return qs


@router.get("/disbursements/{disbursement_id}", response=DisbursementOut)
def disbursement(request: HttpRequest, disbursement_id: int) -> Disbursement:
    return get_object_or_404(Disbursement.objects.visible_to(request.user), pk=disbursement_id)


@router.post("/disbursements", response={200: DisbursementOut, 201: DisbursementOut, 400: ErrorOut})
def disbursement_request(request: HttpRequest, payload: DisbursementIn) -> Any:
    """Ask for a tranche's money once its milestone is accepted. `request_key` is a UUID the
    client makes once per request: sending it again (a retry) returns the first
    disbursement with 200 instead of creating another."""
    user: Any = request.user
    form = DisbursementRequestForm(
        {"tranche": payload.tranche_id, "request_key": payload.request_key, "note": payload.note},
        user=user,
    )
    if not form.is_valid():
        return form_errors(form)
    tranche: Tranche = form.cleaned_data["tranche"]
    try:
        created, is_new = services.disbursement_request(
            tranche=tranche,
            by=user,
            request_key=form.cleaned_data["request_key"],
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        return form_errors(exc)
    return Status(201 if is_new else 200, created)


def _act(request: HttpRequest, disbursement_id: int, action: str, **fields: str) -> Any:
    user: Any = request.user
    disbursement = get_object_or_404(
        Disbursement.objects.visible_to(user).select_related("project"), pk=disbursement_id
    )
    form = DisbursementActionForm({"action": action, **fields})
    if not form.is_valid():
        return form_errors(form)
    comment = form.cleaned_data["comment"]
    try:
        if action == "approve":
            return services.disbursement_approve(
                disbursement=disbursement, by=user, comment=comment
            )
        if action == "reject":
            return services.disbursement_reject(disbursement=disbursement, by=user, reason=comment)
        if action == "cancel":
            return services.disbursement_cancel(disbursement=disbursement, by=user, reason=comment)
        return services.disbursement_pay(
            disbursement=disbursement,
            by=user,
            payment_reference=form.cleaned_data["payment_reference"],
        )
    except ValidationError as exc:
        return form_errors(exc)


@router.post(
    "/disbursements/{disbursement_id}/approve", response={200: DisbursementOut, 400: ErrorOut}
)
def disbursement_approve(request: HttpRequest, disbursement_id: int, payload: CommentIn) -> Any:
    return _act(request, disbursement_id, "approve", comment=payload.comment)


@router.post(
    "/disbursements/{disbursement_id}/reject", response={200: DisbursementOut, 400: ErrorOut}
)
def disbursement_reject(request: HttpRequest, disbursement_id: int, payload: ReasonIn) -> Any:
    return _act(request, disbursement_id, "reject", comment=payload.reason)


@router.post(
    "/disbursements/{disbursement_id}/cancel", response={200: DisbursementOut, 400: ErrorOut}
)
def disbursement_cancel(request: HttpRequest, disbursement_id: int, payload: ReasonIn) -> Any:
    return _act(request, disbursement_id, "cancel", comment=payload.reason)


@router.post("/disbursements/{disbursement_id}/pay", response={200: DisbursementOut, 400: ErrorOut})
def disbursement_pay(request: HttpRequest, disbursement_id: int, payload: PayIn) -> Any:
    return _act(request, disbursement_id, "pay", payment_reference=payload.payment_reference)


# ---- evaluations ---------------------------------------------------------------------------


@router.get("/evaluations", response=list[EvaluationOut])
@paginate
def evaluations(request: HttpRequest, status: str | None = None) -> Any:
    """The evaluations assigned to the caller (or to the caller's evaluation
    organisation)."""
    user: Any = request.user
    scope = scope_for(user)
    qs = Evaluation.objects.visible_to(user).order_by("pk")
    mine = qs.filter(evaluator_id=user.pk)
    if scope.org_id is not None:
        mine = mine | qs.filter(evaluator__isnull=True, evaluator_org_id=scope.org_id)
    return mine.filter(status=status) if status else mine


@router.post("/projects/{project_id}/evaluations", response={201: EvaluationOut, 400: ErrorOut})
def evaluation_assign(request: HttpRequest, project_id: int, payload: AssignIn) -> Any:
    user: Any = request.user
    if not user.has_role(*FUNDER_ROLES):
        raise HttpError(403, "只有资金层级的工会工作人员可以分派评估")
    project = _project(request, project_id)
    form = EvaluationAssignForm(
        _body(
            stage=payload.stage,
            framework=payload.framework,
            evaluator=payload.evaluator_id,
            evaluator_org=payload.evaluator_org_id,
        )
    )
    if not form.is_valid():
        return form_errors(form)
    try:
        created = services.evaluation_assign(project=project, by=user, **form.cleaned_data)
    except ValidationError as exc:
        return form_errors(exc)
    return Status(201, created)


@router.post("/evaluations/{evaluation_id}/submit", response={200: EvaluationOut, 400: ErrorOut})
def evaluation_submit(request: HttpRequest, evaluation_id: int, payload: SubmitIn) -> Any:
    """Scores per dimension of the evaluation's framework (codes as in its `scores`), within
    each dimension's maximum, and findings; the total and grade are computed."""
    evaluation = get_object_or_404(
        Evaluation.objects.visible_to(request.user).select_related("project"), pk=evaluation_id
    )
    form = EvaluationSubmitForm(
        {
            "findings": payload.findings,
            **{f"score_{code}": str(value) for code, value in payload.scores.items()},
        },
        evaluation=evaluation,
    )
    if not form.is_valid():
        return form_errors(form)
    try:
        return services.evaluation_submit(
            evaluation=evaluation,
            by=request.user,  # type: ignore[arg-type]
            scores=form.scores(),
            findings=form.cleaned_data["findings"],
        )
    except ValidationError as exc:
        return form_errors(exc)
