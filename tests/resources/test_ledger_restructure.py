"""Restructuring areas and 资源联合: a merged-away community's ledger entries and its links to
projects, calls and applications go to the receiving community (once); a new community split
off inherits the links, the ledger stays with the old one."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sanlian.core.roles import Role
from sanlian.organizations import services
from sanlian.organizations.services import restructuring
from sanlian.resources.models import ResourceEntry, ResourceKind

from ..conftest import World
from ..factories import PersonFactory
from .factories import DisbursementFactory, ResourceEntryFactory, project_in

pytestmark = pytest.mark.django_db


def _merge(world: World) -> restructuring.Preview:
    return services.community_merge(
        source=world.c2, target=world.c1, by=world.users[Role.FEDERATION_STAFF]
    )


def _split(world: World) -> restructuring.SplitResult:
    person = PersonFactory(community=world.c2)
    return services.community_split(
        community=world.c2,
        name="丽都二社区",
        by=world.users[Role.FEDERATION_STAFF],
        person_ids=frozenset({person.pk}),
    )


def test_merge_moves_the_ledger_entries(world: World) -> None:
    entry = ResourceEntryFactory(community=world.c2)
    _merge(world)
    entry.refresh_from_db()
    assert entry.community == world.c1


def test_merge_adds_up_the_money_of_a_disbursement_that_served_both(world: World) -> None:
    project = project_in(world.city, world.c1, world.o1)
    project.communities.add(world.c2)
    paid = DisbursementFactory(tranche=project.tranches.first())
    for community, value in ((world.c1, "15000.00"), (world.c2, "15000.00")):
        ResourceEntryFactory(
            community=community, kind=ResourceKind.FUNDS, disbursement=paid, value=Decimal(value)
        )
    _merge(world)
    rows = ResourceEntry.objects.filter(disbursement=paid)
    assert [(r.community_id, r.value) for r in rows] == [(world.c1.pk, Decimal("30000.00"))]


def test_merge_moves_the_links_of_projects_without_duplicates(world: World) -> None:
    both = project_in(world.city, world.c1, world.o1)
    both.communities.add(world.c2)
    far = project_in(world.city, world.c2, world.o2)
    _merge(world)
    assert (
        list(both.communities.values_list("pk", flat=True)),
        list(far.communities.values_list("pk", flat=True)),
    ) == ([world.c1.pk], [world.c1.pk])


def test_merge_moves_the_links_of_calls_and_applications(world: World) -> None:
    project = project_in(world.city, world.c2, world.o2)
    _merge(world)
    assert (
        list(project.call.communities.values_list("pk", flat=True)),
        list(project.application.communities.values_list("pk", flat=True)),
    ) == ([world.c1.pk], [world.c1.pk])


def test_merge_preview_counts_the_entries_and_the_links(world: World) -> None:
    ResourceEntryFactory(community=world.c2)
    project_in(world.city, world.c2, world.o2)
    preview = services.community_merge_preview(source=world.c2, target=world.c1)
    assert (
        preview.count("resources.ResourceEntry"),
        preview.count("resources.ServiceProject.communities"),
        preview.count("resources.ProjectCall.communities"),
        preview.count("resources.Application.communities"),
    ) == (1, 1, 1, 1)


def test_split_keeps_the_ledger_with_the_old_community(world: World) -> None:
    entry = ResourceEntryFactory(community=world.c2)
    _split(world)
    entry.refresh_from_db()
    assert entry.community == world.c2


def test_split_gives_the_new_community_the_projects_of_the_old(world: World) -> None:
    project = project_in(world.city, world.c2, world.o2)
    new = _split(world).new
    assert set(project.communities.values_list("pk", flat=True)) == {world.c2.pk, new.pk}


def test_move_keeps_the_entries_with_their_community(world: World) -> None:
    entry = ResourceEntryFactory(community=world.c2)
    services.community_move(
        community=world.c2, street=world.s1, by=world.users[Role.FEDERATION_STAFF]
    )
    entry.refresh_from_db()
    assert entry.community == world.c2
