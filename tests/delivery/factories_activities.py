"""Factories of community activities. An activity needs its community and organiser (and a
creator); by default it is published for tomorrow evening (19:00–21:00), with 30 seats."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.utils import timezone

from sanlian.delivery.models import Activity, ActivityStatus, Registration, VolunteerShift

from ..factories import UserFactory


def tomorrow() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=1)


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    title = factory.Sequence(lambda n: f"邻里节活动{n}")
    community: Any = None  # required
    organizer: Any = None  # required
    date = factory.LazyFunction(tomorrow)
    start_time = dt.time(19, 0)
    end_time = dt.time(21, 0)
    place = "社区广场"
    capacity = 30
    status = ActivityStatus.PUBLISHED
    created_by = factory.SubFactory(UserFactory)


class RegistrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Registration

    activity: Any = None  # required
    name = factory.Sequence(lambda n: f"李{n}")
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    companions = 0


class VolunteerShiftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VolunteerShift

    activity: Any = None  # required
    volunteer: Any = None  # required
    start_time = dt.time(18, 30)
    end_time = dt.time(21, 30)
    task = "签到引导"


def activity_in(w: Any, **kwargs: Any) -> Activity:
    """An activity of K1 organised by the community union (a cadre's own organisation)."""
    kwargs.setdefault("community", w.c1)
    kwargs.setdefault("organizer", w.c1.organization)
    return ActivityFactory(**kwargs)
