"""Actual figures of a contract's indicators: counted from recorded services, or reported.

服务联动 (the delivery app) registers one counter per metric it can count, e.g. in its
`AppConfig.ready()`:

    register_counter(Metric.CASES, lambda project: Decimal(project.cases.count()))

Until a metric has a counter, its actual figure is the organisation's own `reported` value,
and the project page says which source each figure comes from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ..models import Metric, ProjectIndicator, ServiceProject

Counter = Callable[[ServiceProject], Decimal]

_counters: dict[str, Counter] = {}


class Source:
    COUNTED = "counted"
    REPORTED = "reported"
    NONE = "none"


SOURCE_LABELS: dict[str, Promise] = {
    Source.COUNTED: _("系统统计"),
    Source.REPORTED: _("机构填报"),
    Source.NONE: _("尚未填报"),
}


def register_counter(metric: str, fn: Counter) -> Counter | None:
    """Count `metric` with `fn(project) -> Decimal` from now on; returns the counter it
    replaces (None if there was none)."""
    if metric not in Metric.values:
        raise ValueError(f"unknown metric {metric!r}")
    previous = _counters.get(metric)
    _counters[metric] = fn
    return previous


def unregister_counter(metric: str) -> None:
    _counters.pop(metric, None)


def counter_for(metric: str) -> Counter | None:
    return _counters.get(metric)


@dataclass(frozen=True)
class Progress:
    """One indicator's target against its actual figure, and where the figure comes from."""

    indicator: ProjectIndicator
    actual: Decimal | None
    source: str

    @property
    def target(self) -> Decimal:
        return self.indicator.target

    @property
    def source_label(self) -> Promise:
        return SOURCE_LABELS[self.source]

    @property
    def percent(self) -> int:
        """Completion in whole percent (capped at 100 for the progress bar, not the figure)."""
        if self.actual is None or not self.target:
            return 0
        return int(min(self.actual / self.target * 100, Decimal(100)))

    @property
    def met(self) -> bool:
        return self.actual is not None and self.actual >= self.target


def actual_of(
    indicator: ProjectIndicator,
    project: ServiceProject | None = None,
    *,
    counted: dict[str, Decimal] | None = None,
) -> Progress:
    """`counted` holds the figures already counted for the same project, by metric: a
    counter runs once per metric however many indicators share it."""
    counter = counter_for(indicator.metric)
    if counter is not None:
        counted = {} if counted is None else counted
        if indicator.metric not in counted:
            value = Decimal(counter(project or indicator.project)).quantize(Decimal("0.01"))
            counted[indicator.metric] = value
        return Progress(indicator, counted[indicator.metric], Source.COUNTED)
    if indicator.reported is not None:
        return Progress(indicator, indicator.reported, Source.REPORTED)
    return Progress(indicator, None, Source.NONE)


def project_progress(project: ServiceProject) -> list[Progress]:
    """Every indicator of the project with its actual figure, outputs first."""
    counted: dict[str, Decimal] = {}
    # "output" sorts after "outcome": descending puts outputs first.
    return [
        actual_of(i, project, counted=counted) for i in project.indicators.order_by("-kind", "pk")
    ]


def is_counted(metric: str) -> bool:
    return metric in _counters
