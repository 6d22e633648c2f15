"""Reads of 组织联建 that combine several models (single-model reads are QuerySet methods)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, replace
from enum import StrEnum

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, QuerySet, Sum
from django.utils import timezone

from sanlian.core import crypto
from sanlian.core.models import User
from sanlian.core.queries import count_of
from sanlian.core.scoping import scope_for
from sanlian.core.validators import normalize_digits, normalize_mobile

from .models import Community, Membership, Organization, OrgKind, Person, Tier
from .pinyin import normalize_query

# Chinese queries this long or longer match anywhere in a name; shorter ones its start.
SUBSTRING_MIN_HAN = 3


class QueryKind(StrEnum):
    EMPTY = "empty"
    ID_NUMBER = "id_number"  # 18 characters: exact match through the keyed hash
    PHONE = "phone"  # a whole mobile number
    DIGITS = "digits"  # 7 or more digits: the start of a phone number
    CREDIT_CODE = "credit_code"  # an organisation's unified social credit code
    # Part of a name. Matched in search_text, whose only Chinese token is the name itself
    # (so the same rows as a name substring), where PostgreSQL's trigram index serves it.
    CHINESE = "chinese"
    PINYIN = "pinyin"  # the start of a name's full pinyin or initials: zs, zhangs, kxsq


@dataclass(frozen=True)
class ParsedQuery:
    kind: QueryKind
    value: str


_HAN = re.compile("[\u3007\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_NOT_KEY = re.compile(r"[^0-9a-z]+")


def parse_query(q: str) -> ParsedQuery:
    """What a search box entry is: an ID number, a phone number, a Chinese name, pinyin."""
    text = q.strip()
    digits = normalize_digits(text).upper()
    if not text:
        return ParsedQuery(QueryKind.EMPTY, "")
    if _HAN.search(text):
        return ParsedQuery(QueryKind.CHINESE, "".join(text.split()).lower())
    if len(digits) == 18 and digits[:17].isdigit() and digits[17] in "0123456789X":
        return ParsedQuery(QueryKind.ID_NUMBER, digits)
    if len(digits) == 18 and digits.isalnum() and digits.isascii():
        return ParsedQuery(QueryKind.CREDIT_CODE, digits)
    if digits.lstrip("+").isdigit() and len(digits) >= 7:
        try:
            return ParsedQuery(QueryKind.PHONE, normalize_mobile(digits))
        except ValidationError:
            return ParsedQuery(QueryKind.DIGITS, digits)
    key = _NOT_KEY.sub("", normalize_query(text))
    return ParsedQuery(QueryKind.PINYIN, key) if key else ParsedQuery(QueryKind.EMPTY, "")


def person_matches(people: QuerySet[Person], q: str) -> QuerySet[Person]:
    """Narrow `people` to those the query finds (by name, pinyin, phone or ID number)."""
    parsed = parse_query(q)
    match parsed.kind:
        case QueryKind.EMPTY:
            return people
        case QueryKind.ID_NUMBER:
            return people.filter(id_number_hash=crypto.search_hash(parsed.value))
        case QueryKind.PHONE:
            return people.filter(phone=parsed.value)
        case QueryKind.DIGITS:
            return people.filter(phone__startswith=parsed.value)
        case QueryKind.CHINESE if len(parsed.value) < SUBSTRING_MIN_HAN:
            # One or two characters (a surname, a two-character name) match the start of the
            # name: trigram indexes cannot serve them, a city-wide substring scan is too slow.
            return people.filter(name__startswith=parsed.value)
        case QueryKind.CHINESE:
            return people.filter(search_text__contains=parsed.value)
        case QueryKind.PINYIN:
            return people.filter(search_text__contains=" " + parsed.value)
    return people.none()


def person_search(user: User, q: str, *, include_merged: bool = False) -> QuerySet[Person]:
    """People within the user's scope that the query finds (merged-away records left out)."""
    people = Person.objects.visible_to(user)
    if not include_merged:
        people = people.active()
    return person_matches(people, q)


def organization_search(user: User, q: str) -> QuerySet[Organization]:
    return organization_matches(Organization.objects.visible_to(user), q)


def organization_matches(orgs: QuerySet[Organization], q: str) -> QuerySet[Organization]:
    """Narrow `orgs` to those the query finds (by name, pinyin, phone or credit code)."""
    parsed = parse_query(q)
    match parsed.kind:
        case QueryKind.CHINESE:
            return orgs.filter(search_text__contains=parsed.value)
        case QueryKind.PINYIN:
            return orgs.filter(search_text__contains=" " + parsed.value)
        case QueryKind.PHONE:
            return orgs.filter(contact_phone=parsed.value)
        case QueryKind.CREDIT_CODE:
            return orgs.filter(credit_code=parsed.value)
    return orgs.none()


def community_search(user: User, q: str) -> QuerySet[Community]:
    communities = Community.objects.visible_to(user)
    parsed = parse_query(q)
    match parsed.kind:
        case QueryKind.CHINESE:
            return communities.filter(search_text__contains=parsed.value)
        case QueryKind.PINYIN:
            return communities.filter(search_text__contains=" " + parsed.value)
    return communities.none()


@dataclass(frozen=True)
class SearchResults:
    query: ParsedQuery
    people: list[Person]
    organizations: list[Organization]
    communities: list[Community]


def search(user: User, q: str, *, limit: int = 20) -> SearchResults:
    """People, organisations and communities the query finds, each within the user's scope."""
    return SearchResults(
        query=parse_query(q),
        people=list(
            person_search(user, q).select_related("community").order_by("pk")[:limit]
            if q.strip()
            else []
        ),
        organizations=list(organization_search(user, q).order_by("path")[:limit]),
        communities=list(community_search(user, q).order_by("pk")[:limit]),
    )


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
    # When the figures were counted, if they were kept for a while (a large area); None when
    # counted for this request.
    counted_at: dt.datetime | None = None


# A city's or district's summary counts hundreds of thousands of rows (0.3-0.8 s at city scale)
# and is the first page every user of that area opens: it is kept for a few minutes and says
# when it was counted. A street or community is counted live (a few thousand rows).
AREA_SUMMARY_SECONDS = 300
AREA_SUMMARY_KEPT_ABOVE_DEPTH = 3  # 1 city, 2 district, 3 street, 4 community


def area_summary(user: User) -> AreaSummary:
    """The counts of the user's area on their home page (kept a while for a large area)."""
    scope = scope_for(user)
    path = scope.area_path
    if path is None or path.count("/") - 1 >= AREA_SUMMARY_KEPT_ABOVE_DEPTH:
        return _area_summary(user)
    who = f"{path}|{','.join(sorted(scope.roles))}"
    key = "area-summary:" + hashlib.sha256(who.encode()).hexdigest()[:32]
    kept: AreaSummary | None = cache.get(key)
    if kept is None:
        kept = replace(_area_summary(user), counted_at=timezone.now())
        cache.set(key, kept, AREA_SUMMARY_SECONDS)
    return kept


def _area_summary(user: User) -> AreaSummary:
    communities = Community.objects.visible_to(user)
    by_tier = communities.values_list("tier").annotate(n=Count("pk"), pop=Sum("population"))
    rows = list(by_tier.order_by())
    tiers = {tier: n for tier, n, _pop in rows}
    orgs = Organization.objects.visible_to(user)
    from .models import SocialWorker, Volunteer

    return AreaSummary(
        communities=sum(tiers.values()),
        by_tier={str(t.label): tiers.get(t.value, 0) for t in Tier},
        population=sum(pop or 0 for _tier, _n, pop in rows),
        people=Person.objects.visible_to(user).count(),
        members=Membership.objects.visible_to(user).active().count(),
        social_orgs=orgs.filter(kind=OrgKind.SOCIAL_ORG).count(),
        social_workers=SocialWorker.objects.visible_to(user).count(),
        volunteers=Volunteer.objects.visible_to(user).count(),
    )


def community_rows(user: User) -> QuerySet[Community]:
    # Counted by correlated subqueries, not by joining people and memberships together: the
    # join multiplies them (a community's residents × its members, hours at city scale).
    return (
        Community.objects.visible_to(user)
        .select_related("street", "district")
        .annotate(
            people_count=count_of(Person.objects.filter(community=OuterRef("pk")), "community"),
            member_count=count_of(
                Membership.objects.filter(union=OuterRef("organization_id"), status="active"),
                "union",
            ),
        )
    )
