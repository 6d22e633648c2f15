"""Social workers and volunteers: hour arithmetic, validation and the confirm services."""

from __future__ import annotations

import datetime as dt
import os
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from sanlian.core.models import AuditEntry, User
from sanlian.core.roles import Role
from sanlian.organizations import services
from sanlian.organizations.forms import SocialWorkerForm, VolunteerHourLogForm
from sanlian.organizations.models import (
    HourLogStatus,
    SocialWorker,
    SocialWorkerStatus,
    Volunteer,
    VolunteerHourLog,
    split_hours,
)

from ..conftest import World, build_world
from ..factories import PersonFactory, SocialWorkerFactory, VolunteerFactory
from .factories_workforce import VolunteerHourLogFactory, volunteer_with_account

pytestmark = pytest.mark.django_db

SATURDAY = dt.date(2026, 11, 28)
WEDNESDAY = dt.date(2026, 11, 25)
MONDAY = dt.date(2026, 11, 23)


def _t(hhmm: str) -> dt.time:
    return dt.time.fromisoformat(hhmm)


# ---- hours ----------------------------------------------------------------------------------


def test_saturday_morning_is_all_outside_working_hours() -> None:
    assert split_hours(SATURDAY, _t("09:00"), _t("12:00")) == (Decimal("3.0"), Decimal("3.0"))


def test_wednesday_evening_counts_the_half_hour_after_1730_inside() -> None:
    # 17:00–17:30 lies inside the working day, 17:30–19:00 outside.
    assert split_hours(WEDNESDAY, _t("17:00"), _t("19:00")) == (Decimal("2.0"), Decimal("1.5"))


def test_weekday_daytime_is_all_inside_working_hours() -> None:
    assert split_hours(MONDAY, _t("09:00"), _t("17:00")) == (Decimal("8.0"), Decimal("0.0"))


def test_early_weekday_morning_counts_before_0830_outside() -> None:
    assert split_hours(MONDAY, _t("07:30"), _t("09:30")) == (Decimal("2.0"), Decimal("1.0"))


def test_hours_round_to_a_tenth() -> None:
    # 20 minutes = 0.333… h
    assert split_hours(SATURDAY, _t("10:00"), _t("10:20")) == (Decimal("0.3"), Decimal("0.3"))


def test_saving_a_log_computes_its_hours(world: World) -> None:
    log = VolunteerHourLogFactory(
        volunteer=world.people["volunteer"].volunteer,
        served_on=WEDNESDAY,
        start_time=_t("17:00"),
        end_time=_t("19:00"),
    )
    log.refresh_from_db()
    assert (log.hours, log.outside_working_hours) == (Decimal("2.0"), Decimal("1.5"))


def test_database_refuses_end_before_start(world: World) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        VolunteerHourLogFactory(
            volunteer=world.people["volunteer"].volunteer,
            start_time=_t("19:00"),
            end_time=_t("18:00"),
        )


# ---- availability ---------------------------------------------------------------------------


def test_outside_working_hours_share_counts_evenings_and_weekends(world: World) -> None:
    volunteer = VolunteerFactory(
        person=PersonFactory(community=world.c1),
        team=world.t1,
        availability=["5:am", "1:pm", "1:evening", "2:am"],
    )
    assert volunteer.outside_working_hours == 0.5


def test_no_availability_has_no_share(world: World) -> None:
    volunteer = VolunteerFactory(person=PersonFactory(community=world.c1), team=world.t1)
    assert volunteer.outside_working_hours is None


def test_availability_grid_marks_the_chosen_slots(world: World) -> None:
    volunteer = VolunteerFactory(
        person=PersonFactory(community=world.c1), team=world.t1, availability=["6:evening"]
    )
    assert volunteer.availability_grid()[6] == ("周日", [False, False, True])


# ---- the volunteer's form --------------------------------------------------------------------


def _log_form(volunteer: Volunteer, **overrides: str) -> VolunteerHourLogForm:
    data = {
        "served_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
        "start_time": "18:00",
        "end_time": "20:00",
        "activity": "助老送餐",
        "place": "凯旋社区服务站",
        **overrides,
    }
    return VolunteerHourLogForm(data, volunteer=volunteer)


def _errors(form: VolunteerHourLogForm) -> list[str]:
    return [str(m) for messages in form.errors.values() for m in messages]


def test_valid_entry_passes(world: World) -> None:
    assert _log_form(world.people["volunteer"].volunteer).is_valid()


def test_end_not_after_start_is_refused(world: World) -> None:
    form = _log_form(world.people["volunteer"].volunteer, end_time="18:00")
    assert _errors(form) == ["结束时间必须晚于开始时间"]


def test_more_than_twelve_hours_is_refused(world: World) -> None:
    form = _log_form(world.people["volunteer"].volunteer, start_time="07:00", end_time="19:30")
    assert _errors(form) == ["一次记录不能超过 12 小时，请分成多条记录"]


def test_exactly_twelve_hours_is_accepted(world: World) -> None:
    form = _log_form(world.people["volunteer"].volunteer, start_time="07:00", end_time="19:00")
    assert form.is_valid()


def test_future_date_is_refused(world: World) -> None:
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    form = _log_form(world.people["volunteer"].volunteer, served_on=tomorrow)
    assert _errors(form) == ["服务日期不能晚于今天"]


def test_date_older_than_90_days_is_refused(world: World) -> None:
    old = (timezone.localdate() - dt.timedelta(days=91)).isoformat()
    form = _log_form(world.people["volunteer"].volunteer, served_on=old)
    assert _errors(form) == ["只能补记 90 天以内的服务时长，更早的请联系服务队协调人"]


def test_date_exactly_90_days_ago_is_accepted(world: World) -> None:
    old = (timezone.localdate() - dt.timedelta(days=90)).isoformat()
    assert _log_form(world.people["volunteer"].volunteer, served_on=old).is_valid()


def test_overlapping_entry_is_refused(world: World) -> None:
    volunteer = world.people["volunteer"].volunteer
    VolunteerHourLogFactory(
        volunteer=volunteer, served_on=timezone.localdate() - dt.timedelta(days=1)
    )
    form = _log_form(volunteer, start_time="19:00", end_time="21:00")
    assert _errors(form) == ["与已记录的 18:00–20:00 时段重叠，请勿重复记录"]


def test_a_returned_entry_does_not_block_logging_again(world: World) -> None:
    volunteer = world.people["volunteer"].volunteer
    VolunteerHourLogFactory(
        volunteer=volunteer,
        served_on=timezone.localdate() - dt.timedelta(days=1),
        status=HourLogStatus.RETURNED,
        confirmed_at=timezone.now(),
        reject_reason="时间填错",
    )
    assert _log_form(volunteer).is_valid()


# ---- confirm and return ---------------------------------------------------------------------


@pytest.fixture
def pending(world: World) -> VolunteerHourLog:
    log: VolunteerHourLog = VolunteerHourLogFactory(volunteer=world.people["volunteer"].volunteer)
    return log


def test_confirm_adds_the_hours_to_the_total(world: World, pending: VolunteerHourLog) -> None:
    services.hour_log_confirm(log=pending, by=world.users[Role.COMMUNITY_CADRE])
    assert Volunteer.objects.get(pk=pending.volunteer_id).hours_logged == Decimal("2.0")


def test_confirm_records_who_and_when(world: World, pending: VolunteerHourLog) -> None:
    cadre = world.users[Role.COMMUNITY_CADRE]
    services.hour_log_confirm(log=pending, by=cadre)
    pending.refresh_from_db()
    assert (pending.status, pending.confirmed_by, pending.confirmed_at is not None) == (
        HourLogStatus.CONFIRMED,
        cadre,
        True,
    )


def test_confirm_is_audited(world: World, pending: VolunteerHourLog) -> None:
    services.hour_log_confirm(log=pending, by=world.users[Role.COMMUNITY_CADRE])
    entry = AuditEntry.objects.filter(
        object_type="organizations.VolunteerHourLog", object_id=str(pending.pk), action="update"
    ).get()
    assert entry.changes["status"] == ["pending", "confirmed"]


def test_return_is_audited_with_its_reason(world: World, pending: VolunteerHourLog) -> None:
    services.hour_log_return(log=pending, by=world.users[Role.COMMUNITY_CADRE], reason="时间有误")
    entry = AuditEntry.objects.filter(
        object_type="organizations.VolunteerHourLog", object_id=str(pending.pk), action="update"
    ).get()
    assert entry.changes["reject_reason"] == ["", "时间有误"]


def test_second_confirm_is_refused(world: World, pending: VolunteerHourLog) -> None:
    cadre = world.users[Role.COMMUNITY_CADRE]
    services.hour_log_confirm(log=pending, by=cadre)
    with pytest.raises(ValidationError) as exc:
        services.hour_log_confirm(log=pending, by=cadre)
    assert exc.value.messages == [f"该记录已由 {cadre} 确认，不能重复处理"]


def test_second_confirm_changes_nothing(world: World, pending: VolunteerHourLog) -> None:
    cadre = world.users[Role.COMMUNITY_CADRE]
    first = services.hour_log_confirm(log=pending, by=cadre)
    audits = AuditEntry.objects.count()
    with pytest.raises(ValidationError):
        services.hour_log_confirm(log=pending, by=world.users[Role.FEDERATION_STAFF])
    after = VolunteerHourLog.objects.select_related("volunteer").get(pk=pending.pk)
    assert (after.confirmed_at, after.confirmed_by_id, after.volunteer.hours_logged) == (
        first.confirmed_at,
        cadre.pk,
        Decimal("2.0"),
    ) and AuditEntry.objects.count() == audits


def test_returned_entry_cannot_be_confirmed(world: World, pending: VolunteerHourLog) -> None:
    cadre = world.users[Role.COMMUNITY_CADRE]
    services.hour_log_return(log=pending, by=cadre, reason="不是本队活动")
    with pytest.raises(ValidationError) as exc:
        services.hour_log_confirm(log=pending, by=cadre)
    assert exc.value.messages == [f"该记录已由 {cadre} 退回，不能重复处理"]


def test_return_does_not_count(world: World, pending: VolunteerHourLog) -> None:
    services.hour_log_return(log=pending, by=world.users[Role.COMMUNITY_CADRE], reason="重复")
    assert Volunteer.objects.get(pk=pending.volunteer_id).hours_logged == Decimal("0")


def test_return_needs_a_reason(world: World, pending: VolunteerHourLog) -> None:
    with pytest.raises(ValidationError) as exc:
        services.hour_log_return(log=pending, by=world.users[Role.COMMUNITY_CADRE], reason="  ")
    assert exc.value.messages == ["退回时请填写原因，志愿者会看到它"]


def test_coordinator_cannot_confirm_own_entry(world: World) -> None:
    coordinator = volunteer_with_account(world.t1, coordinator=True)
    own = VolunteerHourLogFactory(volunteer=coordinator)
    with pytest.raises(ValidationError) as exc:
        services.hour_log_confirm(log=own, by=coordinator.person.user)  # type: ignore[arg-type]
    assert exc.value.messages == ["不能确认或退回自己记录的服务时长"]


def test_cadre_cannot_confirm_own_entry(world: World) -> None:
    cadre = world.users[Role.COMMUNITY_CADRE]
    volunteer = VolunteerFactory(
        person=PersonFactory(community=world.c1, user=cadre), team=world.t1
    )
    own = VolunteerHourLogFactory(volunteer=volunteer)
    with pytest.raises(ValidationError):
        services.hour_log_confirm(log=own, by=cadre)
    own.refresh_from_db()
    assert own.status == HourLogStatus.PENDING


def test_coordinator_confirms_a_teammates_entry(world: World, pending: VolunteerHourLog) -> None:
    coordinator = volunteer_with_account(world.t1, coordinator=True)
    services.hour_log_confirm(log=pending, by=coordinator.person.user)  # type: ignore[arg-type]
    pending.refresh_from_db()
    assert pending.status == HourLogStatus.CONFIRMED


def test_plain_volunteer_cannot_confirm(world: World) -> None:
    other = VolunteerHourLogFactory(
        volunteer=VolunteerFactory(person=PersonFactory(community=world.c1), team=world.t1)
    )
    with pytest.raises(PermissionDenied):
        services.hour_log_confirm(log=other, by=world.users[Role.VOLUNTEER])


def test_coordinator_of_another_team_cannot_confirm(
    world: World, pending: VolunteerHourLog
) -> None:
    coordinator = volunteer_with_account(world.t2, coordinator=True)
    with pytest.raises(PermissionDenied):
        services.hour_log_confirm(log=pending, by=coordinator.person.user)  # type: ignore[arg-type]


def test_cadre_of_another_community_cannot_confirm(world: World) -> None:
    far = VolunteerHourLogFactory(
        volunteer=VolunteerFactory(person=PersonFactory(community=world.c2), team=world.t2)
    )
    with pytest.raises(PermissionDenied):
        services.hour_log_confirm(log=far, by=world.users[Role.COMMUNITY_CADRE])


def test_bulk_review_skips_an_entry_already_confirmed(world: World) -> None:
    volunteer = world.people["volunteer"].volunteer
    cadre = world.users[Role.COMMUNITY_CADRE]
    day = timezone.localdate() - dt.timedelta(days=3)
    a = VolunteerHourLogFactory(volunteer=volunteer, served_on=day)
    b = VolunteerHourLogFactory(volunteer=volunteer)
    services.hour_log_confirm(log=a, by=cadre)
    outcome = services.hour_logs_review(logs=[a, b], by=cadre, action="confirm")
    assert ([log.pk for log in outcome.done], [pk for pk, _m in outcome.refused]) == (
        [b.pk],
        [a.pk],
    )


# ---- the cached total -----------------------------------------------------------------------


def test_cached_total_equals_the_sum_of_confirmed_entries(world: World) -> None:
    volunteer = world.people["volunteer"].volunteer
    cadre = world.users[Role.COMMUNITY_CADRE]
    days = [timezone.localdate() - dt.timedelta(days=n) for n in (1, 2, 3, 4)]
    logs = [VolunteerHourLogFactory(volunteer=volunteer, served_on=d) for d in days]
    logs.append(
        VolunteerHourLogFactory(
            volunteer=volunteer, served_on=days[0], start_time=_t("09:00"), end_time=_t("09:40")
        )
    )
    for log in logs[:3] + logs[4:]:
        services.hour_log_confirm(log=log, by=cadre)
    services.hour_log_return(log=logs[3], by=cadre, reason="重复")
    row = Volunteer.objects.with_confirmed_sum().get(pk=volunteer.pk)
    assert row.hours_logged == row.confirmed_sum == Decimal("6.7")


def test_drift_in_the_cached_total_is_found(world: World) -> None:
    volunteer = world.people["volunteer"].volunteer
    Volunteer.objects.filter(pk=volunteer.pk).update(hours_logged=Decimal("5"))
    assert list(Volunteer.objects.hours_mismatched()) == [volunteer]


def test_recompute_repairs_drift(world: World, pending: VolunteerHourLog) -> None:
    services.hour_log_confirm(log=pending, by=world.users[Role.COMMUNITY_CADRE])
    Volunteer.objects.filter(pk=pending.volunteer_id).update(hours_logged=Decimal("99"))
    services.volunteer_hours_recompute(volunteer=pending.volunteer)
    assert Volunteer.objects.hours_mismatched().count() == 0


def test_demo_totals_match_their_logs(db: None) -> None:
    from sanlian.organizations.demo import seed

    seed("small", 1)
    assert (
        Volunteer.objects.hours_mismatched().count(),
        VolunteerHourLog.objects.pending().exists(),
        Volunteer.objects.filter(is_coordinator=True, person__user__username="volunteer").exists(),
    ) == (0, True, True)


# ---- social workers -------------------------------------------------------------------------


def test_create_sets_the_persons_employer(world: World) -> None:
    person = PersonFactory(community=world.c1)
    worker = services.social_worker_create(person=person, organization=world.o1)
    person.refresh_from_db()
    assert (person.employer, worker.status) == (world.o1, SocialWorkerStatus.ACTIVE)


def test_create_refuses_a_non_social_organisation(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        services.social_worker_create(
            person=PersonFactory(community=world.c1), organization=world.t1
        )
    assert exc.value.message_dict == {"organization": ["社工只能登记在社会组织（社工机构）名下"]}


def test_duplicate_certificate_number_is_refused(world: World) -> None:
    SocialWorkerFactory(
        person=PersonFactory(community=world.c1), organization=world.o1, certificate_number="A-1"
    )
    with pytest.raises(ValidationError) as exc:
        services.social_worker_create(
            person=PersonFactory(community=world.c1),
            organization=world.o1,
            qualification="assistant",
            certificate_number="A-1",
        )
    assert exc.value.message_dict == {
        "certificate_number": ["该证书编号已登记在其他社工名下，请核对"]
    }


def test_empty_certificate_numbers_may_repeat(world: World) -> None:
    for _n in range(2):
        SocialWorkerFactory(
            person=PersonFactory(community=world.c1),
            organization=world.o1,
            qualification="",
            certificate_number="",
        )
    assert SocialWorker.objects.filter(certificate_number="").count() == 2


def _edit_form(worker: SocialWorker, **overrides: str) -> SocialWorkerForm:
    data = {
        "qualification": worker.qualification,
        "certificate_number": worker.certificate_number,
        "certificate_date": "",
        "joined_on": "",
        "expected_version": str(worker.version),
        **overrides,
    }
    return SocialWorkerForm(data, instance=worker)


def test_form_normalises_full_width_certificate_numbers(world: World) -> None:
    worker = world.people["worker"].social_worker
    form = _edit_form(worker, certificate_number=" ｓｗ２０２０ ")
    assert form.is_valid() and form.cleaned_data["certificate_number"] == "SW2020"


def test_form_finds_a_duplicate_typed_differently(world: World) -> None:
    SocialWorkerFactory(
        person=PersonFactory(community=world.c1), organization=world.o1, certificate_number="SW7"
    )
    form = _edit_form(world.people["worker"].social_worker, certificate_number="ｓｗ７")
    assert form.errors["certificate_number"] == ["该证书编号已登记在其他社工名下，请核对"]


def test_form_wants_a_certificate_for_a_qualification(world: World) -> None:
    form = _edit_form(world.people["worker"].social_worker, certificate_number="")
    assert form.errors == {"certificate_number": ["有职业资格的社工请填写证书编号"]}


def test_form_refuses_a_future_certificate_date(world: World) -> None:
    later = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    form = _edit_form(world.people["worker"].social_worker, certificate_date=later)
    assert form.errors == {"certificate_date": ["取得时间不能晚于今天"]}


def test_leave_ends_the_status(world: World) -> None:
    worker = world.people["worker"].social_worker
    day = timezone.localdate()
    services.social_worker_leave(worker=worker, left_on=day)
    worker.refresh_from_db()
    assert (worker.status, worker.left_on) == (SocialWorkerStatus.LEFT, day)


def test_leave_is_audited(world: World) -> None:
    worker = world.people["worker"].social_worker
    services.social_worker_leave(worker=worker, left_on=timezone.localdate())
    entry = AuditEntry.objects.filter(
        object_type="organizations.SocialWorker", object_id=str(worker.pk), action="update"
    ).get()
    assert entry.changes["status"] == ["active", "left"]


def test_leave_releases_the_employer(world: World) -> None:
    worker = world.people["worker"].social_worker
    services.social_worker_leave(worker=worker, left_on=timezone.localdate())
    worker.person.refresh_from_db()
    assert worker.person.employer is None


def test_leave_twice_is_refused(world: World) -> None:
    worker = world.people["worker"].social_worker
    day = timezone.localdate()
    services.social_worker_leave(worker=worker, left_on=day)
    with pytest.raises(ValidationError) as exc:
        services.social_worker_leave(worker=worker, left_on=day)
    assert exc.value.messages == [f"社工本人 已于 {day:%Y-%m-%d} 离职，不能重复办理"]


def test_leave_before_joining_is_refused(world: World) -> None:
    worker = world.people["worker"].social_worker
    worker.joined_on = timezone.localdate()
    worker.save()
    with pytest.raises(ValidationError) as exc:
        services.social_worker_leave(
            worker=worker, left_on=timezone.localdate() - dt.timedelta(days=1)
        )
    assert exc.value.message_dict == {"left_on": ["离职日期不能早于入职日期"]}


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "postgres" not in os.environ.get("DATABASE_URL", ""),
    reason="row locks need PostgreSQL (SQLite serialises whole transactions)",
)
def test_two_simultaneous_confirms_count_once() -> None:
    world = build_world()
    log = VolunteerHourLogFactory(volunteer=world.people["volunteer"].volunteer)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def confirm(by: User) -> None:
        barrier.wait()
        try:
            services.hour_log_confirm(log=log, by=by)
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    reviewers = [world.users[Role.COMMUNITY_CADRE], world.users[Role.AREA_STAFF]]
    threads = [threading.Thread(target=confirm, args=(r,)) for r in reviewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    volunteer = Volunteer.objects.get(pk=log.volunteer_id)
    assert (sorted(outcomes), volunteer.hours_logged) == (["ok", "refused"], Decimal("2.0"))
