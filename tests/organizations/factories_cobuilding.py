"""Factories for co-building agreements, joint meetings, follow-up items, union building and
Trade Union Law training."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import factory

from sanlian.organizations.models import (
    AgreementParty,
    AgreementStatus,
    CoBuildingAgreement,
    FollowUpItem,
    JointMeeting,
    MeetingAttendance,
    TrainingAttendance,
    TrainingSession,
    TrainingTopic,
    UnionBuilding,
)
from sanlian.organizations.models.cobuilding import party_role_for

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


class CoBuildingAgreementFactory(factory.django.DjangoModelFactory):
    """An agreement in force for two years from 2026-01-01 (signatories added separately)."""

    class Meta:
        model = CoBuildingAgreement

    community = None
    title = factory.Sequence(lambda n: f"联建协议{n}")
    document_number = factory.Sequence(lambda n: f"LJ-2026-{n:03d}")
    signed_on = dt.date(2025, 12, 20)
    valid_from = dt.date(2026, 1, 1)
    valid_to = dt.date(2027, 12, 31)
    status = AgreementStatus.ACTIVE
    commitments = "每季度召开一次联席会议。"


class AgreementPartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgreementParty

    agreement = None
    organization = None
    role = factory.LazyAttribute(lambda o: party_role_for(o.organization.kind))
    signatory_name = factory.Sequence(lambda n: f"签署人{n}")


def agreement_with_parties(community: Any, *organizations: Any, **kwargs: Any) -> Any:
    agreement = CoBuildingAgreementFactory(community=community, **kwargs)
    for org in organizations:
        AgreementPartyFactory(agreement=agreement, organization=org)
    return agreement


class JointMeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JointMeeting

    community = factory.LazyAttribute(lambda o: o.agreement.community if o.agreement else None)
    agreement = None
    title = factory.Sequence(lambda n: f"第{n}次联席会议")
    held_on = at(dt.date(2026, 3, 10))
    place = "社区党群服务中心"
    chair = "李志强"
    minutes = "会议听取了各方工作汇报。"
    decisions = "开展职工需求调查。"


class MeetingAttendanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MeetingAttendance

    meeting = None
    organization = None
    attendee_name = factory.Sequence(lambda n: f"参会人{n}")
    present = True


class FollowUpItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUpItem

    meeting = None
    description = factory.Sequence(lambda n: f"督办事项{n}")
    owner_organization = None
    owner_name = "王秀英"
    due_on = dt.date(2026, 4, 30)


class UnionBuildingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UnionBuilding

    organization = None
    as_of = dt.date(2026, 6, 30)
    union_founded = False
    staff_count = 20
    member_count = 10


class TrainingSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingSession

    topic = TrainingTopic.TRADE_UNION_LAW
    title = factory.Sequence(lambda n: f"《工会法》培训第{n}期")
    held_on = dt.date(2026, 5, 20)
    place = "区职工服务中心"
    trainer = "刘律师"
    organiser = None


class TrainingAttendanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingAttendance

    session = None
    person = None
    attendee_name = factory.LazyAttributeSequence(
        lambda o, n: o.person.name if o.person is not None else f"学员{n}"
    )
    organization = factory.LazyAttribute(
        lambda o: o.person.employer if o.person is not None else None
    )
    attended = True
    test_score: Decimal | None = None
