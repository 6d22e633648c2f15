"""The resource ledger's writes: who records what for which community, money as exact 元,
volunteer hours valued at the hourly rate, FUNDS rows untouchable, and each community's
monthly volunteer hours recorded once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from sanlian.core.models import AuditAction, AuditEntry
from sanlian.core.roles import Role
from sanlian.organizations.models import HourLogStatus
from sanlian.resources.models import ResourceEntry, ResourceKind
from sanlian.resources.services import ledger as services

from ..conftest import World
from ..factories import PersonFactory, VolunteerFactory
from ..organizations.factories_workforce import VolunteerHourLogFactory
from .factories import (
    ResourceEntryFactory,
    VenueBookingFactory,
    VenueFactory,
    project_in,
)

pytestmark = pytest.mark.django_db


def _record(world: World, role: str = Role.AREA_STAFF, **fields: Any) -> ResourceEntry:
    data: dict[str, Any] = {
        "community": world.c1,
        "kind": ResourceKind.MATERIALS,
        "description": "慰问物资（米、油）",
        "occurred_on": timezone.localdate(),
        "value": Decimal("1200.00"),
        "source_name": "惠民超市",
    }
    data.update(fields)
    return services.resource_entry_create(by=world.users[role], **data)


def _messages(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


# ---- recording ---------------------------------------------------------------------------------


def test_area_staff_record_a_resource_for_a_community_of_their_area(world: World) -> None:
    entry = _record(world)
    assert (entry.community, entry.value, entry.recorded_by) == (
        world.c1,
        Decimal("1200.00"),
        world.users[Role.AREA_STAFF],
    )


def test_funds_cannot_be_entered_by_hand(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        _record(world, kind=ResourceKind.FUNDS)
    assert _messages(exc) == {"kind": ["资金类台账由拨付自动登记，不能手工录入或修改。"]}


def test_a_community_outside_the_area_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        _record(world, Role.COMMUNITY_CADRE, community=world.c2)
    assert _messages(exc) == {"community": ["您无权为该社区登记资源。"]}


def test_a_social_organisation_records_for_a_community_its_project_serves(world: World) -> None:
    project = project_in(world.city, world.c2, world.o1)
    entry = _record(world, Role.SOCIAL_ORG_MANAGER, community=world.c2, project=project)
    assert (entry.community, entry.source_org) == (world.c2, world.o1)


def test_a_social_organisation_without_a_project_there_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        _record(world, Role.SOCIAL_ORG_MANAGER, community=world.c2)
    assert _messages(exc) == {"community": ["您无权为该社区登记资源。"]}


def test_a_social_organisation_cannot_name_another_source(world: World) -> None:
    project_in(world.city, world.c1, world.o1)
    with pytest.raises(ValidationError) as exc:
        _record(world, Role.SOCIAL_ORG_MANAGER, source_org=world.o2)
    assert _messages(exc) == {"source_org": ["社会组织只能登记本机构带来的资源。"]}


def test_a_project_that_does_not_serve_the_community_is_refused(world: World) -> None:
    project = project_in(world.city, world.c2, world.o2)
    with pytest.raises(ValidationError) as exc:
        _record(world, Role.FEDERATION_STAFF, project=project)
    assert _messages(exc) == {"project": ["该服务项目不服务于所选社区。"]}


def test_a_source_is_required(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        _record(world, source_name="")
    assert _messages(exc) == {"source_name": ["请选择来源组织或填写来源说明。"]}


def test_a_future_date_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        _record(world, occurred_on=timezone.localdate() + dt.timedelta(days=1))
    assert _messages(exc) == {"occurred_on": ["日期不能晚于今天。"]}


def test_volunteer_hours_without_a_value_are_valued_at_the_hourly_rate(
    world: World, settings: Any
) -> None:
    settings.VOLUNTEER_HOUR_VALUE = "25"
    entry = _record(
        world,
        kind=ResourceKind.VOLUNTEER_HOURS,
        description="企业志愿者清扫楼道",
        quantity=Decimal("3.5"),
        value=None,
    )
    assert (entry.value, entry.is_estimated, entry.unit) == (Decimal("87.50"), True, "小时")


def test_volunteer_hours_need_the_hours(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        _record(world, kind=ResourceKind.VOLUNTEER_HOURS, value=None)
    assert _messages(exc) == {"quantity": ["请填写志愿服务时长（小时）。"]}


def test_the_source_name_of_monthly_volunteer_summaries_is_reserved(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        _record(world, source_name=services.VOLUNTEER_LOG_SOURCE)
    assert "source_name" in _messages(exc)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "金额不能为负数。"),
        ("12.345", "金额最多保留两位小数（到分）。"),
        ("十元", "请输入有效的金额（数字）。"),
        ("1e15", "金额过大。"),
    ],
)
def test_bad_amounts_are_refused_in_chinese(world: World, value: str, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        _record(world, value=value)
    assert _messages(exc) == {"value": [message]}


def test_a_refused_entry_writes_nothing(world: World) -> None:
    with pytest.raises(ValidationError):
        _record(world, value="-5")
    assert ResourceEntry.objects.count() == 0


def test_trailing_zeros_beyond_the_cents_are_accepted() -> None:
    assert services.check_money("12.300") == Decimal("12.30")


# ---- changing ----------------------------------------------------------------------------------


def test_an_entry_is_corrected(world: World) -> None:
    entry = _record(world)
    fields = {
        "community": world.c1,
        "kind": ResourceKind.MATERIALS,
        "description": "慰问物资（米、油、面）",
        "occurred_on": entry.occurred_on,
        "value": Decimal("1500.00"),
        "source_name": "惠民超市",
    }
    services.resource_entry_update(entry=entry, by=world.users[Role.AREA_STAFF], **fields)
    entry.refresh_from_db()
    assert (entry.description, entry.value) == ("慰问物资（米、油、面）", Decimal("1500.00"))


def test_funds_rows_cannot_be_deleted(world: World) -> None:
    funds = ResourceEntryFactory(community=world.c1, kind=ResourceKind.FUNDS)
    with pytest.raises(ValidationError) as exc:
        services.resource_entry_delete(entry=funds, by=world.users[Role.AREA_STAFF])
    assert exc.value.messages == ["资金类台账由拨付自动登记，不能手工修改或删除。"]


def test_funds_rows_cannot_be_edited(world: World) -> None:
    funds = ResourceEntryFactory(community=world.c1, kind=ResourceKind.FUNDS)
    with pytest.raises(ValidationError):
        services.resource_entry_update(
            entry=funds,
            by=world.users[Role.AREA_STAFF],
            community=world.c1,
            kind=ResourceKind.MATERIALS,
            description="改成物资",
            occurred_on=funds.occurred_on,
            value=Decimal("1"),
            source_name="x",
        )
    funds.refresh_from_db()
    assert funds.kind == ResourceKind.FUNDS


def test_a_bookings_entry_is_not_edited_by_hand(world: World) -> None:
    booking = VenueBookingFactory(venue=VenueFactory(community=world.c1), organization=world.o1)
    entry = ResourceEntryFactory(community=world.c1, kind=ResourceKind.VENUE, booking=booking)
    assert not services.may_edit_entry(world.users[Role.AREA_STAFF], entry)


def test_a_social_organisation_does_not_edit_the_areas_entries(world: World) -> None:
    project_in(world.city, world.c1, world.o1)
    entry = _record(world)
    assert not services.may_edit_entry(world.users[Role.SOCIAL_ORG_MANAGER], entry)


def test_deleting_an_entry_leaves_it_in_the_audit_trail(world: World) -> None:
    entry = _record(world)
    services.resource_entry_delete(entry=entry, by=world.users[Role.AREA_STAFF])
    assert AuditEntry.objects.filter(
        action=AuditAction.DELETE, object_type="resources.ResourceEntry", object_id=str(entry.pk)
    ).exists()


# ---- volunteer hours by month ------------------------------------------------------------------


def _confirmed(volunteer: Any, served_on: dt.date, start: int = 18, end: int = 20) -> Any:
    return VolunteerHourLogFactory(
        volunteer=volunteer,
        served_on=served_on,
        start_time=dt.time(start, 0),
        end_time=dt.time(end, 0),
        status=HourLogStatus.CONFIRMED,
        confirmed_at=timezone.now(),
    )


@pytest.fixture
def last_month() -> dt.date:
    return (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def test_a_month_sums_the_confirmed_logs_of_the_communitys_teams(
    world: World, last_month: dt.date, settings: Any
) -> None:
    settings.VOLUNTEER_HOUR_VALUE = "20"
    volunteer = world.people["volunteer"].volunteer
    _confirmed(volunteer, last_month)
    _confirmed(volunteer, last_month + dt.timedelta(days=3), 9, 12)
    VolunteerHourLogFactory(volunteer=volunteer, served_on=last_month)  # pending
    _confirmed(volunteer, last_month - dt.timedelta(days=1))  # the month before
    far = VolunteerFactory(person=PersonFactory(community=world.c2), team=world.t2)
    _confirmed(far, last_month)  # another community
    result = services.volunteer_hours_record(
        community=world.c1, month=last_month, by=world.users[Role.COMMUNITY_CADRE]
    )
    assert (result.hours, result.logs, result.value) == (Decimal("5.00"), 2, Decimal("100.00"))


def test_recording_a_month_again_refreshes_its_one_entry(world: World, last_month: dt.date) -> None:
    volunteer = world.people["volunteer"].volunteer
    cadre = world.users[Role.COMMUNITY_CADRE]
    _confirmed(volunteer, last_month)
    services.volunteer_hours_record(community=world.c1, month=last_month, by=cadre)
    _confirmed(volunteer, last_month + dt.timedelta(days=1))
    services.volunteer_hours_record(community=world.c1, month=last_month, by=cadre)
    rows = ResourceEntry.objects.filter(kind=ResourceKind.VOLUNTEER_HOURS, community=world.c1)
    assert [r.quantity for r in rows] == [Decimal("4.00")]


def test_a_month_without_confirmed_logs_is_refused(world: World, last_month: dt.date) -> None:
    with pytest.raises(ValidationError) as exc:
        services.volunteer_hours_record(
            community=world.c1, month=last_month, by=world.users[Role.COMMUNITY_CADRE]
        )
    assert _messages(exc) == {"month": ["该社区当月没有已确认的志愿服务时长记录。"]}


def test_a_future_month_is_refused(world: World) -> None:
    next_month = (timezone.localdate().replace(day=28) + dt.timedelta(days=5)).replace(day=1)
    with pytest.raises(ValidationError) as exc:
        services.volunteer_hours_record(
            community=world.c1, month=next_month, by=world.users[Role.COMMUNITY_CADRE]
        )
    assert _messages(exc) == {"month": ["不能汇总未来的月份。"]}


def test_only_area_roles_sum_a_communitys_hours(world: World, last_month: dt.date) -> None:
    project_in(world.city, world.c1, world.o1)
    _confirmed(world.people["volunteer"].volunteer, last_month)
    with pytest.raises(ValidationError):
        services.volunteer_hours_record(
            community=world.c1, month=last_month, by=world.users[Role.SOCIAL_ORG_MANAGER]
        )
    assert not ResourceEntry.objects.filter(kind=ResourceKind.VOLUNTEER_HOURS).exists()


def test_the_monthly_summary_is_not_edited_by_hand(world: World, last_month: dt.date) -> None:
    _confirmed(world.people["volunteer"].volunteer, last_month)
    result = services.volunteer_hours_record(
        community=world.c1, month=last_month, by=world.users[Role.COMMUNITY_CADRE]
    )
    assert result.existing is not None
    assert not services.may_edit_entry(world.users[Role.COMMUNITY_CADRE], result.existing)


# ---- totals ------------------------------------------------------------------------------------


def test_totals_by_kind_add_up_each_kind(world: World) -> None:
    ResourceEntryFactory(community=world.c1, value=Decimal("100.10"))
    ResourceEntryFactory(community=world.c2, value=Decimal("0.20"))
    ResourceEntryFactory(community=world.c1, kind=ResourceKind.IN_KIND, value=Decimal("5"))
    totals = {k: v for k, _label, v in services.totals_by_kind(ResourceEntry.objects.all())}
    assert (totals[ResourceKind.MATERIALS], totals[ResourceKind.IN_KIND]) == (
        Decimal("100.30"),
        Decimal("5.00"),
    )
