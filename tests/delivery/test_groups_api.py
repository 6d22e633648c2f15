"""JSON API of group work: scoped reads, ids in bodies looked up in scope, the pages' Chinese
messages for bad input."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from sanlian.core.roles import Role
from sanlian.delivery.models import Group, GroupAttendance, GroupMemberStatus, GroupPhase

from ..conftest import World
from ..factories import PersonFactory
from .factories_groups import (
    GroupAttendanceFactory,
    GroupFactory,
    GroupMemberFactory,
    GroupSessionFactory,
    worker_in,
)

pytestmark = pytest.mark.django_db

R = Role


def _post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body, default=str), content_type="application/json")


@pytest.fixture
def group(world: World) -> Group:
    return GroupFactory(leader=world.people["worker"].social_worker, community=world.c1)


@pytest.fixture
def far(world: World) -> Group:
    return GroupFactory(leader=worker_in(world.o2, world.c2), community=world.c2)


def _in_phase(group: Group, phase: str) -> Group:
    group.phase = phase
    group.save()
    return group


def _plan(world: World, **fields: Any) -> dict[str, Any]:
    body = {
        "name": "长者健康教育小组",
        "kind": "education",
        "goals": "掌握慢病自我管理方法",
        "target_members": "60岁以上慢病老人",
        "planned_sessions": 8,
        "leader_id": world.people["worker"].social_worker.pk,
        "community_id": world.c1.pk,
        "scale_name": "自我管理行为量表",
        "scale_min": 0,
        "scale_max": 60,
    }
    body.update(fields)
    return body


def test_the_list_is_scoped(world: World, group: Group, far: Group) -> None:
    response = world.client(R.FEDERATION_STAFF).get("/api/groups", {"phase": "preparation"})
    ids = {g["id"] for g in response.json()["items"]}
    assert ids == {group.pk, far.pk}


def test_a_social_worker_sees_only_their_organisations_groups(
    world: World, group: Group, far: Group
) -> None:
    response = world.client(R.SOCIAL_WORKER).get("/api/groups")
    assert [g["id"] for g in response.json()["items"]] == [group.pk]


def test_a_group_outside_scope_is_not_found(world: World, far: Group) -> None:
    assert world.client(R.SOCIAL_WORKER).get(f"/api/groups/{far.pk}").status_code == 404


def test_a_group_is_created(world: World) -> None:
    response = _post(world.client(R.SOCIAL_WORKER), "/api/groups", _plan(world))
    assert (response.status_code, response.json()["phase"]) == (201, "preparation")


def test_a_leader_of_another_organisation_is_an_invalid_choice(world: World) -> None:
    other = worker_in(world.o2, world.c2)
    response = _post(world.client(R.SOCIAL_WORKER), "/api/groups", _plan(world, leader_id=other.pk))
    assert (response.status_code, response.json()["detail"]["leader"]) == (
        400,
        ["只能选择本机构在岗的社工。"],
    )


def test_area_staff_may_not_create_a_group(world: World) -> None:
    response = _post(world.client(R.AREA_STAFF), "/api/groups", _plan(world))
    assert response.status_code == 403


def test_skipping_a_phase_is_refused_in_chinese(world: World, group: Group) -> None:
    response = _post(
        world.client(R.SOCIAL_WORKER), f"/api/groups/{group.pk}/advance", {"to": "ending"}
    )
    assert (
        response.status_code,
        "不能跳到或退回“结束期”" in response.json()["detail"]["__all__"][0],
    ) == (
        400,
        True,
    )


def test_a_person_outside_scope_cannot_be_recruited(world: World, group: Group) -> None:
    stranger = PersonFactory(community=world.c2)
    response = _post(
        world.client(R.SOCIAL_WORKER),
        f"/api/groups/{group.pk}/members",
        {"person_id": stranger.pk},
    )
    assert (response.status_code, list(response.json()["detail"])) == (400, ["person"])


def test_a_person_is_registered_and_enrolled(world: World, group: Group) -> None:
    response = _post(
        world.client(R.SOCIAL_WORKER),
        f"/api/groups/{group.pk}/members",
        {"name": "孙强", "sex": "M", "phone": "13800001234", "consent": True, "enroll": True},
    )
    assert (response.status_code, response.json()["status"]) == (201, GroupMemberStatus.ENROLLED)


def test_a_session_is_recorded_with_attendance(world: World, group: Group) -> None:
    _in_phase(group, GroupPhase.FORMATION)
    member = GroupMemberFactory(group=group)
    response = _post(
        world.client(R.SOCIAL_WORKER),
        f"/api/groups/{group.pk}/sessions",
        {
            "held_on": timezone.localdate(),
            "starts_at": "18:30",
            "ends_at": "20:00",
            "theme": "认识慢病",
            "attendance": [{"member_id": member.pk, "status": "late"}],
        },
    )
    assert (response.status_code, GroupAttendance.objects.get().status) == (201, "late")


def test_attendance_of_a_stranger_is_refused(world: World, group: Group, far: Group) -> None:
    _in_phase(group, GroupPhase.FORMATION)
    stranger = GroupMemberFactory(group=far)
    response = _post(
        world.client(R.SOCIAL_WORKER),
        f"/api/groups/{group.pk}/sessions",
        {
            "held_on": timezone.localdate(),
            "starts_at": "18:30",
            "ends_at": "20:00",
            "theme": "认识慢病",
            "attendance": [{"member_id": stranger.pk, "status": "present"}],
        },
    )
    assert (response.status_code, response.json()["detail"]["attendance"]) == (
        400,
        ["签到名单中有不属于本小组的组员。"],
    )


def test_attendance_is_read_and_changed(world: World, group: Group) -> None:
    member = GroupMemberFactory(group=group)
    session = GroupSessionFactory(group=group)
    GroupAttendanceFactory(session=session, member=member, status="absent")
    client = world.client(R.SOCIAL_WORKER)
    _post(
        client,
        f"/api/group-sessions/{session.pk}/attendance",
        [{"member_id": member.pk, "status": "present"}],
    )
    marks = client.get(f"/api/group-sessions/{session.pk}/attendance").json()
    assert marks == [{"member_id": member.pk, "name": member.person.name, "status": "present"}]


def test_an_out_of_range_score_is_refused(world: World, group: Group) -> None:
    _in_phase(group, GroupPhase.FORMATION)
    member = GroupMemberFactory(group=group)
    response = _post(
        world.client(R.SOCIAL_WORKER),
        f"/api/groups/{group.pk}/scores",
        {"which": "pre", "scores": [{"member_id": member.pk, "score": -1}]},
    )
    assert (response.status_code, "超出量表范围" in response.json()["detail"]["scores"][0]) == (
        400,
        True,
    )


def test_a_score_that_is_not_a_number_is_refused(world: World, group: Group) -> None:
    _in_phase(group, GroupPhase.FORMATION)
    member = GroupMemberFactory(group=group)
    response = _post(
        world.client(R.SOCIAL_WORKER),
        f"/api/groups/{group.pk}/scores",
        {"which": "pre", "scores": [{"member_id": member.pk, "score": "很好"}]},
    )
    assert response.json()["detail"]["scores"] == ["请输入数字。"]


def test_the_evaluation(world: World, group: Group) -> None:
    GroupMemberFactory(group=group, pre_score=Decimal("30"), post_score=Decimal("20"))
    GroupMemberFactory(group=group, pre_score=Decimal("40"), post_score=Decimal("36"))
    data = world.client(R.AREA_STAFF).get(f"/api/groups/{group.pk}/evaluation").json()
    assert (data["n"], data["mean_change"], data["sd_change"], data["improved"]) == (
        2,
        "-7.00",
        "4.24",
        2,
    )


def test_area_staff_may_not_advance_a_group(world: World, group: Group) -> None:
    response = _post(
        world.client(R.AREA_STAFF), f"/api/groups/{group.pk}/advance", {"to": "formation"}
    )
    assert response.status_code == 403
