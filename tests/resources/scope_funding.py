"""Scope cases of pools, calls, criteria, reviewers, applications, budget lines, reviews and
scores (collected by tests/core/test_scoping.py).

A is funded by D1 (a call for K1, applied to by O1, reviewed by the evaluator); B is funded
by D2 (a call for K2, applied to by O2, reviewed by someone else)."""

from __future__ import annotations

from typing import Any

from sanlian.core.roles import Role as R

from ..factories import UserFactory
from .factories import (
    BudgetLineFactory,
    BudgetPoolFactory,
    CallReviewerFactory,
    ReviewFactory,
    ReviewScoreFactory,
    application_to,
    call_of,
)

FUNDERS = {R.FEDERATION_STAFF: "AB", R.AREA_STAFF: "A"}

# A published call is seen by its level, by the communities it targets and by the social
# organisations below its level; an evaluator sees the calls it reviews.
CALLS = {
    **FUNDERS,
    R.COMMUNITY_CADRE: "A",
    R.PARTY_SECRETARY: "A",
    R.SOCIAL_ORG_MANAGER: "A",
    R.SOCIAL_WORKER: "A",
    R.EVALUATOR: "A",
}

# Applications: the funding level, the applicant, the reviewers of the call.
APPLICATIONS = {**FUNDERS, R.SOCIAL_ORG_MANAGER: "A", R.SOCIAL_WORKER: "A", R.EVALUATOR: "A"}

# Reviews: the funding level and the reviewer.
REVIEWS = {**FUNDERS, R.EVALUATOR: "A"}


def _pools(w: Any) -> tuple[Any, Any]:
    return BudgetPoolFactory(owner=w.d1), BudgetPoolFactory(owner=w.d2)


def _calls(w: Any) -> tuple[Any, Any]:
    return (
        call_of(w.d1, communities=[w.c1], reviewers=[w.users[R.EVALUATOR]]),
        call_of(w.d2, communities=[w.c2], reviewers=[UserFactory()]),
    )


def _criteria(w: Any) -> tuple[Any, Any]:
    near, far = _calls(w)
    return near.criteria.first(), far.criteria.first()


def _reviewers(w: Any) -> tuple[Any, Any]:
    near = call_of(w.d1, communities=[w.c1])
    far = call_of(w.d2, communities=[w.c2])
    return (
        CallReviewerFactory(call=near, reviewer=w.users[R.EVALUATOR]),
        CallReviewerFactory(call=far, reviewer=UserFactory()),
    )


def _applications(w: Any) -> tuple[Any, Any]:
    near, far = _calls(w)
    return application_to(near, w.o1), application_to(far, w.o2)


def _lines(w: Any) -> tuple[Any, Any]:
    near, far = _applications(w)
    return BudgetLineFactory(application=near), BudgetLineFactory(application=far)


def _reviews(w: Any) -> tuple[Any, Any]:
    near, far = _applications(w)
    return (
        ReviewFactory(application=near, reviewer=w.users[R.EVALUATOR]),
        ReviewFactory(application=far, reviewer=UserFactory()),
    )


def _scores(w: Any) -> tuple[Any, Any]:
    near, far = _reviews(w)
    return ReviewScoreFactory(review=near), ReviewScoreFactory(review=far)


CASES = {
    "resources.BudgetPool": (_pools, FUNDERS),
    "resources.ProjectCall": (_calls, CALLS),
    "resources.CallCriterion": (_criteria, CALLS),
    "resources.CallReviewer": (_reviewers, REVIEWS),
    "resources.Application": (_applications, APPLICATIONS),
    "resources.BudgetLine": (_lines, APPLICATIONS),
    "resources.Review": (_reviews, REVIEWS),
    "resources.ReviewScore": (_scores, REVIEWS),
}
