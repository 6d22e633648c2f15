"""API for the organisation tree, communities (with venues) and restructuring areas.

Input is validated by the same forms as the pages, built with querysets scoped to the
caller, so an id outside the caller's area is an invalid choice (or a 404 in the URL).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from sanlian.core.api import ErrorOut

from .. import services
from ..forms import (
    CommunityMergeForm,
    CommunityMoveForm,
    CommunitySplitForm,
    OrganizationCreateForm,
    OrganizationMoveForm,
    OrganizationRetireForm,
)
from ..models import Community, Organization, Venue
from ..services import restructuring
from ..services.tree import ORG_FIELDS
from ..views.common import EDITORS, RESTRUCTURERS

router = Router()


class OrganizationOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str = Field(alias="get_kind_display")
    parent_id: int | None
    path: str
    credit_code: str | None
    legal_representative: str
    contact_name: str
    contact_phone: str
    address: str
    service_fields: list[str]
    rating: str
    registration_date: date | None
    business_scope: str
    is_active: bool
    retired_on: date | None
    retired_reason: str
    version: int


class VenueOut(Schema):
    id: int
    community_id: int | None
    organization_id: int | None
    kind: str
    kind_label: str = Field(alias="get_kind_display")
    name: str
    address: str
    area: Decimal | None
    capacity: int | None
    opening_hours: str
    is_shared: bool
    is_active: bool


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
    address: str
    merged_into_id: int | None
    version: int


class CommunityDetailOut(CommunityOut):
    is_active: bool
    venues: list[VenueOut]

    @staticmethod
    def resolve_venues(obj: Community, context: dict[str, Any]) -> list[Venue]:
        return list(
            Venue.objects.visible_to(context["request"].user).filter(community=obj).order_by("pk")
        )


class OrganizationIn(Schema):
    kind: str
    parent_id: int
    name: str
    credit_code: str = ""
    legal_representative: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    address: str = ""
    service_fields: list[str] = []
    rating: str = ""
    registration_date: date | None = None
    business_scope: str = ""


class MoveIn(Schema):
    parent_id: int
    effective_on: date | None = None


class RetireIn(Schema):
    retired_on: date | None = None
    reason: str


class CommunityMoveIn(Schema):
    street_id: int
    effective_on: date | None = None
    preview_digest: str = ""


class CommunityMergeIn(Schema):
    target_id: int
    effective_on: date | None = None
    preview_digest: str = ""


class CommunitySplitIn(Schema):
    name: str
    tier: str = ""
    address: str = ""
    address_prefixes: list[str] = []
    person_ids: list[int] = []
    organization_ids: list[int] = []
    population: int = 0
    worker_count: int = 0
    retiree_count: int = 0
    effective_on: date | None = None
    preview_digest: str = ""


class SplitQuery(Schema):
    address_prefixes: list[str] = []
    person_ids: list[int] = []
    organization_ids: list[int] = []


class PreviewLineOut(Schema):
    key: str
    label: str
    count: int
    ids: list[int]


class PreviewOut(Schema):
    kind: str
    community_id: int
    digest: str
    total: int
    lines: list[PreviewLineOut]
    notes: list[str]
    # The community to look at afterwards (the target of a merge, the new one of a split).
    result_community_id: int | None = None


def _require(request: HttpRequest, roles: tuple[str, ...]) -> Any:
    user: Any = request.user
    if not user.has_role(*roles):
        raise HttpError(403, "无权进行此操作")
    return user


def _errors(exc: ValidationError | forms.BaseForm) -> Status[dict[str, Any]]:
    if isinstance(exc, forms.BaseForm):
        detail = {k: [str(m) for m in v] for k, v in exc.errors.items()}
    elif hasattr(exc, "error_dict"):
        detail = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
    else:
        detail = {"__all__": [str(m) for m in exc.messages]}
    return Status(400, {"detail": detail})


def _preview_out(
    kind: str, community: Community, result: restructuring.Preview, shown: int | None = None
) -> dict[str, Any]:
    return {
        "kind": kind,
        "community_id": community.pk,
        "digest": result.digest,
        "total": result.total,
        "lines": [
            {"key": ln.key, "label": ln.label, "count": ln.count, "ids": list(ln.ids)}
            for ln in result.lines
        ],
        "notes": list(result.notes),
        "result_community_id": shown,
    }


def _today(value: date | None) -> str:
    from django.utils import timezone

    return (value or timezone.localdate()).isoformat()


# ---- organisations -------------------------------------------------------------------------


@router.get("/organizations", response=list[OrganizationOut])
@paginate
def organizations(request: HttpRequest, kind: str | None = None, active: bool | None = None) -> Any:
    qs = Organization.objects.visible_to(request.user).order_by("path")
    if kind:
        qs = qs.filter(kind=kind)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs


@router.get("/organizations/{org_id}", response=OrganizationOut)
def organization(request: HttpRequest, org_id: int) -> Organization:
    return get_object_or_404(Organization.objects.visible_to(request.user), pk=org_id)


@router.post("/organizations", response={201: OrganizationOut, 400: ErrorOut})
def organization_create(request: HttpRequest, payload: OrganizationIn) -> Any:
    user = _require(request, EDITORS)
    visible = Organization.objects.visible_to(user)
    # The parent id in the body is scoped exactly like an id in the URL.
    get_object_or_404(visible, pk=payload.parent_id)
    data = payload.dict()
    data["parent"] = data.pop("parent_id")
    form = OrganizationCreateForm(data, parents=visible)
    if not form.is_valid():
        return _errors(form)
    try:
        org = services.organization_create(
            by=user,
            kind=form.cleaned_data["kind"],
            parent=form.cleaned_data["parent"],
            name=form.cleaned_data["name"],
            **{f: form.cleaned_data[f] for f in ORG_FIELDS if f in form.cleaned_data},
        )
    except ValidationError as exc:
        return _errors(exc)
    return Status(201, org)


@router.post("/organizations/{org_id}/move", response={200: OrganizationOut, 400: ErrorOut})
def organization_move(request: HttpRequest, org_id: int, payload: MoveIn) -> Any:
    user = _require(request, EDITORS)
    visible = Organization.objects.visible_to(user)
    org = get_object_or_404(visible, pk=org_id)
    get_object_or_404(visible, pk=payload.parent_id)
    form = OrganizationMoveForm(
        {"parent": payload.parent_id, "effective_on": _today(payload.effective_on)},
        org=org,
        parents=visible,
    )
    if not form.is_valid():
        return _errors(form)
    try:
        moved = services.organization_move(
            org=org,
            new_parent=form.cleaned_data["parent"],
            by=user,
            effective_on=form.cleaned_data["effective_on"],
        )
    except ValidationError as exc:
        return _errors(exc)
    return moved


@router.post("/organizations/{org_id}/retire", response={200: OrganizationOut, 400: ErrorOut})
def organization_retire(request: HttpRequest, org_id: int, payload: RetireIn) -> Any:
    user = _require(request, EDITORS)
    org = get_object_or_404(Organization.objects.visible_to(user), pk=org_id)
    form = OrganizationRetireForm(
        {"retired_on": _today(payload.retired_on), "reason": payload.reason}
    )
    if not form.is_valid():
        return _errors(form)
    try:
        retired = services.organization_retire(
            org=org,
            by=user,
            on=form.cleaned_data["retired_on"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as exc:
        return _errors(exc)
    return retired


# ---- communities ---------------------------------------------------------------------------


@router.get("/communities", response=list[CommunityOut])
@paginate
def communities(request: HttpRequest, tier: str | None = None, active: bool = True) -> Any:
    qs = Community.objects.visible_to(request.user).order_by("pk")
    if active:
        qs = qs.active()
    return qs.filter(tier=tier) if tier else qs


@router.get("/communities/{community_id}", response=CommunityDetailOut)
def community(request: HttpRequest, community_id: int) -> Community:
    return get_object_or_404(
        Community.objects.visible_to(request.user).select_related("organization"),
        pk=community_id,
    )


def _community(request: HttpRequest, community_id: int) -> tuple[Any, Community]:
    user = _require(request, RESTRUCTURERS)
    found = get_object_or_404(
        Community.objects.visible_to(user).select_related("organization", "street", "district"),
        pk=community_id,
    )
    return user, found


def _move_form(user: Any, community: Community, data: dict[str, Any]) -> CommunityMoveForm:
    streets = Organization.objects.visible_to(user)
    get_object_or_404(streets, pk=data["street"])
    return CommunityMoveForm(data, community=community, streets=streets)


@router.get("/communities/{community_id}/move/preview", response={200: PreviewOut, 400: ErrorOut})
def community_move_preview(request: HttpRequest, community_id: int, street_id: int) -> Any:
    user, found = _community(request, community_id)
    form = _move_form(user, found, {"street": street_id, "effective_on": _today(None)})
    if not form.is_valid():
        return _errors(form)
    try:
        result = services.community_move_preview(
            community=found, street=form.cleaned_data["street"]
        )
    except ValidationError as exc:
        return _errors(exc)
    return _preview_out(restructuring.MOVE, found, result)


@router.post("/communities/{community_id}/move", response={200: PreviewOut, 400: ErrorOut})
def community_move(request: HttpRequest, community_id: int, payload: CommunityMoveIn) -> Any:
    user, found = _community(request, community_id)
    form = _move_form(
        user,
        found,
        {
            "street": payload.street_id,
            "effective_on": _today(payload.effective_on),
            "preview_digest": payload.preview_digest,
        },
    )
    if not form.is_valid():
        return _errors(form)
    try:
        result = services.community_move(
            community=found,
            street=form.cleaned_data["street"],
            by=user,
            effective_on=form.cleaned_data["effective_on"],
            expected_digest=payload.preview_digest or None,
        )
    except ValidationError as exc:
        return _errors(exc)
    return _preview_out(restructuring.MOVE, found, result, found.pk)


def _merge_form(user: Any, community: Community, data: dict[str, Any]) -> CommunityMergeForm:
    targets = Community.objects.visible_to(user)
    get_object_or_404(targets, pk=data["target"])
    return CommunityMergeForm(data, community=community, communities=targets)


@router.get("/communities/{community_id}/merge/preview", response={200: PreviewOut, 400: ErrorOut})
def community_merge_preview(request: HttpRequest, community_id: int, target_id: int) -> Any:
    user, found = _community(request, community_id)
    form = _merge_form(user, found, {"target": target_id, "effective_on": _today(None)})
    if not form.is_valid():
        return _errors(form)
    try:
        result = services.community_merge_preview(source=found, target=form.cleaned_data["target"])
    except ValidationError as exc:
        return _errors(exc)
    return _preview_out(restructuring.MERGE, found, result)


@router.post("/communities/{community_id}/merge", response={200: PreviewOut, 400: ErrorOut})
def community_merge(request: HttpRequest, community_id: int, payload: CommunityMergeIn) -> Any:
    user, found = _community(request, community_id)
    form = _merge_form(
        user,
        found,
        {
            "target": payload.target_id,
            "effective_on": _today(payload.effective_on),
            "preview_digest": payload.preview_digest,
        },
    )
    if not form.is_valid():
        return _errors(form)
    target = form.cleaned_data["target"]
    try:
        result = services.community_merge(
            source=found,
            target=target,
            by=user,
            effective_on=form.cleaned_data["effective_on"],
            expected_digest=payload.preview_digest or None,
        )
    except ValidationError as exc:
        return _errors(exc)
    return _preview_out(restructuring.MERGE, found, result, target.pk)


def _split_form(community: Community, data: dict[str, Any]) -> CommunitySplitForm:
    return CommunitySplitForm(
        {
            "name": data.get("name") or community.name,
            "tier": data.get("tier") or community.tier,
            "address": data.get("address", ""),
            "address_prefixes": "\n".join(data.get("address_prefixes", [])),
            "people": data.get("person_ids", []),
            "organizations": data.get("organization_ids", []),
            "population": data.get("population", 0),
            "worker_count": data.get("worker_count", 0),
            "retiree_count": data.get("retiree_count", 0),
            "effective_on": _today(data.get("effective_on")),
            "preview_digest": data.get("preview_digest", ""),
        },
        community=community,
    )


def _split_ids(form: CommunitySplitForm, community: Community) -> tuple[frozenset[int], list[int]]:
    people = restructuring.people_to_split(
        community,
        address_prefixes=form.prefixes(),
        person_ids=[p.pk for p in form.cleaned_data["people"]],
    )
    return people, [o.pk for o in form.cleaned_data["organizations"]]


@router.get("/communities/{community_id}/split/preview", response={200: PreviewOut, 400: ErrorOut})
def community_split_preview(
    request: HttpRequest, community_id: int, query: Query[SplitQuery]
) -> Any:
    _user, found = _community(request, community_id)
    form = _split_form(found, query.dict())
    if not form.is_valid():
        return _errors(form)
    people, orgs = _split_ids(form, found)
    try:
        result = services.community_split_preview(
            community=found, person_ids=people, organization_ids=orgs
        )
    except ValidationError as exc:
        return _errors(exc)
    return _preview_out(restructuring.SPLIT, found, result)


@router.post("/communities/{community_id}/split", response={200: PreviewOut, 400: ErrorOut})
def community_split(request: HttpRequest, community_id: int, payload: CommunitySplitIn) -> Any:
    user, found = _community(request, community_id)
    form = _split_form(found, payload.dict())
    if not form.is_valid():
        return _errors(form)
    people, orgs = _split_ids(form, found)
    data = form.cleaned_data
    try:
        result = services.community_split(
            community=found,
            name=data["name"],
            tier=data["tier"],
            address=data["address"],
            by=user,
            person_ids=people,
            organization_ids=orgs,
            population=data["population"],
            worker_count=data["worker_count"],
            retiree_count=data["retiree_count"],
            effective_on=data["effective_on"],
            expected_digest=payload.preview_digest or None,
        )
    except ValidationError as exc:
        return _errors(exc)
    return _preview_out(restructuring.SPLIT, found, result.preview, result.new.pk)
