"""API for organisations, communities and people."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from sanlian.core.validators import normalize_mobile

from .. import services
from ..models import Community, Organization, Person
from ..queries import person_search

router = Router()


class OrganizationOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str = Field(alias="get_kind_display")
    parent_id: int | None
    credit_code: str | None
    is_active: bool
    version: int


class CommunityOut(Schema):
    id: int
    name: str
    organization_id: int
    street_id: int
    district_id: int
    tier: str
    population: int
    worker_count: int
    retiree_count: int
    version: int


class PersonOut(Schema):
    id: int
    name: str
    sex: str
    birth_date: date | None
    id_number_masked: str
    phone: str
    community_id: int
    is_retired: bool
    is_new_employment: bool


class PersonIn(Schema):
    name: str = Field(min_length=1, max_length=50)
    community_id: int
    id_number: str = ""
    phone: str = ""
    sex: str = ""
    address: str = ""
    workplace: str = ""
    is_retired: bool = False
    is_new_employment: bool = False


class ErrorOut(Schema):
    detail: Any


@router.get("/organizations", response=list[OrganizationOut])
@paginate
def organizations(request: HttpRequest, kind: str | None = None) -> Any:
    qs = Organization.objects.visible_to(request.user).order_by("path")
    return qs.filter(kind=kind) if kind else qs


@router.get("/organizations/{org_id}", response=OrganizationOut)
def organization(request: HttpRequest, org_id: int) -> Organization:
    return get_object_or_404(Organization.objects.visible_to(request.user), pk=org_id)


@router.get("/communities", response=list[CommunityOut])
@paginate
def communities(request: HttpRequest, tier: str | None = None) -> Any:
    qs = Community.objects.visible_to(request.user).order_by("pk")
    return qs.filter(tier=tier) if tier else qs


@router.get("/communities/{community_id}", response=CommunityOut)
def community(request: HttpRequest, community_id: int) -> Community:
    return get_object_or_404(Community.objects.visible_to(request.user), pk=community_id)


@router.get("/people", response=list[PersonOut])
@paginate
def people(request: HttpRequest, q: str = "") -> Any:
    return person_search(request.user, q).order_by("pk")  # type: ignore[arg-type]


@router.get("/people/{person_id}", response=PersonOut)
def person(request: HttpRequest, person_id: int) -> Person:
    return get_object_or_404(Person.objects.visible_to(request.user), pk=person_id)


@router.post("/people", response={201: PersonOut, 400: ErrorOut})
def person_create(request: HttpRequest, payload: PersonIn) -> Any:
    from sanlian.core.roles import Role

    if not request.user.has_role(  # type: ignore[union-attr]
        Role.FEDERATION_STAFF, Role.AREA_STAFF, Role.COMMUNITY_CADRE
    ):
        raise HttpError(403, "无权登记居民")
    # The community id in the body is scoped exactly like an id in the URL.
    target = get_object_or_404(Community.objects.visible_to(request.user), pk=payload.community_id)
    try:
        phone = normalize_mobile(payload.phone) if payload.phone else ""
        created = services.person_create(
            name=payload.name,
            community=target,
            id_number=payload.id_number,
            phone=phone,
            sex=payload.sex,
            address=payload.address,
            workplace=payload.workplace,
            is_retired=payload.is_retired,
            is_new_employment=payload.is_new_employment,
        )
    except ValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return Status(400, {"detail": {k: [str(m) for m in v] for k, v in detail.items()}})
    return Status(201, created)
