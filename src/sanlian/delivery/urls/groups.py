"""URLs of the groups pages, and their sidebar entries (NAV: label, url name, roles)."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from sanlian.core.roles import Role
from sanlian.core.scoping import AREA_ROLES

from ..views import groups

urlpatterns: list[URLPattern] = [
    path("groups/", groups.group_list, name="group_list"),
    path("groups/new/", groups.group_create, name="group_create"),
    path("groups/sessions/", groups.session_list, name="group_session_list"),
    path("groups/<int:pk>/", groups.group_detail, name="group_detail"),
    path("groups/<int:pk>/edit/", groups.group_edit, name="group_edit"),
    path("groups/<int:pk>/advance/", groups.group_advance, name="group_advance"),
    path("groups/<int:pk>/members/", groups.member_add, name="group_member_add"),
    path(
        "groups/<int:pk>/members/<int:member_pk>/status/",
        groups.member_status,
        name="group_member_status",
    ),
    path("groups/<int:pk>/sessions/new/", groups.session_create, name="group_session_create"),
    path(
        "groups/<int:pk>/sessions/<int:session_pk>/",
        groups.session_edit,
        name="group_session_edit",
    ),
    path("groups/<int:pk>/scores/<str:which>/", groups.scores, name="group_scores"),
    path("groups/<int:pk>/evaluation/", groups.evaluation, name="group_evaluation"),
]

NAV: list[tuple[Any, str, set[str]]] = [
    (
        _("小组工作"),
        "delivery:group_list",
        {*AREA_ROLES, Role.SOCIAL_ORG_MANAGER, Role.SOCIAL_WORKER},
    ),
]
