"""Deterministic demo data of 资源联合, loaded by `sanlian seed` after the organisations' data
(registered as an extra seeder of `sanlian.organizations.demo` from ResourcesConfig.ready()).

At every scale: a city pool and a district pool earmarked for weak communities (and last
year's city pool), calls in each state, applications with reviews, projects at each stage
(待签约; 执行中 with accepted milestones, a paid and a requested disbursement; 结项评估中;
已结项 with its grade), ledger entries of every kind spread over star, ordinary and weak
communities, and venue bookings. Above the small scale, five years of history in bulk
(`demo_history`: pools of the city and every district, decided calls, projects closed, in
evaluation, running and awaiting signature, with their milestones, payments and FUNDS
entries), and every community a few ledger entries. The demo
manager's organisation runs its groups in the home community's 职工之家, which the seed marks
as shared (the organisations' data shares venues at random).

Every total is computed, not assumed: a pool's allocated/contracted/disbursed are the sums of
its projects (the CHECK constraints verify them on insert), a project's disbursed is the sum of
its paid disbursements, and the FUNDS entries of a disbursement add up to it. Values come from
one `random.Random` seeded from the seed's number; dates count from today, as the volunteer
hours of the organisations' data do, so that open calls and coming bookings stay ahead.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone, translation

from sanlian.core.models import User
from sanlian.organizations.models import (
    Community,
    Organization,
    OrgKind,
    ServiceField,
    SocialWorker,
    Tier,
    Venue,
    VenueKind,
    VolunteerHourLog,
)

from . import demo_history
from .models import (
    Application,
    ApplicationStatus,
    BookingPurpose,
    BookingStatus,
    BudgetLine,
    BudgetPool,
    CallCriterion,
    CallReviewer,
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
    Review,
    ReviewScore,
    ReviewStatus,
    ServiceProject,
    Tranche,
    VenueBooking,
)
from .models.projects import grade_for
from .money import CENT, ZERO
from .money import split as split_money
from .services import ledger as ledger_services

BATCH = 5000
SHARES = (30, 40, 30)
CRITERIA = (("需求契合度", 30), ("方案可行性", 40), ("团队能力", 30))
BUDGET_SPLIT = (
    (BudgetLine.Category.STAFF, "项目社工人员经费", 40),
    (BudgetLine.Category.ACTIVITY, "小组与社区活动经费", 30),
    (BudgetLine.Category.MATERIALS, "活动物资与宣传材料", 15),
    (BudgetLine.Category.TRAINING, "督导与培训", 5),
    (BudgetLine.Category.ADMIN, "项目管理费", 10),
)
INDICATORS: dict[str, list[tuple[str, str, str, str, int]]] = {
    # service field -> (kind, metric, name, unit, target per 100,000 元)
    "default": [
        (IndicatorKind.OUTPUT, Metric.CASES, "个案服务", "个", 25),
        (IndicatorKind.OUTPUT, Metric.GROUP_SESSIONS, "小组活动", "节", 20),
        (IndicatorKind.OUTPUT, Metric.ACTIVITIES, "社区活动", "场", 10),
        (IndicatorKind.OUTPUT, Metric.BENEFICIARIES, "服务人次", "人次", 800),
        (IndicatorKind.OUTCOME, Metric.SATISFACTION, "服务对象满意度", "%", 0),
    ],
}
MATERIALS = [
    ("慰问物资（米、面、油）", "沈阳市惠民超市"),
    ("防暑降温物资（绿豆、毛巾）", "辽宁北方药业有限公司"),
    ("冬季取暖慰问品", "沈阳热力集团工会"),
    ("健康体检包", "沈阳市第四人民医院"),
]
IN_KIND = [
    ("爱心企业捐赠图书200册", "沈阳北方图书城"),
    ("捐赠轮椅10台", "辽宁康复辅具中心"),
    ("捐赠学习用品（书包、文具）", "沈阳联通分公司"),
    ("捐赠净水设备2台", "沈阳水务集团"),
]
EXTERNAL = [
    "链接三甲医院专家义诊",
    "链接律师事务所开展劳动法律咨询",
    "链接高校志愿者开展课业辅导",
    "链接心理咨询师开展减压讲座",
    "链接企业提供就业岗位信息",
]
MANUAL_VENUES = [
    ("借用辖区小学操场开展亲子运动会", "辖区小学", 4),
    ("借用物业会议室开展楼栋议事会", "小区物业公司", 2),
    ("借用企业职工活动中心开展文艺汇演", "辖区企业工会", 3),
]


# What the seed reports, counted once everything is in (the story's rows and the history's).
COUNTED: tuple[tuple[str, Any], ...] = (
    ("budget_pools", BudgetPool),
    ("project_calls", ProjectCall),
    ("applications", Application),
    ("service_projects", ServiceProject),
    ("milestones", Milestone),
    ("tranches", Tranche),
    ("disbursements", Disbursement),
    ("evaluations", Evaluation),
    ("resource_entries", ResourceEntry),
)


def register() -> None:
    """Called from ResourcesConfig.ready()."""
    from sanlian.organizations import demo

    demo.register_seeder("resources", seed_resources)


def seed_resources(gen: Any) -> dict[str, int]:
    return Seeder(gen).run()


def _money(value: Decimal | int | float | str) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _tranches(amount: Decimal) -> list[Decimal]:
    out = [(amount * s / 100).quantize(CENT, rounding=ROUND_HALF_UP) for s in SHARES[:-1]]
    return [*out, amount - sum(out, ZERO)]


def _at(day: dt.date, hour: int = 9, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _bulk(model: Any, rows: Iterable[Any]) -> list[Any]:
    return list(model.objects.bulk_create(list(rows), batch_size=BATCH))


class Seeder:
    def __init__(self, gen: Any) -> None:
        self.gen = gen
        self.scale = gen.name
        self.rng = random.Random(f"resources-{gen.seed}")
        self.today = timezone.localdate()
        self.year = self.today.year
        self.counts: dict[str, int] = defaultdict(int)
        self.serials: dict[str, int] = defaultdict(int)
        self.four_eyes = Decimal(str(settings.DISBURSEMENT_FOUR_EYES_ABOVE))

    # -- what the organisations' data gave us ------------------------------------------------
    def load(self) -> None:
        self.city = Organization.objects.get(kind=OrgKind.FEDERATION, parent=None)
        self.districts = list(
            Organization.objects.filter(kind=OrgKind.DISTRICT_UNION).order_by("pk")
        )
        self.communities = list(Community.objects.select_related("organization").order_by("pk"))
        self.social_orgs = list(Organization.objects.filter(kind=OrgKind.SOCIAL_ORG).order_by("pk"))
        self.evaluator_org = (
            Organization.objects.filter(kind=OrgKind.EVALUATOR).order_by("pk").first()
        )
        users = {u.username: u for u in User.objects.filter(username__in=self._usernames)}
        self.users = users
        self.staff = list(
            SocialWorker.objects.filter(organization=self.social_orgs[0]).order_by("pk")[:3]
        )

    _usernames = ("city", "district", "cadre", "orgmanager", "worker", "evaluator")

    def user(self, name: str) -> User:
        return self.users[name]

    def by_tier(self, tier: str, district: Organization | None = None) -> list[Community]:
        return [
            c
            for c in self.communities
            if c.tier == tier and (district is None or c.district_id == district.pk)
        ]

    def pick(self, tier: str, n: int, district: Organization | None = None) -> list[Community]:
        found = self.by_tier(tier, district) or self.by_tier(tier) or self.communities
        return [found[i % len(found)] for i in range(n)]

    def next_serial(self, kind: str) -> int:
        self.serials[kind] += 1
        return self.serials[kind]

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    # -- building blocks ---------------------------------------------------------------------
    def pool(
        self, owner: Organization, year: int, name: str, amount: int, **extra: Any
    ) -> BudgetPool:
        pool = BudgetPool(owner=owner, year=year, name=name, amount=_money(amount), **extra)
        return _bulk(BudgetPool, [pool])[0]

    def call(
        self,
        pool: BudgetPool,
        title: str,
        field: str,
        communities: list[Community],
        *,
        status: str,
        deadline: dt.datetime,
        ceiling: int,
        total: int,
        by: User,
        opens_at: dt.datetime | None = None,
        decided_at: dt.datetime | None = None,
        reviewers: list[User] = (),  # type: ignore[assignment]
    ) -> ProjectCall:
        n = self.next_serial(f"call{pool.year}")
        call = _bulk(
            ProjectCall,
            [
                ProjectCall(
                    pool=pool,
                    code=f"SY-ZN{pool.year}-{n:03d}",
                    title=title,
                    service_field=field,
                    description=f"围绕{'、'.join(c.name for c in communities[:3])}等社区调研发现的需求，"
                    f"购买{ServiceField(field).label}。",
                    budget_ceiling=_money(ceiling),
                    total_budget=_money(total),
                    max_months=12,
                    opens_at=opens_at or deadline - dt.timedelta(days=30),
                    deadline=deadline,
                    status=status,
                    decided_at=decided_at,
                    created_by=by,
                )
            ],
        )[0]
        ProjectCall.communities.through.objects.bulk_create(
            [
                ProjectCall.communities.through(projectcall_id=call.pk, community_id=c.pk)
                for c in dict.fromkeys(communities)
            ]
        )
        _bulk(
            CallCriterion,
            [
                CallCriterion(call=call, seq=i, name=name, weight=w, description=f"按{name}评分")
                for i, (name, w) in enumerate(CRITERIA, start=1)
            ],
        )
        _bulk(CallReviewer, [CallReviewer(call=call, reviewer=u) for u in reviewers])
        self.counts["project_calls"] += 1
        return call

    def indicators(self, amount: Decimal) -> list[dict[str, str]]:
        out = []
        for kind, metric, name, unit, per in INDICATORS["default"]:
            target = (
                Decimal(90)
                if metric == Metric.SATISFACTION
                else max(Decimal(1), (amount * per / 100000).quantize(Decimal(1)))
            )
            out.append(
                {"kind": kind, "metric": metric, "name": name, "target": str(target), "unit": unit}
            )
        return out

    def application(
        self,
        call: ProjectCall,
        org: Organization,
        title: str,
        amount: int,
        communities: list[Community],
        *,
        status: str,
        submitted_by: User | None = None,
    ) -> Application:
        money = _money(amount)
        submitted = status != ApplicationStatus.DRAFT
        app = _bulk(
            Application,
            [
                Application(
                    call=call,
                    organization=org,
                    title=title,
                    proposal=(
                        f"{org.name}在{'、'.join(c.name for c in communities)}开展“{title}”："
                        "以个案管理、支持小组和社区活动相结合，回应调研中发现的需求。"
                    ),
                    beneficiaries=int(money / 500),
                    beneficiaries_note="社区困难职工、独居老人及其家庭",
                    indicators=self.indicators(money),
                    amount=money,
                    months=12,
                    status=status,
                    submitted_at=call.deadline - dt.timedelta(days=self.rng.randint(2, 12))
                    if submitted
                    else None,
                    submitted_by=submitted_by if submitted else None,
                )
            ],
        )[0]
        Application.communities.through.objects.bulk_create(
            [
                Application.communities.through(application_id=app.pk, community_id=c.pk)
                for c in dict.fromkeys(communities)
            ]
        )
        parts = [(money * share / 100).quantize(CENT) for _c, _i, share in BUDGET_SPLIT[:-1]]
        parts.append(money - sum(parts, ZERO))
        _bulk(
            BudgetLine,
            [
                BudgetLine(application=app, category=cat, item=item, amount=part)
                for (cat, item, _share), part in zip(BUDGET_SPLIT, parts, strict=True)
            ],
        )
        if org.pk == self.social_orgs[0].pk and self.staff:
            Application.team.through.objects.bulk_create(
                [
                    Application.team.through(application_id=app.pk, socialworker_id=w.pk)
                    for w in self.staff[:2]
                ]
            )
        self.counts["applications"] += 1
        return app

    def reviews(
        self,
        call: ProjectCall,
        apps: list[Application],
        reviewers: list[User],
        *,
        good: set[int],
        draft_last: bool = False,
    ) -> None:
        """Every reviewer scores every application (the last one of the last reviewer still in
        draft when `draft_last`); then the averages and ranks of the scored applications."""
        criteria = list(CallCriterion.objects.filter(call=call).order_by("seq"))
        totals: dict[int, list[Decimal]] = defaultdict(list)
        for r_index, reviewer in enumerate(reviewers):
            for a_index, app in enumerate(apps):
                draft = draft_last and r_index == len(reviewers) - 1 and a_index == len(apps) - 1
                low, high = (78, 96) if app.pk in good else (58, 80)
                scores = [Decimal(self.rng.randint(low, high)) for _ in criteria]
                total = sum(
                    (s * c.weight / 100 for s, c in zip(scores, criteria, strict=True)), ZERO
                ).quantize(CENT)
                review = _bulk(
                    Review,
                    [
                        Review(
                            application=app,
                            reviewer=reviewer,
                            status=ReviewStatus.DRAFT if draft else ReviewStatus.SUBMITTED,
                            total=None if draft else total,
                            comment=""
                            if draft
                            else "方案需求分析扎实，指标可衡量。"
                            if app.pk in good
                            else "服务方案与社区需求契合度一般，预算偏高。",
                            submitted_at=None if draft else call.deadline + dt.timedelta(days=3),
                        )
                    ],
                )[0]
                _bulk(
                    ReviewScore,
                    [
                        ReviewScore(review=review, criterion=c, score=s)
                        for c, s in zip(criteria, scores, strict=True)
                    ],
                )
                self.counts["reviews"] += 1
                if not draft:
                    totals[app.pk].append(total)
        ranked = sorted(
            (a for a in apps if totals.get(a.pk)),
            key=lambda a: -sum(totals[a.pk], ZERO) / len(totals[a.pk]),
        )
        for rank, app in enumerate(ranked, start=1):
            app.average_score = (sum(totals[app.pk], ZERO) / len(totals[app.pk])).quantize(CENT)
            app.rank = rank
        Application.objects.bulk_update(ranked, ["average_score", "rank"])

    def decide(self, app: Application, awarded: int | None, by: User, when: dt.datetime) -> None:
        fields = {
            "status": ApplicationStatus.AWARDED if awarded else ApplicationStatus.REJECTED,
            "awarded_amount": _money(awarded) if awarded else None,
            "decided_by": by,
            "decided_at": when,
            "decision_reason": "评审排名靠前，方案与社区需求契合，予以立项。"
            if awarded
            else "评审得分未进入立项范围，本次不予立项。",
        }
        Application.objects.filter(pk=app.pk).update(**fields)
        for name, value in fields.items():
            setattr(app, name, value)

    def project(
        self,
        app: Application,
        *,
        status: str,
        starts_on: dt.date,
        communities: list[Community],
        reviewer: User,
        accepted: int,
        paid: int,
        requested: int = 0,
        reported: int = 0,
    ) -> ServiceProject:
        """The contract of an awarded application: indicators, three milestones with their
        30/40/30 tranches; the first `accepted` milestones accepted (and `reported` more
        waiting), the first `paid` tranches paid, the next `requested` requested."""
        assert app.awarded_amount is not None
        amount = app.awarded_amount
        ends_on = starts_on + dt.timedelta(days=364)
        n = self.next_serial(f"contract{app.call.pool.year}")
        project = _bulk(
            ServiceProject,
            [
                ServiceProject(
                    application=app,
                    call=app.call,
                    pool=app.call.pool,
                    organization=app.organization,
                    title=app.title,
                    contract_number=f"SY-HT{app.call.pool.year}-{n:03d}",
                    amount=amount,
                    signed_on=None
                    if status == ProjectStatus.DRAFT
                    else starts_on - dt.timedelta(days=7),
                    starts_on=starts_on,
                    ends_on=ends_on,
                    status=status,
                )
            ],
        )[0]
        ServiceProject.communities.through.objects.bulk_create(
            [
                ServiceProject.communities.through(serviceproject_id=project.pk, community_id=c.pk)
                for c in dict.fromkeys(communities)
            ]
        )
        share_done = Decimal(accepted) / 3
        _bulk(
            ProjectIndicator,
            [
                ProjectIndicator(
                    project=project,
                    kind=i["kind"],
                    metric=i["metric"],
                    name=i["name"],
                    target=Decimal(i["target"]),
                    unit=i["unit"],
                    reported=None
                    if not accepted
                    else Decimal(self.rng.randint(88, 97))
                    if i["metric"] == Metric.SATISFACTION
                    else (
                        Decimal(i["target"]) * share_done * Decimal(self.rng.randint(95, 115)) / 100
                    ).quantize(Decimal(1)),
                )
                for i in app.indicators
            ],
        )
        milestones = []
        for seq in range(1, 4):
            due = ends_on if seq == 3 else starts_on + dt.timedelta(days=120 * seq)
            state = (
                MilestoneStatus.ACCEPTED
                if seq <= accepted
                else MilestoneStatus.REPORTED
                if seq <= accepted + reported
                else MilestoneStatus.PENDING
            )
            done = state != MilestoneStatus.PENDING
            reported_at = _at(min(due, self.today - dt.timedelta(days=10)), 16) if done else None
            milestones.append(
                Milestone(
                    project=project,
                    seq=seq,
                    title=("项目启动与需求评估", "服务中期推进", "服务总结与成效评估")[seq - 1],
                    due_on=due,
                    deliverables="服务记录、活动签到表、照片及阶段报告",
                    status=state,
                    report="按计划完成本阶段服务，详见阶段报告。" if done else "",
                    reported_at=reported_at,
                    reported_by=self.user("orgmanager") if done else None,
                    reviewed_at=reported_at + dt.timedelta(days=3)
                    if state == MilestoneStatus.ACCEPTED and reported_at
                    else None,
                    reviewed_by=reviewer if state == MilestoneStatus.ACCEPTED else None,
                    review_note="材料齐全，同意验收。" if state == MilestoneStatus.ACCEPTED else "",
                )
            )
        milestones = _bulk(Milestone, milestones)
        tranches = _bulk(
            Tranche,
            [
                Tranche(project=project, seq=m.seq, milestone=m, amount=a)
                for m, a in zip(milestones, _tranches(amount), strict=True)
            ],
        )
        disbursed = ZERO
        for t, m in zip(tranches, milestones, strict=True):
            if t.seq <= paid:
                assert m.reviewed_at is not None
                self.disburse(
                    project, t, DisbursementStatus.PAID, m.reviewed_at, reviewer, communities
                )
                disbursed += t.amount
            elif t.seq <= paid + requested:
                assert m.reviewed_at is not None
                self.disburse(
                    project, t, DisbursementStatus.REQUESTED, m.reviewed_at, reviewer, communities
                )
        if disbursed:
            ServiceProject.objects.filter(pk=project.pk).update(disbursed=disbursed)
            project.disbursed = disbursed
        self.counts["service_projects"] += 1
        return project

    def disburse(
        self,
        project: ServiceProject,
        tranche: Tranche,
        status: str,
        accepted_at: dt.datetime,
        approver: User,
        communities: list[Community],
    ) -> None:
        requester = self.user("orgmanager")
        required = 2 if tranche.amount > self.four_eyes else 1
        paid_at = accepted_at + dt.timedelta(days=4)
        paid = status == DisbursementStatus.PAID
        d = _bulk(
            Disbursement,
            [
                Disbursement(
                    tranche=tranche,
                    project=project,
                    amount=tranche.amount,
                    status=status,
                    request_key=self.uuid(),
                    approvals_required=required,
                    requested_by=requester,
                    note=f"申请拨付第{tranche.seq}期",
                    paid_by=self.user("city") if paid else None,
                    paid_at=paid_at if paid else None,
                    payment_reference=f"ZF{paid_at:%Y%m%d}{self.next_serial('payment'):04d}"
                    if paid
                    else "",
                )
            ],
        )[0]
        # The request followed the milestone's acceptance (the row's own time is now).
        Disbursement.objects.filter(pk=d.pk).update(requested_at=accepted_at + dt.timedelta(days=1))
        if paid:
            approvers = [approver, self.user("district" if approver.username == "city" else "city")]
            _bulk(
                DisbursementApproval,
                [
                    DisbursementApproval(
                        disbursement=d, approver=a, requested_by=requester, comment="同意拨付。"
                    )
                    for a in approvers[:required]
                ],
            )
            DisbursementApproval.objects.filter(disbursement=d).update(
                approved_at=paid_at - dt.timedelta(days=1)
            )
            served = sorted(dict.fromkeys(communities), key=lambda c: c.pk)
            _bulk(
                ResourceEntry,
                [
                    ResourceEntry(
                        community=c,
                        project=project,
                        kind=ResourceKind.FUNDS,
                        source_org=project.pool.owner,
                        source_name=str(project.pool),
                        description=f"{project.title} 第{tranche.seq}期拨付",
                        value=share,
                        occurred_on=timezone.localtime(paid_at).date(),
                        disbursement=d,
                        recorded_by=self.user("city"),
                    )
                    for c, share in zip(
                        served, split_money(tranche.amount, len(served)), strict=True
                    )
                ],
            )
        self.counts["disbursements"] += 1

    def evaluation(
        self, project: ServiceProject, stage: str, score: Decimal | None, when: dt.datetime
    ) -> None:
        scores: dict[str, str] = {}
        if score is not None:
            parts = {"input": 20, "process": 30, "output": 30, "outcome": 20}
            for key, maximum in parts.items():
                scores[key] = str((score * maximum / 100).quantize(Decimal("0.1")))
            score = sum((Decimal(v) for v in scores.values()), ZERO)
        _bulk(
            Evaluation,
            [
                Evaluation(
                    project=project,
                    stage=stage,
                    evaluator=self.user("evaluator"),
                    evaluator_org=self.evaluator_org,
                    status=EvaluationStatus.SUBMITTED
                    if score is not None
                    else EvaluationStatus.ASSIGNED,
                    scores=scores,
                    score=score,
                    grade=grade_for(score) if score is not None else "",
                    findings="项目按合同推进，服务记录完整，服务对象评价良好。"
                    if score is not None
                    else "",
                    submitted_at=when if score is not None else None,
                )
            ],
        )
        self.counts["evaluations"] += 1

    def totals(self, pool: BudgetPool) -> None:
        """The pool's running totals from its projects (awarded, signed, paid)."""
        projects = ServiceProject.objects.filter(pool=pool)
        allocated = projects.aggregate(s=Sum("amount"))["s"] or ZERO
        contracted = (
            projects.exclude(status__in=[ProjectStatus.DRAFT]).aggregate(s=Sum("amount"))["s"]
            or ZERO
        )
        disbursed = projects.aggregate(s=Sum("disbursed"))["s"] or ZERO
        BudgetPool.objects.filter(pk=pool.pk).update(
            allocated=allocated, contracted=contracted, disbursed=disbursed
        )

    # -- the story every scale tells ---------------------------------------------------------
    def core(self) -> None:
        y, today = self.year, self.today
        city, district = self.user("city"), self.user("district")
        evaluator, manager = self.user("evaluator"), self.user("orgmanager")
        orgs = self.social_orgs
        # The demo cadre's community, where the demo manager's organisation is based.
        home = self.communities[0]
        d0 = self.districts[0]
        weak = self.pick(Tier.WEAK, 3)
        weak_d0 = self.pick(Tier.WEAK, 1, d0)[0]
        ordinary = self.pick(Tier.ORDINARY, 3)
        star = [c for c in self.by_tier(Tier.STAR) if c.pk != home.pk] or [home]
        district_name = d0.name.removesuffix("总工会")

        last_pool = self.pool(self.city, y - 1, "市总工会购买社会组织服务资金", 2_000_000)
        city_pool = self.pool(self.city, y, "市总工会购买社会组织服务资金", 3_000_000)
        weak_pool = self.pool(
            d0,
            y,
            f"{district_name}薄弱社区专项资金",
            800_000,
            tier=Tier.WEAK,
            note="专门用于本区薄弱社区的服务项目",
        )
        self.counts["budget_pools"] += 3

        # Last year's call: one project accepted with its grade, one in its final evaluation.
        k0 = self.call(
            last_pool,
            f"社区居家养老服务项目指南（{y - 1}年度）",
            ServiceField.ELDERLY,
            [home, weak[0], weak_d0],
            status=CallStatus.DECIDED,
            deadline=_at(today - dt.timedelta(days=540), 17),
            decided_at=_at(today - dt.timedelta(days=520), 10),
            ceiling=150_000,
            total=600_000,
            by=city,
            reviewers=[evaluator, city],
        )
        a0 = [
            self.application(
                k0,
                orgs[0],
                "银龄守护计划",
                120_000,
                [home, weak[0]],
                status=ApplicationStatus.SUBMITTED,
                submitted_by=manager,
            ),
            self.application(
                k0,
                orgs[0],
                "社区长者食堂运营服务",
                100_000,
                [weak_d0],
                status=ApplicationStatus.SUBMITTED,
                submitted_by=manager,
            ),
            self.application(
                k0,
                orgs[3],
                "老年人智能手机课堂",
                90_000,
                [weak_d0],
                status=ApplicationStatus.SUBMITTED,
            ),
        ]
        self.reviews(k0, a0, [evaluator, city], good={a0[0].pk, a0[1].pk})
        when = k0.decided_at or _at(today)
        self.decide(a0[0], 110_000, city, when)
        self.decide(a0[1], 100_000, city, when)
        self.decide(a0[2], None, city, when)
        accepted = self.project(
            a0[0],
            status=ProjectStatus.ACCEPTED,
            starts_on=today - dt.timedelta(days=500),
            communities=[home, weak[0]],
            reviewer=city,
            accepted=3,
            paid=3,
        )
        self.evaluation(
            accepted, EvaluationStage.MIDTERM, Decimal("85"), _at(today - dt.timedelta(days=320))
        )
        self.evaluation(
            accepted, EvaluationStage.FINAL, Decimal("92.5"), _at(today - dt.timedelta(days=100))
        )
        final = Evaluation.objects.get(project=accepted, stage=EvaluationStage.FINAL)
        ServiceProject.objects.filter(pk=accepted.pk).update(
            final_score=final.score,
            final_grade=final.grade,
            accepted_on=today - dt.timedelta(days=90),
        )
        closing = self.project(
            a0[1],
            status=ProjectStatus.CLOSING,
            starts_on=today - dt.timedelta(days=400),
            communities=[weak_d0],
            reviewer=city,
            accepted=3,
            paid=2,
        )
        self.evaluation(
            closing, EvaluationStage.MIDTERM, Decimal("80"), _at(today - dt.timedelta(days=220))
        )
        self.evaluation(closing, EvaluationStage.FINAL, None, _at(today))

        # This year's city call: two running projects, one rejected, one withdrawn.
        k1 = self.call(
            city_pool,
            "困难职工家庭关爱服务项目指南",
            ServiceField.FAMILY,
            [home, ordinary[0], weak[0], weak_d0, weak[2]],
            status=CallStatus.DECIDED,
            deadline=_at(today - dt.timedelta(days=270), 17),
            decided_at=_at(today - dt.timedelta(days=255), 10),
            ceiling=150_000,
            total=800_000,
            by=city,
            reviewers=[evaluator, city],
        )
        a1 = [
            self.application(
                k1,
                orgs[0],
                "困难职工家庭“暖心驿站”",
                120_000,
                [home, weak[0], weak[2]],
                status=ApplicationStatus.SUBMITTED,
                submitted_by=manager,
            ),
            self.application(
                k1,
                orgs[1],
                "单亲职工家庭支持计划",
                100_000,
                [ordinary[0], weak_d0],
                status=ApplicationStatus.SUBMITTED,
            ),
            self.application(
                k1,
                orgs[4],
                "职工家庭亲子成长营",
                110_000,
                [ordinary[0]],
                status=ApplicationStatus.SUBMITTED,
            ),
            self.application(
                k1,
                orgs[5],
                "困难职工就业帮扶",
                80_000,
                [weak[2]],
                status=ApplicationStatus.WITHDRAWN,
            ),
        ]
        self.reviews(k1, a1[:3], [evaluator, city], good={a1[0].pk, a1[1].pk})
        when = k1.decided_at or _at(today)
        self.decide(a1[0], 120_000, city, when)
        self.decide(a1[1], 95_000, city, when)
        self.decide(a1[2], None, city, when)
        running = self.project(
            a1[0],
            status=ProjectStatus.ACTIVE,
            starts_on=today - dt.timedelta(days=240),
            communities=[home, weak[0], weak[2]],
            reviewer=city,
            accepted=2,
            paid=1,
            requested=1,
        )
        self.evaluation(running, EvaluationStage.MIDTERM, None, _at(today))
        self.project(
            a1[1],
            status=ProjectStatus.ACTIVE,
            starts_on=today - dt.timedelta(days=150),
            communities=[ordinary[0], weak_d0],
            reviewer=city,
            accepted=0,
            paid=0,
            reported=1,
        )

        # The district's weak-community pool: awarded, contract not yet signed.
        k2 = self.call(
            weak_pool,
            "薄弱社区青少年“四点半课堂”项目指南",
            ServiceField.YOUTH,
            [weak_d0],
            status=CallStatus.DECIDED,
            deadline=_at(today - dt.timedelta(days=40), 17),
            decided_at=_at(today - dt.timedelta(days=20), 10),
            ceiling=100_000,
            total=300_000,
            by=district,
            reviewers=[evaluator, district],
        )
        a2 = [
            self.application(
                k2, orgs[2], "四点半课堂", 80_000, [weak_d0], status=ApplicationStatus.SUBMITTED
            ),
            self.application(
                k2, orgs[3], "青少年成长护航", 90_000, [weak_d0], status=ApplicationStatus.SUBMITTED
            ),
        ]
        self.reviews(k2, a2, [evaluator, district], good={a2[0].pk})
        when = k2.decided_at or _at(today)
        self.decide(a2[0], 80_000, district, when)
        self.decide(a2[1], None, district, when)
        self.project(
            a2[0],
            status=ProjectStatus.DRAFT,
            starts_on=today + dt.timedelta(days=15),
            communities=[weak_d0],
            reviewer=district,
            accepted=0,
            paid=0,
        )

        # Calls under review, open, in draft and withdrawn.
        k3 = self.call(
            city_pool,
            "职工心理健康服务项目指南",
            ServiceField.MENTAL_HEALTH,
            [ordinary[1], ordinary[2], star[0]],
            status=CallStatus.REVIEWING,
            deadline=_at(today - dt.timedelta(days=10), 17),
            ceiling=120_000,
            total=360_000,
            by=city,
            reviewers=[evaluator, city],
        )
        a3 = [
            self.application(
                k3,
                orgs[1],
                "职工心理减压工作坊",
                100_000,
                [ordinary[1]],
                status=ApplicationStatus.SUBMITTED,
            ),
            self.application(
                k3,
                orgs[3],
                "一线职工心理关爱行动",
                110_000,
                [ordinary[2], star[0]],
                status=ApplicationStatus.SUBMITTED,
            ),
            self.application(
                k3, orgs[5], "心灵驿站", 90_000, [star[0]], status=ApplicationStatus.SUBMITTED
            ),
        ]
        self.reviews(k3, a3, [evaluator, city], good={a3[1].pk}, draft_last=True)
        k4 = self.call(
            city_pool,
            "新就业形态劳动者关爱服务项目指南",
            ServiceField.EMPLOYMENT,
            [home, weak[2], weak[0]],
            status=CallStatus.OPEN,
            opens_at=_at(today - dt.timedelta(days=15), 9),
            deadline=_at(today + dt.timedelta(days=20), 17),
            ceiling=100_000,
            total=300_000,
            by=city,
        )
        self.application(
            k4, orgs[0], "骑手驿站暖心服务", 90_000, [home], status=ApplicationStatus.DRAFT
        )
        self.application(
            k4, orgs[2], "快递小哥权益护航", 85_000, [weak[2]], status=ApplicationStatus.SUBMITTED
        )
        self.call(
            weak_pool,
            "困难职工子女助学服务项目指南",
            ServiceField.FAMILY,
            [weak_d0],
            status=CallStatus.DRAFT,
            deadline=_at(today + dt.timedelta(days=60), 17),
            ceiling=60_000,
            total=120_000,
            by=district,
        )
        self.call(
            city_pool,
            "社区法律援助服务项目指南",
            ServiceField.LEGAL,
            [ordinary[0]],
            status=CallStatus.CANCELLED,
            deadline=_at(today - dt.timedelta(days=60), 17),
            ceiling=80_000,
            total=160_000,
            by=city,
        )
        for pool in (last_pool, city_pool, weak_pool):
            self.totals(pool)
        self.running = running
        self.home = home

    # -- the ledger ----------------------------------------------------------------------------
    def day_this_year(self, back_from: int, back_to: int) -> dt.date:
        day = self.today - dt.timedelta(days=self.rng.randint(back_from, back_to))
        return max(day, dt.date(self.year, 1, 1))

    def ledger(self) -> None:
        """A few entries of each kind per community (more and larger in star communities,
        fewer but present in weak ones), and each community's volunteer hours by month."""
        rng = self.rng
        cadre, district, city = self.user("cadre"), self.user("district"), self.user("city")
        orgs_by_union = defaultdict(list)
        for o in self.social_orgs:
            orgs_by_union[o.parent_id].append(o)
        scale_factor = {Tier.STAR: 3, Tier.ORDINARY: 2, Tier.WEAK: 2}
        rows: list[ResourceEntry] = []
        projects_of: dict[int, list[ServiceProject]] = defaultdict(list)
        for p in ServiceProject.objects.filter(
            status__in=[ProjectStatus.ACTIVE, ProjectStatus.CLOSING]
        ).prefetch_related("communities"):
            for c in p.communities.all():
                projects_of[c.pk].append(p)
        for c in self.communities:
            recorder: User | None = (
                cadre
                if c.pk == self.home.pk
                else district
                if c.district_id == self.districts[0].pk
                else city
            )
            for _ in range(scale_factor[c.tier]):
                what, source = rng.choice(MATERIALS)
                rows.append(
                    ResourceEntry(
                        community=c,
                        kind=ResourceKind.MATERIALS,
                        source_name=source,
                        description=what,
                        quantity=Decimal(rng.randint(20, 120)),
                        unit="份",
                        value=_money(rng.randint(8, 60) * 100),
                        is_estimated=True,
                        occurred_on=self.day_this_year(5, 300),
                        recorded_by=recorder,
                    )
                )
            what, source = rng.choice(IN_KIND)
            rows.append(
                ResourceEntry(
                    community=c,
                    kind=ResourceKind.IN_KIND,
                    source_name=source,
                    description=what,
                    value=_money(rng.randint(10, 80) * 100),
                    is_estimated=True,
                    occurred_on=self.day_this_year(5, 300),
                    recorded_by=recorder,
                )
            )
            local = orgs_by_union.get(c.organization_id) or [
                self.social_orgs[c.pk % len(self.social_orgs)]
            ]
            project = next(iter(projects_of.get(c.pk, [])), None)
            rows.append(
                ResourceEntry(
                    community=c,
                    project=project,
                    kind=ResourceKind.EXTERNAL,
                    source_org=project.organization if project else local[0],
                    description=rng.choice(EXTERNAL),
                    quantity=Decimal(rng.randint(1, 6)),
                    unit="次",
                    value=_money(rng.randint(20, 120) * 100),
                    is_estimated=True,
                    occurred_on=self.day_this_year(5, 250),
                    recorded_by=self.user("orgmanager")
                    if project and project.organization_id == self.social_orgs[0].pk
                    else recorder,
                )
            )
            if c.tier != Tier.STAR or rng.random() < 0.5:
                what, source, hours = rng.choice(MANUAL_VENUES)
                rows.append(
                    ResourceEntry(
                        community=c,
                        kind=ResourceKind.VENUE,
                        source_name=source,
                        description=what,
                        quantity=Decimal(hours),
                        unit=ledger_services.HOURS_UNIT,
                        value=_money(hours * ledger_services.venue_hour_value()),
                        is_estimated=True,
                        occurred_on=self.day_this_year(10, 200),
                        recorded_by=recorder,
                    )
                )
        rows.extend(self.volunteer_months())
        _bulk(ResourceEntry, rows)

    def volunteer_months(self) -> list[ResourceEntry]:
        """What `volunteer_hours_record` writes, for every community and month with confirmed
        logs (one aggregate query, whatever the scale)."""
        community_of = {c.organization_id: c for c in self.communities}
        rate = ledger_services.volunteer_hour_value()
        sums = (
            VolunteerHourLog.objects.confirmed()
            .annotate(month=TruncMonth("served_on"))
            .values_list("volunteer__team__parent_id", "month")
            .annotate(hours=Sum("hours"), logs=Count("pk"))
            .order_by("volunteer__team__parent_id", "month")
        )
        rows = []
        for union_id, month, hours, logs in sums:
            c = community_of.get(union_id)
            if c is None or not hours:
                continue
            month = month.date() if isinstance(month, dt.datetime) else month
            hours = Decimal(hours).quantize(CENT)
            rows.append(
                ResourceEntry(
                    community=c,
                    kind=ResourceKind.VOLUNTEER_HOURS,
                    source_name=ledger_services.VOLUNTEER_LOG_SOURCE,
                    description=f"{month.year}年{month.month}月志愿服务时长（{logs}条已确认记录）",
                    quantity=hours,
                    unit=ledger_services.HOURS_UNIT,
                    value=(hours * rate).quantize(CENT),
                    is_estimated=True,
                    occurred_on=month,
                    recorded_by=self.user("cadre") if c.pk == self.home.pk else None,
                )
            )
        return rows

    # -- bookings ------------------------------------------------------------------------------
    def bookings(self) -> None:
        """The shared venues of the first district: coming bookings by the demo manager's
        organisation for its running project (which write VENUE entries), by the community
        union and the district for meetings; a past one and a cancelled one."""
        rng = self.rng
        manager, cadre, district = (
            self.user("orgmanager"),
            self.user("cadre"),
            self.user("district"),
        )
        d0 = self.districts[0]
        venues = list(
            Venue.objects.filter(is_active=True, community__district=d0)
            .select_related("community__organization")
            .order_by("pk")
        )
        taken: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)

        def slot(
            venue: Venue, day_from: int, day_to: int, hours: int
        ) -> tuple[dt.datetime, dt.datetime] | None:
            opening = ledger_services.parse_opening_hours(venue.opening_hours) or {
                d: [(9 * 60, 17 * 60)] for d in range(7)
            }
            for _ in range(30):
                day = self.today + dt.timedelta(days=rng.randint(day_from, day_to))
                spans = [s for s in opening.get(day.weekday(), []) if s[1] - s[0] >= hours * 60]
                if not spans:
                    continue
                a, b = rng.choice(spans)
                start_minute = a + 30 * rng.randint(0, (b - a - hours * 60) // 30)
                start = _at(day, start_minute // 60, start_minute % 60)
                end = start + dt.timedelta(hours=hours)
                if all(end <= s or start >= e for s, e in taken[venue.pk]):
                    taken[venue.pk].append((start, end))
                    return start, end
            return None

        # The demo manager's organisation runs its groups in the home community's 职工之家,
        # which the community shares.
        Venue.objects.filter(community=self.home, kind=VenueKind.WORKERS_HOME).update(
            is_shared=True
        )
        for v in venues:
            if v.community_id == self.home.pk and v.kind == VenueKind.WORKERS_HOME:
                v.is_shared = True
        rows: list[VenueBooking] = []
        running = self.running
        for venue in venues:
            home = venue.community_id == self.home.pk
            if not (venue.is_shared or home):
                continue
            plans: list[
                tuple[Organization, User, str, str, ServiceProject | None, int, int, str]
            ] = []
            if home:
                plans.append(
                    (
                        self.home.organization,
                        cadre,
                        BookingPurpose.MEETING,
                        "社区联席会议",
                        None,
                        1,
                        13,
                        BookingStatus.CONFIRMED,
                    )
                )
            if home and venue.is_shared:
                org0 = self.social_orgs[0]
                plans += [
                    (
                        org0,
                        manager,
                        BookingPurpose.GROUP_SESSION,
                        "“暖心驿站”家庭支持小组",
                        running,
                        1,
                        13,
                        BookingStatus.CONFIRMED,
                    ),
                    (
                        org0,
                        manager,
                        BookingPurpose.ACTIVITY,
                        "困难职工家庭亲子活动",
                        running,
                        -20,
                        -3,
                        BookingStatus.CONFIRMED,
                    ),
                    (
                        org0,
                        manager,
                        BookingPurpose.TRAINING,
                        "社工督导培训",
                        None,
                        2,
                        12,
                        BookingStatus.CANCELLED,
                    ),
                ]
            elif venue.is_shared:
                plans.append(
                    (
                        d0,
                        district,
                        BookingPurpose.MEETING,
                        "街道工会主席例会",
                        None,
                        1,
                        13,
                        BookingStatus.CONFIRMED,
                    )
                )
            for org, user, purpose, title, project, day_from, day_to, status in plans:
                found = slot(venue, day_from, day_to, 2)
                if found is None:
                    continue
                start, end = found
                if status == BookingStatus.CANCELLED:
                    taken[venue.pk].remove(found)
                rows.append(
                    VenueBooking(
                        venue=venue,
                        organization=org,
                        project=project,
                        purpose=purpose,
                        title=title,
                        starts_at=start,
                        ends_at=end,
                        attendees=min(venue.capacity or 20, rng.randint(8, 30)),
                        status=status,
                        booked_by=user,
                        cancelled_reason="与社区活动时间冲突，改期举行"
                        if status == BookingStatus.CANCELLED
                        else "",
                    )
                )
        bookings = _bulk(VenueBooking, rows)
        entries = []
        for b in bookings:
            if b.status != BookingStatus.CONFIRMED:
                continue
            entry = ledger_services.venue_entry(b, manager if b.project else None)
            if entry is not None:
                entries.append(entry)
        _bulk(ResourceEntry, entries)
        self.counts["venue_bookings"] += len(bookings)

    def run(self) -> dict[str, int]:
        with translation.override("zh-hans"):
            return self._run()

    def _run(self) -> dict[str, int]:
        self.load()
        self.core()
        if self.scale != "small":
            projects = demo_history.projects_for(len(self.communities))
            demo_history.bulk_history(projects, self.gen.seed, self.gen.progress)
        self.ledger()
        self.bookings()
        for name, model in COUNTED:
            self.counts[name] = model.objects.count()
        self.gen.progress("resources")
        return dict(self.counts)
