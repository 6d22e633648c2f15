"""Factories of 资源联合, shared by the tests of every part (funding, projects, ledger).

`project_in(w, community, org)` builds a whole chain pool → call → awarded application →
active project with 30/40/30 tranches on three milestones, the usual starting point."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import factory
from django.utils import timezone

from sanlian.organizations.models import Community, Organization, ServiceField, Venue, VenueKind
from sanlian.resources.models import (
    Application,
    ApplicationStatus,
    BudgetLine,
    BudgetPool,
    CallCriterion,
    CallReviewer,
    CallStatus,
    Disbursement,
    DisbursementApproval,
    Evaluation,
    EvaluationStage,
    IndicatorKind,
    Metric,
    Milestone,
    MilestoneEvidence,
    ProjectCall,
    ProjectIndicator,
    ProjectStatus,
    ResourceEntry,
    ResourceKind,
    Review,
    ReviewScore,
    ServiceProject,
    Tranche,
    VenueBooking,
)

from ..factories import UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
YEAR = 2026


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


class BudgetPoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BudgetPool

    owner: Any = None  # required: a federation, district or street union
    year = YEAR
    name = factory.Sequence(lambda n: f"购买服务资金{n}")
    amount = Decimal("1000000.00")


class ProjectCallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProjectCall
        skip_postgeneration_save = True

    pool = factory.SubFactory(BudgetPoolFactory)
    code = factory.Sequence(lambda n: f"ZN{YEAR}-{n:03d}")
    title = factory.Sequence(lambda n: f"社区养老服务项目指南{n}")
    service_field = ServiceField.ELDERLY
    budget_ceiling = Decimal("200000.00")
    total_budget = Decimal("600000.00")
    deadline = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=30))
    status = CallStatus.OPEN

    @factory.post_generation
    def criteria(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if not create or extracted is False:
            return
        for seq, (name, weight) in enumerate(
            extracted or [("需求契合度", 30), ("方案可行性", 40), ("团队能力", 30)], start=1
        ):
            CallCriterion.objects.create(call=self, seq=seq, name=name, weight=weight)


class CallReviewerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CallReviewer

    call = factory.SubFactory(ProjectCallFactory)
    reviewer = factory.SubFactory(UserFactory)


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application
        skip_postgeneration_save = True

    call = factory.SubFactory(ProjectCallFactory)
    organization: Any = None  # required: a social organisation
    title = factory.Sequence(lambda n: f"银龄守护计划{n}")
    proposal = "为社区独居老人提供探访、健康讲座与互助小组服务。"
    beneficiaries = 120
    amount = Decimal("150000.00")
    status = ApplicationStatus.SUBMITTED
    indicators = factory.LazyFunction(
        lambda: [
            {"kind": "output", "metric": "cases", "name": "个案服务", "target": "20", "unit": "个"},
            {
                "kind": "outcome",
                "metric": "satisfaction",
                "name": "满意度",
                "target": "90",
                "unit": "%",
            },
        ]
    )

    @factory.post_generation
    def communities(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.communities.set(extracted)


class BudgetLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BudgetLine

    application = factory.SubFactory(ApplicationFactory)
    category = BudgetLine.Category.ACTIVITY
    item = "活动物资"
    amount = Decimal("10000.00")


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    application = factory.SubFactory(ApplicationFactory)
    reviewer = factory.SubFactory(UserFactory)


class ReviewScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewScore

    review = factory.SubFactory(ReviewFactory)
    criterion = factory.LazyAttribute(lambda o: o.review.application.call.criteria.first())
    score = Decimal("80")


class ServiceProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceProject
        skip_postgeneration_save = True

    call = factory.SubFactory(ProjectCallFactory)
    pool = factory.LazyAttribute(lambda o: o.call.pool)
    organization: Any = None  # required
    title = factory.Sequence(lambda n: f"银龄守护计划{n}")
    contract_number = factory.Sequence(lambda n: f"HT{YEAR}-{n:04d}")
    amount = Decimal("100000.00")
    starts_on = dt.date(YEAR, 3, 1)
    ends_on = dt.date(YEAR + 1, 2, 28)
    signed_on = dt.date(YEAR, 2, 20)
    status = ProjectStatus.ACTIVE

    @factory.post_generation
    def communities(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.communities.set(extracted)


class ProjectIndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProjectIndicator

    project = factory.SubFactory(ServiceProjectFactory)
    kind = IndicatorKind.OUTPUT
    metric = Metric.CASES
    name = factory.Sequence(lambda n: f"个案服务{n}")
    target = Decimal("20")
    unit = "个"


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    project = factory.SubFactory(ServiceProjectFactory)
    seq = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"节点{n + 1}")
    due_on = dt.date(YEAR, 6, 30)


class MilestoneEvidenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MilestoneEvidence

    milestone = factory.SubFactory(MilestoneFactory)
    file = factory.django.FileField(filename="签到表.pdf", data=b"%PDF-1.4 test")
    name = "签到表.pdf"


class TrancheFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tranche

    milestone = factory.SubFactory(MilestoneFactory)
    project = factory.LazyAttribute(lambda o: o.milestone.project)
    seq = factory.LazyAttribute(lambda o: o.milestone.seq)
    amount = Decimal("30000.00")


class DisbursementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Disbursement

    tranche = factory.SubFactory(TrancheFactory)
    project = factory.LazyAttribute(lambda o: o.tranche.project)
    amount = factory.LazyAttribute(lambda o: o.tranche.amount)
    requested_by = factory.SubFactory(UserFactory)


class DisbursementApprovalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DisbursementApproval

    disbursement = factory.SubFactory(DisbursementFactory)
    approver = factory.SubFactory(UserFactory)
    requested_by = factory.LazyAttribute(lambda o: o.disbursement.requested_by)


class EvaluationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Evaluation

    project = factory.SubFactory(ServiceProjectFactory)
    stage = EvaluationStage.MIDTERM


class ResourceEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ResourceEntry

    community: Any = None  # required
    kind = ResourceKind.MATERIALS
    description = "慰问物资（米、油）"
    value = Decimal("2000.00")
    is_estimated = True
    occurred_on = dt.date(YEAR, 5, 1)


class VenueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Venue

    community: Any = None
    kind = VenueKind.WORKERS_HOME
    name = factory.Sequence(lambda n: f"职工之家{n}")
    is_shared = True


class VenueBookingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VenueBooking

    venue: Any = None  # required
    organization: Any = None  # required
    purpose = "activity"
    title = "重阳节敬老活动"
    starts_at = factory.Sequence(lambda n: at(dt.date(YEAR, 10, 1) + dt.timedelta(days=n), 14))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(hours=2))
    booked_by = factory.SubFactory(UserFactory)


def project_in(
    funder: Organization,
    community: Community,
    org: Organization,
    *,
    amount: Decimal = Decimal("100000.00"),
    shares: tuple[int, ...] = (30, 40, 30),
    status: str = ProjectStatus.ACTIVE,
) -> ServiceProject:
    """pool (owned by `funder`) → open call for `community` → awarded application of `org` →
    project with its milestones and tranches; the pool's totals match (allocated and
    contracted = amount)."""
    pool = BudgetPoolFactory(owner=funder, allocated=amount, contracted=amount)
    call = ProjectCallFactory(pool=pool, status=CallStatus.DECIDED)
    call.communities.set([community])
    application = ApplicationFactory(
        call=call,
        organization=org,
        amount=amount,
        awarded_amount=amount,
        status=ApplicationStatus.AWARDED,
        communities=[community],
    )
    project = ServiceProjectFactory(
        application=application,
        call=call,
        pool=pool,
        organization=org,
        title=application.title,
        amount=amount,
        status=status,
        communities=[community],
    )
    paid = Decimal("0.00")
    for seq, share in enumerate(shares, start=1):
        milestone = MilestoneFactory(
            project=project,
            seq=seq,
            title=f"第{seq}阶段",
            due_on=project.starts_on + dt.timedelta(days=100 * seq),
        )
        tranche_amount = (
            amount - paid
            if seq == len(shares)
            else (amount * share / 100).quantize(Decimal("0.01"))
        )
        paid += tranche_amount
        TrancheFactory(project=project, milestone=milestone, seq=seq, amount=tranche_amount)
    return project


# ---- funding: calls with applications (added by the funding part) --------------------------


def call_of(
    funder: Organization,
    *,
    communities: tuple[Community, ...] | list[Community] = (),
    pool: BudgetPool | None = None,
    reviewers: tuple[Any, ...] | list[Any] = (),
    **kwargs: Any,
) -> ProjectCall:
    """A call (open, criteria 30/40/30 unless said otherwise) under a pool of `funder`, with
    its target communities and reviewers."""
    call = ProjectCallFactory(pool=pool or BudgetPoolFactory(owner=funder), **kwargs)
    if communities:
        call.communities.set(communities)
    for user in reviewers:
        CallReviewerFactory(call=call, reviewer=user)
    return call


def application_to(
    call: ProjectCall,
    org: Organization,
    *,
    amount: Decimal = Decimal("150000.00"),
    status: str = ApplicationStatus.SUBMITTED,
    communities: tuple[Community, ...] | list[Community] = (),
    **kwargs: Any,
) -> Application:
    """An application of `org` with one budget line equal to its amount; a submitted one
    carries its submission time."""
    if status != ApplicationStatus.DRAFT:
        kwargs.setdefault("submitted_at", timezone.now())
    application = ApplicationFactory(
        call=call,
        organization=org,
        amount=amount,
        status=status,
        communities=list(communities) or list(call.communities.all()),
        **kwargs,
    )
    BudgetLineFactory(application=application, amount=amount)
    return application


def awarded_application(
    funder: Organization,
    community: Community,
    org: Organization,
    *,
    amount: Decimal = Decimal("120000.00"),
    awarded: Decimal = Decimal("100000.00"),
) -> Application:
    """An application of `org` awarded `awarded` from a pool of `funder` that reserves it
    (allocated = awarded), with no contract yet: where drawing up a contract starts."""
    pool = BudgetPoolFactory(owner=funder, allocated=awarded)
    call = ProjectCallFactory(pool=pool, status=CallStatus.DECIDED)
    call.communities.set([community])
    return ApplicationFactory(
        call=call,
        organization=org,
        amount=amount,
        awarded_amount=awarded,
        status=ApplicationStatus.AWARDED,
        decided_at=timezone.now(),
        communities=[community],
    )
