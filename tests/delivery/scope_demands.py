"""Scope cases of residents' demands (collected by tests/core/test_scoping.py). A lies in K1 and
is routed to O1; B lies in K2 and is routed to O2. Rules: A made by S1 for C1, B by S2."""

from __future__ import annotations

from typing import Any

from sanlian.core.roles import Role as R

from .factories_demands import (
    DemandEventFactory,
    DemandFactory,
    RoutingCorrectionFactory,
    RoutingRuleFactory,
)


def _demands(w: Any) -> tuple[Any, Any]:
    return (
        DemandFactory(community=w.c1, handler_org=w.o1),
        DemandFactory(community=w.c2, handler_org=w.o2),
    )


def _events(w: Any) -> tuple[Any, Any]:
    a, b = _demands(w)
    return DemandEventFactory(demand=a), DemandEventFactory(demand=b)


def _corrections(w: Any) -> tuple[Any, Any]:
    a, b = _demands(w)
    return (
        RoutingCorrectionFactory(demand=a, to_org=w.o1),
        RoutingCorrectionFactory(demand=b, to_org=w.o2),
    )


def _rules(w: Any) -> tuple[Any, Any]:
    return (
        RoutingRuleFactory(owner=w.s1, community=w.c1, organization=w.o1),
        RoutingRuleFactory(owner=w.s2, community=w.c2, organization=w.o2),
    )


# Area roles by the community (and the handler's area); the handling organisation's staff.
DEMAND_SCOPE = {
    R.FEDERATION_STAFF: "AB",
    R.AREA_STAFF: "A",
    R.COMMUNITY_CADRE: "A",
    R.PARTY_SECRETARY: "A",
    R.SOCIAL_ORG_MANAGER: "A",
    R.SOCIAL_WORKER: "A",
}

CASES = {
    "delivery.Demand": (_demands, DEMAND_SCOPE),
    "delivery.DemandEvent": (_events, DEMAND_SCOPE),
    "delivery.RoutingCorrection": (_corrections, DEMAND_SCOPE),
    # Area roles: the rules made in their area and above it.
    "delivery.RoutingRule": (
        _rules,
        {
            R.FEDERATION_STAFF: "AB",
            R.AREA_STAFF: "A",
            R.COMMUNITY_CADRE: "A",
            R.PARTY_SECRETARY: "A",
        },
    ),
}
