"""Pages of community activities: the staff pages (list, plan, detail, check-in desk, shifts,
done), the public pages opened from QR codes (sign-up, personal code and feedback, door
self check-in) and the service-times page across parts."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from sanlian.core.roles import Role
from sanlian.delivery.models import Activity, ActivityStatus, Registration
from sanlian.organizations.models import VolunteerHourLog

from ..conftest import World
from ..factories import PersonFactory, VolunteerFactory
from .factories_activities import RegistrationFactory, VolunteerShiftFactory, activity_in

pytestmark = pytest.mark.django_db

R = Role
LIST = reverse("delivery:activity_list")
NEW = reverse("delivery:activity_create")
TIMES = reverse("delivery:service_times")


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def _today(w: World, **kwargs: object) -> Activity:
    return activity_in(
        w,
        date=timezone.localdate(),
        start_time=dt.time(0, 0),
        end_time=dt.time(23, 59),
        **kwargs,
    )


def _signup_url(activity: Activity) -> str:
    return reverse("delivery:activity_signup", args=[activity.signup_token])


# ---- staff pages -------------------------------------------------------------------------------


def test_the_list_shows_the_activities_in_scope(world: World) -> None:
    near = activity_in(world)
    activity_in(world, community=world.c2, organizer=world.c2.organization)
    response = world.client(R.COMMUNITY_CADRE).get(LIST)
    assert [a.pk for a in response.context["page"]] == [near.pk]


def test_the_list_exports_to_excel(world: World) -> None:
    activity_in(world, title="邻里节")
    response = world.client(R.COMMUNITY_CADRE).get(LIST, {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None and sheet["D2"].value == "邻里节"


def test_an_activity_outside_scope_is_not_found(world: World) -> None:
    far = activity_in(world, community=world.c2, organizer=world.c2.organization)
    response = world.client(R.COMMUNITY_CADRE).get(
        reverse("delivery:activity_detail", args=[far.pk])
    )
    assert response.status_code == 404


def test_a_cadre_plans_an_activity(world: World) -> None:
    day = timezone.localdate() + dt.timedelta(days=3)
    response = world.client(R.COMMUNITY_CADRE).post(
        NEW,
        {
            "title": "亲子手工课",
            "community": world.c1.pk,
            "date": day.isoformat(),
            "start_time": "19:00",
            "end_time": "20:30",
            "place": "活动室",
            "capacity": "15",
        },
    )
    activity = Activity.objects.get(title="亲子手工课")
    assert (response.status_code, response["Location"], activity.organizer) == (
        302,
        activity.get_absolute_url(),
        world.c1.organization,
    )


def test_the_plan_form_says_what_is_wrong_in_chinese(world: World) -> None:
    response = world.client(R.COMMUNITY_CADRE).post(
        NEW,
        {
            "title": "亲子手工课",
            "community": world.c1.pk,
            "date": (timezone.localdate() + dt.timedelta(days=3)).isoformat(),
            "start_time": "20:00",
            "end_time": "19:00",
            "place": "活动室",
            "capacity": "15",
        },
    )
    assert "结束时间须晚于开始时间。" in response.content.decode()


def test_a_volunteer_may_not_plan(world: World) -> None:
    assert world.client(R.VOLUNTEER).get(NEW).status_code == 403


def test_publishing_from_the_page(world: World) -> None:
    activity = activity_in(world, status=ActivityStatus.PLANNED)
    world.client(R.COMMUNITY_CADRE).post(reverse("delivery:activity_publish", args=[activity.pk]))
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.PUBLISHED


def test_the_detail_page_shows_the_sign_up_link(world: World) -> None:
    activity = activity_in(world)
    response = world.client(R.COMMUNITY_CADRE).get(activity.get_absolute_url())
    assert _signup_url(activity) in response.content.decode()


def test_the_poster_qr_code_is_a_png(world: World) -> None:
    activity = activity_in(world)
    response = world.client(R.COMMUNITY_CADRE).get(
        reverse("delivery:activity_qr", args=[activity.pk, "signup"])
    )
    assert (response["Content-Type"], response.content[:4]) == ("image/png", b"\x89PNG")


def test_the_sign_up_list_export_masks_phones_for_a_social_organisation(world: World) -> None:
    activity = activity_in(world, organizer=world.o1)
    RegistrationFactory(activity=activity, phone="13800138000")
    response = world.client(R.SOCIAL_ORG_MANAGER).get(
        activity.get_absolute_url(), {"format": "xlsx"}
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None and sheet["B2"].value == "138****8000"


def test_a_volunteer_is_put_on_a_shift_from_the_page(world: World) -> None:
    activity = activity_in(world)
    volunteer = VolunteerFactory(person=PersonFactory(community=world.c1), team=world.t1)
    world.client(R.COMMUNITY_CADRE).post(
        reverse("delivery:activity_shift_add", args=[activity.pk]),
        {"volunteer": volunteer.pk, "start_time": "18:30", "end_time": "21:00", "task": "引导"},
    )
    assert activity.shifts.get().volunteer == volunteer


def test_marking_done_credits_the_volunteers(world: World) -> None:
    activity = activity_in(world, date=timezone.localdate(), start_time=dt.time(0, 0))
    volunteer = VolunteerFactory(person=PersonFactory(community=world.c1), team=world.t1)
    VolunteerShiftFactory(
        activity=activity, volunteer=volunteer, start_time=dt.time(0, 0), end_time=dt.time(2, 0)
    )
    client = world.client(R.COMMUNITY_CADRE)
    url = reverse("delivery:activity_complete", args=[activity.pk])
    client.post(url)
    client.post(url)  # a double click
    assert VolunteerHourLog.objects.filter(volunteer=volunteer).count() == 1


def test_cancelling_from_the_page(world: World) -> None:
    activity = activity_in(world)
    world.client(R.COMMUNITY_CADRE).post(
        reverse("delivery:activity_cancel", args=[activity.pk]), {"reason": "暴雨预警"}
    )
    activity.refresh_from_db()
    assert (activity.status, activity.cancelled_reason) == (ActivityStatus.CANCELLED, "暴雨预警")


# ---- the check-in desk -------------------------------------------------------------------------


def test_the_desk_checks_a_code_in(world: World) -> None:
    activity = _today(world)
    registration = RegistrationFactory(activity=activity, name="王五")
    response = world.client(R.COMMUNITY_CADRE).post(
        reverse("delivery:activity_checkin", args=[activity.pk]), {"code": registration.code}
    )
    assert "王五 签到成功" in response.content.decode()


def test_the_desk_refuses_a_second_check_in_in_chinese(world: World) -> None:
    activity = _today(world)
    registration = RegistrationFactory(activity=activity, checked_in_at=timezone.now())
    response = world.client(R.COMMUNITY_CADRE).post(
        reverse("delivery:activity_checkin", args=[activity.pk]), {"code": registration.code}
    )
    assert "已签到（" in response.content.decode()


def test_the_desk_answers_htmx_with_the_desk_only(world: World) -> None:
    activity = _today(world)
    registration = RegistrationFactory(activity=activity)
    response = world.client(R.COMMUNITY_CADRE).post(
        reverse("delivery:activity_checkin", args=[activity.pk]),
        {"code": registration.code},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="desk">') and "<html" not in body


def test_a_walk_in_is_added_at_the_desk(world: World) -> None:
    activity = _today(world)
    world.client(R.COMMUNITY_CADRE).post(
        reverse("delivery:activity_walk_in", args=[activity.pk]),
        {"name": "赵六", "phone": "13800138000", "companions": "0"},
    )
    assert activity.registrations.get().is_walk_in


# ---- public pages ------------------------------------------------------------------------------


def test_the_sign_up_page_is_public_and_shows_text_as_text(world: World) -> None:
    activity = activity_in(world, title="<script>alert(1)</script>邻里节")
    response = Client().get(_signup_url(activity))
    body = response.content.decode()
    assert (response.status_code, "<script>alert(1)" in body) == (200, False)


def test_signing_up_leads_to_the_personal_code(world: World) -> None:
    activity = activity_in(world)
    response = Client().post(
        _signup_url(activity),
        {"name": "王五", "phone": "138 0013 8000", "companions": "1"},
        follow=True,
    )
    registration = Registration.objects.get(activity=activity)
    assert (registration.phone, registration.code in response.content.decode()) == (
        "13800138000",
        True,
    )


def test_signing_up_twice_shows_the_first_sign_up(world: World) -> None:
    activity = activity_in(world)
    client = Client()
    client.post(_signup_url(activity), {"name": "王五", "phone": "13800138000"})
    response = client.post(
        _signup_url(activity), {"name": "王五", "phone": "13800138000"}, follow=True
    )
    assert (Registration.objects.count(), "该手机号已报名本活动" in response.content.decode()) == (
        1,
        True,
    )


def test_a_wrong_phone_is_refused_in_chinese(world: World) -> None:
    activity = activity_in(world)
    response = Client().post(_signup_url(activity), {"name": "王五", "phone": "12345"})
    assert "手机号码 12345 无效" in response.content.decode()


def test_a_full_activity_says_so(world: World) -> None:
    activity = activity_in(world, capacity=1)
    RegistrationFactory(activity=activity)
    Activity.objects.filter(pk=activity.pk).update(seats_taken=1)
    response = Client().post(_signup_url(activity), {"name": "王五", "phone": "13800138000"})
    assert "名额已满。" in response.content.decode()


def test_a_flood_from_one_address_is_slowed_down(world: World, settings: object) -> None:
    settings.ACTIVITY_PUBLIC_LIMIT = 2  # type: ignore[attr-defined]
    activity = activity_in(world)
    client = Client()
    codes = [
        client.post(_signup_url(activity), {"name": "甲", "phone": f"1380013800{i}"}).status_code
        for i in range(3)
    ]
    assert (codes, Registration.objects.count()) == ([302, 302, 429], 2)


def test_an_unknown_token_is_not_found(world: World) -> None:
    assert Client().get(reverse("delivery:activity_signup", args=["nope"])).status_code == 404


def test_the_personal_qr_code_holds_the_code(world: World) -> None:
    registration = RegistrationFactory(activity=activity_in(world))
    response = Client().get(reverse("delivery:registration_qr", args=[registration.token]))
    assert (response["Content-Type"], response.content[:4]) == ("image/png", b"\x89PNG")


def test_a_participant_checks_in_at_the_door(world: World) -> None:
    activity = _today(world)
    registration = RegistrationFactory(activity=activity, phone="13800138000")
    response = Client().post(
        reverse("delivery:activity_door", args=[activity.door_token]), {"phone": "13800138000"}
    )
    registration.refresh_from_db()
    assert (response.status_code, registration.checked_in_at is not None) == (200, True)


def test_the_door_refuses_a_second_check_in(world: World) -> None:
    activity = _today(world)
    RegistrationFactory(activity=activity, phone="13800138000", checked_in_at=timezone.now())
    response = Client().post(
        reverse("delivery:activity_door", args=[activity.door_token]), {"phone": "13800138000"}
    )
    assert (response.status_code, "已签到（" in response.content.decode()) == (400, True)


def test_a_participant_gives_feedback_on_their_page(world: World) -> None:
    activity = activity_in(world, status=ActivityStatus.DONE, done_at=timezone.now())
    registration = RegistrationFactory(activity=activity, checked_in_at=timezone.now())
    Client().post(
        reverse("delivery:registration_page", args=[registration.token]),
        {"rating": "4", "comment": "<b>很好</b>"},
    )
    registration.refresh_from_db()
    assert (registration.rating, registration.comment) == (4, "<b>很好</b>")


def test_the_staff_page_shows_feedback_as_text(world: World) -> None:
    activity = activity_in(world, status=ActivityStatus.DONE, done_at=timezone.now())
    RegistrationFactory(
        activity=activity,
        checked_in_at=timezone.now(),
        rating=4,
        comment="<b>很好</b>",
        feedback_at=timezone.now(),
    )
    body = world.client(R.COMMUNITY_CADRE).get(activity.get_absolute_url()).content.decode()
    assert "&lt;b&gt;很好" in body


# ---- service times -----------------------------------------------------------------------------


def _saturday_morning(world: World) -> None:
    activity_in(
        world,
        date=dt.date(2026, 5, 16),
        start_time=dt.time(9),
        end_time=dt.time(11),
        status=ActivityStatus.DONE,
        done_at=timezone.now(),
    )


def test_the_service_times_page_shows_the_share_outside_working_hours(world: World) -> None:
    _saturday_morning(world)
    response = world.client(R.AREA_STAFF).get(
        TIMES, {"date_from": "2026-05-01", "date_to": "2026-05-31"}
    )
    mine = next(s for s in response.context["shares"] if s.label == "社区活动")
    assert (mine.services, mine.share_outside) == (1, 100)


def test_the_service_times_page_draws_its_chart(world: World) -> None:
    _saturday_morning(world)
    body = (
        world.client(R.AREA_STAFF)
        .get(TIMES, {"date_from": "2026-05-01", "date_to": "2026-05-31"})
        .content.decode()
    )
    assert 'data-chart="hours-chart-data"' in body and 'id="hours-chart-data"' in body


def test_the_service_times_page_refuses_a_reversed_range(world: World) -> None:
    response = world.client(R.AREA_STAFF).get(
        TIMES, {"date_from": "2026-05-31", "date_to": "2026-05-01"}
    )
    assert "日期止不能早于日期起。" in response.content.decode()


def test_the_service_times_page_is_for_area_staff(world: World) -> None:
    assert world.client(R.SOCIAL_WORKER).get(TIMES).status_code == 403


def test_the_service_times_export(world: World) -> None:
    _saturday_morning(world)
    response = world.client(R.AREA_STAFF).get(
        TIMES, {"date_from": "2026-05-01", "date_to": "2026-05-31", "format": "xlsx"}
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["社区活动"][1] == 1


def test_the_edit_page_is_filled_in(world: World) -> None:
    activity = activity_in(world, title="邻里节")
    response = world.client(R.COMMUNITY_CADRE).get(
        reverse("delivery:activity_edit", args=[activity.pk])
    )
    assert response.context["form"]["title"].value() == "邻里节"


def test_editing_from_the_page(world: World) -> None:
    activity = activity_in(world)
    world.client(R.COMMUNITY_CADRE).post(
        reverse("delivery:activity_edit", args=[activity.pk]),
        {
            "title": "邻里节（改期）",
            "date": activity.date.isoformat(),
            "start_time": "18:00",
            "end_time": "20:00",
            "place": "社区广场",
            "capacity": "30",
        },
    )
    activity.refresh_from_db()
    assert (activity.title, activity.start_time) == ("邻里节（改期）", dt.time(18, 0))


def test_the_cancel_page_asks_for_a_reason(world: World) -> None:
    activity = activity_in(world)
    response = world.client(R.COMMUNITY_CADRE).post(
        reverse("delivery:activity_cancel", args=[activity.pk]), {"reason": ""}
    )
    assert "请填写取消原因。" in response.content.decode()
