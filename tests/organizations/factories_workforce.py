"""Factories for volunteer hour logs, and a team coordinator with an account."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from sanlian.core.models import User
from sanlian.core.roles import Role
from sanlian.organizations.models import Organization, Volunteer, VolunteerHourLog

from ..factories import PersonFactory, UserFactory, VolunteerFactory


class VolunteerHourLogFactory(factory.django.DjangoModelFactory):
    """A pending two-hour evening entry from two days ago."""

    class Meta:
        model = VolunteerHourLog

    volunteer = None
    served_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=2))
    start_time = dt.time(18, 0)
    end_time = dt.time(20, 0)
    activity = "独居老人探访"
    place = "社区服务站"


def volunteer_with_account(team: Organization, *, coordinator: bool = False) -> Volunteer:
    """A volunteer of `team` who can sign in (role 志愿者), optionally its coordinator."""
    user: User = UserFactory(organization=team, roles=[Role.VOLUNTEER])
    person = PersonFactory(community=team.parent.community, user=user)  # type: ignore[union-attr]
    volunteer: Volunteer = VolunteerFactory(person=person, team=team, is_coordinator=coordinator)
    return volunteer
