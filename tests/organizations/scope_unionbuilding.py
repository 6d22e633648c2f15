"""Scope cases of union building and Trade Union Law training (collected by
tests/core/test_scoping.py)."""

from __future__ import annotations

from typing import Any

from sanlian.core.roles import Role as R

from .factories_cobuilding import (
    TrainingAttendanceFactory,
    TrainingSessionFactory,
    UnionBuildingFactory,
)

SEEN = {
    R.FEDERATION_STAFF: "AB",
    R.AREA_STAFF: "A",
    R.COMMUNITY_CADRE: "A",
    R.PARTY_SECRETARY: "A",
    R.SOCIAL_ORG_MANAGER: "A",  # its own organisation
}


def _snapshots(w: Any) -> tuple[Any, Any]:
    return UnionBuildingFactory(organization=w.o1), UnionBuildingFactory(organization=w.o2)


def _sessions(w: Any) -> tuple[Any, Any]:
    # A is organised by D1 above K1: the community roles see it because O1's staff attended.
    near = TrainingSessionFactory(organiser=w.d1)
    far = TrainingSessionFactory(organiser=w.d2)
    TrainingAttendanceFactory(session=near, organization=w.o1)
    TrainingAttendanceFactory(session=far, organization=w.o2)
    return near, far


def _attendance(w: Any) -> tuple[Any, Any]:
    # Attendance follows the attendee's organisation, not the organiser: A is O1's attendee at
    # a session organised in D2, B is O2's attendee at a session organised in D1.
    return (
        TrainingAttendanceFactory(
            session=TrainingSessionFactory(organiser=w.d2), organization=w.o1
        ),
        TrainingAttendanceFactory(
            session=TrainingSessionFactory(organiser=w.d1), organization=w.o2
        ),
    )


CASES = {
    "organizations.UnionBuilding": (_snapshots, SEEN),
    "organizations.TrainingSession": (_sessions, SEEN),
    "organizations.TrainingAttendance": (_attendance, SEEN),
}
