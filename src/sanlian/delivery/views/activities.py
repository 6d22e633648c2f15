"""Pages of community activities (社区活动): staff pages (plan, sign-ups, check-in desk,
volunteer shifts), the public pages residents open from a QR code (sign-up, their personal
code and feedback, the self check-in at the door), and the cross-part page of service times
(服务时间分布)."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Avg, Count, F, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from sanlian.core.audit import client_ip
from sanlian.core.decorators import role_required
from sanlian.core.forms import add_service_errors
from sanlian.core.scoping import AREA_ROLES
from sanlian.core.xlsx import disclosure_for, export_response, wants_xlsx
from sanlian.organizations.models import Community

from .. import outputs
from ..forms.activities import (
    ActivityFilterForm,
    ActivityForm,
    CancelForm,
    CheckInForm,
    DoorCheckInForm,
    FeedbackForm,
    ServiceTimesForm,
    ShiftForm,
    SignupForm,
    WalkInForm,
)
from ..models import Activity, ActivityStatus, Registration, VolunteerShift
from ..services import activities as services

QR_KINDS = ("signup", "door")


def _user(request: HttpRequest) -> Any:
    return request.user


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _visible(request: HttpRequest, pk: int) -> Activity:
    return get_object_or_404(
        Activity.objects.visible_to(request.user).select_related(
            "community", "organizer", "venue", "project", "booking"
        ),
        pk=pk,
    )


def _managed(request: HttpRequest, pk: int) -> Activity:
    activity = _visible(request, pk)
    if not services.may_manage(request.user):
        raise PermissionDenied
    return activity


def png_response(data: str, *, scale: int, filename: str = "") -> HttpResponse:
    buf = io.BytesIO()
    segno.make(data, error="m").save(buf, kind="png", scale=scale, border=2)
    response = HttpResponse(buf.getvalue(), content_type="image/png")
    if filename:
        response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


# ---- staff: list, plan, edit -------------------------------------------------------------------


def _export(request: HttpRequest, activities: Any) -> HttpResponse:
    return export_response(
        request,
        filename="activities.xlsx",
        title=_("社区活动"),
        headers=[
            _("日期"),
            _("开始"),
            _("结束"),
            _("活动名称"),
            _("社区"),
            _("主办组织"),
            _("地点"),
            _("服务项目"),
            _("名额"),
            _("已报名人数"),
            _("签到人数"),
            _("状态"),
        ],
        rows=(
            [
                a.date,
                a.start_time.strftime("%H:%M"),
                a.end_time.strftime("%H:%M"),
                a.title,
                a.community.name,
                a.organizer.name,
                a.where,
                a.project.title if a.project else "",
                a.capacity,
                a.seats_taken,
                a.present or 0,
                a.get_status_display(),
            ]
            for a in activities.iterator(chunk_size=2000)
        ),
        object_type="delivery.Activity",
    )


@login_required
def activity_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    activities: Any = Activity.objects.visible_to(user)
    form = ActivityFilterForm(request.GET or None, communities=Community.objects.visible_to(user))
    if form.is_valid():
        data = form.cleaned_data
        if data["status"]:
            activities = activities.filter(status=data["status"])
        if data["community"]:
            activities = activities.filter(community=data["community"])
        if data["date_from"]:
            activities = activities.filter(date__gte=data["date_from"])
        if data["date_to"]:
            activities = activities.filter(date__lte=data["date_to"])
    elif form.is_bound:
        activities = activities.none()
    activities = (
        activities.select_related("community", "organizer", "venue", "project")
        .annotate(
            present=Sum(
                1 + F("registrations__companions"),
                filter=Q(registrations__checked_in_at__isnull=False),
            )
        )
        .order_by("-date", "-start_time", "-pk")
    )
    if wants_xlsx(request):
        return _export(request, activities)
    context = {
        "form": form,
        "page": Paginator(activities, 50).get_page(request.GET.get("page")),
        "can_plan": services.may_manage(user),
    }
    template = "delivery/activities/list.html"
    return render(request, f"{template}#results" if _htmx(request) else template, context)


def _activity_form(request: HttpRequest, data: Any = None, **kwargs: Any) -> ActivityForm:
    user = _user(request)
    return ActivityForm(
        data,
        venues=services.activity_venues(user),
        projects=services.activity_projects(user),
        **kwargs,
    )


@role_required(*services.MANAGER_ROLES)
def activity_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = _activity_form(
        request,
        request.POST or None,
        communities=services.plannable_communities(user),
        initial={"date": timezone.localdate(), "capacity": 30},
    )
    if request.method == "POST" and form.is_valid():
        try:
            activity = services.activity_create(by=user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("活动已创建，发布后即可报名。"))
            return redirect(activity)
    return render(request, "delivery/activities/form.html", {"form": form, "activity": None})


@login_required
def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _managed(request, pk)
    user = _user(request)
    initial = {
        f: getattr(activity, f)
        for f in (
            "title",
            "date",
            "start_time",
            "end_time",
            "venue",
            "place",
            "capacity",
            "description",
            "project",
        )
    }
    form = _activity_form(request, request.POST or None, communities=None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.activity_update(activity=activity, by=user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("活动已保存。"))
            return redirect(activity)
    return render(request, "delivery/activities/form.html", {"form": form, "activity": activity})


# ---- staff: one activity -----------------------------------------------------------------------


def _registrations_export(request: HttpRequest, activity: Activity) -> HttpResponse:
    disclosure = disclosure_for(request.user)
    return export_response(
        request,
        filename=f"activity-{activity.pk}-registrations.xlsx",
        title=_("活动报名"),
        headers=[
            _("姓名"),
            _("手机号"),
            _("同行人数"),
            _("报名方式"),
            _("报名时间"),
            _("签到时间"),
            _("满意度评分"),
            _("评价"),
        ],
        rows=(
            [
                r.name,
                disclosure.phone(r.phone),
                r.companions,
                _("现场登记") if r.is_walk_in else _("在线报名"),
                r.created_at,
                r.checked_in_at,
                r.rating,
                r.comment,
            ]
            for r in activity.registrations.order_by("created_at", "pk")
        ),
        object_type="delivery.Registration",
    )


def _detail_context(request: HttpRequest, activity: Activity, **extra: Any) -> dict[str, Any]:
    user = _user(request)
    registrations = list(activity.registrations.order_by("created_at", "pk"))
    disclosure = disclosure_for(user)
    feedback = activity.registrations.filter(rating__isnull=False).aggregate(
        average=Avg("rating"), count=Count("pk")
    )
    manage = services.may_manage(user)
    context = {
        "activity": activity,
        "registrations": [(r, disclosure.phone(r.phone)) for r in registrations],
        "present": sum(r.seats for r in registrations if r.checked_in_at is not None),
        "shifts": list(activity.shifts.select_related("volunteer__person", "volunteer__team")),
        "feedback": feedback,
        "comments": [r for r in registrations if r.comment],
        "manage": manage,
        "actions": [t.name for t in services.LIFECYCLE.allowed(activity, user)] if manage else [],
        "editable": manage and activity.status in services.EDITABLE,
        "signup_url": request.build_absolute_uri(
            reverse("delivery:activity_signup", args=[activity.signup_token])
        ),
        "door_url": request.build_absolute_uri(
            reverse("delivery:activity_door", args=[activity.door_token])
        ),
    }
    if context["editable"] and "shift_form" not in extra:
        context["shift_form"] = ShiftForm(
            volunteers=services.assignable_volunteers(user),
            initial={"start_time": activity.start_time, "end_time": activity.end_time},
        )
    context.update(extra)
    return context


@login_required
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _visible(request, pk)
    if wants_xlsx(request):
        return _registrations_export(request, activity)
    return render(request, "delivery/activities/detail.html", _detail_context(request, activity))


@login_required
def activity_qr(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """The poster QR codes: the sign-up link, and the self check-in link for the door."""
    activity = _visible(request, pk)
    if kind not in QR_KINDS:
        raise Http404
    if kind == "signup":
        url = reverse("delivery:activity_signup", args=[activity.signup_token])
    else:
        url = reverse("delivery:activity_door", args=[activity.door_token])
    return png_response(
        request.build_absolute_uri(url), scale=16, filename=f"activity-{activity.pk}-{kind}.png"
    )


def _run(request: HttpRequest, activity: Activity, action: Any, done: str) -> HttpResponse:
    try:
        action()
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, done)
    return redirect(activity)


@require_POST
@login_required
def activity_publish(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _managed(request, pk)
    return _run(
        request,
        activity,
        lambda: services.activity_publish(activity=activity, by=_user(request)),
        _("报名已发布：把报名二维码张贴到社区或转发报名链接。"),
    )


@require_POST
@login_required
def activity_complete(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _managed(request, pk)
    return _run(
        request,
        activity,
        lambda: services.activity_complete(activity=activity, by=_user(request)),
        _("活动已完成，志愿者的服务时长已自动记入。"),
    )


@login_required
def activity_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _managed(request, pk)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.activity_cancel(
                activity=activity, by=_user(request), reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("活动已取消。"))
            return redirect(activity)
    return render(request, "delivery/activities/cancel.html", {"form": form, "activity": activity})


@require_POST
@login_required
def shift_add(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _managed(request, pk)
    user = _user(request)
    form = ShiftForm(request.POST, volunteers=services.assignable_volunteers(user))
    if form.is_valid():
        try:
            services.shift_assign(activity=activity, by=user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已安排志愿者。"))
            return redirect(activity)
    context = _detail_context(request, activity, shift_form=form)
    return render(request, "delivery/activities/detail.html", context, status=400)


@require_POST
@login_required
def shift_remove(request: HttpRequest, pk: int, shift_pk: int) -> HttpResponse:
    activity = _managed(request, pk)
    shift = get_object_or_404(VolunteerShift.objects.filter(activity=activity), pk=shift_pk)
    return _run(
        request,
        activity,
        lambda: services.shift_remove(shift=shift, by=_user(request)),
        _("已移除该志愿服务时段。"),
    )


# ---- staff: the check-in desk ------------------------------------------------------------------


def _desk(
    request: HttpRequest,
    activity: Activity,
    *,
    form: CheckInForm | None = None,
    walk_in: WalkInForm | None = None,
    result: Registration | None = None,
    status: int = 200,
) -> HttpResponse:
    registrations = activity.registrations.all()
    context = {
        "activity": activity,
        "form": form or CheckInForm(),
        "walk_in": walk_in or WalkInForm(),
        "result": result,
        "counts": registrations.aggregate(
            signed=Count("pk"),
            present=Count("pk", filter=Q(checked_in_at__isnull=False)),
        ),
        "recent": registrations.checked_in().order_by("-checked_in_at", "-pk")[:10],
    }
    template = "delivery/activities/checkin.html"
    if _htmx(request):
        return render(request, f"{template}#desk", context, status=status)
    return render(request, template, context, status=status)


@login_required
def activity_checkin(request: HttpRequest, pk: int) -> HttpResponse:
    """Enter or scan a participant's code (a USB scanner types it into the field)."""
    activity = _managed(request, pk)
    if request.method != "POST":
        return _desk(request, activity)
    form = CheckInForm(request.POST)
    if form.is_valid():
        try:
            registration = services.registration_check_in(
                activity=activity, code=form.cleaned_data["code"], by=_user(request)
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _desk(request, activity, result=registration)
    return _desk(request, activity, form=form, status=400 if not _htmx(request) else 200)


@require_POST
@login_required
def activity_walk_in(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _managed(request, pk)
    walk_in = WalkInForm(request.POST)
    if walk_in.is_valid():
        try:
            registration = services.walk_in_add(
                activity=activity, by=_user(request), **walk_in.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(walk_in, exc)
        else:
            return _desk(request, activity, result=registration)
    return _desk(request, activity, walk_in=walk_in, status=400 if not _htmx(request) else 200)


# ---- public pages ------------------------------------------------------------------------------


def _too_many(request: HttpRequest, bucket: str) -> bool:
    return services.public_rate_exceeded(bucket, client_ip(request))


@never_cache
def activity_signup(request: HttpRequest, token: str) -> HttpResponse:
    """The public sign-up page the poster's QR code opens (no account)."""
    activity = get_object_or_404(
        Activity.objects.select_related("community", "venue"), signup_token=token
    )
    form = SignupForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if _too_many(request, "signup"):
            form.add_error(None, _("提交过于频繁，请稍后再试。"))
            status = 429
        elif form.is_valid():
            try:
                result = services.registration_signup(activity=activity, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                if result.created:
                    messages.success(request, _("报名成功！请保存本页，活动当天出示签到码。"))
                else:
                    messages.info(request, _("该手机号已报名本活动，以下是您的签到码。"))
                return redirect("delivery:registration_page", token=result.registration.token)
    open_ = activity.status == ActivityStatus.PUBLISHED and timezone.now() < activity.starts_at
    return render(
        request,
        "delivery/activities/public_signup.html",
        {"activity": activity, "form": form, "open": open_},
        status=status,
    )


@never_cache
def registration_page(request: HttpRequest, token: str) -> HttpResponse:
    """A participant's own page: the check-in code with its QR, and the feedback form."""
    registration = get_object_or_404(
        Registration.objects.select_related("activity__community", "activity__venue"),
        token=token,
    )
    form = FeedbackForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if _too_many(request, "feedback"):
            form.add_error(None, _("提交过于频繁，请稍后再试。"))
            status = 429
        elif form.is_valid():
            try:
                services.feedback_submit(registration=registration, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("感谢您的评价！"))
                return redirect("delivery:registration_page", token=token)
    return render(
        request,
        "delivery/activities/public_registration.html",
        {
            "registration": registration,
            "activity": registration.activity,
            "form": form,
            "feedback_open": services.feedback_open(registration),
        },
        status=status,
    )


def registration_qr(request: HttpRequest, token: str) -> HttpResponse:
    """The personal check-in code as a QR image (the code itself: what a scanner types)."""
    registration = get_object_or_404(Registration, token=token)
    response = png_response(registration.code, scale=8)
    response["Cache-Control"] = "private, max-age=86400"
    return response


@never_cache
def activity_door(request: HttpRequest, token: str) -> HttpResponse:
    """Self check-in: the page the QR code on the venue door opens; the participant enters
    the mobile they signed up with."""
    activity = get_object_or_404(
        Activity.objects.select_related("community", "venue"), door_token=token
    )
    form = DoorCheckInForm(request.POST or None)
    done: Registration | None = None
    status = 200
    if request.method == "POST":
        if _too_many(request, "door"):
            form.add_error(None, _("提交过于频繁，请稍后再试。"))
            status = 429
        elif form.is_valid():
            try:
                done = services.door_check_in(activity=activity, phone=form.cleaned_data["phone"])
            except ValidationError as exc:
                add_service_errors(form, exc)
                status = 400
    return render(
        request,
        "delivery/activities/public_door.html",
        {"activity": activity, "form": form, "done": done},
        status=status,
    )


# ---- 服务时间分布: service times across the parts --------------------------------------------------


def _share_chart(shares: list[outputs.TimeShare]) -> dict[str, Any]:
    return {
        "_kind": "bar",
        "categories": [str(s.label) for s in shares],
        "series": [
            {
                "name": _("8小时以内（小时）"),
                "data": [float(s.hours - s.hours_outside) for s in shares],
            },
            {"name": _("8小时以外（小时）"), "data": [float(s.hours_outside) for s in shares]},
        ],
        "stack": True,
    }


@role_required(*AREA_ROLES)
def service_times(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    start, end = ServiceTimesForm.default_range()
    form = ServiceTimesForm(request.GET or None, initial={"date_from": start, "date_to": end})
    if form.is_valid():
        start, end = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    shares = outputs.service_time_shares(user, start, end) if not form.errors else []
    total = outputs.TimeShare(
        label=_("合计"),
        services=sum(s.services for s in shares),
        hours=sum((s.hours for s in shares), Decimal(0)),
        hours_outside=sum((s.hours_outside for s in shares), Decimal(0)),
    )
    if wants_xlsx(request):
        return export_response(
            request,
            filename=f"service-times-{start:%Y%m%d}-{end:%Y%m%d}.xlsx",
            title=_("服务时间分布"),
            headers=[
                _("服务类型"),
                _("服务次数"),
                _("服务时长（小时）"),
                _("8小时以外（小时）"),
                _("8小时以外占比（%）"),
            ],
            rows=(
                [str(s.label), s.services, s.hours, s.hours_outside, s.share_outside]
                for s in [*shares, total]
            ),
            object_type="delivery.ServiceTimes",
        )
    return render(
        request,
        "delivery/activities/service_times.html",
        {
            "form": form,
            "shares": shares,
            "total": total,
            "date_from": start,
            "date_to": end,
            "chart": _share_chart(shares),
            "share_chart": {
                "_kind": "bar",
                "categories": [str(s.label) for s in shares],
                "series": [
                    {
                        "name": _("8小时以外占比（%）"),
                        "data": [float(s.share_outside) for s in shares],
                    }
                ],
            },
        },
    )
