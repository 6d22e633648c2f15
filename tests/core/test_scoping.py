"""Every model, every role: what `visible_to` returns. A model without a case here fails."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.db import models

from sanlian.core.roles import Role
from sanlian.core.scoping import ScopedQuerySet, scope_for
from sanlian.organizations.models import OrgKind

from ..conftest import World
from ..factories import (
    ApiTokenFactory,
    MembershipFactory,
    OrganizationFactory,
    PersonFactory,
    SocialWorkerFactory,
    TaskRunFactory,
    UserFactory,
    VolunteerFactory,
    audit_entry,
)

R = Role
ALL_ROLES = list(Role)

# Models that are not domain records of their own: Django's join tables and the like.
EXEMPT: dict[str, str] = {}

Maker = Callable[[World], tuple[models.Model, models.Model]]


def _users(w: World) -> tuple[Any, Any]:
    return (
        UserFactory(organization=w.c1.organization),
        UserFactory(organization=w.c2.organization),
    )


def _grants(w: World) -> tuple[Any, Any]:
    a, b = _users(w)
    return (
        a.role_grants.create(role=R.COMMUNITY_CADRE),
        b.role_grants.create(role=R.COMMUNITY_CADRE),
    )


def _people(w: World) -> tuple[Any, Any]:
    return (
        PersonFactory(community=w.c1, employer=w.o1),
        PersonFactory(community=w.c2, employer=w.o2),
    )


def _memberships(w: World) -> tuple[Any, Any]:
    a, b = _people(w)
    return MembershipFactory(person=a), MembershipFactory(person=b)


# model label -> (maker of a "near" object A in D1/K1/O1 and a "far" object B in D2/K2/O2,
#                 {role: the subset of "AB" that role must see})
CASES: dict[str, tuple[Maker, dict[str, str]]] = {
    "core.User": (
        _users,
        {R.SYSTEM_ADMIN: "AB", R.SECURITY_ADMIN: "AB"},
    ),
    "core.RoleGrant": (
        _grants,
        {R.SYSTEM_ADMIN: "AB", R.SECURITY_ADMIN: "AB"},
    ),
    "core.AuditEntry": (
        lambda w: (audit_entry(object_repr="a"), audit_entry(object_repr="b")),
        {R.AUDIT_ADMIN: "AB"},
    ),
    "core.ApiToken": (
        lambda w: (
            ApiTokenFactory(user=w.users[R.AREA_STAFF]),
            ApiTokenFactory(user=w.users[R.COMMUNITY_CADRE]),
        ),
        {R.AREA_STAFF: "A", R.COMMUNITY_CADRE: "B"},
    ),
    "core.TaskRun": (
        lambda w: (
            TaskRunFactory(created_by=w.users[R.AREA_STAFF]),
            TaskRunFactory(created_by=w.users[R.SOCIAL_WORKER]),
        ),
        {R.AREA_STAFF: "A", R.SOCIAL_WORKER: "B"},
    ),
    "organizations.Organization": (
        lambda w: (
            OrganizationFactory(
                kind=OrgKind.ENTERPRISE, parent=w.c1.organization, credit_code=None
            ),
            OrganizationFactory(
                kind=OrgKind.ENTERPRISE, parent=w.c2.organization, credit_code=None
            ),
        ),
        {
            R.FEDERATION_STAFF: "AB",
            R.AREA_STAFF: "A",
            R.COMMUNITY_CADRE: "A",
            R.PARTY_SECRETARY: "A",
        },
    ),
    "organizations.Community": (
        lambda w: (w.c1, w.c2),
        {
            R.FEDERATION_STAFF: "AB",
            R.AREA_STAFF: "A",
            R.COMMUNITY_CADRE: "A",
            R.PARTY_SECRETARY: "A",
            # organisations based in a community see that community
            R.SOCIAL_ORG_MANAGER: "A",
            R.SOCIAL_WORKER: "A",
            R.VOLUNTEER: "A",
        },
    ),
    "organizations.Person": (
        _people,
        {
            R.FEDERATION_STAFF: "AB",
            R.AREA_STAFF: "A",
            R.COMMUNITY_CADRE: "A",
            R.PARTY_SECRETARY: "A",
            R.SOCIAL_ORG_MANAGER: "A",  # its own staff
        },
    ),
    "organizations.Membership": (
        _memberships,
        {
            R.FEDERATION_STAFF: "AB",
            R.AREA_STAFF: "A",
            R.COMMUNITY_CADRE: "A",
            R.PARTY_SECRETARY: "A",
            R.SOCIAL_ORG_MANAGER: "A",
        },
    ),
    "organizations.SocialWorker": (
        lambda w: (
            SocialWorkerFactory(person=PersonFactory(community=w.c1), organization=w.o1),
            SocialWorkerFactory(person=PersonFactory(community=w.c2), organization=w.o2),
        ),
        {
            R.FEDERATION_STAFF: "AB",
            R.AREA_STAFF: "A",
            R.COMMUNITY_CADRE: "A",
            R.PARTY_SECRETARY: "A",
            R.SOCIAL_ORG_MANAGER: "A",
        },
    ),
    "organizations.Volunteer": (
        lambda w: (
            VolunteerFactory(person=PersonFactory(community=w.c1), team=w.t1),
            VolunteerFactory(person=PersonFactory(community=w.c2), team=w.t2),
        ),
        {
            R.FEDERATION_STAFF: "AB",
            R.AREA_STAFF: "A",
            R.COMMUNITY_CADRE: "A",
            R.PARTY_SECRETARY: "A",
        },
    ),
}


def _cases_from_other_modules() -> dict[str, tuple[Maker, dict[str, str]]]:
    """Each part of the product keeps its cases beside its tests, in `tests/<app>/scope_*.py`
    modules with a `CASES` dict of the same shape; they all count here."""
    import importlib
    import pkgutil

    import tests

    found: dict[str, tuple[Maker, dict[str, str]]] = {}
    for pkg in pkgutil.iter_modules(tests.__path__):
        if not pkg.ispkg:
            continue
        package = importlib.import_module(f"tests.{pkg.name}")
        for mod in pkgutil.iter_modules(package.__path__):
            if mod.name.startswith("scope_"):
                found.update(importlib.import_module(f"tests.{pkg.name}.{mod.name}").CASES)
    return found


CASES.update(_cases_from_other_modules())


def _our_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if m.__module__.startswith("sanlian.")]


def test_every_model_has_a_scope_case() -> None:
    labels = {m._meta.label for m in _our_models()}
    assert labels - set(CASES) - set(EXEMPT) == set()


@pytest.mark.parametrize("model", _our_models(), ids=lambda m: m._meta.label)
def test_every_model_reads_through_a_scoped_queryset(model: type[models.Model]) -> None:
    assert isinstance(model._default_manager.all(), ScopedQuerySet)


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("label", sorted(CASES))
def test_visible_to(world: World, label: str, role: str) -> None:
    maker, expected = CASES[label]
    a, b = maker(world)
    model = apps.get_model(label)
    visible = set(
        model._default_manager.visible_to(world.users[role])
        .filter(pk__in=[a.pk, b.pk])
        .values_list("pk", flat=True)
    )
    seen = "".join(name for name, obj in (("A", a), ("B", b)) if obj.pk in visible)
    assert seen == expected.get(role, "")


def test_anonymous_sees_nothing(world: World) -> None:
    from django.contrib.auth.models import AnonymousUser

    from sanlian.organizations.models import Person

    assert Person.objects.visible_to(AnonymousUser()).count() == 0


def test_inactive_user_sees_nothing(world: World) -> None:
    from sanlian.organizations.models import Person

    user = world.users[R.FEDERATION_STAFF]
    user.is_active = False
    assert Person.objects.visible_to(user).count() == 0


def test_social_worker_sees_own_person_record(world: World) -> None:
    from sanlian.organizations.models import Person

    assert list(Person.objects.visible_to(world.users[R.SOCIAL_WORKER])) == [world.people["worker"]]


def test_volunteer_sees_own_volunteer_record(world: World) -> None:
    from sanlian.organizations.models import Volunteer

    mine = Volunteer.objects.visible_to(world.users[R.VOLUNTEER]).get()
    assert mine.person == world.people["volunteer"]


def test_party_secretary_scope_is_the_community(world: World) -> None:
    scope = scope_for(world.users[R.PARTY_SECRETARY])
    assert scope.area_path == world.c1.organization.path
