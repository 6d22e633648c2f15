"""Writes of case work (个案工作, MZ/T 094-2017) and the reads its pages and API share.

Phases. 接案 → 预估 → 计划 → 介入 → 评估 → 结案 (then 回访), in that order only: each phase's
content is written in its own phase, and `case_advance` moves one step at a time, once the
phase's work is done (a skipped phase is refused in Chinese). At intake the worker decides:
不接案 ends the case with a reason; 接案 needs the service agreement. The supervisor (督导)
designated on the case — a social worker of 社会工作师 level or above (or flagged as a
supervisor) in the same organisation, never the worker — signs off the plan before the
intervention starts, and the closure before the case is closed; a returned closure goes back to
the phase it came from. A case may end early (the person withdrew, was referred, a change of
worker or person) from any working phase, still through the supervisor; "goals met" only
after the evaluation rated every goal.

Consent. The person's separate consent to the handling of sensitive personal information
(PIPL Art. 29: signed form, or oral with a witness) is recorded with its date; without it the
sensitive fields (health, finances) stay empty. A referral shares the case's information only
with the person's consent to this referral (dated) or the supervisor's documented decision;
otherwise the receiving organisation sees the person's name and the problem's category only.

Who. Only the assigned worker writes the file; only the designated supervisor signs; the
manager of the holding organisation designates supervisors and sees headers; users of the
receiving organisation (its manager, or the staff of a union) answer a referral.

Counted for 资源联合: `Metric.CASES` of a project = its cases that were taken (接案), open or
closed — a contract year counts the cases served in it, not only those already closed; the
beneficiaries are the people of those cases; the service times are the contact records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sanlian.core.queries import count_of
from sanlian.core.roles import Role
from sanlian.core.scoping import path_q, scope_for
from sanlian.organizations.models import (
    Community,
    Organization,
    Person,
    SocialWorker,
    SocialWorkerStatus,
)
from sanlian.organizations.models.workforce import Qualification
from sanlian.organizations.queries import organization_matches
from sanlian.resources.models import ProjectStatus, ServiceProject

from ..models.cases import (
    PHASE_ORDER,
    REFERRAL_RECEIVER_ROLES,
    WORKING_PHASES,
    Attainment,
    Case,
    CaseContact,
    CaseFollowUp,
    CaseGoal,
    CasePhase,
    CaseQuerySet,
    ClosureReason,
    ConsentMethod,
    Referral,
    ReferralStatus,
    ShareBasis,
)

# Longest note accepted (characters): a long interview fits, a pasted file does not.
MAX_NOTE = 10_000
MAX_GOALS = 10
SUPERVISOR_LEVELS = (Qualification.SOCIAL_WORKER, Qualification.SENIOR)
PROJECT_STATUSES = (ProjectStatus.ACTIVE, ProjectStatus.CLOSING)


# ---- who ---------------------------------------------------------------------------------


def worker_of(user: Any) -> SocialWorker | None:
    """The user's own active social worker record, if any."""
    if user is None or not user.is_authenticated:
        return None
    return (
        SocialWorker.objects.filter(person__user=user, status=SocialWorkerStatus.ACTIVE)
        .select_related("organization")
        .first()
    )


def supervisor_candidates(organization: Organization) -> QuerySet[SocialWorker]:
    """Who may supervise cases of this organisation."""
    return (
        SocialWorker.objects.filter(organization=organization, status=SocialWorkerStatus.ACTIVE)
        .filter(Q(qualification__in=SUPERVISOR_LEVELS) | Q(is_supervisor=True))
        .select_related("person")
        .order_by("person__name")
    )


def is_worker(case: Case, user: Any) -> bool:
    return bool(user is not None and case.worker.person.user_id == user.pk)


def is_supervisor(case: Case, user: Any) -> bool:
    return bool(
        user is not None
        and case.supervisor is not None
        and case.supervisor.person.user_id == user.pk
    )


def is_team(case: Case, user: Any) -> bool:
    """The assigned worker and the supervisor read the notes; nobody else."""
    return is_worker(case, user) or is_supervisor(case, user)


def is_manager(case: Case, user: Any) -> bool:
    return bool(
        user is not None
        and user.has_role(Role.SOCIAL_ORG_MANAGER)
        and user.organization_id == case.organization_id
    )


def _require_worker(case: Case, by: Any) -> None:
    if not is_worker(case, by):
        raise ValidationError(_("只有负责社工可以填写个案记录。"), code="not_worker")


def _require_supervisor(case: Case, by: Any) -> None:
    if case.supervisor is None:
        raise ValidationError(_("请先为个案指定督导。"), code="no_supervisor")
    if not is_supervisor(case, by):
        raise ValidationError(_("只有本个案的督导可以审核。"), code="not_supervisor")


def _phase_label(phase: str) -> str:
    return str(CasePhase(phase).label)


def _require_phase(case: Case, *phases: str, doing: str) -> None:
    if case.phase not in phases:
        raise ValidationError(
            _("个案当前处于“%(current)s”阶段，不能%(doing)s（须在“%(allowed)s”阶段）。")
            % {
                "current": _phase_label(case.phase),
                "doing": doing,
                "allowed": _("、").join(_phase_label(p) for p in phases),
            },
            code="phase",
        )


def _text(value: str, field: str, *, required: bool = False, label: str = "") -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field: _("请填写%(what)s。") % {"what": label}})
    if len(text) > MAX_NOTE:
        raise ValidationError(
            {field: _("内容过长（最多 %(n)s 字）。") % {"n": MAX_NOTE}}, code="too_long"
        )
    return text


def _not_future(day: dt.date, field: str) -> None:
    if day > timezone.localdate():
        raise ValidationError({field: _("日期不能晚于今天。")})


def _locked(case: Case) -> Case:
    """The case re-read under a row lock, so two writers do not both move it."""
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("worker__person", "supervisor__person")
        .get(pk=case.pk)
    )


# ---- intake ------------------------------------------------------------------------------


def case_projects(organization: Organization) -> QuerySet[ServiceProject]:
    """Projects a case of this organisation may count for: its own, under way."""
    return ServiceProject.objects.filter(organization=organization, status__in=PROJECT_STATUSES)


def intake_people(user: Any) -> QuerySet[Person]:
    """People a case may be opened for: those the user sees, and those of cases they hold.
    One IN over the UNION of the two: an OR of two INs makes PostgreSQL test every person of
    the city against both (0.4 s at city scale for a worker who sees a few dozen)."""
    seen = Person.objects.visible_to(user).order_by().values("pk")
    held = Case.objects.visible_to(user).order_by().values("person_id")
    return Person.objects.active().filter(pk__in=seen.union(held))


@transaction.atomic
def case_open(
    *,
    by: Any,
    person: Person,
    source: str,
    problem_category: str,
    presenting_problem: str,
    opened_on: dt.date | None = None,
    supervisor: SocialWorker | None = None,
    project: ServiceProject | None = None,
) -> Case:
    """接案登记: the worker opens a case for a person; the decision follows."""
    worker = worker_of(by)
    if worker is None:
        raise ValidationError(_("只有在岗社工可以接案。"), code="not_worker")
    opened_on = opened_on or timezone.localdate()
    _not_future(opened_on, "opened_on")
    if supervisor is not None:
        _check_supervisor(worker, supervisor)
    if project is not None and not case_projects(worker.organization).filter(pk=project.pk):
        raise ValidationError({"project": _("只能选择本机构正在执行的服务项目。")})
    case = Case(
        organization=worker.organization,
        worker=worker,
        supervisor=supervisor,
        person=person,
        project=project,
        source=source,
        problem_category=problem_category,
        opened_on=opened_on,
        created_by=by,
    )
    case.presenting_problem = _text(
        presenting_problem, "presenting_problem", required=True, label=_("主要问题")
    )
    case.full_clean(exclude=["created_by"])
    case.save()
    return case


def _check_supervisor(worker: SocialWorker, supervisor: SocialWorker) -> None:
    if supervisor.pk == worker.pk:
        raise ValidationError({"supervisor": _("督导不能是负责社工本人。")})
    if not supervisor_candidates(worker.organization).filter(pk=supervisor.pk).exists():
        raise ValidationError(
            {"supervisor": _("督导须是本机构在岗的社会工作师（或以上）或指定督导。")}
        )


@transaction.atomic
def case_open_for_new_person(
    *,
    by: Any,
    name: str,
    sex: str,
    phone: str,
    community: Community,
    **case_fields: Any,
) -> Case:
    """接案 for someone not yet registered: the person is registered first (组织联建's rules:
    duplicates refused), in the same transaction."""
    from sanlian.organizations.services import person_create

    with transaction.atomic():
        person = person_create(name=name.strip(), community=community, sex=sex, phone=phone)
        return case_open(by=by, person=person, **case_fields)


@transaction.atomic
def case_supervisor_set(*, case: Case, by: Any, supervisor: SocialWorker) -> Case:
    """Designate (or change) the case's supervisor: its worker or the organisation's manager."""
    case = _locked(case)
    if not (is_worker(case, by) or is_manager(case, by)):
        raise ValidationError(_("只有负责社工或机构负责人可以指定督导。"))
    if not case.is_open:
        raise ValidationError(_("个案已结束，不能更换督导。"))
    _check_supervisor(case.worker, supervisor)
    case.supervisor = supervisor
    case.save()
    return case


@transaction.atomic
def case_intake_decide(
    *,
    case: Case,
    by: Any,
    take: bool,
    agreement_on: dt.date | None = None,
    reason: str = "",
) -> Case:
    """接案 (with the service agreement) moves the case to 预估; 不接案 ends it with a reason."""
    case = _locked(case)
    _require_worker(case, by)
    _require_phase(case, CasePhase.INTAKE, doing=_("作出接案决定"))
    if take:
        if agreement_on is None:
            raise ValidationError({"agreement_on": _("接案须与服务对象签订服务协议并填写日期。")})
        _not_future(agreement_on, "agreement_on")
        case.agreement_on = agreement_on
        case.phase = CasePhase.ASSESSMENT
    else:
        case.not_taken_reason = _text(reason, "reason", required=True, label=_("不接案原因"))[:300]
        case.phase = CasePhase.NOT_TAKEN
    case.save()
    return case


@transaction.atomic
def case_consent_record(
    *, case: Case, by: Any, consent_on: dt.date, method: str, witness: str = ""
) -> Case:
    """The person's separate consent to the handling of sensitive personal information."""
    case = _locked(case)
    _require_worker(case, by)
    if not case.is_open:
        raise ValidationError(_("个案已结束，不能再登记同意。"))
    _not_future(consent_on, "consent_on")
    witness = witness.strip()
    if method == ConsentMethod.ORAL and not witness:
        raise ValidationError({"witness": _("口头同意须填写见证人。")})
    case.consent_on, case.consent_method, case.consent_witness = consent_on, method, witness
    case.save()
    return case


# ---- assessment, plan --------------------------------------------------------------------


@transaction.atomic
def case_assessment_save(
    *,
    case: Case,
    by: Any,
    information: str,
    problems: str,
    strengths: str,
    summary: str,
    health: str = "",
    finances: str = "",
) -> Case:
    """预估: what was learnt, the problems, the person's strengths, the summary; health and
    finances (sensitive personal information) only with the person's separate consent."""
    case = _locked(case)
    _require_worker(case, by)
    _require_phase(case, CasePhase.ASSESSMENT, doing=_("填写预估"))
    health, finances = _text(health, "health"), _text(finances, "finances")
    if (health or finances) and not case.has_consent:
        raise ValidationError(
            _("未取得服务对象对处理敏感个人信息的单独同意，不能填写健康、经济等敏感信息。"),
            code="no_consent",
        )
    case.information = _text(information, "information")
    case.problems = _text(problems, "problems")
    case.strengths = _text(strengths, "strengths")
    case.assessment_summary = _text(summary, "summary")
    case.health, case.finances = health, finances
    case.save()
    return case


def _require_plan_editable(case: Case) -> None:
    _require_phase(case, CasePhase.PLANNING, doing=_("修改服务计划"))
    if case.plan_submitted_at is not None:
        raise ValidationError(_("服务计划已提交督导审核，不能修改。"), code="plan_submitted")


@transaction.atomic
def case_plan_save(
    *, case: Case, by: Any, aims: str, strategies: str, partners: str = "", timetable: str = ""
) -> Case:
    """计划: aims, strategies, partners and timetable (goals are added one by one)."""
    case = _locked(case)
    _require_worker(case, by)
    _require_plan_editable(case)
    case.aims = _text(aims, "aims", required=True, label=_("服务目的"))
    case.strategies = _text(strategies, "strategies")
    case.partners, case.timetable = partners.strip()[:300], timetable.strip()[:300]
    case.save()
    return case


@transaction.atomic
def case_goal_add(*, case: Case, by: Any, goal: str, measure: str) -> CaseGoal:
    case = _locked(case)
    _require_worker(case, by)
    _require_plan_editable(case)
    count = case.goals.count()
    if count >= MAX_GOALS:
        raise ValidationError(_("一个个案最多 %(n)s 个服务目标。") % {"n": MAX_GOALS})
    row = CaseGoal(
        case=case, seq=(case.goals.order_by("-seq").values_list("seq", flat=True).first() or 0) + 1
    )
    row.goal = _text(goal, "goal", required=True, label=_("服务目标"))
    row.measure = _text(measure, "measure", required=True, label=_("衡量方式"))
    row.save()
    return row


@transaction.atomic
def case_goal_remove(*, goal: CaseGoal, by: Any) -> None:
    case = _locked(goal.case)
    _require_worker(case, by)
    _require_plan_editable(case)
    goal.delete()


@transaction.atomic
def case_plan_submit(*, case: Case, by: Any) -> Case:
    """The worker asks the supervisor to sign the plan off."""
    case = _locked(case)
    _require_worker(case, by)
    _require_plan_editable(case)
    if not case.aims:
        raise ValidationError(_("请先填写服务计划。"))
    if not case.goals.exists():
        raise ValidationError(_("服务计划至少要有一个服务目标。"))
    if case.supervisor is None:
        raise ValidationError(_("请先为个案指定督导。"), code="no_supervisor")
    case.plan_submitted_at = timezone.now()
    case.save()
    return case


@transaction.atomic
def case_plan_sign(*, case: Case, by: Any) -> Case:
    """督导审核通过服务计划: the intervention may start."""
    case = _locked(case)
    _require_supervisor(case, by)
    _require_phase(case, CasePhase.PLANNING, doing=_("审核服务计划"))
    if case.plan_submitted_at is None:
        raise ValidationError(_("服务计划尚未提交审核。"))
    if case.plan_signed_at is not None:
        raise ValidationError(_("服务计划已审核。"))
    case.plan_signed_by, case.plan_signed_at = by, timezone.now()
    case.save()
    return case


@transaction.atomic
def case_plan_return(*, case: Case, by: Any, note: str) -> Case:
    """督导退回服务计划: the worker revises it and submits again."""
    case = _locked(case)
    _require_supervisor(case, by)
    _require_phase(case, CasePhase.PLANNING, doing=_("退回服务计划"))
    if case.plan_submitted_at is None or case.plan_signed_at is not None:
        raise ValidationError(_("只有待审核的服务计划可以退回。"))
    case.returned_note = _text(note, "note", required=True, label=_("退回意见"))[:300]
    case.plan_submitted_at = None
    case.save()
    return case


# ---- moving on ---------------------------------------------------------------------------


def _ready_for(case: Case, target: str) -> None:
    """What a phase must hold before the case leaves it for `target`."""
    if target == CasePhase.ASSESSMENT:
        raise ValidationError(_("请先作出接案决定（接案或不接案）。"), code="decide")
    if target == CasePhase.PLANNING and not (case.problems and case.assessment_summary):
        raise ValidationError(_("请先完成预估（至少填写问题分析和预估小结）。"), code="incomplete")
    if target == CasePhase.INTERVENTION and case.plan_signed_at is None:
        raise ValidationError(_("服务计划须经督导审核后才能进入介入阶段。"), code="plan_not_signed")
    if target == CasePhase.EVALUATION and not case.contacts.exists():
        raise ValidationError(_("请先记录至少一次介入服务。"), code="incomplete")
    if target in (CasePhase.CLOSING, CasePhase.CLOSED):
        raise ValidationError(_("请通过“申请结案”提交督导审核。"), code="closure")


@transaction.atomic
def case_advance(*, case: Case, by: Any, to: str) -> Case:
    """Move the case to the next phase of the standard, never past one."""
    case = _locked(case)
    _require_worker(case, by)
    if to not in PHASE_ORDER:
        raise ValidationError(_("未知的个案阶段。"), code="phase")
    following = case.next_phase()
    if following is None:
        raise ValidationError(
            _("个案已“%(current)s”，不能再进入其他阶段。") % {"current": _phase_label(case.phase)},
            code="ended",
        )
    if to != following:
        raise ValidationError(
            _(
                "个案工作须依次经过各阶段，不能跳过：当前为“%(current)s”，"
                "下一阶段是“%(next)s”，不能直接进入“%(to)s”。"
            )
            % {
                "current": _phase_label(case.phase),
                "next": _phase_label(following),
                "to": _phase_label(to),
            },
            code="skip",
        )
    _ready_for(case, to)
    case.phase = to
    case.returned_note = ""
    case.save()
    return case


# ---- intervention, evaluation ------------------------------------------------------------


@transaction.atomic
def case_contact_add(
    *,
    case: Case,
    by: Any,
    served_on: dt.date,
    start_time: dt.time,
    end_time: dt.time,
    kind: str,
    notes: str,
) -> CaseContact:
    """介入记录: one dated contact with its times and notes."""
    case = _locked(case)
    _require_worker(case, by)
    _require_phase(case, CasePhase.INTERVENTION, CasePhase.EVALUATION, doing=_("记录介入服务"))
    _not_future(served_on, "served_on")
    if served_on < case.opened_on:
        raise ValidationError({"served_on": _("服务日期不能早于接案日期。")})
    if end_time <= start_time:
        raise ValidationError({"end_time": _("结束时间须晚于开始时间。")})
    contact = CaseContact(
        case=case,
        served_on=served_on,
        start_time=start_time,
        end_time=end_time,
        kind=kind,
        recorded_by=by,
    )
    contact.notes = _text(notes, "notes", required=True, label=_("服务记录"))
    contact.save()
    return contact


@transaction.atomic
def case_goal_rate(*, goal: CaseGoal, by: Any, attainment: str, note: str = "") -> CaseGoal:
    """评估: how far one goal was attained."""
    case = _locked(goal.case)
    _require_worker(case, by)
    _require_phase(case, CasePhase.EVALUATION, doing=_("评估目标达成情况"))
    if attainment not in Attainment.values:
        raise ValidationError({"attainment": _("请选择达成情况。")})
    goal.attainment = attainment
    goal.attainment_note = _text(note, "note")
    goal.save()
    return goal


@transaction.atomic
def case_evaluation_save(*, case: Case, by: Any, summary: str) -> Case:
    case = _locked(case)
    _require_worker(case, by)
    _require_phase(case, CasePhase.EVALUATION, doing=_("填写评估小结"))
    case.evaluation_summary = _text(summary, "summary", required=True, label=_("评估小结"))
    case.save()
    return case


# ---- closure, follow-up ------------------------------------------------------------------


@transaction.atomic
def case_closure_submit(*, case: Case, by: Any, reason: str, summary: str) -> Case:
    """申请结案: the worker submits the closure (reason, summary) to the supervisor."""
    case = _locked(case)
    _require_worker(case, by)
    if reason not in ClosureReason.values:
        raise ValidationError({"reason": _("请选择结案原因。")})
    if reason == ClosureReason.GOALS_MET:
        _require_phase(case, CasePhase.EVALUATION, doing=_("以“服务目标达成”结案"))
        if case.goals.filter(attainment="").exists() or not case.goals.exists():
            raise ValidationError(_("请先评估每个服务目标的达成情况。"), code="incomplete")
    else:
        _require_phase(case, *WORKING_PHASES, doing=_("申请结案"))
    if (
        reason == ClosureReason.REFERRED
        and not case.referrals.exclude(status=ReferralStatus.DECLINED).exists()
    ):
        raise ValidationError(
            {"reason": _("以“已转介”结案须先有一条未被拒绝的转介。")}, code="no_referral"
        )
    if case.supervisor is None:
        raise ValidationError(_("请先为个案指定督导。"), code="no_supervisor")
    case.closure_reason = reason
    case.closure_summary = _text(summary, "summary", required=True, label=_("结案小结"))
    case.phase_before_closing = case.phase
    case.phase = CasePhase.CLOSING
    case.returned_note = ""
    case.save()
    return case


@transaction.atomic
def case_closure_sign(*, case: Case, by: Any) -> Case:
    """督导审核结案: the case is closed."""
    case = _locked(case)
    _require_supervisor(case, by)
    _require_phase(case, CasePhase.CLOSING, doing=_("审核结案"))
    case.closure_signed_by, case.closure_signed_at = by, timezone.now()
    case.closed_on = timezone.localdate()
    case.phase = CasePhase.CLOSED
    case.save()
    return case


@transaction.atomic
def case_closure_return(*, case: Case, by: Any, note: str) -> Case:
    """督导退回结案申请: back to the phase it came from, with the supervisor's note."""
    case = _locked(case)
    _require_supervisor(case, by)
    _require_phase(case, CasePhase.CLOSING, doing=_("退回结案申请"))
    case.returned_note = _text(note, "note", required=True, label=_("退回意见"))[:300]
    case.phase = case.phase_before_closing or CasePhase.EVALUATION
    case.phase_before_closing = ""
    case.closure_reason = ""
    case.save()
    return case


@transaction.atomic
def case_follow_up_add(
    *, case: Case, by: Any, visited_on: dt.date, kind: str, notes: str
) -> CaseFollowUp:
    """回访 after closure."""
    case = _locked(case)
    _require_worker(case, by)
    _require_phase(case, CasePhase.CLOSED, doing=_("记录回访"))
    _not_future(visited_on, "visited_on")
    if case.closed_on is not None and visited_on < case.closed_on:
        raise ValidationError({"visited_on": _("回访日期不能早于结案日期。")})
    row = CaseFollowUp(case=case, visited_on=visited_on, kind=kind, recorded_by=by)
    row.notes = _text(notes, "notes", required=True, label=_("回访记录"))
    row.save()
    return row


# ---- referrals ---------------------------------------------------------------------------


def referral_targets(case: Case) -> QuerySet[Organization]:
    """Any active organisation other than the case's own (a social organisation or other)."""
    return Organization.objects.active().exclude(pk=case.organization_id).order_by("path")


REFERRAL_OPTIONS = 30


def referral_target_options(case: Case, q: str = "") -> list[Organization]:
    """The targets drawn as options of the referral form: those the query finds (name, pinyin
    initials, phone, credit code), or without one those of the person's street (the nearest
    services); a city's thousands of others are found by searching."""
    targets = referral_targets(case)
    if q.strip():
        found = organization_matches(targets, q)
    else:
        community = case.person.community
        street = Organization.objects.filter(pk=community.street_id).values("path")
        found = targets.filter(path__startswith=Subquery(street[:1]))
    return list(found[:REFERRAL_OPTIONS])


@transaction.atomic
def referral_create(
    *,
    case: Case,
    by: Any,
    to_org: Organization,
    reason: str,
    share_basis: str = ShareBasis.NONE,
    consent_on: dt.date | None = None,
    summary: str = "",
) -> Referral:
    """转介: the worker refers the case; information goes with it only on the person's consent
    to this referral (the supervisor's override is `referral_override`)."""
    case = _locked(case)
    _require_worker(case, by)
    _require_phase(case, *WORKING_PHASES, doing=_("转介"))
    if to_org.pk == case.organization_id:
        raise ValidationError({"to_org": _("不能转介给本机构。")})
    if case.referrals.filter(to_org=to_org, status=ReferralStatus.PENDING).exists():
        raise ValidationError({"to_org": _("已向该机构转介，正在等待对方处理。")})
    summary = _text(summary, "summary")
    if share_basis == ShareBasis.OVERRIDE:
        raise ValidationError(
            {"share_basis": _("督导决定须由督导本人作出。")}, code="override_by_supervisor"
        )
    if share_basis == ShareBasis.CONSENT:
        if consent_on is None:
            raise ValidationError({"consent_on": _("请填写服务对象同意提供信息的日期。")})
        _not_future(consent_on, "consent_on")
    elif summary:
        raise ValidationError(
            _("未取得服务对象同意且无督导书面决定，不能向接收机构提供个案信息。"),
            code="no_basis",
        )
    referral = Referral(
        case=case,
        to_org=to_org,
        share_basis=share_basis,
        consent_on=consent_on if share_basis == ShareBasis.CONSENT else None,
        created_by=by,
    )
    referral.reason = _text(reason, "reason", required=True, label=_("转介原因"))
    referral.summary = summary
    referral.save()
    return referral


@transaction.atomic
def referral_override(*, referral: Referral, by: Any, reason: str, summary: str) -> Referral:
    """督导书面决定: share the case's information without the person's consent (e.g. a risk to
    life), with the reason on record."""
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    _require_supervisor(referral.case, by)
    if referral.status != ReferralStatus.PENDING:
        raise ValidationError(_("转介已处理，不能再提供信息。"))
    referral.override_reason = _text(reason, "reason", required=True, label=_("决定理由"))[:300]
    referral.summary = _text(summary, "summary", required=True, label=_("提供的个案信息"))
    referral.override_by = by
    referral.share_basis = ShareBasis.OVERRIDE
    referral.save()
    return referral


def can_answer(referral: Referral, user: Any) -> bool:
    return bool(
        user is not None
        and user.organization_id == referral.to_org_id
        and user.has_role(*REFERRAL_RECEIVER_ROLES)
    )


@transaction.atomic
def referral_decide(*, referral: Referral, by: Any, accept: bool, reason: str = "") -> Referral:
    """The receiving organisation accepts or declines (with a reason)."""
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if not can_answer(referral, by):
        raise ValidationError(_("只有接收机构的负责人可以处理转介。"))
    if referral.status != ReferralStatus.PENDING:
        raise ValidationError(_("该转介已处理。"))
    if not accept:
        referral.decline_reason = _text(reason, "reason", required=True, label=_("拒绝原因"))[:300]
    referral.status = ReferralStatus.ACCEPTED if accept else ReferralStatus.DECLINED
    referral.decided_by, referral.decided_at = by, timezone.now()
    referral.save()
    return referral


@dataclass(frozen=True)
class ReferralView:
    """What one user may read of a referral."""

    referral: Referral
    person_name: str
    category: str
    full: bool  # the case team / holding organisation, or the basis allows sharing
    reason: str
    summary: str
    phone: str


def referral_view(referral: Referral, user: Any) -> ReferralView:
    case = referral.case
    own_side = is_team(case, user) or is_manager(case, user)
    full = own_side or referral.shares_case_information
    return ReferralView(
        referral=referral,
        person_name=case.person.name,
        category=case.get_problem_category_display(),
        full=full,
        reason=referral.reason if full else "",
        summary=referral.summary if full else "",
        phone=case.person.phone if full else "",
    )


# ---- reads -------------------------------------------------------------------------------


def my_cases(user: Any) -> CaseQuerySet:
    """The list page: a worker's own and supervised cases; a manager's organisation's.

    The contacts are counted in a subquery and the two workers' names prefetched: as one
    query with eight joins and a GROUP BY over every contact, PostgreSQL spent 16 ms
    planning and 13 ms running a page of 50 (medium scale); now 1.7 ms and 6 ms, plus two
    lookups by primary key."""
    return (
        Case.objects.visible_to(user)
        .select_related("person__community", "project")
        .prefetch_related(
            Prefetch("worker", SocialWorker.objects.select_related("person")),
            Prefetch("supervisor", SocialWorker.objects.select_related("person")),
        )
        .annotate(contact_count=count_of(CaseContact.objects.filter(case=OuterRef("pk")), "case"))
        .order_by("-opened_on", "-pk")
    )


def sign_off_queue(user: Any) -> CaseQuerySet:
    return my_cases(user).supervised_by(user).awaiting_sign_off()


@dataclass(frozen=True)
class CountRow:
    community: Community
    by_phase: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_phase.values())


def case_counts(user: Any) -> list[CountRow]:
    """Area staff: how many cases per community of their area and phase — no case rows, no
    names, no notes."""
    scope = scope_for(user)
    if scope.area_path is None:
        return []
    rows = (
        Case.objects.filter(path_q(scope, "person__community__organization__path"))
        .values("person__community", "phase")
        .annotate(n=Count("pk"))
    )
    counts: dict[int, dict[str, int]] = {}
    for r in rows:
        counts.setdefault(r["person__community"], {})[r["phase"]] = r["n"]
    communities = Community.objects.filter(pk__in=counts).order_by("organization__path")
    return [CountRow(c, counts[c.pk]) for c in communities]


# ---- hooks into 资源联合 and the outputs of 服务联动 ---------------------------------------


def count_taken(project: ServiceProject) -> Decimal:
    return Decimal(Case.objects.filter(project=project).taken().count())


def beneficiary_keys(project: Any) -> Iterable[str]:
    from ..outputs import person_key

    people = Case.objects.filter(project=project).taken().values_list("person_id", flat=True)
    return {person_key(pid) for pid in people}


def contact_times(
    user: Any, date_from: dt.date, date_to: dt.date
) -> Iterable[tuple[dt.date, dt.time, dt.time]]:
    """When contacts happened (no content): the case team's own, or, for area staff, those of
    the cases of people in their area (times are counts, not notes)."""
    scope = scope_for(user)
    if scope.area_path is not None:
        qs = CaseContact.objects.filter(
            path_q(scope, "case__person__community__organization__path")
        )
    else:
        qs = CaseContact.objects.visible_to(user)
    return qs.filter(served_on__range=(date_from, date_to)).values_list(
        "served_on", "start_time", "end_time"
    )


def connect() -> None:
    from sanlian.resources.models import Metric
    from sanlian.resources.services.indicators import register_counter

    from .. import outputs

    register_counter(Metric.CASES, count_taken)
    outputs.register_beneficiaries("cases", beneficiary_keys)
    outputs.register_service_times("cases", cast(str, gettext_lazy("个案服务记录")), contact_times)
