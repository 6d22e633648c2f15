"""Pages of group work (小组工作): the list, the plan, phases, recruitment, sessions with
attendance, pre/post scores and the evaluation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sanlian.core.decorators import role_required
from sanlian.core.forms import add_service_errors
from sanlian.core.xlsx import export_response, wants_xlsx
from sanlian.organizations.models import Community
from sanlian.resources.models import ServiceProject

from ..forms.groups import (
    AdvanceForm,
    EvaluationForm,
    GroupFilterForm,
    GroupForm,
    MemberAddForm,
    MemberQuickAddForm,
    MemberStatusForm,
    ScoresForm,
    SessionFilterForm,
    SessionForm,
)
from ..models import Group, GroupMember, GroupMemberStatus, GroupPhase, GroupSession
from ..services import groups as services


def _user(request: HttpRequest) -> Any:
    return request.user


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _group(request: HttpRequest, pk: int) -> Group:
    return get_object_or_404(
        Group.objects.visible_to(request.user).select_related(
            "leader__person", "community", "project"
        ),
        pk=pk,
    )


def _managed(request: HttpRequest, pk: int) -> Group:
    """A group the user may write to: outside scope 404, in scope but read-only 403."""
    group = _group(request, pk)
    if not services.may_manage(request.user, group):
        raise PermissionDenied
    return group


# ---- the list ----------------------------------------------------------------------------------


def _filter_form(request: HttpRequest, user: Any) -> GroupFilterForm:
    return GroupFilterForm(
        request.GET or None,
        communities=Community.objects.visible_to(user),
        projects=ServiceProject.objects.visible_to(user),
    )


def _export(request: HttpRequest, groups: Any) -> HttpResponse:
    return export_response(
        request,
        filename="groups.xlsx",
        title=_("小组工作"),
        headers=[
            _("小组名称"),
            _("类型"),
            _("社区"),
            _("服务项目"),
            _("带领社工"),
            _("阶段"),
            _("计划节数"),
            _("已开展节数"),
            _("入组人数"),
            _("测量量表"),
        ],
        rows=(
            [
                g.name,
                g.get_kind_display(),
                g.community.name,
                g.project.title if g.project else "",
                g.leader.person.name,
                g.get_phase_display(),
                g.planned_sessions,
                g.n_sessions,
                g.n_enrolled,
                g.scale_name,
            ]
            for g in groups.iterator(chunk_size=2000)
        ),
        object_type="delivery.Group",
    )


@login_required
def group_list(request: HttpRequest) -> HttpResponse:
    from django.db.models import Count, Q

    user = _user(request)
    groups: Any = Group.objects.visible_to(user)
    form = _filter_form(request, user)
    if form.is_valid():
        groups = services.filter_groups(groups, form.cleaned_data)
    elif form.is_bound:
        groups = groups.none()
    groups = (
        groups.select_related("community", "project", "leader__person")
        .annotate(
            n_sessions=Count("sessions", distinct=True),
            n_enrolled=Count(
                "members", filter=Q(members__status=GroupMemberStatus.ENROLLED), distinct=True
            ),
        )
        .order_by("-created_at", "-pk")
    )
    if wants_xlsx(request):
        return _export(request, groups)
    page = Paginator(groups, 50).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "can_create": services.may_write(user)}
    template = "delivery/groups/group_list.html"
    return render(request, f"{template}#results" if _htmx(request) else template, context)


# ---- the plan ----------------------------------------------------------------------------------


def _group_form(user: Any, data: Any = None, **kwargs: Any) -> GroupForm:
    return GroupForm(
        data,
        leaders=services.leader_choices(user),
        communities=services.community_choices(user),
        projects=services.project_choices(user),
        **kwargs,
    )


@role_required(*services.WRITER_ROLES)
def group_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not services.may_write(user):
        raise PermissionDenied
    initial: dict[str, Any] = {}
    mine = services.leader_choices(user).filter(person__user=user).first()
    if mine is not None:
        initial["leader"] = mine.pk
    form = _group_form(user, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            group = services.group_create(by=user, **form.service_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("小组已创建：%(name)s。") % {"name": group.name})
            return redirect(group)
    return render(request, "delivery/groups/group_form.html", {"form": form, "group": None})


@role_required(*services.WRITER_ROLES)
def group_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    group = _managed(request, pk)
    initial = {name: getattr(group, name) for name in services.PLAN_FIELDS}
    initial["co_leaders"] = list(group.co_leaders.all())
    form = _group_form(user, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.group_update(group=group, **form.service_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("计划书已保存。"))
            return redirect(group)
    return render(request, "delivery/groups/group_form.html", {"form": form, "group": group})


@login_required
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    group = _group(request, pk)
    can_manage = services.may_manage(request.user, group)
    context = {
        "group": group,
        "co_leaders": group.co_leaders.select_related("person"),
        "members": services.member_rows(group),
        "sessions": services.session_rows(group),
        "can_manage": can_manage,
        "phases": [(value, label, i) for i, (value, label) in enumerate(GroupPhase.choices)],
        "phase_index": group.phase_index(),
        "recruiting": group.phase in services.RECRUITING_PHASES,
        "may_record_sessions": group.phase != GroupPhase.PREPARATION,
        "status_form": MemberStatusForm(),
    }
    return render(request, "delivery/groups/group_detail.html", context)


@require_POST
@role_required(*services.WRITER_ROLES)
def group_advance(request: HttpRequest, pk: int) -> HttpResponse:
    group = _managed(request, pk)
    form = AdvanceForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择要进入的阶段。"))
        return redirect(group)
    try:
        group = services.group_advance(group=group, to=form.cleaned_data["to"])
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("小组已进入%(phase)s。") % {"phase": group.get_phase_display()})
    return redirect(group)


# ---- recruitment -------------------------------------------------------------------------------


@role_required(*services.WRITER_ROLES)
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Recruit: pick someone from the register or register them quickly."""
    user = _user(request)
    group = _managed(request, pk)
    people = services.member_choices(user, group)
    pick = MemberAddForm(people=people, prefix="pick")
    quick = MemberQuickAddForm(prefix="quick")
    if request.method == "POST":
        quick_add = "quick" in request.POST
        form: forms.Form
        if quick_add:
            form = quick = MemberQuickAddForm(request.POST, prefix="quick")
        else:
            form = pick = MemberAddForm(request.POST, people=people, prefix="pick")
        if form.is_valid():
            try:
                if quick_add:
                    member = services.member_quick_add(group=group, **form.cleaned_data)
                else:
                    member = services.member_add(group=group, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("%(name)s 已%(status)s。")
                    % {"name": member.person.name, "status": member.get_status_display()},
                )
                return redirect("delivery:group_member_add", pk=group.pk)
    context = {
        "group": group,
        "pick": pick,
        "quick": quick,
        "members": services.member_rows(group),
        "recruiting": group.phase in services.RECRUITING_PHASES,
    }
    return render(request, "delivery/groups/member_form.html", context)


@require_POST
@role_required(*services.WRITER_ROLES)
def member_status(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    group = _managed(request, pk)
    member = get_object_or_404(
        GroupMember.objects.visible_to(request.user), pk=member_pk, group=group
    )
    form = MemberStatusForm(request.POST)
    if form.is_valid():
        try:
            services.member_set_status(member=member, **form.cleaned_data)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("组员状态已更新。"))
    else:
        messages.error(request, _("请选择组员状态。"))
    return redirect(group)


# ---- sessions ----------------------------------------------------------------------------------


def _attending(group: Group, session: GroupSession | None = None) -> list[GroupMember]:
    """The members on the attendance sheet: the enrolled, and whoever has a mark already."""
    from django.db.models import Q

    q = Q(status=GroupMemberStatus.ENROLLED)
    if session is not None:
        q |= Q(attendance__session=session)
    return list(group.members.filter(q).select_related("person").distinct().order_by("pk"))


@role_required(*services.WRITER_ROLES)
def session_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    group = _managed(request, pk)
    members = _attending(group)
    form = SessionForm(
        request.POST or None,
        venues=services.venue_choices(user),
        members=members,
        initial={"number": services.next_session_number(group)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_record(
                group=group, by=user, attendance=form.marks(), **form.service_fields()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已记录：%(s)s。") % {"s": session})
            return redirect(group)
    context = {"group": group, "form": form, "session": None}
    return render(request, "delivery/groups/session_form.html", context)


@role_required(*services.WRITER_ROLES)
def session_edit(request: HttpRequest, pk: int, session_pk: int) -> HttpResponse:
    user = _user(request)
    group = _managed(request, pk)
    session = get_object_or_404(group.sessions.all(), pk=session_pk)
    members = _attending(group, session)
    initial: dict[str, Any] = {
        name: getattr(session, name)
        for name in ("number", "held_on", "starts_at", "ends_at", "theme", "activities", "notes")
    }
    initial["venue"] = session.venue_id
    for mark in session.attendance.all():
        initial[f"att_{mark.member_id}"] = mark.status
    form = SessionForm(
        request.POST or None, venues=services.venue_choices(user), members=members, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.session_update(
                session=session, attendance=form.marks(), **form.service_fields()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("节次记录已保存。"))
            return redirect(group)
    context = {"group": group, "form": form, "session": session}
    return render(request, "delivery/groups/session_form.html", context)


@login_required
def session_list(request: HttpRequest) -> HttpResponse:
    """Sessions of every group in scope (filter by group and dates; exportable)."""
    user = _user(request)
    sessions: Any = GroupSession.objects.visible_to(user).select_related(
        "group", "group__community", "venue"
    )
    group_id = request.GET.get("group")
    if group_id:
        if not group_id.isdigit():
            raise Http404
        sessions = sessions.filter(group_id=int(group_id))
    date_from, date_to = request.GET.get("date_from"), request.GET.get("date_to")
    filters = SessionFilterForm(request.GET or None)
    if filters.is_valid():
        if filters.cleaned_data["date_from"]:
            sessions = sessions.filter(held_on__gte=filters.cleaned_data["date_from"])
        if filters.cleaned_data["date_to"]:
            sessions = sessions.filter(held_on__lte=filters.cleaned_data["date_to"])
    elif date_from or date_to:
        sessions = sessions.none()
    sessions = sessions.order_by("-held_on", "-starts_at", "-pk")
    if wants_xlsx(request):
        return export_response(
            request,
            filename="group-sessions.xlsx",
            title=_("小组节次"),
            headers=[
                _("小组"),
                _("社区"),
                _("节次"),
                _("日期"),
                _("开始时间"),
                _("结束时间"),
                _("场地"),
                _("主题"),
                _("出席人数"),
            ],
            rows=(
                [
                    s.group.name,
                    s.group.community.name,
                    s.number,
                    s.held_on,
                    s.starts_at.strftime("%H:%M"),
                    s.ends_at.strftime("%H:%M"),
                    s.venue.name if s.venue else "",
                    s.theme,
                    s.attendance.attended().count(),
                ]
                for s in sessions.iterator(chunk_size=500)
            ),
            object_type="delivery.GroupSession",
        )
    page = Paginator(sessions, 50).get_page(request.GET.get("page"))
    return render(request, "delivery/groups/session_list.html", {"page": page, "filters": filters})


# ---- scores and evaluation ---------------------------------------------------------------------


@role_required(*services.WRITER_ROLES)
def scores(request: HttpRequest, pk: int, which: str) -> HttpResponse:
    if which not in services.SCORE_PHASES:
        raise Http404
    group = _managed(request, pk)
    members = list(group.members.enrolled().select_related("person").order_by("pk"))
    form = ScoresForm(request.POST or None, members=members, which=which)
    if request.method == "POST" and form.is_valid():
        try:
            services.scores_record(group=group, which=which, scores=form.scores())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("%(what)s得分已保存。") % {"what": services.SCORE_LABELS[which]}
            )
            return redirect(group)
    context = {
        "group": group,
        "form": form,
        "which": which,
        "what": services.SCORE_LABELS[which],
        "phase_label": GroupPhase(services.SCORE_PHASES[which]).label,
        "open": group.phase == services.SCORE_PHASES[which],
    }
    return render(request, "delivery/groups/scores_form.html", context)


@login_required
def evaluation(request: HttpRequest, pk: int) -> HttpResponse:
    """Each member's change, the group's, attendance rates, and the leader's evaluation."""
    group = _group(request, pk)
    can_manage = services.may_manage(request.user, group)
    form = EvaluationForm(request.POST or None, initial={"evaluation": group.evaluation})
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.group_evaluate(group=group, text=form.cleaned_data["evaluation"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("带领者评估已保存。"))
                return redirect("delivery:group_evaluation", pk=group.pk)
    result = services.group_evaluation(group)
    if wants_xlsx(request):
        return export_response(
            request,
            filename="group-evaluation.xlsx",
            title=_("小组评估"),
            headers=[
                _("组员"),
                _("状态"),
                _("前测"),
                _("后测"),
                _("变化（后测−前测）"),
                _("出勤节数"),
                _("出勤率（%）"),
            ],
            rows=(
                [
                    r.member.person.name,
                    r.member.get_status_display(),
                    r.member.pre_score,
                    r.member.post_score,
                    r.member.change,
                    r.attended,
                    r.rate,
                ]
                for r in result.members
            ),
            object_type="delivery.Group",
        )
    context = {
        "group": group,
        "result": result,
        "chart": result.chart(),
        "form": form,
        "can_write": can_manage and group.phase == GroupPhase.ENDING,
    }
    return render(request, "delivery/groups/evaluation.html", context)
