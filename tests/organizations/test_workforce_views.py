"""Pages of social workers and volunteers: scoping, exports, the phone page and the queue."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from sanlian.core.models import AuditEntry
from sanlian.core.roles import Role
from sanlian.organizations.models import (
    HourLogStatus,
    SocialWorker,
    SocialWorkerStatus,
    Volunteer,
    VolunteerHourLog,
)

from ..conftest import World
from ..factories import PersonFactory, SocialWorkerFactory, VolunteerFactory
from .factories_workforce import VolunteerHourLogFactory, volunteer_with_account

pytestmark = pytest.mark.django_db


def _sheet_names(content: bytes) -> set[object]:
    ws = load_workbook(io.BytesIO(content), read_only=True).active
    return {row[0] for row in list(ws.iter_rows(values_only=True))[1:]}


def _near_and_far(world: World) -> tuple[SocialWorker, SocialWorker]:
    near = SocialWorkerFactory(
        person=PersonFactory(community=world.c1, name="近处社工"), organization=world.o1
    )
    far = SocialWorkerFactory(
        person=PersonFactory(community=world.c2, name="远处社工"), organization=world.o2
    )
    return near, far


# ---- social worker pages --------------------------------------------------------------------


def test_social_worker_export_is_scoped(world: World) -> None:
    _near_and_far(world)
    response = world.client(Role.AREA_STAFF).get("/org/social-workers/", {"format": "xlsx"})
    names = _sheet_names(response.content)
    assert "近处社工" in names and "远处社工" not in names


def test_social_worker_export_of_the_city_has_both(world: World) -> None:
    _near_and_far(world)
    response = world.client(Role.FEDERATION_STAFF).get("/org/social-workers/", {"format": "xlsx"})
    assert {"近处社工", "远处社工"} <= _sheet_names(response.content)


def test_social_worker_export_follows_the_filters(world: World) -> None:
    near, _far = _near_and_far(world)
    near.status, near.left_on = SocialWorkerStatus.LEFT, timezone.localdate()
    near.save()
    response = world.client(Role.FEDERATION_STAFF).get(
        "/org/social-workers/", {"format": "xlsx", "status": "left"}
    )
    assert _sheet_names(response.content) == {"近处社工"}


def test_social_worker_export_is_audited(world: World) -> None:
    world.client(Role.SOCIAL_ORG_MANAGER).get("/org/social-workers/", {"format": "xlsx"})
    assert AuditEntry.objects.filter(
        action="export", object_type="organizations.SocialWorker"
    ).exists()


def test_social_worker_list_filters_by_qualification(world: World) -> None:
    near, _far = _near_and_far(world)
    near.qualification = "senior"
    near.save()
    response = world.client(Role.FEDERATION_STAFF).get(
        "/org/social-workers/", {"qualification": "senior"}
    )
    assert [w.pk for w in response.context["page"]] == [near.pk]


def test_manager_lists_only_their_own_social_workers(world: World) -> None:
    near, _far = _near_and_far(world)
    response = world.client(Role.SOCIAL_ORG_MANAGER).get("/org/social-workers/")
    assert {w.pk for w in response.context["page"]} == {
        near.pk,
        world.people["worker"].social_worker.pk,
    }


def test_social_worker_outside_scope_is_404(world: World) -> None:
    _near, far = _near_and_far(world)
    response = world.client(Role.COMMUNITY_CADRE).get(f"/org/social-workers/{far.pk}/")
    assert response.status_code == 404


def test_social_worker_detail_shows_the_certificate(world: World) -> None:
    worker = world.people["worker"].social_worker
    body = world.client(Role.COMMUNITY_CADRE).get(worker.get_absolute_url()).content.decode()
    assert worker.certificate_number in body


def test_manager_registers_a_staff_member(world: World) -> None:
    staff = PersonFactory(community=world.c1, employer=world.o1)
    response = world.client(Role.SOCIAL_ORG_MANAGER).post(
        "/org/social-workers/new/",
        {
            "person": staff.pk,
            "organization": world.o1.pk,
            "qualification": "assistant",
            "certificate_number": "ZL2024001",
            "certificate_date": "2024-06-01",
        },
    )
    worker = SocialWorker.objects.get(person=staff)
    assert response["Location"] == worker.get_absolute_url()


def test_create_lists_candidates_found_by_id_number(world: World) -> None:
    staff = PersonFactory(community=world.c1, employer=world.o1)
    PersonFactory(community=world.c1, employer=world.o1)
    response = world.client(Role.SOCIAL_ORG_MANAGER).get(
        "/org/social-workers/new/", {"q": staff.id_number()}
    )
    assert [p.pk for p in response.context["candidates"]] == [staff.pk]


def test_create_refuses_a_person_outside_scope(world: World) -> None:
    stranger = PersonFactory(community=world.c2, employer=world.o2)
    response = world.client(Role.SOCIAL_ORG_MANAGER).post(
        "/org/social-workers/new/", {"person": stranger.pk, "organization": world.o1.pk}
    )
    assert (
        response.context["form"].errors["person"]
        == ["请选择列表中的人员（只能选择您可查看的人员）"]
        and not SocialWorker.objects.filter(person=stranger).exists()
    )


def test_create_refuses_another_organisation(world: World) -> None:
    staff = PersonFactory(community=world.c1, employer=world.o1)
    response = world.client(Role.SOCIAL_ORG_MANAGER).post(
        "/org/social-workers/new/", {"person": staff.pk, "organization": world.o2.pk}
    )
    assert "organization" in response.context["form"].errors


def test_area_staff_cannot_register_social_workers(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).get("/org/social-workers/new/")
    assert response.status_code == 403


def test_manager_edits_with_the_version(world: World) -> None:
    worker = world.people["worker"].social_worker
    world.client(Role.SOCIAL_ORG_MANAGER).post(
        f"/org/social-workers/{worker.pk}/edit/",
        {
            "qualification": "senior",
            "certificate_number": worker.certificate_number,
            "is_supervisor": "on",
            "expected_version": worker.version,
        },
    )
    worker.refresh_from_db()
    assert (worker.qualification, worker.is_supervisor, worker.version) == ("senior", True, 2)


def test_stale_edit_is_not_saved(world: World) -> None:
    worker = world.people["worker"].social_worker
    SocialWorker.objects.filter(pk=worker.pk).update(version=5)
    world.client(Role.SOCIAL_ORG_MANAGER).post(
        f"/org/social-workers/{worker.pk}/edit/",
        {"qualification": "senior", "certificate_number": "X1", "expected_version": 1},
    )
    worker.refresh_from_db()
    assert worker.qualification == "social_worker"


def test_manager_cannot_edit_another_organisations_worker(world: World) -> None:
    _near, far = _near_and_far(world)
    response = world.client(Role.SOCIAL_ORG_MANAGER).get(f"/org/social-workers/{far.pk}/edit/")
    assert response.status_code == 404


def test_cadre_cannot_edit_a_social_worker(world: World) -> None:
    worker = world.people["worker"].social_worker
    response = world.client(Role.COMMUNITY_CADRE).get(f"/org/social-workers/{worker.pk}/edit/")
    assert response.status_code == 403


def test_leave_page_ends_the_status(world: World) -> None:
    worker = world.people["worker"].social_worker
    world.client(Role.SOCIAL_ORG_MANAGER).post(
        f"/org/social-workers/{worker.pk}/leave/",
        {"left_on": timezone.localdate().isoformat()},
    )
    worker.refresh_from_db()
    assert worker.status == SocialWorkerStatus.LEFT


def test_leave_in_the_future_is_refused_on_the_page(world: World) -> None:
    worker = world.people["worker"].social_worker
    later = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    response = world.client(Role.SOCIAL_ORG_MANAGER).post(
        f"/org/social-workers/{worker.pk}/leave/", {"left_on": later}
    )
    assert response.context["form"].errors == {"left_on": ["离职日期不能晚于今天"]}


# ---- volunteer pages ------------------------------------------------------------------------


def test_volunteer_list_shows_the_outside_share(world: World) -> None:
    VolunteerFactory(
        person=PersonFactory(community=world.c1, name="晚间志愿者"),
        team=world.t1,
        availability=["1:evening", "6:am"],
    )
    body = world.client(Role.COMMUNITY_CADRE).get("/org/volunteers/").content.decode()
    assert "晚间志愿者" in body and "100%" in body


def test_volunteer_outside_scope_is_404(world: World) -> None:
    far = VolunteerFactory(person=PersonFactory(community=world.c2), team=world.t2)
    response = world.client(Role.COMMUNITY_CADRE).get(f"/org/volunteers/{far.pk}/")
    assert response.status_code == 404


def test_volunteer_edit_saves_the_week_grid_and_skills(world: World) -> None:
    volunteer = world.people["volunteer"].volunteer
    world.client(Role.COMMUNITY_CADRE).post(
        f"/org/volunteers/{volunteer.pk}/edit/",
        {
            "team": world.t1.pk,
            "skills": ["理发", "法律咨询"],
            "skills_other": "手语",
            "availability": ["6:pm", "1:evening"],
            "is_coordinator": "on",
            "expected_version": volunteer.version,
        },
    )
    volunteer.refresh_from_db()
    assert (
        volunteer.skills,
        volunteer.skills_other,
        volunteer.availability,
        volunteer.is_coordinator,
    ) == ("法律咨询、理发", "手语", ["1:evening", "6:pm"], True)


def test_volunteer_edit_refuses_a_team_outside_scope(world: World) -> None:
    volunteer = world.people["volunteer"].volunteer
    response = world.client(Role.COMMUNITY_CADRE).post(
        f"/org/volunteers/{volunteer.pk}/edit/",
        {"team": world.t2.pk, "expected_version": volunteer.version},
    )
    assert "team" in response.context["form"].errors


def test_volunteer_edit_form_renders_the_week_grid(world: World) -> None:
    volunteer = world.people["volunteer"].volunteer
    body = (
        world.client(Role.COMMUNITY_CADRE)
        .get(f"/org/volunteers/{volunteer.pk}/edit/")
        .content.decode()
    )
    assert body.count('name="availability"') == 21 and 'class="week-grid"' in body


# ---- the volunteer's phone page -------------------------------------------------------------


def _entry(**overrides: str) -> dict[str, str]:
    return {
        "served_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
        "start_time": "18:00",
        "end_time": "20:00",
        "activity": "助老送餐",
        "place": "凯旋社区服务站",
        **overrides,
    }


def test_volunteer_logs_an_entry_from_the_phone_page(world: World) -> None:
    response = world.client(Role.VOLUNTEER).post("/org/volunteers/me/", _entry())
    log = VolunteerHourLog.objects.get()
    assert (response.status_code, log.status, log.hours, log.volunteer.person) == (
        302,
        HourLogStatus.PENDING,
        Decimal("2.0"),
        world.people["volunteer"],
    )


def test_phone_page_shows_the_chinese_message(world: World) -> None:
    response = world.client(Role.VOLUNTEER).post("/org/volunteers/me/", _entry(end_time="17:00"))
    assert "结束时间必须晚于开始时间" in response.content.decode()
    assert not VolunteerHourLog.objects.exists()


def test_phone_page_lists_own_entries_only(world: World) -> None:
    mine = VolunteerHourLogFactory(volunteer=world.people["volunteer"].volunteer, activity="我的")
    VolunteerHourLogFactory(
        volunteer=VolunteerFactory(person=PersonFactory(community=world.c1), team=world.t1),
        activity="别人的",
    )
    response = world.client(Role.VOLUNTEER).get("/org/volunteers/me/")
    assert list(response.context["logs"]) == [mine]


def test_phone_page_needs_a_volunteer_record(world: World) -> None:
    assert world.client(Role.COMMUNITY_CADRE).get("/org/volunteers/me/").status_code == 404


def test_phone_page_shows_the_coordinators_queue_link(world: World) -> None:
    coordinator = volunteer_with_account(world.t1, coordinator=True)
    VolunteerHourLogFactory(volunteer=world.people["volunteer"].volunteer)
    from django.test import Client

    client = Client()
    client.force_login(coordinator.person.user)  # type: ignore[arg-type]
    response = client.get("/org/volunteers/me/")
    assert response.context["review_count"] == 1


def test_home_page_shows_confirmed_and_pending(world: World) -> None:
    volunteer = world.people["volunteer"].volunteer
    Volunteer.objects.filter(pk=volunteer.pk).update(hours_logged=Decimal("12.5"))
    VolunteerHourLogFactory(volunteer=volunteer)
    body = world.client(Role.VOLUNTEER).get("/").content.decode()
    assert (
        'data-testid="volunteer-hours">12.5<' in body
        and 'data-testid="volunteer-pending">1<' in body
        and 'href="/org/volunteers/me/"' in body
    )


# ---- the queue ------------------------------------------------------------------------------


@pytest.fixture
def two_pending(world: World) -> list[VolunteerHourLog]:
    volunteer = world.people["volunteer"].volunteer
    day = timezone.localdate() - dt.timedelta(days=4)
    return [
        VolunteerHourLogFactory(volunteer=volunteer),
        VolunteerHourLogFactory(volunteer=volunteer, served_on=day),
    ]


def test_queue_lists_pending_entries_of_the_area(
    world: World, two_pending: list[VolunteerHourLog]
) -> None:
    VolunteerHourLogFactory(
        volunteer=VolunteerFactory(person=PersonFactory(community=world.c2), team=world.t2)
    )
    response = world.client(Role.COMMUNITY_CADRE).get("/org/volunteer-hours/")
    assert {log.pk for log in response.context["page"]} == {log.pk for log in two_pending}


def test_plain_volunteer_has_no_queue(world: World) -> None:
    assert world.client(Role.VOLUNTEER).get("/org/volunteer-hours/").status_code == 403


def test_bulk_confirm_with_htmx_returns_the_queue_partial(
    world: World, two_pending: list[VolunteerHourLog]
) -> None:
    response = world.client(Role.COMMUNITY_CADRE).post(
        "/org/volunteer-hours/review/",
        {"action": "confirm", "ids": [log.pk for log in two_pending]},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert (
        body.lstrip().startswith('<div id="queue">')
        and "已确认 2 条，共 4.0 小时。" in body
        and VolunteerHourLog.objects.confirmed().count() == 2
    )


def test_bulk_confirm_without_htmx_redirects(
    world: World, two_pending: list[VolunteerHourLog]
) -> None:
    response = world.client(Role.COMMUNITY_CADRE).post(
        "/org/volunteer-hours/review/", {"ids": [two_pending[0].pk]}
    )
    assert response["Location"] == "/org/volunteer-hours/"


def test_second_bulk_confirm_is_refused_with_a_message(
    world: World, two_pending: list[VolunteerHourLog]
) -> None:
    client = world.client(Role.COMMUNITY_CADRE)
    data = {"action": "confirm", "ids": [two_pending[0].pk]}
    client.post("/org/volunteer-hours/review/", data, headers={"HX-Request": "true"})
    body = client.post(
        "/org/volunteer-hours/review/", data, headers={"HX-Request": "true"}
    ).content.decode()
    volunteer = Volunteer.objects.get(pk=two_pending[0].volunteer_id)
    assert "不能重复处理" in body and volunteer.hours_logged == Decimal("2.0")


def test_return_from_the_queue_needs_a_reason(
    world: World, two_pending: list[VolunteerHourLog]
) -> None:
    body = (
        world.client(Role.COMMUNITY_CADRE)
        .post(
            "/org/volunteer-hours/review/",
            {"action": "return", "ids": [two_pending[0].pk], "reason": ""},
            headers={"HX-Request": "true"},
        )
        .content.decode()
    )
    assert "退回时请填写原因，志愿者会看到它" in body


def test_return_from_the_queue(world: World, two_pending: list[VolunteerHourLog]) -> None:
    world.client(Role.COMMUNITY_CADRE).post(
        "/org/volunteer-hours/review/",
        {"action": "return", "ids": [two_pending[0].pk], "reason": "地点不对"},
        headers={"HX-Request": "true"},
    )
    two_pending[0].refresh_from_db()
    assert (two_pending[0].status, two_pending[0].reject_reason) == (
        HourLogStatus.RETURNED,
        "地点不对",
    )


def test_queue_ignores_ids_outside_scope(world: World) -> None:
    far = VolunteerHourLogFactory(
        volunteer=VolunteerFactory(person=PersonFactory(community=world.c2), team=world.t2)
    )
    world.client(Role.COMMUNITY_CADRE).post(
        "/org/volunteer-hours/review/", {"ids": [far.pk]}, headers={"HX-Request": "true"}
    )
    far.refresh_from_db()
    assert far.status == HourLogStatus.PENDING


def test_volunteer_cannot_confirm_own_entry_through_the_queue(world: World) -> None:
    coordinator = volunteer_with_account(world.t1, coordinator=True)
    own = VolunteerHourLogFactory(volunteer=coordinator)
    from django.test import Client

    client = Client()
    client.force_login(coordinator.person.user)  # type: ignore[arg-type]
    body = client.post(
        "/org/volunteer-hours/review/", {"ids": [own.pk]}, headers={"HX-Request": "true"}
    ).content.decode()
    own.refresh_from_db()
    assert "不能确认或退回自己记录的服务时长" in body and own.status == HourLogStatus.PENDING
