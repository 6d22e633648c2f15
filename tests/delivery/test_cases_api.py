"""JSON API of case work: one's own cases, notes for the case team only (audited), contact
records written through the page's form and service; outside scope is 404."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from sanlian.core.models import AuditAction, AuditEntry
from sanlian.core.roles import Role
from sanlian.delivery.models import Case, CasePhase

from ..conftest import World
from .factories_cases import (
    PROBLEM,
    TODAY,
    CaseFactory,
    user_of,
    worker_of,
    worker_with_account,
)

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def _client(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def _contact(**fields: str) -> dict[str, str]:
    body = {
        "served_on": TODAY().isoformat(),
        "start_time": "19:00",
        "end_time": "20:00",
        "kind": "phone",
        "notes": "电话跟进求职进展",
    }
    body.update(fields)
    return body


@pytest.fixture
def case(world: World) -> Case:
    return CaseFactory(worker=worker_of(world), phase=CasePhase.INTERVENTION)


def test_the_schema_lists_the_endpoints(client: Client) -> None:
    paths = set(client.get("/api/openapi.json").json()["paths"])
    assert {"/api/cases", "/api/cases/{case_id}", "/api/cases/{case_id}/contacts"} <= paths


def test_the_list_holds_only_ones_own_cases(world: World, case: Case) -> None:
    CaseFactory(worker=worker_with_account(world.o1))
    items = world.client(Role.SOCIAL_WORKER).get("/api/cases").json()["items"]
    assert [c["id"] for c in items] == [case.pk]


def test_the_list_carries_no_note(world: World, case: Case) -> None:
    body = world.client(Role.SOCIAL_WORKER).get("/api/cases").content.decode()
    assert "工伤" not in body


def test_the_worker_reads_the_notes(world: World, case: Case) -> None:
    body = world.client(Role.SOCIAL_WORKER).get(f"/api/cases/{case.pk}").json()
    assert body["notes"]["presenting_problem"] == PROBLEM


def test_the_manager_gets_the_header_without_notes(world: World, case: Case) -> None:
    body = world.client(Role.SOCIAL_ORG_MANAGER).get(f"/api/cases/{case.pk}").json()
    assert (body["id"], body["notes"]) == (case.pk, None)


def test_reading_a_case_is_audited(world: World, case: Case) -> None:
    world.client(Role.SOCIAL_WORKER).get(f"/api/cases/{case.pk}")
    assert AuditEntry.objects.filter(action=AuditAction.VIEW, object_id=str(case.pk)).count() == 1


def test_another_organisations_worker_gets_404(world: World, case: Case) -> None:
    stranger = worker_with_account(world.o2)
    assert _client(user_of(stranger)).get(f"/api/cases/{case.pk}").status_code == 404


def test_the_area_cadre_gets_404(world: World, case: Case) -> None:
    response = world.client(Role.COMMUNITY_CADRE).get(f"/api/cases/{case.pk}/contacts")
    assert response.status_code == 404


def test_the_manager_cannot_list_contact_notes(world: World, case: Case) -> None:
    response = world.client(Role.SOCIAL_ORG_MANAGER).get(f"/api/cases/{case.pk}/contacts")
    assert response.status_code == 404


def test_a_contact_record_is_written(world: World, case: Case) -> None:
    client = world.client(Role.SOCIAL_WORKER)
    created = _post(client, f"/api/cases/{case.pk}/contacts", _contact())
    listed = client.get(f"/api/cases/{case.pk}/contacts").json()
    assert (created.status_code, [c["notes"] for c in listed]) == (201, ["电话跟进求职进展"])


def test_a_contact_ending_before_it_starts_is_refused(world: World, case: Case) -> None:
    response = _post(
        world.client(Role.SOCIAL_WORKER),
        f"/api/cases/{case.pk}/contacts",
        _contact(start_time="20:00", end_time="19:00"),
    )
    assert response.json()["detail"] == {"end_time": ["结束时间须晚于开始时间。"]}


def test_a_contact_for_a_case_in_assessment_is_refused(world: World) -> None:
    case = CaseFactory(worker=worker_of(world))
    response = _post(world.client(Role.SOCIAL_WORKER), f"/api/cases/{case.pk}/contacts", _contact())
    assert (response.status_code, response.json()["detail"]["__all__"]) == (
        400,
        ["个案当前处于“预估”阶段，不能记录介入服务（须在“介入、评估”阶段）。"],
    )


def test_a_contact_without_a_case_is_404(world: World) -> None:
    response = _post(world.client(Role.SOCIAL_WORKER), "/api/cases/999999/contacts", _contact())
    assert response.status_code == 404


def test_a_contact_for_a_case_out_of_scope_is_404(world: World) -> None:
    far = CaseFactory(worker=worker_with_account(world.o2), phase=CasePhase.INTERVENTION)
    response = _post(world.client(Role.SOCIAL_WORKER), f"/api/cases/{far.pk}/contacts", _contact())
    assert response.status_code == 404


def test_the_supervisor_cannot_write_a_contact(world: World) -> None:
    boss = worker_with_account(world.o1, qualification="senior")
    case = CaseFactory(worker=worker_of(world), supervisor=boss, phase=CasePhase.INTERVENTION)
    response = _post(_client(user_of(boss)), f"/api/cases/{case.pk}/contacts", _contact())
    assert response.json()["detail"]["__all__"] == ["只有负责社工可以填写个案记录。"]
