"""Factories of the insights models."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import factory

from sanlian.insights.models import (
    AllocationScenario,
    FairnessSettings,
    PilotBatch,
    PilotIndicator,
    PilotValue,
    TierAssessment,
    TierProposal,
)

from ..factories import UserFactory


class TierAssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TierAssessment

    area: Any = None  # required
    title = "年度社区分类评估"
    star_share = Decimal("0.15")
    weak_share = Decimal("0.25")
    star_from = Decimal("0.7")
    weak_below = Decimal("0.3")
    created_by = factory.SubFactory(UserFactory)


class TierProposalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TierProposal

    assessment: Any = None  # required
    community: Any = None  # required
    score = Decimal("0.5")
    rank = 1
    tier_before = "ordinary"
    proposed_tier = "ordinary"


class AllocationScenarioFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AllocationScenario

    area: Any = None  # required
    call: Any = None  # required
    name = "方案一"
    budget = Decimal("1000000.00")
    created_by = factory.SubFactory(UserFactory)


class PilotBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PilotBatch

    area: Any = None  # required
    name = "第一批试点"
    starts_on = dt.date(2025, 1, 1)
    created_by = factory.SubFactory(UserFactory)


class PilotIndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PilotIndicator

    batch: Any = None  # required
    name = factory.Sequence(lambda n: f"指标{n}")


class PilotValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PilotValue

    indicator: Any = None  # required
    community: Any = None  # required
    period = "baseline"
    value = Decimal("10")
    recorded_by = factory.SubFactory(UserFactory)


class FairnessSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FairnessSettings

    area: Any = None  # required


def snapshot_of(area: Any, **kwargs: Any) -> Any:
    """The dashboard snapshot of `area`, computed as the refresh task does."""
    from sanlian.insights.services import snapshots

    return snapshots.store(area, **kwargs)
