"""JSON API of the ledger part of 资源联合: resource entries (list, create, delete, monthly
volunteer hours, the year's summary by tier), venue bookings (list, create, cancel) and a
venue's availability.

Bodies are validated by the forms of the pages (fed as form data), so the rules and the Chinese
messages are the same; every id in a path or a body is looked up through visible_to() (outside
the caller's scope: 404)."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from sanlian.core.api import ErrorOut, form_data, form_errors
from sanlian.core.scoping import AREA_ROLES, scope_for
from sanlian.organizations.models import Community, Organization, Tier, Venue

from ..forms.ledger import (
    BookingCancelForm,
    BookingForm,
    ResourceEntryForm,
    ResourceFilterForm,
    VolunteerHoursForm,
)
from ..models import ProjectStatus, ResourceEntry, ServiceProject, VenueBooking
from ..services import ledger as services

router = Router()


def _user(request: HttpRequest) -> Any:
    return request.user


# ---- schemas -----------------------------------------------------------------------------------


class EntryOut(Schema):
    id: int
    community_id: int
    community_name: str = Field(alias="community.name")
    project_id: int | None
    kind: str
    source_org_id: int | None
    source_name: str
    description: str
    quantity: Decimal | None
    unit: str
    value: Decimal
    is_estimated: bool
    occurred_on: dt.date
    disbursement_id: int | None
    booking_id: int | None


class EntryIn(Schema):
    community_id: int
    kind: str
    description: str
    occurred_on: dt.date
    value: str | int | float | None = None
    project_id: int | None = None
    source_org_id: int | None = None
    source_name: str = ""
    quantity: str | int | float | None = None
    unit: str = ""
    is_estimated: bool = False


class MonthIn(Schema):
    community_id: int
    month: str = Field(description="年-月，例如 2026-05")


class MonthOut(Schema):
    community_id: int
    month: dt.date
    hours: Decimal
    logs: int
    value: Decimal
    entry_id: int | None


class KindTotal(Schema):
    kind: str
    label: str
    value: Decimal


class TierOut(Schema):
    tier: str
    label: str
    communities: int
    population: int
    total: Decimal
    per_capita: Decimal | None
    share: Decimal | None
    population_share: Decimal | None
    by_kind: dict[str, Decimal]


class SummaryOut(Schema):
    year: int
    total: Decimal
    per_capita: Decimal | None
    weak_share: Decimal | None
    weak_population_share: Decimal | None
    tiers: list[TierOut]


class BookingOut(Schema):
    id: int
    venue_id: int
    venue_name: str = Field(alias="venue.name")
    organization_id: int
    organization_name: str = Field(alias="organization.name")
    project_id: int | None
    purpose: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    attendees: int | None
    status: str
    cancelled_reason: str


class BookingIn(Schema):
    venue_id: int
    title: str
    purpose: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    attendees: int | None = None
    project_id: int | None = None


class CancelIn(Schema):
    reason: str = ""


class BusyOut(Schema):
    booking_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    title: str
    organization_name: str


class OpeningOut(Schema):
    date: dt.date
    opens: list[str]


class AvailabilityOut(Schema):
    venue_id: int
    bookable: bool
    opening_hours: str
    opening_hours_understood: bool
    capacity: int | None
    date_from: dt.date
    date_to: dt.date
    opening: list[OpeningOut]
    busy: list[BusyOut]
    booked_hours: Decimal


# ---- resource entries --------------------------------------------------------------------------


@router.get("/resource-entries", response=list[EntryOut])
@paginate
def entries(
    request: HttpRequest,
    community_id: int | None = None,
    kind: str | None = None,
    project_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> Any:
    user = _user(request)
    qs = ResourceEntry.objects.visible_to(user).select_related("community")
    form = ResourceFilterForm(
        form_data(
            {
                "community": community_id,
                "kind": kind,
                "project": project_id,
                "date_from": date_from,
                "date_to": date_to,
            }
        ),
        communities=Community.objects.all(),
        projects=ServiceProject.objects.visible_to(user),
    )
    if not form.is_valid():
        raise HttpError(400, "; ".join(str(m) for e in form.errors.values() for m in e))
    return services.filter_entries(qs, form.cleaned_data).order_by("-occurred_on", "-pk")


@router.get("/resource-entries/summary", response=SummaryOut)
def summary(request: HttpRequest, year: int | None = None) -> dict[str, Any]:
    """The year's resources by tier (明星/普通/薄弱), per capita, and the weak communities'
    share (federation and area staff)."""
    user = _user(request)
    if not user.has_role(*services.OVERVIEW_ROLES):
        raise HttpError(403, "无权查看资源分布")
    overview = services.resource_overview(user, year or timezone.localdate().year)
    return {
        "year": overview.year,
        "total": overview.total.total,
        "per_capita": overview.total.per_capita,
        "weak_share": overview.weak_share,
        "weak_population_share": overview.weak_population_share,
        "tiers": [
            {
                "tier": t.tier,
                "label": str(Tier(t.tier).label),
                "communities": t.communities,
                "population": t.population,
                "total": t.total,
                "per_capita": t.per_capita,
                "share": overview.share_of(t),
                "population_share": overview.population_share_of(t),
                "by_kind": t.by_kind,
            }
            for t in overview.tiers
        ],
    }


@router.post("/resource-entries/volunteer-hours", response={200: MonthOut, 400: ErrorOut})
def volunteer_hours(request: HttpRequest, payload: MonthIn) -> Any:
    """Record (or refresh) a community's confirmed volunteer hours of a month: one entry per
    community and month."""
    user = _user(request)
    if not user.has_role(*AREA_ROLES):
        raise HttpError(403, "无权汇总志愿服务时长")
    get_object_or_404(Community.objects.visible_to(user), pk=payload.community_id)
    form = VolunteerHoursForm(
        {"community": payload.community_id, "month": payload.month},
        communities=services.recordable_communities(user),
    )
    if not form.is_valid():
        return form_errors(form)
    try:
        result = services.volunteer_hours_record(by=user, **form.cleaned_data)
    except ValidationError as exc:
        return form_errors(exc)
    return {
        "community_id": result.community.pk,
        "month": result.month,
        "hours": result.hours,
        "logs": result.logs,
        "value": result.value,
        "entry_id": result.existing.pk if result.existing else None,
    }


@router.get("/resource-entries/{entry_id}", response=EntryOut)
def entry(request: HttpRequest, entry_id: int) -> ResourceEntry:
    return get_object_or_404(ResourceEntry.objects.visible_to(request.user), pk=entry_id)


@router.post("/resource-entries", response={201: EntryOut, 400: ErrorOut})
def entry_create(request: HttpRequest, payload: EntryIn) -> Any:
    user = _user(request)
    if not user.has_role(*services.RECORDER_ROLES):
        raise HttpError(403, "无权登记资源")
    recordable = services.recordable_communities(user)
    if not (
        Community.objects.visible_to(user).filter(pk=payload.community_id).exists()
        or recordable.filter(pk=payload.community_id).exists()
    ):
        raise HttpError(404, "Not Found")
    if payload.project_id is not None:
        get_object_or_404(ServiceProject.objects.visible_to(user), pk=payload.project_id)
    if payload.source_org_id is not None:
        get_object_or_404(Organization.objects.visible_to(user), pk=payload.source_org_id)
    area = scope_for(user).area_path is not None
    form = ResourceEntryForm(
        form_data(
            {
                "community": payload.community_id,
                "kind": payload.kind,
                "description": payload.description,
                "occurred_on": payload.occurred_on,
                "value": payload.value,
                "project": payload.project_id,
                "source_org": payload.source_org_id,
                "source_name": payload.source_name,
                "quantity": payload.quantity,
                "unit": payload.unit,
                "is_estimated": payload.is_estimated,
            }
        ),
        communities=recordable,
        projects=services.ledger_projects(user),
        organizations=Organization.objects.visible_to(user) if area else None,
    )
    if not form.is_valid():
        return form_errors(form)
    try:
        created = services.resource_entry_create(by=user, **form.service_fields())
    except ValidationError as exc:
        return form_errors(exc)
    return Status(201, created)


@router.delete("/resource-entries/{entry_id}", response={204: None, 400: ErrorOut})
def entry_delete(request: HttpRequest, entry_id: int) -> Any:
    user = _user(request)
    found = get_object_or_404(ResourceEntry.objects.visible_to(user), pk=entry_id)
    try:
        services.resource_entry_delete(entry=found, by=user)
    except ValidationError as exc:
        return form_errors(exc)
    return Status(204, None)


# ---- venue bookings ----------------------------------------------------------------------------


@router.get("/venue-bookings", response=list[BookingOut])
@paginate
def bookings(
    request: HttpRequest,
    venue_id: int | None = None,
    status: str | None = None,
    mine: bool = False,
    past: bool = False,
) -> Any:
    user = _user(request)
    qs = VenueBooking.objects.visible_to(user).select_related("venue", "organization")
    if venue_id is not None:
        qs = qs.filter(venue_id=venue_id)
    if status:
        qs = qs.filter(status=status)
    if mine:
        qs = qs.filter(organization_id=user.organization_id or 0)
    if not past:
        qs = qs.filter(ends_at__gte=timezone.now())
    return qs.order_by("starts_at", "pk")


@router.get("/venue-bookings/{booking_id}", response=BookingOut)
def booking(request: HttpRequest, booking_id: int) -> VenueBooking:
    return get_object_or_404(VenueBooking.objects.visible_to(request.user), pk=booking_id)


@router.post("/venue-bookings", response={201: BookingOut, 400: ErrorOut})
def booking_create(request: HttpRequest, payload: BookingIn) -> Any:
    user = _user(request)
    if not services.may_book(user):
        raise HttpError(403, "您的账号无权预约场地")
    venue = get_object_or_404(Venue.objects.visible_to(user), pk=payload.venue_id)
    if payload.project_id is not None:
        get_object_or_404(ServiceProject.objects.visible_to(user), pk=payload.project_id)
    form = BookingForm(
        form_data(
            {
                "title": payload.title,
                "purpose": payload.purpose,
                "starts_at": payload.starts_at,
                "ends_at": payload.ends_at,
                "attendees": payload.attendees,
                "project": payload.project_id,
            }
        ),
        projects=services.booking_projects(user).exclude(status=ProjectStatus.DRAFT),
    )
    if not form.is_valid():
        return form_errors(form)
    try:
        created = services.booking_create(by=user, venue=venue, **form.cleaned_data)
    except ValidationError as exc:
        return form_errors(exc)
    return Status(201, created)


@router.post("/venue-bookings/{booking_id}/cancel", response={200: BookingOut, 400: ErrorOut})
def booking_cancel(request: HttpRequest, booking_id: int, payload: CancelIn) -> Any:
    user = _user(request)
    found = get_object_or_404(VenueBooking.objects.visible_to(user), pk=booking_id)
    if not services.may_cancel(user, found) and found.status == "confirmed":
        raise HttpError(403, "只有预约组织或场地所属单位可以取消该预约")
    form = BookingCancelForm({"reason": payload.reason})
    if not form.is_valid():
        return form_errors(form)
    try:
        return services.booking_cancel(booking=found, by=user, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        return form_errors(exc)


@router.get("/venues/{venue_id}/availability", response=AvailabilityOut)
def availability(
    request: HttpRequest,
    venue_id: int,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> dict[str, Any]:
    """A venue's opening hours day by day and its confirmed bookings (busy times) between two
    dates (by default this week; at most 62 days)."""
    user = _user(request)
    venue = get_object_or_404(Venue.objects.visible_to(user), pk=venue_id)
    start = date_from or services.week_start(timezone.localdate())
    end = date_to or start + dt.timedelta(days=6)
    if end < start or (end - start).days > 61:
        raise HttpError(400, "日期范围须在 62 天以内，且结束日期不早于开始日期")
    lo = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    hi = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))
    busy = (
        VenueBooking.objects.confirmed()
        .filter(venue=venue)
        .overlapping(lo, hi)
        .select_related("organization")
        .order_by("starts_at")
    )
    parsed = services.parse_opening_hours(venue.opening_hours)
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    seconds = sum((min(b.ends_at, hi) - max(b.starts_at, lo)).total_seconds() for b in busy)
    return {
        "venue_id": venue.pk,
        "bookable": services.bookable_venues(user).filter(pk=venue.pk).exists(),
        "opening_hours": venue.opening_hours,
        "opening_hours_understood": parsed is not None,
        "capacity": venue.capacity,
        "date_from": start,
        "date_to": end,
        "opening": [
            {
                "date": d,
                "opens": [
                    f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}"
                    for a, b in (parsed or {}).get(d.weekday(), [])
                ],
            }
            for d in days
        ],
        "busy": [
            {
                "booking_id": b.pk,
                "starts_at": b.starts_at,
                "ends_at": b.ends_at,
                "title": b.title,
                "organization_name": b.organization.name,
            }
            for b in busy
        ],
        "booked_hours": (Decimal(seconds) / 3600).quantize(Decimal("0.01")),
    }
