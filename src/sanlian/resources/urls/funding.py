"""URLs of the funding pages, and their sidebar entries (NAV: label, url name, roles)."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from sanlian.core.roles import Role
from sanlian.core.scoping import AREA_ROLES

from ..models import FUNDER_ROLES
from ..views import funding as views

urlpatterns: list[URLPattern] = [
    # -- budget pools
    path("pools/", views.pool_list, name="pool_list"),
    path("pools/new/", views.pool_create, name="pool_create"),
    path("pools/<int:pk>/", views.pool_detail, name="pool_detail"),
    path("pools/<int:pk>/edit/", views.pool_edit, name="pool_edit"),
    # -- project calls
    path("calls/", views.call_list, name="call_list"),
    path("calls/new/", views.call_create, name="call_create"),
    path("calls/<int:pk>/", views.call_detail, name="call_detail"),
    path("calls/<int:pk>/edit/", views.call_edit, name="call_edit"),
    path("calls/<int:pk>/do/<str:action>/", views.call_transition, name="call_transition"),
    path("calls/<int:pk>/reviewers/", views.call_reviewer_add, name="call_reviewer_add"),
    path(
        "calls/<int:pk>/reviewers/<int:reviewer_pk>/remove/",
        views.call_reviewer_remove,
        name="call_reviewer_remove",
    ),
    path("calls/<int:pk>/apply/", views.application_create, name="application_create"),
    # -- applications, reviews, decisions
    path("applications/", views.application_list, name="application_list"),
    path("applications/rows/<str:kind>/", views.application_row, name="application_row"),
    path("applications/<int:pk>/", views.application_detail, name="application_detail"),
    path("applications/<int:pk>/edit/", views.application_edit, name="application_edit"),
    path("applications/<int:pk>/submit/", views.application_submit, name="application_submit"),
    path(
        "applications/<int:pk>/withdraw/",
        views.application_withdraw,
        name="application_withdraw",
    ),
    path("applications/<int:pk>/review/", views.review_form, name="review_form"),
    path("applications/<int:pk>/recuse/", views.review_recuse, name="review_recuse"),
    path("applications/<int:pk>/decide/", views.application_decide, name="application_decide"),
    path("reviews/", views.review_queue, name="review_queue"),
]

NAV: list[tuple[Any, str, set[str]]] = [
    (_("资金池"), "resources:pool_list", set(FUNDER_ROLES)),
    (
        _("项目指南"),
        "resources:call_list",
        {*AREA_ROLES, Role.SOCIAL_ORG_MANAGER, Role.EVALUATOR},
    ),
    (
        _("项目申报"),
        "resources:application_list",
        {*FUNDER_ROLES, Role.SOCIAL_ORG_MANAGER, Role.SOCIAL_WORKER},
    ),
    (_("我的评审"), "resources:review_queue", {*FUNDER_ROLES, Role.EVALUATOR}),
]
