"""Shared fixtures: a small organisation tree with one user per role, and test settings."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client

from sanlian.core.models import User
from sanlian.core.roles import Role
from sanlian.organizations.models import Community, Organization, OrgKind, Person

from .factories import (
    PASSWORD,
    CommunityFactory,
    OrganizationFactory,
    PersonFactory,
    SocialWorkerFactory,
    UserFactory,
    VolunteerFactory,
)


@pytest.fixture(autouse=True)
def _chinese_by_default() -> Iterator[None]:
    """Each test starts in the product's language. A request in English leaves English
    active on its thread (LocaleMiddleware does not reset it), which would leak into the
    next test's service messages."""
    from django.utils import translation

    translation.activate("zh-hans")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with an empty cache: primary keys (and so area paths) repeat from
    test to test, and a figure kept by an earlier test must not show in the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _test_settings(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TASKS_INPROCESS_SYNC = True
    settings.TASKS_BACKEND = "inprocess"


@pytest.fixture(autouse=True)
def _audit_guards(request: pytest.FixtureRequest) -> Iterator[None]:
    """The audit trail's database guards are on in every test; a transactional test's
    teardown must empty every table, so the guards step aside for that flush only."""
    names = set(request.fixturenames)
    if not names & {"db", "transactional_db", "live_server", "django_db_setup"} and not any(
        m.name == "django_db" for m in request.node.iter_markers()
    ):
        yield
        return
    transactional = bool(names & {"transactional_db", "live_server"}) or any(
        m.kwargs.get("transaction") for m in request.node.iter_markers("django_db")
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    from django.db import connection

    from sanlian.core import audit_guard

    audit_guard.resume(connection)
    yield
    if transactional:
        audit_guard.suspend(connection)


@dataclass
class World:
    """city > D1 > S1 > K1 (community C1, with party org, social org O1, team T1);
    city > D2 > S2 > K2 (C2, O2, T2); an evaluator beside; one user per role, all in D1/K1."""

    city: Organization
    d1: Organization
    s1: Organization
    c1: Community
    party1: Organization
    o1: Organization
    t1: Organization
    d2: Organization
    s2: Organization
    c2: Community
    o2: Organization
    t2: Organization
    evaluator_org: Organization
    users: dict[str, User] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)

    def client(self, role: str) -> Client:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        client = Client()
        user = self.users[role]
        client.force_login(user)
        if user.needs_second_factor:
            device, _ = TOTPDevice.objects.get_or_create(user=user, name="t", confirmed=True)
            session = client.session
            session["otp_device_id"] = device.persistent_id
            session.save()
        return client


def build_world() -> World:
    city = OrganizationFactory(name="测试市总工会", kind=OrgKind.FEDERATION)
    d1 = OrganizationFactory(name="一区总工会", kind=OrgKind.DISTRICT_UNION, parent=city)
    s1 = OrganizationFactory(name="一街道工会", kind=OrgKind.STREET_UNION, parent=d1)
    c1 = CommunityFactory(name="凯旋社区", street_org=s1, tier="star")
    d2 = OrganizationFactory(name="二区总工会", kind=OrgKind.DISTRICT_UNION, parent=city)
    s2 = OrganizationFactory(name="二街道工会", kind=OrgKind.STREET_UNION, parent=d2)
    c2 = CommunityFactory(name="丽都社区", street_org=s2, tier="weak")
    k1, k2 = c1.organization, c2.organization
    w = World(
        city=city,
        d1=d1,
        s1=s1,
        c1=c1,
        party1=OrganizationFactory(name="中共凯旋社区委员会", kind=OrgKind.PARTY_ORG, parent=k1),
        o1=OrganizationFactory(name="阳光社工中心", kind=OrgKind.SOCIAL_ORG, parent=k1),
        t1=OrganizationFactory(name="凯旋志愿队", kind=OrgKind.VOLUNTEER_TEAM, parent=k1),
        d2=d2,
        s2=s2,
        c2=c2,
        o2=OrganizationFactory(name="同心社工中心", kind=OrgKind.SOCIAL_ORG, parent=k2),
        t2=OrganizationFactory(name="丽都志愿队", kind=OrgKind.VOLUNTEER_TEAM, parent=k2),
        evaluator_org=OrganizationFactory(
            name="同创评估中心", kind=OrgKind.EVALUATOR, parent=city, credit_code=None
        ),
    )
    home = {
        Role.FEDERATION_STAFF: w.city,
        Role.AREA_STAFF: w.d1,
        Role.COMMUNITY_CADRE: k1,
        Role.PARTY_SECRETARY: w.party1,
        Role.SOCIAL_ORG_MANAGER: w.o1,
        Role.SOCIAL_WORKER: w.o1,
        Role.VOLUNTEER: w.t1,
        Role.EVALUATOR: w.evaluator_org,
        Role.SYSTEM_ADMIN: w.city,
        Role.SECURITY_ADMIN: w.city,
        Role.AUDIT_ADMIN: w.city,
    }
    for role, org in home.items():
        w.users[role] = UserFactory(username=role, organization=org, roles=[role])
    worker_person = PersonFactory(
        name="社工本人", community=c1, employer=w.o1, user=w.users[Role.SOCIAL_WORKER]
    )
    SocialWorkerFactory(person=worker_person, organization=w.o1)
    volunteer_person = PersonFactory(name="志愿者本人", community=c1, user=w.users[Role.VOLUNTEER])
    VolunteerFactory(person=volunteer_person, team=w.t1)
    w.people = {"worker": worker_person, "volunteer": volunteer_person}
    return w


@pytest.fixture
def world(db: None) -> World:
    return build_world()


@pytest.fixture
def password() -> str:
    return PASSWORD
