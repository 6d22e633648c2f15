"""Pages of 组织联建: the organisation tree, communities, their restructuring, and venues."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from sanlian.core.decorators import role_required
from sanlian.core.editing import versioned_edit
from sanlian.core.forms import add_service_errors
from sanlian.core.roles import Role
from sanlian.core.xlsx import export_response, wants_xlsx

from .. import profile, services
from ..forms import (
    CommunityCreateForm,
    CommunityForm,
    CommunityMergeForm,
    CommunityMoveForm,
    CommunitySplitForm,
    OrganizationCreateForm,
    OrganizationForm,
    OrganizationMoveForm,
    OrganizationReactivateForm,
    OrganizationRetireForm,
    VenueCreateForm,
    VenueForm,
)
from ..models import (
    Community,
    CommunityAreaPeriod,
    Membership,
    Organization,
    OrgKind,
    Person,
    SocialWorker,
    Venue,
    Volunteer,
)
from ..queries import community_rows
from ..services import restructuring
from .common import EDITORS, RESTRUCTURERS, user_of

VENUE_EDITORS = (*EDITORS, Role.SOCIAL_ORG_MANAGER)
# Social workers and volunteers listed on a community's page (the counts say how many in all).
SHOWN = 50


# ---- the tree --------------------------------------------------------------------------------


@login_required
def organization_tree(request: HttpRequest) -> HttpResponse:
    orgs = list(
        Organization.objects.visible_to(request.user)
        .active()
        .order_by("path")
        .only("id", "name", "kind", "path", "parent_id")
    )
    visible = {o.pk for o in orgs}
    # Roots of the visible forest: nodes whose parent the user cannot see.
    children: dict[int | None, list[Organization]] = {}
    for o in orgs:
        key = o.parent_id if o.parent_id in visible else None
        children.setdefault(key, []).append(o)
    context = {
        "children": children,
        "roots": children.get(None, []),
        "can_edit": user_of(request).has_role(*EDITORS),
        "can_restructure": user_of(request).has_role(*RESTRUCTURERS),
    }
    return render(request, "organizations/tree.html", context)


@login_required
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    org = get_object_or_404(Organization.objects.visible_to(user), pk=pk)
    context = {
        "org": org,
        "ancestors": Organization.objects.filter(pk__in=org.ancestor_ids())
        .exclude(pk=org.pk)
        .order_by("path"),
        "children": Organization.objects.visible_to(user).filter(parent=org).active(),
        "social_workers": SocialWorker.objects.visible_to(user)
        .filter(organization=org)
        .select_related("person"),
        "venues": Venue.objects.visible_to(user).filter(organization=org),
        "community": Community.objects.visible_to(user).filter(organization=org).first(),
        "can_edit": org.is_active and user.has_role(*EDITORS),
        "can_reactivate": not org.is_active and user.has_role(*EDITORS),
        "can_restructure": org.is_active and user.has_role(*RESTRUCTURERS),
    }
    return render(request, "organizations/organization_detail.html", context)


@role_required(*EDITORS)
def organization_create(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    visible = Organization.objects.visible_to(user)
    parent = None
    if request.GET.get("parent", "").isdigit():
        parent = get_object_or_404(visible, pk=int(request.GET["parent"]))
    form = OrganizationCreateForm(request.POST or None, parents=visible, parent=parent)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            org = services.organization_create(
                by=user,
                kind=data["kind"],
                parent=data["parent"],
                name=data["name"],
                **{f: data[f] for f in services.tree.ORG_FIELDS if f in data},
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已新增组织“%(name)s”。") % {"name": org.name})
            return redirect(org.get_absolute_url())
    return render(
        request, "organizations/tree/organization_create.html", {"form": form, "parent": parent}
    )


@role_required(*EDITORS)
def organization_edit(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_object_or_404(Organization.objects.visible_to(request.user), pk=pk)
    return versioned_edit(request, org, OrganizationForm, "organizations/organization_form.html")


@role_required(*EDITORS)
def organization_move(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    visible = Organization.objects.visible_to(user)
    org = get_object_or_404(visible.active(), pk=pk)
    community = Community.objects.filter(organization=org).first()
    if community is not None:
        # A community moves with a preview of everything that hangs on it.
        return redirect("organizations:community_restructure", community.pk, "move")
    form = OrganizationMoveForm(request.POST or None, org=org, parents=visible)
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_move(
                org=org,
                new_parent=form.cleaned_data["parent"],
                by=user,
                effective_on=form.cleaned_data["effective_on"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("已将“%(name)s”移至“%(parent)s”之下。")
                % {"name": org.name, "parent": form.cleaned_data["parent"].name},
            )
            return redirect(org.get_absolute_url())
    context = {
        "form": form,
        "org": org,
        "subtree": visible.filter(path__startswith=org.path).count(),
    }
    return render(request, "organizations/tree/organization_move.html", context)


@role_required(*EDITORS)
def organization_retire(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    org = get_object_or_404(Organization.objects.visible_to(user).active(), pk=pk)
    form = OrganizationRetireForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_retire(
                org=org,
                by=user,
                on=form.cleaned_data["retired_on"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已撤销“%(name)s”。") % {"name": org.name})
            return redirect(org.get_absolute_url())
    context = {"form": form, "org": org, "blockers": services.retire_blockers(org)}
    return render(request, "organizations/tree/organization_retire.html", context)


@role_required(*EDITORS)
def organization_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    org = get_object_or_404(Organization.objects.visible_to(user).filter(is_active=False), pk=pk)
    form = OrganizationReactivateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_reactivate(org=org, by=user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已恢复“%(name)s”。") % {"name": org.name})
            return redirect(org.get_absolute_url())
    return render(
        request, "organizations/tree/organization_reactivate.html", {"form": form, "org": org}
    )


# ---- communities ---------------------------------------------------------------------------


@login_required
def community_list(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    rows: Any = (
        community_rows(user)
        .filter(organization__is_active=True)
        .order_by("district__name", "street__name", "name")
    )
    if wants_xlsx(request):
        return export_response(
            request,
            filename="communities.xlsx",
            object_type="organizations.Community",
            headers=[
                _("区"),
                _("街道"),
                _("社区"),
                _("分类"),
                _("常住人口"),
                _("在职职工"),
                _("退休人员"),
                _("登记居民"),
                _("会员"),
            ],
            rows=(
                [
                    c.district.name,
                    c.street.name,
                    c.name,
                    c.get_tier_display(),
                    c.population,
                    c.worker_count,
                    c.retiree_count,
                    c.people_count,
                    c.member_count,
                ]
                for c in rows
            ),
            title=_("社区"),
        )
    context = {"communities": rows, "can_create": user.has_role(*RESTRUCTURERS)}
    return render(request, "organizations/community_list.html", context)


@role_required(*RESTRUCTURERS)
def community_create(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    form = CommunityCreateForm(request.POST or None, streets=Organization.objects.visible_to(user))
    if request.method == "POST" and form.is_valid():
        try:
            community = services.community_create(by=user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已新增社区“%(name)s”。") % {"name": community.name})
            return redirect(community.get_absolute_url())
    return render(request, "organizations/tree/community_create.html", {"form": form})


def _count(rows: QuerySet[Any], shown: list[Any]) -> int:
    """How many `rows` there are: the list shown already says so unless it was cut short."""
    return len(shown) if len(shown) < SHOWN else rows.count()


def community_profile(user: Any, community: Community) -> dict[str, Any]:
    """What the community page shows at a glance (each read scoped to the user)."""
    union = community.organization
    below = Q(path__startswith=union.path) & ~Q(pk=union.pk)
    orgs = list(
        Organization.objects.visible_to(user)
        .filter(below)
        .active()
        .annotate(staff_count=Count("social_workers", filter=Q(social_workers__status="active")))
        .order_by("kind", "path")
    )
    by_kind: dict[str, list[Organization]] = {}
    for o in orgs:
        by_kind.setdefault(o.get_kind_display(), []).append(o)
    workers = (
        SocialWorker.objects.visible_to(user)
        .active()
        .filter(organization__path__startswith=union.path)
    )
    volunteers = Volunteer.objects.visible_to(user).filter(team__path__startswith=union.path)
    shown_workers = list(workers.select_related("person", "organization").order_by("pk")[:SHOWN])
    shown_volunteers = list(volunteers.select_related("person", "team").order_by("pk")[:SHOWN])
    return {
        "community": community,
        "org_groups": sorted(by_kind.items(), key=lambda kv: -len(kv[1])),
        "org_count": len(orgs),
        "people_count": Person.objects.visible_to(user).filter(community=community).count(),
        "members_count": Membership.objects.visible_to(user)
        .active()
        .filter(union__path__startswith=union.path)
        .count(),
        "social_worker_count": _count(workers, shown_workers),
        "volunteer_count": _count(volunteers, shown_volunteers),
        "social_workers": shown_workers,
        "volunteers": shown_volunteers,
        "venues": Venue.objects.visible_to(user)
        .filter(Q(community=community) | Q(organization__path__startswith=union.path))
        .active()
        .select_related("organization"),
        "periods": CommunityAreaPeriod.objects.filter(community=community)
        .select_related("street", "district")
        .order_by("-valid_from"),
        "merged_from": Community.objects.visible_to(user).filter(merged_into=community),
    }


@login_required
def community_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    community = get_object_or_404(
        Community.objects.visible_to(user).select_related(
            "organization", "street", "district", "merged_into"
        ),
        pk=pk,
    )
    context = community_profile(user, community)
    active = community.organization.is_active
    context["can_edit"] = active and user.has_role(*EDITORS)
    context["can_restructure"] = active and user.has_role(*RESTRUCTURERS)
    context["can_add_venue"] = active and user.has_role(*EDITORS)
    context["sections"] = profile.sections_for(profile.COMMUNITY, user, community)
    return render(request, "organizations/community_detail.html", context)


@role_required(*EDITORS)
def community_edit(request: HttpRequest, pk: int) -> HttpResponse:
    community = get_object_or_404(Community.objects.visible_to(request.user), pk=pk)
    return versioned_edit(request, community, CommunityForm, "organizations/community_form.html")


# ---- restructuring -------------------------------------------------------------------------


def _restructure_form(kind: str, data: Any, user: Any, community: Community) -> forms.Form:
    if kind == restructuring.MOVE:
        return CommunityMoveForm(
            data, community=community, streets=Organization.objects.visible_to(user)
        )
    if kind == restructuring.MERGE:
        return CommunityMergeForm(
            data, community=community, communities=Community.objects.visible_to(user)
        )
    return CommunitySplitForm(data, community=community)


def _split_people(form: CommunitySplitForm, community: Community) -> frozenset[int]:
    chosen = [p.pk for p in form.cleaned_data.get("people") or []]
    return restructuring.people_to_split(
        community, address_prefixes=form.prefixes(), person_ids=chosen
    )


def _preview(kind: str, form: forms.Form, community: Community) -> restructuring.Preview:
    data = form.cleaned_data
    if kind == restructuring.MOVE:
        return services.community_move_preview(community=community, street=data["street"])
    if kind == restructuring.MERGE:
        return services.community_merge_preview(source=community, target=data["target"])
    assert isinstance(form, CommunitySplitForm)
    return services.community_split_preview(
        community=community,
        person_ids=_split_people(form, community),
        organization_ids=[o.pk for o in data.get("organizations") or []],
    )


def _execute(kind: str, form: forms.Form, community: Community, user: Any) -> Community:
    """Run the restructuring; returns the community to show afterwards."""
    data = form.cleaned_data
    common = {
        "by": user,
        "effective_on": data["effective_on"],
        "expected_digest": data.get("preview_digest") or None,
    }
    if kind == restructuring.MOVE:
        services.community_move(community=community, street=data["street"], **common)
        return community
    if kind == restructuring.MERGE:
        services.community_merge(source=community, target=data["target"], **common)
        target: Community = data["target"]
        return target
    assert isinstance(form, CommunitySplitForm)
    result = services.community_split(
        community=community,
        name=data["name"],
        tier=data["tier"],
        address=data["address"],
        person_ids=_split_people(form, community),
        organization_ids=[o.pk for o in data.get("organizations") or []],
        population=data["population"],
        worker_count=data["worker_count"],
        retiree_count=data["retiree_count"],
        **common,
    )
    return result.new


@role_required(*RESTRUCTURERS)
def community_restructure(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """Form → preview of everything that moves → confirm. A confirmation whose preview no
    longer matches the data is shown the new preview instead of being carried out."""
    if kind not in restructuring.KIND_LABELS:
        raise Http404
    user = user_of(request)
    community = get_object_or_404(
        Community.objects.visible_to(user).select_related("organization", "street", "district"),
        pk=pk,
    )
    action = request.POST.get("action", "")
    form = _restructure_form(kind, request.POST or None, user, community)
    context: dict[str, Any] = {
        "form": form,
        "community": community,
        "kind": kind,
        "kind_label": restructuring.KIND_LABELS[kind],
        "kinds": restructuring.KIND_LABELS,
    }
    if action in ("preview", "confirm") and form.is_valid():
        try:
            if action == "confirm":
                shown = _execute(kind, form, community, user)
                messages.success(
                    request,
                    _("区划调整已完成：%(what)s。") % {"what": restructuring.KIND_LABELS[kind]},
                )
                return redirect(shown.get_absolute_url())
            result = _preview(kind, form, community)
        except ValidationError as exc:
            if getattr(exc, "code", None) != "stale_preview":
                add_service_errors(form, exc)
                return render(request, "organizations/tree/community_restructure.html", context)
            messages.warning(request, exc.messages[0])
            result = _preview(kind, form, community)
        data = form.data.copy()  # type: ignore[attr-defined]
        data["preview_digest"] = result.digest
        context["confirm_form"] = _restructure_form(kind, data, user, community)
        context["preview"] = result
        return render(request, "organizations/tree/community_preview.html", context)
    return render(request, "organizations/tree/community_restructure.html", context)


# ---- venues --------------------------------------------------------------------------------


@login_required
def venue_list(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    venues = (
        Venue.objects.visible_to(user)
        .select_related("community", "organization")
        .order_by("-is_active", "community__organization__path", "organization__path", "pk")
    )
    kind = request.GET.get("kind", "")
    if kind:
        venues = venues.filter(kind=kind)
    context = {
        "venues": venues,
        "kind": kind,
        "kinds": Venue._meta.get_field("kind").choices,
        "can_add": user.has_role(*VENUE_EDITORS),
    }
    return render(request, "organizations/tree/venue_list.html", context)


@login_required
def venue_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    venue = get_object_or_404(
        Venue.objects.visible_to(user).select_related("community", "organization"), pk=pk
    )
    context = {
        "venue": venue,
        "can_edit": _may_edit_venue(user, venue),
        "sections": profile.sections_for(profile.VENUE, user, venue),
    }
    return render(request, "organizations/tree/venue_detail.html", context)


def _venue_owners(user: Any) -> dict[str, Any]:
    """Where a user may put a venue: area staff their communities and organisations, a social
    organisation its own premises."""
    if user.has_role(*EDITORS):
        return {
            "communities": Community.objects.visible_to(user),
            "organizations": Organization.objects.visible_to(user).exclude(
                kind=OrgKind.COMMUNITY_UNION
            ),
        }
    return {
        "communities": Community.objects.none(),
        "organizations": Organization.objects.visible_to(user).filter(pk=user.organization_id),
    }


def _may_edit_venue(user: Any, venue: Venue) -> bool:
    owners = _venue_owners(user)
    if venue.community_id is not None:
        return bool(owners["communities"].filter(pk=venue.community_id).exists())
    return bool(owners["organizations"].filter(pk=venue.organization_id).exists())


@role_required(*VENUE_EDITORS)
def venue_create(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    owners = _venue_owners(user)
    initial = {}
    if request.GET.get("community", "").isdigit():
        initial["community"] = get_object_or_404(
            owners["communities"], pk=int(request.GET["community"])
        )
    form = VenueCreateForm(request.POST or None, initial=initial, **owners)
    if request.method == "POST" and form.is_valid():
        venue = form.save()
        messages.success(request, _("已新增场地“%(name)s”。") % {"name": venue.name})
        return redirect(venue.get_absolute_url())
    return render(request, "organizations/tree/venue_form.html", {"form": form, "object": None})


@role_required(*VENUE_EDITORS)
def venue_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    venue = get_object_or_404(Venue.objects.visible_to(user), pk=pk)
    if not _may_edit_venue(user, venue):
        raise Http404

    class ScopedVenueForm(VenueForm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs, **_venue_owners(user))

    return versioned_edit(request, venue, ScopedVenueForm, "organizations/tree/venue_form.html")
