"""Demo data of 服务联动 (loaded by `sanlian seed` after the organisations' and resources' data):
every status and phase through the real rules, timelines consistent with the statuses, notes
readable through the models, the demo accounts' own work, non-zero dashboards, the same counts
for the same seed, and the bulk path of the larger scales on a tiny volume."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from sanlian.core.models import User
from sanlian.delivery import demo as delivery_demo
from sanlian.delivery.models import (
    Activity,
    ActivityStatus,
    Answer,
    Case,
    CaseContact,
    CasePhase,
    Demand,
    DemandChannel,
    DemandEvent,
    DemandStatus,
    Group,
    GroupMember,
    GroupPhase,
    QuestionKind,
    Referral,
    ReferralStatus,
    Registration,
    Survey,
    SurveyResponse,
    SurveyStatus,
    VolunteerShift,
)
from sanlian.delivery.services import cases as case_services
from sanlian.insights.services import dashboard, snapshots
from sanlian.organizations.demo import seed
from sanlian.organizations.models import Community, Tier
from sanlian.resources.models import Metric, ProjectStatus, ServiceProject
from sanlian.resources.services.indicators import counter_for

pytestmark = pytest.mark.django_db

TINY = delivery_demo.Volume(
    responses=300, demands=200, cases=80, contacts=300, attendance=400, registrations=300, shifts=40
)


# First in the module: it seeds in transactions of its own, before `demo_city` holds the
# module's seeded city (tests run in file order, on each worker).
def test_the_same_seed_makes_the_same_rows(db: None) -> None:
    counts = []
    for _ in range(2):
        with transaction.atomic():
            result = seed("small", 1)
            counts.append({name: result[name] for name, _m in delivery_demo.COUNTED})
            transaction.set_rollback(True)
    assert counts[0] == counts[1]


@pytest.fixture(scope="module")
def demo_city(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """The small demo city, seeded once for the module inside a transaction rolled back at
    its end (each test runs in a savepoint of it)."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield seed("small", 1)
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _user(name: str) -> User:
    return User.objects.get(username=name)


def _client(name: str) -> Client:
    client = Client()
    client.force_login(_user(name))
    return client


# ---- what the seed reports -----------------------------------------------------------------


def test_the_seed_reports_what_it_made(demo_city: dict[str, Any]) -> None:
    assert {name: demo_city[name] for name, _m in delivery_demo.COUNTED} == {
        name: model.objects.count() for name, model in delivery_demo.COUNTED
    }


# ---- surveys -------------------------------------------------------------------------------


def test_surveys_are_closed_open_and_draft(demo_city: dict[str, Any]) -> None:
    assert set(Survey.objects.values_list("status", flat=True)) == set(SurveyStatus.values)


def test_the_closed_survey_asks_every_kind_of_question(demo_city: dict[str, Any]) -> None:
    survey = Survey.objects.get(status=SurveyStatus.CLOSED)
    kinds = set(survey.questions.values_list("kind", flat=True))
    assert (kinds, survey.questions.filter(is_need_question=True).count()) == (
        set(QuestionKind.values),
        1,
    )


def test_the_closed_survey_has_answers_in_every_community_most_in_star_ones(
    demo_city: dict[str, Any],
) -> None:
    survey = Survey.objects.get(status=SurveyStatus.CLOSED)
    per: dict[str, list[int]] = {}
    for c in survey.communities.all():
        per.setdefault(c.tier, []).append(
            SurveyResponse.objects.filter(survey=survey, community=c).count()
        )
    assert min(min(v) for v in per.values()) > 0
    assert min(per[Tier.STAR]) > max(per[Tier.WEAK])
    assert SurveyResponse.objects.filter(survey=survey).count() >= 200


def test_residents_wrote_free_text_answers(demo_city: dict[str, Any]) -> None:
    assert Answer.objects.exclude(text="").filter(question__kind=QuestionKind.LONG_TEXT).exists()


# ---- demands -------------------------------------------------------------------------------


def test_demands_are_in_every_status_closed_with_every_score(demo_city: dict[str, Any]) -> None:
    assert set(Demand.objects.values_list("status", flat=True)) == set(DemandStatus.values)
    scores = set(
        Demand.objects.filter(status=DemandStatus.CLOSED).values_list("satisfaction", flat=True)
    )
    assert scores == {1, 2, 3, 4, 5}


def test_some_demands_are_overdue_some_settled_in_the_community(demo_city: dict[str, Any]) -> None:
    assert Demand.objects.overdue().exists()
    assert Demand.objects.filter(resolved_in_community=True).exists()
    assert Demand.objects.values("channel").distinct().count() == len(DemandChannel.values)


def test_each_demands_timeline_leads_to_its_status(demo_city: dict[str, Any]) -> None:
    broken = []
    for demand in Demand.objects.prefetch_related("events"):
        events = sorted(demand.events.all(), key=lambda e: (e.at, e.pk))
        status = ""
        for e in events:
            if e.from_status and e.from_status != status:
                broken.append((demand.pk, e.kind, e.from_status, status))
            status = e.to_status
        if status != demand.status or events[0].kind not in ("submitted", "recorded"):
            broken.append((demand.pk, "end", status, demand.status))
    assert broken == []


def test_unrouted_demands_were_routed_by_hand_with_the_correction_kept(
    demo_city: dict[str, Any],
) -> None:
    manual = Demand.objects.filter(routing_source="manual")
    assert manual.exists()
    assert all(d.corrections.count() == 1 for d in manual)


# ---- cases ---------------------------------------------------------------------------------


def test_cases_are_in_every_phase_of_the_standard(demo_city: dict[str, Any]) -> None:
    assert set(Case.objects.values_list("phase", flat=True)) == set(CasePhase.values)


def test_referrals_were_accepted_declined_and_are_waiting(demo_city: dict[str, Any]) -> None:
    assert set(Referral.objects.values_list("status", flat=True)) == set(ReferralStatus.values)


def test_notes_are_encrypted_and_read_back(demo_city: dict[str, Any]) -> None:
    case = Case.objects.filter(phase=CasePhase.CLOSED).first()
    assert case is not None
    assert case.presenting_problem_encrypted.startswith("gAAAA")
    assert "。" in case.presenting_problem and "。" in case.closure_summary


def test_contacts_happen_in_the_evening_and_at_the_weekend(demo_city: dict[str, Any]) -> None:
    contacts = list(CaseContact.objects.all())
    assert any(c.start_time >= dt.time(18) for c in contacts)
    assert any(c.served_on.weekday() >= 5 for c in contacts)
    assert all(
        c.case.opened_on <= c.served_on <= dt.date.today() + dt.timedelta(days=1) for c in contacts
    )


def test_the_demo_worker_has_cases_and_sign_offs_waiting(demo_city: dict[str, Any]) -> None:
    worker = _user("worker")
    mine = case_services.my_cases(worker).held_by(worker)
    assert set(mine.values_list("phase", flat=True)) == set(CasePhase.values)
    assert case_services.sign_off_queue(worker).count() >= 2


def test_the_demo_organisation_is_asked_to_take_a_referral(demo_city: dict[str, Any]) -> None:
    manager = _user("orgmanager")
    waiting = Referral.objects.incoming_for(manager.organization_id).filter(
        status=ReferralStatus.PENDING
    )
    assert waiting.exists()


# ---- groups and activities -----------------------------------------------------------------


def test_groups_in_several_phases_with_attendance_and_scores(demo_city: dict[str, Any]) -> None:
    phases = set(Group.objects.values_list("phase", flat=True))
    assert {
        GroupPhase.PREPARATION,
        GroupPhase.FORMATION,
        GroupPhase.MATURITY,
        GroupPhase.ENDING,
    } <= phases
    ended = Group.objects.get(phase=GroupPhase.ENDING)
    scored = GroupMember.objects.filter(
        group=ended, pre_score__isnull=False, post_score__isnull=False
    )
    assert scored.exists() and ended.evaluation


def test_activities_in_every_status(demo_city: dict[str, Any]) -> None:
    assert set(Activity.objects.values_list("status", flat=True)) == set(ActivityStatus.values)


def test_done_activities_have_check_ins_walk_ins_phone_only_sign_ups_and_feedback(
    demo_city: dict[str, Any],
) -> None:
    done = Registration.objects.filter(activity__status=ActivityStatus.DONE)
    assert done.filter(checked_in_at__isnull=False, checked_in_by__isnull=True).exists()  # door
    assert done.filter(checked_in_by__isnull=False).exists()  # by code at the desk
    assert done.filter(is_walk_in=True).exists()
    assert done.filter(person__isnull=True).exists()
    assert done.filter(rating__isnull=False).exists()


def test_volunteer_hours_of_done_activities_are_credited(demo_city: dict[str, Any]) -> None:
    shifts = VolunteerShift.objects.filter(activity__status=ActivityStatus.DONE)
    assert shifts.exists()
    assert not shifts.filter(hour_log__isnull=True).exists()


# ---- what the other links see ----------------------------------------------------------------


def test_the_running_project_counts_its_services(demo_city: dict[str, Any]) -> None:
    manager = _user("orgmanager")
    running = ServiceProject.objects.get(
        organization=manager.organization, status=ProjectStatus.ACTIVE
    )
    figures = {}
    for metric in (Metric.CASES, Metric.GROUP_SESSIONS, Metric.ACTIVITIES, Metric.BENEFICIARIES):
        counter = counter_for(metric)
        assert counter is not None
        figures[metric] = counter(running)
    assert all(v > Decimal(0) for v in figures.values()), figures


def test_the_city_dashboard_shows_needs_services_and_satisfaction(
    demo_city: dict[str, Any],
) -> None:
    city = _user("city")
    area = dashboard.area_for(city)
    assert area is not None
    board = snapshots.dashboard_for(city, area, live=True)
    assert board.needs.responses.total > 0 and board.needs.needs
    assert board.needs.demands.total > 0 and board.needs.overdue_demands.total > 0
    assert board.services.cases.total > 0 and board.services.sessions.total > 0
    assert board.services.activities.total > 0 and board.services.beneficiaries.total > 0
    assert board.satisfaction.rated.total > 0
    # Every tier has served people in the last twelve months.
    assert set(board.services.beneficiaries.people.by_tier) >= {Tier.STAR, Tier.ORDINARY, Tier.WEAK}


@pytest.mark.parametrize(
    ("user", "page"),
    [
        ("worker", "delivery:case_list"),
        ("worker", "delivery:case_queue"),
        ("orgmanager", "delivery:referral_list"),
        ("cadre", "delivery:demand_list"),
        ("cadre", "delivery:survey_list"),
        ("cadre", "delivery:group_list"),
        ("cadre", "delivery:activity_list"),
        ("city", "insights:dashboard"),
    ],
)
def test_the_demo_accounts_pages_show_their_work(
    demo_city: dict[str, Any], user: str, page: str
) -> None:
    response = _client(user).get(reverse(page))
    assert response.status_code == 200


def test_a_case_file_opens_for_its_worker(demo_city: dict[str, Any]) -> None:
    worker = _user("worker")
    case = (
        case_services.my_cases(worker).held_by(worker).filter(phase=CasePhase.INTERVENTION).first()
    )
    assert case is not None
    response = _client("worker").get(case.get_absolute_url())
    assert response.status_code == 200 and case.presenting_problem in response.content.decode()


def test_the_closed_surveys_results_page(demo_city: dict[str, Any]) -> None:
    survey = Survey.objects.get(status=SurveyStatus.CLOSED)
    response = _client("city").get(reverse("delivery:survey_results", args=[survey.pk]))
    assert response.status_code == 200 and "助老服务" in response.content.decode()


# ---- the bulk of the larger scales, on a tiny volume -------------------------------------------


def test_the_bulk_path_writes_consistent_rows(demo_city: dict[str, Any]) -> None:
    before = {name: model.objects.count() for name, model in delivery_demo.COUNTED}
    delivery_demo.bulk_load(TINY, 1)
    connection.check_constraints()  # on PostgreSQL the rebuilt foreign keys checked them too
    after = {name: model.objects.count() for name, model in delivery_demo.COUNTED}
    assert all(
        after[k] > before[k] for k in ("survey_responses", "demands", "cases", "registrations")
    )
    # Every community has some, and the sequences continue after the assigned ids.
    assert not Community.objects.exclude(demands__isnull=False).exists()
    demand = Demand.objects.create(
        community=Community.objects.first(),
        category="other",
        channel="phone",
        description="序列检查",
        resident_name="测试",
        resident_phone="13900000000",
        accept_due=dt.date.today(),
        resolve_due=dt.date.today(),
    )
    assert demand.pk > max(Demand.objects.exclude(pk=demand.pk).values_list("pk", flat=True))


def test_the_bulk_timelines_lead_to_their_statuses(demo_city: dict[str, Any]) -> None:
    first = (DemandEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    delivery_demo.bulk_load(TINY, 1)
    broken = []
    for demand in (
        Demand.objects.filter(events__pk__gte=first).distinct().prefetch_related("events")
    ):
        events = sorted(demand.events.all(), key=lambda e: (e.at, e.pk))
        if events[-1].to_status != demand.status:
            broken.append(demand.pk)
    assert broken == []


def test_the_bulk_is_the_same_for_the_same_seed(demo_city: dict[str, Any]) -> None:
    counts = []
    for _ in range(2):
        with transaction.atomic():
            delivery_demo.bulk_load(TINY, 7)
            counts.append({name: model.objects.count() for name, model in delivery_demo.COUNTED})
            transaction.set_rollback(True)
    assert counts[0] == counts[1]
