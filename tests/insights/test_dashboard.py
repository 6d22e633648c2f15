"""数据看板: the figures against hand-built data (members, demands, projects, money,
beneficiaries counted once, satisfaction, tiers, months), the drill-down, who sees what, the
xlsx export of a table, and a query count that does not grow with the data."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sanlian.core.roles import Role
from sanlian.delivery.models import ActivityStatus, DemandStatus
from sanlian.insights.services import dashboard as services
from sanlian.insights.services import snapshots
from sanlian.organizations.models import (
    Community,
    NewEmploymentKind,
    Organization,
    OrgKind,
    Person,
    VulnerabilityTag,
)
from sanlian.resources.models import ProjectStatus

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
from ..delivery.factories_surveys import answer_sheet, survey_with_questions
from ..factories import (
    CommunityFactory,
    MembershipFactory,
    OrganizationFactory,
    PersonFactory,
    VolunteerFactory,
)
from ..organizations.factories_people import PersonTagFactory
from ..organizations.factories_workforce import VolunteerHourLogFactory
from ..resources.factories import BudgetPoolFactory, ResourceEntryFactory, project_in

pytestmark = pytest.mark.django_db
URL = reverse("insights:dashboard")


def today() -> dt.date:
    return timezone.localdate()


def days_ago(n: int) -> dt.date:
    return today() - dt.timedelta(days=n)


def aged(years: int) -> dt.date:
    """A birth date that makes a person `years` old today (and a half)."""
    return today() - dt.timedelta(days=int(years * 365.25) + 180)


def figures(w: World, role: str = Role.FEDERATION_STAFF, area: Any = None) -> Any:
    user = w.users[role]
    found = services.area_for(user, area.pk if area is not None else None)
    assert found is not None
    return snapshots.dashboard_for(user, found, live=True)


def member(community: Community, **person: Any) -> Person:
    p: Person = PersonFactory(community=community, **person)
    MembershipFactory(person=p)
    return p


def recent_demand(community: Community, **kwargs: Any) -> Any:
    kwargs.setdefault("received_at", timezone.now() - dt.timedelta(days=3))
    kwargs.setdefault("accept_due", today() + dt.timedelta(days=2))
    kwargs.setdefault("resolve_due", today() + dt.timedelta(days=10))
    return DemandFactory(community=community, **kwargs)


def done_activity(w: World, day: dt.date, **kwargs: Any) -> Any:
    return activity_in(w, status=ActivityStatus.DONE, done_at=timezone.now(), date=day, **kwargs)


def rows(response: Any, key: str) -> list[list[Any]]:
    table = next(
        p.table for s in response.context["sections"] for p in s.panels if p.table.key == key
    )
    return [list(r) for r in table.rows]


# ---- 组织联建 -------------------------------------------------------------------------------------


def test_members_by_sex(world: World) -> None:
    member(world.c1, sex="M")
    member(world.c1, sex="M")
    member(world.c2, sex="F")
    sex = figures(world).organisation.member_breakdown.dimension("sex")
    assert [(r.label, r.total) for r in sex.rows] == [("男", 2), ("女", 1), ("未登记", 0)]


def test_members_by_age_band(world: World) -> None:
    for years in (20, 34, 35, 49, 50, 61):
        member(world.c1, birth_date=aged(years))
    member(world.c1, birth_date=None)
    age = figures(world).organisation.member_breakdown.dimension("age")
    assert [r.total for r in age.rows] == [2, 2, 1, 1, 1]


def test_members_by_work_new_employment_and_hardship(world: World) -> None:
    member(world.c1, is_retired=True)
    courier = member(world.c1, new_employment_kind=NewEmploymentKind.COURIER)
    PersonTagFactory(person=courier, tag=VulnerabilityTag.HARDSHIP_WORKER)
    PersonTagFactory(person=courier, tag=VulnerabilityTag.DISABLED)
    b = figures(world).organisation.member_breakdown
    found = {
        key: [r.total for r in b.dimension(key).rows[:2]] for key in ("work", "new", "vulnerable")
    }
    assert found == {"work": [1, 1], "new": [1, 1], "vulnerable": [1, 1]}


def test_a_vulnerable_member_counts_once_per_situation(world: World) -> None:
    p = member(world.c1)
    PersonTagFactory(person=p, tag=VulnerabilityTag.HARDSHIP_WORKER)
    PersonTagFactory(person=p, tag=VulnerabilityTag.DISABLED)
    rows_ = figures(world).organisation.member_breakdown.dimension("vulnerable").rows
    tagged = {r.label: r.total for r in rows_[2:] if r.total}
    assert tagged == {"困难职工": 1, "残疾人": 1}


def test_members_by_tier_and_child_area(world: World) -> None:
    member(world.c1)
    member(world.c1)
    member(world.c2)
    m = figures(world).organisation.members
    assert (m.tier("star"), m.tier("weak"), m.child(world.d1.pk), m.child(world.d2.pk)) == (
        2,
        1,
        2,
        1,
    )


def test_ended_memberships_are_not_members(world: World) -> None:
    p = PersonFactory(community=world.c1)
    MembershipFactory(person=p, status="withdrawn", ended_on=days_ago(5))
    assert figures(world).organisation.members.total == 0


def test_new_members_by_month(world: World) -> None:
    p = PersonFactory(community=world.c1)
    MembershipFactory(person=p, joined_on=today())
    new = figures(world).organisation.new_members
    assert (new.by_month[-1], new.tier_month("star")[-1], sum(new.by_month[:-1])) == (1, 1, 0)


def test_member_rate_per_hundred_residents_on_the_tier_table(world: World) -> None:
    Community.objects.filter(pk=world.c1.pk).update(population=200)
    member(world.c1)
    response = world.client(Role.FEDERATION_STAFF).get(URL)
    star = next(r for r in rows(response, "tiers_org") if r[0] == "明星")
    assert star[4] == Decimal("0.5")  # 1 member / 200 residents × 100


def test_social_orgs_workers_and_volunteers_by_tier(world: World) -> None:
    # The world has O1 (C1) and O2 (C2), a social worker in O1 and a volunteer in T1.
    VolunteerFactory(person=PersonFactory(community=world.c2), team=world.t2)
    o = figures(world).organisation
    assert (o.social_orgs.tier("weak"), o.social_workers.tier("star"), o.volunteers.total) == (
        1,
        1,
        2,
    )


# ---- 需求 ------------------------------------------------------------------------------------------


def test_demands_by_status_and_tier(world: World) -> None:
    recent_demand(world.c1)
    recent_demand(world.c1, status=DemandStatus.IN_PROGRESS)
    recent_demand(world.c2, status=DemandStatus.IN_PROGRESS)
    recent_demand(world.c2, status=DemandStatus.REJECTED, reject_reason="不属于受理范围")
    n = figures(world).needs
    assert n.demands_by_status == {
        "received": {"star": 1},
        "in_progress": {"star": 1, "weak": 1},
        "rejected": {"weak": 1},
    }


def test_overdue_demands_are_those_past_a_deadline(world: World) -> None:
    recent_demand(world.c1, accept_due=days_ago(1), resolve_due=today())
    recent_demand(world.c1)
    n = figures(world).needs
    assert (n.open_demands.total, n.overdue_demands.total) == (2, 1)


def test_demands_received_before_the_period_are_left_out(world: World) -> None:
    recent_demand(world.c1, received_at=timezone.now() - dt.timedelta(days=400))
    assert figures(world).needs.demands.total == 0


def test_top_needs_by_tier(world: World) -> None:
    survey = survey_with_questions(world)
    answer_sheet(survey, world.c1, {1: "居家养老"})
    answer_sheet(survey, world.c1, {1: "居家养老"})
    answer_sheet(survey, world.c2, {1: "四点半课堂"})
    n = figures(world).needs
    top = [(r.text, r.total, dict(r.by_tier)) for r in n.needs]
    assert top == [("居家养老", 2, {"star": 2}), ("四点半课堂", 1, {"weak": 1})]


def test_responses_by_month(world: World) -> None:
    survey = survey_with_questions(world)
    answer_sheet(survey, world.c2, {1: "法律援助"})
    r = figures(world).needs.responses
    assert (r.total, r.by_month[-1], r.tier_month("weak")[-1]) == (1, 1, 1)


# ---- 项目 ------------------------------------------------------------------------------------------


def test_projects_by_stage(world: World) -> None:
    project_in(world.city, world.c1, world.o1)
    project_in(world.city, world.c1, world.o1, status=ProjectStatus.DRAFT)
    project_in(world.city, world.c2, world.o2, status=ProjectStatus.ACCEPTED)
    p = figures(world).projects
    assert p.status_totals == {"active": 1, "draft": 1, "accepted": 1}


def test_a_project_serving_two_tiers_counts_once_in_the_total(world: World) -> None:
    project = project_in(world.city, world.c1, world.o1)
    project.communities.add(world.c2)
    p = figures(world).projects
    assert (p.projects.total, p.projects.tier("star"), p.projects.tier("weak")) == (1, 1, 1)


def test_contracted_and_disbursed_money(world: World) -> None:
    a = project_in(world.city, world.c1, world.o1, amount=Decimal("100000.00"))
    project_in(world.city, world.c2, world.o2, amount=Decimal("50000.00"))
    project_in(world.city, world.c2, world.o2, status=ProjectStatus.DRAFT)
    type(a).objects.filter(pk=a.pk).update(disbursed=Decimal("30000.00"))
    p = figures(world).projects
    assert (p.contracted.total, p.disbursed.total, p.contracted.tier("weak")) == (
        Decimal("150000.00"),
        Decimal("30000.00"),
        Decimal("50000.00"),
    )


def test_budget_pools_of_the_area_are_pooled(world: World) -> None:
    BudgetPoolFactory(owner=world.city, year=today().year, amount=Decimal("500000.00"))
    BudgetPoolFactory(owner=world.d1, year=today().year, amount=Decimal("200000.00"), tier="weak")
    BudgetPoolFactory(owner=world.d1, year=today().year - 1, amount=Decimal("999.00"))
    pools = figures(world).projects.pools
    assert pools is not None
    assert (pools.amount, pools.by_child, pools.by_earmark) == (
        Decimal("700000.00"),
        {services.HERE: Decimal("500000.00"), world.d1.pk: Decimal("200000.00")},
        {"": Decimal("500000.00"), "weak": Decimal("200000.00")},
    )


def test_a_cadre_sees_no_budget_pools(world: World) -> None:
    BudgetPoolFactory(owner=world.city, year=today().year)
    assert figures(world, Role.COMMUNITY_CADRE).projects.pools is None


def test_funds_reaching_communities_by_month(world: World) -> None:
    project = project_in(world.city, world.c1, world.o1)
    tranche = project.tranches.first()
    from ..resources.factories import DisbursementFactory

    disbursement = DisbursementFactory(tranche=tranche)
    ResourceEntryFactory(
        community=world.c1,
        kind="funds",
        value=Decimal("30000.00"),
        disbursement=disbursement,
        occurred_on=today(),
    )
    f = figures(world).projects.funds
    assert (f.total, f.tier_month("star")[-1]) == (Decimal("30000.00"), Decimal("30000.00"))


# ---- 服务 ------------------------------------------------------------------------------------------


def _served_everywhere(w: World, person: Person) -> None:
    """The same person served by a case (with a contact), a group and an activity."""
    worker = worker_of(w)
    case = CaseFactory(worker=worker, person=person)
    CaseContactFactory(case=case, served_on=days_ago(3))
    group = GroupFactory(leader=worker, community=w.c1)
    session = GroupSessionFactory(group=group, held_on=days_ago(2))
    GroupAttendanceFactory(session=session, member=GroupMemberFactory(group=group, person=person))
    activity = done_activity(w, days_ago(1))
    RegistrationFactory(
        activity=activity, person=person, phone=person.phone, checked_in_at=timezone.now()
    )


def test_beneficiaries_are_counted_once_across_parts(world: World) -> None:
    _served_everywhere(world, PersonFactory(community=world.c1))
    b = figures(world).services.beneficiaries
    assert (b.total, b.people.total, b.people.by_month[-1]) == (1, 1, 1)


def test_a_resident_known_by_mobile_counts_once_across_activities(world: World) -> None:
    for day in (1, 2):
        activity = done_activity(world, days_ago(day))
        RegistrationFactory(activity=activity, phone="13900001111", checked_in_at=timezone.now())
    b = figures(world).services.beneficiaries
    assert (b.total, b.by_phone, b.people.total) == (1, 1, 0)


def test_registrations_not_checked_in_serve_nobody(world: World) -> None:
    activity = done_activity(world, days_ago(1))
    RegistrationFactory(activity=activity)
    assert figures(world).services.beneficiaries.total == 0


def test_beneficiaries_by_sex_and_tier(world: World) -> None:
    _served_everywhere(world, PersonFactory(community=world.c1, sex="F"))
    b = figures(world).services.beneficiaries.breakdown
    female = b.dimension("sex").rows[1]
    assert (female.label, female.total, dict(female.by_tier)) == ("女", 1, {"star": 1})


def test_services_by_kind_and_month(world: World) -> None:
    _served_everywhere(world, PersonFactory(community=world.c1))
    s = figures(world).services
    assert (s.cases.total, s.sessions.total, s.activities.total, s.activities.tier("star")) == (
        1,
        1,
        1,
        1,
    )


def test_service_outside_the_working_day(world: World) -> None:
    # An activity on a Saturday morning: every hour of it is outside the 8-hour day.
    saturday = days_ago(7 + (today().weekday() - 5) % 7)
    done_activity(world, saturday, start_time=dt.time(9, 0), end_time=dt.time(11, 0))
    share = next(t for t in figures(world).services.time_shares if t.label == "社区活动")
    assert (share.services, share.hours, share.share) == (1, Decimal("2.0"), Decimal("100.0"))


def test_confirmed_volunteer_hours_by_tier(world: World) -> None:
    volunteer = world.people["volunteer"].volunteer
    VolunteerHourLogFactory(
        volunteer=volunteer, status="confirmed", confirmed_at=timezone.now()
    )  # 18:00–20:00
    VolunteerHourLogFactory(volunteer=volunteer)  # pending: not counted
    s = figures(world).services
    assert (s.volunteer_hours.tier("star"), s.volunteer_outside) == (
        Decimal("2.0"),
        Decimal("2.0"),
    )


def test_open_cases_are_counted_by_phase(world: World) -> None:
    CaseFactory(worker=worker_of(world))
    assert figures(world).services.open_cases == {"assessment": 1}


# ---- 满意度 ----------------------------------------------------------------------------------------


def test_satisfaction_average_and_distribution(world: World) -> None:
    for score in (5, 4, 2):
        recent_demand(world.c1, status=DemandStatus.CLOSED, satisfaction=score)
    recent_demand(world.c2, status=DemandStatus.CLOSED, satisfaction=1)
    sat = figures(world).satisfaction
    star = sat.average(sat.points.tier("star"), sat.rated.tier("star"))
    assert (sat.total_average, star, sat.score_total(4), sat.distribution[1]) == (
        Decimal("3.00"),
        Decimal("3.67"),
        1,
        {"weak": 1},
    )


# ---- the page: drill-down, scope, export --------------------------------------------------------


def test_the_city_links_to_its_districts(world: World) -> None:
    response = world.client(Role.FEDERATION_STAFF).get(URL)
    assert f'href="?area={world.d1.pk}"' in response.content.decode()


def test_a_district_page_lists_its_streets(world: World) -> None:
    response = world.client(Role.FEDERATION_STAFF).get(URL, {"area": world.d1.pk})
    assert [r[0] for r in rows(response, "areas_org")] == [world.s1.name, "合计"]


def test_the_trail_leads_back_to_the_users_area(world: World) -> None:
    response = world.client(Role.FEDERATION_STAFF).get(URL, {"area": world.s1.pk})
    assert [p.name for p in response.context["area"].trail] == [world.city.name, world.d1.name]


def test_an_area_outside_the_users_area_is_not_found(world: World) -> None:
    response = world.client(Role.AREA_STAFF).get(URL, {"area": world.d2.pk})
    assert response.status_code == 404


def test_a_non_area_organisation_is_not_found(world: World) -> None:
    response = world.client(Role.FEDERATION_STAFF).get(URL, {"area": world.o1.pk})
    assert response.status_code == 404


def test_district_staff_do_not_count_the_other_district(world: World) -> None:
    recent_demand(world.c1)
    recent_demand(world.c2)
    response = world.client(Role.AREA_STAFF).get(URL)
    assert response.context["d"].needs.demands.total == 1


def test_a_cadre_sees_the_dashboard_of_the_community(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).get(URL)
    assert (response.context["area"].community.id, "areas_org" in response.content.decode()) == (
        world.c1.pk,
        False,
    )


def test_a_party_secretary_sees_the_community_too(world: World) -> None:
    response = world.client(Role.PARTY_SECRETARY).get(URL)
    assert response.context["area"].node.id == world.c1.organization_id


def test_a_social_organisation_may_not_open_the_dashboard(world: World) -> None:
    response = world.client(Role.SOCIAL_ORG_MANAGER).get(URL)
    assert response.status_code == 403


def test_the_page_says_how_fresh_the_figures_are(world: World) -> None:
    response = world.client(Role.FEDERATION_STAFF).get(URL)
    assert "实时统计，截至" in response.content.decode()


def test_every_chart_has_its_table_and_export(world: World) -> None:
    html = world.client(Role.FEDERATION_STAFF).get(URL).content.decode()
    charts = html.count('data-chart="chart-')
    assert (charts > 10, charts <= html.count("format=xlsx")) == (True, True)


def test_a_table_exports_to_xlsx(world: World) -> None:
    member(world.c1)
    response = world.client(Role.FEDERATION_STAFF).get(
        URL, {"export": "tiers_org", "format": "xlsx"}
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert (values[0][:4], values[1][0], values[1][3]) == (
        ["类别", "社区数", "常住人口", "会员数"],
        "明星",
        1,
    )


def test_an_unknown_table_is_not_found(world: World) -> None:
    response = world.client(Role.FEDERATION_STAFF).get(URL, {"export": "nope", "format": "xlsx"})
    assert response.status_code == 404


# ---- queries do not grow with the data -----------------------------------------------------------


def _grow(w: World, n: int) -> None:
    """n more streets, each with a community full of records of every kind."""
    worker = worker_of(w)
    for i in range(n):
        district = w.d1 if i % 2 else w.d2
        street = OrganizationFactory(name=f"新街道{i}", kind=OrgKind.STREET_UNION, parent=district)
        c = CommunityFactory(street_org=street, tier=("star", "ordinary", "weak")[i % 3])
        OrganizationFactory(kind=OrgKind.SOCIAL_ORG, parent=c.organization)
        for _j in range(2):
            p = member(c, sex="MF"[i % 2], birth_date=aged(20 + 10 * i))
            PersonTagFactory(person=p)
            recent_demand(c, status=DemandStatus.CLOSED, satisfaction=4)
            _served_everywhere_in(w, worker, c, p)
        project_in(w.city, c, w.o1)
        survey = survey_with_questions(w, communities=[c])
        answer_sheet(survey, c, {1: "居家养老"})


def _served_everywhere_in(w: World, worker: Any, c: Community, person: Person) -> None:
    case = CaseFactory(worker=worker, person=person)
    CaseContactFactory(case=case)
    group = GroupFactory(leader=worker, community=c)
    session = GroupSessionFactory(group=group, held_on=days_ago(2))
    GroupAttendanceFactory(session=session, member=GroupMemberFactory(group=group, person=person))
    activity = done_activity(w, days_ago(1), community=c)
    RegistrationFactory(activity=activity, person=person, checked_in_at=timezone.now())
    RegistrationFactory(activity=activity, checked_in_at=timezone.now())


def _queries(w: World) -> int:
    client = w.client(Role.FEDERATION_STAFF)
    client.get(URL)  # caches warmed
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(URL).status_code == 200
    return len(ctx.captured_queries)


def test_the_query_count_does_not_grow_with_the_data(world: World) -> None:
    small = _queries(world)
    _grow(world, 4)
    assert Organization.objects.filter(kind=OrgKind.COMMUNITY_UNION).count() == 6
    assert _queries(world) == small
