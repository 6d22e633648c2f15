"""Scope cases of case work (collected by tests/core/test_scoping.py). A is a case of O1's
social worker (the world's `social_worker`) for a resident of C1; B a case of an O2 worker in C2.
Only the case's worker (and supervisor) read its notes; O1's manager sees O1's case files'
headers; area staff see no case rows (counts only); a referral is also seen by the receiving
organisation (B is referred from O2 to O1)."""

from __future__ import annotations

from typing import Any

from sanlian.core.roles import Role as R

from .factories_cases import (
    CaseContactFactory,
    CaseFactory,
    CaseFollowUpFactory,
    CaseGoalFactory,
    ReferralFactory,
    worker_of,
    worker_with_account,
)


def _cases(w: Any) -> tuple[Any, Any]:
    return CaseFactory(worker=worker_of(w)), CaseFactory(worker=worker_with_account(w.o2))


def _goals(w: Any) -> tuple[Any, Any]:
    a, b = _cases(w)
    return CaseGoalFactory(case=a), CaseGoalFactory(case=b)


def _contacts(w: Any) -> tuple[Any, Any]:
    a, b = _cases(w)
    return CaseContactFactory(case=a), CaseContactFactory(case=b)


def _follow_ups(w: Any) -> tuple[Any, Any]:
    a, b = _cases(w)
    return CaseFollowUpFactory(case=a), CaseFollowUpFactory(case=b)


def _referrals(w: Any) -> tuple[Any, Any]:
    a, b = _cases(w)
    return ReferralFactory(case=a, to_org=w.o2), ReferralFactory(case=b, to_org=w.o1)


TEAM_ONLY = {R.SOCIAL_WORKER: "A"}

CASES = {
    "delivery.Case": (_cases, {R.SOCIAL_WORKER: "A", R.SOCIAL_ORG_MANAGER: "A"}),
    "delivery.CaseGoal": (_goals, TEAM_ONLY),
    "delivery.CaseContact": (_contacts, TEAM_ONLY),
    "delivery.CaseFollowUp": (_follow_ups, TEAM_ONLY),
    "delivery.Referral": (_referrals, {R.SOCIAL_WORKER: "A", R.SOCIAL_ORG_MANAGER: "AB"}),
}
