"""Writes of the resource ledger (资源台账) and of venue bookings (场地预约), and the reads the
pages and the API share (totals, the city overview, a venue's week).

Ledger. Area roles record resources for the communities of their area; a social organisation's
manager records what the organisation brought to the communities its running projects serve
(the entry's source is then the organisation itself, so it keeps seeing it). FUNDS entries are
written by the disbursement service of the projects part only: nobody enters, edits or deletes
them here. Volunteer hours are valued at hours × `VOLUNTEER_HOUR_VALUE` (元, a setting read at
call time, 20 by default). The confirmed hour logs of a community's volunteer teams are summed
per month into one entry (`volunteer_hours_record`): recording a month again refreshes that
entry, it never adds a second one, so no hour is counted twice.

Bookings. Any organisation in scope books a shared, active venue it can see (the venue's owner
always may): no past times, ends after it starts, at most a day, within the opening hours when
they can be read, attendees within the capacity. Two confirmed bookings of one venue never
overlap: PostgreSQL refuses them with the exclusion constraint `booking_no_overlap` (migration
0002), whatever writes them; this service checks first to say which booking clashes, and turns
the constraint's refusal (a concurrent booking that won) into the same message. On SQLite the
check runs inside the write transaction, which holds the database's one write lock (IMMEDIATE).
Touching bookings (one ends at 10:00, the next starts at 10:00) do not overlap.

A booking for a service project that serves the community where the venue is puts the venue's
time into that project: it writes one VENUE entry for the community (source: the venue's owner;
hours × `VENUE_HOUR_VALUE`, 50 元 by default, estimated; 0 turns this off), removed again if
the booking is cancelled. Meetings and bookings without a project write nothing: the ledger
counts resources that reach a community's services, not every use of a room.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sanlian.core.models import User
from sanlian.core.roles import Role
from sanlian.core.scoping import AREA_ROLES, NOTHING, Scope, scope_for
from sanlian.organizations.models import (
    Community,
    Organization,
    Tier,
    Venue,
    Volunteer,
    VolunteerHourLog,
)

from ..lifecycle import Lifecycle, Transition
from ..models import (
    Application,
    BookingPurpose,
    BookingStatus,
    ProjectCall,
    ProjectStatus,
    ResourceEntry,
    ResourceKind,
    ServiceProject,
    VenueBooking,
)
from ..money import CENT, MAX_DIGITS, ZERO

# Who records resources, who books venues (a volunteer only as the coordinator of a team).
RECORDER_ROLES = (*AREA_ROLES, Role.SOCIAL_ORG_MANAGER)
BOOKER_ROLES = (*AREA_ROLES, Role.SOCIAL_ORG_MANAGER, Role.SOCIAL_WORKER, Role.VOLUNTEER)
OVERVIEW_ROLES = (Role.FEDERATION_STAFF, Role.AREA_STAFF)
# Kinds a person enters by hand (money comes from disbursements only).
MANUAL_KINDS = tuple(k for k in ResourceKind if k != ResourceKind.FUNDS)
# Projects an entry or a booking may name.
LEDGER_PROJECT_STATUSES = (ProjectStatus.ACTIVE, ProjectStatus.CLOSING, ProjectStatus.ACCEPTED)
BOOKING_PROJECT_STATUSES = (ProjectStatus.ACTIVE, ProjectStatus.CLOSING)
# The source of the monthly entry summed from volunteer hour logs (data, not interface text).
VOLUNTEER_LOG_SOURCE = "志愿服务时长记录"
HOURS_UNIT = "小时"
OVERLAP_CONSTRAINT = "booking_no_overlap"
MAX_BOOKING = dt.timedelta(hours=24)

BOOKING_LIFECYCLE = Lifecycle(
    BookingStatus,
    [
        Transition(
            "cancel",
            gettext_lazy("取消预约"),
            (BookingStatus.CONFIRMED,),
            BookingStatus.CANCELLED,
            frozenset(BOOKER_ROLES),
        )
    ],
)


def volunteer_hour_value() -> Decimal:
    """元 per volunteer hour (setting `VOLUNTEER_HOUR_VALUE`)."""
    return Decimal(str(settings.VOLUNTEER_HOUR_VALUE))


def venue_hour_value() -> Decimal:
    """元 per hour of a lent venue (setting `VENUE_HOUR_VALUE`; 0: no VENUE entries)."""
    return Decimal(str(settings.VENUE_HOUR_VALUE))


def check_money(value: Any, field_name: str = "value") -> Decimal:
    """An amount in 元 to the 分, or ValidationError in Chinese."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        amount = Decimal("NaN")
    if not amount.is_finite():
        raise ValidationError({field_name: _("请输入有效的金额（数字）。")})
    if amount < 0:
        raise ValidationError({field_name: _("金额不能为负数。")})
    if amount >= Decimal(10) ** (MAX_DIGITS - 2):
        raise ValidationError({field_name: _("金额过大。")})
    if amount != amount.quantize(CENT):
        raise ValidationError({field_name: _("金额最多保留两位小数（到分）。")})
    return amount.quantize(CENT)


def hours_between(starts_at: dt.datetime, ends_at: dt.datetime) -> Decimal:
    return (Decimal((ends_at - starts_at).total_seconds()) / 3600).quantize(Decimal("0.01"))


# ---- who may do what ---------------------------------------------------------------------------


def _is_area(scope: Scope) -> bool:
    return scope.area_path is not None


def ledger_projects(user: Any) -> QuerySet[ServiceProject]:
    """Projects an entry may name: visible, under way or done; a social organisation's own."""
    scope = scope_for(user)
    qs = ServiceProject.objects.visible_to(user).filter(status__in=LEDGER_PROJECT_STATUSES)
    return qs if _is_area(scope) else qs.filter(organization_id=scope.org_id or 0)


def recordable_communities(user: Any) -> QuerySet[Community]:
    """Communities this user may record resources for: area roles those of their area; a
    social organisation's manager those its projects serve."""
    scope = scope_for(user)
    if not user.has_role(*RECORDER_ROLES):
        return Community.objects.none()
    if _is_area(scope):
        return Community.objects.visible_to(user).active()
    serving = ledger_projects(user).filter(
        status__in=BOOKING_PROJECT_STATUSES, organization_id=scope.org_id or 0
    )
    return Community.objects.active().filter(
        pk__in=ServiceProject.communities.through.objects.filter(
            serviceproject_id__in=serving.values("pk")
        ).values("community_id")
    )


def may_edit_entry(user: Any, entry: ResourceEntry) -> bool:
    """Whether the entry is one this user may change (never money, never a booking's or a
    monthly volunteer summary, which their own services keep)."""
    if entry.kind == ResourceKind.FUNDS or entry.booking_id is not None or _is_derived(entry):
        return False
    if not recordable_communities(user).filter(pk=entry.community_id).exists():
        return False
    scope = scope_for(user)
    return _is_area(scope) or entry.source_org_id == scope.org_id


def _is_derived(entry: ResourceEntry) -> bool:
    return entry.kind == ResourceKind.VOLUNTEER_HOURS and entry.source_name == VOLUNTEER_LOG_SOURCE


def _owner_q(scope: Scope) -> Q:
    """Venues the user's own organisation owns: its premises, and for a community's cadre or
    Party secretary the community's own venues."""
    q = NOTHING
    if scope.is_admin:
        return q
    if scope.org_id is not None:
        q |= Q(organization_id=scope.org_id)
    if scope.area_path is not None:
        q |= Q(community__organization__path=scope.area_path)
    return q


def owns_venue(user: Any, venue: Venue) -> bool:
    return Venue.objects.filter(_owner_q(scope_for(user)), pk=venue.pk).exists()


def may_book(user: Any) -> bool:
    """Area roles, social organisations' staff, and the coordinator of a volunteer team."""
    if user.organization_id is None:
        return False
    if user.has_role(*AREA_ROLES, Role.SOCIAL_ORG_MANAGER, Role.SOCIAL_WORKER):
        return True
    return bool(
        user.has_role(Role.VOLUNTEER)
        and Volunteer.objects.filter(
            person__user=user, is_coordinator=True, team_id=user.organization_id
        ).exists()
    )


def bookable_venues(user: Any) -> QuerySet[Venue]:
    """Active venues the user sees and may book: shared ones, and the ones it owns."""
    if not may_book(user):
        return Venue.objects.none()
    return (
        Venue.objects.visible_to(user)
        .active()
        .filter(Q(is_shared=True) | _owner_q(scope_for(user)))
    )


def booking_projects(user: Any) -> QuerySet[ServiceProject]:
    """Projects a booking may be for: running ones, visible; a social organisation's own."""
    scope = scope_for(user)
    qs = ServiceProject.objects.visible_to(user).filter(status__in=BOOKING_PROJECT_STATUSES)
    return qs if _is_area(scope) else qs.filter(organization_id=scope.org_id or 0)


def may_cancel(user: Any, booking: VenueBooking) -> bool:
    return booking.status == BookingStatus.CONFIRMED and (
        (user.organization_id is not None and booking.organization_id == user.organization_id)
        or owns_venue(user, booking.venue)
    )


# ---- ledger entries ----------------------------------------------------------------------------


def _check_entry(
    *,
    by: User,
    community: Community,
    kind: str,
    description: str,
    occurred_on: dt.date,
    project: ServiceProject | None,
    source_org: Organization | None,
    source_name: str,
    quantity: Decimal | None,
    unit: str,
    value: Any,
    is_estimated: bool,
) -> dict[str, Any]:
    """The entry's fields as they will be stored, or ValidationError naming what is wrong."""
    if kind == ResourceKind.FUNDS:
        raise ValidationError({"kind": _("资金类台账由拨付自动登记，不能手工录入或修改。")})
    if kind not in ResourceKind.values:
        raise ValidationError({"kind": _("请选择资源类型。")})
    if not recordable_communities(by).filter(pk=community.pk).exists():
        raise ValidationError({"community": _("您无权为该社区登记资源。")})
    scope = scope_for(by)
    if not _is_area(scope):
        if source_org is not None and source_org.pk != scope.org_id:
            raise ValidationError({"source_org": _("社会组织只能登记本机构带来的资源。")})
        source_org = by.organization
    errors: dict[str, str] = {}
    if project is not None:
        if not ledger_projects(by).filter(pk=project.pk).exists():
            errors["project"] = _("只能选择您可见的、已签约的服务项目。")
        elif not project.communities.filter(pk=community.pk).exists():
            errors["project"] = _("该服务项目不服务于所选社区。")
    source_name = (source_name or "").strip()
    if source_org is None and not source_name:
        errors["source_name"] = _("请选择来源组织或填写来源说明。")
    if source_name == VOLUNTEER_LOG_SOURCE:
        errors["source_name"] = _("“%(name)s”为按月汇总的志愿服务时长专用，请换一个来源说明。") % {
            "name": VOLUNTEER_LOG_SOURCE
        }
    if not (description or "").strip():
        errors["description"] = _("请填写资源内容。")
    if occurred_on > timezone.localdate():
        errors["occurred_on"] = _("日期不能晚于今天。")
    if quantity is not None and quantity <= 0:
        errors["quantity"] = _("数量须大于 0。")
    if kind == ResourceKind.VOLUNTEER_HOURS:
        if quantity is None:
            errors["quantity"] = _("请填写志愿服务时长（小时）。")
        unit = unit or HOURS_UNIT
    if errors:
        raise ValidationError(errors)
    if value in (None, ""):
        if kind != ResourceKind.VOLUNTEER_HOURS:
            raise ValidationError({"value": _("请填写价值（元）。")})
        assert quantity is not None
        amount = (quantity * volunteer_hour_value()).quantize(CENT)
        is_estimated = True
    else:
        amount = check_money(value)
    return {
        "community": community,
        "kind": kind,
        "description": description.strip(),
        "occurred_on": occurred_on,
        "project": project,
        "source_org": source_org,
        "source_name": source_name,
        "quantity": quantity,
        "unit": unit,
        "value": amount,
        "is_estimated": is_estimated,
    }


@transaction.atomic
def resource_entry_create(
    *,
    by: User,
    community: Community,
    kind: str,
    description: str,
    occurred_on: dt.date,
    value: Any = None,
    project: ServiceProject | None = None,
    source_org: Organization | None = None,
    source_name: str = "",
    quantity: Decimal | None = None,
    unit: str = "",
    is_estimated: bool = False,
) -> ResourceEntry:
    """Record one resource that reached a community (any kind but money). Volunteer hours
    without a value are valued at the hourly rate, as an estimate."""
    fields = _check_entry(
        by=by,
        community=community,
        kind=kind,
        description=description,
        occurred_on=occurred_on,
        project=project,
        source_org=source_org,
        source_name=source_name,
        quantity=quantity,
        unit=unit,
        value=value,
        is_estimated=is_estimated,
    )
    entry = ResourceEntry(recorded_by=by, **fields)
    entry.full_clean(exclude=["recorded_by", "booking", "disbursement"])
    entry.save()
    return entry


@transaction.atomic
def resource_entry_update(
    *,
    entry: ResourceEntry,
    by: User,
    community: Community,
    kind: str,
    description: str,
    occurred_on: dt.date,
    value: Any = None,
    project: ServiceProject | None = None,
    source_org: Organization | None = None,
    source_name: str = "",
    quantity: Decimal | None = None,
    unit: str = "",
    is_estimated: bool = False,
) -> ResourceEntry:
    entry = ResourceEntry.objects.select_for_update().get(pk=entry.pk)
    _require_editable(entry, by)
    fields = _check_entry(
        by=by,
        community=community,
        kind=kind,
        description=description,
        occurred_on=occurred_on,
        project=project,
        source_org=source_org,
        source_name=source_name,
        quantity=quantity,
        unit=unit,
        value=value,
        is_estimated=is_estimated,
    )
    for name, v in fields.items():
        setattr(entry, name, v)
    entry.full_clean(exclude=["recorded_by", "booking", "disbursement"])
    entry.save()
    return entry


@transaction.atomic
def resource_entry_delete(*, entry: ResourceEntry, by: User) -> None:
    """Remove an entry entered by mistake (the audit trail keeps what it was)."""
    entry = ResourceEntry.objects.select_for_update().get(pk=entry.pk)
    _require_editable(entry, by)
    entry.delete()


def _require_editable(entry: ResourceEntry, by: User) -> None:
    if entry.kind == ResourceKind.FUNDS:
        raise ValidationError(_("资金类台账由拨付自动登记，不能手工修改或删除。"), code="funds")
    if entry.booking_id is not None:
        raise ValidationError(
            _("该条台账由场地预约自动登记，取消预约时会一并撤销。"), code="booking"
        )
    if _is_derived(entry):
        raise ValidationError(
            _("该条台账由志愿服务时长记录按月汇总，请重新汇总该月。"), code="derived"
        )
    if not may_edit_entry(by, entry):
        raise ValidationError(_("您无权修改该条台账。"), code="forbidden")


# ---- volunteer hours, summed per community and month -------------------------------------------


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(first: dt.date) -> dt.date:
    return (first + dt.timedelta(days=32)).replace(day=1)


@dataclass(frozen=True)
class MonthHours:
    """What the confirmed hour logs of a community's volunteer teams add up to in a month."""

    community: Community
    month: dt.date
    hours: Decimal
    logs: int
    value: Decimal
    existing: ResourceEntry | None

    @property
    def changes(self) -> bool:
        return self.existing is None or (self.existing.quantity, self.existing.value) != (
            self.hours,
            self.value,
        )


def month_logs(community: Community, month: dt.date) -> QuerySet[VolunteerHourLog]:
    """Confirmed logs of the teams under the community's union, served in that month."""
    first = month_start(month)
    return VolunteerHourLog.objects.confirmed().filter(
        volunteer__team__path__startswith=community.organization.path,
        served_on__gte=first,
        served_on__lt=_next_month(first),
    )


def month_entry(community: Community, month: dt.date) -> ResourceEntry | None:
    return ResourceEntry.objects.filter(
        community=community,
        kind=ResourceKind.VOLUNTEER_HOURS,
        occurred_on=month_start(month),
        source_name=VOLUNTEER_LOG_SOURCE,
    ).first()


def volunteer_month_hours(*, community: Community, month: dt.date) -> MonthHours:
    first = month_start(month)
    totals = month_logs(community, first).aggregate(hours=Sum("hours"), logs=models.Count("pk"))
    hours = Decimal(totals["hours"] or 0).quantize(Decimal("0.01"))
    return MonthHours(
        community=community,
        month=first,
        hours=hours,
        logs=totals["logs"],
        value=(hours * volunteer_hour_value()).quantize(CENT),
        existing=month_entry(community, first),
    )


@transaction.atomic
def volunteer_hours_record(*, community: Community, month: dt.date, by: User) -> MonthHours:
    """Record (or refresh) the community's volunteer hours of one month: one entry per
    community and month, whatever the number of times it is recorded."""
    if not (
        by.has_role(*AREA_ROLES) and recordable_communities(by).filter(pk=community.pk).exists()
    ):
        raise ValidationError({"community": _("您无权为该社区登记资源。")})
    first = month_start(month)
    if first > month_start(timezone.localdate()):
        raise ValidationError({"month": _("不能汇总未来的月份。")})
    # One writer per community at a time: two clerks recording the same month queue here.
    Community.objects.select_for_update().filter(pk=community.pk).first()
    summary = volunteer_month_hours(community=community, month=first)
    if summary.logs == 0 and summary.existing is None:
        raise ValidationError({"month": _("该社区当月没有已确认的志愿服务时长记录。")})
    entry = summary.existing or ResourceEntry(
        community=community,
        kind=ResourceKind.VOLUNTEER_HOURS,
        occurred_on=first,
        source_name=VOLUNTEER_LOG_SOURCE,
        recorded_by=by,
    )
    entry.description = _("%(year)d年%(month)d月志愿服务时长（%(logs)d条已确认记录）") % {
        "year": first.year,
        "month": first.month,
        "logs": summary.logs,
    }
    entry.quantity = summary.hours
    entry.unit = HOURS_UNIT
    entry.value = summary.value
    entry.is_estimated = True
    entry.save()
    return MonthHours(
        community=community,
        month=first,
        hours=summary.hours,
        logs=summary.logs,
        value=summary.value,
        existing=entry,
    )


# ---- opening hours -----------------------------------------------------------------------------

_DAY_CHARS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_DAY_WORDS = {
    "工作日": (0, 1, 2, 3, 4),
    "周末": (5, 6),
    "双休日": (5, 6),
    "每天": tuple(range(7)),
    "每日": tuple(range(7)),
    "全周": tuple(range(7)),
}
_DAY = r"(?:周|星期)([一二三四五六日天])"
_DAY_RANGE = re.compile(rf"{_DAY}(?:\s*[至到~\-－—]\s*(?:周|星期)?([一二三四五六日天]))?")
_TIME_RANGE = re.compile(r"(\d{1,2})\s*[:：]\s*(\d{2})\s*[-－—~至到]\s*(\d{1,2})\s*[:：]\s*(\d{2})")
_SEGMENTS = re.compile(r"[；;，,\n]+")
_FILLER_CHARS = " \t\u3000、和及/"
_FILLER = re.compile(r"[\s、和及/]*")

# weekday (0 = Monday) -> [(from minute, to minute)], minutes after midnight (to ≤ 1440).
OpeningHours = dict[int, list[tuple[int, int]]]


def _days(spec: str) -> tuple[int, ...] | None:
    """周一至周五、周六 / 工作日 / 每天 … ; None if the text is not only days."""
    days: list[int] = []
    rest = spec
    while rest := rest.lstrip(_FILLER_CHARS):
        word = next((w for w in _DAY_WORDS if rest.startswith(w)), None)
        if word is not None:
            days.extend(_DAY_WORDS[word])
            rest = rest[len(word) :]
            continue
        m = _DAY_RANGE.match(rest)
        if m is None:
            return None
        first = _DAY_CHARS[m.group(1)]
        last = _DAY_CHARS[m.group(2)] if m.group(2) else first
        if last < first:
            return None
        days.extend(range(first, last + 1))
        rest = rest[m.end() :]
    return tuple(sorted(set(days)))


def parse_opening_hours(text: str) -> OpeningHours | None:
    """“周一至周五 8:30-17:00；周六 9:00-12:00” as intervals per weekday, or None when the
    text cannot be read (then no booking is refused for it)."""
    text = (text or "").strip()
    if not text:
        return None
    hours: OpeningHours = {}
    for segment in filter(None, (s.strip() for s in _SEGMENTS.split(text))):
        ranges = list(_TIME_RANGE.finditer(segment))
        if not ranges:
            return None
        head = segment[: ranges[0].start()].strip()
        between = _TIME_RANGE.sub("", segment[ranges[0].start() :])
        if _FILLER.fullmatch(between) is None:
            return None
        days = _days(head) if head else tuple(range(7))
        if not days:
            return None
        for r in ranges:
            h1, m1, h2, m2 = (int(g) for g in r.groups())
            start, end = h1 * 60 + m1, h2 * 60 + m2
            if m1 >= 60 or m2 >= 60 or not 0 <= start < end <= 24 * 60:
                return None
            for d in days:
                hours.setdefault(d, []).append((start, end))
    return {d: sorted(v) for d, v in hours.items()}


def weekly_open_hours(hours: OpeningHours) -> Decimal:
    minutes = sum(end - start for spans in hours.values() for start, end in spans)
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"))


def within_opening_hours(hours: OpeningHours, starts_at: dt.datetime, ends_at: dt.datetime) -> bool:
    start, end = timezone.localtime(starts_at), timezone.localtime(ends_at)
    end_minute = end.hour * 60 + end.minute
    if end.date() != start.date():
        # Ending at midnight is the end of the same day.
        if end.date() != start.date() + dt.timedelta(days=1) or end_minute or end.second:
            return False
        end_minute = 24 * 60
    start_minute = start.hour * 60 + start.minute
    return any(a <= start_minute and end_minute <= b for a, b in hours.get(start.weekday(), []))


# ---- bookings ----------------------------------------------------------------------------------


def _local(value: dt.datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return timezone.localtime(value).strftime(fmt)


def clash_message(other: VenueBooking) -> str:
    return _("该时段已被预约：%(title)s（%(org)s，%(start)s–%(end)s），请另选时间。") % {
        "title": other.title,
        "org": other.organization.name,
        "start": _local(other.starts_at),
        "end": _local(other.ends_at, "%H:%M")
        if timezone.localtime(other.ends_at).date() == timezone.localtime(other.starts_at).date()
        else _local(other.ends_at),
    }


def _clash(venue: Venue, starts_at: dt.datetime, ends_at: dt.datetime) -> VenueBooking | None:
    return (
        VenueBooking.objects.confirmed()
        .filter(venue=venue)
        .overlapping(starts_at, ends_at)
        .select_related("organization")
        .order_by("starts_at")
        .first()
    )


def venue_community(venue: Venue) -> Community | None:
    """The community where a venue is: its own, or the one whose union an owning organisation
    hangs under (None above community level)."""
    if venue.community_id is not None:
        return venue.community
    assert venue.organization is not None
    return Community.objects.filter(organization_id__in=venue.organization.ancestor_ids()).first()


def _owner_org(venue: Venue) -> Organization:
    if venue.community_id is not None:
        return venue.community.organization  # type: ignore[union-attr]
    assert venue.organization is not None
    return venue.organization


def venue_entry(booking: VenueBooking, by: User | None) -> ResourceEntry | None:
    """The VENUE entry of a booking for a project serving the venue's community, unsaved
    (None: no project, another community's project, or venues valued 0)."""
    venue = booking.venue
    rate = venue_hour_value()
    community = venue_community(venue)
    if (
        booking.project is None
        or rate <= 0
        or community is None
        or not booking.project.communities.filter(pk=community.pk).exists()
    ):
        return None
    hours = hours_between(booking.starts_at, booking.ends_at)
    return ResourceEntry(
        community=community,
        project=booking.project,
        kind=ResourceKind.VENUE,
        source_org=_owner_org(venue),
        description=_("%(venue)s：%(title)s") % {"venue": venue.name, "title": booking.title},
        quantity=hours,
        unit=HOURS_UNIT,
        value=(hours * rate).quantize(CENT),
        is_estimated=True,
        occurred_on=timezone.localtime(booking.starts_at).date(),
        booking=booking,
        recorded_by=by,
    )


def _check_booking(
    *,
    by: User,
    venue: Venue,
    purpose: str,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    attendees: int | None,
    project: ServiceProject | None,
    now: dt.datetime,
) -> None:
    if not may_book(by):
        raise ValidationError(_("您的账号无权预约场地。"), code="forbidden")
    if not venue.is_active:
        raise ValidationError({"venue": _("该场地已停用，不能预约。")})
    if not bookable_venues(by).filter(pk=venue.pk).exists():
        raise ValidationError({"venue": _("该场地不对外开放预约。")})
    errors: dict[str, str] = {}
    if purpose not in BookingPurpose.values:
        errors["purpose"] = _("请选择用途。")
    if not (title or "").strip():
        errors["title"] = _("请填写活动名称。")
    if ends_at <= starts_at:
        errors["ends_at"] = _("结束时间须晚于开始时间。")
    elif ends_at - starts_at > MAX_BOOKING:
        errors["ends_at"] = _("单次预约不能超过24小时。")
    if starts_at < now:
        errors["starts_at"] = _("不能预约已经过去的时间。")
    if attendees is not None and venue.capacity is not None and attendees > venue.capacity:
        errors["attendees"] = _("预计人数超过场地容纳人数（%(n)d人）。") % {"n": venue.capacity}
    if project is not None and not booking_projects(by).filter(pk=project.pk).exists():
        errors["project"] = _("只能选择您可见的、执行中的服务项目。")
    if errors:
        raise ValidationError(errors)
    opening = parse_opening_hours(venue.opening_hours)
    if opening is not None and not within_opening_hours(opening, starts_at, ends_at):
        raise ValidationError(
            {"starts_at": _("超出场地开放时间（%(hours)s）。") % {"hours": venue.opening_hours}}
        )


@transaction.atomic
def booking_create(
    *,
    by: User,
    venue: Venue,
    purpose: str,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    attendees: int | None = None,
    project: ServiceProject | None = None,
    now: dt.datetime | None = None,
) -> VenueBooking:
    """Book a venue for the user's organisation; refused with the clashing booking named if
    the time is taken (on PostgreSQL even when another booking won the race a moment ago)."""
    _check_booking(
        by=by,
        venue=venue,
        purpose=purpose,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        attendees=attendees,
        project=project,
        now=now or timezone.now(),
    )
    other = _clash(venue, starts_at, ends_at)
    if other is not None:
        raise ValidationError({"starts_at": ValidationError(clash_message(other), code="overlap")})
    assert by.organization is not None
    booking = VenueBooking(
        venue=venue,
        organization=by.organization,
        project=project,
        purpose=purpose,
        title=title.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        attendees=attendees,
        booked_by=by,
    )
    try:
        with transaction.atomic():
            booking.save()
    except IntegrityError as exc:
        if getattr(getattr(exc.__cause__, "diag", None), "constraint_name", "") != (
            OVERLAP_CONSTRAINT
        ):
            raise
        other = _clash(venue, starts_at, ends_at)
        message = clash_message(other) if other else _("该时段已被预约，请另选时间。")
        raise ValidationError({"starts_at": ValidationError(message, code="overlap")}) from exc
    entry = venue_entry(booking, by)
    if entry is not None:
        entry.save()
    return booking


@transaction.atomic
def booking_cancel(
    *, booking: VenueBooking, by: User, reason: str, now: dt.datetime | None = None
) -> VenueBooking:
    """Cancel a booking that has not begun (its organisation or the venue's owner); the time
    is free again and the venue's ledger entry, if any, goes with it."""
    booking = VenueBooking.objects.select_for_update().select_related("venue").get(pk=booking.pk)
    BOOKING_LIFECYCLE.check(booking, "cancel", by)
    if not may_cancel(by, booking):
        raise ValidationError(_("只有预约组织或场地所属单位可以取消该预约。"), code="forbidden")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写取消原因。")})
    if booking.starts_at <= (now or timezone.now()):
        raise ValidationError(_("预约已开始或已结束，不能取消。"), code="started")
    ResourceEntry.objects.filter(booking=booking).delete()
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_reason = reason[:200]
    booking.save(update_fields=["status", "cancelled_reason"])
    return booking


# ---- reads: a venue's week, totals, the city overview -------------------------------------------


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@dataclass(frozen=True)
class Utilisation:
    booked_hours: Decimal
    open_hours: Decimal | None  # None: opening hours not given or not readable

    @property
    def percent(self) -> Decimal | None:
        if not self.open_hours:
            return None
        return (self.booked_hours * 100 / self.open_hours).quantize(Decimal("0.1"))


def venue_utilisation(venue: Venue, week: dt.date) -> Utilisation:
    """Hours booked (confirmed) in the week from Monday `week`, against its opening hours."""
    begin = _aware(week_start(week))
    end = begin + dt.timedelta(days=7)
    seconds = Decimal(0)
    for b in VenueBooking.objects.confirmed().filter(venue=venue).overlapping(begin, end):
        seconds += Decimal((min(b.ends_at, end) - max(b.starts_at, begin)).total_seconds())
    opening = parse_opening_hours(venue.opening_hours)
    return Utilisation(
        booked_hours=(seconds / 3600).quantize(Decimal("0.01")),
        open_hours=weekly_open_hours(opening) if opening is not None else None,
    )


@dataclass(frozen=True)
class Day:
    date: dt.date
    bookings: list[VenueBooking]
    opening: list[tuple[int, int]]

    @property
    def opening_text(self) -> str:
        return "、".join(f"{a // 60}:{a % 60:02d}-{b // 60}:{b % 60:02d}" for a, b in self.opening)


def venue_week(venue: Venue, week: dt.date) -> list[Day]:
    """The seven days from Monday `week`, each with the confirmed bookings that touch it."""
    first = week_start(week)
    begin = _aware(first)
    bookings = list(
        VenueBooking.objects.confirmed()
        .filter(venue=venue)
        .overlapping(begin, begin + dt.timedelta(days=7))
        .select_related("organization", "project")
        .order_by("starts_at")
    )
    opening = parse_opening_hours(venue.opening_hours) or {}
    days = []
    for i in range(7):
        day = first + dt.timedelta(days=i)
        lo, hi = _aware(day), _aware(day + dt.timedelta(days=1))
        days.append(
            Day(
                date=day,
                bookings=[b for b in bookings if b.starts_at < hi and b.ends_at > lo],
                opening=opening.get(i, []),
            )
        )
    return days


def filter_entries(
    entries: QuerySet[ResourceEntry], data: dict[str, Any]
) -> QuerySet[ResourceEntry]:
    """The ledger rows the filter form's cleaned data selects (pages, export and API)."""
    if data.get("community"):
        entries = entries.filter(community=data["community"])
    if data.get("kind"):
        entries = entries.filter(kind=data["kind"])
    if data.get("project"):
        entries = entries.filter(project=data["project"])
    if data.get("date_from"):
        entries = entries.filter(occurred_on__gte=data["date_from"])
    if data.get("date_to"):
        entries = entries.filter(occurred_on__lte=data["date_to"])
    return entries


def totals_by_kind(entries: QuerySet[ResourceEntry]) -> list[tuple[str, str, Decimal]]:
    """(kind, label, total) of every kind, in the order of ResourceKind."""
    sums = dict(entries.order_by().values_list("kind").annotate(total=Sum("value")))
    return [(k.value, str(k.label), sums.get(k.value) or ZERO) for k in ResourceKind]


def _per_capita(total: Decimal, population: int) -> Decimal | None:
    return (total / population).quantize(CENT) if population else None


def _share(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1")) if whole else None


@dataclass
class ResourceRow:
    """Resources of one community, or of a group of them (a tier, a district)."""

    label: str
    population: int = 0
    communities: int = 0
    by_kind: dict[str, Decimal] = field(default_factory=dict)
    total: Decimal = ZERO
    weak_total: Decimal = ZERO
    community: Community | None = None
    tier: str = ""

    def add(self, kind: str, value: Decimal) -> None:
        self.by_kind[kind] = self.by_kind.get(kind, ZERO) + value
        self.total += value

    @property
    def per_capita(self) -> Decimal | None:
        return _per_capita(self.total, self.population)

    def kinds(self) -> list[Decimal]:
        return [self.by_kind.get(k.value, ZERO) for k in ResourceKind]

    @property
    def weak_share(self) -> Decimal | None:
        return _share(self.weak_total, self.total)


@dataclass(frozen=True)
class Overview:
    year: int
    rows: list[ResourceRow]  # communities, the most resourced first
    tiers: list[ResourceRow]
    districts: list[ResourceRow]
    total: ResourceRow

    def tier(self, tier: str) -> ResourceRow:
        return next(t for t in self.tiers if t.tier == tier)

    @property
    def weak_share(self) -> Decimal | None:
        return _share(self.tier(Tier.WEAK).total, self.total.total)

    @property
    def weak_population_share(self) -> Decimal | None:
        return _share(self.tier(Tier.WEAK).population, self.total.population)

    def share_of(self, row: ResourceRow) -> Decimal | None:
        return _share(row.total, self.total.total)

    def population_share_of(self, row: ResourceRow) -> Decimal | None:
        return _share(row.population, self.total.population)


def resource_overview(user: Any, year: int) -> Overview:
    """Resources of a year by community, by tier (明星/普通/薄弱) and by district (as the
    districts were at the end of that year), per capita of the community population."""
    year_end = dt.date(year, 12, 31)
    entries = ResourceEntry.objects.visible_to(user).filter(occurred_on__year=year)
    sums = entries.order_by().values_list("community_id", "kind").annotate(total=Sum("value"))
    with_entries = {cid for cid, _k, _v in sums}
    communities = (
        Community.objects.visible_to(user)
        .filter(Q(organization__is_active=True) | Q(pk__in=with_entries))
        .with_area_at(min(year_end, timezone.localdate()))
        .order_by("organization__path")
    )
    rows: dict[int, ResourceRow] = {}
    tiers = {t.value: ResourceRow(label=str(t.label), tier=t.value) for t in Tier}
    districts: dict[int, ResourceRow] = {}
    district_of: dict[int, int] = {}
    total = ResourceRow(label=_("合计"))
    for c in communities:
        rows[c.pk] = ResourceRow(
            label=c.name, population=c.population, communities=1, community=c, tier=c.tier
        )
        district_of[c.pk] = c.area_district_id
        for group in (
            tiers[c.tier],
            districts.setdefault(c.area_district_id, ResourceRow(label="")),
            total,
        ):
            group.population += c.population
            group.communities += 1
    for cid, kind, value in sums:
        if cid not in rows:
            continue
        row = rows[cid]
        weak = row.tier == Tier.WEAK
        for group in (row, tiers[row.tier], districts[district_of[cid]], total):
            group.add(kind, value)
            if weak:
                group.weak_total += value
    names = dict(Organization.objects.filter(pk__in=districts).values_list("pk", "name"))
    for pk, d in districts.items():
        d.label = names.get(pk, "")
    return Overview(
        year=year,
        rows=sorted(rows.values(), key=lambda r: (-r.total, r.label)),
        tiers=[tiers[t.value] for t in Tier],
        districts=sorted(districts.values(), key=lambda r: r.label),
        total=total,
    )


# ---- restructuring: entries and the communities of projects, calls, applications -------------


def _entry_rows(plan: Any) -> Q:
    # A split leaves the ledger with the old community: what reached it, reached it.
    return NOTHING if plan.person_ids is not None else Q(community=plan.source)


def _entry_repoint(plan: Any, qs: QuerySet[ResourceEntry]) -> int:
    """Entries of the merged-away community go to the receiving one. Money of a disbursement
    that served both is one entry per community: the two are added up into the receiving one."""
    moving = qs.filter(community=plan.source)
    both = moving.filter(
        disbursement__isnull=False,
        disbursement__in=ResourceEntry.objects.filter(community=plan.target).values("disbursement"),
    )
    folded = 0
    for entry in both.select_for_update().order_by("pk"):
        kept = ResourceEntry.objects.select_for_update().get(
            community=plan.target, disbursement_id=entry.disbursement_id
        )
        kept.value += entry.value
        kept.save(update_fields=["value"])
        entry.delete()
        folded += 1
    return folded + moving.update(community=plan.target)


def _links_follower(model: type[models.Model], label: Any) -> Any:
    """The community links of a many-to-many field `communities`: a merged-away community's
    links go to the receiving one (once); a new community split off inherits the links."""
    from sanlian.organizations.services.restructuring import MERGE, Follower

    m2m: Any = model._meta.get_field("communities")
    through: Any = m2m.remote_field.through
    owner = m2m.m2m_field_name()  # e.g. "serviceproject"

    def rows(plan: Any) -> Q:
        return Q(community=plan.source)

    def repoint(plan: Any, qs: QuerySet[Any]) -> int:
        links = qs.filter(community=plan.source)
        if plan.kind != MERGE:
            through.objects.bulk_create(
                [
                    through(**{f"{owner}_id": oid, "community_id": plan.target.pk})
                    for oid in links.values_list(f"{owner}_id", flat=True)
                ],
                ignore_conflicts=True,
            )
            return links.count()
        already = through.objects.filter(community=plan.target).values(f"{owner}_id")
        dropped, _detail = links.filter(**{f"{owner}_id__in": already}).delete()
        return dropped + links.update(community=plan.target)

    return Follower(label, through, rows, repoint, name=f"{model._meta.label}.communities")


def register_followers() -> None:
    """Called from ResourcesConfig.ready()."""
    from sanlian.organizations.services import restructuring as r

    r.register(r.Follower(gettext_lazy("资源台账"), ResourceEntry, _entry_rows, _entry_repoint))
    for model, label in (
        (ServiceProject, gettext_lazy("服务项目的服务社区")),
        (ProjectCall, gettext_lazy("项目指南的服务社区")),
        (Application, gettext_lazy("项目申报的服务社区")),
    ):
        r.register(_links_follower(model, label))
