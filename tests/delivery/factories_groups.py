"""Factories of group work. `GroupFactory` needs a `leader` (a SocialWorker, e.g.
`worker_in(org, community)`) and a `community`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import factory

from sanlian.delivery.models import (
    Group,
    GroupAttendance,
    GroupAttendanceStatus,
    GroupKind,
    GroupMember,
    GroupMemberStatus,
    GroupPhase,
    GroupSession,
)
from sanlian.organizations.models import Community, Organization, SocialWorker

from ..factories import PersonFactory, SocialWorkerFactory


def worker_in(org: Organization, community: Community) -> SocialWorker:
    """A social worker of `org` (living in `community`)."""
    person = PersonFactory(community=community, employer=org)
    return SocialWorkerFactory(person=person, organization=org)  # type: ignore[no-any-return]


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    name = factory.Sequence(lambda n: f"照顾者支持小组{n}")
    kind = GroupKind.SUPPORT
    goals = "减轻照顾压力，建立互助网络。"
    target_members = "照顾失能老人的家属"
    planned_sessions = 6
    leader: Any = None  # required
    community: Any = None  # required
    scale_name = "照顾者负担量表"
    scale_min = Decimal("0")
    scale_max = Decimal("100")
    higher_is_better = False
    phase = GroupPhase.PREPARATION


class GroupMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GroupMember

    group: Any = None  # required
    person = factory.LazyAttribute(lambda o: PersonFactory(community=o.group.community))
    status = GroupMemberStatus.ENROLLED
    consent = True


class GroupSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GroupSession

    group: Any = None  # required
    number = factory.Sequence(lambda n: n + 1)
    held_on = dt.date(2026, 3, 7)  # a Saturday
    starts_at = dt.time(9, 0)
    ends_at = dt.time(11, 0)
    theme = "相互认识"


class GroupAttendanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GroupAttendance

    session: Any = None  # required
    member: Any = None  # required
    status = GroupAttendanceStatus.PRESENT
