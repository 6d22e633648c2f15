"""Writes of community activities (社区活动), and what they add to the other links.

Planning. Area roles and a social organisation's staff plan an activity for a community they
see, on a day, from one time to another, with a capacity, at a registered venue (booked
through 资源联合's `booking_create`, so a taken venue is refused with the clashing booking
named) or at a place written out; optionally under a running project serving the community.

Sign-up. Published activities take sign-ups on a public link until they start: name, mobile
and companions. Seats (the person and companions) are counted in `Activity.seats_taken`
under the activity's row lock (PostgreSQL `SELECT … FOR UPDATE`; SQLite's IMMEDIATE
transactions hold the one write lock), and a check constraint refuses any write that would
oversell. A second sign-up with the same mobile returns the first. Walk-ins added at the door
take seats too.

Check-in, on the day: staff enter (or scan) the personal code; or the participant enters
their mobile on the page the venue door's QR code opens. A second check-in is refused with
the time of the first.

Done. Marking a published activity done (once it has started) credits each volunteer shift as
a confirmed `VolunteerHourLog` and adds its hours to the volunteer's total; a shift carries
its log, so no hour is credited twice. Checked-in participants may then give feedback.

Counted elsewhere: `Metric.ACTIVITIES` (activities done under a project), beneficiaries
(checked-in participants, by person or by mobile) and service times (each done activity).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sanlian.core.models import User
from sanlian.core.roles import Role
from sanlian.core.scoping import AREA_ROLES, scope_for
from sanlian.organizations.models import (
    Community,
    HourLogStatus,
    Person,
    Venue,
    Volunteer,
    VolunteerHourLog,
)
from sanlian.resources.lifecycle import Lifecycle, Transition
from sanlian.resources.models import BookingPurpose, ProjectStatus, ServiceProject, VenueBooking

from ..models import Activity, ActivityStatus, Registration, VolunteerShift

MANAGER_ROLES = (*AREA_ROLES, Role.SOCIAL_ORG_MANAGER, Role.SOCIAL_WORKER)
PROJECT_STATUSES = (ProjectStatus.ACTIVE, ProjectStatus.CLOSING)
MAX_COMPANIONS = 10
MAX_SHIFT = dt.timedelta(hours=12)
# Public forms: at most this many submissions per address in the window (seconds); read at
# call time so that a deployment (or a test) can change them.
DEFAULT_PUBLIC_LIMIT = 30
DEFAULT_PUBLIC_WINDOW = 600

_all_roles = frozenset(MANAGER_ROLES)
LIFECYCLE = Lifecycle(
    ActivityStatus,
    [
        Transition(
            "publish",
            gettext_lazy("发布报名"),
            (ActivityStatus.PLANNED,),
            ActivityStatus.PUBLISHED,
            _all_roles,
        ),
        Transition(
            "complete",
            gettext_lazy("标记为已完成"),
            (ActivityStatus.PUBLISHED,),
            ActivityStatus.DONE,
            _all_roles,
        ),
        Transition(
            "cancel",
            gettext_lazy("取消活动"),
            (ActivityStatus.PLANNED, ActivityStatus.PUBLISHED),
            ActivityStatus.CANCELLED,
            _all_roles,
        ),
    ],
)
EDITABLE = (ActivityStatus.PLANNED, ActivityStatus.PUBLISHED)


# ---- who may do what ---------------------------------------------------------------------------


def may_manage(user: Any) -> bool:
    return bool(
        user.is_authenticated and user.organization_id is not None and user.has_role(*MANAGER_ROLES)
    )


def plannable_communities(user: Any) -> QuerySet[Community]:
    if not may_manage(user):
        return Community.objects.none()
    return Community.objects.visible_to(user).active()


def activity_projects(user: Any) -> QuerySet[ServiceProject]:
    """Running projects the user sees; for a social organisation, its own."""
    if not may_manage(user):
        return ServiceProject.objects.none()
    scope = scope_for(user)
    qs = ServiceProject.objects.visible_to(user).filter(status__in=PROJECT_STATUSES)
    return qs if scope.area_path is not None else qs.filter(organization_id=scope.org_id or 0)


def activity_venues(user: Any) -> QuerySet[Venue]:
    from sanlian.resources.services.ledger import bookable_venues

    return bookable_venues(user)


def assignable_volunteers(user: Any) -> QuerySet[Volunteer]:
    return Volunteer.objects.visible_to(user).select_related("person", "team")


# ---- planning ----------------------------------------------------------------------------------

# booking_create's field names, as the activity form calls them.
_BOOKING_FIELDS = {
    "starts_at": "start_time",
    "ends_at": "end_time",
    "attendees": "capacity",
    "venue": "venue",
    "project": "project",
    "title": "title",
}


def _as_activity_error(exc: ValidationError) -> ValidationError:
    if not hasattr(exc, "error_dict"):
        return ValidationError({"venue": exc.messages})
    out: dict[str, list[str]] = {}
    for name, errors in exc.message_dict.items():
        out.setdefault(_BOOKING_FIELDS.get(name, "venue"), []).extend(errors)
    return ValidationError(out)


def _check_plan(
    *,
    by: User,
    community: Community,
    date: dt.date,
    start_time: dt.time,
    end_time: dt.time,
    capacity: int,
    venue: Venue | None,
    place: str,
    project: ServiceProject | None,
    now: dt.datetime,
    check_date: bool = True,
) -> None:
    if not may_manage(by):
        raise ValidationError(_("您的账号无权组织社区活动。"), code="forbidden")
    errors: dict[str, str] = {}
    if not plannable_communities(by).filter(pk=community.pk).exists():
        errors["community"] = _("您无权为该社区组织活动。")
    if end_time <= start_time:
        errors["end_time"] = _("结束时间须晚于开始时间。")
    if check_date and date < timezone.localdate(now):
        errors["date"] = _("活动日期不能早于今天。")
    if capacity < 1:
        errors["capacity"] = _("名额须大于 0。")
    if venue is None and not place.strip():
        errors["place"] = _("请选择场地或填写活动地点。")
    if project is not None:
        if not activity_projects(by).filter(pk=project.pk).exists():
            errors["project"] = _("只能选择您可见的、执行中的服务项目。")
        elif not project.communities.filter(pk=community.pk).exists():
            errors["project"] = _("该服务项目不服务于所选社区。")
    if errors:
        raise ValidationError(errors)


def _book(activity: Activity, by: User, now: dt.datetime) -> VenueBooking | None:
    from sanlian.resources.services.ledger import booking_create

    if activity.venue is None:
        return None
    try:
        with transaction.atomic():
            return booking_create(
                by=by,
                venue=activity.venue,
                purpose=BookingPurpose.ACTIVITY,
                title=activity.title,
                starts_at=activity.starts_at,
                ends_at=activity.ends_at,
                attendees=activity.capacity,
                project=activity.project,
                now=now,
            )
    except ValidationError as exc:
        raise _as_activity_error(exc) from exc


def _release(activity: Activity, by: User, reason: str, now: dt.datetime) -> None:
    """Give the venue back (a booking that has begun stays: the time was used)."""
    from sanlian.resources.services.ledger import booking_cancel

    booking = activity.booking
    if booking is None or booking.status != "confirmed" or booking.starts_at <= now:
        return
    try:
        booking_cancel(booking=booking, by=by, reason=reason, now=now)
    except ValidationError as exc:
        raise _as_activity_error(exc) from exc


@transaction.atomic
def activity_create(
    *,
    by: User,
    title: str,
    community: Community,
    date: dt.date,
    start_time: dt.time,
    end_time: dt.time,
    capacity: int,
    venue: Venue | None = None,
    place: str = "",
    description: str = "",
    project: ServiceProject | None = None,
    now: dt.datetime | None = None,
) -> Activity:
    """Plan an activity of the user's organisation; a venue is booked at once."""
    now = now or timezone.now()
    _check_plan(
        by=by,
        community=community,
        date=date,
        start_time=start_time,
        end_time=end_time,
        capacity=capacity,
        venue=venue,
        place=place,
        project=project,
        now=now,
    )
    assert by.organization is not None
    activity = Activity(
        title=title.strip(),
        community=community,
        organizer=by.organization,
        project=project,
        date=date,
        start_time=start_time,
        end_time=end_time,
        venue=venue,
        place=place.strip() if venue is None else "",
        capacity=capacity,
        description=description.strip(),
        created_by=by,
    )
    activity.booking = _book(activity, by, now)
    activity.save()
    return activity


@transaction.atomic
def activity_update(
    *,
    activity: Activity,
    by: User,
    title: str,
    date: dt.date,
    start_time: dt.time,
    end_time: dt.time,
    capacity: int,
    venue: Venue | None = None,
    place: str = "",
    description: str = "",
    project: ServiceProject | None = None,
    now: dt.datetime | None = None,
) -> Activity:
    """Change a planned or published activity; a new time or venue is booked anew (the old
    booking is released first, so the activity does not clash with itself)."""
    now = now or timezone.now()
    locked = Activity.objects.select_for_update().get(pk=activity.pk)
    if locked.status not in EDITABLE:
        raise ValidationError(
            _("活动%(status)s，不能修改。") % {"status": locked.get_status_display()}
        )
    _check_plan(
        by=by,
        community=locked.community,
        date=date,
        start_time=start_time,
        end_time=end_time,
        capacity=capacity,
        venue=venue,
        place=place,
        project=project,
        now=now,
        check_date=date != locked.date,
    )
    if capacity < locked.seats_taken:
        raise ValidationError(
            {"capacity": _("名额不能少于已报名人数（%(n)d人）。") % {"n": locked.seats_taken}}
        )
    rebook = (locked.venue_id, locked.date, locked.start_time, locked.end_time) != (
        venue.pk if venue else None,
        date,
        start_time,
        end_time,
    ) or (venue is not None and locked.project_id != (project.pk if project else None))
    if rebook:
        _release(locked, by, _("活动时间或场地变更"), now)
    locked.title = title.strip()
    locked.date, locked.start_time, locked.end_time = date, start_time, end_time
    locked.capacity = capacity
    locked.venue = venue
    locked.place = place.strip() if venue is None else ""
    locked.description = description.strip()
    locked.project = project
    if rebook:
        locked.booking = _book(locked, by, now)
    elif (
        locked.booking is not None
        and locked.venue is not None
        and locked.venue.capacity is not None
        and capacity > locked.venue.capacity
    ):
        raise ValidationError(
            {"capacity": _("名额超过场地容纳人数（%(n)d人）。") % {"n": locked.venue.capacity}}
        )
    locked.save()
    return locked


def _transition(activity: Activity, name: str, by: User) -> Activity:
    locked = Activity.objects.select_for_update().get(pk=activity.pk)
    LIFECYCLE.check(locked, name, by)
    return locked


@transaction.atomic
def activity_publish(*, activity: Activity, by: User, now: dt.datetime | None = None) -> Activity:
    """Open the sign-up (until the activity starts)."""
    locked = _transition(activity, "publish", by)
    if locked.starts_at <= (now or timezone.now()):
        raise ValidationError(_("活动已开始，不能再发布报名。"))
    locked.status = ActivityStatus.PUBLISHED
    locked.save(update_fields=["status"])
    return locked


@transaction.atomic
def activity_cancel(
    *, activity: Activity, by: User, reason: str, now: dt.datetime | None = None
) -> Activity:
    """Call the activity off (with a reason); its venue is free again."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写取消原因。")})
    locked = _transition(activity, "cancel", by)
    _release(locked, by, reason[:200], now or timezone.now())
    locked.status = ActivityStatus.CANCELLED
    locked.cancelled_reason = reason[:200]
    locked.save(update_fields=["status", "cancelled_reason"])
    return locked


@transaction.atomic
def activity_complete(*, activity: Activity, by: User, now: dt.datetime | None = None) -> Activity:
    """Mark the activity done and credit each volunteer shift as a confirmed hour log (a
    second click is refused by the status; a shift that has its log is never credited again)."""
    now = now or timezone.now()
    locked = _transition(activity, "complete", by)
    if now < locked.starts_at:
        raise ValidationError(_("活动尚未开始，不能标记为已完成。"))
    place = locked.where or locked.community.name
    for shift in locked.shifts.select_for_update().filter(hour_log__isnull=True):
        log = VolunteerHourLog(
            volunteer_id=shift.volunteer_id,
            served_on=locked.date,
            start_time=shift.start_time,
            end_time=shift.end_time,
            activity=(_("社区活动：%(title)s") % {"title": locked.title})[:200],
            place=place[:100],
            status=HourLogStatus.CONFIRMED,
            confirmed_by=by,
            confirmed_at=now,
        )
        log.save()
        Volunteer.objects.filter(pk=shift.volunteer_id).update(
            hours_logged=F("hours_logged") + log.hours
        )
        shift.hour_log = log
        shift.save(update_fields=["hour_log"])
    locked.status = ActivityStatus.DONE
    locked.done_at = now
    locked.save(update_fields=["status", "done_at"])
    return locked


# ---- sign-up, check-in, walk-ins ---------------------------------------------------------------


@dataclass(frozen=True)
class SignupResult:
    registration: Registration
    created: bool


def match_person(community: Community, phone: str) -> Person | None:
    """The resident of the community with this mobile, when there is exactly one."""
    found = list(Person.objects.active().filter(community=community, phone=phone)[:2])
    return found[0] if len(found) == 1 else None


def _check_companions(companions: int) -> None:
    if not 0 <= companions <= MAX_COMPANIONS:
        raise ValidationError(
            {"companions": _("同行人数须在 0 到 %(n)d 之间。") % {"n": MAX_COMPANIONS}}
        )


def _take_seats(activity: Activity, seats: int) -> None:
    """Inside the caller's lock on the activity: refuse what would oversell."""
    left = activity.capacity - activity.seats_taken
    if seats > left:
        if left <= 0:
            raise ValidationError(_("名额已满。"), code="full")
        raise ValidationError(
            {"companions": _("剩余名额不足：仅剩 %(n)d 个名额。") % {"n": left}}, code="full"
        )
    Activity.objects.filter(pk=activity.pk).update(seats_taken=F("seats_taken") + seats)
    activity.seats_taken += seats


@transaction.atomic
def registration_signup(
    *,
    activity: Activity,
    name: str,
    phone: str,
    companions: int = 0,
    now: dt.datetime | None = None,
) -> SignupResult:
    """A resident signs up on the public link; the same mobile again is the same sign-up."""
    now = now or timezone.now()
    _check_companions(companions)
    locked = Activity.objects.select_for_update().get(pk=activity.pk)
    if locked.status != ActivityStatus.PUBLISHED:
        raise ValidationError(_("该活动未开放报名。"), code="closed")
    if now >= locked.starts_at:
        raise ValidationError(_("报名已截止（活动已开始）。"), code="closed")
    existing = Registration.objects.filter(activity=locked, phone=phone).first()
    if existing is not None:
        return SignupResult(existing, False)
    _take_seats(locked, 1 + companions)
    registration = Registration(
        activity=locked,
        name=name.strip(),
        phone=phone,
        companions=companions,
        person=match_person(locked.community, phone),
        created_at=now,
    )
    registration.save()
    return SignupResult(registration, True)


def _check_in_open(activity: Activity, now: dt.datetime) -> Activity:
    locked = Activity.objects.select_for_update().get(pk=activity.pk)
    if locked.status != ActivityStatus.PUBLISHED:
        raise ValidationError(
            _("活动%(status)s，不能签到。") % {"status": locked.get_status_display()},
            code="closed",
        )
    if timezone.localdate(now) != locked.date:
        raise ValidationError(
            _("只能在活动当天（%(date)s）签到。") % {"date": f"{locked.date:%Y-%m-%d}"},
            code="not_today",
        )
    return locked


def already_checked_in(registration: Registration) -> ValidationError:
    assert registration.checked_in_at is not None
    return ValidationError(
        _("%(name)s 已签到（%(time)s），不能重复签到。")
        % {
            "name": registration.masked_name,
            "time": f"{timezone.localtime(registration.checked_in_at):%H:%M}",
        },
        code="already",
    )


def _mark_checked_in(registration: Registration, by: User | None, now: dt.datetime) -> None:
    if registration.checked_in_at is not None:
        raise already_checked_in(registration)
    registration.checked_in_at = now
    registration.checked_in_by = by
    registration.save(update_fields=["checked_in_at", "checked_in_by"])


def normalize_code(text: str) -> str:
    """What a scanner or a person typed: the code itself, or a link ending with it."""
    text = (text or "").strip().rstrip("/")
    return text.rsplit("/", 1)[-1].strip().upper()


@transaction.atomic
def registration_check_in(
    *, activity: Activity, code: str, by: User, now: dt.datetime | None = None
) -> Registration:
    """Staff check a participant in by the personal code (typed, or scanned into the field)."""
    now = now or timezone.now()
    locked = _check_in_open(activity, now)
    registration = (
        Registration.objects.select_for_update()
        .filter(activity=locked, code=normalize_code(code))
        .first()
    )
    if registration is None:
        raise ValidationError({"code": _("签到码无效：本活动没有这个签到码。")}, code="unknown")
    _mark_checked_in(registration, by, now)
    return registration


@transaction.atomic
def door_check_in(
    *, activity: Activity, phone: str, now: dt.datetime | None = None
) -> Registration:
    """A participant checks in on the page the venue door's QR code opens, by mobile."""
    now = now or timezone.now()
    locked = _check_in_open(activity, now)
    registration = (
        Registration.objects.select_for_update().filter(activity=locked, phone=phone).first()
    )
    if registration is None:
        raise ValidationError(
            {"phone": _("没有找到该手机号的报名，请到签到台现场登记。")}, code="unknown"
        )
    _mark_checked_in(registration, None, now)
    return registration


@transaction.atomic
def walk_in_add(
    *,
    activity: Activity,
    by: User,
    name: str,
    phone: str,
    companions: int = 0,
    now: dt.datetime | None = None,
) -> Registration:
    """Someone who did not sign up comes to the door: registered and checked in at once
    (taking seats like a sign-up); one who did sign up is simply checked in."""
    now = now or timezone.now()
    _check_companions(companions)
    locked = _check_in_open(activity, now)
    existing = Registration.objects.select_for_update().filter(activity=locked, phone=phone).first()
    if existing is not None:
        _mark_checked_in(existing, by, now)
        return existing
    _take_seats(locked, 1 + companions)
    registration = Registration(
        activity=locked,
        name=name.strip(),
        phone=phone,
        companions=companions,
        person=match_person(locked.community, phone),
        is_walk_in=True,
        created_at=now,
        checked_in_at=now,
        checked_in_by=by,
    )
    registration.save()
    return registration


def public_rate_exceeded(
    bucket: str, address: str | None, *, limit: int | None = None, window: int | None = None
) -> bool:
    """Count one public submission from this address; True once it is over the limit
    (`ACTIVITY_PUBLIC_LIMIT` per `ACTIVITY_PUBLIC_WINDOW` seconds, read at call time)."""
    limit = limit or int(getattr(settings, "ACTIVITY_PUBLIC_LIMIT", DEFAULT_PUBLIC_LIMIT))
    window = window or int(getattr(settings, "ACTIVITY_PUBLIC_WINDOW", DEFAULT_PUBLIC_WINDOW))
    key = f"sanlian:activities:{bucket}:{address or '-'}"
    cache.add(key, 0, window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        count = 1
    return count > limit


# ---- volunteers --------------------------------------------------------------------------------


@transaction.atomic
def shift_assign(
    *,
    activity: Activity,
    by: User,
    volunteer: Volunteer,
    start_time: dt.time,
    end_time: dt.time,
    task: str = "",
) -> VolunteerShift:
    """Put a volunteer the user sees on a shift of a planned or published activity."""
    locked = Activity.objects.select_for_update().get(pk=activity.pk)
    if locked.status not in EDITABLE:
        raise ValidationError(
            _("活动%(status)s，不能再安排志愿者。") % {"status": locked.get_status_display()}
        )
    if not assignable_volunteers(by).filter(pk=volunteer.pk).exists():
        raise ValidationError({"volunteer": _("只能安排您范围内的志愿者。")})
    errors: dict[str, str] = {}
    if end_time <= start_time:
        errors["end_time"] = _("结束时间须晚于开始时间。")
    elif (
        dt.datetime.combine(locked.date, end_time) - dt.datetime.combine(locked.date, start_time)
        > MAX_SHIFT
    ):
        errors["end_time"] = _("一个时段不能超过12小时。")
    if VolunteerShift.objects.filter(activity=locked, volunteer=volunteer).exists():
        errors["volunteer"] = _("该志愿者已安排在本活动中。")
    if errors:
        raise ValidationError(errors)
    shift = VolunteerShift(
        activity=locked,
        volunteer=volunteer,
        start_time=start_time,
        end_time=end_time,
        task=task.strip(),
    )
    try:
        with transaction.atomic():
            shift.save()
    except IntegrityError as exc:  # a concurrent assignment of the same volunteer
        raise ValidationError({"volunteer": _("该志愿者已安排在本活动中。")}) from exc
    return shift


@transaction.atomic
def shift_remove(*, shift: VolunteerShift, by: User) -> None:
    locked = VolunteerShift.objects.select_for_update().get(pk=shift.pk)
    if locked.hour_log_id is not None:
        raise ValidationError(_("该时段的服务时长已记入，不能删除。"))
    if not may_manage(by):
        raise ValidationError(_("您的账号无权组织社区活动。"))
    locked.delete()


# ---- feedback ----------------------------------------------------------------------------------


def feedback_open(registration: Registration, now: dt.datetime | None = None) -> bool:
    activity = registration.activity
    return (
        registration.checked_in_at is not None
        and registration.feedback_at is None
        and activity.status != ActivityStatus.CANCELLED
        and (activity.status == ActivityStatus.DONE or (now or timezone.now()) >= activity.ends_at)
    )


@transaction.atomic
def feedback_submit(
    *, registration: Registration, rating: int, comment: str = "", now: dt.datetime | None = None
) -> Registration:
    """A participant rates the activity (1–5, with a comment) on their personal link, once."""
    now = now or timezone.now()
    locked = (
        Registration.objects.select_for_update().select_related("activity").get(pk=registration.pk)
    )
    if locked.feedback_at is not None:
        raise ValidationError(_("您已提交过评价，感谢参与。"), code="already")
    if locked.checked_in_at is None:
        raise ValidationError(_("您未签到，不能评价本活动。"), code="absent")
    if locked.activity.status == ActivityStatus.CANCELLED:
        raise ValidationError(_("活动已取消。"), code="cancelled")
    if locked.activity.status != ActivityStatus.DONE and now < locked.activity.ends_at:
        raise ValidationError(_("活动结束后才能评价。"), code="early")
    if not 1 <= rating <= 5:
        raise ValidationError({"rating": _("请选择 1 到 5 分。")})
    locked.rating = rating
    locked.comment = (comment or "").strip()[:500]
    locked.feedback_at = now
    locked.save(update_fields=["rating", "comment", "feedback_at"])
    return locked


# ---- what activities add to the other links ----------------------------------------------------


def activities_done_count(project: ServiceProject) -> Decimal:
    """Metric.ACTIVITIES: activities done under the project."""
    return Decimal(Activity.objects.filter(project=project, status=ActivityStatus.DONE).count())


def beneficiary_keys(project: ServiceProject) -> Iterable[str]:
    """Checked-in participants of the project's activities: one key per person (or mobile)."""
    from .. import outputs

    rows = (
        Registration.objects.checked_in()
        .filter(
            activity__project=project,
            activity__status__in=(ActivityStatus.PUBLISHED, ActivityStatus.DONE),
        )
        .values_list("person_id", "phone")
    )
    for person_id, phone in rows.iterator():
        yield outputs.person_key(person_id) if person_id else outputs.phone_key(phone)


def service_times(
    user: Any, date_from: dt.date, date_to: dt.date
) -> Iterable[tuple[dt.date, dt.time, dt.time]]:
    """Each done activity the user sees, between the two dates."""
    return (
        Activity.objects.visible_to(user)
        .done()
        .filter(date__gte=date_from, date__lte=date_to)
        .values_list("date", "start_time", "end_time")
        .iterator()
    )


def connect() -> None:
    """Called from DeliveryConfig.ready()."""
    from sanlian.resources.models import Metric
    from sanlian.resources.services.indicators import register_counter

    from .. import outputs

    register_counter(Metric.ACTIVITIES, activities_done_count)
    outputs.register_beneficiaries("activities", beneficiary_keys)
    # A lazy label: the page shows it in the reader's language.
    label = cast(str, gettext_lazy("社区活动"))
    outputs.register_service_times("activities", label, service_times)
