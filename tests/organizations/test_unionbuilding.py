"""Union building in social organisations and Trade Union Law training: rules, coverage maths
(computed by hand in the comments), pages."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from openpyxl import load_workbook

from sanlian.core.roles import Role
from sanlian.organizations import services
from sanlian.organizations.forms import UnionBuildingCreateForm
from sanlian.organizations.models import (
    Organization,
    OrgUnionStatus,
    TrainingAttendance,
    TrainingSession,
    UnionBuilding,
    union_status_rows,
)
from sanlian.organizations.models.unionbuilding import one_year_before, rate

from ..conftest import World
from ..factories import PersonFactory
from .factories_cobuilding import (
    TrainingAttendanceFactory,
    TrainingSessionFactory,
    UnionBuildingFactory,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 1)


def _form(world: World, **fields: Any) -> UnionBuildingCreateForm:
    data = {"as_of": "2026-06-30", "staff_count": 20, "member_count": 12, **fields}
    return UnionBuildingCreateForm(data, instance=UnionBuilding(organization=world.o1))


# ---- union building: rules ------------------------------------------------------------------


def test_more_members_than_staff_is_refused(world: World) -> None:
    form = _form(world, staff_count=10, member_count=11)
    assert form.errors["member_count"] == ["入会人数不能超过职工人数。"]


def test_as_many_members_as_staff_is_accepted(world: World) -> None:
    assert _form(world, staff_count=10, member_count=10).is_valid()


def test_database_refuses_more_members_than_staff(world: World) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        UnionBuildingFactory(organization=world.o1, staff_count=5, member_count=6)


def test_a_founded_union_needs_its_founding_date(world: World) -> None:
    form = _form(world, union_founded="on")
    assert form.errors["founded_on"] == ["已建立工会的，请填写建会日期。"]


def test_founding_date_cannot_follow_the_count_date(world: World) -> None:
    form = _form(world, union_founded="on", founded_on="2026-07-01")
    assert "founded_on" in form.errors


def test_one_snapshot_per_organisation_and_year(world: World) -> None:
    UnionBuildingFactory(organization=world.o1, as_of=dt.date(2026, 1, 31))
    form = _form(world, as_of="2026-06-30")
    assert "2026年已有记录" in form.errors["as_of"][0]


def test_service_refuses_a_second_snapshot_in_a_year(world: World) -> None:
    UnionBuildingFactory(organization=world.o1, as_of=dt.date(2026, 1, 31))
    with pytest.raises(ValidationError):
        services.union_building_record(
            organization=world.o1, as_of=dt.date(2026, 9, 1), staff_count=5, member_count=1
        )


def test_service_refuses_an_organisation_that_is_not_social(world: World) -> None:
    with pytest.raises(ValidationError):
        services.union_building_record(
            organization=world.t1, as_of=TODAY, staff_count=5, member_count=1
        )


def test_year_follows_the_count_date(world: World) -> None:
    snapshot = UnionBuildingFactory(organization=world.o1, as_of=dt.date(2025, 12, 31))
    assert snapshot.year == 2025


@pytest.mark.parametrize(
    ("members", "staff", "expected"),
    [(7, 20, Decimal("35.0")), (1, 3, Decimal("33.3")), (2, 3, Decimal("66.7")), (0, 0, None)],
)
def test_membership_rate(world: World, members: int, staff: int, expected: Decimal | None) -> None:
    snapshot = UnionBuilding(organization=world.o1, staff_count=staff, member_count=members)
    assert snapshot.membership_rate == expected


def test_latest_snapshot_is_the_newest_year(world: World) -> None:
    UnionBuildingFactory(organization=world.o1, as_of=dt.date(2025, 6, 30), staff_count=10)
    newest = UnionBuildingFactory(organization=world.o1, as_of=dt.date(2026, 6, 30))
    UnionBuildingFactory(organization=world.o1, as_of=dt.date(2024, 6, 30))
    assert list(UnionBuilding.objects.latest_per_organization()) == [newest]


# ---- training: scores -----------------------------------------------------------------------


def _session(world: World, held_on: dt.date = dt.date(2026, 5, 20)) -> TrainingSession:
    return TrainingSessionFactory(organiser=world.d1, held_on=held_on)


def _trainee(**kwargs: Any) -> services.TraineeSpec:
    return services.TraineeSpec(**kwargs)


@pytest.mark.parametrize("score", [Decimal("-0.5"), Decimal("100.5")])
def test_score_outside_0_to_100_is_refused(world: World, score: Decimal) -> None:
    with pytest.raises(ValidationError, match="0至100"):
        services.training_attendance_record(
            session=_session(world),
            organization=world.o1,
            trainees=[_trainee(attendee_name="王五", test_score=score)],
        )


def test_database_refuses_a_score_above_100(world: World) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        TrainingAttendanceFactory(
            session=_session(world), organization=world.o1, test_score=Decimal("100.5")
        )


def test_scores_0_and_100_are_accepted(world: World) -> None:
    saved = services.training_attendance_record(
        session=_session(world),
        organization=world.o1,
        trainees=[
            _trainee(attendee_name="王五", test_score=Decimal(0)),
            _trainee(attendee_name="赵六", test_score=Decimal(100)),
        ],
    )
    assert [a.test_score for a in saved] == [Decimal(0), Decimal(100)]


def test_absent_attendee_cannot_have_a_score(world: World) -> None:
    with pytest.raises(ValidationError, match="未出席"):
        services.training_attendance_record(
            session=_session(world),
            organization=world.o1,
            trainees=[_trainee(attendee_name="王五", attended=False, test_score=Decimal(80))],
        )


def test_staff_of_another_organisation_is_refused(world: World) -> None:
    stranger = PersonFactory(community=world.c2, employer=world.o2)
    with pytest.raises(ValidationError, match="不是"):
        services.training_attendance_record(
            session=_session(world), organization=world.o1, trainees=[_trainee(person=stranger)]
        )


def test_recording_again_corrects_rather_than_duplicates(world: World) -> None:
    session = _session(world)
    staff = PersonFactory(community=world.c1, employer=world.o1)
    for score in (Decimal(60), Decimal(85)):
        services.training_attendance_record(
            session=session,
            organization=world.o1,
            trainees=[_trainee(person=staff, test_score=score)],
        )
    assert list(session.attendance.values_list("test_score", flat=True)) == [Decimal(85)]


def test_absent_staff_member_not_on_the_sheet_is_not_added(world: World) -> None:
    session = _session(world)
    staff = PersonFactory(community=world.c1, employer=world.o1)
    services.training_attendance_record(
        session=session, organization=world.o1, trainees=[_trainee(person=staff, attended=False)]
    )
    assert session.attendance.count() == 0


# ---- coverage maths -------------------------------------------------------------------------


def test_one_year_before_a_leap_day() -> None:
    assert one_year_before(dt.date(2028, 2, 29)) == dt.date(2027, 2, 28)


def _coverage_world(world: World) -> None:
    """O1 has 8 staff. In the twelve months up to 2026-11-01 (2025-11-02 .. 2026-11-01):
    p1 trained twice (counts 1), p2 once (1), the typed name 王五 twice (1), p5 on the last
    day (1); p3 was absent (0), p4 trained 13 months ago (0), p6 exactly one year ago on
    2025-11-01 (0, outside). Trained = 4, coverage = 4 / 8 = 50.0 %."""
    UnionBuildingFactory(organization=world.o1, staff_count=8, member_count=3)
    staff = [PersonFactory(community=world.c1, employer=world.o1) for _ in range(6)]
    p1, p2, p3, p4, p5, p6 = staff
    may, june = _session(world, dt.date(2026, 5, 20)), _session(world, dt.date(2026, 6, 20))
    last_day = _session(world, TODAY)
    year_ago = _session(world, dt.date(2025, 11, 1))
    long_ago = _session(world, dt.date(2025, 10, 1))
    TrainingAttendanceFactory(session=may, person=p1)
    TrainingAttendanceFactory(session=june, person=p1)
    TrainingAttendanceFactory(session=may, person=p2)
    TrainingAttendanceFactory(session=may, person=p3, attended=False)
    TrainingAttendanceFactory(session=long_ago, person=p4)
    TrainingAttendanceFactory(session=last_day, person=p5)
    TrainingAttendanceFactory(session=year_ago, person=p6)
    TrainingAttendanceFactory(session=may, organization=world.o1, attendee_name="王五")
    TrainingAttendanceFactory(session=june, organization=world.o1, attendee_name="王五")
    # O2's attendee counts for O2 only.
    TrainingAttendanceFactory(session=may, organization=world.o2, attendee_name="外单位")


def test_trained_staff_are_counted_once_within_twelve_months(world: World) -> None:
    _coverage_world(world)
    counts = TrainingAttendance.objects.all().trained_per_organization(TODAY)
    assert counts == {world.o1.pk: 4, world.o2.pk: 1}


def test_coverage_is_trained_over_staff(world: World) -> None:
    _coverage_world(world)
    user = world.users[Role.FEDERATION_STAFF]
    [row] = union_status_rows(Organization.objects.filter(pk=world.o1.pk), user, TODAY)
    assert (row.trained, row.staff_count, row.coverage) == (4, 8, Decimal("50.0"))


def test_coverage_is_unknown_without_a_staff_count(world: World) -> None:
    row = OrgUnionStatus(organization=world.o1, snapshot=None, trained=3)
    assert row.coverage is None


def test_coverage_is_capped_at_100_percent() -> None:
    assert rate(12, 10) == Decimal("100.0")


# ---- pages: union building --------------------------------------------------------------------


def _sheet(content: bytes) -> list[tuple[Any, ...]]:
    ws = load_workbook(io.BytesIO(content), read_only=True).active
    return list(ws.iter_rows(values_only=True))


def test_list_shows_the_organisations_in_scope(world: World) -> None:
    UnionBuildingFactory(organization=world.o1, union_founded=True, founded_on=dt.date(2024, 5, 1))
    response = world.client(Role.COMMUNITY_CADRE).get("/org/union-building/")
    assert [r.organization for r in response.context["rows"]] == [world.o1]


def test_list_filters_organisations_without_a_union(world: World) -> None:
    UnionBuildingFactory(organization=world.o1, union_founded=True, founded_on=dt.date(2024, 5, 1))
    UnionBuildingFactory(organization=world.o2)
    response = world.client(Role.FEDERATION_STAFF).get("/org/union-building/", {"founded": "no"})
    assert [r.organization for r in response.context["rows"]] == [world.o2]


def test_list_totals_the_membership_rate(world: World) -> None:
    # (3 + 6) members / (10 + 20) staff = 30.0 %
    UnionBuildingFactory(organization=world.o1, staff_count=10, member_count=3)
    UnionBuildingFactory(organization=world.o2, staff_count=20, member_count=6)
    response = world.client(Role.FEDERATION_STAFF).get("/org/union-building/")
    assert response.context["member_rate"] == Decimal("30.0")


def test_list_export_is_scoped(world: World) -> None:
    UnionBuildingFactory(organization=world.o1, staff_count=10, member_count=4)
    UnionBuildingFactory(organization=world.o2)
    response = world.client(Role.AREA_STAFF).get("/org/union-building/", {"format": "xlsx"})
    rows = _sheet(response.content)[1:]
    assert [(r[0], r[5], r[6], r[7]) for r in rows] == [(world.o1.name, 10, 4, "40.0%")]


def test_organisation_page_outside_scope_is_404(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).get(f"/org/union-building/org/{world.o2.pk}/")
    assert response.status_code == 404


def test_organisation_page_shows_the_history(world: World) -> None:
    UnionBuildingFactory(organization=world.o1, as_of=dt.date(2025, 6, 30))
    UnionBuildingFactory(organization=world.o1, as_of=dt.date(2026, 6, 30))
    response = world.client(Role.SOCIAL_ORG_MANAGER).get(f"/org/union-building/org/{world.o1.pk}/")
    assert [h.year for h in response.context["history"]] == [2026, 2025]


def test_manager_records_its_own_organisation(world: World) -> None:
    response = world.client(Role.SOCIAL_ORG_MANAGER).post(
        f"/org/union-building/org/{world.o1.pk}/record/",
        {
            "as_of": "2026-10-31",
            "union_founded": "on",
            "founded_on": "2026-03-08",
            "union_name": "阳光社工中心工会",
            "staff_count": 12,
            "member_count": 9,
        },
    )
    snapshot = UnionBuilding.objects.get(organization=world.o1)
    assert response.status_code == 302
    assert (snapshot.year, snapshot.membership_rate) == (2026, Decimal("75.0"))


def test_manager_cannot_record_another_organisation(world: World) -> None:
    response = world.client(Role.SOCIAL_ORG_MANAGER).get(
        f"/org/union-building/org/{world.o2.pk}/record/"
    )
    assert response.status_code == 404


def test_record_page_shows_why_members_exceed_staff(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).post(
        f"/org/union-building/org/{world.o1.pk}/record/",
        {"as_of": "2026-10-31", "staff_count": 5, "member_count": 7},
    )
    assert "入会人数不能超过职工人数" in response.content.decode()
    assert UnionBuilding.objects.count() == 0


def test_snapshot_edit_keeps_the_rules(world: World) -> None:
    snapshot = UnionBuildingFactory(organization=world.o1, staff_count=10, member_count=5)
    world.client(Role.COMMUNITY_CADRE).post(
        f"/org/union-building/{snapshot.pk}/edit/",
        {
            "as_of": "2026-06-30",
            "staff_count": 10,
            "member_count": 11,
            "expected_version": snapshot.version,
        },
    )
    snapshot.refresh_from_db()
    assert snapshot.member_count == 5


# ---- pages: trainings -----------------------------------------------------------------------


def test_training_created_on_its_page(world: World) -> None:
    response = world.client(Role.AREA_STAFF).post(
        "/org/trainings/new/",
        {
            "topic": "labour_contract",
            "title": "",
            "held_on": "2026-09-15",
            "trainer": "刘律师",
            "organiser": world.d1.pk,
        },
    )
    session = TrainingSession.objects.get()
    assert response.status_code == 302
    assert session.title == "劳动合同与维权"  # the topic, when no title is given


def test_training_organiser_must_be_a_union_in_scope(world: World) -> None:
    response = world.client(Role.AREA_STAFF).post(
        "/org/trainings/new/",
        {"topic": "rights", "held_on": "2026-09-15", "trainer": "刘律师", "organiser": world.d2.pk},
    )
    assert "organiser" in response.context["form"].errors


def test_attendance_sheet_lists_the_organisations_staff(world: World) -> None:
    staff = PersonFactory(community=world.c1, employer=world.o1, name="职工甲")
    session = _session(world)
    response = world.client(Role.AREA_STAFF).get(
        f"/org/trainings/{session.pk}/attendance/", {"organization": world.o1.pk}
    )
    people = [f.initial.get("person") for f in response.context["formset"].forms]
    assert staff in people


def _sheet_post(org: Organization, rows: list[dict[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "organization": org.pk,
        "trainees-TOTAL_FORMS": len(rows),
        "trainees-INITIAL_FORMS": 0,
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"trainees-{i}-{key}"] = value
    return data


def test_attendance_sheet_records_two_attendees_with_scores(world: World) -> None:
    staff = PersonFactory(community=world.c1, employer=world.o1, name="职工甲")
    session = _session(world)
    data = _sheet_post(
        world.o1,
        [
            {"person": staff.pk, "attendee_name": "职工甲", "attended": "on", "test_score": "92"},
            {"attendee_name": "临时学员", "attended": "on", "test_score": "78.5"},
            {"attendee_name": ""},
        ],
    )
    world.client(Role.AREA_STAFF).post(f"/org/trainings/{session.pk}/attendance/", data)
    assert sorted(session.attendance.values_list("attendee_name", "test_score")) == [
        ("临时学员", Decimal("78.5")),
        ("职工甲", Decimal("92.0")),
    ]


def test_attendance_sheet_refuses_a_score_over_100(world: World) -> None:
    session = _session(world)
    data = _sheet_post(world.o1, [{"attendee_name": "王五", "attended": "on", "test_score": "101"}])
    response = world.client(Role.AREA_STAFF).post(f"/org/trainings/{session.pk}/attendance/", data)
    assert "测试成绩须在0至100之间" in response.content.decode()
    assert session.attendance.count() == 0


def test_attendance_sheet_refuses_staff_of_an_organisation_outside_scope(world: World) -> None:
    session = _session(world)
    data = _sheet_post(world.o2, [{"attendee_name": "王五", "attended": "on"}])
    response = world.client(Role.AREA_STAFF).post(f"/org/trainings/{session.pk}/attendance/", data)
    assert response.status_code == 404


def test_training_detail_shows_coverage_per_organisation(world: World) -> None:
    UnionBuildingFactory(organization=world.o1, staff_count=4, member_count=2)
    session = _session(world, timezone.localdate())
    TrainingAttendanceFactory(session=session, organization=world.o1, test_score=Decimal(80))
    TrainingAttendanceFactory(session=session, organization=world.o1, test_score=Decimal(90))
    response = world.client(Role.AREA_STAFF).get(f"/org/trainings/{session.pk}/")
    [summary] = response.context["summaries"]
    # 2 trained of 4 staff = 50.0 %; average (80 + 90) / 2 = 85.0
    assert (summary["status"].coverage, summary["average"]) == (Decimal("50.0"), Decimal("85.0"))


def test_training_list_counts_only_attendees_in_scope(world: World) -> None:
    session = _session(world)
    TrainingAttendanceFactory(session=session, organization=world.o1)
    TrainingAttendanceFactory(session=session, organization=world.o2)
    response = world.client(Role.COMMUNITY_CADRE).get("/org/trainings/")
    [(shown, stats)] = response.context["rows"]
    assert (shown, stats["attended"]) == (session, 1)


def test_social_worker_cannot_record_a_training(world: World) -> None:
    assert world.client(Role.SOCIAL_WORKER).get("/org/trainings/new/").status_code == 403


def test_community_profile_shows_union_building(world: World) -> None:
    UnionBuildingFactory(
        organization=world.o1,
        union_founded=True,
        founded_on=dt.date(2024, 5, 1),
        staff_count=10,
        member_count=6,
    )
    body = world.client(Role.COMMUNITY_CADRE).get(f"/org/communities/{world.c1.pk}/")
    text = body.content.decode()
    assert world.o1.name in text and "6 / 10" in text and "60.0%" in text
