"""Template helpers of co-building and union building: the community profile cards, the
overdue badge on the area home, follow-up status helpers."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import template
from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from sanlian.core.scoping import AREA_ROLES

from ..models import (
    AgreementParty,
    CoBuildingAgreement,
    Community,
    FollowUpItem,
    FollowUpStatus,
    JointMeeting,
    Organization,
    OrgKind,
    union_status_rows,
)
from ..models.unionbuilding import rate

register = template.Library()


def _user(context: template.Context) -> Any:
    request = context.get("request")
    return getattr(request, "user", None)


@register.filter
def overdue_days(item: FollowUpItem, today: date) -> int:
    return item.days_overdue(today)


@register.simple_tag
def follow_up_statuses() -> list[tuple[str, str]]:
    return [(str(v), str(label)) for v, label in FollowUpStatus.choices]


@register.simple_tag(takes_context=True)
def overdue_follow_up_count(context: template.Context) -> int:
    user = _user(context)
    return FollowUpItem.objects.visible_to(user).overdue(timezone.localdate()).count()


@register.simple_tag(takes_context=True)
def cobuilding_summary(context: template.Context, community: Community) -> dict[str, Any]:
    """Agreements of the community, its next and last joint meeting, overdue items."""
    user = _user(context)
    now = timezone.now()
    today = timezone.localdate()
    meetings = JointMeeting.objects.visible_to(user).filter(community=community)
    items = FollowUpItem.objects.visible_to(user).filter(meeting__community=community)
    parties = AgreementParty.objects.select_related("organization").order_by("pk")
    return {
        "agreements": CoBuildingAgreement.objects.visible_to(user)
        .filter(community=community)
        .prefetch_related(Prefetch("parties", queryset=parties))
        .order_by("-valid_from", "-pk")[:5],
        "next_meeting": meetings.filter(held_on__gte=now).order_by("held_on").first(),
        "last_meeting": meetings.filter(held_on__lt=now).order_by("-held_on").first(),
        **items.open().aggregate(
            open_count=Count("pk"), overdue_count=Count("pk", filter=Q(due_on__lt=today))
        ),
        "can_edit": bool(user is not None and user.has_role(*AREA_ROLES)),
    }


@register.simple_tag(takes_context=True)
def unionbuilding_summary(context: template.Context, community: Community) -> dict[str, Any]:
    """Union building and training coverage of the social organisations based in the
    community."""
    user = _user(context)
    orgs = (
        Organization.objects.visible_to(user)
        .of_kind(OrgKind.SOCIAL_ORG)
        .active()
        .filter(parent_id=community.organization_id)
        .order_by("name")
    )
    rows = union_status_rows(orgs, user, timezone.localdate())
    staff = sum(r.snapshot.staff_count for r in rows if r.snapshot)
    members = sum(r.snapshot.member_count for r in rows if r.snapshot)
    trained = sum(r.trained for r in rows)
    return {
        "rows": rows,
        "founded": sum(1 for r in rows if r.snapshot and r.snapshot.union_founded),
        "staff": staff,
        "members": members,
        "member_rate": rate(members, staff),
        "trained": trained,
        "coverage": rate(trained, staff),
    }
