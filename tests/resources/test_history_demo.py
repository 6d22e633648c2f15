"""The five years of purchase-of-service history that the larger demo scales load in bulk
(`resources.demo_history`), on a tiny volume over the small demo city: the money adds up as the
services would have left it, the statuses follow the dates, every project serves a community,
star communities get more per community than weak ones, and the same seed gives the same rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Max, Q, Sum
from django.utils import timezone

from sanlian.organizations.demo import seed
from sanlian.organizations.models import Community, Tier
from sanlian.resources import demo_history
from sanlian.resources.models import (
    Application,
    ApplicationStatus,
    BudgetPool,
    Disbursement,
    DisbursementStatus,
    Evaluation,
    EvaluationStage,
    EvaluationStatus,
    Milestone,
    MilestoneStatus,
    ProjectStatus,
    ResourceEntry,
    ResourceKind,
    ServiceProject,
    Tranche,
)

pytestmark = pytest.mark.django_db

TINY = 120  # projects over the five years
ZERO = Decimal("0.00")


def _fingerprint() -> list[tuple[Any, ...]]:
    return [
        *ServiceProject.objects.order_by("contract_number").values_list(
            "contract_number", "title", "organization__name", "amount", "disbursed", "status",
            "final_grade", "starts_on",
        ),
        *ResourceEntry.objects.funds()
        .order_by("disbursement__request_key", "community__name")
        .values_list("disbursement__request_key", "community__name", "value", "occurred_on"),
    ]  # fmt: skip


# First in the module: it seeds in transactions of its own, before `history` holds the
# module's seeded city.
def test_the_same_seed_gives_the_same_history(db: None) -> None:
    found = []
    for _ in range(2):
        with transaction.atomic():
            seed("small", 3)
            demo_history.bulk_history(40, 3)
            found.append(_fingerprint())
            transaction.set_rollback(True)
    assert found[0] == found[1] and len(found[0]) > 40


@pytest.fixture(scope="module")
def history(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """The small demo city and the history on a tiny volume, loaded once for the module in a
    transaction rolled back at its end (each test runs in a savepoint of it)."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            seed("small", 1)
            first = (ServiceProject.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
            counts = demo_history.bulk_history(TINY, 1)
            yield {"first": first, **counts}
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _projects(history: dict[str, Any]) -> Any:
    return ServiceProject.objects.filter(pk__gte=history["first"])


def test_the_rows_hold_every_constraint(history: dict[str, Any]) -> None:
    connection.check_constraints()  # on PostgreSQL the rebuilt keys and indexes checked them
    assert _projects(history).count() == TINY == history["service_projects"]


def test_the_sequences_continue_after_the_assigned_ids(history: dict[str, Any]) -> None:
    pool = BudgetPool.objects.create(
        owner=BudgetPool.objects.first().owner, year=2000, name="序列检查", amount=Decimal(1)
    )
    assert pool.pk > max(BudgetPool.objects.exclude(pk=pool.pk).values_list("pk", flat=True))


def test_it_spans_five_years(history: dict[str, Any]) -> None:
    years = set(_projects(history).values_list("pool__year", flat=True))
    this = timezone.localdate().year
    assert years == set(range(this - 4, this + 1))


def test_each_pools_totals_are_the_sums_of_its_projects(history: dict[str, Any]) -> None:
    pools = BudgetPool.objects.annotate(
        sum_amount=Sum("projects__amount", default=ZERO),
        sum_signed=Sum(
            "projects__amount", filter=~Q(projects__status=ProjectStatus.DRAFT), default=ZERO
        ),
        sum_disbursed=Sum("projects__disbursed", default=ZERO),
    )
    assert [(p.allocated, p.contracted, p.disbursed) for p in pools] == [
        (p.sum_amount, p.sum_signed, p.sum_disbursed) for p in pools
    ]


def test_each_projects_disbursed_is_the_sum_of_its_paid_disbursements(
    history: dict[str, Any],
) -> None:
    projects = _projects(history).annotate(
        paid=Sum(
            "disbursements__amount",
            filter=Q(disbursements__status=DisbursementStatus.PAID),
            default=ZERO,
        )
    )
    assert [p.disbursed for p in projects] == [p.paid for p in projects]


def test_the_tranches_of_a_project_add_up_to_its_amount(history: dict[str, Any]) -> None:
    projects = _projects(history)
    tranches = dict(
        Tranche.objects.filter(project__in=projects)
        .values_list("project")
        .annotate(s=Sum("amount"), n=Count("pk"))
        .values_list("project", "s")
    )
    milestones = set(
        Milestone.objects.filter(project__in=projects)
        .values_list("project")
        .annotate(n=Count("pk"))
        .values_list("n", flat=True)
    )
    assert (tranches, milestones) == (dict(projects.values_list("pk", "amount")), {3, 4})


def test_the_funds_entries_of_a_disbursement_add_up_to_it(history: dict[str, Any]) -> None:
    paid = Disbursement.objects.filter(
        project__pk__gte=history["first"], status=DisbursementStatus.PAID
    )
    entries = {
        d: (total, n)
        for d, total, n in ResourceEntry.objects.funds()
        .filter(disbursement__in=paid)
        .values_list("disbursement")
        .annotate(total=Sum("value"), n=Count("pk"))
        .values_list("disbursement", "total", "n")
    }
    served = dict(_projects(history).annotate(n=Count("communities")).values_list("pk", "n"))
    assert paid.exists()
    assert entries == {d.pk: (d.amount, served[d.project_id]) for d in paid}


def test_a_paid_disbursement_has_the_approvals_it_needs(history: dict[str, Any]) -> None:
    paid = Disbursement.objects.filter(
        project__pk__gte=history["first"], status=DisbursementStatus.PAID
    ).annotate(n=Count("approvals"))
    four_eyes = Decimal(str(settings.DISBURSEMENT_FOUR_EYES_ABOVE))
    assert {
        (d.n, d.approvals_required, d.amount > four_eyes, d.paid_at is not None) for d in paid
    } == {
        (1, 1, False, True),
        (2, 2, True, True),
    }


def test_money_follows_accepted_milestones_only(history: dict[str, Any]) -> None:
    disbursed = Tranche.objects.filter(
        project__pk__gte=history["first"], disbursements__isnull=False
    )
    assert not disbursed.exclude(milestone__status=MilestoneStatus.ACCEPTED).exists()


def test_every_project_serves_a_community(history: dict[str, Any]) -> None:
    counts = _projects(history).annotate(n=Count("communities")).values_list("n", flat=True)
    assert set(counts) <= {1, 2, 3} and 1 in set(counts)


def test_older_years_are_closed_and_this_years_running(history: dict[str, Any]) -> None:
    this = timezone.localdate().year
    by_year: dict[int, set[str]] = defaultdict(set)
    for year, status in _projects(history).values_list("pool__year", "status"):
        by_year[year].add(status)
    assert (
        by_year[this - 4],
        by_year[this - 3],
        ProjectStatus.ACCEPTED in by_year[this - 1],
        ProjectStatus.ACTIVE in by_year[this],
        by_year[this] <= {ProjectStatus.ACTIVE, ProjectStatus.DRAFT},
    ) == ({ProjectStatus.ACCEPTED}, {ProjectStatus.ACCEPTED}, True, True, True)


def test_closed_projects_carry_their_final_evaluations_grade(history: dict[str, Any]) -> None:
    closed = _projects(history).filter(status=ProjectStatus.ACCEPTED)
    finals = {
        e.project_id: (e.score, e.grade)
        for e in Evaluation.objects.filter(
            project__in=closed, stage=EvaluationStage.FINAL, status=EvaluationStatus.SUBMITTED
        )
    }
    assert closed.count() > TINY // 2
    assert {p.pk: (p.final_score, p.final_grade) for p in closed} == finals


def test_closed_projects_are_done_and_paid(history: dict[str, Any]) -> None:
    closed = _projects(history).filter(status=ProjectStatus.ACCEPTED)
    assert (
        Milestone.objects.filter(project__in=closed)
        .exclude(status=MilestoneStatus.ACCEPTED)
        .exists(),
        closed.exclude(disbursed=F("amount")).exists(),
        closed.filter(accepted_on__gt=timezone.localdate()).exists(),
    ) == (False, False, False)


def test_drafts_are_unsigned_and_signed_projects_dated(history: dict[str, Any]) -> None:
    projects = _projects(history)
    assert not projects.filter(status=ProjectStatus.DRAFT, signed_on__isnull=False).exists()
    assert (
        not projects.exclude(status=ProjectStatus.DRAFT)
        .filter(Q(signed_on__isnull=True) | Q(signed_on__gt=F("starts_on")))
        .exists()
    )


def test_every_project_comes_from_an_awarded_application(history: dict[str, Any]) -> None:
    awarded = Application.objects.filter(project__pk__gte=history["first"])
    assert set(awarded.values_list("status", flat=True)) == {ApplicationStatus.AWARDED}
    assert awarded.count() == TINY


def test_star_communities_get_more_per_community_than_weak_ones(
    history: dict[str, Any],
) -> None:
    funds = ResourceEntry.objects.funds().filter(project__pk__gte=history["first"])
    per: dict[str, Decimal] = {}
    projects_per: dict[str, float] = {}
    for tier in (Tier.STAR, Tier.WEAK):
        n = Community.objects.filter(tier=tier).count()
        per[tier] = (funds.filter(community__tier=tier).aggregate(s=Sum("value"))["s"] or ZERO) / n
        projects_per[tier] = _projects(history).filter(communities__tier=tier).count() / n
    assert per[Tier.STAR] > per[Tier.WEAK] > 0
    assert projects_per[Tier.STAR] > projects_per[Tier.WEAK] > 0


def test_every_tier_gets_money(history: dict[str, Any]) -> None:
    tiers = set(
        ResourceEntry.objects.filter(
            kind=ResourceKind.FUNDS, project__pk__gte=history["first"]
        ).values_list("community__tier", flat=True)
    )
    assert tiers == set(Tier.values)


def test_weak_pools_fund_weak_communities_only(history: dict[str, Any]) -> None:
    served = set(
        _projects(history).filter(pool__tier=Tier.WEAK).values_list("communities__tier", flat=True)
    )
    assert served == {Tier.WEAK}


def test_milestones_are_done_in_order_and_in_the_past(history: dict[str, Any]) -> None:
    now = timezone.now()
    milestones = Milestone.objects.filter(project__pk__gte=history["first"]).order_by(
        "project", "seq"
    )
    broken = []
    last: tuple[int, str] | None = None
    for m in milestones:
        if m.reviewed_at and m.reviewed_at > now:
            broken.append(m.pk)
        after_open = last and last[0] == m.project_id and last[1] != MilestoneStatus.ACCEPTED
        if after_open and m.status == MilestoneStatus.ACCEPTED:
            broken.append(m.pk)
        last = (m.project_id, m.status)
    assert broken == []


def test_the_seed_reports_the_history(history: dict[str, Any]) -> None:
    assert (history["service_projects"], history["disbursements"]) == (
        TINY,
        Disbursement.objects.filter(project__pk__gte=history["first"]).count(),
    )


def test_projects_for_the_scales() -> None:
    assert (demo_history.projects_for(150), demo_history.projects_for(1_500)) == (2_500, 25_000)
