"""API for people, households, memberships, duplicates, merging and search.

Bodies are validated by the same forms as the pages; every id in a path or a body is looked
up through visible_to(), so an id outside the caller's scope answers 404.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from sanlian.core.api import ErrorOut
from sanlian.core.models import User
from sanlian.core.scoping import scope_for
from sanlian.core.services import ConcurrentEditError, save_versioned

from .. import services
from ..forms import (
    MembershipJoinForm,
    MembershipLifeForm,
    MembershipReinstateForm,
    MembershipTransferForm,
    MembershipWithdrawForm,
    PersonForm,
)
from ..models import (
    Community,
    Household,
    HouseholdMember,
    Membership,
    Organization,
    Person,
    PersonTag,
    sees_tags,
)
from ..queries import person_search, search

router = Router()


def _errors(source: BaseForm | ValidationError, status: int = 400) -> Status[dict[str, Any]]:
    if isinstance(source, BaseForm):
        detail = {k: [str(m) for m in v] for k, v in source.errors.items()}
    elif hasattr(source, "error_dict"):
        detail = {k: [str(m) for m in v] for k, v in source.message_dict.items()}
    else:
        detail = {"__all__": [str(m) for m in source.messages]}
    return Status(status, {"detail": detail})


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _editor(request: HttpRequest) -> User:
    user = _user(request)
    if not user.has_role(*services.PEOPLE_EDITORS):
        raise HttpError(403, "无权修改居民和会员信息")
    return user


def _person(request: HttpRequest, person_id: int, *, active: bool = False) -> Person:
    people = Person.objects.visible_to(request.user)
    return get_object_or_404(people.active() if active else people, pk=person_id)


# ---- people --------------------------------------------------------------------------------


class PersonOut(Schema):
    id: int
    name: str
    sex: str
    birth_date: dt.date | None
    id_number_masked: str
    phone: str
    community_id: int
    address: str
    workplace: str
    is_retired: bool
    new_employment_kind: str
    is_new_employment: bool
    is_active: bool
    merged_into_id: int | None
    version: int


class PersonIn(Schema):
    name: str = Field(min_length=1, max_length=50)
    community_id: int
    id_number: str = ""
    phone: str = ""
    sex: str = ""
    birth_date: dt.date | None = None
    address: str = ""
    workplace: str = ""
    is_retired: bool = False
    new_employment_kind: str = ""
    is_new_employment: bool = False  # older clients: without a kind, counts as 其他
    tags: list[str] = []
    confirm_not_duplicate: bool = False


class PersonPatch(Schema):
    version: int
    name: str | None = None
    community_id: int | None = None
    id_number: str | None = None
    phone: str | None = None
    sex: str | None = None
    birth_date: dt.date | None = None
    address: str | None = None
    workplace: str | None = None
    is_retired: bool | None = None
    new_employment_kind: str | None = None
    confirm_not_duplicate: bool = False


def _person_data(payload: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in payload.items() if v is not None}
    if "community_id" in data:
        data["community"] = data.pop("community_id")
    if data.pop("is_new_employment", False) and not data.get("new_employment_kind"):
        data["new_employment_kind"] = "other"
    return data


def _form_errors(form: PersonForm) -> Status[dict[str, Any]]:
    """400 with the form's messages; a refused duplicate also names the existing record(s)
    when the caller may see them, so that a client can link to it."""
    detail: dict[str, Any] = {k: [str(m) for m in v] for k, v in form.errors.items()}
    if form.duplicate_of is not None:
        detail["duplicate_of"] = form.duplicate_of.pk
    if form.possible_duplicates:
        detail["possible_duplicates"] = [p.pk for p in form.possible_duplicates]
    return Status(400, {"detail": detail})


def _community_404(request: HttpRequest, community_id: int | None) -> None:
    """An id in a body is scoped like one in the URL: outside the caller's scope, 404."""
    if community_id is not None:
        get_object_or_404(Community.objects.visible_to(request.user), pk=community_id)


def _union_404(request: HttpRequest, union_id: int | None) -> None:
    if union_id is not None:
        get_object_or_404(Organization.objects.visible_to(request.user), pk=union_id)


@router.get("/people", response=list[PersonOut])
@paginate
def people(
    request: HttpRequest, q: str = "", community_id: int | None = None, include_merged: bool = False
) -> Any:
    found = person_search(_user(request), q, include_merged=include_merged)
    if community_id is not None:
        found = found.filter(community_id=community_id)
    return found.order_by("pk")


# Fixed paths before /people/{person_id}, which would otherwise take them.


class DuplicateCheckIn(Schema):
    name: str = ""
    phone: str = ""
    id_number: str = ""


class DuplicatesOut(Schema):
    same_id: int | None
    same_id_elsewhere: bool
    same_name_phone: list[int]
    same_name_phone_elsewhere: int


@router.post("/people/duplicates", response={200: DuplicatesOut, 400: ErrorOut})
def person_duplicates(request: HttpRequest, payload: DuplicateCheckIn) -> Any:
    """What an entry would duplicate (the import's preview uses it). Records outside the
    caller's scope are counted, not named."""
    from sanlian.core.validators import normalize_mobile, parse_resident_id

    try:
        number = parse_resident_id(payload.id_number).number if payload.id_number else ""
        phone = normalize_mobile(payload.phone) if payload.phone else ""
    except ValidationError as exc:
        return _errors(exc)
    found = services.person_find_duplicates(id_number=number, name=payload.name, phone=phone)
    candidates = [p.pk for p in [found.same_id, *found.same_name_phone] if p is not None]
    visible = set(
        Person.objects.visible_to(request.user)
        .filter(pk__in=candidates)
        .values_list("pk", flat=True)
    )
    same_id = found.same_id.pk if found.same_id is not None else None
    return {
        "same_id": same_id if same_id in visible else None,
        "same_id_elsewhere": same_id is not None and same_id not in visible,
        "same_name_phone": [p.pk for p in found.same_name_phone if p.pk in visible],
        "same_name_phone_elsewhere": sum(1 for p in found.same_name_phone if p.pk not in visible),
    }


class MergeIn(Schema):
    keep_id: int
    merge_id: int


class MergePlanOut(Schema):
    keep_id: int
    merge_id: int
    possible: bool
    conflicts: list[str]
    moves: dict[str, int]
    fills: list[str]


@router.get("/people/merge", response=MergePlanOut)
def person_merge_preview(request: HttpRequest, keep_id: int, merge_id: int) -> dict[str, Any]:
    _editor(request)
    plan = services.person_merge_plan(
        keep=_person(request, keep_id), merge=_person(request, merge_id)
    )
    return {
        "keep_id": plan.keep.pk,
        "merge_id": plan.merge.pk,
        "possible": plan.possible,
        "conflicts": [str(c) for c in plan.conflicts],
        "moves": plan.moves,
        "fills": list(plan.fills),
    }


@router.post("/people/merge", response={200: PersonOut, 409: ErrorOut})
def person_merge(request: HttpRequest, payload: MergeIn) -> Any:
    user = _editor(request)
    keep = _person(request, payload.keep_id)
    merge = _person(request, payload.merge_id)
    try:
        return services.person_merge(keep=keep, merge=merge, by=user)
    except ValidationError as exc:
        return _errors(exc, 409)


@router.get("/people/{person_id}", response=PersonOut)
def person(request: HttpRequest, person_id: int) -> Person:
    return _person(request, person_id)


@router.post("/people", response={201: PersonOut, 400: ErrorOut})
def person_create(request: HttpRequest, payload: PersonIn) -> Any:
    """Register a resident. The same ID number is refused; the same name and phone as an
    existing record is refused unless `confirm_not_duplicate` (400 names the records)."""
    user = _editor(request)
    _community_404(request, payload.community_id)
    form = PersonForm(_person_data(payload.dict()), user=user)
    if not form.is_valid():
        return _form_errors(form)
    try:
        created = form.create()
    except ValidationError as exc:
        return _errors(exc)
    return Status(201, created)


@router.patch("/people/{person_id}", response={200: PersonOut, 400: ErrorOut, 409: ErrorOut})
def person_update(request: HttpRequest, person_id: int, payload: PersonPatch) -> Any:
    user = _editor(request)
    target = _person(request, person_id, active=True)
    _community_404(request, payload.community_id)
    data: dict[str, Any] = {
        name: getattr(target, name) for name in PersonForm.Meta.fields if name != "id_number"
    }
    data["community"] = target.community_id
    data.update(_person_data(payload.dict(exclude_unset=True)))
    data["expected_version"] = data.pop("version")
    form = PersonForm(data, instance=target, user=user)
    if not form.is_valid():
        return _form_errors(form)
    try:
        save_versioned(
            form.instance,
            expected_version=form.cleaned_data["expected_version"],
            fields=form.model_field_names(),
        )
    except ConcurrentEditError as exc:
        conflicts = [{"field": c.field, "theirs": str(c.theirs)} for c in exc.conflicts]
        return Status(409, {"detail": {"__all__": [str(exc)], "conflicts": conflicts}})
    return form.instance


class TagsIn(Schema):
    tags: list[str]


def _tags_user(request: HttpRequest) -> User:
    user = _user(request)
    if not sees_tags(scope_for(user)):
        raise HttpError(403, "困难情况标签仅对辖区工会工作人员开放")
    return user


@router.get("/people/{person_id}/tags", response=list[str])
def person_tags(request: HttpRequest, person_id: int) -> list[str]:
    user = _tags_user(request)
    target = _person(request, person_id)
    return list(
        PersonTag.objects.visible_to(user).filter(person=target).values_list("tag", flat=True)
    )


@router.put("/people/{person_id}/tags", response={200: list[str], 400: ErrorOut})
def person_tags_set(request: HttpRequest, person_id: int, payload: TagsIn) -> Any:
    _tags_user(request)
    _editor(request)
    target = _person(request, person_id, active=True)
    try:
        services.person_set_tags(person=target, tags=payload.tags)
    except ValidationError as exc:
        return _errors(exc)
    return sorted(PersonTag.objects.filter(person=target).values_list("tag", flat=True))


# ---- households ----------------------------------------------------------------------------


class HouseholdMemberOut(Schema):
    person_id: int
    name: str = Field(alias="person.name")
    relation: str


class HouseholdOut(Schema):
    id: int
    community_id: int
    address: str
    head_id: int
    members: list[HouseholdMemberOut]

    @staticmethod
    def resolve_members(obj: Household) -> list[HouseholdMember]:
        return list(obj.members.select_related("person").order_by("pk"))


class HouseholdIn(Schema):
    head_id: int
    address: str = ""


class HouseholdMemberIn(Schema):
    person_id: int
    relation: str


@router.get("/households", response=list[HouseholdOut])
@paginate
def households(request: HttpRequest, community_id: int | None = None) -> Any:
    found = Household.objects.visible_to(request.user).order_by("pk")
    return found.filter(community_id=community_id) if community_id is not None else found


@router.get("/households/{household_id}", response=HouseholdOut)
def household(request: HttpRequest, household_id: int) -> Household:
    return get_object_or_404(Household.objects.visible_to(request.user), pk=household_id)


@router.post("/households", response={201: HouseholdOut, 400: ErrorOut})
def household_create(request: HttpRequest, payload: HouseholdIn) -> Any:
    _editor(request)
    head = _person(request, payload.head_id, active=True)
    try:
        return Status(201, services.household_create(head=head, address=payload.address))
    except ValidationError as exc:
        return _errors(exc)


@router.post("/households/{household_id}/members", response={201: HouseholdOut, 400: ErrorOut})
def household_add_member(
    request: HttpRequest, household_id: int, payload: HouseholdMemberIn
) -> Any:
    _editor(request)
    target = get_object_or_404(Household.objects.visible_to(request.user), pk=household_id)
    member = _person(request, payload.person_id, active=True)
    try:
        services.household_add_member(household=target, person=member, relation=payload.relation)
    except ValidationError as exc:
        return _errors(exc)
    return Status(201, target)


@router.delete(
    "/households/{household_id}/members/{person_id}", response={204: None, 400: ErrorOut}
)
def household_remove_member(request: HttpRequest, household_id: int, person_id: int) -> Any:
    _editor(request)
    target = get_object_or_404(Household.objects.visible_to(request.user), pk=household_id)
    try:
        services.household_remove_member(household=target, person=_person(request, person_id))
    except ValidationError as exc:
        return _errors(exc)
    return Status(204, None)


# ---- memberships ---------------------------------------------------------------------------


class MembershipOut(Schema):
    id: int
    person_id: int
    person_name: str = Field(alias="person.name")
    union_id: int
    union_name: str = Field(alias="union.name")
    card_number: str
    joined_on: dt.date
    workplace: str
    status: str
    last_dues_on: dt.date | None
    last_activity_on: dt.date | None
    ended_on: dt.date | None
    end_reason: str
    previous_id: int | None
    version: int


class MembershipJoinIn(Schema):
    person_id: int
    union_id: int
    card_number: str
    joined_on: dt.date
    workplace: str = ""


class TransferIn(Schema):
    to_union_id: int
    on: dt.date
    card_number: str = ""
    workplace: str | None = None
    reason: str = ""


class WithdrawIn(Schema):
    on: dt.date
    reason: str


class ReinstateIn(Schema):
    on: dt.date
    union_id: int | None = None
    card_number: str = ""


class LifeIn(Schema):
    dues_on: dt.date | None = None
    activity_on: dt.date | None = None


def _memberships(request: HttpRequest) -> Any:
    return Membership.objects.visible_to(request.user).select_related("person", "union")


def _membership(request: HttpRequest, membership_id: int) -> Membership:
    _editor(request)
    return get_object_or_404(_memberships(request), pk=membership_id)


def _run(form: BaseForm, act: Any, status: int = 200) -> Any:
    """Validate the body with the page's form, then run the service."""
    if not form.is_valid():
        return _errors(form)
    try:
        result = act(form.cleaned_data)
    except ValidationError as exc:
        return _errors(exc)
    return Status(status, result)


@router.get("/memberships", response=list[MembershipOut])
@paginate
def memberships(
    request: HttpRequest, person_id: int | None = None, status: str | None = None
) -> Any:
    found = _memberships(request).order_by("-joined_on", "-pk")
    if person_id is not None:
        found = found.filter(person_id=person_id)
    return found.filter(status=status) if status else found


@router.get("/memberships/lapsed", response=list[MembershipOut])
@paginate
def memberships_lapsed(request: HttpRequest, on: dt.date | None = None) -> Any:
    """Active members with neither dues nor organisational life in the six months before
    `on` (today by default)."""
    return _memberships(request).lapsed(on=on or dt.date.today()).order_by("union__path", "pk")


@router.get("/memberships/{membership_id}", response=MembershipOut)
def membership(request: HttpRequest, membership_id: int) -> Membership:
    return get_object_or_404(_memberships(request), pk=membership_id)


@router.post("/memberships", response={201: MembershipOut, 400: ErrorOut})
def membership_join(request: HttpRequest, payload: MembershipJoinIn) -> Any:
    user = _editor(request)
    member = _person(request, payload.person_id, active=True)
    _union_404(request, payload.union_id)
    data = payload.dict()
    data["union"] = data.pop("union_id")
    form = MembershipJoinForm(data, user=user)
    return _run(form, lambda d: services.membership_join(person=member, **d), 201)


@router.post("/memberships/{membership_id}/transfer", response={201: MembershipOut, 400: ErrorOut})
def membership_transfer(request: HttpRequest, membership_id: int, payload: TransferIn) -> Any:
    current = _membership(request, membership_id)
    _union_404(request, payload.to_union_id)
    data = payload.dict()
    data["to_union"] = data.pop("to_union_id")
    keep_workplace = data["workplace"] is None
    form = MembershipTransferForm(data, user=_user(request), membership=current)
    return _run(
        form,
        lambda d: services.membership_transfer(
            membership=current, **{**d, "workplace": None if keep_workplace else d["workplace"]}
        ),
        201,
    )


@router.post("/memberships/{membership_id}/withdraw", response={200: MembershipOut, 400: ErrorOut})
def membership_withdraw(request: HttpRequest, membership_id: int, payload: WithdrawIn) -> Any:
    current = _membership(request, membership_id)
    form = MembershipWithdrawForm(payload.dict())
    return _run(form, lambda d: services.membership_withdraw(membership=current, **d))


@router.post("/memberships/{membership_id}/reinstate", response={201: MembershipOut, 400: ErrorOut})
def membership_reinstate(request: HttpRequest, membership_id: int, payload: ReinstateIn) -> Any:
    current = _membership(request, membership_id)
    _union_404(request, payload.union_id)
    data = payload.dict()
    data["union"] = data.pop("union_id")
    form = MembershipReinstateForm(data, user=_user(request))
    return _run(form, lambda d: services.membership_reinstate(membership=current, **d), 201)


@router.post("/memberships/{membership_id}/life", response={200: MembershipOut, 400: ErrorOut})
def membership_life(request: HttpRequest, membership_id: int, payload: LifeIn) -> Any:
    """Record dues paid and/or organisational life attended."""
    current = _membership(request, membership_id)
    form = MembershipLifeForm(payload.dict())
    return _run(form, lambda d: services.membership_record_life(membership=current, **d))


# ---- search --------------------------------------------------------------------------------


class FoundPerson(Schema):
    id: int
    name: str
    id_number_masked: str
    phone: str
    community_id: int
    community_name: str = Field(alias="community.name")


class FoundOrganization(Schema):
    id: int
    name: str
    kind: str


class FoundCommunity(Schema):
    id: int
    name: str


class SearchOut(Schema):
    kind: str
    people: list[FoundPerson]
    organizations: list[FoundOrganization]
    communities: list[FoundCommunity]


@router.get("/search", response=SearchOut)
def search_all(request: HttpRequest, q: str, limit: int = 20) -> dict[str, Any]:
    """People, organisations and communities by Chinese name, full pinyin or initials
    (zs → 张三, kxsq → 凯旋社区), phone or ID number; each within the caller's scope."""
    found = search(_user(request), q, limit=max(1, min(limit, 100)))
    return {
        "kind": found.query.kind.value,
        "people": found.people,
        "organizations": found.organizations,
        "communities": found.communities,
    }
