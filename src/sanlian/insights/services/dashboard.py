"""数据看板: the figures of one area (the city, a district, a street or a community) from what
the three links record, folded by child area, by tier and by month of the last twelve.

Every figure is one or two GROUP BYs over the whole area: by community (or by the path of the
organisation a row hangs on) for the child areas and tiers, by tier and month for the series;
never a query per community or per month. The page's query count does not grow with the data.

Attribution: rows of a community go to the child area and tier of that community; rows of an
organisation (a union, a volunteer team, a social organisation) to the community it lies in, or
to the area itself (本级) when it hangs above the communities. People (members, beneficiaries)
are broken down by the tier of the community they live in. Case files are never read: cases
are counted through their person's community, as `delivery.services.cases.case_counts` does."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from dateutil.relativedelta import relativedelta
from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sanlian.core.scoping import AREA_ROLES, scope_for
from sanlian.delivery.models import (
    Activity,
    ActivityStatus,
    Answer,
    CaseContact,
    Demand,
    GroupAttendance,
    GroupSession,
    Registration,
    SurveyResponse,
)
from sanlian.delivery.models import Case as CaseFile
from sanlian.delivery.models.cases import TAKEN_PHASES, CasePhase, CaseQuerySet
from sanlian.organizations.models import (
    Community,
    Membership,
    Organization,
    OrgKind,
    Person,
    PersonTag,
    Sex,
    SocialWorker,
    UnionBuilding,
    Volunteer,
    VolunteerHourLog,
    VulnerabilityTag,
    split_hours,
)
from sanlian.resources.models import (
    FUNDER_ROLES,
    BudgetPool,
    ProjectStatus,
    ResourceEntry,
    ServiceProject,
)

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise
else:
    StrOrPromise = str

ROLES = tuple(sorted(AREA_ROLES))
MONTHS = 12
ZERO = Decimal(0)
# The child-area key of rows that lie in the area but in none of its child areas (本级).
HERE = 0
AGE_BANDS: tuple[tuple[str, Any], ...] = (
    ("lt35", _("35岁以下")),
    ("35_49", _("35–49岁")),
    ("50_59", _("50–59岁")),
    ("ge60", _("60岁及以上")),
    ("unknown", _("未登记")),
)

Num = int | Decimal


# ---- the area and the months ---------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    id: int
    name: str
    kind: str
    path: str


@dataclass(frozen=True)
class CommunityInfo:
    id: int
    org_id: int
    name: str
    tier: str
    population: int
    workers: int
    active: bool
    child: int  # the child area it lies in (HERE when the area is the community itself)


@dataclass(frozen=True)
class Area:
    """The area shown, the way up to it within the user's scope, its child areas, and every
    community in it (active or not, so that rows of a merged community still find a place)."""

    node: Place
    trail: tuple[Place, ...]
    children: tuple[Place, ...]
    communities: Mapping[int, CommunityInfo]
    _by_org: dict[int, CommunityInfo] = field(init=False, repr=False, compare=False)
    _child_ids: frozenset[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_org", {c.org_id: c for c in self.communities.values()})
        object.__setattr__(self, "_child_ids", frozenset(c.id for c in self.children))

    @property
    def depth(self) -> int:
        return len(_segments(self.node.path))

    @property
    def community(self) -> CommunityInfo | None:
        """The community when the area is one."""
        return self._by_org.get(self.node.id)

    def active_communities(self) -> list[CommunityInfo]:
        return [c for c in self.communities.values() if c.active]

    def locate(self, path: str | None) -> tuple[int, str]:
        """(child area, tier) of a row hanging on the organisation at `path`."""
        if not path:
            return HERE, ""
        ids = _segments(path)
        child = ids[self.depth] if len(ids) > self.depth else HERE
        tier = next((self._by_org[i].tier for i in ids if i in self._by_org), "")
        return (child if child in self._child_ids else HERE), tier

    def where(self, community_id: int | None) -> tuple[int, str]:
        """(child area, tier) of a row of a community."""
        info = self.communities.get(community_id or 0)
        return (info.child, info.tier) if info else (HERE, "")


def _segments(path: str) -> list[int]:
    return [int(p) for p in path.strip("/").split("/") if p]


def _place(org: Organization) -> Place:
    return Place(org.pk, org.name, org.kind, org.path)


def area_for(user: Any, area_id: int | None = None) -> Area | None:
    """The area `area_id` (default: the user's own area node), or None when the user may not
    see it (not an area role, not an area node, or outside the user's area)."""
    scope = scope_for(user)
    if scope.area_path is None or not scope.has(*AREA_ROLES):
        return None
    areas = Organization.objects.visible_to(user).areas()
    node = (
        areas.filter(pk=area_id).first()
        if area_id is not None
        else areas.filter(path=scope.area_path).first()
    )
    if node is None:
        return None
    above = [i for i in _segments(node.path) if i != node.pk]
    trail = Organization.objects.filter(pk__in=above, path__startswith=scope.area_path)
    children = Organization.objects.filter(parent=node).areas().active().order_by("name", "pk")
    child_ids = {c.pk for c in children}
    depth = len(_segments(node.path))
    communities: dict[int, CommunityInfo] = {}
    for pk, org_id, path, name, tier, population, workers, active in (
        Community.objects.filter(organization__path__startswith=node.path)
        .order_by("organization__path")
        .values_list(
            "pk",
            "organization_id",
            "organization__path",
            "name",
            "tier",
            "population",
            "worker_count",
            "organization__is_active",
        )
    ):
        ids = _segments(path)
        child = ids[depth] if len(ids) > depth and ids[depth] in child_ids else HERE
        communities[pk] = CommunityInfo(pk, org_id, name, tier, population, workers, active, child)
    return Area(
        node=_place(node),
        trail=tuple(_place(o) for o in trail.order_by("path")),
        children=tuple(_place(c) for c in children),
        communities=communities,
    )


@dataclass(frozen=True)
class Period:
    """The last twelve months, this one included."""

    today: dt.date
    months: tuple[dt.date, ...]  # first days, oldest first

    @property
    def first(self) -> dt.date:
        return self.months[0]

    @property
    def since(self) -> dt.datetime:
        """The first moment of the period, for datetime columns."""
        return timezone.make_aware(dt.datetime.combine(self.first, dt.time.min))

    def index(self, value: Any) -> int | None:
        """The month of a date, a datetime or a 'YYYY-MM…' text (raw SQL on SQLite), or None
        outside the period."""
        if value is None:
            return None
        if isinstance(value, str):
            year, month = int(value[:4]), int(value[5:7])
        else:
            if isinstance(value, dt.datetime) and timezone.is_aware(value):
                value = timezone.localtime(value)
            year, month = value.year, value.month
        i = (year - self.first.year) * 12 + month - self.first.month
        return i if 0 <= i < MONTHS else None

    @property
    def labels(self) -> list[str]:
        return [f"{m:%Y-%m}" for m in self.months]


def period_ending(today: dt.date) -> Period:
    start = today.replace(day=1) - relativedelta(months=MONTHS - 1)
    return Period(today, tuple(start + relativedelta(months=i) for i in range(MONTHS)))


# ---- figures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One measure over the area: its total, by child area (HERE: the area itself), by tier,
    by month of the period and by tier and month."""

    total: Num
    by_child: Mapping[int, Num]
    by_tier: Mapping[str, Num]
    by_month: tuple[Num, ...]
    by_tier_month: Mapping[str, tuple[Num, ...]]

    def child(self, child_id: int) -> Num:
        return self.by_child.get(child_id, 0)

    def tier(self, tier: str) -> Num:
        return self.by_tier.get(tier, 0)

    def tier_month(self, tier: str) -> tuple[Num, ...]:
        return self.by_tier_month.get(tier, (0,) * MONTHS)


class _Fold:
    """Adds grouped rows up into a Figure: rows by place (community or organisation) make the
    total, the child areas and the tiers; rows by tier and month make the series."""

    def __init__(self, zero: Num = 0) -> None:
        self.zero = zero
        self.total: Num = zero
        self.by_child: dict[int, Num] = defaultdict(lambda: zero)
        self.by_tier: dict[str, Num] = defaultdict(lambda: zero)
        self.by_month: list[Num] = [zero] * MONTHS
        self.by_tier_month: dict[str, list[Num]] = defaultdict(lambda: [zero] * MONTHS)

    def place(self, value: Num | None, where: tuple[int, str]) -> None:
        value = value or self.zero
        child, tier = where
        self.total += value
        self.by_child[child] += value
        self.by_tier[tier] += value

    def time(self, value: Num | None, tier: str, month: int | None) -> None:
        if month is None:
            return
        value = value or self.zero
        self.by_month[month] += value
        self.by_tier_month[tier][month] += value

    def freeze(self) -> Figure:
        return Figure(
            self.total,
            dict(self.by_child),
            dict(self.by_tier),
            tuple(self.by_month),
            {t: tuple(v) for t, v in self.by_tier_month.items()},
        )


def _count_figure(
    area: Area,
    period: Period | None,
    qs: QuerySet[Any],
    *,
    community: str,
    date: str | None = None,
    value: Any = None,
    zero: Num = 0,
) -> Figure:
    """Two GROUP BYs of rows of communities (reached through `community`): by community, and
    by tier and month of `date` (None: no series). `value`: an aggregate (default: count)."""
    agg = value if value is not None else Count("pk")
    fold = _Fold(zero)
    for cid, v in qs.order_by().values_list(f"{community}_id").annotate(v=agg):
        fold.place(v, area.where(cid))
    if date is not None and period is not None:
        rows = (
            qs.order_by()
            .annotate(g_month=TruncMonth(date))
            .values_list(f"{community}__tier", "g_month")
            .annotate(v=agg)
        )
        for tier, month, v in rows:
            fold.time(v, tier or "", period.index(month))
    return fold.freeze()


def _path_figure(
    area: Area,
    period: Period | None,
    qs: QuerySet[Any],
    *,
    path: str,
    date: str | None = None,
    value: Any = None,
    zero: Num = 0,
) -> Figure:
    """One GROUP BY of rows of organisations (their path through `path`), and the month of
    `date` when given."""
    agg = value if value is not None else Count("pk")
    fold = _Fold(zero)
    if date is None or period is None:
        for p, v in qs.order_by().values_list(path).annotate(v=agg):
            fold.place(v, area.locate(p))
        return fold.freeze()
    rows = (
        qs.order_by()
        .annotate(g_month=TruncMonth(date))
        .values_list(path, "g_month")
        .annotate(v=agg)
    )
    for p, month, v in rows:
        where = area.locate(p)
        fold.place(v, where)
        fold.time(v, where[1], period.index(month))
    return fold.freeze()


# ---- people: sex, age band, work, 新就业形态, vulnerable ----------------------------------------


@dataclass(frozen=True)
class Share:
    label: StrOrPromise  # lazy: a snapshot of the figures renders in the reader's language
    total: int
    by_tier: Mapping[str, int]


@dataclass(frozen=True)
class Dimension:
    key: str
    label: StrOrPromise
    rows: tuple[Share, ...]


@dataclass(frozen=True)
class Breakdown:
    """People by tier of the community they live in, and by each dimension (a vulnerable
    person may have several situations: that dimension's rows can add up to more)."""

    total: int
    by_tier: Mapping[str, int]
    dimensions: tuple[Dimension, ...]

    def dimension(self, key: str) -> Dimension:
        return next(d for d in self.dimensions if d.key == key)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _age_band(birth_date: str, today: dt.date) -> Case:
    """The age band on `today` of the person whose birth date is `birth_date` (a lookup)."""
    return Case(
        When(**{f"{birth_date}__isnull": True}, then=Value("unknown")),
        When(**{f"{birth_date}__gt": _years_before(today, 35)}, then=Value("lt35")),
        When(**{f"{birth_date}__gt": _years_before(today, 50)}, then=Value("35_49")),
        When(**{f"{birth_date}__gt": _years_before(today, 60)}, then=Value("50_59")),
        default=Value("ge60"),
        output_field=CharField(),
    )


def _breakdown(
    qs: QuerySet[Any], person: str, tags: QuerySet[PersonTag], today: dt.date
) -> Breakdown:
    """`qs`: rows of people (one per person), reached through `person` ("" for Person rows
    themselves, else e.g. "person__"); `tags`: the vulnerability tags of those people."""
    tier_of = f"{person}community__tier"
    rows = (
        qs.order_by()
        .annotate(
            g_tier=F(tier_of),
            g_sex=F(f"{person}sex"),
            g_band=_age_band(f"{person}birth_date", today),
            g_retired=F(f"{person}is_retired"),
            g_new=F(f"{person}is_new_employment"),
        )
        .values_list("g_tier", "g_sex", "g_band", "g_retired", "g_new")
        .annotate(n=Count("pk"))
    )
    cells: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    total, by_tier = 0, defaultdict[str, int](int)
    for tier, sex, band, retired, new, n in rows:
        tier = tier or ""
        total += n
        by_tier[tier] += n
        for key in (
            ("sex", sex or ""),
            ("age", band),
            ("work", "retired" if retired else "working"),
            ("new", "yes" if new else "no"),
        ):
            cells[key][tier] += n
    # A filter rather than a column of the GROUP BY: the database can answer it as a semi-join.
    own = f"{person.removesuffix('__')}_id" if person else "pk"
    tagged = (
        qs.filter(Exists(PersonTag.objects.filter(person_id=OuterRef(own))))
        .order_by()
        .values_list(tier_of)
        .annotate(n=Count("pk"))
    )
    for tier, n in tagged:
        cells[("vulnerable", "yes")][tier or ""] += n
    for tier, n in by_tier.items():
        cells[("vulnerable", "no")][tier] = n - cells[("vulnerable", "yes")].get(tier, 0)
    for tag, tier, n in (
        tags.order_by().values_list("tag", "person__community__tier").annotate(n=Count("pk"))
    ):
        cells[("tag", tag)][tier or ""] += n

    def share(key: tuple[str, str], label: StrOrPromise) -> Share:
        found = cells.get(key, {})
        return Share(label, sum(found.values()), dict(found))

    dimensions = (
        Dimension(
            "sex",
            _("性别"),
            (
                *(share(("sex", s.value), s.label) for s in Sex),
                share(("sex", ""), _("未登记")),
            ),
        ),
        Dimension("age", _("年龄段"), tuple(share(("age", k), label) for k, label in AGE_BANDS)),
        Dimension(
            "work",
            _("在职/退休"),
            (share(("work", "working"), _("在职职工")), share(("work", "retired"), _("退休人员"))),
        ),
        Dimension(
            "new",
            _("新就业形态劳动者"),
            (share(("new", "yes"), _("新就业形态劳动者")), share(("new", "no"), _("其他"))),
        ),
        Dimension(
            "vulnerable",
            _("困难情况"),
            (
                share(("vulnerable", "yes"), _("有困难情况")),
                share(("vulnerable", "no"), _("无")),
                *(share(("tag", t.value), t.label) for t in VulnerabilityTag),
            ),
        ),
    )
    return Breakdown(total, dict(by_tier), dimensions)


# ---- 组织联建 --------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnionBuildingTotals:
    organizations: int  # social organisations with a record (the newest of each)
    founded: int
    staff: int
    members: int


@dataclass(frozen=True)
class OrganisationFigures:
    population: Figure  # residents of the active communities
    workers: Figure  # 在职职工 of the active communities
    communities: Figure  # active communities
    members: Figure  # active memberships, by the union's place
    working_members: Figure  # of which not retired
    new_members: Figure  # joined in the period, by month
    member_breakdown: Breakdown
    union_building: UnionBuildingTotals
    social_orgs: Figure
    social_workers: Figure
    volunteers: Figure


def _community_figure(area: Area, attr: str) -> Figure:
    fold = _Fold()
    for c in area.active_communities():
        fold.place(getattr(c, attr) if attr else 1, (c.child, c.tier))
    return fold.freeze()


def organisation_figures(user: Any, area: Area, period: Period) -> OrganisationFigures:
    path = area.node.path
    members = Membership.objects.visible_to(user).active().filter(union__path__startswith=path)
    ub = (
        UnionBuilding.objects.visible_to(user)
        .latest_per_organization()
        .filter(organization__path__startswith=path)
        .aggregate(
            n=Count("pk"),
            founded=Count("pk", filter=Q(union_founded=True)),
            staff=Sum("staff_count"),
            members=Sum("member_count"),
        )
    )
    return OrganisationFigures(
        population=_community_figure(area, "population"),
        workers=_community_figure(area, "workers"),
        communities=_community_figure(area, ""),
        members=_path_figure(area, None, members, path="union__path"),
        working_members=_path_figure(
            area, None, members.filter(person__is_retired=False), path="union__path"
        ),
        new_members=_path_figure(
            area,
            period,
            Membership.objects.visible_to(user).filter(
                union__path__startswith=path, joined_on__range=(period.first, period.today)
            ),
            path="union__path",
            date="joined_on",
        ),
        member_breakdown=_breakdown(
            members,
            "person__",
            PersonTag.objects.visible_to(user).filter(person__in=members.values("person_id")),
            period.today,
        ),
        union_building=UnionBuildingTotals(
            ub["n"], ub["founded"], ub["staff"] or 0, ub["members"] or 0
        ),
        social_orgs=_path_figure(
            area,
            None,
            Organization.objects.visible_to(user).filter(
                kind=OrgKind.SOCIAL_ORG, is_active=True, path__startswith=path
            ),
            path="path",
        ),
        social_workers=_path_figure(
            area,
            None,
            SocialWorker.objects.visible_to(user)
            .active()
            .filter(organization__path__startswith=path),
            path="organization__path",
        ),
        volunteers=_path_figure(
            area,
            None,
            Volunteer.objects.visible_to(user).filter(team__path__startswith=path),
            path="team__path",
        ),
    )


# ---- 需求: surveys and demands ----------------------------------------------------------------


@dataclass(frozen=True)
class NeedRow:
    text: str  # the option's text (needs of several surveys with the same text are one)
    total: int
    by_tier: Mapping[str, int]


@dataclass(frozen=True)
class NeedFigures:
    responses: Figure  # survey responses in the period
    respondents: int  # responses that answered a need question
    respondents_by_tier: Mapping[str, int]
    needs: tuple[NeedRow, ...]  # the most chosen first
    demands: Figure  # received in the period
    demands_by_status: Mapping[str, Mapping[str, int]]  # status -> tier -> n
    open_demands: Figure  # still open, whenever received
    overdue_demands: Figure  # of which past a deadline

    def status_total(self, status: str) -> int:
        return sum(self.demands_by_status.get(status, {}).values())


TOP_NEEDS = 10


def need_figures(user: Any, area: Area, period: Period) -> NeedFigures:
    path = area.node.path
    responses = SurveyResponse.objects.visible_to(user).filter(
        community__organization__path__startswith=path, submitted_at__gte=period.since
    )
    answers = Answer.objects.visible_to(user).filter(
        community__organization__path__startswith=path,
        question__is_need_question=True,
        option__isnull=False,
        response__submitted_at__gte=period.since,
    )
    counted: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for text, tier, n in (
        answers.order_by().values_list("option__text", "community__tier").annotate(n=Count("pk"))
    ):
        counted[(text or "").strip()][tier or ""] += n
    needs = sorted(
        (NeedRow(text, sum(tiers.values()), dict(tiers)) for text, tiers in counted.items()),
        key=lambda r: (-r.total, r.text),
    )[:TOP_NEEDS]
    respondents = dict(
        answers.order_by()
        .values_list("community__tier")
        .annotate(n=Count("response_id", distinct=True))
    )
    demands = Demand.objects.visible_to(user).filter(community__organization__path__startswith=path)
    received = demands.filter(received_at__gte=period.since)
    by_status: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for status, tier, n in (
        received.order_by().values_list("status", "community__tier").annotate(n=Count("pk"))
    ):
        by_status[status][tier or ""] += n
    return NeedFigures(
        responses=_count_figure(
            area, period, responses, community="community", date="submitted_at"
        ),
        respondents=sum(respondents.values()),
        respondents_by_tier={t or "": n for t, n in respondents.items()},
        needs=tuple(needs),
        demands=_count_figure(area, period, received, community="community", date="received_at"),
        demands_by_status={s: dict(t) for s, t in by_status.items()},
        open_demands=_count_figure(area, None, demands.open(), community="community"),
        overdue_demands=_count_figure(
            area, None, demands.overdue(period.today), community="community"
        ),
    )


# ---- 项目: service projects and money --------------------------------------------------------


@dataclass(frozen=True)
class PoolTotals:
    """Budget pools of the year owned at or below the area (their running totals)."""

    year: int
    amount: Decimal
    allocated: Decimal
    contracted: Decimal
    disbursed: Decimal
    by_child: Mapping[int, Decimal]  # amount by owning level
    by_earmark: Mapping[str, Decimal]  # amount by 限定社区类别 ("": 不限)


@dataclass(frozen=True)
class ProjectFigures:
    """Projects serving a community of the area, each counted once in a total (and once in
    each child area and tier it serves)."""

    by_status: Mapping[str, Mapping[str, int]]  # status -> tier -> projects
    status_totals: Mapping[str, int]
    projects: Figure  # all projects; series: signed in the month
    contracted: Figure  # contract amounts of signed projects (not 待签约)
    disbursed: Figure  # what the projects were paid
    funds: Figure  # money reaching the communities in the period (ledger), by month
    pools: PoolTotals | None  # None: the user's role sees no pools


class _Distinct:
    """Counts and sums of projects counted once per key."""

    def __init__(self) -> None:
        self.seen: set[tuple[Any, int]] = set()
        self.n: dict[Any, int] = defaultdict(int)
        self.amount: dict[Any, Decimal] = defaultdict(lambda: ZERO)
        self.paid: dict[Any, Decimal] = defaultdict(lambda: ZERO)

    def add(self, key: Any, pk: int, amount: Decimal | None, paid: Decimal | None) -> None:
        if (key, pk) in self.seen:
            return
        self.seen.add((key, pk))
        self.n[key] += 1
        self.amount[key] += amount or ZERO
        self.paid[key] += paid or ZERO


def _figure_of(
    total: Num, by_child: Mapping[Any, Num], by_tier: Mapping[Any, Num], by_month: Any = None
) -> Figure:
    months = tuple(by_month) if by_month is not None else (0,) * MONTHS
    return Figure(total, dict(by_child), dict(by_tier), months, {})


def project_figures(user: Any, area: Area, period: Period) -> ProjectFigures:
    path = area.node.path
    links = (
        ServiceProject.communities.through.objects.filter(
            community__organization__path__startswith=path,
            serviceproject__in=ServiceProject.objects.visible_to(user).values("pk"),
        )
        .order_by()
        .values_list(
            "serviceproject_id",
            "community_id",
            "serviceproject__status",
            "serviceproject__amount",
            "serviceproject__disbursed",
            "serviceproject__signed_on",
        )
    )
    total, by_child, by_tier, by_status_tier = _Distinct(), _Distinct(), _Distinct(), _Distinct()
    signed: list[set[int]] = [set() for _m in range(MONTHS)]
    statuses: dict[int, str] = {}
    for pk, cid, status, amount, paid, signed_on in links:
        child, tier = area.where(cid)
        contract = amount if status != ProjectStatus.DRAFT else ZERO
        total.add("", pk, contract, paid)
        by_child.add(child, pk, contract, paid)
        by_tier.add(tier, pk, contract, paid)
        by_status_tier.add((status, tier), pk, None, None)
        statuses[pk] = status
        month = period.index(signed_on)
        if month is not None:
            signed[month].add(pk)
    by_status: dict[str, dict[str, int]] = defaultdict(dict)
    for (status, tier), n in by_status_tier.n.items():
        by_status[status][tier] = n
    status_totals: dict[str, int] = defaultdict(int)
    for status in statuses.values():
        status_totals[status] += 1
    pools = None
    if scope_for(user).has(*FUNDER_ROLES):
        pools = _pool_totals(user, area, period.today.year)
    return ProjectFigures(
        by_status={s: dict(t) for s, t in by_status.items()},
        status_totals=dict(status_totals),
        projects=_figure_of(total.n.get("", 0), by_child.n, by_tier.n, [len(s) for s in signed]),
        contracted=_figure_of(total.amount.get("", ZERO), by_child.amount, by_tier.amount),
        disbursed=_figure_of(total.paid.get("", ZERO), by_child.paid, by_tier.paid),
        funds=_count_figure(
            area,
            period,
            ResourceEntry.objects.visible_to(user)
            .funds()
            .filter(
                disbursement__isnull=False,
                community__organization__path__startswith=path,
                occurred_on__range=(period.first, period.today),
            ),
            community="community",
            date="occurred_on",
            value=Sum("value"),
            zero=ZERO,
        ),
        pools=pools,
    )


def _pool_totals(user: Any, area: Area, year: int) -> PoolTotals:
    amount, allocated, contracted, disbursed = ZERO, ZERO, ZERO, ZERO
    by_child: dict[int, Decimal] = defaultdict(lambda: ZERO)
    by_earmark: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for owner_path, earmark, a, al, c, d in (
        BudgetPool.objects.visible_to(user)
        .filter(owner__path__startswith=area.node.path, year=year)
        .order_by()
        .values_list("owner__path", "tier")
        .annotate(Sum("amount"), Sum("allocated"), Sum("contracted"), Sum("disbursed"))
    ):
        amount, allocated = amount + a, allocated + al
        contracted, disbursed = contracted + c, disbursed + d
        by_child[area.locate(owner_path)[0]] += a
        by_earmark[earmark or ""] += a
    return PoolTotals(
        year, amount, allocated, contracted, disbursed, dict(by_child), dict(by_earmark)
    )


# ---- 服务: cases, groups, activities, beneficiaries, volunteer hours -------------------------


@dataclass(frozen=True)
class TimeShare:
    """Service of one kind in the period: how many, their hours, the hours outside Mon–Fri
    08:30–17:30 (`organizations.models.workforce.split_hours`, as `delivery.outputs`)."""

    label: StrOrPromise
    services: int
    hours: Decimal
    outside: Decimal

    @property
    def share(self) -> Decimal | None:
        return (self.outside * 100 / self.hours).quantize(Decimal("0.1")) if self.hours else None


@dataclass(frozen=True)
class Beneficiaries:
    """People served in the period, each counted once (as `delivery.outputs`: a registered
    person by their record, anyone else by mobile number) across cases, groups and
    activities; by child area and tier of where they live (registered people only)."""

    total: int
    by_phone: int  # of which known only by a mobile number
    people: Figure  # registered people, by where they live; series: served in the month
    breakdown: Breakdown


@dataclass(frozen=True)
class ServiceFigures:
    cases: Figure  # opened (接案) in the period
    open_cases: Mapping[str, int]  # open cases now, by phase
    sessions: Figure  # group sessions held
    activities: Figure  # activities done
    beneficiaries: Beneficiaries
    volunteer_hours: Figure  # confirmed hours
    volunteer_outside: Decimal
    time_shares: tuple[TimeShare, ...]
    outside_by_month: tuple[tuple[Decimal, Decimal], ...]  # (hours, outside) of each month


def _cases(area: Area) -> CaseQuerySet:
    # Counts only, for area staff (no case rows are read), as case_counts does.
    return CaseFile.objects.filter(person__community__organization__path__startswith=area.node.path)


def _service_sources(user: Any, area: Area, period: Period) -> dict[str, QuerySet[Any]]:
    """The rows that serve people in the period, by part."""
    path, span = area.node.path, (period.first, period.today)
    return {
        "cases": _cases(area).filter(phase__in=TAKEN_PHASES, opened_on__range=span),
        "contacts": CaseContact.objects.filter(
            case__person__community__organization__path__startswith=path,
            case__phase__in=TAKEN_PHASES,
            served_on__range=span,
        ),
        "groups": GroupAttendance.objects.visible_to(user)
        .attended()
        .filter(
            session__group__community__organization__path__startswith=path,
            session__held_on__range=span,
        ),
        "activities": Registration.objects.visible_to(user)
        .checked_in()
        .filter(
            activity__community__organization__path__startswith=path,
            activity__status__in=(ActivityStatus.PUBLISHED, ActivityStatus.DONE),
            activity__date__range=span,
        ),
    }


def _served_keys(sources: Mapping[str, QuerySet[Any]]) -> tuple[str, list[Any]]:
    """One UNION ALL of (month, person id, mobile) over the parts, as SQL with its params."""
    blank = Value("", output_field=CharField())
    parts = [
        sources["cases"].annotate(m=TruncMonth("opened_on"), pid=F("person_id"), tel=blank),
        sources["contacts"].annotate(
            m=TruncMonth("served_on"), pid=F("case__person_id"), tel=blank
        ),
        sources["groups"].annotate(
            m=TruncMonth("session__held_on"), pid=F("member__person_id"), tel=blank
        ),
        sources["activities"].annotate(
            m=TruncMonth("activity__date"), pid=F("person_id"), tel=F("phone")
        ),
    ]
    first, *rest = [p.order_by().values_list("m", "pid", "tel") for p in parts]
    sql, params = first.union(*rest, all=True).query.sql_with_params()
    return sql, list(params)


def _beneficiaries(
    user: Any, area: Area, period: Period, sources: Mapping[str, QuerySet[Any]]
) -> Beneficiaries:
    sql, params = _served_keys(sources)
    # The UNION ALL over every service of the period is the costliest part of a dashboard (a
    # second at a district of the city scale) and six queries read it: it is run once into a
    # temporary table of its distinct (month, person, mobile), which the atomic block drops
    # again (or rolls back with everything else when a query fails).
    table = f"sanlian_served_{uuid.uuid4().hex}"
    phone_only = "COUNT(DISTINCT CASE WHEN u.pid IS NULL THEN u.tel END)"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {table} AS "  # noqa: S608 (ORM SQL, our own name)
            f"SELECT DISTINCT u.m, u.pid, u.tel FROM ({sql}) u",
            params,
        )
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {table}")  # temporary tables are never auto-analysed
        cursor.execute(f"SELECT COUNT(DISTINCT u.pid), {phone_only} FROM {table} u")  # noqa: S608
        people, phones = cursor.fetchone()
        cursor.execute(
            f"SELECT u.m, COUNT(DISTINCT u.pid), {phone_only} FROM {table} u GROUP BY u.m"  # noqa: S608
        )
        months = cursor.fetchall()
        ids = f"SELECT u.pid FROM {table} u WHERE u.pid IS NOT NULL"  # noqa: S608
        served = Person.objects.filter(pk__in=RawSQL(ids, []))  # noqa: S611
        fold = _Fold()
        for cid, tier, n in (
            served.order_by().values_list("community_id", "community__tier").annotate(n=Count("pk"))
        ):
            child, _tier = area.where(cid)
            fold.place(n, (child, tier or ""))
        for month, n, phones_n in months:
            fold.time(n + phones_n, "", period.index(month))
        breakdown = _breakdown(
            served,
            "",
            PersonTag.objects.visible_to(user).filter(person__in=served.values("pk")),
            period.today,
        )
        cursor.execute(f"DROP TABLE {table}")
    return Beneficiaries(
        total=(people or 0) + (phones or 0),
        by_phone=phones or 0,
        people=fold.freeze(),
        breakdown=breakdown,
    )


TIME_PARTS: tuple[tuple[str, Any], ...] = (
    ("cases", _("个案服务记录")),
    ("groups", _("小组节次")),
    ("activities", _("社区活动")),
)


def _time_shares(
    user: Any, area: Area, period: Period, sessions: QuerySet[Any], activities: QuerySet[Any]
) -> tuple[tuple[TimeShare, ...], tuple[tuple[Decimal, Decimal], ...]]:
    """Hours and hours outside the working day by part and month, from GROUP BYs over (day,
    start, end): each distinct time is split once, however many services share it."""
    path, span = area.node.path, (period.first, period.today)
    queries = {
        "cases": CaseContact.objects.filter(
            case__person__community__organization__path__startswith=path, served_on__range=span
        ).values_list("served_on", "start_time", "end_time"),
        "groups": sessions.values_list("held_on", "starts_at", "ends_at"),
        "activities": activities.values_list("date", "start_time", "end_time"),
    }
    monthly = [[ZERO, ZERO] for _m in range(MONTHS)]
    shares = []
    for key, label in TIME_PARTS:
        n_all, hours, outside = 0, ZERO, ZERO
        for day, start, end, n in queries[key].order_by().annotate(n=Count("pk")):
            total, out = split_hours(day, start, end)
            n_all, hours, outside = n_all + n, hours + total * n, outside + out * n
            month = period.index(day)
            if month is not None:
                monthly[month][0] += total * n
                monthly[month][1] += out * n
        shares.append(TimeShare(label, n_all, hours, outside))
    return tuple(shares), tuple((h, o) for h, o in monthly)


def service_figures(user: Any, area: Area, period: Period) -> ServiceFigures:
    path, span = area.node.path, (period.first, period.today)
    sessions = GroupSession.objects.visible_to(user).filter(
        group__community__organization__path__startswith=path, held_on__range=span
    )
    activities = (
        Activity.objects.visible_to(user)
        .done()
        .filter(community__organization__path__startswith=path, date__range=span)
    )
    hour_logs = (
        VolunteerHourLog.objects.visible_to(user)
        .confirmed()
        .filter(volunteer__team__path__startswith=path, served_on__range=span)
    )
    outside = hour_logs.aggregate(o=Sum("hours_outside"))["o"] or ZERO
    shares, by_month = _time_shares(user, area, period, sessions, activities)
    return ServiceFigures(
        cases=_count_figure(
            area,
            period,
            _cases(area).exclude(phase=CasePhase.NOT_TAKEN).filter(opened_on__range=span),
            community="person__community",
            date="opened_on",
        ),
        open_cases=dict(
            _cases(area).open().order_by().values_list("phase").annotate(n=Count("pk"))
        ),
        sessions=_count_figure(
            area, period, sessions, community="group__community", date="held_on"
        ),
        activities=_count_figure(area, period, activities, community="community", date="date"),
        beneficiaries=_beneficiaries(user, area, period, _service_sources(user, area, period)),
        volunteer_hours=_path_figure(
            area,
            period,
            hour_logs,
            path="volunteer__team__path",
            date="served_on",
            value=Sum("hours"),
            zero=ZERO,
        ),
        volunteer_outside=outside,
        time_shares=shares,
        outside_by_month=by_month,
    )


# ---- 满意度 -----------------------------------------------------------------------------------


SCORES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class SatisfactionFigures:
    """Residents' ratings (1–5) of the demands received in the period."""

    rated: Figure  # how many were rated
    points: Figure  # the sum of their scores (average = points / rated)
    distribution: Mapping[int, Mapping[str, int]]  # score -> tier -> n

    @staticmethod
    def average(points: Num, rated: Num) -> Decimal | None:
        return (Decimal(points) / Decimal(rated)).quantize(Decimal("0.01")) if rated else None

    @property
    def total_average(self) -> Decimal | None:
        return self.average(self.points.total, self.rated.total)

    def score_total(self, score: int) -> int:
        return sum(self.distribution.get(score, {}).values())


def satisfaction_figures(user: Any, area: Area, period: Period) -> SatisfactionFigures:
    rated = Demand.objects.visible_to(user).filter(
        community__organization__path__startswith=area.node.path,
        received_at__gte=period.since,
        satisfaction__isnull=False,
    )
    distribution: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for score, tier, n in (
        rated.order_by().values_list("satisfaction", "community__tier").annotate(n=Count("pk"))
    ):
        distribution[score][tier or ""] += n
    return SatisfactionFigures(
        rated=_count_figure(area, period, rated, community="community", date="received_at"),
        points=_count_figure(
            area,
            period,
            rated,
            community="community",
            date="received_at",
            value=Sum("satisfaction"),
        ),
        distribution={s: dict(t) for s, t in distribution.items()},
    )


# ---- the whole dashboard ---------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Every section's figures of one area as of `as_of`: what a snapshot keeps."""

    period: Period
    as_of: dt.datetime
    organisation: OrganisationFigures
    needs: NeedFigures
    projects: ProjectFigures
    services: ServiceFigures
    satisfaction: SatisfactionFigures


def figures(user: Any, area: Area, *, now: dt.datetime | None = None) -> Figures:
    """Every section of the dashboard of `area` (from `area_for`), computed now."""
    at = timezone.localtime(now or timezone.now())
    period = period_ending(at.date())
    return Figures(
        period=period,
        as_of=at,
        organisation=organisation_figures(user, area, period),
        needs=need_figures(user, area, period),
        projects=project_figures(user, area, period),
        services=service_figures(user, area, period),
        satisfaction=satisfaction_figures(user, area, period),
    )


@dataclass(frozen=True)
class Freshness:
    """Where the figures come from: computed for this request, or a snapshot of the
    background refresh (`services.snapshots`) and how old it is."""

    snapshot: bool = False
    seconds: float | None = None  # how long the snapshot took to compute
    stale: bool = False  # older than the refresh interval (a refresh has been asked for)
    max_age: int = 0  # the refresh interval, minutes


@dataclass(frozen=True)
class Dashboard:
    area: Area
    period: Period
    as_of: dt.datetime
    organisation: OrganisationFigures
    needs: NeedFigures
    projects: ProjectFigures
    services: ServiceFigures
    satisfaction: SatisfactionFigures
    freshness: Freshness = field(default_factory=Freshness)

    @classmethod
    def of(cls, area: Area, f: Figures, freshness: Freshness | None = None) -> Dashboard:
        return cls(
            area=area,
            period=f.period,
            as_of=timezone.localtime(f.as_of),
            organisation=f.organisation,
            needs=f.needs,
            projects=f.projects,
            services=f.services,
            satisfaction=f.satisfaction,
            freshness=freshness or Freshness(),
        )
