"""JSON API of the ledger and bookings: scoped reads, ids in bodies looked up in scope, the
pages' Chinese messages for bad input."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from sanlian.core.roles import Role
from sanlian.organizations.models import HourLogStatus, Venue
from sanlian.resources.models import BookingStatus, ResourceEntry, ResourceKind, VenueBooking

from ..conftest import World
from ..organizations.factories_workforce import VolunteerHourLogFactory
from .factories import ResourceEntryFactory, VenueBookingFactory, VenueFactory

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body, default=str), content_type="application/json")


def _entry_body(world: World, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "community_id": world.c1.pk,
        "kind": "materials",
        "description": "慰问物资",
        "occurred_on": timezone.localdate().isoformat(),
        "value": "2000.50",
        "source_name": "惠民超市",
    }
    body.update(fields)
    return body


def _start(days: int = 3, hour: int = 9) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@pytest.fixture
def venue(world: World) -> Venue:
    return VenueFactory(community=world.c1, capacity=30, opening_hours="周一至周日 8:00-20:00")


def test_schema_lists_the_endpoints(client: Client) -> None:
    paths = set(client.get("/api/openapi.json").json()["paths"])
    assert {
        "/api/resource-entries",
        "/api/resource-entries/summary",
        "/api/resource-entries/volunteer-hours",
        "/api/venue-bookings",
        "/api/venue-bookings/{booking_id}/cancel",
        "/api/venues/{venue_id}/availability",
    } <= paths


# ---- entries -----------------------------------------------------------------------------------


def test_the_entry_list_is_scoped(world: World) -> None:
    near = ResourceEntryFactory(community=world.c1)
    ResourceEntryFactory(community=world.c2)
    items = world.client(Role.COMMUNITY_CADRE).get("/api/resource-entries").json()["items"]
    assert [e["id"] for e in items] == [near.pk]


def test_the_entry_list_filters_by_kind(world: World) -> None:
    ResourceEntryFactory(community=world.c1)
    gift = ResourceEntryFactory(community=world.c1, kind=ResourceKind.IN_KIND)
    items = (
        world.client(Role.COMMUNITY_CADRE)
        .get("/api/resource-entries", {"kind": "in_kind"})
        .json()["items"]
    )
    assert [e["id"] for e in items] == [gift.pk]


def test_an_entry_is_created(world: World) -> None:
    response = _post(
        world.client(Role.COMMUNITY_CADRE), "/api/resource-entries", _entry_body(world)
    )
    assert (response.status_code, response.json()["value"]) == (201, "2000.50")


def test_funds_cannot_be_created(world: World) -> None:
    response = _post(
        world.client(Role.COMMUNITY_CADRE),
        "/api/resource-entries",
        _entry_body(world, kind="funds"),
    )
    assert response.json()["detail"] == {"kind": ["资金类台账由拨付自动登记，不能手工录入或修改。"]}


def test_an_amount_with_three_decimals_is_refused(world: World) -> None:
    response = _post(
        world.client(Role.COMMUNITY_CADRE), "/api/resource-entries", _entry_body(world, value=1.005)
    )
    assert (response.status_code, response.json()["detail"]) == (
        400,
        {"value": ["金额最多保留两位小数（到分）。"]},
    )


def test_a_community_outside_scope_is_404(world: World) -> None:
    response = _post(
        world.client(Role.COMMUNITY_CADRE),
        "/api/resource-entries",
        _entry_body(world, community_id=world.c2.pk),
    )
    assert (response.status_code, ResourceEntry.objects.count()) == (404, 0)


def test_a_volunteer_cannot_record(world: World) -> None:
    response = _post(world.client(Role.VOLUNTEER), "/api/resource-entries", _entry_body(world))
    assert response.status_code == 403


def test_a_funds_entry_is_not_deleted(world: World) -> None:
    funds = ResourceEntryFactory(community=world.c1, kind=ResourceKind.FUNDS)
    response = world.client(Role.COMMUNITY_CADRE).delete(f"/api/resource-entries/{funds.pk}")
    assert (response.status_code, ResourceEntry.objects.count()) == (400, 1)


def test_the_summary_gives_the_weak_communities_share(world: World) -> None:
    year = timezone.localdate().year
    ResourceEntryFactory(community=world.c1, value=Decimal("300"), occurred_on=dt.date(year, 1, 2))
    ResourceEntryFactory(community=world.c2, value=Decimal("100"), occurred_on=dt.date(year, 1, 2))
    body = world.client(Role.FEDERATION_STAFF).get("/api/resource-entries/summary").json()
    assert (body["total"], body["weak_share"]) == ("400.00", "25.0")


def test_the_summary_is_for_federation_and_area_staff(world: World) -> None:
    response = world.client(Role.SOCIAL_ORG_MANAGER).get("/api/resource-entries/summary")
    assert response.status_code == 403


def test_a_month_of_volunteer_hours_is_recorded(world: World) -> None:
    month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    VolunteerHourLogFactory(
        volunteer=world.people["volunteer"].volunteer,
        served_on=month,
        status=HourLogStatus.CONFIRMED,
        confirmed_at=timezone.now(),
    )
    response = _post(
        world.client(Role.COMMUNITY_CADRE),
        "/api/resource-entries/volunteer-hours",
        {"community_id": world.c1.pk, "month": month.strftime("%Y-%m")},
    )
    assert (response.json()["hours"], response.json()["logs"]) == ("2.00", 1)


# ---- bookings ----------------------------------------------------------------------------------


def _booking_body(venue: Venue, start: dt.datetime, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "venue_id": venue.pk,
        "title": "互助小组",
        "purpose": "group_session",
        "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
        "attendees": 10,
    }
    body.update(fields)
    return body


def test_a_venue_is_booked(world: World, venue: Venue) -> None:
    response = _post(
        world.client(Role.SOCIAL_ORG_MANAGER), "/api/venue-bookings", _booking_body(venue, _start())
    )
    assert (response.status_code, response.json()["organization_id"]) == (201, world.o1.pk)


def test_a_clash_is_refused_with_the_message(world: World, venue: Venue) -> None:
    VenueBookingFactory(
        venue=venue, organization=world.o1, starts_at=_start(), title="社区联席会议"
    )
    response = _post(
        world.client(Role.SOCIAL_ORG_MANAGER),
        "/api/venue-bookings",
        _booking_body(venue, _start() + dt.timedelta(minutes=30)),
    )
    assert "该时段已被预约：社区联席会议" in response.json()["detail"]["starts_at"][0]


def test_a_venue_outside_scope_is_404_for_booking(world: World) -> None:
    far = VenueFactory(community=world.c2)
    response = _post(
        world.client(Role.SOCIAL_ORG_MANAGER), "/api/venue-bookings", _booking_body(far, _start())
    )
    assert response.status_code == 404


def test_the_booking_list_is_scoped(world: World, venue: Venue) -> None:
    near = VenueBookingFactory(venue=venue, organization=world.o1, starts_at=_start())
    VenueBookingFactory(
        venue=VenueFactory(community=world.c2), organization=world.o2, starts_at=_start()
    )
    items = world.client(Role.VOLUNTEER).get("/api/venue-bookings").json()["items"]
    assert [b["id"] for b in items] == [near.pk]


def test_a_booking_is_cancelled(world: World, venue: Venue) -> None:
    booking = VenueBookingFactory(venue=venue, organization=world.o1, starts_at=_start())
    response = _post(
        world.client(Role.SOCIAL_WORKER),
        f"/api/venue-bookings/{booking.pk}/cancel",
        {"reason": "改期"},
    )
    assert response.json()["status"] == BookingStatus.CANCELLED


def test_a_stranger_cannot_cancel_through_the_api(world: World, venue: Venue) -> None:
    booking = VenueBookingFactory(venue=venue, organization=world.o1, starts_at=_start())
    response = _post(
        world.client(Role.AREA_STAFF), f"/api/venue-bookings/{booking.pk}/cancel", {"reason": "x"}
    )
    assert (response.status_code, VenueBooking.objects.confirmed().count()) == (403, 1)


def test_availability_lists_opening_hours_and_busy_times(world: World, venue: Venue) -> None:
    booking = VenueBookingFactory(venue=venue, organization=world.o1, starts_at=_start(hour=10))
    day = timezone.localdate(booking.starts_at)
    body = (
        world.client(Role.SOCIAL_ORG_MANAGER)
        .get(
            f"/api/venues/{venue.pk}/availability",
            {"date_from": day.isoformat(), "date_to": day.isoformat()},
        )
        .json()
    )
    assert (
        body["opening"][0]["opens"],
        [b["booking_id"] for b in body["busy"]],
        body["booked_hours"],
    ) == (
        ["08:00-20:00"],
        [booking.pk],
        "2.00",
    )
