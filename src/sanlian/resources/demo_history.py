"""Five years of purchase-of-service history for the larger demo scales (`sanlian seed --scale
medium|city`), written in bulk by `sanlian.core.bulk.Writer` after the story of `demo.py`.

Each year (this one and the four before) has its budget pools: the city's, one per district,
and pools earmarked for weak communities (the city's and most districts'); each pool decided
calls, and each call its awarded applications and their projects (about fifty projects per
three communities over the five years: 2,500 at medium, 25,000 at city). A project serves one
to three communities, chosen the way money really flowed: star communities far more often
than ordinary ones, weak ones least (the earmarked pools make up part of it), and is
delivered by a social organisation based in the community or its district; one that failed
its acceptance (不合格) gets nothing the next year.

What each row holds is what the services would have written by then, counted from the dates:
a contract signed a week before it starts, three or four milestones (each accepted a few
days after it fell due, reported just before), a tranche per milestone, a disbursement
requested after each accepted milestone, approved once or, above the four-eyes threshold,
twice (by the funding level and the city, never the requester), paid a few days later (with
its FUNDS ledger entries, one per community served, adding up to it), a mid-term evaluation
after six months, then 结项评估中 once every milestone is accepted and 已结项 (the final
evaluation's score and grade) a month or two after the end. So the older years are closed,
last year's mostly closed, this year's running, and a few of this year's awards wait to be
signed (待签约). A project's `disbursed` is the sum of its paid disbursements and a pool's
totals are the sums of its projects (the CHECK constraints verify them on insert).

Values come from one `random.Random` seeded from the seed's number; dates count back from
today."""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import logging
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from sanlian.core.bulk import Writer, allocate
from sanlian.core.models import User
from sanlian.organizations.models import Community, Organization, OrgKind, ServiceField, Tier

from .models import (
    Application,
    ApplicationStatus,
    BudgetLine,
    BudgetPool,
    CallCriterion,
    CallStatus,
    Disbursement,
    DisbursementApproval,
    DisbursementStatus,
    Evaluation,
    EvaluationStage,
    EvaluationStatus,
    IndicatorKind,
    Metric,
    Milestone,
    MilestoneStatus,
    ProjectCall,
    ProjectIndicator,
    ProjectStatus,
    ResourceEntry,
    ResourceKind,
    ServiceProject,
    Tranche,
)
from .models.projects import FRAMEWORK_DIMENSIONS, Framework, grade_for
from .money import CENT, ZERO
from .money import split as split_money

log = logging.getLogger(__name__)

# ---- how much, and where -------------------------------------------------------------------

YEARS = 5
# Projects over the five years per community: 2,500 at medium (150), 25,000 at city (1,500).
PROJECTS_PER_THREE_COMMUNITIES = 50
# Share of the projects in each year, the oldest first: budgets grew every year.
YEAR_SHARES = (16, 18, 20, 22, 24)
# Of a year's projects: from the pools earmarked for weak communities, and from the city's.
WEAK_POOL_SHARE = 0.12
CITY_POOL_SHARE = 0.35
# How much likelier a community of each tier is to be chosen by an open pool (the model's
# problem: resources pile up where success looks certain).
TIER_WEIGHT: dict[str, float] = {Tier.STAR: 4.0, Tier.ORDINARY: 1.6, Tier.WEAK: 1.0}
COMMUNITIES_CUM = (0.5, 0.8, 1.0)  # one, two or three communities per project
DRAFT_SHARE = 0.04  # of this year's projects, awarded but not signed yet
LATE_ACCEPTANCE = 0.15  # of last year's finished projects, still in their final evaluation
THEMES: dict[str, tuple[str, str]] = {
    # service field -> (call, project)
    ServiceField.ELDERLY: ("社区居家养老服务", "居家养老服务项目"),
    ServiceField.YOUTH: ("青少年成长服务", "“四点半课堂”青少年服务项目"),
    ServiceField.LEGAL: ("职工法律援助与劳动争议调解", "职工法律服务项目"),
    ServiceField.EMPLOYMENT: ("职工就业与技能提升", "就业帮扶项目"),
    ServiceField.HEALTH: ("职工健康服务", "职工健康服务项目"),
    ServiceField.FAMILY: ("困难职工家庭关爱服务", "困难职工家庭关爱项目"),
    ServiceField.PROPERTY: ("物业纠纷调解服务", "物业矛盾调解项目"),
    ServiceField.DISABILITY: ("残疾职工关爱服务", "残障人士支持项目"),
    ServiceField.MENTAL_HEALTH: ("职工心理健康服务", "职工心理关爱项目"),
}
WEAK_FIELDS = (ServiceField.YOUTH, ServiceField.FAMILY, ServiceField.ELDERLY)
CRITERIA = (("需求契合度", 30), ("方案可行性", 40), ("团队能力", 30))
BUDGET_SPLIT = (
    (BudgetLine.Category.STAFF, "项目社工人员经费", 40),
    (BudgetLine.Category.ACTIVITY, "小组与社区活动经费", 30),
    (BudgetLine.Category.MATERIALS, "活动物资与宣传材料", 15),
    (BudgetLine.Category.TRAINING, "督导与培训", 5),
    (BudgetLine.Category.ADMIN, "项目管理费", 10),
)
INDICATORS = (
    # (kind, metric, name, unit, target per 100,000 元; satisfaction: the target itself)
    (IndicatorKind.OUTPUT, Metric.CASES, "个案服务", "个", 25),
    (IndicatorKind.OUTPUT, Metric.GROUP_SESSIONS, "小组活动", "节", 20),
    (IndicatorKind.OUTPUT, Metric.ACTIVITIES, "社区活动", "场", 10),
    (IndicatorKind.OUTPUT, Metric.BENEFICIARIES, "服务人次", "人次", 800),
    (IndicatorKind.OUTCOME, Metric.SATISFACTION, "服务对象满意度", "%", 90),
)
MILESTONES = {
    3: ("项目启动与需求评估", "服务中期推进", "服务总结与成效评估"),
    4: ("项目启动与需求评估", "服务全面开展", "服务中期推进", "服务总结与成效评估"),
}
SHARES = {3: (30, 40, 30), 4: (25, 25, 25, 25)}
FINDINGS = {
    "excellent": "项目执行规范，服务成效显著，服务对象满意度高。",
    "good": "项目按合同推进，服务记录完整，服务对象评价良好。",
    "pass": "项目基本完成合同指标，过程记录有待规范。",
    "fail": "主要指标未完成，服务记录不完整，不予通过。",
}

# The columns of each bulk row, in order (every concrete field of the model).
COLUMNS: dict[Any, tuple[str, ...]] = {
    BudgetPool: ("id", "version", "owner_id", "year", "name", "amount", "service_field", "tier",
                 "allocated", "contracted", "disbursed", "note"),
    ProjectCall: ("id", "version", "pool_id", "code", "title", "service_field", "description",
                  "budget_ceiling", "total_budget", "max_months", "opens_at", "deadline",
                  "status", "decided_at", "created_by_id", "created_at"),
    ProjectCall.communities.through: ("id", "projectcall_id", "community_id"),
    CallCriterion: ("id", "call_id", "seq", "name", "description", "weight"),
    Application: ("id", "version", "call_id", "organization_id", "title", "proposal",
                  "beneficiaries", "beneficiaries_note", "indicators", "amount", "months",
                  "status", "submitted_at", "submitted_by_id", "average_score", "rank",
                  "awarded_amount", "decision_reason", "decided_by_id", "decided_at",
                  "created_at"),
    Application.communities.through: ("id", "application_id", "community_id"),
    BudgetLine: ("id", "application_id", "category", "item", "amount"),
    ServiceProject: ("id", "version", "application_id", "call_id", "pool_id", "organization_id",
                     "title", "contract_number", "amount", "disbursed", "signed_on",
                     "starts_on", "ends_on", "status", "final_score", "final_grade",
                     "accepted_on", "terminated_reason", "created_at"),
    ServiceProject.communities.through: ("id", "serviceproject_id", "community_id"),
    ProjectIndicator: ("id", "project_id", "kind", "metric", "name", "target", "unit",
                       "reported"),
    Milestone: ("id", "project_id", "seq", "title", "due_on", "deliverables", "status", "report",
                "reported_at", "reported_by_id", "reviewed_at", "reviewed_by_id",
                "review_note"),
    Tranche: ("id", "project_id", "seq", "milestone_id", "amount"),
    Disbursement: ("id", "tranche_id", "project_id", "amount", "status", "request_key",
                   "approvals_required", "requested_by_id", "requested_at", "note",
                   "paid_by_id", "paid_at", "payment_reference", "closed_reason"),
    DisbursementApproval: ("id", "disbursement_id", "approver_id", "requested_by_id",
                           "approved_at", "comment"),
    Evaluation: ("id", "project_id", "stage", "framework", "evaluator_id", "evaluator_org_id",
                 "status", "scores", "score", "grade", "findings", "submitted_at"),
    ResourceEntry: ("id", "community_id", "project_id", "kind", "source_org_id", "source_name",
                    "description", "quantity", "unit", "value", "is_estimated", "occurred_on",
                    "disbursement_id", "booking_id", "recorded_by_id", "recorded_at"),
}  # fmt: skip


def projects_for(communities: int) -> int:
    return communities * PROJECTS_PER_THREE_COMMUNITIES // 3


def _round_up(amount: Decimal, step: int) -> Decimal:
    return Decimal(-(-int(amount) // step) * step).quantize(CENT)


# ---- what the organisations' data gave us --------------------------------------------------


@dataclass(frozen=True)
class Place:
    pk: int
    name: str
    tier: str
    district_id: int
    weight: float


@dataclass
class Scope:
    """Communities a pool may fund, with the cumulative weights of choosing them."""

    places: list[Place]
    cum: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cum = list(itertools.accumulate(p.weight for p in self.places))

    def sample(self, rng: random.Random, n: int) -> list[Place]:
        chosen: list[Place] = []
        for _ in range(n * 4):
            if len(chosen) == min(n, len(self.places)):
                break
            place = self.places[bisect.bisect_left(self.cum, rng.random() * self.cum[-1])]
            if place not in chosen:
                chosen.append(place)
        return chosen


@dataclass
class PoolPlan:
    pk: int
    owner: Organization
    year: int
    name: str
    tier: str
    scope: Scope
    projects: int
    funder: int  # the demo account of the funding level (milestone reviews, approvals)
    allocated: Decimal = ZERO
    contracted: Decimal = ZERO
    disbursed: Decimal = ZERO

    @property
    def label(self) -> str:
        return f"{self.year} {self.name}"


@dataclass
class CallPlan:
    pk: int
    pool: PoolPlan
    service_field: str
    deadline: dt.datetime
    decided_at: dt.datetime
    communities: set[int] = field(default_factory=set)
    amounts: list[Decimal] = field(default_factory=list)
    titles: set[tuple[int, str]] = field(default_factory=set)


class History:
    """The five years, generated and written in one pass over pools, calls and projects."""

    def __init__(self, projects: int, seed: int) -> None:
        self.total = projects
        self.rng = random.Random(f"resources-history-{seed}")
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.tz = timezone.get_current_timezone()
        self.four_eyes = Decimal(str(settings.DISBURSEMENT_FOUR_EYES_ABOVE))
        self.counts: dict[str, int] = defaultdict(int)
        self.serials: dict[str, int] = {}
        self.banned: dict[int, set[int]] = defaultdict(set)  # year -> organisations

    # -- loading -----------------------------------------------------------------------------
    def load(self) -> None:
        rng = random.Random("resources-history-places")
        self.city = Organization.objects.get(kind=OrgKind.FEDERATION, parent=None)
        self.districts = list(
            Organization.objects.filter(kind=OrgKind.DISTRICT_UNION).order_by("pk")
        )
        self.places = [
            Place(pk, name, tier, district_id, TIER_WEIGHT[tier] * (0.6 + 0.8 * rng.random()))
            for pk, name, tier, district_id in Community.objects.active()
            .order_by("pk")
            .values_list("pk", "name", "tier", "district_id")
        ]
        union_of = dict(Community.objects.values_list("organization_id", "pk"))
        place_of = {p.pk: p for p in self.places}
        self.local_orgs: dict[int, list[int]] = defaultdict(list)
        self.district_orgs: dict[int, list[int]] = defaultdict(list)
        self.all_orgs: list[int] = []
        for pk, parent_id in (
            Organization.objects.filter(kind=OrgKind.SOCIAL_ORG, is_active=True)
            .order_by("pk")
            .values_list("pk", "parent_id")
        ):
            self.all_orgs.append(pk)
            place = place_of.get(union_of.get(parent_id, 0))
            if place is not None:
                self.local_orgs[place.pk].append(pk)
                self.district_orgs[place.district_id].append(pk)
        users = dict(
            User.objects.filter(
                username__in=("city", "district", "orgmanager", "evaluator")
            ).values_list("username", "pk")
        )
        self.city_user, self.district_user = users["city"], users["district"]
        self.manager, self.evaluator = users["orgmanager"], users["evaluator"]
        self.district_user_org = User.objects.filter(pk=self.district_user).values_list(
            "organization_id", flat=True
        )[0]
        self.evaluator_org = (
            Organization.objects.filter(kind=OrgKind.EVALUATOR)
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )

    def next_serial(self, prefix: str, model: Any, column: str) -> int:
        """Numbers after those the story (or anyone) already used with this prefix."""
        if prefix not in self.serials:
            taken = model.objects.filter(**{f"{column}__startswith": prefix}).values_list(
                column, flat=True
            )
            numbers = [int(v[len(prefix) :]) for v in taken if v[len(prefix) :].isdigit()]
            self.serials[prefix] = max(numbers, default=0)
        self.serials[prefix] += 1
        return self.serials[prefix]

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.tz)

    # -- the plan of a year ------------------------------------------------------------------
    def pools(self, w: Writer, back: int, projects: int) -> list[PoolPlan]:
        year = self.today.year - back
        weak_all = [p for p in self.places if p.tier == Tier.WEAK]
        by_district: dict[int, list[Place]] = defaultdict(list)
        for p in self.places:
            by_district[p.district_id].append(p)
        weak_n = round(projects * WEAK_POOL_SHARE) if weak_all else 0
        city_n = round(projects * CITY_POOL_SHARE)
        city_weak_n = weak_n // 2
        districts = [d for d in self.districts if by_district.get(d.pk)]
        # Most districts (not every one, every year) earmark a pool for their weak communities.
        weak_districts = [
            d
            for d in districts
            if any(p.tier == Tier.WEAK for p in by_district[d.pk]) and self.rng.random() < 0.7
        ]
        district_weak = allocate(
            weak_n - city_weak_n,
            [sum(p.tier == Tier.WEAK for p in by_district[d.pk]) for d in weak_districts],
        )
        district_open = allocate(
            projects - city_n - weak_n, [len(by_district[d.pk]) for d in districts]
        )

        def funder(owner: Organization) -> int:
            return self.district_user if owner.pk == self.district_user_org else self.city_user

        plans = [
            (self.city, "市总工会社区服务项目资金", "", Scope(self.places), city_n),
            (self.city, "市总工会薄弱社区专项扶持资金", Tier.WEAK, Scope(weak_all), city_weak_n),
        ]
        for d, n in zip(districts, district_open, strict=True):
            short = d.name.removesuffix("总工会")
            plans.append((d, f"{short}购买服务资金", "", Scope(by_district[d.pk]), n))
        for d, n in zip(weak_districts, district_weak, strict=True):
            short = d.name.removesuffix("总工会")
            weak = [p for p in by_district[d.pk] if p.tier == Tier.WEAK]
            plans.append((d, f"{short}薄弱社区帮扶资金", Tier.WEAK, Scope(weak), n))
        return [
            PoolPlan(w.new_id(BudgetPool), owner, year, name, tier, scope, n, funder(owner))
            for owner, name, tier, scope, n in plans
            if n > 0 and scope.places
        ]

    def calls(self, w: Writer, pool: PoolPlan, back: int) -> list[CallPlan]:
        rng = self.rng
        count = max(1, min(4, pool.projects // 12 + 1))
        fields: list[str] = list(WEAK_FIELDS) if pool.tier else list(THEMES)
        rng.shuffle(fields)
        out = []
        for i in range(count):
            deadline = self.at(
                self.today - dt.timedelta(days=365 * back + rng.randint(235, 265)), 17
            )
            decided = self.at((deadline + dt.timedelta(days=rng.randint(12, 20))).date(), 10)
            out.append(
                CallPlan(w.new_id(ProjectCall), pool, fields[i % len(fields)], deadline, decided)
            )
        return out

    # -- one project -------------------------------------------------------------------------
    def project(self, w: Writer, call: CallPlan, back: int) -> None:
        rng, pool = self.rng, call.pool
        places = pool.scope.sample(rng, 1 + bisect.bisect_left(COMMUNITIES_CUM, rng.random()))
        places.sort(key=lambda p: p.pk)
        first = places[0]
        banned = self.banned[pool.year]
        # Mostly an organisation based in the community, else one of its district.
        near = self.local_orgs.get(first.pk) if rng.random() < 0.6 else None
        org = rng.choice(near or self.district_orgs.get(first.district_id) or self.all_orgs)
        if org in banned:  # rare: a 不合格 last year
            allowed = [o for o in self.all_orgs if o not in banned]
            org = rng.choice(allowed or self.all_orgs)
        low, high = (8, 24) if pool.tier else (10, 36)
        amount = Decimal(rng.randint(low, high) * 5000)
        if first.tier == Tier.STAR:
            amount = (amount * Decimal("1.2")).quantize(Decimal(1000))
        amount = amount.quantize(CENT)
        stem = THEMES[call.service_field][1]
        title = f"{first.name}{stem}"
        n = 1
        while (org, title) in call.titles:
            n += 1
            title = f"{first.name}{stem}（{n}）"
        call.titles.add((org, title))
        call.communities.update(p.pk for p in places)
        call.amounts.append(amount)

        # The award and the contract.
        app = w.new_id(Application)
        submitted = call.deadline - dt.timedelta(days=rng.randint(2, 12), hours=rng.randint(0, 6))
        indicators = [
            {
                "kind": kind,
                "metric": metric,
                "name": name,
                "target": str(
                    Decimal(per)
                    if metric == Metric.SATISFACTION
                    else max(Decimal(1), (amount * per / 100000).quantize(Decimal(1)))
                ),
                "unit": unit,
            }
            for kind, metric, name, unit, per in INDICATORS
        ]
        names = "、".join(p.name for p in places)
        w.add(Application, (
            app, 1, call.pk, org, title,
            f"在{names}开展“{title}”：以个案管理、支持小组和社区活动相结合，回应调研中发现的需求。",
            int(amount / 500), "社区困难职工、独居老人及其家庭", indicators, amount, 12,
            ApplicationStatus.AWARDED, submitted, None, None, None, amount,
            "评审排名靠前，方案与社区需求契合，予以立项。", pool.funder, call.decided_at,
            submitted - dt.timedelta(days=3),
        ))  # fmt: skip
        for p in places:
            w.add(
                Application.communities.through,
                (w.new_id(Application.communities.through), app, p.pk),
            )
        parts = [(amount * share / 100).quantize(CENT) for _c, _i, share in BUDGET_SPLIT[:-1]]
        parts.append(amount - sum(parts, ZERO))
        for (category, item, _s), part in zip(BUDGET_SPLIT, parts, strict=True):
            w.add(BudgetLine, (w.new_id(BudgetLine), app, category, item, part))

        draft = back == 0 and rng.random() < DRAFT_SHARE
        if draft:
            starts = self.today + dt.timedelta(days=rng.randint(7, 40))
        else:
            starts = call.decided_at.date() + dt.timedelta(days=rng.randint(20, 60))
        ends = starts + dt.timedelta(days=364)
        signed = None if draft else starts - dt.timedelta(days=rng.randint(3, 10))
        pk = w.new_id(ServiceProject)
        number = self.next_serial(f"SY-HT{pool.year}-", ServiceProject, "contract_number")
        for p in places:
            w.add(
                ServiceProject.communities.through,
                (w.new_id(ServiceProject.communities.through), pk, p.pk),
            )

        # Milestones, tranches and the money, as far as today.
        count = 3 if rng.random() < 0.6 else 4
        shares = SHARES[count]
        tranches = [(amount * s / 100).quantize(CENT, rounding=ROUND_HALF_UP) for s in shares[:-1]]
        tranches.append(amount - sum(tranches, ZERO))
        reviewer, other = (
            pool.funder,
            (self.district_user if pool.funder == self.city_user else self.city_user),
        )
        accepted, disbursed = 0, ZERO
        for seq in range(1, count + 1):
            due = ends if seq == count else starts + dt.timedelta(days=round(364 * seq / count))
            reported_at = self.at(due - dt.timedelta(days=rng.randint(0, 5)), 16)
            reviewed_at = self.at((reported_at + dt.timedelta(days=rng.randint(2, 8))).date(), 10)
            if draft or accepted < seq - 1 or reported_at >= self.now:
                state = MilestoneStatus.PENDING
            elif reviewed_at >= self.now:
                state = MilestoneStatus.REPORTED
            else:
                state = MilestoneStatus.ACCEPTED
                accepted += 1
            done = state != MilestoneStatus.PENDING
            ok = state == MilestoneStatus.ACCEPTED
            milestone = w.new_id(Milestone)
            w.add(Milestone, (
                milestone, pk, seq, MILESTONES[count][seq - 1], due,
                "服务记录、活动签到表、照片及阶段报告", state,
                "按计划完成本阶段服务，详见阶段报告。" if done else "",
                reported_at if done else None, self.manager if done else None,
                reviewed_at if ok else None, reviewer if ok else None,
                "材料齐全，同意验收。" if ok else "",
            ))  # fmt: skip
            tranche = w.new_id(Tranche)
            w.add(Tranche, (tranche, pk, seq, milestone, tranches[seq - 1]))
            if ok:
                paid = self.disburse(
                    w, pool, pk, title, tranche, seq, tranches[seq - 1], reviewed_at,
                    reviewer, other, places,
                )  # fmt: skip
                if paid:
                    disbursed += tranches[seq - 1]

        # Indicators: the organisation's own counts, in step with the accepted milestones.
        share_done = Decimal(accepted) / count
        for spec in indicators:
            target = Decimal(spec["target"])
            reported = None
            if accepted:
                reported = (
                    Decimal(rng.randint(86, 98))
                    if spec["metric"] == Metric.SATISFACTION
                    else (target * share_done * rng.randint(92, 115) / 100).quantize(Decimal(1))
                )
            w.add(ProjectIndicator, (
                w.new_id(ProjectIndicator), pk, spec["kind"], spec["metric"], spec["name"],
                target, spec["unit"], reported,
            ))  # fmt: skip

        # Evaluations, the closure and the acceptance.
        # Most projects score 良好 or 优秀 (a little more in star communities), a few fail.
        quality = rng.uniform(50, 59) if rng.random() < 0.02 else rng.gauss(83, 6)
        quality += 2 if first.tier == Tier.STAR else 0
        midterm = self.at(starts + dt.timedelta(days=rng.randint(180, 200)), 15)
        if not draft and midterm < self.now:
            self.evaluation(w, pk, EvaluationStage.MIDTERM, quality + rng.gauss(-1, 3), midterm)
        status, final_score, grade, accepted_on = ProjectStatus.ACTIVE, None, "", None
        if draft:
            status = ProjectStatus.DRAFT
        elif accepted == count:
            accepted_on = ends + dt.timedelta(days=rng.randint(25, 75))
            late = back == 1 and rng.random() < LATE_ACCEPTANCE
            if accepted_on < self.today and not late and disbursed == amount:
                status = ProjectStatus.ACCEPTED
                submitted_at = self.at(accepted_on - dt.timedelta(days=rng.randint(5, 15)), 15)
                final_score, grade = self.evaluation(
                    w, pk, EvaluationStage.FINAL, quality, submitted_at
                )
                if grade == "fail":
                    self.banned[pool.year + 1].add(org)
            else:
                status, accepted_on = ProjectStatus.CLOSING, None
                self.evaluation(w, pk, EvaluationStage.FINAL, None, None)
        created = self.at(call.decided_at.date() + dt.timedelta(days=rng.randint(3, 12)), 11)
        w.add(ServiceProject, (
            pk, 1, app, call.pk, pool.pk, org, title, f"SY-HT{pool.year}-{number:03d}", amount,
            disbursed, signed, starts, ends, status, final_score, grade, accepted_on, "",
            created,
        ))  # fmt: skip
        pool.allocated += amount
        if not draft:
            pool.contracted += amount
        pool.disbursed += disbursed
        self.counts["service_projects"] += 1

    def disburse(
        self,
        w: Writer,
        pool: PoolPlan,
        project: int,
        title: str,
        tranche: int,
        seq: int,
        amount: Decimal,
        accepted_at: dt.datetime,
        approver: int,
        other: int,
        places: list[Place],
    ) -> bool:
        """The tranche's disbursement after its milestone's acceptance; whether it is paid
        (not while it waits for its approvals or its payment)."""
        rng = self.rng
        requested = accepted_at + dt.timedelta(days=1, minutes=rng.randint(0, 300))
        required = 2 if amount > self.four_eyes else 1
        approvals, when = [], requested
        for a in (approver, other)[:required]:
            when += dt.timedelta(days=rng.randint(1, 2), minutes=rng.randint(0, 240))
            if when < self.now:
                approvals.append((a, when))
        paid_at = (approvals[-1][1] if approvals else requested) + dt.timedelta(
            days=rng.randint(1, 4), hours=2
        )
        if len(approvals) < required:
            status = DisbursementStatus.REQUESTED
        elif paid_at >= self.now:
            status = DisbursementStatus.APPROVED
        else:
            status = DisbursementStatus.PAID
        paid = status == DisbursementStatus.PAID
        pk = w.new_id(Disbursement)
        reference = f"ZF{paid_at:%Y%m%d}{pk:07d}" if paid else ""
        w.add(Disbursement, (
            pk, tranche, project, amount, status, uuid.UUID(int=rng.getrandbits(128), version=4),
            required, self.manager, requested, f"申请拨付第{seq}期",
            self.city_user if paid else None, paid_at if paid else None, reference, "",
        ))  # fmt: skip
        for a, when in approvals:
            w.add(DisbursementApproval, (
                w.new_id(DisbursementApproval), pk, a, self.manager, when, "同意拨付。",
            ))  # fmt: skip
        self.counts["disbursements"] += 1
        if not paid:
            return False
        day = timezone.localdate(paid_at)
        for p, value in zip(places, split_money(amount, len(places)), strict=True):
            w.add(ResourceEntry, (
                w.new_id(ResourceEntry), p.pk, project, ResourceKind.FUNDS, pool.owner.pk,
                pool.label, f"{title} 第{seq}期拨付", None, "", value, False, day, pk, None,
                self.city_user, paid_at,
            ))  # fmt: skip
            self.counts["resource_entries"] += 1
        return True

    def evaluation(
        self,
        w: Writer,
        project: int,
        stage: str,
        quality: float | None,
        submitted_at: dt.datetime | None,
    ) -> tuple[Decimal | None, str]:
        """A submitted evaluation along the 投入/过程/产出/效果 dimensions (or one assigned,
        not scored yet, when `quality` is None); returns its score and grade."""
        scores: dict[str, str] = {}
        score, grade = None, ""
        if quality is not None:
            share = Decimal(str(min(98.0, max(52.0, quality)))) / 100
            for key, _label, maximum in FRAMEWORK_DIMENSIONS[Framework.IPOO]:
                scores[key] = str((share * maximum).quantize(Decimal("0.1")))
            score = sum((Decimal(v) for v in scores.values()), ZERO)
            grade = grade_for(score)
        w.add(Evaluation, (
            w.new_id(Evaluation), project, stage, Framework.IPOO, self.evaluator,
            self.evaluator_org,
            EvaluationStatus.SUBMITTED if score is not None else EvaluationStatus.ASSIGNED,
            scores, score, grade, FINDINGS.get(grade, ""), submitted_at,
        ))  # fmt: skip
        self.counts["evaluations"] += 1
        return score, grade

    # -- writing the pools and calls once their projects are known --------------------------
    def write_call(self, w: Writer, call: CallPlan) -> None:
        pool = call.pool
        short = (
            "市总工会" if pool.owner.pk == self.city.pk else pool.owner.name.removesuffix("总工会")
        )
        theme = THEMES[call.service_field][0]
        prefix = f"SY-ZN{pool.year}-"
        code = f"{prefix}{self.next_serial(prefix, ProjectCall, 'code'):03d}"
        ceiling = _round_up(max(call.amounts), 10_000)
        total = max(ceiling, _round_up(sum(call.amounts, ZERO) * Decimal("1.1"), 10_000))
        what = "薄弱社区" if pool.tier else "社区"
        w.add(ProjectCall, (
            call.pk, 1, pool.pk, code, f"{short}{what}{theme}项目指南（{pool.year}年度）",
            call.service_field,
            f"根据{pool.year}年度社区需求调查，面向{what}购买{ServiceField(call.service_field).label}。",
            ceiling, total, 12, call.deadline - dt.timedelta(days=30), call.deadline,
            CallStatus.DECIDED, call.decided_at, pool.funder,
            call.deadline - dt.timedelta(days=40),
        ))  # fmt: skip
        for community in sorted(call.communities):
            w.add(ProjectCall.communities.through, (
                w.new_id(ProjectCall.communities.through), call.pk, community,
            ))  # fmt: skip
        for seq, (name, weight) in enumerate(CRITERIA, start=1):
            w.add(CallCriterion, (
                w.new_id(CallCriterion), call.pk, seq, name, f"按{name}评分", weight,
            ))  # fmt: skip
        self.counts["project_calls"] += 1

    def write_pool(self, w: Writer, pool: PoolPlan) -> None:
        # What was left unawarded: a few percent, as budgets usually end the year.
        amount = _round_up(pool.allocated * Decimal(self.rng.uniform(1.03, 1.15)), 100_000)
        note = "专门用于薄弱社区的服务项目" if pool.tier else ""
        w.add(BudgetPool, (
            pool.pk, 1, pool.owner.pk, pool.year, pool.name, amount, "", pool.tier,
            pool.allocated, pool.contracted, pool.disbursed, note,
        ))  # fmt: skip
        self.counts["budget_pools"] += 1

    def run(self, w: Writer) -> None:
        self.load()
        per_year = allocate(self.total, YEAR_SHARES)
        for back in range(YEARS - 1, -1, -1):
            projects = per_year[YEARS - 1 - back]
            for pool in self.pools(w, back, projects):
                calls = self.calls(w, pool, back)
                for i in range(pool.projects):
                    self.project(w, calls[i % len(calls)], back)
                for call in calls:
                    if call.amounts:
                        self.write_call(w, call)
                self.write_pool(w, pool)


def bulk_history(
    projects: int, seed: int, progress: Callable[[str], None] = lambda _m: None
) -> dict[str, int]:
    """The five years' history with `projects` projects; returns the rows it made."""
    started = time.monotonic()
    writer = Writer(COLUMNS)
    history = History(projects, seed)
    history.run(writer)
    writer.finish()
    # To the seed's caller, and to the log (the seed command shows no progress).
    message = (
        f"resources history: {projects} projects in {time.monotonic() - started:.1f} s "
        f"(rebuilding indexes and constraints {writer.seconds['rebuild']:.1f} s, "
        f"checks queued earlier {writer.seconds['queued_checks']:.1f} s): {dict(history.counts)}"
    )
    progress(message)
    log.info(message)
    return dict(history.counts)
