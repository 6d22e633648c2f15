"""Pages of venue bookings: the list of bookable venues and bookings, a venue's week with the
booking form, cancelling, and the use shown on the venue's own page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from sanlian.core.roles import Role
from sanlian.organizations.models import Venue
from sanlian.resources.models import BookingStatus, VenueBooking

from ..conftest import World
from .factories import VenueBookingFactory, VenueFactory

pytestmark = pytest.mark.django_db


def _start(days: int = 3, hour: int = 9) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@pytest.fixture
def venue(world: World) -> Venue:
    return VenueFactory(community=world.c1, name="凯旋职工之家", capacity=30, opening_hours="")


def _booking(world: World, venue: Venue, **fields: object) -> VenueBooking:
    start = fields.pop("starts_at", _start())
    assert isinstance(start, dt.datetime)
    return VenueBookingFactory(
        venue=venue,
        organization=world.o1,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        booked_by=world.users[Role.SOCIAL_ORG_MANAGER],
        **fields,
    )


def _week_url(venue: Venue) -> str:
    return reverse("resources:venue_bookings", args=[venue.pk])


def _form(start: dt.datetime, hours: int = 2) -> dict[str, str]:
    local = timezone.localtime(start)
    return {
        "title": "互助小组",
        "purpose": "group_session",
        "starts_at": local.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (local + dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M"),
        "attendees": "12",
    }


def test_the_list_offers_the_bookable_venues(world: World, venue: Venue) -> None:
    VenueFactory(community=world.c2, name="丽都职工之家")
    response = world.client(Role.SOCIAL_ORG_MANAGER).get(reverse("resources:booking_list"))
    assert [v.name for v in response.context["venues"]] == ["凯旋职工之家"]


def test_the_list_shows_coming_bookings_in_scope(world: World, venue: Venue) -> None:
    coming = _booking(world, venue)
    VenueBookingFactory(
        venue=VenueFactory(community=world.c2), organization=world.o2, starts_at=_start()
    )
    response = world.client(Role.COMMUNITY_CADRE).get(reverse("resources:booking_list"))
    assert [b.pk for b in response.context["page"]] == [coming.pk]


def test_the_week_shows_the_bookings_of_each_day(world: World, venue: Venue) -> None:
    booking = _booking(world, venue)
    day = timezone.localdate(booking.starts_at)
    response = world.client(Role.COMMUNITY_CADRE).get(_week_url(venue), {"week": day.isoformat()})
    days = {d.date: d.bookings for d in response.context["days"]}
    assert days[day] == [booking]


def test_the_weeks_utilisation_is_shown(world: World, venue: Venue) -> None:
    booking = _booking(world, venue)
    day = timezone.localdate(booking.starts_at)
    response = world.client(Role.COMMUNITY_CADRE).get(_week_url(venue), {"week": day.isoformat()})
    assert "本周已预约 <strong>2</strong> 小时" in response.content.decode()


def test_moving_to_another_week_under_htmx_returns_the_week_only(
    world: World, venue: Venue
) -> None:
    response = world.client(Role.COMMUNITY_CADRE).get(
        _week_url(venue), {"week": "2026-01-05"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert 'id="week"' in body and "booking-form" not in body


def test_booking_through_the_page(world: World, venue: Venue) -> None:
    response = world.client(Role.SOCIAL_ORG_MANAGER).post(_week_url(venue), _form(_start()))
    booking = VenueBooking.objects.get()
    assert (response.status_code, booking.organization, booking.attendees) == (302, world.o1, 12)


def test_a_clash_is_shown_on_the_form(world: World, venue: Venue) -> None:
    _booking(world, venue, title="社区联席会议")
    response = world.client(Role.SOCIAL_ORG_MANAGER).post(
        _week_url(venue), _form(_start() + dt.timedelta(hours=1))
    )
    assert "该时段已被预约：社区联席会议" in response.context["form"].errors["starts_at"][0]


def test_after_a_clash_the_week_asked_for_is_shown(world: World, venue: Venue) -> None:
    later = _start(days=40)
    _booking(world, venue, title="社区联席会议", starts_at=later)
    response = world.client(Role.SOCIAL_ORG_MANAGER).post(_week_url(venue), _form(later))
    days = {d.date: [b.title for b in d.bookings] for d in response.context["days"]}
    assert days[timezone.localdate(later)] == ["社区联席会议"]


def test_a_venue_not_open_to_the_user_has_no_form(world: World) -> None:
    private = VenueFactory(community=world.c1, is_shared=False)
    response = world.client(Role.SOCIAL_ORG_MANAGER).get(_week_url(private))
    assert response.context["form"] is None


def test_posting_to_a_venue_not_open_to_the_user_is_forbidden(world: World) -> None:
    private = VenueFactory(community=world.c1, is_shared=False)
    response = world.client(Role.SOCIAL_ORG_MANAGER).post(_week_url(private), _form(_start()))
    assert (response.status_code, VenueBooking.objects.count()) == (403, 0)


def test_a_venue_outside_scope_is_404(world: World) -> None:
    far = VenueFactory(community=world.c2)
    assert world.client(Role.COMMUNITY_CADRE).get(_week_url(far)).status_code == 404


def test_cancelling_through_the_page(world: World, venue: Venue) -> None:
    booking = _booking(world, venue)
    world.client(Role.SOCIAL_ORG_MANAGER).post(
        reverse("resources:booking_cancel", args=[booking.pk]), {"reason": "改期"}
    )
    booking.refresh_from_db()
    assert (booking.status, booking.cancelled_reason) == (BookingStatus.CANCELLED, "改期")


def test_cancelling_anothers_booking_is_forbidden(world: World, venue: Venue) -> None:
    booking = _booking(world, venue)
    response = world.client(Role.AREA_STAFF).get(
        reverse("resources:booking_cancel", args=[booking.pk])
    )
    assert response.status_code == 403


def test_the_venue_page_shows_its_coming_bookings(world: World, venue: Venue) -> None:
    booking = _booking(world, venue, title="重阳节敬老活动")
    response = world.client(Role.COMMUNITY_CADRE).get(venue.get_absolute_url())
    section = next(s.context for s in response.context["sections"])
    assert section["bookings"] == [booking] and "重阳节敬老活动" in response.content.decode()


def test_the_community_page_lists_the_coming_bookings_of_its_venues(
    world: World, venue: Venue
) -> None:
    booking = _booking(world, venue)
    response = world.client(Role.COMMUNITY_CADRE).get(world.c1.get_absolute_url())
    section = next(
        s.context
        for s in response.context["sections"]
        if s.template_name.endswith("_community.html")
    )
    assert section["bookings"] == [booking]
