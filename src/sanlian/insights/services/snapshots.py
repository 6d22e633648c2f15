"""Dashboard rollups (数据看板快照): each area's dashboard figures computed in the background,
so that a page reads one row instead of aggregating millions of service records.

At city scale the city dashboard's GROUP BYs run over every membership, survey answer, case
contact and attendance of the last twelve months: seconds, not the half second a page may
take. The figures are computed by the same code as the live page (`dashboard.figures`), as the
federation staff of that area would see them, and kept pickled per area; the page shows the
snapshot with the time it was taken, asks for a refresh once it is older than
`DASHBOARD_REFRESH_MINUTES`, and computes live when asked (?live=1) or when there is no
snapshot yet (a new installation, the tests).

What differs between readers of one area is applied when reading, not baked in: budget pools
are shown to funders only (`FUNDER_ROLES`), the trail above the area is the reader's own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import pickle  # our own task writes the payload; no reader ever sends one
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sanlian.core import tasks
from sanlian.core.roles import Role
from sanlian.core.scoping import Scope, scope_for
from sanlian.organizations.models import Organization
from sanlian.resources.models import FUNDER_ROLES

from ..models import DashboardSnapshot
from .dashboard import Area, Dashboard, Figures, Freshness, area_for, figures

log = logging.getLogger(__name__)

# Bump when the figures' dataclasses change shape: older payloads are then ignored.
VERSION = 1


def refresh_minutes() -> int:
    return int(settings.DASHBOARD_REFRESH_MINUTES)


class AreaViewer:
    """Who a snapshot is computed as: the federation staff of the area itself (every row of
    the area, budget pools included). Not a user: it exists only inside the refresh."""

    is_authenticated = True
    is_active = True
    pk = None

    def __init__(self, node: Organization) -> None:
        self._sanlian_scope = Scope(
            user_id=0,
            roles=frozenset({Role.FEDERATION_STAFF}),
            area_path=node.path,
            org_id=node.pk,
        )


def compute(node: Organization, *, now: dt.datetime | None = None) -> tuple[Figures, float]:
    """The figures of the area `node` and the seconds they took."""
    viewer = AreaViewer(node)
    area = area_for(viewer, node.pk)
    if area is None:  # not an area node (the caller picks areas; a guard, not a path)
        raise ValueError(f"{node} is not an area")
    started = time.perf_counter()
    result = figures(viewer, area, now=now)
    return result, time.perf_counter() - started


def store(node: Organization, *, now: dt.datetime | None = None) -> DashboardSnapshot:
    """Compute and keep the snapshot of one area (replacing the one before)."""
    result, seconds = compute(node, now=now)
    payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    with transaction.atomic():
        snapshot, _created = DashboardSnapshot.objects.update_or_create(
            area=node,
            defaults={
                "computed_at": result.as_of,
                "seconds": round(seconds, 3),
                "version": VERSION,
                "payload": payload,
            },
        )
    return snapshot


def areas_to_refresh(area_ids: Iterable[int] | None = None) -> list[Organization]:
    """Active area nodes (city, districts, streets, communities), the largest first."""
    qs = Organization.objects.areas().active()
    if area_ids is not None:
        qs = qs.filter(pk__in=list(area_ids))
    nodes = list(qs.only("pk", "path", "name", "kind"))
    return sorted(nodes, key=lambda o: (o.path.count("/"), o.path))


def refresh(
    area_ids: Iterable[int] | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Recompute the snapshots of the given areas (default: every area). Each area commits on
    its own, so a refresh that dies keeps what it finished and the next one redoes the rest."""
    nodes = areas_to_refresh(area_ids)
    started = time.perf_counter()
    slowest = (0.0, "")
    for i, node in enumerate(nodes, 1):
        snapshot = store(node)
        if snapshot.seconds > slowest[0]:
            slowest = (snapshot.seconds, node.name)
        if progress is not None:
            progress(i, len(nodes))
    return {
        "areas": len(nodes),
        "seconds": round(time.perf_counter() - started, 1),
        "slowest_area": slowest[1],
        "slowest_seconds": slowest[0],
    }


def _load(snapshot: DashboardSnapshot) -> Figures | None:
    try:
        loaded = pickle.loads(bytes(snapshot.payload))  # noqa: S301  (see the module docstring)
    except Exception:  # a payload the code can no longer read: recompute instead
        log.warning("unreadable dashboard snapshot of area %s", snapshot.area_id, exc_info=True)
        return None
    return loaded if isinstance(loaded, Figures) else None


def _ask_refresh(snapshot: DashboardSnapshot) -> None:
    # One refresh per stale snapshot, however many readers notice it.
    tasks.enqueue(
        "insights.refresh_dashboards",
        {"areas": [snapshot.area_id]},
        idempotency_key=f"dashboard:{snapshot.area_id}:{snapshot.computed_at:%Y%m%d%H%M%S%f}",
    )


def for_reader(user: Any, f: Figures) -> Figures:
    """What of the area's figures this reader may see (pools: funders only)."""
    if f.projects.pools is not None and not scope_for(user).has(*FUNDER_ROLES):
        return dataclasses.replace(f, projects=dataclasses.replace(f.projects, pools=None))
    return f


def dashboard_for(
    user: Any, area: Area, *, live: bool = False, now: dt.datetime | None = None
) -> Dashboard:
    """The dashboard of `area` (from `area_for(user, …)`): its snapshot when there is a
    readable one, else (or when `live`) computed now."""
    if not live:
        snapshot = (
            DashboardSnapshot.objects.visible_to(user)
            .filter(area_id=area.node.id, version=VERSION)
            .first()
        )
        if snapshot is not None and (loaded := _load(snapshot)) is not None:
            at = now or timezone.now()
            stale = at - snapshot.computed_at > dt.timedelta(minutes=refresh_minutes())
            if stale:
                _ask_refresh(snapshot)
            freshness = Freshness(
                snapshot=True, seconds=snapshot.seconds, stale=stale, max_age=refresh_minutes()
            )
            return Dashboard.of(area, for_reader(user, loaded), freshness)
    return Dashboard.of(area, figures(user, area, now=now), Freshness(max_age=refresh_minutes()))
