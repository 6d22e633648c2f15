"""factory_boy factories for every model; tests build data through these, never objects.create."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.utils import timezone

from sanlian.core.models import ApiToken, AuditEntry, RoleGrant, TaskRun, User
from sanlian.core.validators import generate_resident_id, make_credit_code
from sanlian.organizations.models import (
    Community,
    Membership,
    Organization,
    OrgKind,
    Person,
    SocialWorker,
    Tier,
    Volunteer,
)

PASSWORD = "Test#Pass2026"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"测试组织{n}")
    kind = OrgKind.SOCIAL_ORG
    parent = None
    credit_code = factory.LazyAttributeSequence(
        lambda o, n: make_credit_code("210102", 5000 + n) if o.kind == OrgKind.SOCIAL_ORG else None
    )


class CommunityFactory(factory.django.DjangoModelFactory):
    """A community with its joint union under `street` (a street union organisation)."""

    class Meta:
        model = Community

    class Params:
        street_org = None

    name = factory.Sequence(lambda n: f"测试{n}社区")
    organization = factory.LazyAttribute(
        lambda o: OrganizationFactory(
            name=f"{o.name}联合工会", kind=OrgKind.COMMUNITY_UNION, parent=o.street_org
        )
    )
    street = factory.LazyAttribute(lambda o: o.street_org)
    district = factory.LazyAttribute(lambda o: o.street_org.parent)
    tier = Tier.ORDINARY
    population = 5000


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"张{n}")
    sex = "M"
    birth_date = dt.date(1980, 5, 17)
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    community = None

    @factory.post_generation
    def id_number(obj: Person, create: bool, extracted: str | None, **kwargs: Any) -> None:
        number = extracted or generate_resident_id(
            "210102", obj.birth_date or dt.date(1980, 1, 1), obj.pk % 1000
        )
        obj.set_id_number(number)
        if create:
            obj._skip_audit = True  # type: ignore[attr-defined]
            obj.save(update_fields=["id_number_encrypted", "id_number_hash", "id_number_masked"])
            obj._skip_audit = False  # type: ignore[attr-defined]


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    person = None
    union = factory.LazyAttribute(lambda o: o.person.community.organization)
    card_number = factory.Sequence(lambda n: f"T{n:010d}")
    joined_on = dt.date(2020, 1, 1)


class SocialWorkerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SocialWorker

    organization = None
    person = None
    qualification = "social_worker"
    certificate_number = factory.Sequence(lambda n: f"SW{n:07d}")


class VolunteerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Volunteer

    team = None
    person = None
    skills = "助老"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    organization = None
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(obj: User, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:
        obj.save()
        for role in extracted or []:
            RoleGrantFactory(user=obj, role=role)


class RoleGrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleGrant

    user = None
    role = "community_cadre"


class ApiTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiToken

    user = None
    name = "测试令牌"
    prefix = "abcdef"
    digest = factory.Sequence(lambda n: f"{n:064d}")


class TaskRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaskRun

    name = "organizations.seed"
    created_by = None


def audit_entry(**kwargs: Any) -> AuditEntry:
    """Audit rows are written only through the audit writer, so its chain stays intact."""
    from sanlian.core import audit

    kwargs.setdefault("object_type", "test.Object")
    return audit.record(kwargs.pop("action", "view"), **kwargs)


__all__ = [
    "PASSWORD",
    "ApiTokenFactory",
    "CommunityFactory",
    "MembershipFactory",
    "OrganizationFactory",
    "PersonFactory",
    "RoleGrantFactory",
    "SocialWorkerFactory",
    "TaskRunFactory",
    "UserFactory",
    "VolunteerFactory",
    "audit_entry",
    "timezone",
]
