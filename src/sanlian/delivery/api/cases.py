"""JSON API of case work: read the cases one may see (notes only for the case's worker and
supervisor, every read of a case audited), and write contact records (介入记录) through the
page's form and service, with the same Chinese messages. Ids outside the caller's scope: 404."""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from sanlian.core.api import ErrorOut, PageRows, form_errors
from sanlian.core.audit import record_view

from ..forms.cases import ContactForm
from ..models.cases import Case, CaseContact, CasePhase
from ..services import cases as services

router = Router()


def _user(request: HttpRequest) -> Any:
    return request.user


class CaseOut(Schema):
    """A case's header: what the list shows, no note."""

    id: int
    number: str
    person_id: int
    person_name: str
    community_name: str
    problem_category: str
    source: str
    phase: str
    phase_label: str
    worker_name: str
    supervisor_name: str | None
    project_id: int | None
    opened_on: dt.date
    closed_on: dt.date | None
    has_consent: bool


class NotesOut(Schema):
    presenting_problem: str
    information: str
    problems: str
    strengths: str
    assessment_summary: str
    aims: str
    strategies: str
    evaluation_summary: str
    closure_summary: str


class CaseDetailOut(CaseOut):
    notes: NotesOut | None  # null unless the caller is the case's worker or supervisor


class ContactOut(Schema):
    id: int
    served_on: dt.date
    start_time: dt.time
    end_time: dt.time
    kind: str
    notes: str


class ContactIn(Schema):
    served_on: dt.date
    start_time: dt.time
    end_time: dt.time
    kind: str
    notes: str


def _header(case: Case) -> dict[str, Any]:
    return {
        "id": case.pk,
        "number": case.number,
        "person_id": case.person_id,
        "person_name": case.person.name,
        "community_name": case.person.community.name,
        "problem_category": case.problem_category,
        "source": case.source,
        "phase": case.phase,
        "phase_label": str(CasePhase(case.phase).label),
        "worker_name": str(case.worker),
        "supervisor_name": str(case.supervisor) if case.supervisor else None,
        "project_id": case.project_id,
        "opened_on": case.opened_on,
        "closed_on": case.closed_on,
        "has_consent": case.has_consent,
    }


def _contact(c: CaseContact) -> dict[str, Any]:
    return {
        "id": c.pk,
        "served_on": c.served_on,
        "start_time": c.start_time,
        "end_time": c.end_time,
        "kind": c.kind,
        "notes": c.notes,
    }


def _case(request: HttpRequest, case_id: int) -> Case:
    return get_object_or_404(
        Case.objects.visible_to(_user(request)).select_related(
            "person__community", "worker__person", "supervisor__person"
        ),
        pk=case_id,
    )


@router.get("/cases", response=list[CaseOut])
@paginate
def cases(request: HttpRequest, phase: str | None = None) -> Any:
    """The caller's cases (as worker or supervisor; a manager, the organisation's)."""
    qs = services.my_cases(_user(request))
    if phase:
        qs = qs.filter(phase=phase)
    return PageRows(qs, _header)


@router.get("/cases/{case_id}", response=CaseDetailOut)
def case_detail(request: HttpRequest, case_id: int) -> dict[str, Any]:
    user = _user(request)
    case = _case(request, case_id)
    team = services.is_team(case, user)
    record_view(request, case, "个案档案（API）" if team else "个案概况（API）")
    notes = None
    if team:
        notes = {
            "presenting_problem": case.presenting_problem,
            "information": case.information,
            "problems": case.problems,
            "strengths": case.strengths,
            "assessment_summary": case.assessment_summary,
            "aims": case.aims,
            "strategies": case.strategies,
            "evaluation_summary": case.evaluation_summary,
            "closure_summary": case.closure_summary,
        }
    return {**_header(case), "notes": notes}


@router.get("/cases/{case_id}/contacts", response=list[ContactOut])
def contacts(request: HttpRequest, case_id: int) -> list[dict[str, Any]]:
    """The case's contact records (its worker and supervisor only)."""
    user = _user(request)
    case = _case(request, case_id)
    if not services.is_team(case, user):
        raise Http404
    rows = CaseContact.objects.visible_to(user).filter(case=case)
    record_view(request, case, "介入记录（API）")
    return [_contact(c) for c in rows]


@router.post("/cases/{case_id}/contacts", response={201: ContactOut, 400: ErrorOut})
def contact_create(request: HttpRequest, case_id: int, body: ContactIn) -> Any:
    user = _user(request)
    case = _case(request, case_id)
    form = ContactForm(
        {
            "served_on": body.served_on.isoformat(),
            "start_time": body.start_time.strftime("%H:%M"),
            "end_time": body.end_time.strftime("%H:%M"),
            "kind": body.kind,
            "notes": body.notes,
        }
    )
    if not form.is_valid():
        return form_errors(form)
    try:
        contact = services.case_contact_add(case=case, by=user, **form.cleaned_data)
    except ValidationError as exc:
        return form_errors(exc)
    return Status(201, _contact(contact))
