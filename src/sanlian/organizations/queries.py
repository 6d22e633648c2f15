"""Reads of 组织联建 that combine several models (single-model reads are QuerySet methods)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum

from sanlian.core.models import User
from sanlian.core.validators import normalize_digits, normalize_mobile

from .models import Community, Membership, Organization, OrgKind, Person, Tier


def person_search(user: User, q: str) -> QuerySet[Person]:
    people = Person.objects.visible_to(user)
    q = q.strip()
    if not q:
        return people
    digits = normalize_digits(q).upper()
    if len(digits) == 18 and digits[:17].isdigit():
        from sanlian.core import crypto

        return people.filter(id_number_hash=crypto.search_hash(digits))
    if digits.isdigit() and len(digits) >= 7:
        try:
            return people.filter(phone=normalize_mobile(digits))
        except Exception:
            return people.filter(phone__startswith=digits)
    return people.filter(name__contains=q)


@dataclass(frozen=True)
class AreaSummary:
    communities: int
    by_tier: dict[str, int]
    population: int
    people: int
    members: int
    social_orgs: int
    social_workers: int
    volunteers: int


def area_summary(user: User) -> AreaSummary:
    communities = Community.objects.visible_to(user)
    tiers = dict(communities.values_list("tier").annotate(n=Count("pk")).order_by())
    totals = communities.aggregate(pop=Sum("population"))
    orgs = Organization.objects.visible_to(user)
    from .models import SocialWorker, Volunteer

    return AreaSummary(
        communities=sum(tiers.values()),
        by_tier={str(t.label): tiers.get(t.value, 0) for t in Tier},
        population=totals["pop"] or 0,
        people=Person.objects.visible_to(user).count(),
        members=Membership.objects.visible_to(user).active().count(),
        social_orgs=orgs.filter(kind=OrgKind.SOCIAL_ORG).count(),
        social_workers=SocialWorker.objects.visible_to(user).count(),
        volunteers=Volunteer.objects.visible_to(user).count(),
    )


def community_rows(user: User) -> QuerySet[Community]:
    return (
        Community.objects.visible_to(user)
        .select_related("street", "district")
        .annotate(
            people_count=Count("people", distinct=True),
            member_count=Count(
                "organization__members",
                filter=Q(organization__members__status="active"),
                distinct=True,
            ),
        )
    )
