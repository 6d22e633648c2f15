"""Pages of case work: confidentiality (who gets the file, who gets 404, who sees counts only),
the audit of every view, the export without notes, intake, and a case walked through the
pages from intake to closure with a referral."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from sanlian.core.models import AuditAction, AuditEntry
from sanlian.core.roles import Role
from sanlian.delivery.models import Case, CasePhase, Referral, ReferralStatus
from sanlian.organizations.models import SocialWorker

from ..conftest import World
from ..factories import PersonFactory
from .factories_cases import (
    NOTE,
    PROBLEM,
    TODAY,
    CaseContactFactory,
    CaseFactory,
    ReferralFactory,
    user_of,
    worker_of,
    worker_with_account,
)

pytestmark = pytest.mark.django_db

LIST = reverse("delivery:case_list")


def _client(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def _html(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


@pytest.fixture
def boss(world: World) -> SocialWorker:
    return worker_with_account(world.o1, qualification="senior")


@pytest.fixture
def case(world: World, boss: SocialWorker) -> Case:
    case: Case = CaseFactory(worker=worker_of(world), supervisor=boss)
    CaseContactFactory(case=case)
    return case


def _views_of(case: Case) -> int:
    return AuditEntry.objects.filter(
        action=AuditAction.VIEW, object_type="delivery.Case", object_id=str(case.pk)
    ).count()


# ---- confidentiality -----------------------------------------------------------------------


def test_the_worker_reads_the_case_file(world: World, case: Case) -> None:
    html = _html(world.client(Role.SOCIAL_WORKER).get(case.get_absolute_url()))
    assert (PROBLEM in html, NOTE in html) == (True, True)


def test_the_supervisor_reads_the_case_file(world: World, case: Case, boss: SocialWorker) -> None:
    html = _html(_client(user_of(boss)).get(case.get_absolute_url()))
    assert NOTE in html


def test_a_social_worker_of_another_organisation_gets_404(world: World, case: Case) -> None:
    stranger = worker_with_account(world.o2, qualification="senior")
    assert _client(user_of(stranger)).get(case.get_absolute_url()).status_code == 404


def test_a_colleague_who_is_not_on_the_case_gets_404(world: World, case: Case) -> None:
    colleague = worker_with_account(world.o1)
    assert _client(user_of(colleague)).get(case.get_absolute_url()).status_code == 404


@pytest.mark.parametrize(
    "role", [Role.COMMUNITY_CADRE, Role.AREA_STAFF, Role.FEDERATION_STAFF, Role.PARTY_SECRETARY]
)
def test_area_staff_cannot_read_the_case(world: World, case: Case, role: str) -> None:
    response = world.client(role).get(case.get_absolute_url())
    assert (response.status_code in (403, 404), NOTE in _html(response)) == (True, False)


def test_the_area_cadre_cannot_write_a_step_either(world: World, case: Case) -> None:
    url = reverse("delivery:case_step", args=[case.pk, "advance"])
    response = world.client(Role.COMMUNITY_CADRE).post(url, {"to": "planning"})
    assert response.status_code == 404


def test_the_manager_sees_the_header_without_notes(world: World, case: Case) -> None:
    html = _html(world.client(Role.SOCIAL_ORG_MANAGER).get(case.get_absolute_url()))
    assert (case.person.name in html, PROBLEM in html, NOTE in html) == (True, False, False)


def test_each_view_of_the_case_writes_an_audit_entry(world: World, case: Case) -> None:
    client = world.client(Role.SOCIAL_WORKER)
    client.get(case.get_absolute_url())
    client.get(case.get_absolute_url())
    assert _views_of(case) == 2


def test_the_managers_view_is_audited_too(world: World, case: Case) -> None:
    world.client(Role.SOCIAL_ORG_MANAGER).get(case.get_absolute_url())
    entry = AuditEntry.objects.get(action=AuditAction.VIEW, object_id=str(case.pk))
    assert (entry.actor_id, entry.changes) == (
        world.users[Role.SOCIAL_ORG_MANAGER].pk,
        {"viewed": "个案概况"},
    )


def test_html_in_a_note_is_shown_as_text(world: World, boss: SocialWorker) -> None:
    case = CaseFactory(worker=worker_of(world), supervisor=boss)
    case.presenting_problem = "<script>alert(1)</script>"
    case.save()
    html = _html(world.client(Role.SOCIAL_WORKER).get(case.get_absolute_url()))
    assert ("<script>alert(1)</script>" in html, "&lt;script&gt;alert(1)" in html) == (False, True)


# ---- lists ---------------------------------------------------------------------------------


def test_my_cases_lists_only_my_cases(world: World, case: Case) -> None:
    CaseFactory(worker=worker_with_account(world.o1))
    response = world.client(Role.SOCIAL_WORKER).get(LIST)
    assert [c.pk for c in response.context["page"]] == [case.pk]


def test_the_export_leaves_every_note_out(world: World, case: Case) -> None:
    response = world.client(Role.SOCIAL_WORKER).get(LIST, {"format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    text = " ".join(str(v) for row in rows for v in row)
    assert (len(rows), case.person.name in text, "工伤" in text, "家访" in text) == (
        2,
        True,
        False,
        False,
    )


def test_the_export_is_audited(world: World, case: Case) -> None:
    world.client(Role.SOCIAL_WORKER).get(LIST, {"format": "xlsx"})
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT, object_type="delivery.Case")
    assert entry.changes["rows"] == 1


def test_the_supervisor_queue_shows_the_closures_to_sign(world: World, boss: SocialWorker) -> None:
    waiting = CaseFactory(
        worker=worker_of(world),
        supervisor=boss,
        phase=CasePhase.CLOSING,
        closure_reason="withdrew",
    )
    CaseFactory(worker=worker_of(world), supervisor=boss)
    response = _client(user_of(boss)).get(reverse("delivery:case_queue"))
    assert [c.pk for c in response.context["page"]] == [waiting.pk]


def test_area_staff_see_counts_and_no_names(world: World, case: Case) -> None:
    response = world.client(Role.AREA_STAFF).get(reverse("delivery:case_stats"))
    html = _html(response)
    assert (response.context["total"], case.person.name in html) == (1, False)


# ---- intake and steps ----------------------------------------------------------------------


def test_a_case_is_opened_for_a_new_person(world: World, boss: SocialWorker) -> None:
    response = world.client(Role.SOCIAL_WORKER).post(
        reverse("delivery:case_create"),
        {
            "new_name": "李秀英",
            "new_sex": "F",
            "new_phone": "13900001111",
            "new_community": world.c1.pk,
            "source": "outreach",
            "problem_category": "labour",
            "presenting_problem": "被拖欠工资半年",
            "opened_on": TODAY().isoformat(),
            "supervisor": boss.pk,
        },
    )
    case = Case.objects.get(person__name="李秀英")
    assert (response.status_code, case.phase, case.supervisor) == (302, CasePhase.INTAKE, boss)


def test_intake_needs_a_person(world: World) -> None:
    response = world.client(Role.SOCIAL_WORKER).post(
        reverse("delivery:case_create"),
        {
            "source": "asked",
            "problem_category": "labour",
            "presenting_problem": "x",
            "opened_on": TODAY().isoformat(),
        },
    )
    assert response.context["form"].non_field_errors() == [
        "请选择已登记的服务对象，或填写新服务对象的姓名。"
    ]


def test_a_person_outside_scope_cannot_be_chosen(world: World) -> None:
    far = PersonFactory(community=world.c2)
    response = world.client(Role.SOCIAL_WORKER).post(
        reverse("delivery:case_create"),
        {
            "person": far.pk,
            "source": "asked",
            "problem_category": "labour",
            "presenting_problem": "x",
            "opened_on": TODAY().isoformat(),
        },
    )
    assert response.context["form"].errors["person"] == ["找不到该居民，或您无权为其建档。"]


def test_a_skipped_phase_is_refused_on_the_page(world: World, case: Case) -> None:
    url = reverse("delivery:case_step", args=[case.pk, "advance"])
    html = _html(world.client(Role.SOCIAL_WORKER).post(url, {"to": "intervention"}))
    assert "不能跳过" in html and Case.objects.get(pk=case.pk).phase == CasePhase.ASSESSMENT


def test_an_unknown_step_is_404(world: World, case: Case) -> None:
    url = reverse("delivery:case_step", args=[case.pk, "teleport"])
    assert world.client(Role.SOCIAL_WORKER).post(url).status_code == 404


# ---- referrals -----------------------------------------------------------------------------


def test_the_receiver_without_consent_sees_only_name_and_category(world: World, case: Case) -> None:
    receiver = worker_with_account(world.o2, role=Role.SOCIAL_ORG_MANAGER)
    referral = ReferralFactory(case=case, to_org=world.o2)
    html = _html(
        _client(user_of(receiver)).get(reverse("delivery:referral_detail", args=[referral.pk]))
    )
    assert (
        case.person.name in html,
        "经济困难" in html,
        "心理咨询" in html,
        case.person.phone in html,
    ) == (
        True,
        True,
        False,
        False,
    )


def test_the_receiver_accepts_on_the_page(world: World, case: Case) -> None:
    receiver = worker_with_account(world.o2, role=Role.SOCIAL_ORG_MANAGER)
    referral = ReferralFactory(case=case, to_org=world.o2)
    _client(user_of(receiver)).post(
        reverse("delivery:referral_detail", args=[referral.pk]), {"accept": "1"}
    )
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.ACCEPTED


def test_an_uninvolved_organisation_gets_404_on_a_referral(world: World, case: Case) -> None:
    referral = ReferralFactory(case=case, to_org=world.o2)
    other = worker_with_account(world.o2, role=Role.SOCIAL_WORKER)
    url = reverse("delivery:referral_detail", args=[referral.pk])
    assert _client(user_of(other)).get(url).status_code == 404


# ---- the whole way, through the pages ------------------------------------------------------


def test_the_referral_form_draws_the_street_and_finds_any_other_by_search(
    world: World, case: Case
) -> None:
    """A city has thousands of organisations: the form draws those of the person's street
    and its search box finds the rest (name or pinyin initials); any of them may be chosen."""
    worker = world.client(Role.SOCIAL_WORKER)
    form = _html(worker.get(reverse("delivery:case_detail", args=[case.pk])))
    refer = form[form.index('id="id_refer_to_org"') :].split("</select>")[0]
    assert (world.party1.name in refer, world.o2.name in refer) == (True, False)
    assert world.o1.name not in refer  # the case's own organisation
    search = reverse("delivery:referral_targets", args=[case.pk])
    assert 'hx-get="' + search in form
    found = [_html(worker.get(search, {"q": q})) for q in ("同心", "txsg", "不存在的机构")]
    assert [f'value="{world.o2.pk}"' in html for html in found] == [True, True, False]
    assert "没有找到" in found[2]
    outsider = world.client(Role.COMMUNITY_CADRE)
    assert outsider.get(search, {"q": "同心"}).status_code in (403, 404)


def test_a_case_from_intake_to_closure_with_a_referral(world: World, boss: SocialWorker) -> None:
    worker, supervisor = world.client(Role.SOCIAL_WORKER), _client(user_of(boss))
    person = PersonFactory(community=world.c1)
    # A worker opens a case for someone they see: here, the person of a case they held before.
    CaseFactory(
        worker=worker_of(world),
        person=person,
        phase=CasePhase.NOT_TAKEN,
        agreement_on=None,
        not_taken_reason="重复",
    )
    worker.post(
        reverse("delivery:case_create"),
        {
            "person": person.pk,
            "source": "asked",
            "problem_category": "family",
            "presenting_problem": "与儿子关系紧张",
            "opened_on": TODAY().isoformat(),
            "supervisor": boss.pk,
        },
    )
    case = Case.objects.get(person=person, phase=CasePhase.INTAKE)

    def step(client: Client, name: str, data: dict[str, str] | None = None) -> None:
        response = client.post(reverse("delivery:case_step", args=[case.pk, name]), data or {})
        assert response.status_code == 302, _html(response)

    today = TODAY().isoformat()
    step(worker, "intake", {"take": "1", "agreement_on": today})
    step(worker, "consent", {"consent_on": today, "method": "oral", "witness": "居委会王主任"})
    step(
        worker,
        "assessment",
        {"problems": "沟通少", "summary": "需改善亲子沟通", "health": "高血压"},
    )
    step(worker, "advance", {"to": "planning"})
    step(worker, "plan", {"aims": "改善亲子关系"})
    step(worker, "goal-add", {"goal": "每周一次家庭对话", "measure": "对话记录"})
    step(worker, "plan-submit")
    step(supervisor, "plan-sign")
    step(worker, "advance", {"to": "intervention"})
    step(
        worker,
        "contact",
        {
            "served_on": today,
            "start_time": "18:30",
            "end_time": "19:30",
            "kind": "home",
            "notes": "家庭会谈",
        },
    )
    step(
        worker,
        "refer",
        {
            "to_org": world.o2.pk,
            "reason": "需家庭治疗",
            "share_basis": "consent",
            "consent_on": today,
            "summary": "亲子冲突",
        },
    )
    step(worker, "advance", {"to": "evaluation"})
    goal = case.goals.get()
    step(worker, "goal-rate", {"goal_id": str(goal.pk), "attainment": "mostly", "note": ""})
    step(worker, "evaluation", {"summary": "关系明显改善"})
    step(worker, "close", {"reason": "goals_met", "summary": "结案"})
    step(supervisor, "closure-sign")
    step(worker, "follow-up", {"visited_on": today, "kind": "phone", "notes": "关系稳定"})
    case.refresh_from_db()
    assert (case.phase, case.health, case.referrals.get().summary, case.follow_ups.count()) == (
        CasePhase.CLOSED,
        "高血压",
        "亲子冲突",
        1,
    )


@pytest.mark.parametrize(
    "phase",
    [
        CasePhase.INTAKE,
        CasePhase.ASSESSMENT,
        CasePhase.PLANNING,
        CasePhase.INTERVENTION,
        CasePhase.EVALUATION,
        CasePhase.CLOSING,
    ],
)
def test_the_case_file_offers_the_steps_of_its_phase(
    world: World, boss: SocialWorker, phase: str
) -> None:
    case = CaseFactory(
        worker=worker_of(world),
        supervisor=boss,
        phase=phase,
        agreement_on=None if phase == CasePhase.INTAKE else TODAY(),
        closure_reason="withdrew" if phase == CasePhase.CLOSING else "",
    )
    expected = {
        CasePhase.INTAKE: "step-intake",
        CasePhase.ASSESSMENT: "step-assessment",
        CasePhase.PLANNING: "step-plan",
        CasePhase.INTERVENTION: "step-contact",
        CasePhase.EVALUATION: "step-evaluation",
        CasePhase.CLOSING: "step-closure-sign",
    }[phase]
    client = (
        _client(user_of(boss)) if phase == CasePhase.CLOSING else world.client(Role.SOCIAL_WORKER)
    )
    assert f'data-testid="{expected}"' in _html(client.get(case.get_absolute_url()))


def test_a_closed_case_offers_the_follow_up(world: World, boss: SocialWorker) -> None:
    case = CaseFactory(
        worker=worker_of(world),
        supervisor=boss,
        phase=CasePhase.CLOSED,
        closure_reason="withdrew",
        closure_signed_at=timezone.now(),
        closed_on=TODAY(),
    )
    html = _html(world.client(Role.SOCIAL_WORKER).get(case.get_absolute_url()))
    assert 'data-testid="step-follow-up"' in html


def test_the_referral_list_shows_the_incoming_referrals(world: World, case: Case) -> None:
    receiver = worker_with_account(world.o2, role=Role.SOCIAL_ORG_MANAGER)
    referral = ReferralFactory(case=case, to_org=world.o2)
    response = _client(user_of(receiver)).get(reverse("delivery:referral_list"))
    assert (
        [v.referral.pk for v in response.context["incoming"]],
        response.context["outgoing"],
    ) == ([referral.pk], [])
