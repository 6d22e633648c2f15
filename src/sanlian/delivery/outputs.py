"""What the parts of 服务联动 deliver, counted once across parts.

- **Beneficiaries** of a project: each part registers a source that yields the people it
  served under the project as keys (`person_key` for a registered person, `phone_key` for a
  resident known only by a phone number); the project's beneficiary count is the number of
  distinct keys over all sources, so a person served twice (in one activity, or by a case and
  a group) counts once. Registered as 资源联合's BENEFICIARIES counter.
- **Service times**: each part registers a source of (date, start, end) of the services it
  recorded that a user may see, so the share delivered outside the 8-hour working day can be
  shown across parts (`organizations.models.workforce.split_hours` decides what is outside).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sanlian.organizations.models.workforce import split_hours

BeneficiarySource = Callable[[Any], Iterable[str]]  # project -> keys
ServiceTimeSource = Callable[[Any, dt.date, dt.date], Iterable[tuple[dt.date, dt.time, dt.time]]]

_beneficiary_sources: dict[str, BeneficiarySource] = {}
_time_sources: dict[str, tuple[str, ServiceTimeSource]] = {}


def person_key(person_id: int) -> str:
    return f"p{person_id}"


def phone_key(phone: str) -> str:
    return f"t{phone}"


def register_beneficiaries(name: str, source: BeneficiarySource) -> None:
    _beneficiary_sources[name] = source


def beneficiaries(project: Any) -> set[str]:
    keys: set[str] = set()
    for source in _beneficiary_sources.values():
        keys.update(source(project))
    return keys


def beneficiary_count(project: Any) -> Decimal:
    return Decimal(len(beneficiaries(project)))


def register_service_times(name: str, label: str, source: ServiceTimeSource) -> None:
    """`label`: what the part's services are called on the overview (e.g. 个案服务记录)."""
    _time_sources[name] = (label, source)


@dataclass(frozen=True)
class TimeShare:
    label: str
    services: int
    hours: Decimal
    hours_outside: Decimal

    @property
    def share_outside(self) -> Decimal:
        return (
            (self.hours_outside / self.hours * 100).quantize(Decimal("0.1"))
            if self.hours
            else Decimal(0)
        )


def service_time_shares(user: Any, date_from: dt.date, date_to: dt.date) -> list[TimeShare]:
    """Per part: how many services, their hours, and the hours outside Mon–Fri 08:30–17:30."""
    shares = []
    for label, source in _time_sources.values():
        n, hours, outside = 0, Decimal(0), Decimal(0)
        for served_on, start, end in source(user, date_from, date_to):
            total, out = split_hours(served_on, start, end)
            n, hours, outside = n + 1, hours + total, outside + out
        shares.append(TimeShare(label, n, hours, outside))
    return shares


def connect() -> None:
    """The beneficiaries counter of 资源联合's contract indicators."""
    from sanlian.resources.models import Metric
    from sanlian.resources.services.indicators import register_counter

    register_counter(Metric.BENEFICIARIES, beneficiary_count)
