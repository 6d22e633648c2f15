"""Pages of 组织联建: The organisation tree and communities."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from sanlian.core import audit
from sanlian.core.decorators import role_required
from sanlian.core.editing import versioned_edit
from sanlian.core.models import AuditAction
from sanlian.core.xlsx import xlsx_response

from ..forms import CommunityForm, OrganizationForm
from ..models import Community, Organization, Person, SocialWorker, Volunteer
from ..queries import community_rows
from .common import EDITORS, user_of


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
    return render(
        request, "organizations/tree.html", {"children": children, "roots": children.get(None, [])}
    )


@login_required
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_object_or_404(Organization.objects.visible_to(request.user), pk=pk)
    context = {
        "org": org,
        "ancestors": Organization.objects.filter(pk__in=org.ancestor_ids()).exclude(pk=org.pk),
        "children": Organization.objects.visible_to(request.user).filter(parent=org).active(),
        "social_workers": SocialWorker.objects.visible_to(request.user)
        .filter(organization=org)
        .select_related("person"),
        "community": Community.objects.visible_to(request.user).filter(organization=org).first(),
        "can_edit": request.user.has_role(*EDITORS),  # type: ignore[union-attr]
    }
    return render(request, "organizations/organization_detail.html", context)


@role_required(*EDITORS)
def organization_edit(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_object_or_404(Organization.objects.visible_to(request.user), pk=pk)
    return versioned_edit(request, org, OrganizationForm, "organizations/organization_form.html")


@login_required
def community_list(request: HttpRequest) -> HttpResponse:
    rows: Any = community_rows(user_of(request)).order_by("district__name", "street__name", "name")
    if request.GET.get("format") == "xlsx":
        audit.record(AuditAction.EXPORT, object_type="organizations.Community")
        return xlsx_response(
            "communities.xlsx",
            [
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
            (
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
    return render(request, "organizations/community_list.html", {"communities": rows})


@login_required
def community_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    community = get_object_or_404(
        Community.objects.visible_to(user).select_related("organization", "street", "district"),
        pk=pk,
    )
    org = community.organization
    context = {
        "community": community,
        "organizations": Organization.objects.visible_to(user)
        .filter(parent=org)
        .active()
        .annotate(staff_count=Count("social_workers")),
        "people_count": Person.objects.visible_to(user).filter(community=community).count(),
        "members_count": org.members.filter(status="active").count(),
        "social_workers": SocialWorker.objects.visible_to(user)
        .filter(organization__parent=org)
        .select_related("person", "organization")[:50],
        "volunteers": Volunteer.objects.visible_to(user)
        .filter(team__parent=org)
        .select_related("person", "team")[:50],
        "can_edit": user.has_role(*EDITORS),
    }
    return render(request, "organizations/community_detail.html", context)


@role_required(*EDITORS)
def community_edit(request: HttpRequest, pk: int) -> HttpResponse:
    community = get_object_or_404(Community.objects.visible_to(request.user), pk=pk)
    return versioned_edit(request, community, CommunityForm, "organizations/community_form.html")
