"""Scope cases of projects and their children (collected by tests/core/test_scoping.py).

A is funded by D1 for community C1 and delivered by O1, with its mid-term evaluation
assigned to the evaluator organisation; B is funded by D2 for C2, delivered by O2, with an
evaluation assigned to another evaluator's account. Children are seen with their project."""

from __future__ import annotations

from typing import Any

from sanlian.core.roles import Role as R
from sanlian.organizations.models import OrgKind

from ..factories import OrganizationFactory, UserFactory
from .factories import (
    DisbursementApprovalFactory,
    DisbursementFactory,
    EvaluationFactory,
    MilestoneEvidenceFactory,
    ProjectIndicatorFactory,
    project_in,
)

SEEN = {
    R.FEDERATION_STAFF: "AB",
    R.AREA_STAFF: "A",  # D1 funds A (and C1 is in D1)
    R.COMMUNITY_CADRE: "A",  # A serves C1
    R.PARTY_SECRETARY: "A",
    R.SOCIAL_ORG_MANAGER: "A",  # O1 delivers A
    R.SOCIAL_WORKER: "A",
    R.EVALUATOR: "A",  # assigned to the evaluator's organisation
}


def _projects(w: Any) -> tuple[Any, Any]:
    near = project_in(w.d1, w.c1, w.o1)
    far = project_in(w.d2, w.c2, w.o2)
    EvaluationFactory(project=near, evaluator_org=w.evaluator_org)
    other_org = OrganizationFactory(kind=OrgKind.EVALUATOR, parent=w.city, credit_code=None)
    other = UserFactory(organization=other_org, roles=[R.EVALUATOR])
    EvaluationFactory(project=far, evaluator=other, evaluator_org=other_org)
    return near, far


def _indicators(w: Any) -> tuple[Any, Any]:
    near, far = _projects(w)
    return ProjectIndicatorFactory(project=near), ProjectIndicatorFactory(project=far)


def _milestones(w: Any) -> tuple[Any, Any]:
    near, far = _projects(w)
    return near.milestones.get(seq=1), far.milestones.get(seq=1)


def _evidence(w: Any) -> tuple[Any, Any]:
    near, far = _milestones(w)
    # A stored name only: no file is written for a scoping case.
    return (
        MilestoneEvidenceFactory(milestone=near, file="evidence/a.pdf"),
        MilestoneEvidenceFactory(milestone=far, file="evidence/b.pdf"),
    )


def _tranches(w: Any) -> tuple[Any, Any]:
    near, far = _projects(w)
    return near.tranches.get(seq=1), far.tranches.get(seq=1)


def _disbursements(w: Any) -> tuple[Any, Any]:
    near, far = _tranches(w)
    return (
        DisbursementFactory(tranche=near, requested_by=w.users[R.SOCIAL_ORG_MANAGER]),
        DisbursementFactory(tranche=far, requested_by=w.users[R.SOCIAL_ORG_MANAGER]),
    )


def _approvals(w: Any) -> tuple[Any, Any]:
    near, far = _disbursements(w)
    return (
        DisbursementApprovalFactory(disbursement=near, approver=w.users[R.AREA_STAFF]),
        DisbursementApprovalFactory(disbursement=far, approver=w.users[R.FEDERATION_STAFF]),
    )


def _evaluations(w: Any) -> tuple[Any, Any]:
    near, far = _projects(w)
    return near.evaluations.get(), far.evaluations.get()


CASES = {
    "resources.ServiceProject": (_projects, SEEN),
    "resources.ProjectIndicator": (_indicators, SEEN),
    "resources.Milestone": (_milestones, SEEN),
    "resources.MilestoneEvidence": (_evidence, SEEN),
    "resources.Tranche": (_tranches, SEEN),
    "resources.Disbursement": (_disbursements, SEEN),
    "resources.DisbursementApproval": (_approvals, SEEN),
    "resources.Evaluation": (_evaluations, SEEN),
}
