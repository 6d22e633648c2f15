"""Pages of case work: my cases (with the xlsx export, which leaves every note out), the
supervisor's sign-off queue, area counts, intake, the case file with one form per step of the
current phase, and referrals (outgoing and incoming). Every showing of a case file or a
referral is written to the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from sanlian.core.audit import record_view
from sanlian.core.decorators import role_required
from sanlian.core.forms import add_service_errors
from sanlian.core.roles import Role
from sanlian.core.scoping import AREA_ROLES
from sanlian.core.xlsx import export_response, wants_xlsx
from sanlian.organizations.models import Community, SocialWorker
from sanlian.resources.models import ServiceProject

from ..forms.cases import (
    AssessmentForm,
    CaseOpenForm,
    ClosureForm,
    ConsentForm,
    ContactForm,
    EvaluationForm,
    FollowUpForm,
    GoalForm,
    GoalPickForm,
    GoalRateForm,
    IntakeDecisionForm,
    NoteForm,
    OverrideForm,
    PlanForm,
    ReferralDecisionForm,
    ReferralForm,
    SupervisorForm,
)
from ..models.cases import PHASE_ORDER, WORKING_PHASES, Case, CasePhase, Referral, ReferralStatus
from ..services import cases as services

CASE_ROLES = (Role.SOCIAL_WORKER, Role.SOCIAL_ORG_MANAGER)


def _user(request: HttpRequest) -> Any:
    return request.user


# ---- lists -------------------------------------------------------------------------------


def _export(request: HttpRequest, cases: Any) -> HttpResponse:
    """The list as xlsx: who, where, what kind of problem, which phase — never a note."""
    return export_response(
        request,
        filename="cases.xlsx",
        title=_("个案"),
        headers=[
            _("编号"),
            _("服务对象"),
            _("社区"),
            _("问题类别"),
            _("来源"),
            _("阶段"),
            _("负责社工"),
            _("督导"),
            _("服务项目"),
            _("接案日期"),
            _("结案日期"),
            _("介入次数"),
        ],
        rows=(
            [
                c.number,
                c.person.name,
                c.person.community.name,
                c.get_problem_category_display(),
                c.get_source_display(),
                c.get_phase_display(),
                str(c.worker),
                str(c.supervisor) if c.supervisor else "",
                c.project.title if c.project else "",
                c.opened_on,
                c.closed_on,
                c.contact_count,
            ]
            for c in cases
        ),
        object_type="delivery.Case",
    )


@role_required(*CASE_ROLES)
def case_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    cases = services.my_cases(user)
    phase = request.GET.get("phase", "")
    if phase in CasePhase.values:
        cases = cases.filter(phase=phase)
    if request.GET.get("mine") == "1":
        cases = cases.held_by(user)
    if wants_xlsx(request):
        return _export(request, cases)
    context = {
        "page": Paginator(cases, 50).get_page(request.GET.get("page")),
        "phases": CasePhase.choices,
        "phase": phase,
        "can_open": services.worker_of(user) is not None,
        "title": _("我的个案"),
    }
    return render(request, "delivery/cases/case_list.html", context)


@role_required(Role.SOCIAL_WORKER)
def case_queue(request: HttpRequest) -> HttpResponse:
    """督导待办: plans and closures waiting for this supervisor's sign-off."""
    user = _user(request)
    context = {
        "page": Paginator(services.sign_off_queue(user), 50).get_page(request.GET.get("page")),
        "title": _("督导待办"),
        "queue": True,
    }
    return render(request, "delivery/cases/case_list.html", context)


@role_required(*AREA_ROLES)
def case_stats(request: HttpRequest) -> HttpResponse:
    """Area staff: counts only."""
    rows = services.case_counts(_user(request))
    phases = [(p, CasePhase(p).label) for p in (*PHASE_ORDER, CasePhase.NOT_TAKEN)]
    table = [(r.community, [r.by_phase.get(p, 0) for p, _label in phases], r.total) for r in rows]
    context = {"phases": phases, "table": table, "total": sum(r.total for r in rows)}
    return render(request, "delivery/cases/case_stats.html", context)


# ---- intake ------------------------------------------------------------------------------


def _open_form(user: Any, data: Any = None) -> CaseOpenForm:
    worker = services.worker_of(user)
    if worker is None:
        supervisors: Any = SocialWorker.objects.none()
        projects: Any = ServiceProject.objects.none()
    else:
        supervisors = services.supervisor_candidates(worker.organization).exclude(pk=worker.pk)
        projects = services.case_projects(worker.organization)
    return CaseOpenForm(
        data,
        initial={"opened_on": timezone.localdate()},
        people=services.intake_people(user).select_related("community"),
        communities=Community.objects.visible_to(user),
        supervisors=supervisors,
        projects=projects,
    )


@role_required(Role.SOCIAL_WORKER)
def case_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = _open_form(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            if d.get("person") is not None:
                case = services.case_open(by=user, person=d["person"], **form.case_fields())
            else:
                case = services.case_open_for_new_person(
                    by=user,
                    name=d["new_name"],
                    sex=d["new_sex"],
                    phone=d["new_phone"],
                    community=d["new_community"],
                    **form.case_fields(),
                )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已登记接案，请作出接案决定。"))
            return redirect(case)
    return render(request, "delivery/cases/case_form.html", {"form": form})


# ---- the case file -------------------------------------------------------------------------


Handler = Callable[[Case, Any, dict[str, Any]], Any]


@dataclass(frozen=True)
class Step:
    """One action on the case file: its form and the service it calls."""

    form: Callable[[Case, Any, Any], forms.BaseForm]
    run: Handler
    done: Any  # the success message


def _plain(cls: type[forms.Form]) -> Callable[[Case, Any, Any], forms.BaseForm]:
    return lambda case, user, data: cls(data)


def _goal(case: Case, data: dict[str, Any]) -> Any:
    goal = case.goals.filter(pk=data["goal_id"]).first()
    if goal is None:
        raise ValidationError(_("找不到该服务目标。"))
    return goal


def _referral(case: Case, data: dict[str, Any]) -> Referral:
    referral = case.referrals.filter(pk=data["referral_id"]).first()
    if referral is None:
        raise ValidationError(_("找不到该转介。"))
    return referral


class AdvanceForm(forms.Form):
    to = forms.ChoiceField(choices=CasePhase.choices, widget=forms.HiddenInput)


class Empty(forms.Form):
    pass


class OverrideStepForm(OverrideForm):
    referral_id = forms.IntegerField(widget=forms.HiddenInput)


STEPS: dict[str, Step] = {
    "supervisor": Step(
        lambda case, user, data: SupervisorForm(
            data,
            supervisors=services.supervisor_candidates(case.organization).exclude(
                pk=case.worker_id
            ),
        ),
        lambda case, user, d: services.case_supervisor_set(
            case=case, by=user, supervisor=d["supervisor"]
        ),
        gettext_lazy("已指定督导。"),
    ),
    "intake": Step(
        _plain(IntakeDecisionForm),
        lambda case, user, d: services.case_intake_decide(case=case, by=user, **d),
        gettext_lazy("接案决定已保存。"),
    ),
    "consent": Step(
        _plain(ConsentForm),
        lambda case, user, d: services.case_consent_record(case=case, by=user, **d),
        gettext_lazy("已登记服务对象的单独同意。"),
    ),
    "assessment": Step(
        _plain(AssessmentForm),
        lambda case, user, d: services.case_assessment_save(case=case, by=user, **d),
        gettext_lazy("预估已保存。"),
    ),
    "plan": Step(
        _plain(PlanForm),
        lambda case, user, d: services.case_plan_save(case=case, by=user, **d),
        gettext_lazy("服务计划已保存。"),
    ),
    "goal-add": Step(
        _plain(GoalForm),
        lambda case, user, d: services.case_goal_add(case=case, by=user, **d),
        gettext_lazy("已添加服务目标。"),
    ),
    "goal-remove": Step(
        _plain(GoalPickForm),
        lambda case, user, d: services.case_goal_remove(goal=_goal(case, d), by=user),
        gettext_lazy("已删除服务目标。"),
    ),
    "plan-submit": Step(
        _plain(Empty),
        lambda case, user, d: services.case_plan_submit(case=case, by=user),
        gettext_lazy("服务计划已提交督导审核。"),
    ),
    "plan-sign": Step(
        _plain(Empty),
        lambda case, user, d: services.case_plan_sign(case=case, by=user),
        gettext_lazy("服务计划已审核通过。"),
    ),
    "plan-return": Step(
        _plain(NoteForm),
        lambda case, user, d: services.case_plan_return(case=case, by=user, note=d["note"]),
        gettext_lazy("服务计划已退回。"),
    ),
    "advance": Step(
        _plain(AdvanceForm),
        lambda case, user, d: services.case_advance(case=case, by=user, to=d["to"]),
        gettext_lazy("个案已进入下一阶段。"),
    ),
    "contact": Step(
        _plain(ContactForm),
        lambda case, user, d: services.case_contact_add(case=case, by=user, **d),
        gettext_lazy("介入记录已保存。"),
    ),
    "goal-rate": Step(
        _plain(GoalRateForm),
        lambda case, user, d: services.case_goal_rate(
            goal=_goal(case, d), by=user, attainment=d["attainment"], note=d["note"]
        ),
        gettext_lazy("目标达成情况已保存。"),
    ),
    "evaluation": Step(
        _plain(EvaluationForm),
        lambda case, user, d: services.case_evaluation_save(case=case, by=user, **d),
        gettext_lazy("评估小结已保存。"),
    ),
    "close": Step(
        _plain(ClosureForm),
        lambda case, user, d: services.case_closure_submit(case=case, by=user, **d),
        gettext_lazy("结案申请已提交督导审核。"),
    ),
    "closure-sign": Step(
        _plain(Empty),
        lambda case, user, d: services.case_closure_sign(case=case, by=user),
        gettext_lazy("已审核结案。"),
    ),
    "closure-return": Step(
        _plain(NoteForm),
        lambda case, user, d: services.case_closure_return(case=case, by=user, note=d["note"]),
        gettext_lazy("结案申请已退回。"),
    ),
    "follow-up": Step(
        _plain(FollowUpForm),
        lambda case, user, d: services.case_follow_up_add(case=case, by=user, **d),
        gettext_lazy("回访记录已保存。"),
    ),
    "refer": Step(
        lambda case, user, data: ReferralForm(
            data,
            targets=services.referral_targets(case),
            # Drawn only for the worker, the one who sees the form (one query less for others).
            shown=services.referral_target_options(case) if services.is_worker(case, user) else [],
            search_url=reverse("delivery:referral_targets", args=[case.pk]),
        ),
        lambda case, user, d: services.referral_create(case=case, by=user, **d),
        gettext_lazy("已发起转介。"),
    ),
    "override": Step(
        _plain(OverrideStepForm),
        lambda case, user, d: services.referral_override(
            referral=_referral(case, d), by=user, reason=d["reason"], summary=d["summary"]
        ),
        gettext_lazy("已记录督导决定，接收机构可以看到提供的个案信息。"),
    ),
}


def _step_form(name: str, case: Case, user: Any, data: Any) -> forms.BaseForm:
    """The form of one step, its ids prefixed with the step: the case file shows several
    forms at once (their `summary`, `reason`, `consent_on`... would otherwise share ids)."""
    form = STEPS[name].form(case, user, data)
    form.auto_id = f"id_{name.replace('-', '_')}_%s"
    return form


def _case(request: HttpRequest, pk: int) -> Case:
    return get_object_or_404(
        Case.objects.visible_to(_user(request)).select_related(
            "person__community", "worker__person", "supervisor__person", "project", "organization"
        ),
        pk=pk,
    )


def _render_case(
    request: HttpRequest, case: Case, bound: dict[str, forms.BaseForm] | None = None
) -> HttpResponse:
    user = _user(request)
    team = services.is_team(case, user)
    record_view(request, case, "个案档案" if team else "个案概况")
    blank = {name: _step_form(name, case, user, None) for name in STEPS}
    if team:
        blank["assessment"].initial = {
            "information": case.information,
            "problems": case.problems,
            "strengths": case.strengths,
            "summary": case.assessment_summary,
            "health": case.health,
            "finances": case.finances,
        }
        blank["plan"].initial = {
            "aims": case.aims,
            "strategies": case.strategies,
            "partners": case.partners,
            "timetable": case.timetable,
        }
        blank["evaluation"].initial = {"summary": case.evaluation_summary}
    blank.update(bound or {})
    worker, manager = services.is_worker(case, user), services.is_manager(case, user)
    context = {
        "case": case,
        "team": team,
        "worker": worker,
        "supervisor": services.is_supervisor(case, user),
        "manager": manager,
        # The consent and supervisor card has something to show (forms, or the notice).
        "side_card": (case.is_open and (worker or manager)) or not team,
        "forms": {name.replace("-", "_"): form for name, form in blank.items()},
        "working": case.phase in WORKING_PHASES,
        "phases": [(p, CasePhase(p).label) for p in PHASE_ORDER],
        "phase_index": case.phase_index(),
        "goals": list(case.goals.all()) if team else [],
        "contacts": list(case.contacts.all()) if team else [],
        "follow_ups": list(case.follow_ups.all()) if team else [],
        "referrals": [
            services.referral_view(r, user) for r in case.referrals.select_related("to_org")
        ],
    }
    return render(request, "delivery/cases/case_detail.html", context)


@role_required(*CASE_ROLES)
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_case(request, _case(request, pk))


@login_required
@require_POST
def case_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    case = _case(request, pk)
    spec = STEPS.get(step)
    if spec is None:
        raise Http404
    user = _user(request)
    form = _step_form(step, case, user, request.POST)
    if form.is_valid():
        try:
            spec.run(case, user, form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, str(spec.done))
            return redirect(case)
    case.refresh_from_db()
    return _render_case(request, case, {step: form})


@role_required(*CASE_ROLES)
def referral_targets(request: HttpRequest, pk: int) -> HttpResponse:
    """The options of the referral form's target for a search (its htmx search box)."""
    case = _case(request, pk)
    if not services.is_worker(case, _user(request)):
        raise Http404
    options = services.referral_target_options(case, request.GET.get("q", "")[:50])
    return render(request, "core/widgets/_options.html", {"options": options})


# ---- referrals ---------------------------------------------------------------------------

REFERRAL_ROLES = (
    Role.SOCIAL_WORKER,
    Role.SOCIAL_ORG_MANAGER,
    Role.COMMUNITY_CADRE,
    Role.AREA_STAFF,
)


@role_required(*REFERRAL_ROLES)
def referral_list(request: HttpRequest) -> HttpResponse:
    """Referrals received by the user's organisation, and those sent from its cases."""
    user = _user(request)
    visible = Referral.objects.visible_to(user).select_related("case__person", "to_org")
    incoming = visible.incoming_for(user.organization_id)
    outgoing = visible.exclude(to_org_id=user.organization_id)
    context = {
        "incoming": [services.referral_view(r, user) for r in incoming[:200]],
        "outgoing": [services.referral_view(r, user) for r in outgoing[:200]],
    }
    return render(request, "delivery/cases/referral_list.html", context)


@role_required(*REFERRAL_ROLES)
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    referral = get_object_or_404(
        Referral.objects.visible_to(user).select_related("case__person", "to_org", "case"), pk=pk
    )
    form = ReferralDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.referral_decide(referral=referral, by=user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已处理转介。"))
            return redirect("delivery:referral_detail", pk=referral.pk)
    view = services.referral_view(referral, user)
    record_view(request, referral, "转介（含个案信息）" if view.full else "转介（仅基本信息）")
    context = {
        "view": view,
        "form": form,
        "can_answer": services.can_answer(referral, user)
        and referral.status == ReferralStatus.PENDING,
    }
    return render(request, "delivery/cases/referral_detail.html", context)
