"""Pages of 组织联建: Social workers and volunteers, and the hours volunteers log."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sanlian.core.decorators import role_required
from sanlian.core.editing import VersionedModelForm, versioned_edit
from sanlian.core.models import User
from sanlian.core.roles import Role
from sanlian.core.scoping import AREA_ROLES
from sanlian.core.xlsx import disclosure_for, export_response, wants_xlsx

from .. import services
from ..forms import (
    HourLogReturnForm,
    SocialWorkerCreateForm,
    SocialWorkerFilterForm,
    SocialWorkerForm,
    SocialWorkerLeaveForm,
    VolunteerCreateForm,
    VolunteerForm,
    VolunteerHourLogForm,
)
from ..forms.imports import availability_text
from ..models import (
    VOLUNTEER_SKILLS,
    HourLogStatus,
    Organization,
    OrgKind,
    Person,
    SocialWorker,
    Volunteer,
    VolunteerHourLog,
)
from ..queries import person_search
from .common import EDITORS, user_of

MANAGERS = (Role.SOCIAL_ORG_MANAGER,)


def _can_manage(user: User, worker: SocialWorker) -> bool:
    """A social organisation manager manages the social workers of their own organisation."""
    return user.has_role(*MANAGERS) and worker.organization_id == user.organization_id


# ---- social workers ------------------------------------------------------------------------


@login_required
def social_worker_list(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    orgs = Organization.objects.visible_to(user).of_kind(OrgKind.SOCIAL_ORG).order_by("name")
    form = SocialWorkerFilterForm(
        request.GET or None, organizations=list(orgs.values_list("pk", "name"))
    )
    workers = (
        form.apply(SocialWorker.objects.visible_to(user))
        .select_related("person", "organization")
        .order_by("organization__name", "person__name", "pk")
    )
    if wants_xlsx(request):
        return export_response(
            request,
            filename="social-workers.xlsx",
            object_type="organizations.SocialWorker",
            headers=[
                _("姓名"),
                _("所在机构"),
                _("职业资格"),
                _("证书编号"),
                _("取得时间"),
                _("督导"),
                _("状态"),
                _("入职日期"),
                _("离职日期"),
            ],
            rows=(
                [
                    w.person.name,
                    w.organization.name,
                    w.get_qualification_display(),
                    w.certificate_number,
                    w.certificate_date,
                    _("是") if w.is_supervisor else _("否"),
                    w.get_status_display(),
                    w.joined_on,
                    w.left_on,
                ]
                for w in workers.iterator(chunk_size=2000)
            ),
            title=_("社工"),
        )
    page = Paginator(workers, 50).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "can_create": user.has_role(*MANAGERS)}
    return render(request, "organizations/social_worker_list.html", context)


@login_required
def social_worker_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    worker = get_object_or_404(
        SocialWorker.objects.visible_to(user).select_related("person__community", "organization"),
        pk=pk,
    )
    context = {"worker": worker, "can_manage": _can_manage(user, worker)}
    return render(request, "organizations/social_worker_detail.html", context)


@role_required(*MANAGERS)
def social_worker_create(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    organizations = Organization.objects.visible_to(user).of_kind(OrgKind.SOCIAL_ORG)
    # Anyone the user may see who is not a social worker yet (a manager sees their own staff).
    people = Person.objects.visible_to(user).filter(social_worker__isnull=True)
    q = (request.POST.get("q") or request.GET.get("q") or "").strip()
    candidates = (
        person_search(user, q).filter(social_worker__isnull=True).select_related("community")
    )
    form = SocialWorkerCreateForm(request.POST or None, people=people, organizations=organizations)
    if request.method == "POST" and form.is_valid():
        try:
            worker = services.social_worker_create(**form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已登记社工：%(name)s。") % {"name": worker.person.name})
            return redirect(worker)
    context = {
        "form": form,
        "q": q,
        "candidates": candidates.order_by("name", "pk")[:50],
        "chosen": str(form["person"].value() or ""),
    }
    return render(request, "organizations/social_worker_create.html", context)


@role_required(*MANAGERS)
def social_worker_edit(request: HttpRequest, pk: int) -> HttpResponse:
    worker = get_object_or_404(SocialWorker.objects.visible_to(request.user), pk=pk)
    if not _can_manage(user_of(request), worker):
        raise PermissionDenied
    return versioned_edit(
        request, worker, SocialWorkerForm, "organizations/social_worker_form.html"
    )


@role_required(*MANAGERS)
def social_worker_leave(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    worker = get_object_or_404(
        SocialWorker.objects.visible_to(user).select_related("person", "organization"), pk=pk
    )
    if not _can_manage(user, worker):
        raise PermissionDenied
    form = SocialWorkerLeaveForm(request.POST or None, worker=worker)
    if request.method == "POST" and form.is_valid():
        try:
            services.social_worker_leave(worker=worker, left_on=form.cleaned_data["left_on"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已办理离职：%(name)s。") % {"name": worker.person.name})
            return redirect(worker)
    return render(
        request, "organizations/social_worker_leave.html", {"form": form, "worker": worker}
    )


def _add_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# ---- volunteers ----------------------------------------------------------------------------


def _teams(user: User) -> Any:
    return Organization.objects.visible_to(user).of_kind(OrgKind.VOLUNTEER_TEAM).order_by("path")


@login_required
def volunteer_list(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    teams = list(_teams(user).values_list("pk", "name"))
    volunteers = (
        Volunteer.objects.visible_to(user)
        .select_related("person", "team")
        .order_by("team__name", "person__name", "pk")
    )
    team = request.GET.get("team", "")
    if team.isdigit():
        volunteers = volunteers.filter(team_id=int(team))
    skill = request.GET.get("skill", "")
    if skill in VOLUNTEER_SKILLS:
        volunteers = volunteers.filter(skills__contains=skill)
    if wants_xlsx(request):
        disclosure = disclosure_for(user)
        return export_response(
            request,
            filename="volunteers.xlsx",
            object_type="organizations.Volunteer",
            headers=[
                _("姓名"),
                _("手机号"),
                _("志愿服务队"),
                _("技能"),
                _("可服务时间"),
                _("累计服务时长"),
            ],
            rows=(
                [
                    v.person.name,
                    disclosure.phone(v.person.phone),
                    v.team.name,
                    "、".join(v.skill_list()),
                    availability_text(v.availability or []),
                    v.hours_logged,
                ]
                for v in volunteers.iterator(chunk_size=2000)
            ),
            title=_("志愿者"),
        )
    page = Paginator(volunteers, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "teams": teams,
        "team": team,
        "skills": VOLUNTEER_SKILLS,
        "skill": skill,
        "can_review": user.has_role(*AREA_ROLES),
        "can_create": user.has_role(*EDITORS),
    }
    return render(request, "organizations/volunteer_list.html", context)


@role_required(*EDITORS)
def volunteer_create(request: HttpRequest) -> HttpResponse:
    """登记志愿者: a person of the user's area joins a volunteer team of the area."""
    user = user_of(request)
    q = (request.POST.get("q") or request.GET.get("q") or "").strip()
    # Those already volunteers are listed too, with a link to their record instead of a choice.
    candidates = person_search(user, q).select_related("community", "volunteer__team")
    form = VolunteerCreateForm(
        request.POST or None,
        people=Person.objects.visible_to(user).active(),
        teams=_teams(user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            volunteer = services.volunteer_create(**form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request, _("已登记志愿者：%(name)s。") % {"name": volunteer.person.name}
            )
            return redirect(volunteer)
    context = {
        "form": form,
        "q": q,
        "candidates": candidates.order_by("name", "pk")[:50],
        "chosen": str(form["person"].value() or ""),
    }
    return render(request, "organizations/volunteer_create.html", context)


@login_required
def volunteer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    volunteer = get_object_or_404(
        Volunteer.objects.visible_to(user).select_related("person__community", "team"), pk=pk
    )
    logs = VolunteerHourLog.objects.visible_to(user).filter(volunteer=volunteer)
    context = {
        "volunteer": volunteer,
        "logs": logs.select_related("confirmed_by")[:50],
        "pending_hours": logs.pending().aggregate(h=Sum("hours"))["h"] or Decimal("0"),
        "can_edit": user.has_role(*EDITORS),
    }
    return render(request, "organizations/volunteer_detail.html", context)


@role_required(*EDITORS)
def volunteer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    volunteer = get_object_or_404(Volunteer.objects.visible_to(user), pk=pk)
    teams = _teams(user)

    class ScopedVolunteerForm(VolunteerForm):
        """The team can only be moved to a team the user may see."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, teams=teams, **kwargs)

    form_class: type[VersionedModelForm] = ScopedVolunteerForm
    return versioned_edit(request, volunteer, form_class, "organizations/volunteer_form.html")


@login_required
def volunteer_me(request: HttpRequest) -> HttpResponse:
    """The volunteer's own phone page: log an entry, see what became of the earlier ones.
    Whoever is a volunteer (through their person record) may use it; nobody else has one."""
    user = user_of(request)
    volunteer = get_object_or_404(
        Volunteer.objects.visible_to(user).select_related("person", "team"), person__user=user
    )
    form = VolunteerHourLogForm(request.POST or None, volunteer=volunteer)
    if request.method == "POST" and form.is_valid():
        log = services.hour_log_submit(volunteer=volunteer, **form.cleaned_data)
        messages.success(
            request,
            _("已提交 %(h)s 小时，等待协调人确认。") % {"h": log.hours},
        )
        return redirect("organizations:volunteer_me")
    logs = volunteer.hour_logs.select_related("confirmed_by")
    pending = logs.filter(status=HourLogStatus.PENDING).aggregate(h=Sum("hours"))["h"]
    context = {
        "volunteer": volunteer,
        "form": form,
        "logs": logs[:30],
        "pending_hours": pending or Decimal("0"),
        "pending_count": volunteer.pending_log_count,
        "review_count": (
            VolunteerHourLog.objects.reviewable_by(user).pending().count()
            if volunteer.is_coordinator
            else 0
        ),
    }
    return render(request, "organizations/workforce/volunteer_me.html", context)


# ---- the coordinator's queue ---------------------------------------------------------------


def _may_review(user: User) -> bool:
    if user.has_role(*AREA_ROLES):
        return True
    return Volunteer.objects.filter(person__user=user, is_coordinator=True).exists()


def _queue_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    user = user_of(request)
    logs = (
        VolunteerHourLog.objects.reviewable_by(user)
        .pending()
        .select_related("volunteer__person", "volunteer__team")
        .order_by("served_on", "start_time", "pk")
    )
    page = Paginator(logs, 50).get_page(request.GET.get("page"))
    return {"page": page, "return_form": HourLogReturnForm(), **extra}


@login_required
def hour_queue(request: HttpRequest) -> HttpResponse:
    if not _may_review(user_of(request)):
        raise PermissionDenied
    return render(request, "organizations/workforce/hour_queue.html", _queue_context(request))


@require_POST
@login_required
def hour_review(request: HttpRequest) -> HttpResponse:
    """Confirm or return the ticked entries (or the one of a row); htmx gets the queue back."""
    user = user_of(request)
    if not _may_review(user):
        raise PermissionDenied
    action = "return" if request.POST.get("action") == "return" else "confirm"
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    logs = list(
        VolunteerHourLog.objects.visible_to(user)
        .filter(pk__in=ids)
        .select_related("volunteer__person", "confirmed_by")
        .order_by("pk")
    )
    notice = ""
    errors: list[str] = []
    reason_form = HourLogReturnForm(request.POST if action == "return" else None)
    if not logs:
        errors.append(_("请先勾选要处理的记录。"))
    elif action == "return" and not reason_form.is_valid():
        errors.extend(str(e) for field in reason_form.errors.values() for e in field)
    else:
        reason = reason_form.cleaned_data["reason"] if action == "return" else ""
        outcome = services.hour_logs_review(logs=logs, by=user, action=action, reason=reason)
        if outcome.done and action == "confirm":
            notice = _("已确认 %(n)d 条，共 %(h)s 小时。") % {
                "n": len(outcome.done),
                "h": outcome.hours,
            }
        elif outcome.done:
            notice = _("已退回 %(n)d 条。") % {"n": len(outcome.done)}
        errors.extend(message for _pk, message in outcome.refused)
    if request.htmx:  # type: ignore[attr-defined]
        context = _queue_context(request, notice=notice, errors=errors)
        return render(request, "organizations/workforce/hour_queue.html#queue", context)
    if notice:
        messages.success(request, notice)
    for error in errors:
        messages.error(request, error)
    return redirect("organizations:hour_queue")
