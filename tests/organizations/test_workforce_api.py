"""API of social workers, volunteers and hour logs: scoped reads, writes through the forms."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from sanlian.core.roles import Role
from sanlian.organizations.models import (
    HourLogStatus,
    SocialWorker,
    SocialWorkerStatus,
    VolunteerHourLog,
)

from ..conftest import World
from ..factories import PersonFactory, SocialWorkerFactory, VolunteerFactory
from .factories_workforce import VolunteerHourLogFactory, volunteer_with_account

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def _patch(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.patch(url, json.dumps(body), content_type="application/json")


def _ids(response: Any) -> set[int]:
    return {item["id"] for item in response.json()["items"]}


# ---- social workers -------------------------------------------------------------------------


def test_social_worker_list_is_scoped(world: World) -> None:
    far = SocialWorkerFactory(person=PersonFactory(community=world.c2), organization=world.o2)
    response = world.client(Role.COMMUNITY_CADRE).get("/api/social-workers")
    assert _ids(response) == {world.people["worker"].social_worker.pk} and far.pk not in _ids(
        response
    )


def test_social_worker_outside_scope_is_404(world: World) -> None:
    far = SocialWorkerFactory(person=PersonFactory(community=world.c2), organization=world.o2)
    response = world.client(Role.COMMUNITY_CADRE).get(f"/api/social-workers/{far.pk}")
    assert response.status_code == 404


def test_manager_creates_a_social_worker(world: World) -> None:
    staff = PersonFactory(community=world.c1, employer=world.o1)
    response = _post(
        world.client(Role.SOCIAL_ORG_MANAGER),
        "/api/social-workers",
        {"person_id": staff.pk, "qualification": "assistant", "certificate_number": "ZL-9"},
    )
    assert (response.status_code, response.json()["organization_id"]) == (201, world.o1.pk)


def test_create_with_a_person_outside_scope_is_400(world: World) -> None:
    stranger = PersonFactory(community=world.c2)
    response = _post(
        world.client(Role.SOCIAL_ORG_MANAGER), "/api/social-workers", {"person_id": stranger.pk}
    )
    assert response.json()["detail"] == {"person": ["请选择列表中的人员（只能选择您可查看的人员）"]}


def test_cadre_cannot_create_a_social_worker(world: World) -> None:
    staff = PersonFactory(community=world.c1)
    response = _post(
        world.client(Role.COMMUNITY_CADRE),
        "/api/social-workers",
        {"person_id": staff.pk, "organization_id": world.o1.pk},
    )
    assert response.status_code == 403


def test_patch_needs_the_current_version(world: World) -> None:
    worker = world.people["worker"].social_worker
    client = world.client(Role.SOCIAL_ORG_MANAGER)
    _patch(client, f"/api/social-workers/{worker.pk}", {"version": 1, "is_supervisor": True})
    stale = _patch(
        client, f"/api/social-workers/{worker.pk}", {"version": 1, "joined_on": "2020-01-01"}
    )
    worker.refresh_from_db()
    assert (stale.status_code, worker.is_supervisor, worker.version) == (409, True, 2)


def test_patch_validates_like_the_page(world: World) -> None:
    worker = world.people["worker"].social_worker
    response = _patch(
        world.client(Role.SOCIAL_ORG_MANAGER),
        f"/api/social-workers/{worker.pk}",
        {"version": worker.version, "certificate_number": ""},
    )
    assert response.json()["detail"] == {"certificate_number": ["有职业资格的社工请填写证书编号"]}


def test_leave_through_the_api(world: World) -> None:
    worker = world.people["worker"].social_worker
    response = _post(
        world.client(Role.SOCIAL_ORG_MANAGER),
        f"/api/social-workers/{worker.pk}/leave",
        {"left_on": timezone.localdate().isoformat()},
    )
    assert response.json()["status"] == SocialWorkerStatus.LEFT


def test_delete_through_the_api(world: World) -> None:
    worker = SocialWorkerFactory(person=PersonFactory(community=world.c1), organization=world.o1)
    response = world.client(Role.SOCIAL_ORG_MANAGER).delete(f"/api/social-workers/{worker.pk}")
    assert response.status_code == 204 and not SocialWorker.objects.filter(pk=worker.pk).exists()


def test_social_worker_cannot_manage_colleagues(world: World) -> None:
    worker = world.people["worker"].social_worker
    response = world.client(Role.SOCIAL_WORKER).delete(f"/api/social-workers/{worker.pk}")
    assert response.status_code == 403


# ---- volunteers -----------------------------------------------------------------------------


def test_volunteer_list_is_scoped(world: World) -> None:
    VolunteerFactory(person=PersonFactory(community=world.c2), team=world.t2)
    response = world.client(Role.COMMUNITY_CADRE).get("/api/volunteers")
    assert _ids(response) == {world.people["volunteer"].volunteer.pk}


def test_volunteer_detail_gives_the_outside_share(world: World) -> None:
    volunteer = VolunteerFactory(
        person=PersonFactory(community=world.c1), team=world.t1, availability=["2:am", "2:evening"]
    )
    response = world.client(Role.COMMUNITY_CADRE).get(f"/api/volunteers/{volunteer.pk}")
    assert response.json()["outside_working_hours"] == 0.5


# ---- hour logs ------------------------------------------------------------------------------


def _entry(**overrides: str) -> dict[str, str]:
    return {
        "served_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
        "start_time": "18:00",
        "end_time": "20:00",
        "activity": "助老送餐",
        **overrides,
    }


def test_volunteer_logs_own_hours(world: World) -> None:
    response = _post(world.client(Role.VOLUNTEER), "/api/volunteer-hours", _entry())
    assert (response.status_code, response.json()["hours"], response.json()["status"]) == (
        201,
        "2.0",
        HourLogStatus.PENDING,
    )


def test_api_entry_gets_the_same_messages(world: World) -> None:
    response = _post(world.client(Role.VOLUNTEER), "/api/volunteer-hours", _entry(end_time="07:00"))
    assert response.json()["detail"] == {"end_time": ["结束时间必须晚于开始时间"]}


def test_non_volunteer_cannot_log_hours(world: World) -> None:
    response = _post(world.client(Role.COMMUNITY_CADRE), "/api/volunteer-hours", _entry())
    assert response.status_code == 404 and not VolunteerHourLog.objects.exists()


def test_my_hours_lists_only_own_entries(world: World) -> None:
    mine = VolunteerHourLogFactory(volunteer=world.people["volunteer"].volunteer)
    coordinator = volunteer_with_account(world.t1, coordinator=True)
    VolunteerHourLogFactory(volunteer=coordinator)
    response = world.client(Role.VOLUNTEER).get("/api/volunteer-hours/mine")
    assert _ids(response) == {mine.pk}


def test_reviewable_list_leaves_out_own_entries(world: World) -> None:
    coordinator = volunteer_with_account(world.t1, coordinator=True)
    VolunteerHourLogFactory(volunteer=coordinator)
    theirs = VolunteerHourLogFactory(volunteer=world.people["volunteer"].volunteer)
    client = Client()
    client.force_login(coordinator.person.user)  # type: ignore[arg-type]
    response = client.get("/api/volunteer-hours", {"reviewable": "true", "status": "pending"})
    assert _ids(response) == {theirs.pk}


def test_cadre_confirms_through_the_api(world: World) -> None:
    log = VolunteerHourLogFactory(volunteer=world.people["volunteer"].volunteer)
    response = world.client(Role.COMMUNITY_CADRE).post(f"/api/volunteer-hours/{log.pk}/confirm")
    assert response.json()["status"] == HourLogStatus.CONFIRMED


def test_second_confirm_through_the_api_is_400(world: World) -> None:
    log = VolunteerHourLogFactory(volunteer=world.people["volunteer"].volunteer)
    client = world.client(Role.COMMUNITY_CADRE)
    client.post(f"/api/volunteer-hours/{log.pk}/confirm")
    response = client.post(f"/api/volunteer-hours/{log.pk}/confirm")
    assert (response.status_code, response.json()["detail"]["__all__"]) == (
        400,
        [f"该记录已由 {world.users[Role.COMMUNITY_CADRE]} 确认，不能重复处理"],
    )


def test_volunteer_cannot_confirm_own_entry_through_the_api(world: World) -> None:
    log = VolunteerHourLogFactory(volunteer=world.people["volunteer"].volunteer)
    response = world.client(Role.VOLUNTEER).post(f"/api/volunteer-hours/{log.pk}/confirm")
    assert response.json()["detail"]["__all__"] == ["不能确认或退回自己记录的服务时长"]


def test_plain_volunteer_confirming_a_teammate_is_403(world: World) -> None:
    teammate = volunteer_with_account(world.t1)
    log = VolunteerHourLogFactory(volunteer=world.people["volunteer"].volunteer)
    client = Client()
    client.force_login(teammate.person.user)  # type: ignore[arg-type]
    # The teammate does not even see the entry.
    assert client.post(f"/api/volunteer-hours/{log.pk}/confirm").status_code == 404


def test_confirm_outside_scope_is_404(world: World) -> None:
    far = VolunteerHourLogFactory(
        volunteer=VolunteerFactory(person=PersonFactory(community=world.c2), team=world.t2)
    )
    response = world.client(Role.COMMUNITY_CADRE).post(f"/api/volunteer-hours/{far.pk}/confirm")
    assert response.status_code == 404


def test_return_through_the_api(world: World) -> None:
    log = VolunteerHourLogFactory(volunteer=world.people["volunteer"].volunteer)
    response = _post(
        world.client(Role.COMMUNITY_CADRE),
        f"/api/volunteer-hours/{log.pk}/return",
        {"reason": "时间有误"},
    )
    assert (response.json()["status"], response.json()["reject_reason"]) == (
        HourLogStatus.RETURNED,
        "时间有误",
    )
