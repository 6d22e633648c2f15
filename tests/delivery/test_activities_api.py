"""JSON API of community activities and of the service times across parts."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from sanlian.core.roles import Role
from sanlian.delivery.models import Activity, ActivityStatus

from ..conftest import World
from .factories_activities import RegistrationFactory, activity_in

pytestmark = pytest.mark.django_db

R = Role


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def test_the_list_is_scoped(world: World) -> None:
    near = activity_in(world)
    activity_in(world, community=world.c2, organizer=world.c2.organization)
    items = world.client(R.COMMUNITY_CADRE).get("/api/activities").json()["items"]
    assert [a["id"] for a in items] == [near.pk]


def test_an_activity_outside_scope_is_not_found(world: World) -> None:
    far = activity_in(world, community=world.c2, organizer=world.c2.organization)
    response = world.client(R.COMMUNITY_CADRE).get(f"/api/activities/{far.pk}")
    assert response.status_code == 404


def test_planning_through_the_api(world: World) -> None:
    day = timezone.localdate() + dt.timedelta(days=2)
    response = _post(
        world.client(R.COMMUNITY_CADRE),
        "/api/activities",
        {
            "title": "健康讲座",
            "community_id": world.c1.pk,
            "date": day.isoformat(),
            "start_time": "19:00",
            "end_time": "20:00",
            "capacity": 40,
            "place": "会议室",
        },
    )
    assert (response.status_code, Activity.objects.get().title) == (201, "健康讲座")


def test_planning_in_another_community_is_not_found(world: World) -> None:
    day = timezone.localdate() + dt.timedelta(days=2)
    response = _post(
        world.client(R.COMMUNITY_CADRE),
        "/api/activities",
        {
            "title": "健康讲座",
            "community_id": world.c2.pk,
            "date": day.isoformat(),
            "start_time": "19:00",
            "end_time": "20:00",
            "capacity": 40,
            "place": "会议室",
        },
    )
    assert response.status_code == 404


def test_a_second_check_in_is_a_400_in_chinese(world: World) -> None:
    activity = activity_in(
        world, date=timezone.localdate(), start_time=dt.time(0, 0), end_time=dt.time(23, 59)
    )
    registration = RegistrationFactory(activity=activity)
    client = world.client(R.COMMUNITY_CADRE)
    url = f"/api/activities/{activity.pk}/check-in"
    first = _post(client, url, {"code": registration.code})
    second = _post(client, url, {"code": registration.code})
    assert (first.status_code, second.status_code) == (200, 400)
    assert "已签到（" in second.json()["detail"]["__all__"][0]


def test_registrations_show_masked_phones_to_a_social_organisation(world: World) -> None:
    activity = activity_in(world, organizer=world.o1)
    RegistrationFactory(activity=activity, phone="13800138000")
    items = (
        world.client(R.SOCIAL_ORG_MANAGER)
        .get(f"/api/activities/{activity.pk}/registrations")
        .json()["items"]
    )
    assert [r["phone"] for r in items] == ["138****8000"]


def test_cancelling_through_the_api(world: World) -> None:
    activity = activity_in(world)
    response = _post(
        world.client(R.COMMUNITY_CADRE),
        f"/api/activities/{activity.pk}/cancel",
        {"reason": "场地维修"},
    )
    assert response.json()["status"] == ActivityStatus.CANCELLED


def test_service_times_through_the_api(world: World) -> None:
    activity_in(
        world,
        date=dt.date(2026, 5, 16),
        start_time=dt.time(9),
        end_time=dt.time(11),
        status=ActivityStatus.DONE,
        done_at=timezone.now(),
    )
    rows = (
        world.client(R.AREA_STAFF)
        .get("/api/service-times", {"date_from": "2026-05-01", "date_to": "2026-05-31"})
        .json()
    )
    mine = next(r for r in rows if r["label"] == "社区活动")
    assert (mine["services"], mine["share_outside"]) == (1, "100.0")


def test_service_times_are_for_area_staff(world: World) -> None:
    response = world.client(R.SOCIAL_WORKER).get(
        "/api/service-times", {"date_from": "2026-05-01", "date_to": "2026-05-31"}
    )
    assert response.status_code == 403
