"""Venue bookings: who may book which venue, the time rules (future, ends after it starts, within
the opening hours, no more people than the room holds), no double booking on either database
(and under concurrency on PostgreSQL), cancelling, the venue's ledger entry, utilisation."""

from __future__ import annotations

import datetime as dt
import os
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from sanlian.core.models import User
from sanlian.core.roles import Role
from sanlian.organizations.models import Venue
from sanlian.resources.models import BookingStatus, ResourceEntry, ResourceKind, VenueBooking
from sanlian.resources.services import ledger as services

from ..conftest import World, build_world
from ..factories import UserFactory
from ..organizations.factories_workforce import volunteer_with_account
from .factories import VenueBookingFactory, VenueFactory, project_in

pytestmark = pytest.mark.django_db

POSTGRES = "postgres" in os.environ.get("DATABASE_URL", "")


def _day(days: int = 3, weekday: int | None = None) -> dt.date:
    """A day `days` ahead, moved on to the given weekday (0 = Monday) if one is given."""
    day = timezone.localdate() + dt.timedelta(days=days)
    while weekday is not None and day.weekday() != weekday:
        day += dt.timedelta(days=1)
    return day


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


@pytest.fixture
def venue(world: World) -> Venue:
    return VenueFactory(community=world.c1, name="凯旋职工之家", capacity=30, opening_hours="")


def _book(
    user: User, venue: Venue, start: dt.datetime, hours: float = 2, **fields: Any
) -> VenueBooking:
    data: dict[str, Any] = {"purpose": "group_session", "title": "互助小组"}
    data.update(fields)
    return services.booking_create(
        by=user,
        venue=venue,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=hours),
        **data,
    )


def _manager(world: World) -> User:
    return world.users[Role.SOCIAL_ORG_MANAGER]


# ---- booking -----------------------------------------------------------------------------------


def test_a_social_organisation_books_a_shared_venue_of_its_community(
    world: World, venue: Venue
) -> None:
    booking = _book(_manager(world), venue, _at(_day(), 9))
    assert (booking.status, booking.organization) == (BookingStatus.CONFIRMED, world.o1)


def test_an_overlapping_booking_is_refused_naming_the_one_it_clashes_with(
    world: World, venue: Venue
) -> None:
    day = _day()
    _book(world.users[Role.COMMUNITY_CADRE], venue, _at(day, 9), title="社区联席会议")
    with pytest.raises(ValidationError) as exc:
        _book(_manager(world), venue, _at(day, 10))
    assert exc.value.message_dict == {
        "starts_at": [
            f"该时段已被预约：社区联席会议（凯旋社区联合工会，{day:%Y-%m-%d} 09:00–11:00），请另选时间。"
        ]
    }


def test_touching_bookings_are_allowed(world: World, venue: Venue) -> None:
    day = _day()
    _book(_manager(world), venue, _at(day, 9))
    _book(_manager(world), venue, _at(day, 11))
    assert VenueBooking.objects.confirmed().filter(venue=venue).count() == 2


def test_a_cancelled_booking_does_not_block_its_time(world: World, venue: Venue) -> None:
    first = _book(_manager(world), venue, _at(_day(), 9))
    services.booking_cancel(booking=first, by=_manager(world), reason="改期")
    second = _book(_manager(world), venue, _at(_day(), 9))
    assert second.status == BookingStatus.CONFIRMED


def test_another_venue_at_the_same_time_is_free(world: World, venue: Venue) -> None:
    other = VenueFactory(community=world.c1, name="凯旋职工服务站")
    _book(_manager(world), venue, _at(_day(), 9))
    assert _book(_manager(world), other, _at(_day(), 9)).venue == other


def test_a_time_in_the_past_is_refused(world: World, venue: Venue) -> None:
    with pytest.raises(ValidationError) as exc:
        _book(_manager(world), venue, timezone.now() - dt.timedelta(hours=1))
    assert exc.value.message_dict == {"starts_at": ["不能预约已经过去的时间。"]}


def test_an_end_before_the_start_is_refused(world: World, venue: Venue) -> None:
    with pytest.raises(ValidationError) as exc:
        _book(_manager(world), venue, _at(_day(), 9), hours=-1)
    assert exc.value.message_dict == {"ends_at": ["结束时间须晚于开始时间。"]}


def test_more_people_than_the_venue_holds_are_refused(world: World, venue: Venue) -> None:
    with pytest.raises(ValidationError) as exc:
        _book(_manager(world), venue, _at(_day(), 9), attendees=31)
    assert exc.value.message_dict == {"attendees": ["预计人数超过场地容纳人数（30人）。"]}


def test_a_time_outside_the_opening_hours_is_refused(world: World, venue: Venue) -> None:
    venue.opening_hours = "周一至周五 9:00-17:00"
    venue.save()
    with pytest.raises(ValidationError) as exc:
        _book(_manager(world), venue, _at(_day(weekday=5), 10))
    assert exc.value.message_dict == {"starts_at": ["超出场地开放时间（周一至周五 9:00-17:00）。"]}


def test_a_time_within_the_opening_hours_is_accepted(world: World, venue: Venue) -> None:
    venue.opening_hours = "周一至周五 9:00-17:00；周六 9:00-12:00"
    venue.save()
    booking = _book(_manager(world), venue, _at(_day(weekday=5), 9), hours=3)
    assert booking.pk is not None


def test_someone_elses_venue_that_is_not_shared_is_refused(world: World) -> None:
    private = VenueFactory(community=world.c1, is_shared=False)
    with pytest.raises(ValidationError) as exc:
        _book(_manager(world), private, _at(_day(), 9))
    assert exc.value.message_dict == {"venue": ["该场地不对外开放预约。"]}


def test_the_owner_books_its_own_venue_that_is_not_shared(world: World) -> None:
    private = VenueFactory(community=world.c1, is_shared=False)
    booking = _book(world.users[Role.COMMUNITY_CADRE], private, _at(_day(), 9))
    assert booking.organization == world.c1.organization


def test_a_venue_no_longer_in_use_is_refused(world: World, venue: Venue) -> None:
    venue.is_active = False
    venue.save()
    with pytest.raises(ValidationError) as exc:
        _book(_manager(world), venue, _at(_day(), 9))
    assert exc.value.message_dict == {"venue": ["该场地已停用，不能预约。"]}


def test_a_volunteer_who_does_not_coordinate_the_team_cannot_book(
    world: World, venue: Venue
) -> None:
    with pytest.raises(ValidationError) as exc:
        _book(world.users[Role.VOLUNTEER], venue, _at(_day(), 9))
    assert exc.value.messages == ["您的账号无权预约场地。"]


def test_a_teams_coordinator_books_for_the_team(world: World, venue: Venue) -> None:
    coordinator = volunteer_with_account(world.t1, coordinator=True)
    booking = _book(coordinator.person.user, venue, _at(_day(), 9))
    assert booking.organization == world.t1


def test_a_project_of_another_organisation_is_refused(world: World, venue: Venue) -> None:
    project = project_in(world.city, world.c2, world.o2)
    with pytest.raises(ValidationError) as exc:
        _book(_manager(world), venue, _at(_day(), 9), project=project)
    assert exc.value.message_dict == {"project": ["只能选择您可见的、执行中的服务项目。"]}


# ---- cancelling --------------------------------------------------------------------------------


def test_the_booking_organisation_cancels_with_a_reason(world: World, venue: Venue) -> None:
    booking = _book(_manager(world), venue, _at(_day(), 9))
    services.booking_cancel(booking=booking, by=world.users[Role.SOCIAL_WORKER], reason="改期")
    booking.refresh_from_db()
    assert (booking.status, booking.cancelled_reason) == (BookingStatus.CANCELLED, "改期")


def test_cancelling_needs_a_reason(world: World, venue: Venue) -> None:
    booking = _book(_manager(world), venue, _at(_day(), 9))
    with pytest.raises(ValidationError) as exc:
        services.booking_cancel(booking=booking, by=_manager(world), reason=" ")
    assert exc.value.message_dict == {"reason": ["请填写取消原因。"]}


def test_the_venues_owner_cancels_anothers_booking(world: World, venue: Venue) -> None:
    booking = _book(_manager(world), venue, _at(_day(), 9))
    services.booking_cancel(
        booking=booking, by=world.users[Role.COMMUNITY_CADRE], reason="场地维修"
    )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED


def test_a_stranger_cannot_cancel(world: World, venue: Venue) -> None:
    booking = _book(_manager(world), venue, _at(_day(), 9))
    district = world.users[Role.AREA_STAFF]
    with pytest.raises(ValidationError) as exc:
        services.booking_cancel(booking=booking, by=district, reason="不需要了")
    assert exc.value.messages == ["只有预约组织或场地所属单位可以取消该预约。"]


def test_a_cancelled_booking_is_not_cancelled_twice(world: World, venue: Venue) -> None:
    booking = _book(_manager(world), venue, _at(_day(), 9))
    services.booking_cancel(booking=booking, by=_manager(world), reason="改期")
    with pytest.raises(ValidationError) as exc:
        services.booking_cancel(booking=booking, by=_manager(world), reason="再次取消")
    assert exc.value.messages == ["当前状态为“已取消”，不能执行“取消预约”（仅限已预约状态）。"]


def test_a_booking_that_has_begun_is_not_cancelled(world: World, venue: Venue) -> None:
    booking = VenueBookingFactory(
        venue=venue,
        organization=world.o1,
        starts_at=timezone.now() - dt.timedelta(minutes=30),
        ends_at=timezone.now() + dt.timedelta(minutes=30),
    )
    with pytest.raises(ValidationError) as exc:
        services.booking_cancel(booking=booking, by=_manager(world), reason="改期")
    assert exc.value.messages == ["预约已开始或已结束，不能取消。"]


# ---- the venue's ledger entry ------------------------------------------------------------------


def test_a_booking_for_a_project_of_the_community_enters_the_venues_time(
    world: World, venue: Venue, settings: Any
) -> None:
    settings.VENUE_HOUR_VALUE = "60"
    project = project_in(world.city, world.c1, world.o1)
    booking = _book(_manager(world), venue, _at(_day(), 9), hours=2.5, project=project)
    entry = ResourceEntry.objects.get(booking=booking)
    assert (entry.kind, entry.community, entry.project, entry.value, entry.source_org) == (
        ResourceKind.VENUE,
        world.c1,
        project,
        Decimal("150.00"),
        world.c1.organization,
    )


def test_a_booking_without_a_project_enters_nothing(world: World, venue: Venue) -> None:
    _book(_manager(world), venue, _at(_day(), 9))
    assert not ResourceEntry.objects.exists()


def test_cancelling_removes_the_venues_entry(world: World, venue: Venue) -> None:
    project = project_in(world.city, world.c1, world.o1)
    booking = _book(_manager(world), venue, _at(_day(), 9), project=project)
    services.booking_cancel(booking=booking, by=_manager(world), reason="改期")
    assert not ResourceEntry.objects.filter(kind=ResourceKind.VENUE).exists()


# ---- opening hours and utilisation -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("周一至周五 8:30-17:00；周六 9:00-12:00", Decimal("45.50")),
        ("周一至周五 9:00-17:00", Decimal("40.00")),
        ("周一至周日 8:00-20:00", Decimal("84.00")),
        ("周二至周六 9:00-18:00；周日 9:00-12:00", Decimal("48.00")),
        ("工作日 17:30-21:00；周末 9:00-17:00", Decimal("33.50")),
        ("周一、周三 8:30-11:30、14:00-17:00", Decimal("12.00")),
        ("每天 0:00-24:00", Decimal("168.00")),
    ],
)
def test_opening_hours_are_read(text: str, hours: Decimal) -> None:
    parsed = services.parse_opening_hours(text)
    assert parsed is not None and services.weekly_open_hours(parsed) == hours


@pytest.mark.parametrize("text", ["", "预约制", "周一至周五 上午", "周八 9:00-10:00", "9:00-25:00"])
def test_opening_hours_that_cannot_be_read_are_none(text: str) -> None:
    assert services.parse_opening_hours(text) is None


def test_utilisation_is_the_booked_share_of_the_weeks_opening_hours(
    world: World, venue: Venue
) -> None:
    venue.opening_hours = "周一至周五 9:00-17:00"
    venue.save()
    monday = _day(7, weekday=0)
    _book(_manager(world), venue, _at(monday, 9), hours=3)
    _book(_manager(world), venue, _at(monday + dt.timedelta(days=2), 14), hours=1)
    used = services.venue_utilisation(venue, monday)
    assert (used.booked_hours, used.open_hours, used.percent) == (
        Decimal("4.00"),
        Decimal("40.00"),
        Decimal("10.0"),
    )


# ---- PostgreSQL: the exclusion constraint ------------------------------------------------------


@pytest.mark.skipif(not POSTGRES, reason="the exclusion constraint is PostgreSQL's")
def test_the_database_refuses_overlapping_rows_whoever_writes_them(
    world: World, venue: Venue
) -> None:
    start = _at(_day(), 9)
    VenueBookingFactory(venue=venue, organization=world.o1, starts_at=start)
    with pytest.raises(IntegrityError, match=services.OVERLAP_CONSTRAINT), transaction.atomic():
        VenueBookingFactory(
            venue=venue, organization=world.o2, starts_at=start + dt.timedelta(hours=1)
        )


@pytest.mark.skipif(not POSTGRES, reason="the exclusion constraint is PostgreSQL's")
def test_a_booking_that_loses_the_race_is_told_which_one_won(
    world: World, venue: Venue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check before the insert saw nothing (the other booking was not committed yet): the
    constraint refuses the row and the message names the winner."""
    start = _at(_day(), 9)
    winner = VenueBookingFactory(
        venue=venue, organization=world.o2, starts_at=start, title="先到的预约"
    )
    real = services._clash
    calls: list[int] = []

    def blind_first(*args: Any) -> Any:
        calls.append(1)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(services, "_clash", blind_first)
    with pytest.raises(ValidationError) as exc:
        _book(_manager(world), venue, start)
    assert winner.title in exc.value.message_dict["starts_at"][0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not POSTGRES, reason="concurrent writers need PostgreSQL")
def test_ten_simultaneous_bookings_of_one_slot_leave_exactly_one() -> None:
    world = build_world()
    venue = VenueFactory(community=world.c1, capacity=None, opening_hours="")
    bookers = [
        UserFactory(organization=world.o1, roles=[Role.SOCIAL_ORG_MANAGER]) for _ in range(10)
    ]
    start = _at(_day(), 14)
    barrier = threading.Barrier(len(bookers))
    outcomes: list[str] = []

    def book(user: User) -> None:
        barrier.wait()
        try:
            _book(user, venue, start)
            outcomes.append("ok")
        except ValidationError as exc:
            outcomes.append(exc.error_dict["starts_at"][0].code or "refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(u,)) for u in bookers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (sorted(outcomes), VenueBooking.objects.confirmed().count()) == (
        ["ok"] + ["overlap"] * 9,
        1,
    )
