"""Demo data of 资源联合 (loaded by `sanlian seed` after the organisations' data): every state and
stage, ledger entries of every kind in every tier, bookings, totals that add up, and the same
data for the same seed."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Sum
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sanlian.core.models import User
from sanlian.organizations import demo
from sanlian.organizations.models import Community, Tier
from sanlian.resources.models import (
    BudgetPool,
    CallStatus,
    Disbursement,
    DisbursementStatus,
    ProjectCall,
    ProjectStatus,
    ResourceEntry,
    ResourceKind,
    ServiceProject,
    VenueBooking,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_city(db: None) -> dict[str, Any]:
    return demo.seed("small", 1)


def test_the_seed_reports_what_it_made(demo_city: dict[str, Any]) -> None:
    assert (
        demo_city["service_projects"],
        demo_city["resource_entries"],
        demo_city["venue_bookings"],
    ) == (
        ServiceProject.objects.count(),
        ResourceEntry.objects.count(),
        VenueBooking.objects.count(),
    )


def test_calls_are_in_every_state(demo_city: dict[str, Any]) -> None:
    states = set(ProjectCall.objects.values_list("status", flat=True))
    assert states == set(CallStatus.values)


def test_projects_are_at_every_stage_but_terminated(demo_city: dict[str, Any]) -> None:
    stages = set(ServiceProject.objects.values_list("status", flat=True))
    assert stages == set(ProjectStatus.values) - {ProjectStatus.TERMINATED}


def test_the_accepted_project_carries_its_grade(demo_city: dict[str, Any]) -> None:
    accepted = ServiceProject.objects.get(status=ProjectStatus.ACCEPTED)
    assert (accepted.final_grade, accepted.accepted_on is not None) == ("excellent", True)


def test_a_district_pool_is_earmarked_for_weak_communities(demo_city: dict[str, Any]) -> None:
    assert BudgetPool.objects.filter(tier=Tier.WEAK, owner__kind="district_union").exists()


def test_disbursements_are_paid_and_requested(demo_city: dict[str, Any]) -> None:
    states = set(Disbursement.objects.values_list("status", flat=True))
    assert {DisbursementStatus.PAID, DisbursementStatus.REQUESTED} <= states


def _pool_sums(pool: BudgetPool) -> tuple[Decimal, Decimal, Decimal]:
    projects = ServiceProject.objects.filter(pool=pool)
    signed = projects.exclude(status=ProjectStatus.DRAFT)
    zero = Decimal("0.00")
    return (
        projects.aggregate(s=Sum("amount"))["s"] or zero,
        signed.aggregate(s=Sum("amount"))["s"] or zero,
        projects.aggregate(s=Sum("disbursed"))["s"] or zero,
    )


def test_each_pools_totals_are_the_sums_of_its_projects(demo_city: dict[str, Any]) -> None:
    pools = BudgetPool.objects.all()
    assert [(p.allocated, p.contracted, p.disbursed) for p in pools] == [
        _pool_sums(p) for p in pools
    ]


def test_each_projects_disbursed_is_the_sum_of_its_paid_disbursements(
    demo_city: dict[str, Any],
) -> None:
    projects = ServiceProject.objects.all()
    paid = {
        p.pk: p.disbursements.filter(status=DisbursementStatus.PAID).aggregate(s=Sum("amount"))["s"]
        or Decimal("0.00")
        for p in projects
    }
    assert {p.pk: p.disbursed for p in projects} == paid


def test_the_funds_entries_of_a_disbursement_add_up_to_it(demo_city: dict[str, Any]) -> None:
    paid = Disbursement.objects.filter(status=DisbursementStatus.PAID)
    assert [d.amount for d in paid] == [
        d.ledger_entries.aggregate(s=Sum("value"))["s"] for d in paid
    ]


def test_ledger_entries_of_every_kind(demo_city: dict[str, Any]) -> None:
    kinds = set(ResourceEntry.objects.values_list("kind", flat=True))
    assert kinds == set(ResourceKind.values)


@pytest.mark.parametrize("tier", list(Tier))
def test_resources_reach_every_tier(demo_city: dict[str, Any], tier: str) -> None:
    kinds = set(ResourceEntry.objects.filter(community__tier=tier).values_list("kind", flat=True))
    assert {ResourceKind.MATERIALS, ResourceKind.IN_KIND, ResourceKind.EXTERNAL} <= kinds


def test_money_reaches_weak_communities(demo_city: dict[str, Any]) -> None:
    assert ResourceEntry.objects.funds().filter(community__tier=Tier.WEAK).exists()


def test_confirmed_bookings_of_a_venue_never_overlap(demo_city: dict[str, Any]) -> None:
    bookings = list(VenueBooking.objects.confirmed().order_by("venue", "starts_at"))
    clashes = [
        (a.pk, b.pk)
        for a, b in itertools.pairwise(bookings)
        if a.venue_id == b.venue_id and b.starts_at < a.ends_at
    ]
    assert bookings and clashes == []


def test_bookings_for_the_running_project_enter_the_venues_time(
    demo_city: dict[str, Any],
) -> None:
    assert ResourceEntry.objects.filter(
        kind=ResourceKind.VENUE, booking__project__isnull=False
    ).exists()


def _fingerprint() -> Iterator[tuple[Any, ...]]:
    yield from ServiceProject.objects.order_by("contract_number").values_list(
        "contract_number", "title", "amount", "disbursed", "status"
    )
    yield from ResourceEntry.objects.order_by(
        "community__name", "kind", "occurred_on", "description", "value"
    ).values_list("community__name", "kind", "occurred_on", "description", "value")
    yield from VenueBooking.objects.order_by("venue__name", "starts_at").values_list(
        "venue__name", "title", "starts_at", "status"
    )


def _seeded_fingerprint() -> list[tuple[Any, ...]]:
    with transaction.atomic():
        demo.seed("small", 7)
        found = list(_fingerprint())
        transaction.set_rollback(True)
    return found


def test_the_same_seed_gives_the_same_data(db: None) -> None:
    assert _seeded_fingerprint() == _seeded_fingerprint()


def test_larger_scales_give_each_district_a_pool_and_projects(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(demo.SCALES, "tiny", demo.Scale(2, 2, 30, 600, 8, 12, 30))
    demo.seed("tiny", 1)
    pools = BudgetPool.objects.filter(
        owner__kind="district_union", tier="", year=timezone.localdate().year
    )
    assert (pools.count(), all(p.projects.exists() for p in pools)) == (2, True)


@pytest.mark.parametrize(
    ("username", "page"),
    [
        ("city", "resources:resources_overview"),
        ("district", "resources:resources_overview"),
        ("cadre", "resources:ledger_list"),
        ("orgmanager", "resources:ledger_list"),
        ("worker", "resources:ledger_list"),
        ("cadre", "resources:booking_list"),
        ("orgmanager", "resources:booking_list"),
        ("cadre", "resources:volunteer_hours_record"),
        ("orgmanager", "resources:ledger_create"),
    ],
)
def test_the_pages_show_the_demo_data(
    demo_city: dict[str, Any], client: Client, username: str, page: str
) -> None:
    client.force_login(User.objects.get(username=username))
    assert client.get(reverse(page)).status_code == 200


@pytest.mark.parametrize("username", ["city", "district", "cadre", "orgmanager", "worker"])
def test_the_demo_communitys_page_shows_its_resources(
    demo_city: dict[str, Any], client: Client, username: str
) -> None:
    client.force_login(User.objects.get(username=username))
    home = Community.objects.order_by("pk").first()
    assert home is not None
    response = client.get(home.get_absolute_url())
    assert 'data-testid="community-resources"' in response.content.decode()


def test_the_demo_venues_week_shows_its_bookings(demo_city: dict[str, Any], client: Client) -> None:
    client.force_login(User.objects.get(username="orgmanager"))
    booking = VenueBooking.objects.confirmed().filter(project__isnull=False).first()
    assert booking is not None
    response = client.get(
        reverse("resources:venue_bookings", args=[booking.venue_id]),
        {"week": timezone.localdate(booking.starts_at).isoformat()},
    )
    assert booking.title in response.content.decode()
