"""The home page: a real starting point for each role, built from what the links record."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from sanlian.core.models import AuditEntry, TaskRun, User
from sanlian.core.roles import Role
from sanlian.core.scoping import AREA_ROLES
from sanlian.organizations.models import (
    Community,
    Organization,
    OrgKind,
    Person,
    SocialWorker,
    Tier,
    Volunteer,
)
from sanlian.organizations.queries import AreaSummary, area_summary


def _tier_chart(summary: AreaSummary) -> dict[str, Any]:
    return {
        "_kind": "pie",
        "categories": list(summary.by_tier),
        "series": [{"name": _("社区数"), "data": list(summary.by_tier.values())}],
        "color": ["#c9a227", "#607d8b", "#e07b39"],
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    org = user.organization
    ctx: dict[str, Any] = {"org": org}
    if user.has_role(*AREA_ROLES):
        communities = Community.objects.visible_to(user)
        ctx["summary"] = summary = area_summary(user)
        ctx["tier_chart"] = _tier_chart(summary)
        ctx["children"] = (
            Organization.objects.visible_to(user)
            .filter(parent=org.area_node() if org else None)
            .areas()
            .order_by("name")
        )
        ctx["weak_communities"] = communities.filter(tier=Tier.WEAK).select_related("street")[:10]
        community = communities.filter(organization=org.area_node()).first() if org else None
        ctx["community"] = community
        template = "insights/home_area.html"
    elif user.has_role(Role.SOCIAL_ORG_MANAGER):
        ctx["staff"] = SocialWorker.objects.visible_to(user).select_related("person")
        ctx["base_community"] = Community.objects.visible_to(user).first()
        template = "insights/home_social_org.html"
    elif user.has_role(Role.SOCIAL_WORKER, Role.VOLUNTEER):
        ctx["me_worker"] = (
            SocialWorker.objects.visible_to(user).select_related("person", "organization").first()
        )
        ctx["me_volunteer"] = (
            Volunteer.objects.visible_to(user).select_related("person", "team").first()
        )
        ctx["me_person"] = Person.objects.visible_to(user).select_related("community").first()
        template = "insights/home_person.html"
    elif user.has_role(Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN):
        users = User.objects.visible_to(user)
        ctx["user_count"] = users.count()
        ctx["inactive_count"] = users.filter(is_active=False).count()
        ctx["pending_change"] = users.filter(must_change_password=True).count()
        ctx["recent_users"] = users.order_by("-date_joined")[:10]
        template = "insights/home_admin.html"
    elif user.has_role(Role.AUDIT_ADMIN):
        entries = AuditEntry.objects.visible_to(user)
        ctx["recent"] = entries[:15]
        ctx["failed_logins"] = entries.filter(action="login_failed").count()
        ctx["lockouts"] = entries.filter(action="locked_out").count()
        template = "insights/home_audit.html"
    else:  # evaluator and any role with no working area yet
        ctx["org_kind"] = OrgKind(org.kind).label if org else ""
        template = "insights/home_basic.html"
    ctx["tasks"] = TaskRun.objects.visible_to(user)[:5]
    return render(request, template, ctx)
