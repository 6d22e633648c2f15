"""Pages of group work: the scoped list with filters and export, the plan, phases,
recruitment, sessions with attendance, scores and the evaluation."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from sanlian.core.models import AuditAction, AuditEntry
from sanlian.core.roles import Role
from sanlian.delivery.models import (
    Group,
    GroupAttendance,
    GroupMember,
    GroupMemberStatus,
    GroupPhase,
    GroupSession,
)

from ..conftest import World
from .factories_groups import (
    GroupAttendanceFactory,
    GroupFactory,
    GroupMemberFactory,
    GroupSessionFactory,
    worker_in,
)

pytestmark = pytest.mark.django_db

R = Role
LIST = reverse("delivery:group_list")


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


# ---- the list ----------------------------------------------------------------------------------


def test_the_list_shows_the_groups_in_scope(world: World, group: Group, far: Group) -> None:
    response = world.client(R.SOCIAL_WORKER).get(LIST)
    assert [g.pk for g in response.context["page"]] == [group.pk]


def test_the_list_filters_by_phase(world: World, group: Group) -> None:
    ending = _in_phase(GroupFactory(leader=group.leader, community=world.c1), GroupPhase.ENDING)
    response = world.client(R.COMMUNITY_CADRE).get(LIST, {"phase": GroupPhase.ENDING})
    assert [g.pk for g in response.context["page"]] == [ending.pk]


def test_the_export_lists_the_groups_in_scope_and_is_audited(
    world: World, group: Group, far: Group
) -> None:
    response = world.client(R.AREA_STAFF).get(LIST, {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]  # type: ignore[union-attr]
    assert (names, AuditEntry.objects.filter(action=AuditAction.EXPORT).count()) == (
        [group.name],
        1,
    )


def test_html_in_a_name_is_shown_as_text(world: World) -> None:
    GroupFactory(
        leader=world.people["worker"].social_worker,
        community=world.c1,
        name="<script>alert(1)</script>",
    )
    body = world.client(R.SOCIAL_WORKER).get(LIST).content.decode()
    assert ("<script>alert(1)</script>" not in body, "&lt;script&gt;" in body) == (True, True)


# ---- the plan and phases -----------------------------------------------------------------------


def test_a_social_worker_creates_a_group(world: World) -> None:
    response = world.client(R.SOCIAL_WORKER).post(
        reverse("delivery:group_create"),
        {
            "name": "减压成长小组",
            "kind": "growth",
            "goals": "学习减压方法",
            "target_members": "快递员、外卖骑手",
            "planned_sessions": "6",
            "leader": world.people["worker"].social_worker.pk,
            "community": world.c1.pk,
            "scale_name": "知觉压力量表",
            "scale_min": "0",
            "scale_max": "56",
        },
    )
    group = Group.objects.get(name="减压成长小组")
    assert (response.status_code, response["Location"]) == (302, group.get_absolute_url())


def test_area_staff_may_not_create_a_group(world: World) -> None:
    response = world.client(R.AREA_STAFF).get(reverse("delivery:group_create"))
    assert response.status_code == 403


def test_a_group_outside_scope_is_not_found(world: World, far: Group) -> None:
    response = world.client(R.SOCIAL_WORKER).get(far.get_absolute_url())
    assert response.status_code == 404


def test_area_staff_read_a_group_but_may_not_advance_it(world: World, group: Group) -> None:
    client = world.client(R.COMMUNITY_CADRE)
    read = client.get(group.get_absolute_url())
    advance = client.post(reverse("delivery:group_advance", args=[group.pk]), {"to": "formation"})
    assert (read.status_code, advance.status_code) == (200, 403)


def test_skipping_a_phase_on_the_page_shows_why(world: World, group: Group) -> None:
    GroupMemberFactory(group=group)
    response = world.client(R.SOCIAL_WORKER).post(
        reverse("delivery:group_advance", args=[group.pk]), {"to": "maturity"}, follow=True
    )
    group.refresh_from_db()
    assert (group.phase, "不能跳到或退回“成熟期”" in response.content.decode()) == (
        GroupPhase.PREPARATION,
        True,
    )


def test_the_manager_advances_a_group(world: World, group: Group) -> None:
    GroupMemberFactory(group=group)
    world.client(R.SOCIAL_ORG_MANAGER).post(
        reverse("delivery:group_advance", args=[group.pk]), {"to": "formation"}
    )
    group.refresh_from_db()
    assert group.phase == GroupPhase.FORMATION


# ---- recruitment -------------------------------------------------------------------------------


def test_quick_add_on_the_page_enrols_with_consent(world: World, group: Group) -> None:
    world.client(R.SOCIAL_WORKER).post(
        reverse("delivery:group_member_add", args=[group.pk]),
        {
            "quick": "1",
            "quick-name": "赵敏",
            "quick-sex": "F",
            "quick-phone": "13912345678",
            "quick-consent": "on",
            "quick-enroll": "on",
        },
    )
    member = GroupMember.objects.get(group=group)
    assert (member.person.name, member.status) == ("赵敏", GroupMemberStatus.ENROLLED)


def test_enrolling_without_consent_on_the_page_is_refused(world: World, group: Group) -> None:
    response = world.client(R.SOCIAL_WORKER).post(
        reverse("delivery:group_member_add", args=[group.pk]),
        {
            "quick": "1",
            "quick-name": "赵敏",
            "quick-sex": "F",
            "quick-phone": "13912345678",
            "quick-enroll": "on",
        },
    )
    assert ("须知情同意" in response.content.decode(), GroupMember.objects.count()) == (True, 0)


# ---- sessions ----------------------------------------------------------------------------------


def test_a_session_is_recorded_with_its_attendance(world: World, group: Group) -> None:
    _in_phase(group, GroupPhase.FORMATION)
    member = GroupMemberFactory(group=group)
    world.client(R.SOCIAL_WORKER).post(
        reverse("delivery:group_session_create", args=[group.pk]),
        {
            "held_on": timezone.localdate().isoformat(),
            "starts_at": "19:00",
            "ends_at": "20:30",
            "theme": "相互认识",
            f"att_{member.pk}": "present",
        },
    )
    session = GroupSession.objects.get(group=group)
    assert (session.number, GroupAttendance.objects.get().status) == (1, "present")


def test_the_session_list_is_scoped(world: World, group: Group, far: Group) -> None:
    mine = GroupSessionFactory(group=group)
    GroupSessionFactory(group=far)
    response = world.client(R.SOCIAL_WORKER).get(reverse("delivery:group_session_list"))
    assert [s.pk for s in response.context["page"]] == [mine.pk]


# ---- scores and evaluation ---------------------------------------------------------------------


def test_an_out_of_range_score_on_the_page_is_refused(world: World, group: Group) -> None:
    _in_phase(group, GroupPhase.FORMATION)
    member = GroupMemberFactory(group=group)
    response = world.client(R.SOCIAL_WORKER).post(
        reverse("delivery:group_scores", args=[group.pk, "pre"]), {f"score_{member.pk}": "101"}
    )
    member.refresh_from_db()
    assert ("超出量表范围" in response.content.decode(), member.pre_score) == (True, None)


def test_the_evaluation_shows_each_members_change(world: World, group: Group) -> None:
    GroupMemberFactory(group=group, pre_score=Decimal("60"), post_score=Decimal("45"))
    GroupMemberFactory(group=group, pre_score=Decimal("50"), post_score=Decimal("48"))
    response = world.client(R.COMMUNITY_CADRE).get(
        reverse("delivery:group_evaluation", args=[group.pk])
    )
    summary = response.context["result"].summary
    assert (summary.mean_change, summary.improved, response.context["chart"]["categories"]) == (
        Decimal("-8.50"),
        2,
        [m.person.name for m in group.members.order_by("pk")],
    )


def test_the_leader_writes_the_evaluation_in_the_ending(world: World, group: Group) -> None:
    _in_phase(group, GroupPhase.ENDING)
    world.client(R.SOCIAL_WORKER).post(
        reverse("delivery:group_evaluation", args=[group.pk]),
        {"evaluation": "组员照顾负担明显下降。"},
    )
    group.refresh_from_db()
    assert group.evaluation == "组员照顾负担明显下降。"


def test_area_staff_may_not_write_the_evaluation(world: World, group: Group) -> None:
    _in_phase(group, GroupPhase.ENDING)
    response = world.client(R.AREA_STAFF).post(
        reverse("delivery:group_evaluation", args=[group.pk]), {"evaluation": "x"}
    )
    assert response.status_code == 403


def test_the_sidebar_shows_group_work_to_social_workers(world: World) -> None:
    body = world.client(R.SOCIAL_WORKER).get(LIST).content.decode()
    assert f'href="{LIST}"' in body


def test_a_long_goal_text_is_refused(world: World, group: Group) -> None:
    response = world.client(R.SOCIAL_WORKER).post(
        reverse("delivery:group_edit", args=[group.pk]),
        {
            "name": group.name,
            "kind": group.kind,
            "goals": "很" * 100_000,
            "target_members": group.target_members,
            "planned_sessions": "6",
            "leader": group.leader_id,
            "community": group.community_id,
            "scale_name": group.scale_name,
            "scale_min": "0",
            "scale_max": "100",
        },
    )
    group.refresh_from_db()
    assert (response.status_code, len(group.goals) < 100) == (200, True)


def test_dates_of_sessions_in_the_list_are_filtered(world: World, group: Group) -> None:
    GroupSessionFactory(group=group, held_on=dt.date(2026, 1, 5))
    june = GroupSessionFactory(group=group, held_on=dt.date(2026, 6, 5))
    response = world.client(R.SOCIAL_WORKER).get(
        reverse("delivery:group_session_list"), {"date_from": "2026-06-01"}
    )
    assert [s.pk for s in response.context["page"]] == [june.pk]


@pytest.mark.parametrize(
    "page",
    [
        "group_detail",
        "group_edit",
        "group_member_add",
        "group_session_create",
        "group_session_edit",
        "pre",
        "post",
        "group_evaluation",
    ],
)
def test_the_leaders_pages_open(world: World, group: Group, page: str) -> None:
    _in_phase(group, GroupPhase.FORMATION)
    member = GroupMemberFactory(group=group, pre_score=Decimal("40"), post_score=Decimal("30"))
    session = GroupSessionFactory(group=group)
    GroupAttendanceFactory(session=session, member=member)
    args: list[object] = [group.pk]
    if page == "group_session_edit":
        args.append(session.pk)
    if page in ("pre", "post"):
        args, page = [group.pk, page], "group_scores"
    response = world.client(R.SOCIAL_WORKER).get(reverse(f"delivery:{page}", args=args))
    assert response.status_code == 200


def test_correcting_a_session_changes_its_attendance(world: World, group: Group) -> None:
    _in_phase(group, GroupPhase.MATURITY)
    member = GroupMemberFactory(group=group)
    session = GroupSessionFactory(group=group)
    GroupAttendanceFactory(session=session, member=member, status="absent")
    world.client(R.SOCIAL_WORKER).post(
        reverse("delivery:group_session_edit", args=[group.pk, session.pk]),
        {
            "number": session.number,
            "held_on": session.held_on.isoformat(),
            "starts_at": "09:00",
            "ends_at": "11:00",
            "theme": "回顾与展望",
            f"att_{member.pk}": "present",
        },
    )
    session.refresh_from_db()
    assert (session.theme, GroupAttendance.objects.get().status) == ("回顾与展望", "present")
