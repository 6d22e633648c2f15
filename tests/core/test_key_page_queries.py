"""No N+1 on the key pages: each page and API call the pages benchmark opens (`bench/pages.py`,
`mix()`) makes as many queries when the rows it lists or sums have grown as before, and no
more than its budget on the small data."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sanlian.core.roles import Role
from sanlian.delivery.models import Case, CasePhase
from sanlian.organizations.models import Community, OrgKind
from sanlian.resources.models import (
    ApplicationStatus,
    EvaluationStage,
    Metric,
    Milestone,
    MilestoneStatus,
    ServiceProject,
    Tranche,
)

from ..conftest import World
from ..delivery.factories_cases import (
    CaseContactFactory,
    CaseFactory,
    CaseFollowUpFactory,
    CaseGoalFactory,
    ReferralFactory,
    worker_of,
)
from ..delivery.factories_demands import DemandFactory
from ..factories import (
    CommunityFactory,
    MembershipFactory,
    OrganizationFactory,
    PersonFactory,
    SocialWorkerFactory,
    VolunteerFactory,
)
from ..organizations.factories_cobuilding import (
    FollowUpItemFactory,
    JointMeetingFactory,
    UnionBuildingFactory,
    agreement_with_parties,
)
from ..organizations.factories_people import HouseholdFactory, PersonTagFactory
from ..resources.factories import (
    DisbursementApprovalFactory,
    DisbursementFactory,
    EvaluationFactory,
    MilestoneEvidenceFactory,
    MilestoneFactory,
    ProjectIndicatorFactory,
    ResourceEntryFactory,
    TrancheFactory,
    VenueFactory,
    application_to,
    call_of,
    project_in,
)

pytestmark = pytest.mark.django_db

R = Role
# The metrics the services count (each a query of its own on the project page).
COUNTED = (Metric.CASES, Metric.GROUP_SESSIONS, Metric.ACTIVITIES, Metric.BENEFICIARIES)


@dataclass
class Subjects:
    """The rows the detail pages open."""

    project: ServiceProject
    community: Community
    case: Case


def _person_in(c: Community, name: str) -> Any:
    """A resident with a union membership, a tag and a household (张三… so `zs` finds them)."""
    person = PersonFactory(community=c, name=name)
    MembershipFactory(person=person)
    PersonTagFactory(person=person)
    HouseholdFactory(head=person)
    return person


def _project_for(w: World, c: Community) -> ServiceProject:
    """A project for `c` (funded by D1, delivered by O1): its first milestone accepted and
    its money requested, the second accepted and not yet requested; an indicator of every
    metric the services count; an evaluation."""
    project = project_in(w.d1, c, w.o1)
    first, second = project.milestones.order_by("seq")[:2]
    _accepted(first, requested=True)
    _accepted(second, requested=False)
    for metric in COUNTED:
        ProjectIndicatorFactory(project=project, metric=metric)
    EvaluationFactory(project=project, evaluator_org=w.evaluator_org)
    return project


def _accepted(milestone: Milestone, *, requested: bool) -> None:
    """Accept `milestone` (with its evidence); `requested`: its tranche's money was asked for
    and approved once."""
    Milestone.objects.filter(pk=milestone.pk).update(status=MilestoneStatus.ACCEPTED)
    MilestoneEvidenceFactory(milestone=milestone)
    if requested:
        d = DisbursementFactory(
            tranche=Tranche.objects.get(milestone=milestone), amount=Decimal("1000.00")
        )
        DisbursementApprovalFactory(disbursement=d)


def _case_for(w: World, c: Community, name: str) -> Case:
    case: Case = CaseFactory(
        worker=worker_of(w), person=PersonFactory(community=c, name=name), phase=CasePhase.INTAKE
    )
    CaseContactFactory(case=case)
    return case


def _application(w: World, c: Community) -> None:
    application_to(call_of(w.d1, communities=[c]), w.o1, status=ApplicationStatus.SUBMITTED)


def _cobuilding(w: World, c: Community) -> None:
    """An agreement of the community with its parties, a meeting and two follow-up items (one
    overdue)."""
    agreement = agreement_with_parties(c, c.organization, w.o1)
    meeting = JointMeetingFactory(agreement=agreement)
    FollowUpItemFactory(meeting=meeting, due_on=dt.date(2020, 1, 1))
    FollowUpItemFactory(meeting=meeting, due_on=dt.date(2099, 1, 1))


def _build(w: World) -> Subjects:
    """One of each kind the pages list: the starting data."""
    _person_in(w.c1, "张三甲")
    project = _project_for(w, w.c1)
    case = _case_for(w, w.c1, "张三乙")
    CaseGoalFactory(case=case)
    _application(w, w.c1)
    _cobuilding(w, w.c1)
    UnionBuildingFactory(organization=w.o1)
    DemandFactory(community=w.c1)
    ResourceEntryFactory(community=w.c1)
    VenueFactory(community=w.c1)
    return Subjects(project=project, community=w.c1, case=case)


def _grow(w: World, s: Subjects, n: int = 3) -> None:
    """n more of every kind: communities (each with its social organisation, volunteer team,
    people and a project), projects, people with memberships, cases with contacts,
    applications; and more rows under the pages' own project, community and case."""
    EvaluationFactory(project=s.project, stage=EvaluationStage.FINAL, evaluator_org=w.evaluator_org)
    for i in range(n):
        street = w.s1 if i % 2 else OrganizationFactory(kind=OrgKind.STREET_UNION, parent=w.d1)
        c = CommunityFactory(street_org=street, tier=("star", "ordinary", "weak")[i % 3])
        org = OrganizationFactory(kind=OrgKind.SOCIAL_ORG, parent=c.organization)
        team = OrganizationFactory(kind=OrgKind.VOLUNTEER_TEAM, parent=c.organization)
        _person_in(c, f"张三{i}丙")
        VolunteerFactory(person=PersonFactory(community=c), team=team)
        _project_for(w, c).communities.add(w.c1)
        _cobuilding(w, c)
        # the project page's project: more communities, milestones, money, indicators
        s.project.communities.add(c)
        for j in range(2):
            milestone = MilestoneFactory(project=s.project, seq=10 + 2 * i + j)
            TrancheFactory(milestone=milestone, amount=Decimal("5000.00"))
            _accepted(milestone, requested=bool(j))
        for metric in COUNTED:
            ProjectIndicatorFactory(project=s.project, metric=metric)
        # the case page's case, and the social worker's other cases
        for j in range(2):
            _case_for(w, w.c1 if j else c, f"张三{i}{j}戊")
        CaseContactFactory(case=s.case)
        CaseGoalFactory(case=s.case)
        CaseFollowUpFactory(case=s.case)
        ReferralFactory(case=s.case, to_org=org)
        # the community profile's community, and the organisation manager's organisation
        for j in range(2):
            _person_in(w.c1, f"张三{i}{j}丁")
        sub = OrganizationFactory(kind=OrgKind.SOCIAL_ORG, parent=w.c1.organization)
        UnionBuildingFactory(organization=sub)
        SocialWorkerFactory(person=PersonFactory(community=w.c1), organization=sub)
        SocialWorkerFactory(person=PersonFactory(community=w.c1, employer=w.o1), organization=w.o1)
        VolunteerFactory(person=PersonFactory(community=w.c1), team=w.t1)
        _cobuilding(w, w.c1)
        VenueFactory(community=w.c1)
        ResourceEntryFactory(community=w.c1)
        DemandFactory(community=w.c1)
        _application(w, w.c1)


@dataclass(frozen=True)
class Page:
    """A page or API call of the benchmark's mix, opened by `role`; `most`: the queries it
    may make on the small data (session, user, roles, second factor and organisation, and
    the session's save, 8 in all, come with every signed-in request)."""

    name: str
    role: str
    path: Callable[[Subjects], str]
    most: int


def _url(name: str, query: str = "") -> Callable[[Subjects], str]:
    return lambda s: reverse(name) + query


def _detail(name: str, of: str) -> Callable[[Subjects], str]:
    return lambda s: reverse(name, args=[getattr(s, of).pk])


def _api(path: str) -> Callable[[Subjects], str]:
    return lambda s: path.format(s=s)


PAGES = [
    Page("home of city staff", R.FEDERATION_STAFF, _url("home"), 20),
    Page("home of district staff", R.AREA_STAFF, _url("home"), 20),
    Page("home of a community cadre", R.COMMUNITY_CADRE, _url("home"), 19),
    Page("home of a social worker", R.SOCIAL_WORKER, _url("home"), 11),
    Page("home of an organisation manager", R.SOCIAL_ORG_MANAGER, _url("home"), 11),
    Page("project list (city)", R.FEDERATION_STAFF, _url("resources:project_board"), 16),
    Page("project list (district)", R.AREA_STAFF, _url("resources:project_board"), 16),
    Page("project list (organisation)", R.SOCIAL_ORG_MANAGER, _url("resources:project_board"), 15),
    Page(
        "project page (district)", R.AREA_STAFF, _detail("resources:project_detail", "project"), 25
    ),
    Page(
        "project page (organisation)",
        R.SOCIAL_ORG_MANAGER,
        _detail("resources:project_detail", "project"),
        26,
    ),
    Page("community list", R.AREA_STAFF, _url("organizations:community_list"), 9),
    Page(
        "community profile (district)",
        R.AREA_STAFF,
        _detail("organizations:community_detail", "community"),
        29,
    ),
    Page(
        "community profile (cadre)",
        R.COMMUNITY_CADRE,
        _detail("organizations:community_detail", "community"),
        29,
    ),
    Page("person search (initials)", R.COMMUNITY_CADRE, _url("organizations:search", "?q=zs"), 11),
    Page("person list", R.COMMUNITY_CADRE, _url("organizations:person_list"), 11),
    Page("case list", R.SOCIAL_WORKER, _url("delivery:case_list"), 12),
    # The view is audited: PostgreSQL takes the audit chain's lock first (one query more).
    Page("case page", R.SOCIAL_WORKER, _detail("delivery:case_detail", "case"), 20),
    Page("application list", R.SOCIAL_ORG_MANAGER, _url("resources:application_list"), 11),
    Page("API me", R.SOCIAL_WORKER, _api("/api/me"), 8),
    Page("API projects (city)", R.FEDERATION_STAFF, _api("/api/projects"), 11),
    Page("API projects (organisation)", R.SOCIAL_ORG_MANAGER, _api("/api/projects"), 11),
    Page("API communities", R.AREA_STAFF, _api("/api/communities"), 10),
    Page(
        "API people of a community",
        R.COMMUNITY_CADRE,
        _api("/api/people?community_id={s.community.pk}"),
        10,
    ),
    Page("API search (initials)", R.COMMUNITY_CADRE, _api("/api/search?q=zs"), 11),
    # A COUNT and the page's rows (core.api.PageRows), not every case turned into a dict.
    Page("API cases", R.SOCIAL_WORKER, _api("/api/cases"), 11),
    Page("API applications", R.SOCIAL_ORG_MANAGER, _api("/api/applications"), 10),
]


def _queries(w: World, role: str, path: str) -> list[str]:
    client = w.client(role)
    assert client.get(path).status_code == 200  # caches warmed
    with CaptureQueriesContext(connection) as ctx:
        client.get(path)
    return [q["sql"] for q in ctx.captured_queries]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_the_queries_do_not_grow_with_the_data(world: World, page: Page) -> None:
    subjects = _build(world)
    path = page.path(subjects)
    small = _queries(world, page.role, path)
    _grow(world, subjects)
    grown = _queries(world, page.role, path)
    # On failure: the queries the grown data added, else the small data's queries.
    shown = "\n".join(difflib.unified_diff(small, grown, lineterm="", n=0)) or "\n".join(small)
    assert (len(grown), len(small) <= page.most) == (len(small), True), shown
