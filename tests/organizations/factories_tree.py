"""Factories for venues and the area history of communities."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from sanlian.organizations.models import CommunityAreaPeriod, Venue, VenueKind


class VenueFactory(factory.django.DjangoModelFactory):
    """A community's 职工之家 (pass `community=` or `organization=`, never both)."""

    class Meta:
        model = Venue

    community = None
    organization = None
    kind = VenueKind.WORKERS_HOME
    name = factory.Sequence(lambda n: f"职工之家{n}")
    address = "沈阳市和平区中山路1号"
    area = Decimal("120.50")
    capacity = 40
    opening_hours = "周一至周五 8:30-17:00；周六 9:00-12:00"


class CommunityAreaPeriodFactory(factory.django.DjangoModelFactory):
    """A closed period of a community's history (its current one is written on creation)."""

    class Meta:
        model = CommunityAreaPeriod

    community = None
    street = factory.LazyAttribute(lambda o: o.community.street)
    district = factory.LazyAttribute(lambda o: o.community.district)
    valid_from = dt.date(2019, 1, 1)
    valid_to = dt.date(2020, 1, 1)
