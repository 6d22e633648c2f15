"""URLs of the activities pages, and their sidebar entries (NAV: label, url name, roles)."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from sanlian.core.scoping import AREA_ROLES

from ..services.activities import MANAGER_ROLES
from ..views import activities as views

urlpatterns: list[URLPattern] = [
    path("activities/", views.activity_list, name="activity_list"),
    path("activities/new/", views.activity_create, name="activity_create"),
    path("activities/<int:pk>/", views.activity_detail, name="activity_detail"),
    path("activities/<int:pk>/edit/", views.activity_edit, name="activity_edit"),
    path("activities/<int:pk>/publish/", views.activity_publish, name="activity_publish"),
    path("activities/<int:pk>/complete/", views.activity_complete, name="activity_complete"),
    path("activities/<int:pk>/cancel/", views.activity_cancel, name="activity_cancel"),
    path("activities/<int:pk>/qr/<str:kind>/", views.activity_qr, name="activity_qr"),
    path("activities/<int:pk>/checkin/", views.activity_checkin, name="activity_checkin"),
    path("activities/<int:pk>/walk-in/", views.activity_walk_in, name="activity_walk_in"),
    path("activities/<int:pk>/shifts/", views.shift_add, name="activity_shift_add"),
    path(
        "activities/<int:pk>/shifts/<int:shift_pk>/remove/",
        views.shift_remove,
        name="activity_shift_remove",
    ),
    # Public (no account): opened from QR codes; each needs its unguessable token.
    path("a/join/<str:token>/", views.activity_signup, name="activity_signup"),
    path("a/me/<str:token>/", views.registration_page, name="registration_page"),
    path("a/me/<str:token>/code.png", views.registration_qr, name="registration_qr"),
    path("a/door/<str:token>/", views.activity_door, name="activity_door"),
    path("service-times/", views.service_times, name="service_times"),
]

NAV: list[tuple[Any, str, set[str]]] = [
    (_("社区活动"), "delivery:activity_list", set(MANAGER_ROLES)),
    (_("服务时间分布"), "delivery:service_times", set(AREA_ROLES)),
]
