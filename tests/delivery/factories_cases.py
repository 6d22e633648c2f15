"""Factories of case work, and helpers that walk a case through its phases by the services
(the way the pages do), so a test starts from a case in the phase it needs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.utils import timezone

from sanlian.core import crypto
from sanlian.core.models import User
from sanlian.core.roles import Role
from sanlian.delivery.models import (
    Attainment,
    Case,
    CaseContact,
    CaseFollowUp,
    CaseGoal,
    CasePhase,
    CaseSource,
    ProblemCategory,
    Referral,
)
from sanlian.delivery.services import cases as services
from sanlian.organizations.models import Organization, SocialWorker

from ..conftest import World
from ..factories import PersonFactory, SocialWorkerFactory, UserFactory

TODAY = timezone.localdate
PROBLEM = "丈夫去年工伤离世，独自抚养两个孩子，失眠，欠房租三个月。"
SIGNED_PLAN_PHASES = (
    CasePhase.INTERVENTION,
    CasePhase.EVALUATION,
    CasePhase.CLOSING,
    CasePhase.CLOSED,
)
NOTE = "第一次家访：服务对象情绪低落，谈到房租压力时哭泣。"


def sealed(text: str) -> Any:
    return factory.LazyFunction(lambda: crypto.encrypt(text))


def worker_with_account(
    org: Organization, *, qualification: str = "social_worker", role: str = Role.SOCIAL_WORKER
) -> SocialWorker:
    """A social worker of `org` who can sign in."""
    user: User = UserFactory(organization=org, roles=[role])
    person = PersonFactory(community=org.parent.community, user=user, employer=org)  # type: ignore[union-attr]
    worker: SocialWorker = SocialWorkerFactory(
        person=person, organization=org, qualification=qualification
    )
    return worker


def worker_of(world: World) -> SocialWorker:
    """The world's social worker (user `social_worker`, in O1)."""
    return SocialWorker.objects.get(person=world.people["worker"])


def user_of(worker: SocialWorker) -> Any:
    return worker.person.user


class CaseFactory(factory.django.DjangoModelFactory):
    """A case of O1's social worker for a resident of C1, taken, in 预估 (pass phase=...)."""

    class Meta:
        model = Case

    organization = factory.LazyAttribute(lambda o: o.worker.organization)
    worker: Any = None  # required
    supervisor = None
    person = factory.LazyAttribute(lambda o: PersonFactory(community=o.worker.person.community))
    source = CaseSource.ASKED
    problem_category = ProblemCategory.FINANCIAL
    presenting_problem_encrypted = sealed(PROBLEM)
    phase = CasePhase.ASSESSMENT
    opened_on = factory.LazyFunction(lambda: TODAY() - dt.timedelta(days=30))
    agreement_on = factory.LazyFunction(lambda: TODAY() - dt.timedelta(days=30))
    # Past the plan, it was signed off (the database insists).
    plan_signed_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.phase in SIGNED_PLAN_PHASES else None
    )
    created_by = factory.LazyAttribute(lambda o: o.worker.person.user)


class CaseGoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseGoal

    case: Any = None
    seq = factory.Sequence(lambda n: n + 1)
    goal_encrypted = sealed("三个月内补齐房租")
    measure_encrypted = sealed("房东出具的收据")


class CaseContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseContact

    case: Any = None
    served_on = factory.LazyFunction(lambda: TODAY() - dt.timedelta(days=3))
    start_time = dt.time(19, 0)
    end_time = dt.time(20, 30)
    kind = "home"
    notes_encrypted = sealed(NOTE)
    recorded_by = factory.LazyAttribute(lambda o: o.case.worker.person.user)


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referral

    case: Any = None
    to_org: Any = None
    reason_encrypted = sealed("需要专业心理咨询")
    created_by = factory.LazyAttribute(lambda o: o.case.worker.person.user)


# ---- walking a case through the phases by the services -----------------------------------


def opened(
    world: World,
    supervisor: SocialWorker | None = None,
    person: Any = None,
    **kwargs: Any,
) -> Case:
    """A case the world's social worker just registered (接案, no decision yet)."""
    fields: dict[str, Any] = {
        "source": CaseSource.ASKED,
        "problem_category": ProblemCategory.FINANCIAL,
        "presenting_problem": PROBLEM,
        "supervisor": supervisor,
        **kwargs,
    }
    return services.case_open(
        by=world.users[Role.SOCIAL_WORKER],
        person=person or PersonFactory(community=world.c1),
        **fields,
    )


def walk(case: Case, to: str) -> Case:
    """Drive `case` (with a supervisor) forward by the services until it is in phase `to`."""
    worker, boss = user_of(case.worker), user_of(case.supervisor)  # type: ignore[arg-type]
    steps = {
        CasePhase.INTAKE: lambda c: services.case_intake_decide(
            case=c, by=worker, take=True, agreement_on=TODAY()
        ),
        CasePhase.ASSESSMENT: lambda c: services.case_advance(
            case=services.case_assessment_save(
                case=c,
                by=worker,
                information="与服务对象面谈两次",
                problems="经济压力、丧亲哀伤",
                strengths="有工作意愿，亲属支持",
                summary="需经济援助和哀伤辅导",
            ),
            by=worker,
            to=CasePhase.PLANNING,
        ),
        CasePhase.PLANNING: lambda c: _plan(c, worker, boss),
        CasePhase.INTERVENTION: lambda c: _intervene(c, worker),
        CasePhase.EVALUATION: lambda c: services.case_closure_submit(
            case=_evaluate(c, worker), by=worker, reason="goals_met", summary="目标达成，结案"
        ),
        CasePhase.CLOSING: lambda c: services.case_closure_sign(case=c, by=boss),
    }
    while case.phase != to:
        case = steps[CasePhase(case.phase)](case)
    return case


def _plan(case: Case, worker: Any, boss: Any) -> Case:
    services.case_plan_save(case=case, by=worker, aims="稳定生活，走出哀伤", strategies="链接救助")
    services.case_goal_add(case=case, by=worker, goal="申请临时救助", measure="救助到账")
    services.case_plan_submit(case=case, by=worker)
    services.case_plan_sign(case=case, by=boss)
    return services.case_advance(case=case, by=worker, to=CasePhase.INTERVENTION)


def _intervene(case: Case, worker: Any) -> Case:
    services.case_contact_add(
        case=case,
        by=worker,
        served_on=TODAY(),
        start_time=dt.time(9, 0),
        end_time=dt.time(10, 0),
        kind="face",
        notes=NOTE,
    )
    return services.case_advance(case=case, by=worker, to=CasePhase.EVALUATION)


def _evaluate(case: Case, worker: Any) -> Case:
    for goal in case.goals.all():
        services.case_goal_rate(goal=goal, by=worker, attainment=Attainment.FULL)
    return services.case_evaluation_save(case=case, by=worker, summary="两个目标均达成")


class CaseFollowUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseFollowUp

    case: Any = None
    visited_on = factory.LazyFunction(TODAY)
    kind = "phone"
    notes_encrypted = sealed("电话回访：已找到工作，情绪稳定。")
    recorded_by = factory.LazyAttribute(lambda o: o.case.worker.person.user)
