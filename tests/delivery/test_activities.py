"""Services of community activities: planning with a venue booking, sign-up within the
capacity, check-in (code, door, walk-in), volunteer hours credited once, feedback, and what
activities count toward projects (activities done, beneficiaries, service times)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from sanlian.core.roles import Role
from sanlian.delivery import outputs
from sanlian.delivery.models import Activity, ActivityStatus, Registration
from sanlian.delivery.services import activities as services
from sanlian.organizations.models import HourLogStatus, Volunteer, VolunteerHourLog
from sanlian.resources.models import BookingStatus, Metric, VenueBooking
from sanlian.resources.services.indicators import counter_for

from ..conftest import World
from ..factories import PersonFactory, VolunteerFactory
from ..resources.factories import VenueBookingFactory, VenueFactory, project_in
from .factories_activities import (
    RegistrationFactory,
    VolunteerShiftFactory,
    activity_in,
    tomorrow,
)

pytestmark = pytest.mark.django_db

R = Role


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _plan(w: World, **kwargs: Any) -> Activity:
    values: dict[str, Any] = {
        "by": w.users[R.COMMUNITY_CADRE],
        "title": "重阳节敬老活动",
        "community": w.c1,
        "date": tomorrow(),
        "start_time": dt.time(14, 0),
        "end_time": dt.time(16, 0),
        "capacity": 20,
        "place": "社区广场",
    }
    values.update(kwargs)
    return services.activity_create(**values)


def _today(w: World, **kwargs: Any) -> Activity:
    """Published, today, all day: check-in is open whenever the test runs."""
    kwargs.setdefault("date", timezone.localdate())
    kwargs.setdefault("start_time", dt.time(0, 0))
    kwargs.setdefault("end_time", dt.time(23, 59))
    return activity_in(w, **kwargs)


# ---- planning ----------------------------------------------------------------------------------


def test_planning_at_a_venue_books_it_for_the_activity(world: World) -> None:
    venue = VenueFactory(community=world.c1)
    activity = _plan(world, venue=venue, place="")
    booking = VenueBooking.objects.get(venue=venue)
    assert (activity.booking, booking.starts_at, booking.purpose) == (
        booking,
        _at(tomorrow(), 14),
        "activity",
    )


def test_planning_at_a_taken_venue_is_refused_with_the_clash(world: World) -> None:
    venue = VenueFactory(community=world.c1)
    VenueBookingFactory(
        venue=venue,
        organization=world.o1,
        title="党员大会",
        starts_at=_at(tomorrow(), 15),
        ends_at=_at(tomorrow(), 17),
    )
    with pytest.raises(ValidationError) as caught:
        _plan(world, venue=venue, place="")
    assert "党员大会" in caught.value.message_dict["start_time"][0]


def test_planning_needs_a_venue_or_a_place(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        _plan(world, place="")
    assert caught.value.message_dict["place"] == ["请选择场地或填写活动地点。"]


def test_planning_in_the_past_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        _plan(world, date=timezone.localdate() - dt.timedelta(days=1))
    assert "date" in caught.value.message_dict


def test_a_project_must_serve_the_activitys_community(world: World) -> None:
    project = project_in(world.d1, world.c2, world.o1)
    with pytest.raises(ValidationError) as caught:
        _plan(world, by=world.users[R.AREA_STAFF], project=project)
    assert caught.value.message_dict["project"] == ["该服务项目不服务于所选社区。"]


def test_a_community_outside_scope_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        _plan(world, community=world.c2)
    assert "community" in caught.value.message_dict


def test_the_organiser_is_the_planners_organisation(world: World) -> None:
    activity = _plan(world, by=world.users[R.SOCIAL_ORG_MANAGER])
    assert activity.organizer == world.o1


def test_moving_the_activity_books_the_venue_again(world: World) -> None:
    venue = VenueFactory(community=world.c1)
    activity = _plan(world, venue=venue, place="")
    old = activity.booking
    services.activity_update(
        activity=activity,
        by=world.users[R.COMMUNITY_CADRE],
        title=activity.title,
        date=activity.date,
        start_time=dt.time(14, 30),
        end_time=dt.time(16, 30),
        capacity=20,
        venue=venue,
    )
    activity.refresh_from_db()
    old.refresh_from_db()
    assert (old.status, activity.booking.starts_at) == (
        BookingStatus.CANCELLED,
        _at(tomorrow(), 14, 30),
    )


def test_the_capacity_cannot_fall_below_the_seats_taken(world: World) -> None:
    activity = activity_in(world)
    services.registration_signup(activity=activity, name="王五", phone="13800138000", companions=3)
    with pytest.raises(ValidationError) as caught:
        services.activity_update(
            activity=activity,
            by=world.users[R.COMMUNITY_CADRE],
            title=activity.title,
            date=activity.date,
            start_time=activity.start_time,
            end_time=activity.end_time,
            capacity=3,
            place="社区广场",
        )
    assert "capacity" in caught.value.message_dict


def test_cancelling_releases_the_venue(world: World) -> None:
    venue = VenueFactory(community=world.c1)
    activity = _plan(world, venue=venue, place="")
    services.activity_cancel(activity=activity, by=world.users[R.COMMUNITY_CADRE], reason="下雨")
    assert VenueBooking.objects.get(venue=venue).status == BookingStatus.CANCELLED


def test_cancelling_needs_a_reason(world: World) -> None:
    activity = activity_in(world)
    with pytest.raises(ValidationError):
        services.activity_cancel(activity=activity, by=world.users[R.COMMUNITY_CADRE], reason=" ")


def test_publishing_opens_the_sign_up(world: World) -> None:
    activity = _plan(world)
    services.activity_publish(activity=activity, by=world.users[R.COMMUNITY_CADRE])
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.PUBLISHED


# ---- sign-up -----------------------------------------------------------------------------------


def test_a_sign_up_takes_a_seat_per_person_and_companion(world: World) -> None:
    activity = activity_in(world)
    services.registration_signup(activity=activity, name="王五", phone="13800138000", companions=2)
    activity.refresh_from_db()
    assert activity.seats_taken == 3


def test_a_second_sign_up_with_the_same_phone_is_the_first(world: World) -> None:
    activity = activity_in(world)
    first = services.registration_signup(activity=activity, name="王五", phone="13800138000")
    again = services.registration_signup(activity=activity, name="王 五", phone="13800138000")
    activity.refresh_from_db()
    assert (again.registration, again.created, activity.seats_taken) == (
        first.registration,
        False,
        1,
    )


def test_a_full_activity_refuses_a_sign_up(world: World) -> None:
    activity = activity_in(world, capacity=2)
    services.registration_signup(activity=activity, name="甲", phone="13800138000", companions=1)
    with pytest.raises(ValidationError) as caught:
        services.registration_signup(activity=activity, name="乙", phone="13800138001")
    assert caught.value.messages == ["名额已满。"]


def test_companions_beyond_the_seats_left_are_refused(world: World) -> None:
    activity = activity_in(world, capacity=3)
    with pytest.raises(ValidationError) as caught:
        services.registration_signup(
            activity=activity, name="甲", phone="13800138000", companions=3
        )
    assert caught.value.message_dict["companions"] == ["剩余名额不足：仅剩 3 个名额。"]


def test_the_database_refuses_overselling(world: World) -> None:
    activity = activity_in(world, capacity=2)
    with pytest.raises(IntegrityError):
        Activity.objects.filter(pk=activity.pk).update(seats_taken=3)


def test_a_planned_activity_takes_no_sign_up(world: World) -> None:
    activity = activity_in(world, status=ActivityStatus.PLANNED)
    with pytest.raises(ValidationError) as caught:
        services.registration_signup(activity=activity, name="甲", phone="13800138000")
    assert caught.value.messages == ["该活动未开放报名。"]


def test_the_sign_up_closes_when_the_activity_starts(world: World) -> None:
    activity = activity_in(world)
    with pytest.raises(ValidationError) as caught:
        services.registration_signup(
            activity=activity,
            name="甲",
            phone="13800138000",
            now=_at(activity.date, 19, 1),
        )
    assert caught.value.messages == ["报名已截止（活动已开始）。"]


def test_a_sign_up_is_matched_to_the_resident_with_that_phone(world: World) -> None:
    person = PersonFactory(community=world.c1, phone="13800138000")
    activity = activity_in(world)
    result = services.registration_signup(activity=activity, name="甲", phone="13800138000")
    assert result.registration.person == person


def test_a_resident_of_another_community_is_not_matched(world: World) -> None:
    PersonFactory(community=world.c2, phone="13800138000")
    activity = activity_in(world)
    result = services.registration_signup(activity=activity, name="甲", phone="13800138000")
    assert result.registration.person is None


def test_public_submissions_are_limited_per_address(world: World) -> None:
    outcomes = [
        services.public_rate_exceeded("test", "203.0.113.9", limit=2, window=60) for _ in range(3)
    ]
    assert outcomes == [False, False, True]


# ---- check-in ----------------------------------------------------------------------------------


def test_staff_check_a_participant_in_by_code(world: World) -> None:
    activity = _today(world)
    registration = RegistrationFactory(activity=activity)
    done = services.registration_check_in(
        activity=activity, code=registration.code.lower(), by=world.users[R.COMMUNITY_CADRE]
    )
    assert done.checked_in_at is not None


def test_a_second_check_in_is_refused_with_the_time_of_the_first(world: World) -> None:
    activity = _today(world)
    registration = RegistrationFactory(activity=activity, name="王五")
    staff = world.users[R.COMMUNITY_CADRE]
    first = timezone.now().replace(second=0, microsecond=0)
    services.registration_check_in(activity=activity, code=registration.code, by=staff, now=first)
    with pytest.raises(ValidationError) as caught:
        services.registration_check_in(activity=activity, code=registration.code, by=staff)
    assert f"已签到（{timezone.localtime(first):%H:%M}）" in caught.value.messages[0]


def test_a_scanned_link_ending_with_the_code_checks_in(world: World) -> None:
    activity = _today(world)
    registration = RegistrationFactory(activity=activity)
    done = services.registration_check_in(
        activity=activity,
        code=f"https://example.org/c/{registration.code}/",
        by=world.users[R.COMMUNITY_CADRE],
    )
    assert done == registration


def test_an_unknown_code_is_refused(world: World) -> None:
    activity = _today(world)
    other = RegistrationFactory(activity=_today(world))
    with pytest.raises(ValidationError) as caught:
        services.registration_check_in(
            activity=activity, code=other.code, by=world.users[R.COMMUNITY_CADRE]
        )
    assert "code" in caught.value.message_dict


def test_check_in_is_only_on_the_day(world: World) -> None:
    activity = activity_in(world)  # tomorrow
    registration = RegistrationFactory(activity=activity)
    with pytest.raises(ValidationError) as caught:
        services.registration_check_in(
            activity=activity, code=registration.code, by=world.users[R.COMMUNITY_CADRE]
        )
    assert caught.value.code == "not_today"


def test_a_participant_checks_in_at_the_door_by_phone(world: World) -> None:
    activity = _today(world)
    registration = RegistrationFactory(activity=activity, phone="13800138000")
    services.door_check_in(activity=activity, phone="13800138000")
    registration.refresh_from_db()
    assert (registration.checked_in_at is not None, registration.checked_in_by) == (True, None)


def test_the_door_refuses_a_phone_that_did_not_sign_up(world: World) -> None:
    activity = _today(world)
    with pytest.raises(ValidationError) as caught:
        services.door_check_in(activity=activity, phone="13800138000")
    assert "phone" in caught.value.message_dict


def test_a_walk_in_is_registered_checked_in_and_takes_seats(world: World) -> None:
    activity = _today(world)
    walk_in = services.walk_in_add(
        activity=activity,
        by=world.users[R.COMMUNITY_CADRE],
        name="赵六",
        phone="13800138000",
        companions=1,
    )
    activity.refresh_from_db()
    assert (walk_in.is_walk_in, walk_in.checked_in_at is not None, activity.seats_taken) == (
        True,
        True,
        2,
    )


def test_a_walk_in_who_signed_up_is_checked_in_not_added(world: World) -> None:
    activity = _today(world)
    RegistrationFactory(activity=activity, phone="13800138000")
    services.walk_in_add(
        activity=activity, by=world.users[R.COMMUNITY_CADRE], name="赵六", phone="13800138000"
    )
    assert list(Registration.objects.filter(activity=activity).values_list("is_walk_in")) == [
        (False,)
    ]


# ---- volunteers --------------------------------------------------------------------------------


def _volunteer(w: World) -> Volunteer:
    return VolunteerFactory(person=PersonFactory(community=w.c1), team=w.t1)


def test_a_volunteer_in_scope_is_put_on_a_shift(world: World) -> None:
    activity = activity_in(world)
    shift = services.shift_assign(
        activity=activity,
        by=world.users[R.COMMUNITY_CADRE],
        volunteer=_volunteer(world),
        start_time=dt.time(18, 0),
        end_time=dt.time(21, 30),
    )
    assert shift.activity == activity


def test_a_volunteer_outside_scope_is_refused(world: World) -> None:
    far = VolunteerFactory(person=PersonFactory(community=world.c2), team=world.t2)
    with pytest.raises(ValidationError) as caught:
        services.shift_assign(
            activity=activity_in(world),
            by=world.users[R.COMMUNITY_CADRE],
            volunteer=far,
            start_time=dt.time(18, 0),
            end_time=dt.time(21, 0),
        )
    assert "volunteer" in caught.value.message_dict


def test_a_volunteer_is_put_on_an_activity_once(world: World) -> None:
    activity = activity_in(world)
    volunteer = _volunteer(world)
    VolunteerShiftFactory(activity=activity, volunteer=volunteer)
    with pytest.raises(ValidationError) as caught:
        services.shift_assign(
            activity=activity,
            by=world.users[R.COMMUNITY_CADRE],
            volunteer=volunteer,
            start_time=dt.time(8, 0),
            end_time=dt.time(9, 0),
        )
    assert caught.value.message_dict["volunteer"] == ["该志愿者已安排在本活动中。"]


def test_a_shift_longer_than_twelve_hours_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        services.shift_assign(
            activity=activity_in(world),
            by=world.users[R.COMMUNITY_CADRE],
            volunteer=_volunteer(world),
            start_time=dt.time(7, 0),
            end_time=dt.time(20, 0),
        )
    assert "end_time" in caught.value.message_dict


# ---- done: volunteer hours ---------------------------------------------------------------------


def _after(activity: Activity) -> dt.datetime:
    return _at(activity.date, 21, 30)


def test_done_credits_each_shift_as_a_confirmed_hour_log(world: World) -> None:
    activity = activity_in(world)
    volunteer = _volunteer(world)
    VolunteerShiftFactory(
        activity=activity, volunteer=volunteer, start_time=dt.time(18), end_time=dt.time(21)
    )
    services.activity_complete(
        activity=activity, by=world.users[R.COMMUNITY_CADRE], now=_after(activity)
    )
    log = VolunteerHourLog.objects.get(volunteer=volunteer)
    assert (log.status, log.hours, log.served_on) == (
        HourLogStatus.CONFIRMED,
        Decimal("3.0"),
        activity.date,
    )


def test_done_adds_the_hours_to_the_volunteers_total(world: World) -> None:
    activity = activity_in(world)
    volunteer = _volunteer(world)
    VolunteerShiftFactory(
        activity=activity, volunteer=volunteer, start_time=dt.time(18), end_time=dt.time(21)
    )
    services.activity_complete(
        activity=activity, by=world.users[R.COMMUNITY_CADRE], now=_after(activity)
    )
    volunteer.refresh_from_db()
    assert volunteer.hours_logged == Decimal("3.0")


def test_done_twice_is_refused_and_credits_nothing_more(world: World) -> None:
    activity = activity_in(world)
    volunteer = _volunteer(world)
    VolunteerShiftFactory(activity=activity, volunteer=volunteer)
    staff = world.users[R.COMMUNITY_CADRE]
    services.activity_complete(activity=activity, by=staff, now=_after(activity))
    with pytest.raises(ValidationError):
        services.activity_complete(activity=activity, by=staff, now=_after(activity))
    volunteer.refresh_from_db()
    assert (
        VolunteerHourLog.objects.filter(volunteer=volunteer).count(),
        volunteer.hours_logged,
    ) == (
        1,
        Decimal("3.0"),
    )


def test_an_activity_that_has_not_started_cannot_be_done(world: World) -> None:
    activity = activity_in(world)
    with pytest.raises(ValidationError) as caught:
        services.activity_complete(
            activity=activity, by=world.users[R.COMMUNITY_CADRE], now=_at(activity.date, 18)
        )
    assert caught.value.messages == ["活动尚未开始，不能标记为已完成。"]


# ---- feedback ----------------------------------------------------------------------------------


def _present(w: World, **kwargs: Any) -> Registration:
    activity = activity_in(w, status=ActivityStatus.DONE, done_at=timezone.now())
    return RegistrationFactory(activity=activity, checked_in_at=timezone.now(), **kwargs)


def test_a_participant_rates_the_activity_after_it(world: World) -> None:
    registration = _present(world)
    services.feedback_submit(registration=registration, rating=5, comment="很好")
    registration.refresh_from_db()
    assert (registration.rating, registration.comment) == (5, "很好")


def test_feedback_is_given_once(world: World) -> None:
    registration = _present(world)
    services.feedback_submit(registration=registration, rating=5)
    with pytest.raises(ValidationError) as caught:
        services.feedback_submit(registration=registration, rating=1)
    assert caught.value.code == "already"


def test_who_did_not_come_cannot_rate(world: World) -> None:
    activity = activity_in(world, status=ActivityStatus.DONE, done_at=timezone.now())
    registration = RegistrationFactory(activity=activity)
    with pytest.raises(ValidationError) as caught:
        services.feedback_submit(registration=registration, rating=4)
    assert caught.value.code == "absent"


def test_feedback_waits_for_the_end(world: World) -> None:
    activity = _today(world)
    registration = RegistrationFactory(activity=activity, checked_in_at=timezone.now())
    with pytest.raises(ValidationError) as caught:
        services.feedback_submit(registration=registration, rating=4, now=_at(activity.date, 12))
    assert caught.value.code == "early"


# ---- what activities count ---------------------------------------------------------------------


def test_activities_done_under_a_project_count_toward_its_indicator(world: World) -> None:
    project = project_in(world.d1, world.c1, world.o1)
    activity_in(world, project=project, status=ActivityStatus.DONE, done_at=timezone.now())
    activity_in(world, project=project)  # published, not done
    activity_in(world, status=ActivityStatus.DONE, done_at=timezone.now())  # no project
    counter = counter_for(Metric.ACTIVITIES)
    assert counter is not None and counter(project) == Decimal(1)


def test_one_resident_at_two_activities_is_one_beneficiary(world: World) -> None:
    project = project_in(world.d1, world.c1, world.o1)
    for _ in range(2):
        RegistrationFactory(
            activity=activity_in(world, project=project),
            phone="13800138000",
            checked_in_at=timezone.now(),
            companions=2,
        )
    assert set(services.beneficiary_keys(project)) == {outputs.phone_key("13800138000")}


def test_a_matched_resident_counts_by_person(world: World) -> None:
    project = project_in(world.d1, world.c1, world.o1)
    person = PersonFactory(community=world.c1)
    RegistrationFactory(
        activity=activity_in(world, project=project),
        person=person,
        checked_in_at=timezone.now(),
    )
    assert outputs.person_key(person.pk) in outputs.beneficiaries(project)


def test_who_did_not_check_in_is_no_beneficiary(world: World) -> None:
    project = project_in(world.d1, world.c1, world.o1)
    RegistrationFactory(activity=activity_in(world, project=project))
    assert list(services.beneficiary_keys(project)) == []


def test_done_activities_are_service_times_of_the_area(world: World) -> None:
    saturday = dt.date(2026, 5, 16)
    activity_in(
        world,
        date=saturday,
        start_time=dt.time(9),
        end_time=dt.time(11),
        status=ActivityStatus.DONE,
        done_at=timezone.now(),
    )
    shares = outputs.service_time_shares(
        world.users[R.AREA_STAFF], dt.date(2026, 5, 1), dt.date(2026, 5, 31)
    )
    mine = next(s for s in shares if s.label == "社区活动")
    assert (mine.services, mine.hours, mine.share_outside) == (1, Decimal("2.0"), Decimal("100.0"))


def test_service_times_are_scoped(world: World) -> None:
    day = dt.date(2026, 5, 13)
    activity_in(world, date=day, status=ActivityStatus.DONE, done_at=timezone.now())
    times = list(services.service_times(world.users[R.AREA_STAFF], day, day))
    far = list(
        services.service_times(world.users[R.SOCIAL_ORG_MANAGER], day, day)
    )  # organised by K1's union, not by O1
    assert (len(times), far) == (1, [])
