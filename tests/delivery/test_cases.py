"""Case work services: the phases in order, the supervisor's sign-offs, consent to sensitive
information, encryption at rest, referrals and what they share, and the counts for 资源联合."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from sanlian.core.models import AuditEntry
from sanlian.core.roles import Role
from sanlian.delivery import outputs
from sanlian.delivery.models import Case, CaseContact, CasePhase, ReferralStatus, ShareBasis
from sanlian.delivery.services import cases as services
from sanlian.organizations.models import SocialWorker
from sanlian.resources.models import Metric
from sanlian.resources.services.indicators import counter_for

from ..conftest import World
from ..factories import PersonFactory
from ..resources.factories import project_in
from .factories_cases import (
    NOTE,
    PROBLEM,
    TODAY,
    CaseContactFactory,
    CaseFactory,
    ReferralFactory,
    opened,
    user_of,
    walk,
    worker_of,
    worker_with_account,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(world: World) -> SocialWorker:
    """A senior social worker of O1, the supervisor of the cases in these tests."""
    return worker_with_account(world.o1, qualification="senior")


def _messages(exc: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return exc.value.messages


# ---- phases --------------------------------------------------------------------------------


def test_a_phase_cannot_be_skipped(world: World, boss: SocialWorker) -> None:
    case = walk(opened(world, boss), CasePhase.ASSESSMENT)
    with pytest.raises(ValidationError) as exc:
        services.case_advance(
            case=case, by=world.users[Role.SOCIAL_WORKER], to=CasePhase.INTERVENTION
        )
    assert _messages(exc) == [
        "个案工作须依次经过各阶段，不能跳过：当前为“预估”，下一阶段是“计划”，不能直接进入“介入”。"
    ]


def test_the_plan_cannot_be_written_before_the_assessment_phase_ends(
    world: World, boss: SocialWorker
) -> None:
    case = walk(opened(world, boss), CasePhase.ASSESSMENT)
    with pytest.raises(ValidationError) as exc:
        services.case_plan_save(
            case=case, by=world.users[Role.SOCIAL_WORKER], aims="x", strategies=""
        )
    assert _messages(exc) == ["个案当前处于“预估”阶段，不能修改服务计划（须在“计划”阶段）。"]


def test_the_assessment_must_be_done_before_planning(world: World, boss: SocialWorker) -> None:
    case = walk(opened(world, boss), CasePhase.ASSESSMENT)
    with pytest.raises(ValidationError) as exc:
        services.case_advance(case=case, by=world.users[Role.SOCIAL_WORKER], to=CasePhase.PLANNING)
    assert exc.value.code == "incomplete"


def test_a_case_walks_from_intake_to_closure(world: World, boss: SocialWorker) -> None:
    case = walk(opened(world, boss), CasePhase.CLOSED)
    assert (case.phase, case.closed_on, case.closure_signed_by) == (
        CasePhase.CLOSED,
        TODAY(),
        user_of(boss),
    )


def test_not_taken_ends_the_case_with_its_reason(world: World) -> None:
    case = services.case_intake_decide(
        case=opened(world),
        by=world.users[Role.SOCIAL_WORKER],
        take=False,
        reason="不属于本机构服务范围",
    )
    assert (case.phase, case.not_taken_reason, case.next_phase()) == (
        CasePhase.NOT_TAKEN,
        "不属于本机构服务范围",
        None,
    )


def test_taking_a_case_needs_the_service_agreement(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        services.case_intake_decide(
            case=opened(world), by=world.users[Role.SOCIAL_WORKER], take=True
        )
    assert exc.value.message_dict == {"agreement_on": ["接案须与服务对象签订服务协议并填写日期。"]}


def test_only_the_assigned_worker_writes_the_file(world: World, boss: SocialWorker) -> None:
    case = opened(world, boss)
    with pytest.raises(ValidationError) as exc:
        services.case_intake_decide(case=case, by=user_of(boss), take=True, agreement_on=TODAY())
    assert _messages(exc) == ["只有负责社工可以填写个案记录。"]


# ---- consent -------------------------------------------------------------------------------


def test_sensitive_fields_are_refused_without_consent(world: World, boss: SocialWorker) -> None:
    case = walk(opened(world, boss), CasePhase.ASSESSMENT)
    with pytest.raises(ValidationError) as exc:
        services.case_assessment_save(
            case=case,
            by=world.users[Role.SOCIAL_WORKER],
            information="",
            problems="",
            strengths="",
            summary="",
            health="抑郁症，正在服药",
        )
    assert exc.value.code == "no_consent"


def test_sensitive_fields_are_kept_with_consent(world: World, boss: SocialWorker) -> None:
    worker = world.users[Role.SOCIAL_WORKER]
    case = walk(opened(world, boss), CasePhase.ASSESSMENT)
    services.case_consent_record(case=case, by=worker, consent_on=TODAY(), method="signed")
    services.case_assessment_save(
        case=case,
        by=worker,
        information="",
        problems="",
        strengths="",
        summary="",
        health="抑郁症，正在服药",
    )
    assert Case.objects.get(pk=case.pk).health == "抑郁症，正在服药"


def test_oral_consent_needs_a_witness(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        services.case_consent_record(
            case=opened(world),
            by=world.users[Role.SOCIAL_WORKER],
            consent_on=TODAY(),
            method="oral",
        )
    assert exc.value.message_dict == {"witness": ["口头同意须填写见证人。"]}


# ---- supervisor ----------------------------------------------------------------------------


def test_the_intervention_waits_for_the_plan_sign_off(world: World, boss: SocialWorker) -> None:
    worker = world.users[Role.SOCIAL_WORKER]
    case = walk(opened(world, boss), CasePhase.PLANNING)
    services.case_plan_save(case=case, by=worker, aims="稳定生活", strategies="")
    services.case_goal_add(case=case, by=worker, goal="申请救助", measure="到账")
    services.case_plan_submit(case=case, by=worker)
    with pytest.raises(ValidationError) as exc:
        services.case_advance(case=case, by=worker, to=CasePhase.INTERVENTION)
    assert _messages(exc) == ["服务计划须经督导审核后才能进入介入阶段。"]


def test_the_worker_cannot_sign_off_their_own_plan(world: World, boss: SocialWorker) -> None:
    worker = world.users[Role.SOCIAL_WORKER]
    case = walk(opened(world, boss), CasePhase.PLANNING)
    services.case_plan_save(case=case, by=worker, aims="稳定生活", strategies="")
    services.case_goal_add(case=case, by=worker, goal="申请救助", measure="到账")
    services.case_plan_submit(case=case, by=worker)
    with pytest.raises(ValidationError) as exc:
        services.case_plan_sign(case=case, by=worker)
    assert _messages(exc) == ["只有本个案的督导可以审核。"]


def test_an_assistant_social_worker_cannot_supervise(world: World) -> None:
    assistant = worker_with_account(world.o1, qualification="assistant")
    with pytest.raises(ValidationError) as exc:
        opened(world, assistant)
    assert exc.value.message_dict == {
        "supervisor": ["督导须是本机构在岗的社会工作师（或以上）或指定督导。"]
    }


def test_a_supervisor_of_another_organisation_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        opened(world, worker_with_account(world.o2, qualification="senior"))
    assert "supervisor" in exc.value.message_dict


def test_closure_without_the_supervisor_sign_off_leaves_the_case_open(
    world: World, boss: SocialWorker
) -> None:
    case = walk(opened(world, boss), CasePhase.CLOSING)
    with pytest.raises(ValidationError) as exc:
        services.case_closure_sign(case=case, by=world.users[Role.SOCIAL_WORKER])
    assert (_messages(exc), Case.objects.get(pk=case.pk).phase) == (
        ["只有本个案的督导可以审核。"],
        CasePhase.CLOSING,
    )


def test_a_case_cannot_be_closed_without_a_supervisor(world: World) -> None:
    case = walk(
        opened(world, worker_with_account(world.o1, qualification="senior")), CasePhase.INTERVENTION
    )
    Case.objects.filter(pk=case.pk).update(supervisor=None)
    case.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        services.case_closure_submit(
            case=case, by=world.users[Role.SOCIAL_WORKER], reason="withdrew", summary="退出"
        )
    assert exc.value.code == "no_supervisor"


def test_the_database_refuses_a_closed_case_without_sign_off(world: World) -> None:
    from django.db import IntegrityError, transaction

    case = CaseFactory(worker=worker_of(world))
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(phase=CasePhase.CLOSED, closed_on=TODAY())


def test_a_returned_closure_goes_back_to_its_phase(world: World, boss: SocialWorker) -> None:
    case = walk(opened(world, boss), CasePhase.INTERVENTION)
    case = services.case_closure_submit(
        case=case, by=world.users[Role.SOCIAL_WORKER], reason="withdrew", summary="退出服务"
    )
    case = services.case_closure_return(case=case, by=user_of(boss), note="请先电话确认本人意愿")
    assert (case.phase, case.returned_note, case.closure_reason) == (
        CasePhase.INTERVENTION,
        "请先电话确认本人意愿",
        "",
    )


def test_goals_met_needs_the_evaluation(world: World, boss: SocialWorker) -> None:
    case = walk(opened(world, boss), CasePhase.INTERVENTION)
    with pytest.raises(ValidationError) as exc:
        services.case_closure_submit(
            case=case, by=world.users[Role.SOCIAL_WORKER], reason="goals_met", summary="达成"
        )
    assert exc.value.code == "phase"


def test_closing_as_referred_needs_a_referral(world: World, boss: SocialWorker) -> None:
    case = walk(opened(world, boss), CasePhase.INTERVENTION)
    with pytest.raises(ValidationError) as exc:
        services.case_closure_submit(
            case=case, by=world.users[Role.SOCIAL_WORKER], reason="referred", summary="转介"
        )
    assert exc.value.message_dict == {"reason": ["以“已转介”结案须先有一条未被拒绝的转介。"]}


def test_follow_up_only_after_closure(world: World, boss: SocialWorker) -> None:
    case = walk(opened(world, boss), CasePhase.CLOSING)
    with pytest.raises(ValidationError) as exc:
        services.case_follow_up_add(
            case=case,
            by=world.users[Role.SOCIAL_WORKER],
            visited_on=TODAY(),
            kind="phone",
            notes="回访",
        )
    assert exc.value.code == "phase"


def test_a_follow_up_is_recorded_after_closure(world: World, boss: SocialWorker) -> None:
    case = walk(opened(world, boss), CasePhase.CLOSED)
    services.case_follow_up_add(
        case=case,
        by=world.users[Role.SOCIAL_WORKER],
        visited_on=TODAY(),
        kind="phone",
        notes="已就业",
    )
    assert [f.notes for f in case.follow_ups.all()] == ["已就业"]


# ---- contact records -----------------------------------------------------------------------


def test_a_contact_outside_the_intervention_is_refused(world: World, boss: SocialWorker) -> None:
    case = walk(opened(world, boss), CasePhase.ASSESSMENT)
    with pytest.raises(ValidationError) as exc:
        services.case_contact_add(
            case=case,
            by=world.users[Role.SOCIAL_WORKER],
            served_on=TODAY(),
            start_time=dt.time(9),
            end_time=dt.time(10),
            kind="face",
            notes=NOTE,
        )
    assert _messages(exc) == ["个案当前处于“预估”阶段，不能记录介入服务（须在“介入、评估”阶段）。"]


def test_a_100_kb_note_is_refused(world: World, boss: SocialWorker) -> None:
    case = walk(opened(world, boss), CasePhase.INTERVENTION)
    with pytest.raises(ValidationError) as exc:
        services.case_contact_add(
            case=case,
            by=world.users[Role.SOCIAL_WORKER],
            served_on=TODAY(),
            start_time=dt.time(9),
            end_time=dt.time(10),
            kind="face",
            notes="字" * 100_000,
        )
    assert exc.value.message_dict == {"notes": ["内容过长（最多 10000 字）。"]}


# ---- encryption ----------------------------------------------------------------------------


def test_the_ciphertext_in_the_database_does_not_contain_the_note(
    world: World, boss: SocialWorker
) -> None:
    case = walk(opened(world, boss), CasePhase.EVALUATION)
    contact = case.contacts.get()
    with connection.cursor() as cur:
        cur.execute("SELECT notes_encrypted FROM delivery_casecontact WHERE id = %s", [contact.pk])
        [stored] = cur.fetchone()
    assert (NOTE in stored, "房租" in stored, contact.notes) == (False, False, NOTE)


def test_the_presenting_problem_is_stored_encrypted(world: World) -> None:
    case = opened(world)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT presenting_problem_encrypted FROM delivery_case WHERE id = %s",
            [case.pk],
        )
        [stored] = cur.fetchone()
    assert ("工伤" in stored, Case.objects.get(pk=case.pk).presenting_problem) == (False, PROBLEM)


def test_the_audit_trail_never_holds_a_note(world: World, boss: SocialWorker) -> None:
    walk(opened(world, boss), CasePhase.EVALUATION)
    changes = " ".join(
        str(e.changes) for e in AuditEntry.objects.filter(object_type__startswith="delivery.")
    )
    assert ("工伤" in changes, "房租" in changes, "notes_encrypted" in changes) == (
        False,
        False,
        True,
    )


# ---- referrals -----------------------------------------------------------------------------


def test_a_referral_without_consent_cannot_carry_a_summary(
    world: World, boss: SocialWorker
) -> None:
    case = walk(opened(world, boss), CasePhase.INTERVENTION)
    with pytest.raises(ValidationError) as exc:
        services.referral_create(
            case=case,
            by=world.users[Role.SOCIAL_WORKER],
            to_org=world.o2,
            reason="需要法律援助",
            summary="丈夫工伤离世，欠房租",
        )
    assert exc.value.code == "no_basis"


def test_a_referral_without_consent_shows_the_receiver_only_the_minimum(
    world: World, boss: SocialWorker
) -> None:
    case = walk(opened(world, boss), CasePhase.INTERVENTION)
    referral = services.referral_create(
        case=case, by=world.users[Role.SOCIAL_WORKER], to_org=world.o2, reason="需要法律援助"
    )
    receiver = worker_with_account(world.o2, role=Role.SOCIAL_ORG_MANAGER)
    view = services.referral_view(referral, user_of(receiver))
    assert (view.full, view.person_name, view.category, view.reason, view.summary, view.phone) == (
        False,
        case.person.name,
        "经济困难",
        "",
        "",
        "",
    )


def test_a_referral_with_consent_shares_its_summary(world: World, boss: SocialWorker) -> None:
    case = walk(opened(world, boss), CasePhase.INTERVENTION)
    referral = services.referral_create(
        case=case,
        by=world.users[Role.SOCIAL_WORKER],
        to_org=world.o2,
        reason="需要法律援助",
        share_basis=ShareBasis.CONSENT,
        consent_on=TODAY(),
        summary="工伤赔偿未到位",
    )
    receiver = worker_with_account(world.o2, role=Role.SOCIAL_ORG_MANAGER)
    assert services.referral_view(referral, user_of(receiver)).summary == "工伤赔偿未到位"


def test_only_the_supervisor_overrides_the_missing_consent(
    world: World, boss: SocialWorker
) -> None:
    case = walk(opened(world, boss), CasePhase.INTERVENTION)
    referral = services.referral_create(
        case=case, by=world.users[Role.SOCIAL_WORKER], to_org=world.o2, reason="有自伤风险"
    )
    with pytest.raises(ValidationError) as exc:
        services.referral_override(
            referral=referral, by=world.users[Role.SOCIAL_WORKER], reason="生命安全", summary="x"
        )
    assert _messages(exc) == ["只有本个案的督导可以审核。"]


def test_the_supervisor_override_is_documented(world: World, boss: SocialWorker) -> None:
    case = walk(opened(world, boss), CasePhase.INTERVENTION)
    referral = services.referral_create(
        case=case, by=world.users[Role.SOCIAL_WORKER], to_org=world.o2, reason="有自伤风险"
    )
    referral = services.referral_override(
        referral=referral, by=user_of(boss), reason="生命安全优先", summary="近期有自伤言语"
    )
    assert (referral.share_basis, referral.override_by, referral.override_reason) == (
        ShareBasis.OVERRIDE,
        user_of(boss),
        "生命安全优先",
    )


def test_the_receiving_manager_accepts(world: World) -> None:
    receiver = worker_with_account(world.o2, role=Role.SOCIAL_ORG_MANAGER)
    referral = ReferralFactory(case=CaseFactory(worker=worker_of(world)), to_org=world.o2)
    referral = services.referral_decide(referral=referral, by=user_of(receiver), accept=True)
    assert (referral.status, referral.decided_by) == (ReferralStatus.ACCEPTED, user_of(receiver))


def test_someone_outside_the_receiving_organisation_cannot_answer(world: World) -> None:
    referral = ReferralFactory(case=CaseFactory(worker=worker_of(world)), to_org=world.o2)
    with pytest.raises(ValidationError) as exc:
        services.referral_decide(
            referral=referral, by=world.users[Role.SOCIAL_ORG_MANAGER], accept=True
        )
    assert _messages(exc) == ["只有接收机构的负责人可以处理转介。"]


def test_declining_needs_a_reason(world: World) -> None:
    receiver = worker_with_account(world.o2, role=Role.SOCIAL_ORG_MANAGER)
    referral = ReferralFactory(case=CaseFactory(worker=worker_of(world)), to_org=world.o2)
    with pytest.raises(ValidationError) as exc:
        services.referral_decide(referral=referral, by=user_of(receiver), accept=False)
    assert exc.value.message_dict == {"reason": ["请填写拒绝原因。"]}


# ---- counts for 资源联合 and the outputs -----------------------------------------------------


def test_the_case_counter_counts_the_taken_cases_of_a_project(world: World) -> None:
    project = project_in(world.s1, world.c1, world.o1)
    worker = worker_of(world)
    CaseFactory(worker=worker, project=project)
    CaseFactory(
        worker=worker,
        project=project,
        phase=CasePhase.CLOSED,
        closed_on=TODAY(),
        closure_reason="withdrew",
        closure_signed_at=dt.datetime.now(dt.UTC),
    )
    CaseFactory(worker=worker, project=project, phase=CasePhase.INTAKE, agreement_on=None)
    CaseFactory(
        worker=worker,
        project=project,
        phase=CasePhase.NOT_TAKEN,
        agreement_on=None,
        not_taken_reason="不符合条件",
    )
    CaseFactory(worker=worker)
    counter = counter_for(Metric.CASES)
    assert counter is not None and counter(project) == Decimal(2)


def test_a_person_with_two_cases_is_one_beneficiary(world: World) -> None:
    project = project_in(world.s1, world.c1, world.o1)
    person = PersonFactory(community=world.c1)
    CaseFactory(worker=worker_of(world), project=project, person=person)
    CaseFactory(worker=worker_of(world), project=project, person=person)
    assert set(services.beneficiary_keys(project)) == {outputs.person_key(person.pk)}


def test_contact_times_count_in_the_service_time_shares(world: World) -> None:
    CaseContactFactory(case=CaseFactory(worker=worker_of(world)))  # 19:00–20:30, outside
    shares = {
        s.label: s
        for s in outputs.service_time_shares(
            world.users[Role.SOCIAL_WORKER], TODAY() - dt.timedelta(days=7), TODAY()
        )
    }
    mine = shares["个案服务记录"]
    assert (mine.services, mine.hours, mine.hours_outside) == (1, Decimal("1.5"), Decimal("1.5"))


def test_area_staff_get_contact_times_but_no_contact_rows(world: World) -> None:
    CaseContactFactory(case=CaseFactory(worker=worker_of(world)))
    area = world.users[Role.AREA_STAFF]
    times = list(services.contact_times(area, TODAY() - dt.timedelta(days=7), TODAY()))
    assert (len(times), CaseContact.objects.visible_to(area).count()) == (1, 0)


def test_area_staff_see_counts_per_community(world: World) -> None:
    CaseFactory(worker=worker_of(world))
    CaseFactory(worker=worker_of(world), phase=CasePhase.INTAKE, agreement_on=None)
    CaseFactory(worker=worker_with_account(world.o2))
    [row] = services.case_counts(world.users[Role.AREA_STAFF])
    assert (row.community, row.by_phase) == (world.c1, {"assessment": 1, "intake": 1})
