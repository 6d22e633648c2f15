"""JSON API of co-building agreements, joint meetings, follow-ups, union building and
training: scoped reads, validated writes with the pages' messages."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from sanlian.core.roles import Role
from sanlian.organizations.models import (
    CoBuildingAgreement,
    FollowUpItem,
    JointMeeting,
    TrainingAttendance,
    UnionBuilding,
)

from ..conftest import World
from ..factories import PersonFactory
from .factories_cobuilding import (
    FollowUpItemFactory,
    JointMeetingFactory,
    TrainingAttendanceFactory,
    TrainingSessionFactory,
    UnionBuildingFactory,
    agreement_with_parties,
)

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body, default=str), content_type="application/json")


def _agreement(world: World, **kwargs: Any) -> CoBuildingAgreement:
    return agreement_with_parties(world.c1, world.party1, world.c1.organization, world.o1, **kwargs)


def test_schema_lists_the_endpoints(client: Client) -> None:
    paths = set(client.get("/api/openapi.json").json()["paths"])
    assert {
        "/api/agreements",
        "/api/joint-meetings",
        "/api/follow-ups/{item_id}/status",
        "/api/union-building/coverage",
        "/api/trainings/{session_id}/attendance",
    } <= paths


# ---- agreements ----------------------------------------------------------------------------


def test_agreement_list_is_scoped(world: World) -> None:
    near = _agreement(world)
    agreement_with_parties(world.c2, world.c2.organization)
    items = world.client(Role.COMMUNITY_CADRE).get("/api/agreements").json()["items"]
    assert [a["id"] for a in items] == [near.pk]


def test_agreement_detail_lists_the_parties(world: World) -> None:
    agreement = _agreement(world)
    body = world.client(Role.SOCIAL_ORG_MANAGER).get(f"/api/agreements/{agreement.pk}").json()
    assert [p["role"] for p in body["parties"]] == ["party_org", "union", "social_org"]


def test_agreement_outside_scope_is_404(world: World) -> None:
    far = agreement_with_parties(world.c2, world.c2.organization)
    response = world.client(Role.PARTY_SECRETARY).get(f"/api/agreements/{far.pk}")
    assert response.status_code == 404


def _agreement_body(world: World, parties: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {
        "community_id": world.c1.pk,
        "title": "凯旋社区联建协议",
        "signed_on": "2026-01-05",
        "valid_from": "2026-01-05",
        "valid_to": "2027-01-04",
        "status": "active",
        "parties": parties,
        **fields,
    }


def test_agreement_created_with_its_parties(world: World) -> None:
    body = _agreement_body(
        world,
        [
            {"organization_id": world.party1.pk, "signatory_name": "李志强"},
            {"organization_id": world.c1.organization_id},
            {"organization_id": world.o1.pk},
        ],
    )
    response = _post(world.client(Role.PARTY_SECRETARY), "/api/agreements", body)
    assert response.status_code == 201
    assert len(response.json()["parties"]) == 3 and response.json()["warnings"] == []


def test_long_agreement_is_created_with_a_warning(world: World) -> None:
    body = _agreement_body(
        world,
        [{"organization_id": world.party1.pk}, {"organization_id": world.c1.organization_id}],
        valid_to="2030-01-04",
    )
    response = _post(world.client(Role.PARTY_SECRETARY), "/api/agreements", body)
    assert response.status_code == 201 and "超过3年" in response.json()["warnings"][0]


def test_agreement_without_the_party_organisation_is_400(world: World) -> None:
    body = _agreement_body(world, [{"organization_id": world.c1.organization_id}])
    response = _post(world.client(Role.PARTY_SECRETARY), "/api/agreements", body)
    assert response.status_code == 400
    assert "党组织" in response.json()["detail"]["parties"][0]
    assert CoBuildingAgreement.objects.count() == 0


def test_agreement_with_an_invisible_organisation_is_400(world: World) -> None:
    body = _agreement_body(
        world,
        [
            {"organization_id": world.party1.pk},
            {"organization_id": world.c1.organization_id},
            {"organization_id": world.o2.pk},
        ],
    )
    response = _post(world.client(Role.PARTY_SECRETARY), "/api/agreements", body)
    assert "parties.2.organization" in response.json()["detail"]


def test_agreement_in_a_community_outside_scope_is_404(world: World) -> None:
    body = _agreement_body(world, [], community_id=world.c2.pk)
    response = _post(world.client(Role.PARTY_SECRETARY), "/api/agreements", body)
    assert response.status_code == 404


def test_social_org_manager_cannot_create_an_agreement(world: World) -> None:
    body = _agreement_body(world, [])
    response = _post(world.client(Role.SOCIAL_ORG_MANAGER), "/api/agreements", body)
    assert response.status_code == 403


# ---- meetings and follow-ups ----------------------------------------------------------------


def test_meeting_created_with_attendees_and_follow_ups(world: World) -> None:
    agreement = _agreement(world)
    body = {
        "agreement_id": agreement.pk,
        "title": "联席会议",
        "held_on": "2026-03-10T09:00:00+08:00",
        "chair": "李志强",
        "attendees": [
            {"organization_id": world.party1.pk, "attendee_name": "李志强"},
            {"organization_id": world.o1.pk, "attendee_name": "赵敏", "present": False},
        ],
        "follow_ups": [
            {
                "description": "需求调查",
                "due_on": "2026-04-30",
                "owner_organization_id": world.o1.pk,
            }
        ],
    }
    response = _post(world.client(Role.PARTY_SECRETARY), "/api/joint-meetings", body)
    meeting = JointMeeting.objects.get()
    assert response.status_code == 201
    assert [(a.attendee_name, a.present) for a in meeting.attendance.all()] == [
        ("李志强", True),
        ("赵敏", False),
    ]
    assert response.json()["follow_ups"][0]["owner_organization_id"] == world.o1.pk


def test_meeting_follow_up_before_the_meeting_is_400(world: World) -> None:
    body = {
        "community_id": world.c1.pk,
        "title": "联席会议",
        "held_on": "2026-03-10T09:00:00+08:00",
        "chair": "李志强",
        "follow_ups": [{"description": "需求调查", "due_on": "2026-03-01"}],
    }
    response = _post(world.client(Role.PARTY_SECRETARY), "/api/joint-meetings", body)
    assert response.json()["detail"]["followups.0.due_on"] == ["完成时限不能早于会议日期。"]


def test_overdue_follow_ups_are_filtered(world: World) -> None:
    meeting = JointMeetingFactory(agreement=_agreement(world))
    late = FollowUpItemFactory(meeting=meeting, due_on=dt.date(2020, 1, 1))
    FollowUpItemFactory(meeting=meeting, due_on=dt.date(2099, 1, 1))
    items = world.client(Role.AREA_STAFF).get("/api/follow-ups", {"overdue": "true"}).json()
    assert [(i["id"], i["overdue"]) for i in items["items"]] == [(late.pk, True)]


def test_follow_up_status_is_updated(world: World) -> None:
    item = FollowUpItemFactory(meeting=JointMeetingFactory(agreement=_agreement(world)))
    response = _post(
        world.client(Role.PARTY_SECRETARY),
        f"/api/follow-ups/{item.pk}/status",
        {"status": "done", "version": 1},
    )
    assert (response.status_code, response.json()["status"]) == (200, "done")
    assert FollowUpItem.objects.get(pk=item.pk).completed_on is not None


def test_stale_follow_up_status_is_409(world: World) -> None:
    item = FollowUpItemFactory(meeting=JointMeetingFactory(agreement=_agreement(world)))
    client = world.client(Role.PARTY_SECRETARY)
    _post(client, f"/api/follow-ups/{item.pk}/status", {"status": "in_progress", "version": 1})
    response = _post(client, f"/api/follow-ups/{item.pk}/status", {"status": "done", "version": 1})
    assert response.status_code == 409


def test_follow_up_status_of_another_organisation_is_403(world: World) -> None:
    item = FollowUpItemFactory(
        meeting=JointMeetingFactory(agreement=_agreement(world)), owner_organization=world.party1
    )
    response = _post(
        world.client(Role.SOCIAL_ORG_MANAGER),
        f"/api/follow-ups/{item.pk}/status",
        {"status": "done", "version": 1},
    )
    assert response.status_code == 403


# ---- union building and training ------------------------------------------------------------


def test_union_building_list_is_scoped(world: World) -> None:
    near = UnionBuildingFactory(organization=world.o1)
    UnionBuildingFactory(organization=world.o2)
    items = world.client(Role.SOCIAL_ORG_MANAGER).get("/api/union-building").json()["items"]
    assert [i["id"] for i in items] == [near.pk]


def test_union_building_created_by_the_manager(world: World) -> None:
    body = {
        "organization_id": world.o1.pk,
        "as_of": "2026-10-31",
        "staff_count": 8,
        "member_count": 6,
    }
    response = _post(world.client(Role.SOCIAL_ORG_MANAGER), "/api/union-building", body)
    assert (response.status_code, response.json()["membership_rate"]) == (201, "75.0")


def test_union_building_with_more_members_than_staff_is_400(world: World) -> None:
    body = {
        "organization_id": world.o1.pk,
        "as_of": "2026-10-31",
        "staff_count": 5,
        "member_count": 6,
    }
    response = _post(world.client(Role.COMMUNITY_CADRE), "/api/union-building", body)
    assert response.json()["detail"]["member_count"] == ["入会人数不能超过职工人数。"]
    assert UnionBuilding.objects.count() == 0


def test_union_building_of_an_organisation_outside_scope_is_404(world: World) -> None:
    body = {
        "organization_id": world.o2.pk,
        "as_of": "2026-10-31",
        "staff_count": 5,
        "member_count": 1,
    }
    response = _post(world.client(Role.COMMUNITY_CADRE), "/api/union-building", body)
    assert response.status_code == 404


def test_coverage_endpoint(world: World) -> None:
    # 3 trained (two people, one twice + one typed name) of 6 staff = 50.0 %
    UnionBuildingFactory(organization=world.o1, staff_count=6, member_count=2)
    recent = TrainingSessionFactory(organiser=world.d1, held_on=dt.date.today())
    again = TrainingSessionFactory(organiser=world.d1, held_on=dt.date.today())
    person = PersonFactory(community=world.c1, employer=world.o1)
    TrainingAttendanceFactory(session=recent, person=person)
    TrainingAttendanceFactory(session=again, person=person)
    TrainingAttendanceFactory(
        session=recent, person=PersonFactory(community=world.c1, employer=world.o1)
    )
    TrainingAttendanceFactory(session=recent, organization=world.o1, attendee_name="王五")
    items = world.client(Role.AREA_STAFF).get("/api/union-building/coverage").json()["items"]
    [row] = items
    assert (row["trained_last_12_months"], row["coverage"]) == (3, "50.0")


def test_training_created(world: World) -> None:
    body = {
        "topic": "trade_union_law",
        "held_on": "2026-09-15",
        "trainer": "刘律师",
        "organiser_id": world.d1.pk,
    }
    response = _post(world.client(Role.AREA_STAFF), "/api/trainings", body)
    assert (response.status_code, response.json()["title"]) == (201, "《工会法》解读")


def test_training_attendance_recorded_with_scores(world: World) -> None:
    session = TrainingSessionFactory(organiser=world.d1)
    staff = PersonFactory(community=world.c1, employer=world.o1)
    body = {
        "organization_id": world.o1.pk,
        "trainees": [
            {"person_id": staff.pk, "test_score": "88"},
            {"attendee_name": "王五", "test_score": "91.5"},
        ],
    }
    response = _post(world.client(Role.AREA_STAFF), f"/api/trainings/{session.pk}/attendance", body)
    assert response.status_code == 200
    assert sorted(TrainingAttendance.objects.values_list("test_score", flat=True)) == [
        Decimal("88.0"),
        Decimal("91.5"),
    ]


def test_training_attendance_score_over_100_is_400(world: World) -> None:
    session = TrainingSessionFactory(organiser=world.d1)
    body = {
        "organization_id": world.o1.pk,
        "trainees": [{"attendee_name": "王五", "test_score": "120"}],
    }
    response = _post(world.client(Role.AREA_STAFF), f"/api/trainings/{session.pk}/attendance", body)
    assert response.json()["detail"]["trainees.0.test_score"] == ["测试成绩须在0至100之间。"]


def test_training_attendance_of_a_person_outside_scope_is_400(world: World) -> None:
    session = TrainingSessionFactory(organiser=world.d1)
    stranger = PersonFactory(community=world.c2, employer=world.o2)
    body = {"organization_id": world.o1.pk, "trainees": [{"person_id": stranger.pk}]}
    response = _post(world.client(Role.AREA_STAFF), f"/api/trainings/{session.pk}/attendance", body)
    assert "trainees.0.person" in response.json()["detail"]
