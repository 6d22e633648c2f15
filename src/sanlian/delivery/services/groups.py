"""Writes and shared reads of group work (小组工作, MZ/T 095-2017).

A group is run by the social organisation of its leader: its manager and its social workers
write (plan, phases, recruitment, sessions, attendance, scores, evaluation); area roles read.
The phases 筹备期 → 形成期 → 转折期 → 成熟期 → 结束期 are passed one by one. Members are
recruited in 筹备期 and 形成期; sessions are recorded from 形成期 on; the pre-test is entered in
形成期 and the post-test in 结束期, within the group's scale; the leader's written evaluation
belongs to 结束期.

Outputs: the sessions held (dated today or earlier) of a project's groups are its
GROUP_SESSIONS indicator; members who attended at least one session are beneficiaries; each
session's date and times feed the share of service outside working hours.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sanlian.core.roles import Role
from sanlian.core.scoping import scope_for
from sanlian.organizations.models import Community, Person, SocialWorker, Venue
from sanlian.resources.models import ProjectStatus, ServiceProject

from ..models import (
    GROUP_ATTENDED,
    GROUP_PHASE_ORDER,
    Group,
    GroupAttendance,
    GroupAttendanceStatus,
    GroupMember,
    GroupMemberStatus,
    GroupPhase,
    GroupSession,
)

WRITER_ROLES = (Role.SOCIAL_ORG_MANAGER, Role.SOCIAL_WORKER)
RECRUITING_PHASES = (GroupPhase.PREPARATION, GroupPhase.FORMATION)
PROJECT_STATUSES = (ProjectStatus.ACTIVE, ProjectStatus.CLOSING)
PRE, POST = "pre", "post"
SCORE_PHASES = {PRE: GroupPhase.FORMATION, POST: GroupPhase.ENDING}
SCORE_LABELS = {PRE: gettext_lazy("前测"), POST: gettext_lazy("后测")}
PLAN_FIELDS = (
    "name",
    "kind",
    "goals",
    "target_members",
    "planned_sessions",
    "leader",
    "community",
    "project",
    "scale_name",
    "scale_min",
    "scale_max",
    "higher_is_better",
)
SCALE_FIELDS = ("scale_min", "scale_max", "higher_is_better")


# ---- who may do what ---------------------------------------------------------------------------


def _org_id(user: Any) -> int | None:
    scope = scope_for(user)
    if scope.is_admin or not scope.has(*WRITER_ROLES):
        return None
    return scope.org_id


def may_write(user: Any) -> bool:
    return _org_id(user) is not None


def may_manage(user: Any, group: Group) -> bool:
    """The manager and the social workers of the leader's organisation."""
    org_id = _org_id(user)
    return org_id is not None and group.leader.organization_id == org_id


def manageable(user: Any) -> QuerySet[Group]:
    org_id = _org_id(user)
    if org_id is None:
        return Group.objects.none()
    return Group.objects.visible_to(user).filter(leader__organization_id=org_id)


def leader_choices(user: Any) -> QuerySet[SocialWorker]:
    """The active social workers of the user's own organisation (leaders and co-leaders)."""
    org_id = _org_id(user)
    if org_id is None:
        return SocialWorker.objects.none()
    return SocialWorker.objects.active().filter(organization_id=org_id).select_related("person")


def project_choices(user: Any) -> QuerySet[ServiceProject]:
    org_id = _org_id(user)
    if org_id is None:
        return ServiceProject.objects.none()
    return ServiceProject.objects.visible_to(user).filter(
        organization_id=org_id, status__in=PROJECT_STATUSES
    )


def community_choices(user: Any) -> QuerySet[Community]:
    """The community the organisation is based in and those its running projects serve."""
    org_id = _org_id(user)
    if org_id is None:
        return Community.objects.none()
    served = ServiceProject.communities.through.objects.filter(
        serviceproject_id__in=project_choices(user).values("pk")
    ).values("community_id")
    return Community.objects.active().filter(
        Q(pk__in=Community.objects.visible_to(user).values("pk")) | Q(pk__in=served)
    )


def member_choices(user: Any, group: Group) -> QuerySet[Person]:
    """People in the user's scope not yet in the group."""
    return (
        Person.objects.visible_to(user)
        .active()
        .exclude(pk__in=group.members.values("person_id"))
        .order_by("name", "pk")
    )


def venue_choices(user: Any) -> QuerySet[Venue]:
    return Venue.objects.visible_to(user).active()


# ---- checks ------------------------------------------------------------------------------------


def _phase_label(phase: str) -> str:
    return str(GroupPhase(phase).label)


def _check_leaders(leader: SocialWorker, co_leaders: Iterable[SocialWorker]) -> None:
    if not leader.is_active:
        raise ValidationError({"leader": _("带领社工已离职，请另选。")})
    for co in co_leaders:
        if co.pk == leader.pk:
            raise ValidationError({"co_leaders": _("带领社工不必再列为协同带领。")})
        if co.organization_id != leader.organization_id:
            raise ValidationError({"co_leaders": _("协同带领须与带领社工同属一个机构。")})


def _check_project(project: ServiceProject | None, community: Community, leader: Any) -> None:
    if project is None:
        return
    if project.organization_id != leader.organization_id:
        raise ValidationError({"project": _("只能选择带领社工所在机构承接的服务项目。")})
    if not project.communities.filter(pk=community.pk).exists():
        raise ValidationError({"project": _("所选服务项目不服务该社区。")})


def _check_scale(scale_min: Decimal, scale_max: Decimal) -> None:
    if scale_max <= scale_min:
        raise ValidationError({"scale_max": _("量表最高分须大于最低分。")})


def _check_phase(group: Group, allowed: Iterable[str], what: str) -> None:
    allowed = tuple(allowed)
    if group.phase not in allowed:
        raise ValidationError(
            _("小组当前处于“%(phase)s”，%(what)s只能在%(allowed)s进行。")
            % {
                "phase": _phase_label(group.phase),
                "what": what,
                "allowed": _("、").join(_phase_label(p) for p in allowed),
            },
            code="phase",
        )


# ---- the plan and its phases -------------------------------------------------------------------


@transaction.atomic
def group_create(
    *,
    by: Any,
    name: str,
    kind: str,
    goals: str,
    target_members: str,
    planned_sessions: int,
    leader: SocialWorker,
    community: Community,
    scale_name: str,
    scale_min: Decimal,
    scale_max: Decimal,
    higher_is_better: bool = True,
    co_leaders: Iterable[SocialWorker] = (),
    project: ServiceProject | None = None,
) -> Group:
    """A new group in 筹备期 (its plan, 计划书)."""
    co_leaders = list(co_leaders)
    _check_leaders(leader, co_leaders)
    _check_project(project, community, leader)
    _check_scale(scale_min, scale_max)
    group = Group.objects.create(
        name=name.strip(),
        kind=kind,
        goals=goals,
        target_members=target_members,
        planned_sessions=planned_sessions,
        leader=leader,
        community=community,
        project=project,
        scale_name=scale_name,
        scale_min=scale_min,
        scale_max=scale_max,
        higher_is_better=higher_is_better,
        created_by=by,
    )
    group.co_leaders.set(co_leaders)
    return group


@transaction.atomic
def group_update(*, group: Group, co_leaders: Iterable[SocialWorker] = (), **fields: Any) -> Group:
    """Change the plan. The scale is fixed once a score has been entered (the scores would
    no longer be comparable); a group that has ended is not re-planned."""
    group = Group.objects.select_for_update().get(pk=group.pk)
    if group.phase == GroupPhase.ENDING:
        raise ValidationError(_("小组已进入结束期，计划书不能再修改。"), code="phase")
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields {sorted(unknown)}")
    scored = group.members.filter(Q(pre_score__isnull=False) | Q(post_score__isnull=False))
    if scored.exists() and any(
        name in fields and fields[name] != getattr(group, name) for name in SCALE_FIELDS
    ):
        raise ValidationError(
            {"scale_min": _("已有组员录入得分，量表的分值范围和方向不能再修改。")}
        )
    co_leaders = list(co_leaders)
    leader = fields.get("leader", group.leader)
    community = fields.get("community", group.community)
    _check_leaders(leader, co_leaders)
    _check_project(fields.get("project", group.project), community, leader)
    _check_scale(fields.get("scale_min", group.scale_min), fields.get("scale_max", group.scale_max))
    for name, value in fields.items():
        setattr(group, name, value)
    group.save()
    group.co_leaders.set(co_leaders)
    return group


@transaction.atomic
def group_advance(*, group: Group, to: str) -> Group:
    """Move the group into the next phase; any other target is refused."""
    group = Group.objects.select_for_update().get(pk=group.pk)
    expected = group.next_phase
    if to not in GROUP_PHASE_ORDER:
        raise ValidationError(_("未知的小组阶段。"), code="phase")
    if expected is None:
        raise ValidationError(_("小组已处于结束期，没有下一阶段。"), code="phase")
    if to != expected:
        raise ValidationError(
            _("小组当前处于“%(phase)s”，只能进入下一阶段“%(next)s”，不能跳到或退回“%(to)s”。")
            % {
                "phase": _phase_label(group.phase),
                "next": _phase_label(expected),
                "to": _phase_label(to),
            },
            code="phase",
        )
    if to == GroupPhase.FORMATION and not group.members.enrolled().exists():
        raise ValidationError(_("至少有一名组员入组后，小组才能进入形成期。"), code="phase")
    group.phase = to
    group.phase_changed_at = timezone.now()
    group.save(update_fields=["phase", "phase_changed_at"])
    return group


@transaction.atomic
def group_evaluate(*, group: Group, text: str) -> Group:
    """The leader's written evaluation (结束期)."""
    group = Group.objects.select_for_update().get(pk=group.pk)
    _check_phase(group, [GroupPhase.ENDING], _("填写带领者评估"))
    if not text.strip():
        raise ValidationError({"evaluation": _("请填写评估内容。")})
    group.evaluation = text.strip()
    group.evaluated_at = timezone.now()
    group.save(update_fields=["evaluation", "evaluated_at"])
    return group


# ---- recruitment -------------------------------------------------------------------------------


def _check_recruiting(group: Group) -> None:
    _check_phase(group, RECRUITING_PHASES, _("招募组员"))


@transaction.atomic
def member_add(
    *, group: Group, person: Person, consent: bool = False, enroll: bool = False
) -> GroupMember:
    """Sign a person up (报名); with `enroll` and consent they join at once (入组)."""
    _check_recruiting(group)
    if not person.is_active:
        raise ValidationError({"person": _("该居民记录已合并或停用。")})
    if group.members.filter(person=person).exists():
        raise ValidationError({"person": _("%(name)s 已在本小组中。") % {"name": person.name}})
    if enroll and not consent:
        raise ValidationError({"consent": _("组员须知情同意后才能入组。")})
    return GroupMember.objects.create(
        group=group,
        person=person,
        consent=consent,
        status=GroupMemberStatus.ENROLLED if enroll else GroupMemberStatus.APPLIED,
    )


@transaction.atomic
def member_quick_add(
    *,
    group: Group,
    name: str,
    sex: str,
    phone: str,
    consent: bool = False,
    enroll: bool = False,
) -> GroupMember:
    """Sign up someone not yet in the register: the person is registered in the group's
    community, unless a record with the same name and phone is there already (then that one is
    used: one person, one record)."""
    from sanlian.organizations.services.people import person_create, person_find_duplicates

    _check_recruiting(group)
    found = person_find_duplicates(name=name, phone=phone)
    if found.same_name_phone:
        person = found.same_name_phone[0]
    else:
        person = person_create(name=name, community=group.community, phone=phone, sex=sex)
    return member_add(group=group, person=person, consent=consent, enroll=enroll)


@transaction.atomic
def member_set_status(
    *, member: GroupMember, status: str, consent: bool | None = None, reason: str = ""
) -> GroupMember:
    """Enrol (入组, with consent) or withdraw (退出, with a reason) a member."""
    member = GroupMember.objects.select_for_update().select_related("group").get(pk=member.pk)
    if consent is not None:
        member.consent = consent or member.consent
    if status == GroupMemberStatus.ENROLLED:
        _check_recruiting(member.group)
        if not member.consent:
            raise ValidationError({"consent": _("组员须知情同意后才能入组。")})
    elif status == GroupMemberStatus.WITHDRAWN:
        if not reason.strip():
            raise ValidationError({"reason": _("请填写退出原因。")})
        member.withdrawn_reason = reason.strip()
    elif status == GroupMemberStatus.APPLIED and member.status != GroupMemberStatus.APPLIED:
        raise ValidationError({"status": _("已入组或退出的组员不能改回报名状态。")})
    member.status = status
    member.save()
    return member


# ---- sessions and attendance -------------------------------------------------------------------


def next_session_number(group: Group) -> int:
    return int(group.sessions.aggregate(n=Max("number"))["n"] or 0) + 1


def _check_session_times(held_on: dt.date, starts_at: dt.time, ends_at: dt.time) -> None:
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("结束时间须晚于开始时间。")})


def _check_number(group: Group, number: int, session: GroupSession | None = None) -> None:
    if number < 1:
        raise ValidationError({"number": _("节次须从 1 开始。")})
    others = group.sessions.filter(number=number)
    if session is not None:
        others = others.exclude(pk=session.pk)
    if others.exists():
        raise ValidationError({"number": _("第%(n)s节已记录。") % {"n": number}})


@transaction.atomic
def session_record(
    *,
    group: Group,
    by: Any,
    held_on: dt.date,
    starts_at: dt.time,
    ends_at: dt.time,
    theme: str,
    number: int | None = None,
    venue: Venue | None = None,
    activities: str = "",
    notes: str = "",
    attendance: Mapping[int, str] | None = None,
) -> GroupSession:
    """Record one session (from 形成期 on), with its attendance (member id → status)."""
    group = Group.objects.select_for_update().get(pk=group.pk)
    _check_phase(group, GROUP_PHASE_ORDER[1:], _("记录节次"))
    number = number or next_session_number(group)
    _check_number(group, number)
    _check_session_times(held_on, starts_at, ends_at)
    session = GroupSession.objects.create(
        group=group,
        number=number,
        held_on=held_on,
        starts_at=starts_at,
        ends_at=ends_at,
        venue=venue,
        theme=theme,
        activities=activities,
        notes=notes,
        recorded_by=by,
    )
    if attendance:
        attendance_record(session=session, marks=attendance)
    return session


@transaction.atomic
def session_update(
    *, session: GroupSession, attendance: Mapping[int, str] | None = None, **fields: Any
) -> GroupSession:
    """Correct a session's record and its attendance (member id → status) together."""
    session = GroupSession.objects.select_for_update().get(pk=session.pk)
    allowed = {"number", "held_on", "starts_at", "ends_at", "venue", "theme", "activities", "notes"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unknown fields {sorted(unknown)}")
    if "number" in fields:
        _check_number(session.group, fields["number"], session)
    _check_session_times(
        fields.get("held_on", session.held_on),
        fields.get("starts_at", session.starts_at),
        fields.get("ends_at", session.ends_at),
    )
    for name, value in fields.items():
        setattr(session, name, value)
    session.save()
    if attendance:
        attendance_record(session=session, marks=attendance)
    return session


@transaction.atomic
def attendance_record(*, session: GroupSession, marks: Mapping[int, str]) -> list[GroupAttendance]:
    """Set the attendance of members of the session's group (member id → status); members
    not named keep what they had. Only enrolled members are marked (and members who withdrew
    keep the marks of the sessions they came to)."""
    members = {m.pk: m for m in session.group.members.all()}
    out = []
    for member_id, status in marks.items():
        member = members.get(int(member_id))
        if member is None:
            raise ValidationError({"attendance": _("签到名单中有不属于本小组的组员。")})
        if status not in GroupAttendanceStatus.values:
            raise ValidationError({"attendance": _("出勤情况只能是出席、迟到或缺席。")})
        existing = GroupAttendance.objects.filter(session=session, member=member).first()
        if member.status != GroupMemberStatus.ENROLLED and existing is None:
            raise ValidationError(
                {"attendance": _("%(name)s 尚未入组，不能签到。") % {"name": member.person.name}}
            )
        if existing is None:
            existing = GroupAttendance(session=session, member=member)
        if existing.status != status:
            existing.status = status
            existing.save()
        out.append(existing)
    return out


# ---- pre-test and post-test --------------------------------------------------------------------


@transaction.atomic
def scores_record(
    *, group: Group, which: str, scores: Mapping[int, Decimal | None]
) -> list[GroupMember]:
    """Enter pre-test (形成期) or post-test (结束期) scores (member id → score; None clears)."""
    if which not in SCORE_PHASES:
        raise ValueError(which)
    group = Group.objects.select_for_update().get(pk=group.pk)
    _check_phase(
        group, [SCORE_PHASES[which]], str(_("录入%(what)s") % {"what": SCORE_LABELS[which]})
    )
    members = {m.pk: m for m in group.members.select_related("person")}
    field = f"{which}_score"
    changed = []
    for member_id, score in scores.items():
        member = members.get(int(member_id))
        if member is None:
            raise ValidationError({"scores": _("名单中有不属于本小组的组员。")})
        if score is not None:
            if member.status != GroupMemberStatus.ENROLLED:
                raise ValidationError(
                    {"scores": _("%(name)s 未入组，不能录入得分。") % {"name": member.person.name}}
                )
            if not group.in_range(score):
                raise ValidationError(
                    {
                        "scores": _("%(name)s 的得分 %(score)s 超出量表范围（%(min)s–%(max)s）。")
                        % {
                            "name": member.person.name,
                            "score": score,
                            "min": group.scale_min,
                            "max": group.scale_max,
                        }
                    }
                )
        if getattr(member, field) != score:
            setattr(member, field, score)
            member.save(update_fields=[field])
            changed.append(member)
    return changed


# ---- evaluation (reads shared by the page, the export and the API) -----------------------------


@dataclass(frozen=True)
class PairedSummary:
    """Post − pre of the members with both scores."""

    n: int
    mean_pre: Decimal | None
    mean_post: Decimal | None
    mean_change: Decimal | None
    sd_change: Decimal | None
    improved: int
    unchanged: int
    worsened: int
    # Paired t statistic (mean / (sd / √n)), shown without a p-value (no SciPy here).
    t: Decimal | None

    @property
    def df(self) -> int:
        return max(self.n - 1, 0)


def _q(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def paired_summary(
    pairs: list[tuple[Decimal, Decimal]], *, higher_is_better: bool
) -> PairedSummary:
    """Pure: the group's change from (pre, post) pairs. "Improved" follows the scale's
    direction."""
    if not pairs:
        return PairedSummary(0, None, None, None, None, 0, 0, 0, None)
    diffs = [float(post - pre) for pre, post in pairs]
    sign = 1 if higher_is_better else -1
    mean = statistics.fmean(diffs)
    sd = statistics.stdev(diffs) if len(diffs) > 1 else None
    t = None
    if sd is not None and sd > 0:
        t = _q(mean / (sd / math.sqrt(len(diffs))))
    return PairedSummary(
        n=len(pairs),
        mean_pre=_q(statistics.fmean(float(p) for p, _ in pairs)),
        mean_post=_q(statistics.fmean(float(p) for _, p in pairs)),
        mean_change=_q(mean),
        sd_change=_q(sd) if sd is not None else None,
        improved=sum(1 for d in diffs if d * sign > 0),
        unchanged=sum(1 for d in diffs if d == 0),
        worsened=sum(1 for d in diffs if d * sign < 0),
        t=t,
    )


@dataclass(frozen=True)
class MemberRow:
    member: GroupMember
    attended: int
    recorded: int

    @property
    def rate(self) -> Decimal | None:
        if not self.recorded:
            return None
        return (Decimal(self.attended) * 100 / self.recorded).quantize(Decimal("0.1"))

    @property
    def improved(self) -> bool | None:
        change = self.member.change
        if change is None:
            return None
        return bool(change > 0) if self.member.group.higher_is_better else bool(change < 0)


@dataclass(frozen=True)
class SessionRow:
    session: GroupSession
    attended: int
    recorded: int

    @property
    def rate(self) -> Decimal | None:
        if not self.recorded:
            return None
        return (Decimal(self.attended) * 100 / self.recorded).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class GroupEvaluation:
    group: Group
    members: list[MemberRow]
    sessions: list[SessionRow]
    summary: PairedSummary

    def chart(self) -> dict[str, Any]:
        """Pre vs post per member (bar chart of the shared ECharts shorthand)."""
        scored = [r for r in self.members if r.member.change is not None]
        return {
            "_kind": "bar",
            "categories": [r.member.person.name for r in scored],
            "series": [
                {"name": str(_("前测")), "data": [float(r.member.pre_score or 0) for r in scored]},
                {"name": str(_("后测")), "data": [float(r.member.post_score or 0) for r in scored]},
            ],
        }


def member_rows(group: Group) -> list[MemberRow]:
    members = (
        group.members.select_related("person", "group")
        .annotate(
            n_attended=Count("attendance", filter=Q(attendance__status__in=GROUP_ATTENDED)),
            n_recorded=Count("attendance"),
        )
        .order_by("pk")
    )
    return [MemberRow(m, m.n_attended, m.n_recorded) for m in members]


def session_rows(group: Group) -> list[SessionRow]:
    sessions = (
        group.sessions.select_related("venue")
        .annotate(
            n_attended=Count("attendance", filter=Q(attendance__status__in=GROUP_ATTENDED)),
            n_recorded=Count("attendance"),
        )
        .order_by("number")
    )
    return [SessionRow(s, s.n_attended, s.n_recorded) for s in sessions]


def group_evaluation(group: Group) -> GroupEvaluation:
    rows = member_rows(group)
    pairs = [
        (r.member.pre_score, r.member.post_score)
        for r in rows
        if r.member.pre_score is not None and r.member.post_score is not None
    ]
    return GroupEvaluation(
        group=group,
        members=rows,
        sessions=session_rows(group),
        summary=paired_summary(pairs, higher_is_better=group.higher_is_better),
    )


def filter_groups(qs: QuerySet[Group], data: Mapping[str, Any]) -> QuerySet[Group]:
    """The list's filters (cleaned data of `GroupFilterForm`)."""
    if data.get("q"):
        qs = qs.filter(name__icontains=data["q"])
    for name in ("kind", "phase"):
        if data.get(name):
            qs = qs.filter(**{name: data[name]})
    for name in ("community", "project"):
        if data.get(name):
            qs = qs.filter(**{name: data[name]})
    return qs


# ---- outputs -----------------------------------------------------------------------------------


def sessions_held(project: ServiceProject) -> Decimal:
    return Decimal(GroupSession.objects.filter(group__project=project).held().count())


def beneficiary_keys(project: ServiceProject) -> Iterable[str]:
    from ..outputs import person_key

    ids = (
        GroupAttendance.objects.filter(session__group__project=project, status__in=GROUP_ATTENDED)
        .values_list("member__person_id", flat=True)
        .distinct()
    )
    return (person_key(pk) for pk in ids)


def service_times(
    user: Any, date_from: dt.date, date_to: dt.date
) -> Iterable[tuple[dt.date, dt.time, dt.time]]:
    return (
        GroupSession.objects.visible_to(user)
        .filter(held_on__gte=date_from, held_on__lte=date_to)
        .values_list("held_on", "starts_at", "ends_at")
    )


def _merge_conflict(keep: Person, merge: Person) -> str | None:
    both = GroupMember.objects.filter(person=keep).values("group_id")
    if GroupMember.objects.filter(person=merge, group_id__in=both).exists():
        return _("两条记录在同一小组中都是组员，请先让其中一条退出该小组。")
    return None


def connect() -> None:
    from sanlian.organizations.services.people import PersonLink, register_person_link
    from sanlian.resources.models import Metric
    from sanlian.resources.services.indicators import register_counter

    from .. import outputs

    register_counter(Metric.GROUP_SESSIONS, sessions_held)
    outputs.register_beneficiaries("groups", beneficiary_keys)
    outputs.register_service_times("groups", cast(str, gettext_lazy("小组节次")), service_times)
    register_person_link(PersonLink("delivery.GroupMember.person", conflict=_merge_conflict))
