"""The money guarantees under concurrency (PostgreSQL; SQLite runs one writer at a time).

24 threads at one contract at the same moment, three times: duplicate requests for the same
tranches (some with the same request key, some with different keys), approvals of the same
disbursements by the same and by different people (and by the requester), then payments
clicked at once by several approvers with late requests mixed in. Afterwards the totals
hold: one live disbursement per tranche, no self or duplicate approval, each tranche paid
once, project and pool totals equal to what was paid and within their bounds, and the
ledger holding exactly the money paid."""

from __future__ import annotations

import os
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F, Sum

from sanlian.core.models import AuditEntry, User
from sanlian.core.roles import Role
from sanlian.resources.models import (
    BudgetPool,
    Disbursement,
    DisbursementApproval,
    DisbursementStatus,
    Milestone,
    MilestoneStatus,
    ResourceEntry,
    ServiceProject,
)
from sanlian.resources.models.projects import LIVE_DISBURSEMENT
from sanlian.resources.services import projects as services

from ..conftest import build_world
from ..factories import CommunityFactory, UserFactory
from .factories import project_in

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgres" not in os.environ.get("DATABASE_URL", ""),
        reason="row locks need PostgreSQL (SQLite serialises whole transactions)",
    ),
]

R = Role
THREADS = 24
Outcome = tuple[str, Any]


def _race(jobs: list[Callable[[], Any]]) -> list[Outcome]:
    """Run every job in its own thread, all released at once; each ends with its outcome:
    ("ok", result), ("refused", Chinese messages) or ("error", anything else)."""
    barrier = threading.Barrier(len(jobs), timeout=60)
    outcomes: list[Outcome] = [("error", "did not run")] * len(jobs)

    def run(i: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            outcomes[i] = ("ok", job())
        except ValidationError as exc:
            outcomes[i] = ("refused", exc.messages)
        except Exception as exc:  # any other failure is a finding
            outcomes[i] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def _errors(outcomes: list[Outcome]) -> list[Any]:
    return [detail for kind, detail in outcomes if kind == "error"]


@pytest.fixture
def scene(settings: Any) -> dict[str, Any]:
    # 40,000 (the middle tranche) needs two approvers; 30,000 needs one.
    settings.DISBURSEMENT_FOUR_EYES_ABOVE = "35000"
    world = build_world()
    project = project_in(world.d1, world.c1, world.o1)
    project.communities.add(CommunityFactory(street_org=world.s1))
    Milestone.objects.filter(project=project).update(status=MilestoneStatus.ACCEPTED)
    funders = [UserFactory(organization=world.d1, roles=[R.AREA_STAFF]) for _ in range(6)]
    return {
        "world": world,
        "project": project,
        "tranches": list(project.tranches.order_by("seq")),
        "manager": world.users[R.SOCIAL_ORG_MANAGER],
        "funders": funders,
        "city": world.users[R.FEDERATION_STAFF],
    }


def _request(tranche: Any, by: User, key: uuid.UUID) -> Callable[[], Any]:
    def job() -> int:
        d, _created = services.disbursement_request(tranche=tranche, by=by, request_key=key)
        return d.pk

    return job


def _approve(d: Disbursement, by: User) -> Callable[[], Any]:
    return lambda: services.disbursement_approve(disbursement=d, by=by).pk


def _pay(d: Disbursement, by: User) -> Callable[[], Any]:
    return lambda: services.disbursement_pay(disbursement=d, by=by).pk


def test_twenty_four_threads_at_one_contract(scene: dict[str, Any]) -> None:
    project: ServiceProject = scene["project"]
    tranches = scene["tranches"]
    manager: User = scene["manager"]
    funders: list[User] = scene["funders"]

    # 1. Requests: per tranche, four retries of one request (one key) and four others.
    shared = {t.pk: uuid.uuid4() for t in tranches}
    jobs: list[Callable[[], Any]] = []
    for t in tranches:
        jobs += [_request(t, manager, shared[t.pk]) for _ in range(4)]
        jobs += [_request(t, manager if i % 2 else funders[5], uuid.uuid4()) for i in range(4)]
    assert len(jobs) >= 20
    outcomes = _race(jobs)
    assert _errors(outcomes) == []
    live = {
        d.tranche_id: d
        for d in Disbursement.objects.filter(project=project, status__in=LIVE_DISBURSEMENT)
    }
    # One live disbursement per tranche, and every accepted request (first or retried) is it.
    assert Counter(
        Disbursement.objects.filter(project=project, status__in=LIVE_DISBURSEMENT).values_list(
            "tranche_id", flat=True
        )
    ) == Counter({t.pk: 1 for t in tranches})
    assert {detail for kind, detail in outcomes if kind == "ok"} == {d.pk for d in live.values()}
    assert Disbursement.objects.filter(project=project).count() == len(tranches)

    # 2. Approvals: the same approver twice, different approvers, and the requester.
    jobs = []
    for d in live.values():
        approvers = [funders[0], funders[0], funders[1], funders[1], funders[2], scene["city"]]
        jobs += [_approve(d, a) for a in approvers]
        jobs += [_approve(d, d.requested_by), _approve(d, funders[3])]
    outcomes = _race(jobs)
    assert _errors(outcomes) == []
    for d in Disbursement.objects.filter(project=project).prefetch_related("approvals"):
        approvers = [a.approver_id for a in d.approvals.all()]
        assert d.status == DisbursementStatus.APPROVED
        assert len(approvers) == d.approvals_required  # no approval after the last needed
        assert len(set(approvers)) == len(approvers)  # no one twice
        assert d.requested_by_id not in approvers  # never the requester
    assert list(
        Disbursement.objects.filter(project=project)
        .order_by("tranche__seq")
        .values_list("approvals_required", flat=True)
    ) == [1, 2, 1]

    # 3. Payments clicked at once by several people, with late requests for the same tranches.
    jobs = []
    for d in live.values():
        jobs += [_pay(d, by) for by in [*funders[:5], scene["city"]]]
        jobs += [_request(d.tranche, manager, uuid.uuid4()) for _ in range(2)]
    outcomes = _race(jobs)
    assert _errors(outcomes) == []
    assert sum(1 for kind, _ in outcomes if kind == "ok") == len(tranches)

    paid = Disbursement.objects.filter(project=project, status=DisbursementStatus.PAID)
    paid_total = paid.aggregate(s=Sum("amount"))["s"]
    project.refresh_from_db()
    pool = BudgetPool.objects.get(pk=project.pool_id)
    pool_paid = Disbursement.objects.filter(
        project__pool=pool, status=DisbursementStatus.PAID
    ).aggregate(s=Sum("amount"))["s"]
    assert paid.count() == len(tranches)  # every tranche paid, once
    assert project.disbursed == paid_total == Decimal("100000.00") <= project.amount
    assert pool.disbursed == pool_paid <= pool.contracted
    assert (
        ResourceEntry.objects.filter(project=project).aggregate(s=Sum("value"))["s"] == paid_total
    )
    assert not DisbursementApproval.objects.filter(
        disbursement__project=project, approver_id=F("disbursement__requested_by_id")
    ).exists()
    pays = [
        e.changes.get("transition")
        for e in AuditEntry.objects.filter(object_type="resources.Disbursement")
    ].count("pay")
    assert pays == len(tranches)
