"""Scope cases of 数据分析 (collected by tests/core/test_scoping.py). A belongs to the area of
C1 (its community union, in D1), B to that of C2 (in D2); tier proposals, pilot indicators and
values follow their assessment or batch. Area roles see the rows of their area and below."""

from __future__ import annotations

from typing import Any

from sanlian.core.roles import Role as R

from ..resources.factories import BudgetPoolFactory, ProjectCallFactory
from .factories import (
    AllocationScenarioFactory,
    FairnessSettingsFactory,
    PilotBatchFactory,
    PilotIndicatorFactory,
    PilotValueFactory,
    TierAssessmentFactory,
    TierProposalFactory,
    snapshot_of,
)

SEEN = {
    R.FEDERATION_STAFF: "AB",
    R.AREA_STAFF: "A",
    R.COMMUNITY_CADRE: "A",
    R.PARTY_SECRETARY: "A",
}


def _areas(w: Any) -> tuple[Any, Any]:
    return w.c1.organization, w.c2.organization


def _assessments(w: Any) -> tuple[Any, Any]:
    a, b = _areas(w)
    return TierAssessmentFactory(area=a), TierAssessmentFactory(area=b)


def _proposals(w: Any) -> tuple[Any, Any]:
    a, b = _assessments(w)
    return (
        TierProposalFactory(assessment=a, community=w.c1),
        TierProposalFactory(assessment=b, community=w.c2),
    )


def _scenarios(w: Any) -> tuple[Any, Any]:
    a, b = _areas(w)
    call = ProjectCallFactory(pool=BudgetPoolFactory(owner=w.city))
    return AllocationScenarioFactory(area=a, call=call), AllocationScenarioFactory(
        area=b, call=call
    )


def _batches(w: Any) -> tuple[Any, Any]:
    a, b = _areas(w)
    return PilotBatchFactory(area=a), PilotBatchFactory(area=b)


def _indicators(w: Any) -> tuple[Any, Any]:
    a, b = _batches(w)
    return PilotIndicatorFactory(batch=a), PilotIndicatorFactory(batch=b)


def _values(w: Any) -> tuple[Any, Any]:
    a, b = _indicators(w)
    return (
        PilotValueFactory(indicator=a, community=w.c1),
        PilotValueFactory(indicator=b, community=w.c2),
    )


def _settings(w: Any) -> tuple[Any, Any]:
    a, b = _areas(w)
    return FairnessSettingsFactory(area=a), FairnessSettingsFactory(area=b)


def _snapshots(w: Any) -> tuple[Any, Any]:
    a, b = _areas(w)
    return snapshot_of(a), snapshot_of(b)


CASES = {
    "insights.TierAssessment": (_assessments, SEEN),
    "insights.TierProposal": (_proposals, SEEN),
    "insights.AllocationScenario": (_scenarios, SEEN),
    "insights.PilotBatch": (_batches, SEEN),
    "insights.PilotIndicator": (_indicators, SEEN),
    "insights.PilotValue": (_values, SEEN),
    "insights.FairnessSettings": (_settings, SEEN),
    "insights.DashboardSnapshot": (_snapshots, SEEN),
}
