"""Co-building agreements, joint meetings and follow-up items: rules, overdue logic, pages."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from openpyxl import load_workbook

from sanlian.core.models import AuditEntry
from sanlian.core.roles import Role
from sanlian.core.services import ConcurrentEditError
from sanlian.organizations import services
from sanlian.organizations.forms import AgreementCreateForm, AgreementPartyForm
from sanlian.organizations.models import (
    CoBuildingAgreement,
    FollowUpItem,
    FollowUpStatus,
    JointMeeting,
    Organization,
    OrgKind,
    PartyRole,
)

from ..conftest import World
from ..factories import CommunityFactory, OrganizationFactory
from .factories_cobuilding import (
    FollowUpItemFactory,
    JointMeetingFactory,
    agreement_with_parties,
    at,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 10)
LONG_AGO = dt.date(2020, 1, 1)  # overdue whenever the tests run
FAR_AHEAD = dt.date(2099, 1, 1)


def _spec(org: Organization, role: str) -> services.PartySpec:
    return services.PartySpec(organization=org, role=role)


def _create(world: World, parties: list[services.PartySpec]) -> CoBuildingAgreement:
    return services.agreement_create(
        community=world.c1,
        title="凯旋社区联建协议",
        signed_on=dt.date(2026, 1, 1),
        valid_from=dt.date(2026, 1, 1),
        valid_to=dt.date(2027, 12, 31),
        parties=parties,
    )


def _agreement(world: World, **kwargs: Any) -> CoBuildingAgreement:
    return agreement_with_parties(world.c1, world.party1, world.c1.organization, world.o1, **kwargs)


def _meeting(world: World, **kwargs: Any) -> JointMeeting:
    return JointMeetingFactory(agreement=_agreement(world), **kwargs)


# ---- the signatories ------------------------------------------------------------------------


def test_agreement_without_the_party_organisation_is_refused(world: World) -> None:
    with pytest.raises(ValidationError, match="党组织"):
        _create(world, [_spec(world.c1.organization, PartyRole.UNION)])


def test_agreement_without_the_community_union_is_refused(world: World) -> None:
    with pytest.raises(ValidationError, match="凯旋社区联合工会"):
        _create(world, [_spec(world.party1, PartyRole.PARTY_ORG)])


def test_another_communitys_party_organisation_does_not_count(world: World) -> None:
    other_party = OrganizationFactory(kind=OrgKind.PARTY_ORG, parent=world.c2.organization)
    with pytest.raises(ValidationError, match="党组织"):
        _create(
            world,
            [_spec(other_party, PartyRole.PARTY_ORG), _spec(world.c1.organization, "union")],
        )


def test_agreement_with_party_organisation_and_union_is_created(world: World) -> None:
    agreement = _create(
        world,
        [
            _spec(world.party1, PartyRole.PARTY_ORG),
            _spec(world.c1.organization, PartyRole.UNION),
            _spec(world.o1, PartyRole.SOCIAL_ORG),
        ],
    )
    assert set(agreement.parties.values_list("organization_id", flat=True)) == {
        world.party1.pk,
        world.c1.organization_id,
        world.o1.pk,
    }


def test_a_party_role_must_fit_the_organisation_kind(world: World) -> None:
    form = AgreementPartyForm(
        {"organization": world.o1.pk, "role": PartyRole.PARTY_ORG},
        organizations=Organization.objects.all(),
        require=True,
    )
    assert "role" in form.errors


def test_a_party_role_defaults_from_the_organisation_kind(world: World) -> None:
    form = AgreementPartyForm(
        {"organization": world.o1.pk}, organizations=Organization.objects.all(), require=True
    )
    assert form.is_valid() and form.cleaned_data["role"] == PartyRole.SOCIAL_ORG


# ---- the period -----------------------------------------------------------------------------


def _agreement_form(valid_from: str, valid_to: str) -> AgreementCreateForm:
    return AgreementCreateForm(
        {
            "title": "联建协议",
            "signed_on": valid_from,
            "valid_from": valid_from,
            "valid_to": valid_to,
            "status": "active",
        }
    )


def test_period_must_end_after_it_starts(world: World) -> None:
    form = _agreement_form("2026-01-01", "2026-01-01")
    assert form.errors["valid_to"] == ["有效期止须晚于有效期起。"]


def test_period_longer_than_three_years_is_accepted_with_a_warning(world: World) -> None:
    form = _agreement_form("2026-01-01", "2030-06-30")
    assert form.is_valid() and "超过3年" in form.warnings()[0]


def test_three_year_period_has_no_warning(world: World) -> None:
    form = _agreement_form("2026-01-01", "2028-12-31")
    assert form.is_valid() and form.warnings() == []


def test_database_refuses_a_period_that_ends_before_it_starts(world: World) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        agreement_with_parties(
            world.c1, valid_from=dt.date(2026, 5, 1), valid_to=dt.date(2026, 4, 1)
        )


# ---- follow-up items ------------------------------------------------------------------------


def test_open_items_past_their_due_date_are_overdue(world: World) -> None:
    meeting = _meeting(world)
    late = FollowUpItemFactory(meeting=meeting, due_on=dt.date(2026, 3, 1))
    late_in_progress = FollowUpItemFactory(
        meeting=meeting, due_on=dt.date(2026, 3, 9), status=FollowUpStatus.IN_PROGRESS
    )
    FollowUpItemFactory(meeting=meeting, due_on=TODAY)  # due today: not yet late
    FollowUpItemFactory(
        meeting=meeting,
        due_on=dt.date(2026, 3, 1),
        status=FollowUpStatus.DONE,
        completed_on=dt.date(2026, 3, 5),
    )
    FollowUpItemFactory(
        meeting=meeting, due_on=dt.date(2026, 3, 1), status=FollowUpStatus.CANCELLED
    )
    assert set(FollowUpItem.objects.overdue(TODAY)) == {late, late_in_progress}


def test_days_overdue_counts_from_the_due_date(world: World) -> None:
    item = FollowUpItemFactory(meeting=_meeting(world), due_on=dt.date(2026, 2, 28))
    assert item.days_overdue(TODAY) == 10


def test_done_item_is_not_overdue(world: World) -> None:
    item = FollowUpItemFactory(
        meeting=_meeting(world),
        due_on=dt.date(2026, 2, 28),
        status=FollowUpStatus.DONE,
        completed_on=dt.date(2026, 3, 2),
    )
    assert (item.is_overdue(TODAY), item.days_overdue(TODAY)) == (False, 0)


def test_completing_an_item_records_the_day(world: World) -> None:
    item = FollowUpItemFactory(meeting=_meeting(world))
    services.follow_up_set_status(
        item=item, status=FollowUpStatus.DONE, expected_version=item.version, today=TODAY
    )
    item.refresh_from_db()
    assert (item.status, item.completed_on, item.version) == ("done", TODAY, 2)


def test_reopening_an_item_clears_the_completion_day(world: World) -> None:
    item = FollowUpItemFactory(
        meeting=_meeting(world), status=FollowUpStatus.DONE, completed_on=dt.date(2026, 3, 1)
    )
    services.follow_up_set_status(
        item=item, status=FollowUpStatus.IN_PROGRESS, expected_version=item.version, today=TODAY
    )
    item.refresh_from_db()
    assert (item.status, item.completed_on) == ("in_progress", None)


def test_a_stale_status_change_is_refused(world: World) -> None:
    item = FollowUpItemFactory(meeting=_meeting(world))
    services.follow_up_set_status(
        item=item, status=FollowUpStatus.IN_PROGRESS, expected_version=1, today=TODAY
    )
    stale = FollowUpItem.objects.get(pk=item.pk)
    with pytest.raises(ConcurrentEditError):
        services.follow_up_set_status(
            item=stale, status=FollowUpStatus.CANCELLED, expected_version=1, today=TODAY
        )


def test_database_refuses_a_done_item_without_completion_day(world: World) -> None:
    meeting = _meeting(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUpItemFactory(meeting=meeting, status=FollowUpStatus.DONE, completed_on=None)


def test_follow_up_due_before_the_meeting_is_refused(world: World) -> None:
    meeting = _meeting(world, held_on=at(dt.date(2026, 3, 10)))
    with pytest.raises(ValidationError, match="不能早于会议日期"):
        services.follow_up_add(
            meeting=meeting,
            item=services.FollowUpSpec(description="补交材料", due_on=dt.date(2026, 3, 9)),
        )


def test_meeting_under_another_communitys_agreement_is_refused(world: World) -> None:
    with pytest.raises(ValidationError):
        services.joint_meeting_create(
            community=world.c2,
            agreement=_agreement(world),
            title="联席会议",
            held_on=at(TODAY),
            chair="李志强",
        )


# ---- scoping beyond the standard cases --------------------------------------------------------


def test_social_org_manager_does_not_see_an_agreement_it_did_not_sign(world: World) -> None:
    agreement_with_parties(world.c1, world.party1, world.c1.organization)
    manager = world.users[Role.SOCIAL_ORG_MANAGER]
    assert CoBuildingAgreement.objects.visible_to(manager).count() == 0


def test_social_org_manager_sees_meetings_of_agreements_it_signed(world: World) -> None:
    meeting = _meeting(world)
    manager = world.users[Role.SOCIAL_ORG_MANAGER]
    assert list(JointMeeting.objects.visible_to(manager)) == [meeting]


# ---- pages: agreements ----------------------------------------------------------------------


def _sheet(content: bytes) -> list[tuple[Any, ...]]:
    ws = load_workbook(io.BytesIO(content), read_only=True).active
    return list(ws.iter_rows(values_only=True))


def test_agreement_list_is_scoped(world: World) -> None:
    _agreement(world, title="近处协议")
    agreement_with_parties(world.c2, world.c2.organization, title="远处协议")
    body = world.client(Role.COMMUNITY_CADRE).get("/org/cobuilding/").content.decode()
    assert "近处协议" in body and "远处协议" not in body


def test_agreement_list_filters_by_status(world: World) -> None:
    _agreement(world, title="生效协议", status="active")
    _agreement(world, title="草拟协议", status="draft")
    response = world.client(Role.AREA_STAFF).get("/org/cobuilding/", {"status": "draft"})
    assert [a.title for a in response.context["page"]] == ["草拟协议"]


def test_agreement_export_is_scoped_and_audited(world: World) -> None:
    _agreement(world, title="近处协议")
    agreement_with_parties(world.c2, world.c2.organization, title="远处协议")
    response = world.client(Role.AREA_STAFF).get("/org/cobuilding/", {"format": "xlsx"})
    titles = {row[1] for row in _sheet(response.content)[1:]}
    assert titles == {"近处协议"}
    assert AuditEntry.objects.filter(
        action="export", object_type="organizations.CoBuildingAgreement"
    ).exists()


def test_agreement_outside_scope_is_404(world: World) -> None:
    far = agreement_with_parties(world.c2, world.c2.organization)
    response = world.client(Role.PARTY_SECRETARY).get(f"/org/cobuilding/{far.pk}/")
    assert response.status_code == 404


def test_agreement_detail_shows_the_signatories(world: World) -> None:
    agreement = _agreement(world)
    body = world.client(Role.PARTY_SECRETARY).get(f"/org/cobuilding/{agreement.pk}/")
    assert "中共凯旋社区委员会" in body.content.decode()


def test_long_agreement_detail_shows_the_warning(world: World) -> None:
    agreement = _agreement(world, valid_to=dt.date(2031, 1, 1))
    body = world.client(Role.PARTY_SECRETARY).get(f"/org/cobuilding/{agreement.pk}/")
    assert "协议期限超过3年" in body.content.decode()


def _agreement_post(world: World, parties: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "凯旋社区组织联建协议",
        "document_number": "KX-2026-01",
        "signed_on": "2026-01-05",
        "valid_from": "2026-01-05",
        "valid_to": "2028-01-04",
        "status": "active",
        "commitments": "共建职工之家。",
        "parties-TOTAL_FORMS": len(parties),
        "parties-INITIAL_FORMS": 0,
        **fields,
    }
    for i, row in enumerate(parties):
        for key, value in row.items():
            data[f"parties-{i}-{key}"] = value
    return data


def test_create_page_offers_the_required_signatories(world: World) -> None:
    response = world.client(Role.PARTY_SECRETARY).get("/org/cobuilding/new/")
    initial = [f.initial.get("organization") for f in response.context["parties"].forms]
    assert initial[:2] == [world.party1, world.c1.organization]


def test_create_page_records_an_agreement_with_its_signatories(world: World) -> None:
    data = _agreement_post(
        world,
        [
            {"organization": world.party1.pk, "signatory_name": "李志强"},
            {"organization": world.c1.organization.pk},
            {"organization": world.o1.pk},
        ],
    )
    response = world.client(Role.PARTY_SECRETARY).post("/org/cobuilding/new/", data)
    agreement = CoBuildingAgreement.objects.get()
    assert response.status_code == 302
    assert agreement.parties.get(organization=world.party1).signatory_name == "李志强"


def test_create_page_warns_about_a_long_period(world: World) -> None:
    data = _agreement_post(
        world,
        [{"organization": world.party1.pk}, {"organization": world.c1.organization.pk}],
        valid_to="2031-01-04",
    )
    response = world.client(Role.PARTY_SECRETARY).post("/org/cobuilding/new/", data, follow=True)
    assert "协议期限超过3年" in response.content.decode()
    assert CoBuildingAgreement.objects.count() == 1


def test_create_page_without_the_union_writes_nothing(world: World) -> None:
    data = _agreement_post(world, [{"organization": world.party1.pk}])
    response = world.client(Role.PARTY_SECRETARY).post("/org/cobuilding/new/", data)
    assert "签署方须包括凯旋社区联合工会" in response.content.decode()
    assert CoBuildingAgreement.objects.count() == 0


def test_create_page_refuses_an_organisation_outside_scope(world: World) -> None:
    data = _agreement_post(
        world,
        [
            {"organization": world.party1.pk},
            {"organization": world.c1.organization.pk},
            {"organization": world.o2.pk},
        ],
    )
    response = world.client(Role.PARTY_SECRETARY).post("/org/cobuilding/new/", data)
    assert response.context["parties"].forms[2].errors["organization"]
    assert CoBuildingAgreement.objects.count() == 0


def test_social_worker_cannot_create_an_agreement(world: World) -> None:
    response = world.client(Role.SOCIAL_WORKER).get("/org/cobuilding/new/")
    assert response.status_code == 403


def test_area_staff_with_several_communities_picks_one_first(world: World) -> None:
    CommunityFactory(street_org=world.s1)
    response = world.client(Role.AREA_STAFF).get("/org/cobuilding/new/")
    assert "picker" in response.context


def test_add_party_page_adds_a_signatory(world: World) -> None:
    agreement = agreement_with_parties(world.c1, world.party1, world.c1.organization)
    response = world.client(Role.COMMUNITY_CADRE).post(
        f"/org/cobuilding/{agreement.pk}/parties/add/",
        {"organization": world.o1.pk, "signatory_name": "赵敏"},
    )
    assert response.status_code == 302
    assert agreement.parties.get(organization=world.o1).role == PartyRole.SOCIAL_ORG


def test_edit_page_saves_with_the_version(world: World) -> None:
    agreement = _agreement(world)
    data = {
        "title": "改名后的协议",
        "document_number": agreement.document_number,
        "signed_on": "2025-12-20",
        "valid_from": "2026-01-01",
        "valid_to": "2027-12-31",
        "status": "active",
        "commitments": "",
        "expected_version": agreement.version,
    }
    world.client(Role.PARTY_SECRETARY).post(f"/org/cobuilding/{agreement.pk}/edit/", data)
    agreement.refresh_from_db()
    assert (agreement.title, agreement.version) == ("改名后的协议", 2)


# ---- pages: joint meetings and follow-ups ---------------------------------------------------


def _meeting_post(agreement: CoBuildingAgreement, **fields: Any) -> dict[str, Any]:
    return {
        "title": "2026年第一季度联席会议",
        "held_on": "2026-03-10T09:00",
        "place": "党群服务中心",
        "chair": "李志强",
        "minutes": "研究职工之家建设。",
        "decisions": "由阳光社工中心承接职工需求调查。",
        "attendance-TOTAL_FORMS": 2,
        "attendance-INITIAL_FORMS": 0,
        "attendance-0-organization": agreement.parties.get(role="party_org").organization_id,
        "attendance-0-attendee_name": "李志强",
        "attendance-0-present": "on",
        "attendance-1-organization": "",
        "attendance-1-attendee_name": "",
        "followups-TOTAL_FORMS": 2,
        "followups-INITIAL_FORMS": 0,
        "followups-0-description": "完成职工需求调查",
        "followups-0-owner_organization": agreement.parties.get(role="social_org").organization_id,
        "followups-0-owner_name": "赵敏",
        "followups-0-due_on": "2026-04-30",
        **fields,
    }


def test_meeting_create_page_prefills_attendees_from_the_signatories(world: World) -> None:
    agreement = _agreement(world)
    response = world.client(Role.PARTY_SECRETARY).get(
        "/org/cobuilding/meetings/new/", {"agreement": agreement.pk}
    )
    prefilled = [f.initial.get("organization") for f in response.context["attendees"].forms]
    assert prefilled[:3] == [world.party1, world.c1.organization, world.o1]


def test_secretary_chairs_by_default(world: World) -> None:
    secretary = world.users[Role.PARTY_SECRETARY]
    response = world.client(Role.PARTY_SECRETARY).get(
        "/org/cobuilding/meetings/new/", {"agreement": _agreement(world).pk}
    )
    assert response.context["form"].initial["chair"] == secretary.full_name


def test_meeting_create_page_records_attendance_and_follow_ups(world: World) -> None:
    agreement = _agreement(world)
    response = world.client(Role.PARTY_SECRETARY).post(
        f"/org/cobuilding/meetings/new/?agreement={agreement.pk}", _meeting_post(agreement)
    )
    meeting = JointMeeting.objects.get()
    assert response.status_code == 302
    assert [a.attendee_name for a in meeting.attendance.all()] == ["李志强"]
    assert [(f.description, f.owner_organization) for f in meeting.follow_ups.all()] == [
        ("完成职工需求调查", world.o1)
    ]


def test_meeting_create_page_refuses_a_follow_up_due_before_the_meeting(world: World) -> None:
    agreement = _agreement(world)
    data = _meeting_post(agreement, **{"followups-0-due_on": "2026-03-01"})
    response = world.client(Role.PARTY_SECRETARY).post(
        f"/org/cobuilding/meetings/new/?agreement={agreement.pk}", data
    )
    assert "完成时限不能早于会议日期" in response.content.decode()
    assert JointMeeting.objects.count() == 0


def test_meeting_outside_scope_is_404(world: World) -> None:
    far = JointMeetingFactory(community=world.c2)
    response = world.client(Role.COMMUNITY_CADRE).get(f"/org/cobuilding/meetings/{far.pk}/")
    assert response.status_code == 404


def test_meeting_detail_shows_minutes(world: World) -> None:
    meeting = _meeting(world, minutes="纪要：建立职工之家。")
    response = world.client(Role.PARTY_SECRETARY).get(f"/org/cobuilding/meetings/{meeting.pk}/")
    assert "纪要：建立职工之家。" in response.content.decode()


def test_follow_up_added_on_the_meeting_page(world: World) -> None:
    meeting = _meeting(world)
    world.client(Role.PARTY_SECRETARY).post(
        f"/org/cobuilding/meetings/{meeting.pk}/follow-ups/add/",
        {"description": "走访新就业形态劳动者", "owner_name": "张丽华", "due_on": "2026-05-31"},
    )
    assert meeting.follow_ups.get().description == "走访新就业形态劳动者"


def _status(world: World, role: str, item: FollowUpItem, status: str, **headers: Any) -> Any:
    return world.client(role).post(
        f"/org/cobuilding/follow-ups/{item.pk}/status/",
        {"status": status, "expected_version": item.version},
        **headers,
    )


def test_htmx_status_update_answers_the_row_only(world: World) -> None:
    item = FollowUpItemFactory(meeting=_meeting(world))
    response = _status(world, Role.PARTY_SECRETARY, item, "in_progress", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert f'id="follow-up-{item.pk}"' in body and "<html" not in body
    assert FollowUpItem.objects.get(pk=item.pk).status == "in_progress"


def test_plain_status_update_redirects_to_the_meeting(world: World) -> None:
    item = FollowUpItemFactory(meeting=_meeting(world))
    response = _status(world, Role.PARTY_SECRETARY, item, "done")
    assert response["Location"] == f"/org/cobuilding/meetings/{item.meeting_id}/"


def test_stale_htmx_status_update_shows_the_conflict_in_the_row(world: World) -> None:
    item = FollowUpItemFactory(meeting=_meeting(world))
    _status(world, Role.PARTY_SECRETARY, item, "in_progress")
    response = _status(world, Role.PARTY_SECRETARY, item, "cancelled", HTTP_HX_REQUEST="true")
    assert "该记录已被他人修改" in response.content.decode()
    assert FollowUpItem.objects.get(pk=item.pk).status == "in_progress"


def test_owner_organisation_manager_may_update_its_item(world: World) -> None:
    item = FollowUpItemFactory(meeting=_meeting(world), owner_organization=world.o1)
    _status(world, Role.SOCIAL_ORG_MANAGER, item, "done")
    assert FollowUpItem.objects.get(pk=item.pk).status == "done"


def test_manager_may_not_update_another_organisations_item(world: World) -> None:
    item = FollowUpItemFactory(meeting=_meeting(world), owner_organization=world.party1)
    response = _status(world, Role.SOCIAL_ORG_MANAGER, item, "done")
    assert response.status_code == 403


def test_status_update_outside_scope_is_404(world: World) -> None:
    far = FollowUpItemFactory(meeting=JointMeetingFactory(community=world.c2))
    response = _status(world, Role.COMMUNITY_CADRE, far, "done")
    assert response.status_code == 404


def test_overdue_page_lists_only_overdue_items(world: World) -> None:
    meeting = _meeting(world)
    FollowUpItemFactory(meeting=meeting, description="逾期事项", due_on=LONG_AGO)
    FollowUpItemFactory(meeting=meeting, description="未到期事项", due_on=FAR_AHEAD)
    body = world.client(Role.PARTY_SECRETARY).get("/org/cobuilding/follow-ups/overdue/")
    text = body.content.decode()
    assert "逾期事项" in text and "未到期事项" not in text


def test_area_home_shows_the_overdue_count(world: World) -> None:
    meeting = _meeting(world)
    FollowUpItemFactory.create_batch(2, meeting=meeting, due_on=LONG_AGO)
    body = world.client(Role.AREA_STAFF).get("/").content.decode()
    assert 'data-testid="overdue-badge">2<' in body


def test_community_profile_shows_agreement_and_overdue_items(world: World) -> None:
    meeting = _meeting(world)
    FollowUpItemFactory(meeting=meeting, due_on=LONG_AGO)
    body = world.client(Role.PARTY_SECRETARY).get(f"/org/communities/{world.c1.pk}/")
    text = body.content.decode()
    assert meeting.agreement.title in text and "逾期事项 1" in text
