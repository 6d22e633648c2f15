"""Group work services: the plan, phases one by one, recruitment with consent, sessions with
attendance, pre/post scores on the group's scale, the evaluation's figures, and what groups
add to a project's outputs."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from sanlian.core.roles import Role
from sanlian.delivery import outputs
from sanlian.delivery.models import (
    Group,
    GroupAttendance,
    GroupAttendanceStatus,
    GroupMemberStatus,
    GroupPhase,
)
from sanlian.delivery.services import groups as services
from sanlian.organizations.models import Person
from sanlian.organizations.services.people import person_merge_plan
from sanlian.resources.models import Metric, ServiceProject
from sanlian.resources.services import indicators

from ..conftest import World
from ..factories import PersonFactory
from ..resources.factories import project_in
from .factories_groups import (
    GroupAttendanceFactory,
    GroupFactory,
    GroupMemberFactory,
    GroupSessionFactory,
    worker_in,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
PAST = TODAY - dt.timedelta(days=7)


@pytest.fixture
def group(world: World) -> Group:
    return GroupFactory(leader=world.people["worker"].social_worker, community=world.c1)


def _in_phase(group: Group, phase: str) -> Group:
    group.phase = phase
    group.save()
    return group


def _plan(world: World, **fields: object) -> dict[str, object]:
    plan: dict[str, object] = {
        "by": world.users[Role.SOCIAL_WORKER],
        "name": "亲子沟通小组",
        "kind": "education",
        "goals": "提升亲子沟通技巧",
        "target_members": "小学生家长",
        "planned_sessions": 6,
        "leader": world.people["worker"].social_worker,
        "community": world.c1,
        "scale_name": "亲子沟通量表",
        "scale_min": Decimal("20"),
        "scale_max": Decimal("100"),
    }
    plan.update(fields)
    return plan


# ---- the plan ----------------------------------------------------------------------------------


def test_a_new_group_starts_in_preparation_with_its_co_leaders(world: World) -> None:
    co = worker_in(world.o1, world.c1)
    group = services.group_create(**_plan(world), co_leaders=[co])  # type: ignore[arg-type]
    assert (group.phase, list(group.co_leaders.all())) == (GroupPhase.PREPARATION, [co])


def test_a_co_leader_of_another_organisation_is_refused(world: World) -> None:
    other = worker_in(world.o2, world.c2)
    with pytest.raises(ValidationError, match="同属一个机构"):
        services.group_create(**_plan(world), co_leaders=[other])  # type: ignore[arg-type]


def test_a_project_that_does_not_serve_the_community_is_refused(world: World) -> None:
    project = project_in(world.d2, world.c2, world.o1)
    with pytest.raises(ValidationError, match="不服务该社区"):
        services.group_create(**_plan(world, project=project))  # type: ignore[arg-type]


def test_a_scale_whose_maximum_is_not_above_its_minimum_is_refused(world: World) -> None:
    with pytest.raises(ValidationError, match="最高分须大于最低分"):
        services.group_create(**_plan(world, scale_max=Decimal("20")))  # type: ignore[arg-type]


def test_the_scale_is_fixed_once_a_score_is_entered(group: Group) -> None:
    GroupMemberFactory(group=group, pre_score=Decimal("40"))
    with pytest.raises(ValidationError, match="量表的分值范围和方向不能再修改"):
        services.group_update(group=group, scale_max=Decimal("50"))


# ---- phases ------------------------------------------------------------------------------------


def test_a_group_without_enrolled_members_cannot_start_forming(group: Group) -> None:
    GroupMemberFactory(group=group, status=GroupMemberStatus.APPLIED, consent=False)
    with pytest.raises(ValidationError, match="至少有一名组员入组"):
        services.group_advance(group=group, to=GroupPhase.FORMATION)


def test_a_group_advances_to_the_next_phase(group: Group) -> None:
    GroupMemberFactory(group=group)
    services.group_advance(group=group, to=GroupPhase.FORMATION)
    group.refresh_from_db()
    assert group.phase == GroupPhase.FORMATION


def test_a_phase_cannot_be_skipped(group: Group) -> None:
    _in_phase(group, GroupPhase.FORMATION)
    with pytest.raises(ValidationError, match="只能进入下一阶段“转折期”，不能跳到或退回“成熟期”"):
        services.group_advance(group=group, to=GroupPhase.MATURITY)


def test_a_phase_cannot_be_reversed(group: Group) -> None:
    _in_phase(group, GroupPhase.MATURITY)
    with pytest.raises(ValidationError, match="不能跳到或退回“形成期”"):
        services.group_advance(group=group, to=GroupPhase.FORMATION)


def test_an_ended_group_has_no_next_phase(group: Group) -> None:
    _in_phase(group, GroupPhase.ENDING)
    with pytest.raises(ValidationError, match="没有下一阶段"):
        services.group_advance(group=group, to=GroupPhase.ENDING)


# ---- recruitment -------------------------------------------------------------------------------


def test_a_person_joins_a_group_once(group: Group, world: World) -> None:
    person = PersonFactory(community=world.c1)
    services.member_add(group=group, person=person)
    with pytest.raises(ValidationError, match="已在本小组中"):
        services.member_add(group=group, person=person)


def test_enrolment_needs_consent(group: Group, world: World) -> None:
    member = services.member_add(group=group, person=PersonFactory(community=world.c1))
    with pytest.raises(ValidationError, match="知情同意"):
        services.member_set_status(member=member, status=GroupMemberStatus.ENROLLED)


def test_enrolment_with_consent(group: Group, world: World) -> None:
    member = services.member_add(group=group, person=PersonFactory(community=world.c1))
    services.member_set_status(member=member, status=GroupMemberStatus.ENROLLED, consent=True)
    member.refresh_from_db()
    assert (member.status, member.consent) == (GroupMemberStatus.ENROLLED, True)


def test_recruitment_closes_after_formation(group: Group, world: World) -> None:
    _in_phase(group, GroupPhase.TRANSITION)
    with pytest.raises(ValidationError, match="招募组员只能在筹备期、形成期进行"):
        services.member_add(group=group, person=PersonFactory(community=world.c1))


def test_quick_add_uses_the_record_with_the_same_name_and_phone(group: Group, world: World) -> None:
    known = PersonFactory(community=world.c2, name="李梅", phone="13900001111")
    member = services.member_quick_add(group=group, name="李梅", sex="F", phone="13900001111")
    assert (member.person_id, Person.objects.filter(name="李梅").count()) == (known.pk, 1)


def test_quick_add_registers_a_new_person_in_the_groups_community(group: Group) -> None:
    member = services.member_quick_add(group=group, name="王芳", sex="F", phone="13900002222")
    assert (member.person.name, member.person.community_id) == ("王芳", group.community_id)


def test_withdrawal_needs_a_reason(group: Group) -> None:
    member = GroupMemberFactory(group=group)
    with pytest.raises(ValidationError, match="退出原因"):
        services.member_set_status(member=member, status=GroupMemberStatus.WITHDRAWN)


# ---- sessions and attendance -------------------------------------------------------------------


def _session(group: Group, **fields: object) -> object:
    values: dict[str, object] = {
        "group": group,
        "by": None,
        "held_on": PAST,
        "starts_at": dt.time(19, 0),
        "ends_at": dt.time(20, 30),
        "theme": "破冰",
    }
    values.update(fields)
    return services.session_record(**values)  # type: ignore[arg-type]


def test_no_session_is_recorded_in_preparation(group: Group) -> None:
    with pytest.raises(ValidationError, match="记录节次只能在"):
        _session(group)


def test_sessions_are_numbered_in_order(group: Group) -> None:
    _in_phase(group, GroupPhase.FORMATION)
    _session(group)
    second = _session(group, theme="信任建立")
    assert second.number == 2  # type: ignore[attr-defined]


def test_a_session_number_is_recorded_once(group: Group) -> None:
    _in_phase(group, GroupPhase.FORMATION)
    _session(group, number=1)
    with pytest.raises(ValidationError, match="第1节已记录"):
        _session(group, number=1)


def test_a_session_ends_after_it_starts(group: Group) -> None:
    _in_phase(group, GroupPhase.FORMATION)
    with pytest.raises(ValidationError, match="结束时间须晚于开始时间"):
        _session(group, starts_at=dt.time(10, 0), ends_at=dt.time(9, 0))


def test_attendance_of_a_member_of_another_group_is_refused(group: Group, world: World) -> None:
    _in_phase(group, GroupPhase.FORMATION)
    other = GroupMemberFactory(group=GroupFactory(leader=group.leader, community=world.c1))
    with pytest.raises(ValidationError, match="不属于本小组"):
        _session(group, attendance={other.pk: GroupAttendanceStatus.PRESENT})


def test_a_member_not_enrolled_cannot_be_marked(group: Group) -> None:
    _in_phase(group, GroupPhase.FORMATION)
    applied = GroupMemberFactory(group=group, status=GroupMemberStatus.APPLIED, consent=False)
    with pytest.raises(ValidationError, match="尚未入组"):
        _session(group, attendance={applied.pk: GroupAttendanceStatus.PRESENT})


def test_marking_again_changes_the_mark_and_adds_none(group: Group) -> None:
    _in_phase(group, GroupPhase.FORMATION)
    member = GroupMemberFactory(group=group)
    session = _session(group, attendance={member.pk: GroupAttendanceStatus.ABSENT})
    services.attendance_record(session=session, marks={member.pk: GroupAttendanceStatus.LATE})  # type: ignore[arg-type]
    assert list(GroupAttendance.objects.values_list("status", flat=True)) == ["late"]


# ---- scores ------------------------------------------------------------------------------------


def test_the_pre_test_is_entered_in_formation(group: Group) -> None:
    _in_phase(group, GroupPhase.FORMATION)
    member = GroupMemberFactory(group=group)
    services.scores_record(group=group, which="pre", scores={member.pk: Decimal("72.5")})
    member.refresh_from_db()
    assert member.pre_score == Decimal("72.5")


def test_the_pre_test_is_refused_in_another_phase(group: Group) -> None:
    _in_phase(group, GroupPhase.MATURITY)
    member = GroupMemberFactory(group=group)
    with pytest.raises(ValidationError, match="录入前测只能在形成期进行"):
        services.scores_record(group=group, which="pre", scores={member.pk: Decimal("50")})


def test_the_post_test_is_refused_before_the_ending(group: Group) -> None:
    _in_phase(group, GroupPhase.FORMATION)
    member = GroupMemberFactory(group=group)
    with pytest.raises(ValidationError, match="录入后测只能在结束期进行"):
        services.scores_record(group=group, which="post", scores={member.pk: Decimal("50")})


def test_a_score_outside_the_scale_is_refused(group: Group) -> None:
    _in_phase(group, GroupPhase.ENDING)
    member = GroupMemberFactory(group=group)
    with pytest.raises(ValidationError, match=re.escape("超出量表范围（0.00–100.00）")):
        services.scores_record(group=group, which="post", scores={member.pk: Decimal("100.5")})


def test_the_leaders_evaluation_belongs_to_the_ending(group: Group) -> None:
    _in_phase(group, GroupPhase.MATURITY)
    with pytest.raises(ValidationError, match="填写带领者评估只能在结束期进行"):
        services.group_evaluate(group=group, text="目标基本达成")


# ---- the evaluation's figures ------------------------------------------------------------------


def test_the_paired_summary_of_a_lower_is_better_scale() -> None:
    pairs = [(Decimal(60), Decimal(50)), (Decimal(70), Decimal(64)), (Decimal(40), Decimal(42))]
    s = services.paired_summary(pairs, higher_is_better=False)
    # differences −10, −6, +2: mean −4.67, sd 6.11, t = −4.67 / (6.11/√3) = −1.32
    assert (s.mean_change, s.sd_change, s.t, s.improved, s.worsened) == (
        Decimal("-4.67"),
        Decimal("6.11"),
        Decimal("-1.32"),
        2,
        1,
    )


def test_one_pair_has_no_standard_deviation() -> None:
    s = services.paired_summary([(Decimal(10), Decimal(12))], higher_is_better=True)
    assert (s.mean_change, s.sd_change, s.t, s.improved) == (Decimal("2.00"), None, None, 1)


def test_attendance_rates_per_member_and_per_session(group: Group) -> None:
    a, b = GroupMemberFactory(group=group), GroupMemberFactory(group=group)
    first, second = GroupSessionFactory(group=group), GroupSessionFactory(group=group)
    GroupAttendanceFactory(session=first, member=a, status=GroupAttendanceStatus.PRESENT)
    GroupAttendanceFactory(session=first, member=b, status=GroupAttendanceStatus.LATE)
    GroupAttendanceFactory(session=second, member=a, status=GroupAttendanceStatus.ABSENT)
    GroupAttendanceFactory(session=second, member=b, status=GroupAttendanceStatus.PRESENT)
    GroupAttendanceFactory(
        session=GroupSessionFactory(group=group), member=b, status=GroupAttendanceStatus.PRESENT
    )
    result = services.group_evaluation(group)
    assert [r.rate for r in result.members] == [Decimal("50.0"), Decimal("100.0")]
    assert [r.rate for r in result.sessions] == [
        Decimal("100.0"),
        Decimal("50.0"),
        Decimal("100.0"),
    ]


# ---- outputs -----------------------------------------------------------------------------------


@pytest.fixture
def project(world: World) -> ServiceProject:
    return project_in(world.d1, world.c1, world.o1)


def test_the_project_counts_the_sessions_held_of_its_groups(
    group: Group, project: ServiceProject, world: World
) -> None:
    group.project = project
    group.save()
    GroupSessionFactory(group=group, held_on=PAST)
    GroupSessionFactory(group=group, held_on=TODAY)
    GroupSessionFactory(group=group, held_on=TODAY + dt.timedelta(days=3))  # not held yet
    GroupSessionFactory(group=GroupFactory(leader=group.leader, community=world.c1))
    assert indicators.counter_for(Metric.GROUP_SESSIONS)(project) == Decimal(2)  # type: ignore[misc]


def test_beneficiaries_are_the_members_who_came_counted_once(
    group: Group, project: ServiceProject, world: World
) -> None:
    group.project = project
    group.save()
    came, late, away = (GroupMemberFactory(group=group) for _ in range(3))
    other_group = GroupFactory(leader=group.leader, community=world.c1, project=project)
    came_again = GroupMemberFactory(group=other_group, person=came.person)
    for session in (GroupSessionFactory(group=group), GroupSessionFactory(group=group)):
        GroupAttendanceFactory(session=session, member=came)
    session = GroupSessionFactory(group=group)
    GroupAttendanceFactory(session=session, member=late, status=GroupAttendanceStatus.LATE)
    GroupAttendanceFactory(session=session, member=away, status=GroupAttendanceStatus.ABSENT)
    GroupAttendanceFactory(session=GroupSessionFactory(group=other_group), member=came_again)
    assert outputs.beneficiaries(project) >= {
        outputs.person_key(came.person_id),
        outputs.person_key(late.person_id),
    }
    assert set(services.beneficiary_keys(project)) == {
        outputs.person_key(came.person_id),
        outputs.person_key(late.person_id),
    }


def test_sessions_feed_the_share_outside_working_hours(group: Group, world: World) -> None:
    saturday = dt.date(2026, 3, 7)
    GroupSessionFactory(group=group, held_on=saturday, starts_at=dt.time(9), ends_at=dt.time(11))
    GroupSessionFactory(
        group=GroupFactory(leader=worker_in(world.o2, world.c2), community=world.c2),
        held_on=saturday,
    )
    shares = outputs.service_time_shares(world.users[Role.SOCIAL_WORKER], saturday, saturday)
    mine = next(s for s in shares if s.label == "小组节次")
    assert (mine.services, mine.hours, mine.share_outside) == (1, Decimal("2.0"), Decimal("100.0"))


def test_two_records_in_one_group_cannot_be_merged(group: Group, world: World) -> None:
    a, b = GroupMemberFactory(group=group), GroupMemberFactory(group=group)
    plan = person_merge_plan(keep=a.person, merge=b.person)
    assert any("同一小组" in c for c in plan.conflicts)
