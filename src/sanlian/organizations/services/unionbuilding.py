"""Writes about union building in social organisations and Trade Union Law training."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import (
    Organization,
    OrgKind,
    Person,
    TrainingAttendance,
    TrainingSession,
    UnionBuilding,
)


@transaction.atomic
def union_building_record(
    *,
    organization: Organization,
    as_of: date,
    staff_count: int,
    member_count: int,
    union_founded: bool = False,
    founded_on: date | None = None,
    union_name: str = "",
) -> UnionBuilding:
    """A new yearly snapshot of a social organisation's union building (one per year)."""
    if organization.kind != OrgKind.SOCIAL_ORG:
        raise ValidationError({"organization": _("建会入会情况只登记社会组织。")})
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    if UnionBuilding.objects.filter(organization=organization, year=as_of.year).exists():
        raise ValidationError(
            {"as_of": _("该组织%(year)s年已有记录，请编辑该记录。") % {"year": as_of.year}}
        )
    snapshot = UnionBuilding(
        organization=organization,
        as_of=as_of,
        year=as_of.year,
        union_founded=union_founded,
        founded_on=founded_on if union_founded else None,
        union_name=union_name,
        staff_count=staff_count,
        member_count=member_count,
    )
    snapshot.validate_constraints()
    snapshot.save()
    return snapshot


@dataclass(frozen=True)
class TraineeSpec:
    """One line of a session's sign-in sheet: a registered person or a typed name."""

    attendee_name: str = ""
    person: Person | None = None
    attended: bool = True
    test_score: Decimal | None = None


@transaction.atomic
def training_attendance_record(
    *, session: TrainingSession, organization: Organization, trainees: list[TraineeSpec]
) -> list[TrainingAttendance]:
    """Record (or correct) the attendance of one organisation's staff at a session. A staff
    member neither present nor already on the sheet is not added."""
    if organization.kind != OrgKind.SOCIAL_ORG:
        raise ValidationError({"organization": _("参训单位须为社会组织。")})
    TrainingSession.objects.select_for_update().filter(pk=session.pk).first()
    saved = []
    for t in trainees:
        name = t.person.name if t.person is not None else t.attendee_name.strip()
        if not name:
            raise ValidationError(_("请选择人员或填写姓名。"))
        if t.person is not None and t.person.employer_id != organization.pk:
            raise ValidationError(
                _("%(name)s 不是%(org)s的职工。") % {"name": name, "org": organization}
            )
        if t.test_score is not None and not t.attended:
            raise ValidationError(_("%(name)s 未出席，不能登记测试成绩。") % {"name": name})
        if t.test_score is not None and not Decimal(0) <= t.test_score <= Decimal(100):
            raise ValidationError(_("测试成绩须在0至100之间。"))
        lookup: dict[str, Any] = (
            {"person": t.person}
            if t.person is not None
            else {"organization": organization, "attendee_name": name, "person": None}
        )
        row = session.attendance.filter(**lookup).first()
        if row is None:
            if not t.attended:
                continue
            row = TrainingAttendance(session=session, person=t.person, organization=organization)
        row.attendee_name = name
        row.attended = t.attended
        row.test_score = t.test_score
        row.validate_constraints()
        row.save()
        saved.append(row)
    return saved
