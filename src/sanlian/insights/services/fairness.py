"""资源均衡: how a year's resources (the ledger of 资源联合) spread over the communities a
user can see, with the inequality measures of `methods.fairness` and the area's alerts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from sanlian.core.models import User
from sanlian.organizations.models import Organization, Tier
from sanlian.resources.models import ResourceEntry
from sanlian.resources.services.ledger import Overview, resource_overview

from ..methods import MethodError
from ..methods import fairness as measures
from ..models import FairnessSettings

PER_COMMUNITY, PER_RESIDENT = "community", "resident"


@dataclass(frozen=True)
class Alert:
    kind: str  # "star_share" | "weak_idle"
    message: str
    communities: tuple[tuple[str, dt.date | None], ...] = ()  # (name, last resource)


@dataclass
class FairnessReport:
    overview: Overview
    basis: str
    measures: Any | None = None  # methods.fairness.Fairness
    error: str = ""  # why the measures could not be computed, in Chinese
    notes: list[str] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    settings: FairnessSettings | None = None


def area_settings(user: User) -> FairnessSettings:
    """The alert settings of the user's area (unsaved defaults when it has none)."""
    org = user.organization
    area: Organization | None = org.area_node() if org else None
    found = FairnessSettings.objects.filter(area=area).first() if area else None
    return found or FairnessSettings(area=area)


def _alerts(user: User, overview: Overview, settings: FairnessSettings) -> list[Alert]:
    alerts = []
    star = overview.tier(Tier.STAR)
    share = overview.share_of(star)
    limit = settings.star_share_alert * 100
    if share is not None and share > limit:
        alerts.append(
            Alert(
                "star_share",
                _("明星社区获得了 %(share)s%% 的资源，超过预警线 %(limit)s%%。")
                % {"share": share, "limit": limit.quantize(Decimal("0.1"))},
            )
        )
    weak = {r.community.pk: r.label for r in overview.rows if r.tier == Tier.WEAK and r.community}
    last = dict(
        ResourceEntry.objects.visible_to(user)
        .filter(community__in=list(weak))
        .order_by()
        .values_list("community")
        .annotate(last=Max("occurred_on"))
    )
    since = timezone.localdate() - dt.timedelta(days=settings.weak_idle_days)
    idle = tuple(
        sorted(
            (
                (name, last.get(pk))
                for pk, name in weak.items()
                if (last.get(pk) or dt.date.min) < since
            ),
            key=lambda item: (item[1] or dt.date.min, item[0]),
        )
    )
    if idle:
        alerts.append(
            Alert(
                "weak_idle",
                _("%(n)d 个薄弱社区已有 %(days)d 天以上没有获得任何资源。")
                % {"n": len(idle), "days": settings.weak_idle_days},
                idle,
            )
        )
    return alerts


def fairness_report(user: User, *, year: int, basis: str = PER_COMMUNITY) -> FairnessReport:
    """The spread of a year's resources over the visible communities. PER_COMMUNITY measures
    inequality between communities; PER_RESIDENT between residents (each community's amount
    per resident, weighted by its population; communities without a recorded population are
    left out and named)."""
    overview = resource_overview(user, year)
    report = FairnessReport(overview, basis)
    report.settings = area_settings(user)
    report.alerts = _alerts(user, overview, report.settings)
    rows = [r for r in overview.rows if r.community is not None]
    weights: list[int] | None = None
    if basis == PER_RESIDENT:
        missing = [r.label for r in rows if r.population <= 0]
        rows = [r for r in rows if r.population > 0]
        weights = [r.population for r in rows]
        if missing:
            report.notes.append(
                _("%(n)d 个社区没有常住人口数据，未计入按人均的计算：%(names)s")
                % {"n": len(missing), "names": "、".join(missing[:20])}
                + ("……" if len(missing) > 20 else "")
            )
    try:
        report.measures = measures.summarise(
            [float(r.total) for r in rows],
            weights=weights,
            groups=[r.tier for r in rows],
            labels=[r.label for r in rows],
        )
    except MethodError as exc:
        report.error = exc.message
    return report
