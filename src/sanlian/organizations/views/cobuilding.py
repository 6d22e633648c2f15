"""Pages of 组织联建: co-building agreements, joint meetings and their follow-up items."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sanlian.core import audit
from sanlian.core.decorators import role_required
from sanlian.core.editing import versioned_edit
from sanlian.core.models import AuditAction
from sanlian.core.roles import Role
from sanlian.core.services import ConcurrentEditError
from sanlian.core.xlsx import xlsx_response

from .. import services
from ..forms import (
    AgreementCreateForm,
    AgreementEditForm,
    AgreementFilterForm,
    AgreementPartyForm,
    CommunityPickForm,
    FollowUpForm,
    FollowUpStatusForm,
    JointMeetingCreateForm,
    JointMeetingEditForm,
)
from ..forms.cobuilding import (
    attendance_formset,
    follow_up_formset,
    meeting_organizations,
    party_candidates,
    party_formset,
)
from ..models import (
    AgreementParty,
    AgreementStatus,
    CoBuildingAgreement,
    Community,
    FollowUpItem,
    FollowUpStatus,
    JointMeeting,
    PartyRole,
)
from .common import EDITORS, user_of


def can_edit_cobuilding(user: Any) -> bool:
    return bool(user.has_role(*EDITORS))


def can_update_follow_up(user: Any, item: FollowUpItem) -> bool:
    return item.can_be_updated_by(user)


def _validation_messages(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _parties_prefetch() -> Prefetch[Any]:
    return Prefetch(
        "parties", queryset=AgreementParty.objects.select_related("organization").order_by("pk")
    )


# ---- agreements ----------------------------------------------------------------------------


@login_required
def agreement_list(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    communities = Community.objects.visible_to(user).order_by("name")
    form = AgreementFilterForm(request.GET or None, communities=communities)
    agreements = (
        CoBuildingAgreement.objects.visible_to(user)
        .select_related("community")
        .prefetch_related(_parties_prefetch())
        .annotate(meeting_count=Count("meetings", distinct=True))
        .order_by("community__name", "-valid_from", "-pk")
    )
    if form.is_valid():
        if form.cleaned_data["community"]:
            agreements = agreements.filter(community=form.cleaned_data["community"])
        if form.cleaned_data["status"]:
            agreements = agreements.filter(status=form.cleaned_data["status"])
    if request.GET.get("format") == "xlsx":
        audit.record(
            AuditAction.EXPORT,
            object_type="organizations.CoBuildingAgreement",
            changes=dict(request.GET),
        )
        return xlsx_response(
            "agreements.xlsx",
            [
                _("社区"),
                _("协议名称"),
                _("协议编号"),
                _("状态"),
                _("签订日期"),
                _("有效期起"),
                _("有效期止"),
                _("签署方"),
                _("联席会议"),
                _("共建承诺"),
            ],
            (
                [
                    a.community.name,
                    a.title,
                    a.document_number,
                    a.get_status_display(),
                    a.signed_on,
                    a.valid_from,
                    a.valid_to,
                    _("、").join(p.organization.name for p in a.parties.all()),
                    a.meeting_count,
                    a.commitments,
                ]
                for a in agreements
            ),
            title=_("联建协议"),
        )
    today = timezone.localdate()
    overdue = FollowUpItem.objects.visible_to(user).overdue(today).count()
    page = Paginator(agreements, 50).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "overdue_count": overdue,
        "can_edit": can_edit_cobuilding(user),
        "today": today,
    }
    return render(request, "organizations/cobuilding/agreement_list.html", context)


@login_required
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    agreement = get_object_or_404(
        CoBuildingAgreement.objects.visible_to(user)
        .select_related("community")
        .prefetch_related(_parties_prefetch()),
        pk=pk,
    )
    meetings = (
        JointMeeting.objects.visible_to(user)
        .filter(agreement=agreement)
        .annotate(
            follow_up_count=Count("follow_ups", distinct=True),
            attendee_count=Count("attendance", filter=Q(attendance__present=True), distinct=True),
        )
    )
    today = timezone.localdate()
    follow_ups = (
        FollowUpItem.objects.visible_to(user)
        .filter(meeting__agreement=agreement)
        .select_related("meeting", "owner_organization")
        .order_by("status", "due_on")
    )
    context = {
        "agreement": agreement,
        "meetings": meetings,
        "follow_ups": follow_ups,
        "today": today,
        "can_edit": can_edit_cobuilding(user),
        "can_update": can_edit_cobuilding(user),
        "can_remove_parties": can_edit_cobuilding(user)
        and agreement.status == AgreementStatus.DRAFT,
    }
    return render(request, "organizations/cobuilding/agreement_detail.html", context)


def _community_from_request(request: HttpRequest, user: Any) -> Community | None:
    """The community a new record is for: ?community=, or the user's only one."""
    communities = Community.objects.visible_to(user)
    if request.GET.get("community"):
        return get_object_or_404(communities, pk=request.GET.get("community"))
    only = list(communities[:2])
    return only[0] if len(only) == 1 else None


@role_required(*EDITORS)
def agreement_create(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    community = _community_from_request(request, user)
    if community is None:
        picker = CommunityPickForm(communities=Community.objects.visible_to(user).order_by("name"))
        return render(
            request,
            "organizations/cobuilding/community_pick.html",
            {"picker": picker, "title": _("新建联建协议")},
        )
    data = request.POST if request.method == "POST" else None
    form = AgreementCreateForm(data, initial={"signed_on": timezone.localdate()})
    parties = party_formset(data, user=user, community=community)
    if data is not None and form.is_valid() and parties.is_valid():
        try:
            agreement = services.agreement_create(
                community=community,
                parties=[
                    services.PartySpec(
                        organization=r["organization"],
                        role=r["role"],
                        signed_on=r.get("signed_on"),
                        signatory_name=r.get("signatory_name", ""),
                    )
                    for r in parties.rows()
                ],
                **form.cleaned_data,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("联建协议已登记。"))
            for warning in form.warnings():
                messages.warning(request, warning)
            return redirect(agreement)
    context = {"form": form, "parties": parties, "community": community}
    return render(request, "organizations/cobuilding/agreement_form.html", context)


@role_required(*EDITORS)
def agreement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = get_object_or_404(CoBuildingAgreement.objects.visible_to(request.user), pk=pk)
    return versioned_edit(
        request, agreement, AgreementEditForm, "organizations/cobuilding/agreement_edit.html"
    )


@role_required(*EDITORS)
def agreement_party_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    agreement = get_object_or_404(
        CoBuildingAgreement.objects.visible_to(user).select_related("community"), pk=pk
    )
    candidates = party_candidates(user, agreement.community)
    existing = candidates.filter(agreement_parties__agreement=agreement)
    form = AgreementPartyForm(
        request.POST or None,
        organizations=candidates.exclude(pk__in=existing.values("pk")),
        existing=existing,
        require=True,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.agreement_party_add(
                agreement=agreement,
                party=services.PartySpec(
                    organization=data["organization"],
                    role=data["role"],
                    signed_on=data.get("signed_on"),
                    signatory_name=data.get("signatory_name", ""),
                ),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("签署方已添加。"))
            return redirect(agreement)
    return render(
        request,
        "organizations/cobuilding/party_form.html",
        {"form": form, "agreement": agreement},
    )


@role_required(*EDITORS)
@require_POST
def agreement_party_remove(request: HttpRequest, pk: int, party_pk: int) -> HttpResponse:
    agreement = get_object_or_404(CoBuildingAgreement.objects.visible_to(request.user), pk=pk)
    party = get_object_or_404(agreement.parties.select_related("organization"), pk=party_pk)
    try:
        services.agreement_party_remove(party=party)
    except ValidationError as exc:
        for message in _validation_messages(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("已删除签署方“%(name)s”。") % {"name": party.organization.name})
    return redirect(agreement)


# ---- joint meetings ------------------------------------------------------------------------


@login_required
def meeting_list(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    meetings = (
        JointMeeting.objects.visible_to(user)
        .select_related("community", "agreement")
        .annotate(
            open_count=Count(
                "follow_ups",
                filter=Q(
                    follow_ups__status__in=[FollowUpStatus.NOT_STARTED, FollowUpStatus.IN_PROGRESS]
                ),
                distinct=True,
            )
        )
    )
    page = Paginator(meetings, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "organizations/cobuilding/meeting_list.html",
        {"page": page, "can_edit": can_edit_cobuilding(user)},
    )


def _chair_default(user: Any, agreement: CoBuildingAgreement | None) -> str:
    if user.has_role(Role.PARTY_SECRETARY):
        return str(user.full_name or user.username)
    if agreement is not None:
        party = agreement.parties.filter(role=PartyRole.PARTY_ORG).first()
        if party is not None:
            return party.signatory_name
    return ""


@role_required(*EDITORS)
def meeting_create(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    agreement = None
    if request.GET.get("agreement"):
        agreement = get_object_or_404(
            CoBuildingAgreement.objects.visible_to(user).select_related("community"),
            pk=request.GET.get("agreement"),
        )
        community: Community | None = agreement.community
    else:
        community = _community_from_request(request, user)
    if community is None:
        picker = CommunityPickForm(communities=Community.objects.visible_to(user).order_by("name"))
        return render(
            request,
            "organizations/cobuilding/community_pick.html",
            {"picker": picker, "title": _("登记联席会议")},
        )
    organizations = meeting_organizations(user, community)
    data = request.POST if request.method == "POST" else None
    now = timezone.localtime().replace(minute=0, second=0, microsecond=0)
    form = JointMeetingCreateForm(
        data,
        initial={
            "held_on": now,
            "chair": _chair_default(user, agreement),
            "title": _("%(community)s联席会议") % {"community": community.name},
        },
    )
    initial_attendees = None
    if data is None:
        initial_attendees = [
            {"organization": p.organization, "attendee_name": p.signatory_name, "present": True}
            for p in (agreement.parties.select_related("organization") if agreement else [])
        ] + [{"present": True} for _ in range(3)]
    attendees = attendance_formset(data, organizations=organizations, initial=initial_attendees)
    follow_ups = follow_up_formset(data, organizations=organizations)
    if data is not None and form.is_valid():
        follow_ups.set_meeting_date(timezone.localdate(form.cleaned_data["held_on"]))
    if data is not None and form.is_valid() and attendees.is_valid() and follow_ups.is_valid():
        try:
            meeting = services.joint_meeting_create(
                community=community,
                agreement=agreement,
                attendees=[
                    services.AttendeeSpec(
                        attendee_name=r["attendee_name"],
                        organization=r.get("organization"),
                        present=bool(r.get("present")),
                    )
                    for r in attendees.rows()
                ],
                follow_ups=[
                    services.FollowUpSpec(
                        description=r["description"],
                        due_on=r["due_on"],
                        owner_organization=r.get("owner_organization"),
                        owner_name=r.get("owner_name", ""),
                    )
                    for r in follow_ups.rows()
                ],
                **form.cleaned_data,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("联席会议已登记。"))
            return redirect(meeting)
    context = {
        "form": form,
        "attendees": attendees,
        "follow_ups": follow_ups,
        "community": community,
        "agreement": agreement,
    }
    return render(request, "organizations/cobuilding/meeting_form.html", context)


@login_required
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    meeting = get_object_or_404(
        JointMeeting.objects.visible_to(user).select_related("community", "agreement"), pk=pk
    )
    today = timezone.localdate()
    can_edit = can_edit_cobuilding(user)
    add_form = (
        FollowUpForm(
            organizations=meeting_organizations(user, meeting.community),
            meeting_date=timezone.localdate(meeting.held_on),
            require=True,
            initial={"due_on": timezone.localdate(meeting.held_on) + timedelta(days=30)},
        )
        if can_edit
        else None
    )
    context = {
        "meeting": meeting,
        "attendance": meeting.attendance.select_related("organization"),
        "follow_ups": [
            (item, can_update_follow_up(user, item))
            for item in meeting.follow_ups.select_related("owner_organization")
        ],
        "today": today,
        "can_edit": can_edit,
        "add_form": add_form,
    }
    return render(request, "organizations/cobuilding/meeting_detail.html", context)


@role_required(*EDITORS)
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_object_or_404(JointMeeting.objects.visible_to(request.user), pk=pk)
    return versioned_edit(
        request, meeting, JointMeetingEditForm, "organizations/cobuilding/meeting_edit.html"
    )


@role_required(*EDITORS)
def meeting_delete(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_object_or_404(
        JointMeeting.objects.visible_to(request.user).select_related("community", "agreement"),
        pk=pk,
    )
    if request.method == "POST":
        back = meeting.agreement or meeting.community
        try:
            services.joint_meeting_delete(meeting=meeting)
        except ValidationError as exc:
            for message in _validation_messages(exc):
                messages.error(request, message)
            return redirect(meeting)
        messages.success(request, _("已删除联席会议“%(title)s”。") % {"title": meeting.title})
        return redirect(back)
    return render(request, "organizations/cobuilding/meeting_delete.html", {"meeting": meeting})


@role_required(*EDITORS)
@require_POST
def follow_up_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    meeting = get_object_or_404(
        JointMeeting.objects.visible_to(user).select_related("community"), pk=pk
    )
    form = FollowUpForm(
        request.POST,
        organizations=meeting_organizations(user, meeting.community),
        meeting_date=timezone.localdate(meeting.held_on),
        require=True,
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.follow_up_add(
                meeting=meeting,
                item=services.FollowUpSpec(
                    description=data["description"],
                    due_on=data["due_on"],
                    owner_organization=data.get("owner_organization"),
                    owner_name=data.get("owner_name", ""),
                ),
            )
        except ValidationError as exc:
            for m in _validation_messages(exc):
                messages.error(request, m)
        else:
            messages.success(request, _("督办事项已添加。"))
    else:
        for field_errors in form.errors.values():
            for error in field_errors:
                messages.error(request, str(error))
    return redirect(meeting)


@login_required
@require_POST
def follow_up_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an item's status; under htmx only its row is re-rendered."""
    user = user_of(request)
    item = get_object_or_404(
        FollowUpItem.objects.visible_to(user).select_related(
            "owner_organization", "meeting__community"
        ),
        pk=pk,
    )
    if not can_update_follow_up(user, item):
        raise PermissionDenied
    today = timezone.localdate()
    form = FollowUpStatusForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.follow_up_set_status(
                item=item,
                status=form.cleaned_data["status"],
                expected_version=form.cleaned_data["expected_version"],
                today=today,
            )
        except ConcurrentEditError as exc:
            error = str(exc)
            item.refresh_from_db()
    else:
        error = _("请选择状态。")
    show_meeting = request.POST.get("show_meeting") == "1"
    if request.htmx:  # type: ignore[attr-defined]
        context = {
            "item": item,
            "can_update": True,
            "today": today,
            "error": error,
            "show_meeting": show_meeting,
        }
        return render(
            request, "organizations/cobuilding/follow_up_list.html#follow-up-row", context
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("事项状态已更新。"))
    return redirect("organizations:follow_up_overdue" if show_meeting else item.get_absolute_url())


@login_required
def follow_up_overdue(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    today = timezone.localdate()
    items = (
        FollowUpItem.objects.visible_to(user)
        .overdue(today)
        .select_related("meeting__community", "owner_organization")
        .order_by("due_on", "pk")
    )
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    rows = [(item, can_update_follow_up(user, item)) for item in page]
    context = {"page": page, "rows": rows, "today": today}
    return render(request, "organizations/cobuilding/follow_up_list.html", context)
