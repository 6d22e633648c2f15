"""数据看板快照: a snapshot shows exactly what the live page shows (to each reader, in each
language), says how old it is, asks for a refresh once stale, and gives way to live figures
when asked for them or when it cannot be read."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from sanlian.core.models import TaskRun
from sanlian.core.roles import Role
from sanlian.delivery.models import DemandStatus
from sanlian.insights.models import DashboardSnapshot
from sanlian.insights.services import dashboard as services
from sanlian.insights.services import snapshots
from sanlian.insights.views.dashboard import sections
from sanlian.organizations.models import Organization

from ..conftest import World
from ..factories import PersonFactory
from ..resources.factories import BudgetPoolFactory
from .factories import snapshot_of
from .test_dashboard import URL, _served_everywhere, member, recent_demand, rows

pytestmark = pytest.mark.django_db


def _world_with_data(w: World) -> None:
    member(w.c1, sex="F")
    member(w.c2)
    _served_everywhere(w, PersonFactory(community=w.c1))
    for score in (5, 3):
        recent_demand(w.c1, status=DemandStatus.CLOSED, satisfaction=score)
    recent_demand(w.c2)
    BudgetPoolFactory(owner=w.d1, year=timezone.localdate().year)


def _tables(d: services.Dashboard) -> list[tuple[str, list[list[Any]], list[Any]]]:
    return [
        (p.table.key, [list(r) for r in p.table.rows], [(st.label, st.value) for st in s.stats])
        for s in sections(d)
        for p in s.panels
    ]


@pytest.mark.parametrize(
    ("role", "area"),
    [(Role.FEDERATION_STAFF, "city"), (Role.AREA_STAFF, "d1"), (Role.COMMUNITY_CADRE, "c1")],
)
def test_a_snapshot_shows_what_the_live_page_shows(world: World, role: str, area: str) -> None:
    _world_with_data(world)
    node = getattr(world, area)
    node = node.organization if hasattr(node, "organization") else node
    now = timezone.now()
    snapshot_of(node, now=now)
    user = world.users[role]
    found = services.area_for(user, node.pk)
    assert found is not None
    read = snapshots.dashboard_for(user, found, now=now)
    live = snapshots.dashboard_for(user, found, live=True, now=now)
    assert (read.freshness.snapshot, live.freshness.snapshot) == (True, False)
    assert _tables(read) == _tables(live)
    assert read.projects.pools == live.projects.pools


def test_a_cadre_sees_no_pools_in_a_snapshot_taken_with_them(world: World) -> None:
    BudgetPoolFactory(owner=world.c1.organization, year=timezone.localdate().year)
    snapshot = snapshot_of(world.c1.organization)
    assert snapshots._load(snapshot).projects.pools is not None  # type: ignore[union-attr]
    cadre = world.users[Role.COMMUNITY_CADRE]
    found = services.area_for(cadre)
    assert found is not None
    assert snapshots.dashboard_for(cadre, found).projects.pools is None


def test_the_labels_of_a_snapshot_follow_the_readers_language(world: World) -> None:
    _world_with_data(world)
    snapshot_of(world.city)
    user = world.users[Role.FEDERATION_STAFF]
    found = services.area_for(user)
    assert found is not None
    with translation.override("en"):
        d = snapshots.dashboard_for(user, found)
        labels = [str(dim.label) for dim in d.organisation.member_breakdown.dimensions]
    assert d.freshness.snapshot
    assert labels[0] == "Sex"


def test_the_page_says_when_the_figures_were_taken(world: World) -> None:
    snapshot_of(world.city)
    page = world.client(Role.FEDERATION_STAFF).get(URL).content.decode()
    assert "统计于" in page and "后台每 60 分钟更新" in page and 'data-testid="live"' in page


def test_a_snapshot_does_not_see_what_came_after_it_but_live_does(world: World) -> None:
    snapshot_of(world.city)
    member(world.c1)
    client = world.client(Role.FEDERATION_STAFF)
    members = next(r for r in rows(client.get(URL), "areas_org") if r[0] == "合计")
    live = next(r for r in rows(client.get(URL, {"live": "1"}), "areas_org") if r[0] == "合计")
    assert members != live
    assert "实时统计" in client.get(URL, {"live": "1"}).content.decode()


def test_a_stale_snapshot_is_shown_and_refreshed(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    old = timezone.now() - dt.timedelta(hours=3)
    snapshot_of(world.city, now=old)
    member(world.c1)
    with django_capture_on_commit_callbacks(execute=True):
        response = world.client(Role.FEDERATION_STAFF).get(URL)
    assert 'data-testid="stale"' in response.content.decode()
    # Tasks run synchronously in the tests: the refresh has already replaced the snapshot.
    run = TaskRun.objects.get(name="insights.refresh_dashboards")
    assert run.params == {"areas": [world.city.pk]}
    fresh = DashboardSnapshot.objects.get(area=world.city)
    assert fresh.computed_at > old + dt.timedelta(hours=2)
    again = world.client(Role.FEDERATION_STAFF).get(URL)
    assert 'data-testid="stale"' not in again.content.decode()
    assert TaskRun.objects.filter(name="insights.refresh_dashboards").count() == 1


def test_an_unreadable_or_older_snapshot_gives_way_to_live_figures(world: World) -> None:
    user = world.users[Role.FEDERATION_STAFF]
    found = services.area_for(user)
    assert found is not None
    snapshot = snapshot_of(world.city)
    DashboardSnapshot.objects.filter(pk=snapshot.pk).update(payload=b"not a pickle")
    assert not snapshots.dashboard_for(user, found).freshness.snapshot
    snapshot_of(world.city)
    DashboardSnapshot.objects.filter(pk=snapshot.pk).update(version=snapshots.VERSION - 1)
    assert not snapshots.dashboard_for(user, found).freshness.snapshot


def test_refresh_computes_every_area(world: World) -> None:
    call_command("refresh_dashboards", stdout=open("/dev/null", "w"))  # noqa: SIM115
    areas = set(Organization.objects.areas().active().values_list("pk", flat=True))
    assert set(DashboardSnapshot.objects.values_list("area_id", flat=True)) == areas
    run = TaskRun.objects.get(name="insights.refresh_dashboards")
    assert run.result["areas"] == len(areas)


def test_the_api_says_where_the_figures_come_from(world: World) -> None:
    snapshot_of(world.city)
    client = world.client(Role.FEDERATION_STAFF)
    body = client.get("/api/insights/dashboard").json()
    assert body["freshness"] == {"snapshot": True, "stale": False, "refresh_minutes": 60}
    live = client.get("/api/insights/dashboard", {"live": "true"}).json()
    assert live["freshness"]["snapshot"] is False


def test_the_periodic_refresh_runs_once_per_interval(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from sanlian.insights.tasks import refresh_dashboards_periodic

    beat = settings.CELERY_BEAT_SCHEDULE["refresh-dashboards"]
    assert beat["task"] == refresh_dashboards_periodic.name
    with django_capture_on_commit_callbacks(execute=True):
        first, second = refresh_dashboards_periodic(), refresh_dashboards_periodic()
    assert first == second
    assert DashboardSnapshot.objects.filter(area=world.city).exists()


def test_a_snapshots_sections_are_drawn_once_per_language(world: World) -> None:
    _world_with_data(world)
    snapshot_of(world.city)
    client = world.client(Role.FEDERATION_STAFF)
    first, second = client.get(URL), client.get(URL)
    assert first.context["sections"] is not None and second.context["sections"] is None
    assert first.context["sections_html"] == second.context["sections_html"]
    english = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert english.context["sections"] is not None  # another language: drawn again
    live = client.get(URL, {"live": "1"})
    assert live.context["sections"] is not None  # live figures are never cached
