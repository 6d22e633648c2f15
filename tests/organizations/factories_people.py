"""Factories for households, their members and vulnerability tags."""

from __future__ import annotations

import factory

from sanlian.organizations.models import Household, HouseholdMember, PersonTag, Relation


class HouseholdFactory(factory.django.DjangoModelFactory):
    """A household headed by `head`, in the head's community, with the head as member."""

    class Meta:
        model = Household
        skip_postgeneration_save = True

    head = None
    community = factory.LazyAttribute(lambda o: o.head.community)
    address = "测试路1号"

    @factory.post_generation
    def with_head(obj: Household, create: bool, extracted: bool | None, **kwargs: object) -> None:
        if create and extracted is not False:
            HouseholdMemberFactory(household=obj, person=obj.head, relation=Relation.SELF)


class HouseholdMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HouseholdMember

    household = None
    person = None
    relation = Relation.SPOUSE


class PersonTagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PersonTag

    person = None
    tag = "hardship_worker"
