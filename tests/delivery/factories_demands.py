"""Factories of residents' demands (诉求)."""

from __future__ import annotations

from typing import Any

import factory
from django.utils import timezone

from sanlian.delivery.models import (
    Demand,
    DemandCategory,
    DemandChannel,
    DemandEvent,
    DemandEventKind,
    RoutingCorrection,
    RoutingRule,
)
from sanlian.delivery.services.demands import deadlines


class DemandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Demand

    community: Any = None  # required
    category = DemandCategory.PROPERTY
    channel = DemandChannel.PHONE
    description = "楼道灯坏了一个月没人修"
    resident_name = factory.Sequence(lambda n: f"李{n}")
    resident_phone = factory.Sequence(lambda n: f"138{n:08d}")
    received_at = factory.LazyFunction(timezone.now)
    accept_due = factory.LazyAttribute(
        lambda o: deadlines(o.category, timezone.localtime(o.received_at).date())[0]
    )
    resolve_due = factory.LazyAttribute(
        lambda o: deadlines(o.category, timezone.localtime(o.received_at).date())[1]
    )


class DemandEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DemandEvent

    demand = factory.SubFactory(DemandFactory)
    kind = DemandEventKind.NOTE
    actor_name = "测试"
    note = "已电话联系居民"


class RoutingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingRule

    owner: Any = None  # required: an area node
    category = DemandCategory.PROPERTY
    organization: Any = None  # required


class RoutingCorrectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingCorrection

    demand: Any = None  # required
    category = factory.LazyAttribute(lambda o: o.demand.category)
    community = factory.LazyAttribute(lambda o: o.demand.community)
    street = factory.LazyAttribute(lambda o: o.demand.community.street)
    to_org: Any = None  # required
    reason = "该事项由物业公司负责"
