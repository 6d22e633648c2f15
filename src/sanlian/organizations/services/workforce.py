"""Writes about social workers, volunteers and their hour logs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from sanlian.core.models import User

from ..models import (
    HourLogStatus,
    Organization,
    OrgKind,
    Person,
    SocialWorker,
    SocialWorkerStatus,
    Volunteer,
    VolunteerHourLog,
)

# ---- social workers ------------------------------------------------------------------------


@transaction.atomic
def social_worker_create(
    *,
    person: Person,
    organization: Organization,
    qualification: str = "",
    certificate_number: str = "",
    certificate_date: dt.date | None = None,
    is_supervisor: bool = False,
    joined_on: dt.date | None = None,
) -> SocialWorker:
    """Register a person as a social worker of a social organisation, which becomes the
    person's employer. The caller has scoped both through visible_to()."""
    if organization.kind != OrgKind.SOCIAL_ORG:
        raise ValidationError({"organization": _("社工只能登记在社会组织（社工机构）名下")})
    Person.objects.select_for_update().filter(pk=person.pk).first()
    if SocialWorker.objects.filter(person=person).exists():
        raise ValidationError({"person": _("%(name)s 已登记为社工") % {"name": person.name}})
    worker = SocialWorker(
        person=person,
        organization=organization,
        qualification=qualification,
        certificate_number=certificate_number,
        certificate_date=certificate_date,
        is_supervisor=is_supervisor,
        joined_on=joined_on,
    )
    worker.validate_constraints()
    worker.save()
    if person.employer_id != organization.pk:
        person.employer = organization
        person.save(update_fields=["employer"])
    return worker


@transaction.atomic
def social_worker_leave(*, worker: SocialWorker, left_on: dt.date) -> SocialWorker:
    """离职: the record stays (with its history) but the person no longer works there."""
    locked = SocialWorker.objects.select_for_update().select_related("person").get(pk=worker.pk)
    if locked.status == SocialWorkerStatus.LEFT:
        raise ValidationError(
            _("%(name)s 已于 %(d)s 离职，不能重复办理")
            % {"name": locked.person.name, "d": f"{locked.left_on:%Y-%m-%d}"}
        )
    if left_on > timezone.localdate():
        raise ValidationError({"left_on": _("离职日期不能晚于今天")})
    if locked.joined_on and left_on < locked.joined_on:
        raise ValidationError({"left_on": _("离职日期不能早于入职日期")})
    locked.status = SocialWorkerStatus.LEFT
    locked.left_on = left_on
    # A version step (under the row lock), so an edit form opened before the leave is stale.
    locked.version += 1
    locked.save(update_fields=["status", "left_on", "version"])  # audited by the model
    person = locked.person
    if person.employer_id == locked.organization_id:
        person.employer = None
        person.save(update_fields=["employer"])
    return locked


# ---- volunteers ----------------------------------------------------------------------------


@transaction.atomic
def volunteer_create(
    *,
    person: Person,
    team: Organization,
    skills: str = "",
    skills_other: str = "",
    availability: list[str] | None = None,
    is_coordinator: bool = False,
) -> Volunteer:
    """Register a person as a volunteer of a volunteer team (validated by VolunteerCreateForm;
    the caller has scoped both through visible_to()). The model audits the new row."""
    if team.kind != OrgKind.VOLUNTEER_TEAM:
        raise ValidationError({"team": _("志愿者只能登记在志愿服务队名下")})
    Person.objects.select_for_update().filter(pk=person.pk).first()
    existing = Volunteer.objects.select_related("team").filter(person=person).first()
    if existing is not None:
        raise ValidationError(
            {
                "person": _("%(name)s 已登记为志愿者（%(team)s），不能重复登记。")
                % {"name": person.name, "team": existing.team.name}
            }
        )
    volunteer = Volunteer(
        person=person,
        team=team,
        skills=skills,
        skills_other=skills_other,
        availability=list(availability or []),
        is_coordinator=is_coordinator,
    )
    volunteer.save()
    return volunteer


# ---- volunteer hour logs -------------------------------------------------------------------


@transaction.atomic
def hour_log_submit(
    *,
    volunteer: Volunteer,
    served_on: dt.date,
    start_time: dt.time,
    end_time: dt.time,
    activity: str,
    place: str = "",
) -> VolunteerHourLog:
    """A volunteer's own entry, validated by VolunteerHourLogForm; it waits for confirmation."""
    log = VolunteerHourLog(
        volunteer=volunteer,
        served_on=served_on,
        start_time=start_time,
        end_time=end_time,
        activity=activity,
        place=place,
    )
    log.save()
    return log


def _lock_for_review(log: VolunteerHourLog, by: User) -> VolunteerHourLog:
    if not VolunteerHourLog.objects.reviewable_by(by).filter(pk=log.pk).exists():
        if log.volunteer.person.user_id == by.pk:
            raise ValidationError(_("不能确认或退回自己记录的服务时长"))
        raise PermissionDenied(_("您不是该志愿服务队的协调人，无权审核"))
    locked = VolunteerHourLog.objects.select_for_update().get(pk=log.pk)
    if locked.status != HourLogStatus.PENDING:
        who = str(locked.confirmed_by or _("他人"))
        if locked.status == HourLogStatus.CONFIRMED:
            raise ValidationError(_("该记录已由 %(who)s 确认，不能重复处理") % {"who": who})
        raise ValidationError(_("该记录已由 %(who)s 退回，不能重复处理") % {"who": who})
    return locked


@transaction.atomic
def hour_log_confirm(*, log: VolunteerHourLog, by: User) -> VolunteerHourLog:
    """Confirm a pending entry and add its hours to the volunteer's total; a second confirm
    is refused and changes nothing."""
    locked = _lock_for_review(log, by)
    locked.status = HourLogStatus.CONFIRMED
    locked.confirmed_by = by
    locked.confirmed_at = timezone.now()
    locked.save(update_fields=["status", "confirmed_by", "confirmed_at"])  # audited
    Volunteer.objects.filter(pk=locked.volunteer_id).update(
        hours_logged=F("hours_logged") + locked.hours
    )
    return locked


@transaction.atomic
def hour_log_return(*, log: VolunteerHourLog, by: User, reason: str) -> VolunteerHourLog:
    """Send a pending entry back to the volunteer with a reason; it never counts."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("退回时请填写原因，志愿者会看到它")})
    locked = _lock_for_review(log, by)
    locked.status = HourLogStatus.RETURNED
    locked.confirmed_by = by
    locked.confirmed_at = timezone.now()
    locked.reject_reason = reason[:200]
    locked.save(update_fields=["status", "confirmed_by", "confirmed_at", "reject_reason"])
    return locked


@dataclass
class ReviewOutcome:
    done: list[VolunteerHourLog] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)

    @property
    def hours(self) -> Decimal:
        return sum((log.hours for log in self.done), start=Decimal("0"))


def hour_logs_review(
    *, logs: list[VolunteerHourLog], by: User, action: str, reason: str = ""
) -> ReviewOutcome:
    """Confirm (or return) several entries; each stands alone, so one already handled by
    somebody else is reported and skipped, never confirmed twice."""
    outcome = ReviewOutcome()
    for log in logs:
        try:
            with transaction.atomic():
                if action == "return":
                    done = hour_log_return(log=log, by=by, reason=reason)
                else:
                    done = hour_log_confirm(log=log, by=by)
        except (ValidationError, PermissionDenied) as exc:
            message = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            outcome.refused.append((log.pk, f"{log}：{message}"))
        else:
            outcome.done.append(done)
    return outcome


@transaction.atomic
def volunteer_hours_recompute(*, volunteer: Volunteer) -> Volunteer:
    """Set the cached total to the sum of confirmed entries (repairs drift, for imports)."""
    row = Volunteer.objects.with_confirmed_sum().get(pk=volunteer.pk)
    Volunteer.objects.filter(pk=volunteer.pk).update(hours_logged=row.confirmed_sum)
    volunteer.hours_logged = row.confirmed_sum
    return volunteer
