"""Scope cases of group work (collected by tests/core/test_scoping.py). A is a group in K1
led by a social worker of O1; B a group in K2 led by a social worker of O2. Members, sessions
and attendance follow their group."""

from __future__ import annotations

from typing import Any

from sanlian.core.roles import Role as R

from .factories_groups import (
    GroupAttendanceFactory,
    GroupFactory,
    GroupMemberFactory,
    GroupSessionFactory,
    worker_in,
)


def _groups(w: Any) -> tuple[Any, Any]:
    return (
        GroupFactory(leader=worker_in(w.o1, w.c1), community=w.c1),
        GroupFactory(leader=worker_in(w.o2, w.c2), community=w.c2),
    )


def _members(w: Any) -> tuple[Any, Any]:
    a, b = _groups(w)
    return GroupMemberFactory(group=a), GroupMemberFactory(group=b)


def _sessions(w: Any) -> tuple[Any, Any]:
    a, b = _groups(w)
    return GroupSessionFactory(group=a), GroupSessionFactory(group=b)


def _attendance(w: Any) -> tuple[Any, Any]:
    a, b = _members(w)
    return (
        GroupAttendanceFactory(session=GroupSessionFactory(group=a.group), member=a),
        GroupAttendanceFactory(session=GroupSessionFactory(group=b.group), member=b),
    )


# Area roles by the community; the leader's social organisation (manager and social workers).
SEEN = {
    R.FEDERATION_STAFF: "AB",
    R.AREA_STAFF: "A",
    R.COMMUNITY_CADRE: "A",
    R.PARTY_SECRETARY: "A",
    R.SOCIAL_ORG_MANAGER: "A",
    R.SOCIAL_WORKER: "A",
}

CASES = {
    "delivery.Group": (_groups, SEEN),
    "delivery.GroupMember": (_members, SEEN),
    "delivery.GroupSession": (_sessions, SEEN),
    "delivery.GroupAttendance": (_attendance, SEEN),
}
