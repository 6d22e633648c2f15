"""Scope cases of the volunteer hour logs (collected by tests/core/test_scoping.py)."""

from __future__ import annotations

from typing import Any

from sanlian.core.roles import Role as R

from ..factories import PersonFactory, VolunteerFactory
from .factories_workforce import VolunteerHourLogFactory


def _hour_logs(w: Any) -> tuple[Any, Any]:
    # A: the signed-in volunteer's own entry in T1 (K1); B: a stranger's entry in T2 (K2).
    mine = VolunteerHourLogFactory(volunteer=w.people["volunteer"].volunteer)
    far = VolunteerHourLogFactory(
        volunteer=VolunteerFactory(person=PersonFactory(community=w.c2), team=w.t2)
    )
    return mine, far


CASES = {
    "organizations.VolunteerHourLog": (
        _hour_logs,
        {
            R.FEDERATION_STAFF: "AB",
            R.AREA_STAFF: "A",
            R.COMMUNITY_CADRE: "A",
            R.PARTY_SECRETARY: "A",
            R.VOLUNTEER: "A",  # their own
        },
    ),
}
