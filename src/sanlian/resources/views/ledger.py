"""Pages of the resource ledger (资源台账), the city's view of resources by community and tier
(资源分布), venue bookings (场地预约), and the sections they add to the community and venue
pages of 组织联建."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sanlian.core.decorators import role_required
from sanlian.core.forms import add_service_errors
from sanlian.core.roles import Role
from sanlian.core.scoping import AREA_ROLES, scope_for
from sanlian.core.xlsx import export_response, wants_xlsx
from sanlian.organizations.models import Community, Organization, Tier, Venue

from ..forms.ledger import (
    BookingCancelForm,
    BookingFilterForm,
    BookingForm,
    OverviewForm,
    ResourceEntryForm,
    ResourceFilterForm,
    VolunteerHoursForm,
)
from ..models import (
    ProjectStatus,
    ResourceEntry,
    ResourceKind,
    ServiceProject,
    VenueBooking,
)
from ..money import ZERO
from ..services import ledger as services


def _user(request: HttpRequest) -> Any:
    return request.user


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


# ---- ledger ------------------------------------------------------------------------------------


def _filter_form(request: HttpRequest, user: Any, entries: Any) -> ResourceFilterForm:
    communities = Community.objects.filter(
        Q(pk__in=Community.objects.visible_to(user).values("pk"))
        | Q(pk__in=entries.values("community_id"))
    )
    return ResourceFilterForm(
        request.GET or None,
        communities=communities,
        projects=ServiceProject.objects.visible_to(user).exclude(status=ProjectStatus.DRAFT),
    )


def _editable_ids(user: Any, rows: list[ResourceEntry]) -> set[int]:
    """Which of these rows the user may change (one query for the page, not one per row)."""
    communities = set(
        services.recordable_communities(user)
        .filter(pk__in={r.community_id for r in rows})
        .values_list("pk", flat=True)
    )
    scope = scope_for(user)
    return {
        r.pk
        for r in rows
        if r.kind != ResourceKind.FUNDS
        and r.booking_id is None
        and r.source_name != services.VOLUNTEER_LOG_SOURCE
        and r.community_id in communities
        and (scope.area_path is not None or r.source_org_id == scope.org_id)
    }


def _export(request: HttpRequest, entries: Any) -> HttpResponse:
    return export_response(
        request,
        filename="resources.xlsx",
        title=_("资源台账"),
        headers=[
            _("日期"),
            _("社区"),
            _("资源类型"),
            _("内容"),
            _("服务项目"),
            _("来源"),
            _("数量"),
            _("单位"),
            _("价值（元）"),
            _("估算价值"),
        ],
        rows=(
            [
                e.occurred_on,
                e.community.name,
                e.get_kind_display(),
                e.description,
                e.project.title if e.project else "",
                e.source_org.name if e.source_org else e.source_name,
                e.quantity,
                e.unit,
                e.value,
                _("是") if e.is_estimated else _("否"),
            ]
            for e in entries.iterator(chunk_size=2000)
        ),
        object_type="resources.ResourceEntry",
    )


@login_required
def ledger_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    entries: Any = ResourceEntry.objects.visible_to(user)
    form = _filter_form(request, user, entries)
    if form.is_valid():
        entries = services.filter_entries(entries, form.cleaned_data)
    elif form.is_bound:
        entries = entries.none()
    entries = entries.select_related("community", "project", "source_org").order_by(
        "-occurred_on", "-pk"
    )
    if wants_xlsx(request):
        return _export(request, entries)
    totals = services.totals_by_kind(entries)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "totals": [t for t in totals if t[2]],
        "total": sum((t[2] for t in totals), ZERO),
        "editable": _editable_ids(user, list(page)),
        "can_record": services.recordable_communities(user).exists(),
        "can_derive": user.has_role(*AREA_ROLES),
    }
    template = "resources/ledger/entry_list.html"
    return render(request, f"{template}#results" if _htmx(request) else template, context)


def _entry_form(
    request: HttpRequest, user: Any, data: Any = None, **kwargs: Any
) -> ResourceEntryForm:
    area = scope_for(user).area_path is not None
    return ResourceEntryForm(
        data,
        communities=services.recordable_communities(user),
        projects=services.ledger_projects(user),
        organizations=Organization.objects.visible_to(user) if area else None,
        **kwargs,
    )


def _back_to_list(entry: ResourceEntry) -> HttpResponse:
    return redirect(
        f"{reverse('resources:ledger_list')}?{urlencode({'community': entry.community_id})}"
    )


@role_required(*services.RECORDER_ROLES)
def ledger_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    initial: dict[str, Any] = {}
    for name in ("community", "project", "kind"):
        if request.GET.get(name):
            initial[name] = request.GET[name]
    form = _entry_form(request, user, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.resource_entry_create(by=user, **form.service_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("资源已登记：%(what)s。") % {"what": entry.description})
            return _back_to_list(entry)
    context = {"form": form, "entry": None, "rate": services.volunteer_hour_value()}
    return render(request, "resources/ledger/entry_form.html", context)


def _editable_entry(request: HttpRequest, pk: int) -> tuple[Any, ResourceEntry]:
    user = _user(request)
    entry = get_object_or_404(ResourceEntry.objects.visible_to(user), pk=pk)
    if not services.may_edit_entry(user, entry):
        raise PermissionDenied
    return user, entry


@role_required(*services.RECORDER_ROLES)
def ledger_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user, entry = _editable_entry(request, pk)
    initial = {
        name: getattr(entry, name)
        for name in (
            "community",
            "kind",
            "description",
            "project",
            "source_org",
            "source_name",
            "quantity",
            "unit",
            "value",
            "is_estimated",
            "occurred_on",
        )
    }
    form = _entry_form(request, user, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.resource_entry_update(entry=entry, by=user, **form.service_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("台账已修改。"))
            return _back_to_list(entry)
    context = {"form": form, "entry": entry, "rate": services.volunteer_hour_value()}
    return render(request, "resources/ledger/entry_form.html", context)


@role_required(*services.RECORDER_ROLES)
@require_POST
def ledger_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user, entry = _editable_entry(request, pk)
    try:
        services.resource_entry_delete(entry=entry, by=user)
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
    else:
        messages.success(request, _("台账已删除。"))
    return _back_to_list(entry)


@role_required(*AREA_ROLES)
def volunteer_hours(request: HttpRequest) -> HttpResponse:
    """Sum a community's confirmed volunteer hours of a month into the ledger: preview, then
    confirm (recording a month again refreshes its entry)."""
    user = _user(request)
    communities = services.recordable_communities(user)
    last_month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    form = VolunteerHoursForm(
        request.POST or None,
        communities=communities,
        initial={"month": last_month, "community": request.GET.get("community")},
    )
    preview = None
    if request.method == "POST" and form.is_valid():
        community, month = form.cleaned_data["community"], form.cleaned_data["month"]
        if request.POST.get("confirm"):
            try:
                result = services.volunteer_hours_record(community=community, month=month, by=user)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _(
                        "已登记%(community)s %(month)s 志愿服务时长 %(hours)s 小时，折合 %(value)s 元。"
                    )
                    % {
                        "community": community.name,
                        "month": month.strftime("%Y-%m"),
                        "hours": result.hours,
                        "value": result.value,
                    },
                )
                assert result.existing is not None
                return _back_to_list(result.existing)
        else:
            preview = services.volunteer_month_hours(community=community, month=month)
    context = {"form": form, "preview": preview, "rate": services.volunteer_hour_value()}
    return render(request, "resources/ledger/volunteer_hours.html", context)


# ---- the city's view ---------------------------------------------------------------------------


def _charts(overview: services.Overview) -> tuple[dict[str, Any], dict[str, Any]]:
    """(resources of each kind by tier, share of resources against share of population)."""
    by_kind = {
        "_kind": "bar",
        "stack": True,
        "categories": [t.label for t in overview.tiers],
        "series": [
            {
                "name": str(k.label),
                "data": [str(t.by_kind.get(k.value, ZERO)) for t in overview.tiers],
            }
            for k in ResourceKind
        ],
    }
    shares = {
        "_kind": "bar",
        "categories": [t.label for t in overview.tiers],
        "series": [
            {
                "name": _("资源占比（%）"),
                "data": [str(overview.share_of(t) or 0) for t in overview.tiers],
            },
            {
                "name": _("人口占比（%）"),
                "data": [str(overview.population_share_of(t) or 0) for t in overview.tiers],
            },
        ],
    }
    return by_kind, shares


def _overview_export(request: HttpRequest, overview: services.Overview) -> HttpResponse:
    return export_response(
        request,
        filename=f"resources-{overview.year}.xlsx",
        title=_("资源分布"),
        headers=[
            _("社区"),
            _("分类"),
            _("常住人口"),
            *[str(k.label) for k in ResourceKind],
            _("合计（元）"),
            _("人均（元）"),
        ],
        rows=(
            [
                r.label,
                str(Tier(r.tier).label),
                r.population,
                *r.kinds(),
                r.total,
                r.per_capita,
            ]
            for r in overview.rows
        ),
        object_type="resources.ResourceEntry",
    )


@role_required(*services.OVERVIEW_ROLES)
def resources_overview(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    this_year = timezone.localdate().year
    form = OverviewForm(request.GET or None, initial={"year": this_year})
    year = form.cleaned_data["year"] if form.is_valid() else this_year
    overview = services.resource_overview(user, year)
    if wants_xlsx(request):
        return _overview_export(request, overview)
    by_kind, shares = _charts(overview)
    page = Paginator(overview.rows, 100).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "overview": overview,
        "page": page,
        "kinds": list(ResourceKind),
        "kind_chart": by_kind,
        "share_chart": shares,
        "weak": overview.tier(Tier.WEAK),
        "tier_rows": [
            (t, overview.share_of(t), overview.population_share_of(t)) for t in overview.tiers
        ],
    }
    return render(request, "resources/ledger/overview.html", context)


# ---- bookings ----------------------------------------------------------------------------------


@login_required
def booking_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    bookings = VenueBooking.objects.visible_to(user)
    venues = Venue.objects.visible_to(user)
    form = BookingFilterForm(request.GET or None, venues=venues)
    past = False
    if form.is_valid():
        data = form.cleaned_data
        if data["venue"]:
            bookings = bookings.filter(venue=data["venue"])
        if data["status"]:
            bookings = bookings.filter(status=data["status"])
        if data["mine"]:
            bookings = bookings.filter(organization_id=user.organization_id or 0)
        past = data["past"]
    if not past:
        bookings = bookings.filter(ends_at__gte=timezone.now())
    bookings = bookings.select_related("venue", "organization", "project").order_by(
        "starts_at", "pk"
    )
    page = Paginator(bookings, 50).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "cancellable": {b.pk for b in page if services.may_cancel(user, b)},
        "venues": services.bookable_venues(user)
        .select_related("community", "organization")
        .order_by("community__organization__path", "organization__path", "pk")[:200],
    }
    return render(request, "resources/ledger/booking_list.html", context)


def _week_of(request: HttpRequest) -> dt.date:
    try:
        return services.week_start(dt.date.fromisoformat(request.GET.get("week", "")))
    except ValueError:
        return services.week_start(timezone.localdate())


@login_required
def venue_bookings(request: HttpRequest, pk: int) -> HttpResponse:
    """A venue's week: its bookings day by day, how much of its opening hours they take, and
    (for those who may book it) the booking form."""
    user = _user(request)
    venue = get_object_or_404(
        Venue.objects.visible_to(user).select_related("community", "organization"), pk=pk
    )
    can_book = services.bookable_venues(user).filter(pk=venue.pk).exists()
    week = _week_of(request)
    form = None
    if can_book:
        start = timezone.localtime().replace(minute=0, second=0, microsecond=0) + dt.timedelta(
            hours=1
        )
        form = BookingForm(
            request.POST or None,
            projects=services.booking_projects(user),
            initial={"starts_at": start, "ends_at": start + dt.timedelta(hours=2)},
        )
        if request.method == "POST" and form.is_valid():
            attempted = form.cleaned_data["starts_at"]
            try:
                booking = services.booking_create(by=user, venue=venue, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
                # Show the week asked for, where the clash (if that was it) can be seen.
                week = services.week_start(timezone.localtime(attempted).date())
            else:
                messages.success(request, _("预约成功：%(title)s。") % {"title": booking.title})
                day = timezone.localtime(booking.starts_at).date()
                return redirect(
                    f"{reverse('resources:venue_bookings', args=[venue.pk])}?week={services.week_start(day).isoformat()}"
                )
    elif request.method == "POST":
        raise PermissionDenied
    days = services.venue_week(venue, week)
    context = {
        "venue": venue,
        "week": week,
        "week_end": week + dt.timedelta(days=6),
        "previous_week": week - dt.timedelta(days=7),
        "next_week": week + dt.timedelta(days=7),
        "days": days,
        "today": timezone.localdate(),
        "utilisation": services.venue_utilisation(venue, week),
        "cancellable": {b.pk for d in days for b in d.bookings if services.may_cancel(user, b)},
        "form": form,
        "can_book": can_book,
    }
    template = "resources/ledger/venue_bookings.html"
    if _htmx(request) and request.method == "GET":
        return render(request, f"{template}#week", context)
    return render(request, template, context)


@login_required
def booking_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    booking = get_object_or_404(
        VenueBooking.objects.visible_to(user).select_related("venue", "organization"), pk=pk
    )
    if not services.may_cancel(user, booking):
        raise PermissionDenied
    form = BookingCancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.booking_cancel(booking=booking, by=user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("预约已取消。"))
            day = timezone.localtime(booking.starts_at).date()
            return redirect(
                f"{reverse('resources:venue_bookings', args=[booking.venue_id])}?week={services.week_start(day).isoformat()}"
            )
    return render(
        request, "resources/ledger/booking_cancel.html", {"form": form, "booking": booking}
    )


# ---- sections of the community and venue pages -------------------------------------------------

PROFILE_ROLES = (*AREA_ROLES, Role.SOCIAL_ORG_MANAGER, Role.SOCIAL_WORKER)


def community_section(user: Any, community: Community) -> dict[str, Any] | None:
    """The community's service projects, its resources this year by kind, and the coming
    bookings of its venues (each read scoped to the user)."""
    if not user.has_role(*PROFILE_ROLES, Role.VOLUNTEER):
        return None
    year = timezone.localdate().year
    projects = (
        ServiceProject.objects.visible_to(user)
        .filter(communities=community)
        .exclude(status=ProjectStatus.DRAFT)
        .select_related("organization")
        .order_by("-starts_on", "-pk")
    )
    entries = ResourceEntry.objects.visible_to(user).filter(
        community=community, occurred_on__year=year
    )
    totals = services.totals_by_kind(entries)
    union = community.organization
    venues = Venue.objects.filter(
        Q(community=community) | Q(organization__path__startswith=union.path)
    )
    bookings = (
        VenueBooking.objects.visible_to(user)
        .confirmed()
        .filter(venue__in=venues, ends_at__gte=timezone.now())
        .select_related("venue", "organization")
        .order_by("starts_at")[:10]
    )
    return {
        "community": community,
        "year": year,
        "projects": list(projects[:20]),
        "totals": [t for t in totals if t[2]],
        "total": sum((t[2] for t in totals), ZERO),
        "bookings": list(bookings),
        "show_projects": user.has_role(*PROFILE_ROLES),
        "can_record": services.recordable_communities(user).filter(pk=community.pk).exists(),
    }


def venue_section(user: Any, venue: Venue) -> dict[str, Any]:
    today = timezone.localdate()
    upcoming = (
        VenueBooking.objects.visible_to(user)
        .confirmed()
        .filter(venue=venue, ends_at__gte=timezone.now())
        .select_related("organization")
        .order_by("starts_at")[:10]
    )
    return {
        "venue": venue,
        "bookings": list(upcoming),
        "utilisation": services.venue_utilisation(venue, today),
        "can_book": services.bookable_venues(user).filter(pk=venue.pk).exists(),
        "week": services.week_start(today),
    }


def register_sections() -> None:
    """Called from ResourcesConfig.ready()."""
    from sanlian.organizations import profile

    profile.register_section("resources/ledger/_community.html", community_section, 20)
    profile.register_section("resources/ledger/_venue.html", venue_section, 20, page=profile.VENUE)
