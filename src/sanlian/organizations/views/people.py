"""Pages of 组织联建: residents and workers, households, union members, duplicates, search."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sanlian.core import audit
from sanlian.core.decorators import role_required
from sanlian.core.editing import versioned_edit
from sanlian.core.scoping import scope_for
from sanlian.core.xlsx import disclosure_for, export_response, wants_xlsx

from .. import services
from ..forms import (
    HouseholdCreateForm,
    HouseholdMemberForm,
    LapsedFilterForm,
    MembershipJoinForm,
    MembershipLifeForm,
    MembershipReinstateForm,
    MembershipTransferForm,
    MembershipWithdrawForm,
    PersonFilterForm,
    PersonForm,
    PersonTagsForm,
    person_form_for,
)
from ..models import (
    Community,
    Household,
    HouseholdMember,
    Membership,
    MembershipStatus,
    Person,
    PersonTag,
    sees_tags,
)
from ..queries import person_search, search
from .common import user_of

PEOPLE_EDITORS = services.PEOPLE_EDITORS


def _error_text(exc: ValidationError) -> str:
    return "；".join(str(m) for m in exc.messages)


def _can_edit(user: Any) -> bool:
    return bool(user.has_role(*PEOPLE_EDITORS))


def _communities(user: Any) -> list[tuple[int, str]]:
    return [
        (c.pk, c.name)
        for c in Community.objects.visible_to(user).only("id", "name").order_by("name")
    ]


# ---- people --------------------------------------------------------------------------------


def _filtered_people(request: HttpRequest, form: PersonFilterForm) -> QuerySet[Person]:
    user = user_of(request)
    data = form.cleaned_data if form.is_valid() else {}
    people = person_search(user, data.get("q") or "")
    if data.get("community"):
        people = people.filter(community_id=data["community"])
    group = data.get("group")
    active_members = Membership.objects.active().filter(person=OuterRef("pk"))
    if group == "worker":
        people = people.filter(is_retired=False)
    elif group == "retired":
        people = people.filter(is_retired=True)
    elif group == "new_employment":
        people = people.filter(is_new_employment=True)
    elif group == "member":
        people = people.filter(Exists(active_members))
    elif group == "non_member":
        people = people.exclude(Exists(active_members))
    if data.get("tag") and "tag" in form.fields:
        people = people.filter(
            Exists(PersonTag.objects.filter(person=OuterRef("pk"), tag=data["tag"]))
        )
    return people.select_related("community").order_by("pk")


@login_required
def person_list(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    show_tags = sees_tags(scope_for(user))
    form = PersonFilterForm(
        request.GET or None, communities=_communities(user), show_tags=show_tags
    )
    people = _filtered_people(request, form)
    if wants_xlsx(request):
        disclosure = disclosure_for(user)
        return export_response(
            request,
            filename="people.xlsx",
            object_type="organizations.Person",
            headers=[
                _("姓名"),
                _("性别"),
                _("身份证号"),
                _("手机号"),
                _("社区"),
                _("工作单位"),
                _("退休"),
                _("新就业形态"),
            ],
            rows=(
                [
                    p.name,
                    p.get_sex_display(),
                    p.id_number_masked,
                    disclosure.phone(p.phone),
                    p.community.name,
                    p.workplace,
                    _("是") if p.is_retired else _("否"),
                    p.get_new_employment_kind_display(),
                ]
                for p in people.iterator(chunk_size=2000)
            ),
            title=_("居民"),
        )
    page = Paginator(people, 50).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "can_edit": _can_edit(user)}
    return render(request, "organizations/person_list.html", context)


@role_required(*PEOPLE_EDITORS)
def person_create(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    form = PersonForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            person = form.create()
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("已登记 %(name)s。") % {"name": person.name})
            return redirect(person)
    return render(request, "organizations/person_form.html", {"form": form, "object": None})


@role_required(*PEOPLE_EDITORS)
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    person = get_object_or_404(Person.objects.visible_to(user).active(), pk=pk)
    return versioned_edit(request, person, person_form_for(user), "organizations/person_form.html")


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    person = get_object_or_404(
        Person.objects.visible_to(user).select_related("community", "employer", "merged_into"),
        pk=pk,
    )
    full_id = None
    if request.method == "POST" and request.POST.get("reveal") == "id_number":
        # Showing the full ID number is a view of confidential data: audited every time.
        full_id = person.id_number()
        audit.record_view(request, person, "id_number")
    today = dt.date.today()
    memberships = list(
        Membership.objects.visible_to(user)
        .filter(person=person)
        .select_related("union")
        .order_by("-joined_on", "-pk")
    )
    current = next((m for m in memberships if m.status == MembershipStatus.ACTIVE), None)
    # Family and vulnerable situations are for the area's union staff only.
    area_view = sees_tags(scope_for(user))
    household_link = (
        HouseholdMember.objects.visible_to(user)
        .filter(person=person)
        .select_related("household__head")
        .first()
    )
    context = {
        "person": person,
        "full_id": full_id,
        "memberships": memberships,
        "current": current,
        "lapsed": current is not None and current.is_lapsed(today),
        "withdrawn_last": memberships[0]
        if memberships and memberships[0].status == MembershipStatus.WITHDRAWN
        else None,
        "household_link": household_link,
        "household_members": HouseholdMember.objects.filter(household=household_link.household)
        .select_related("person")
        .order_by("pk")
        if household_link
        else [],
        "area_view": area_view,
        "tags": PersonTag.objects.visible_to(user).filter(person=person) if area_view else [],
        "tags_form": PersonTagsForm(
            initial={"tags": [t.tag for t in PersonTag.objects.filter(person=person)]}
        )
        if area_view
        else None,
        "can_edit": _can_edit(user) and person.is_active,
        "household_form": HouseholdCreateForm(initial={"address": person.address}),
        "life_form": MembershipLifeForm(),
    }
    return render(request, "organizations/person_detail.html", context)


@require_POST
@role_required(*PEOPLE_EDITORS)
def person_tags(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    person = get_object_or_404(Person.objects.visible_to(user).active(), pk=pk)
    form = PersonTagsForm(request.POST)
    if form.is_valid():
        services.person_set_tags(person=person, tags=form.cleaned_data["tags"])
        messages.success(request, _("困难情况标签已更新。"))
    return redirect(person)


# ---- households ----------------------------------------------------------------------------


@require_POST
@role_required(*PEOPLE_EDITORS)
def household_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    person = get_object_or_404(Person.objects.visible_to(user).active(), pk=pk)
    form = HouseholdCreateForm(request.POST)
    if not form.is_valid():
        return redirect(person)
    try:
        household = services.household_create(head=person, address=form.cleaned_data["address"])
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect(person)
    messages.success(request, _("已建立家庭，%(name)s 为户主。") % {"name": person.name})
    return redirect(household)


@login_required
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    household = get_object_or_404(
        Household.objects.visible_to(user).select_related("community", "head"), pk=pk
    )
    candidates = Person.objects.visible_to(user).active().filter(community=household.community)
    form = HouseholdMemberForm(request.POST or None, candidates=candidates)
    if request.method == "POST":
        if not _can_edit(user):
            return HttpResponse(status=403)
        if form.is_valid() and form.person is not None:
            try:
                services.household_add_member(
                    household=household,
                    person=form.person,
                    relation=form.cleaned_data["relation"],
                )
            except ValidationError as exc:
                form.add_error("who", _error_text(exc))
            else:
                messages.success(request, _("已添加 %(name)s。") % {"name": form.person.name})
                return redirect(household)
    members = household.members.select_related("person").order_by("pk")
    context = {
        "household": household,
        "members": members,
        "form": form,
        "can_edit": _can_edit(user),
    }
    return render(request, "organizations/people/household_detail.html", context)


@require_POST
@role_required(*PEOPLE_EDITORS)
def household_remove(request: HttpRequest, pk: int, person_pk: int) -> HttpResponse:
    user = user_of(request)
    household = get_object_or_404(Household.objects.visible_to(user), pk=pk)
    person = get_object_or_404(Person.objects.visible_to(user), pk=person_pk)
    try:
        still_there = services.household_remove_member(household=household, person=person)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect(household)
    messages.success(request, _("已将 %(name)s 移出家庭。") % {"name": person.name})
    return redirect(household if still_there else person)


# ---- memberships ---------------------------------------------------------------------------


def _membership_action(
    request: HttpRequest,
    *,
    title: str,
    person: Person,
    form: Any,
    act: Any,
    done: str,
) -> HttpResponse:
    """Render a membership form; on a valid POST run `act(cleaned_data)` (a service call)."""
    if request.method == "POST" and form.is_valid():
        try:
            act(form.cleaned_data)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for name, errors in exc.error_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            messages.success(request, done)
            return redirect(person)
    context = {"title": title, "person": person, "form": form}
    return render(request, "organizations/people/membership_form.html", context)


def _renamed(cleaned: dict[str, Any], **names: str) -> dict[str, Any]:
    return {names.get(k, k): v for k, v in cleaned.items()}


@role_required(*PEOPLE_EDITORS)
def membership_join(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    person = get_object_or_404(Person.objects.visible_to(user).active(), pk=pk)
    form = MembershipJoinForm(
        request.POST or None,
        user=user,
        initial={"union": person.community.organization_id, "workplace": person.workplace},
    )
    return _membership_action(
        request,
        title=_("办理入会"),
        person=person,
        form=form,
        act=lambda d: services.membership_join(person=person, **d),
        done=_("已办理入会。"),
    )


def _membership(request: HttpRequest, pk: int) -> Membership:
    return get_object_or_404(
        Membership.objects.visible_to(user_of(request)).select_related("person", "union"), pk=pk
    )


@role_required(*PEOPLE_EDITORS)
def membership_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request, pk)
    form = MembershipTransferForm(
        request.POST or None, user=user_of(request), membership=membership
    )
    return _membership_action(
        request,
        title=_("办理转会：%(u)s 转出") % {"u": membership.union.name},
        person=membership.person,
        form=form,
        act=lambda d: services.membership_transfer(
            membership=membership, **{**d, "workplace": d["workplace"] or None}
        ),
        done=_("已办理转会。"),
    )


@role_required(*PEOPLE_EDITORS)
def membership_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request, pk)
    return _membership_action(
        request,
        title=_("办理退会"),
        person=membership.person,
        form=MembershipWithdrawForm(request.POST or None),
        act=lambda d: services.membership_withdraw(membership=membership, **d),
        done=_("已办理退会。"),
    )


@role_required(*PEOPLE_EDITORS)
def membership_reinstate(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request, pk)
    return _membership_action(
        request,
        title=_("恢复会籍"),
        person=membership.person,
        form=MembershipReinstateForm(request.POST or None, user=user_of(request)),
        act=lambda d: services.membership_reinstate(membership=membership, **d),
        done=_("已恢复会籍。"),
    )


@require_POST
@role_required(*PEOPLE_EDITORS)
def membership_life(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request, pk)
    form = MembershipLifeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect(membership.person)
    try:
        services.membership_record_life(membership=membership, **form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("已登记。"))
    return redirect(membership.person)


@login_required
def lapsed_list(request: HttpRequest) -> HttpResponse:
    """Members with neither dues nor organisational life for six months (the constitution
    treats them as withdrawn): a list to follow up, within the user's scope."""
    user = user_of(request)
    form = LapsedFilterForm(request.GET or None, communities=_communities(user))
    today = dt.date.today()
    rows = (
        Membership.objects.visible_to(user)
        .lapsed(on=today)
        .select_related("person__community", "union")
        .order_by("union__path", "person__name", "pk")
    )
    if form.is_valid() and form.cleaned_data["community"]:
        rows = rows.filter(person__community_id=form.cleaned_data["community"])
    if wants_xlsx(request):
        disclosure = disclosure_for(user)
        return export_response(
            request,
            filename="lapsed-members.xlsx",
            object_type="organizations.Membership",
            headers=[
                _("姓名"),
                _("会员证号"),
                _("所属工会"),
                _("社区"),
                _("手机号"),
                _("入会时间"),
                _("最近缴纳会费"),
                _("最近参加组织生活"),
            ],
            rows=(
                [
                    m.person.name,
                    m.card_number,
                    m.union.name,
                    m.person.community.name,
                    disclosure.phone(m.person.phone),
                    m.joined_on,
                    m.last_dues_on,
                    m.last_activity_on,
                ]
                for m in rows.iterator(chunk_size=2000)
            ),
            title=_("会籍预警"),
        )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "today": today}
    return render(request, "organizations/people/lapsed_list.html", context)


# ---- duplicates and merging ----------------------------------------------------------------


@role_required(*PEOPLE_EDITORS)
def duplicate_list(request: HttpRequest) -> HttpResponse:
    """Active records sharing name and phone: probably one person entered twice."""
    people = Person.objects.visible_to(user_of(request)).active().exclude(phone="")
    keys = list(
        people.values("name", "phone")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .order_by("name", "phone")[:100]
    )
    groups: list[list[Person]] = []
    if keys:
        match = Q()
        for k in keys:
            match |= Q(name=k["name"], phone=k["phone"])
        by_key: dict[tuple[str, str], list[Person]] = {}
        for p in people.filter(match).select_related("community").order_by("pk"):
            by_key.setdefault((p.name, p.phone), []).append(p)
        groups = [
            by_key[(k["name"], k["phone"])] for k in keys if (k["name"], k["phone"]) in by_key
        ]
    return render(request, "organizations/people/duplicates.html", {"groups": groups})


@role_required(*PEOPLE_EDITORS)
def person_merge(request: HttpRequest) -> HttpResponse:
    """Preview merging one record into another (GET), then do it (POST)."""
    user = user_of(request)
    source = request.POST if request.method == "POST" else request.GET
    try:
        keep_pk, merge_pk = int(source.get("keep", "")), int(source.get("merge", ""))
    except ValueError:
        messages.error(request, _("请选择要合并的两条记录。"))
        return redirect("organizations:duplicate_list")
    visible = Person.objects.visible_to(user).select_related("community", "employer")
    keep = get_object_or_404(visible, pk=keep_pk)
    merge = get_object_or_404(visible, pk=merge_pk)
    if request.method == "POST":
        try:
            services.person_merge(keep=keep, merge=merge, by=user)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(
                request, _("已将 %(name)s 的另一条记录合并到本记录。") % {"name": merge.name}
            )
            return redirect(keep)
    plan = services.person_merge_plan(keep=keep, merge=merge)
    return render(request, "organizations/people/merge.html", {"plan": plan})


# ---- search --------------------------------------------------------------------------------


@login_required
def search_page(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    results = search(user_of(request), q) if q.strip() else None
    return render(request, "organizations/people/search.html", {"q": q, "results": results})
