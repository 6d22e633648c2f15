"""URLs of the demands pages, and their sidebar entries (NAV: label, url name, roles)."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from sanlian.core.scoping import AREA_ROLES

from ..services.demands import HANDLER_ROLES
from ..views import demands

urlpatterns: list[URLPattern] = [
    path("demands/", demands.demand_list, name="demand_list"),
    path("demands/new/", demands.demand_create, name="demand_create"),
    path("demands/suggest/", demands.demand_suggest, name="demand_suggest"),
    path("demand-rules/", demands.rule_list, name="demand_rules"),
    path(
        "demand-rules/<int:pk>/deactivate/", demands.rule_deactivate, name="demand_rule_deactivate"
    ),
    path("demands/<int:pk>/", demands.demand_detail, name="demand_detail"),
    path("demands/<int:pk>/<str:action>/", demands.demand_action, name="demand_action"),
    # Public: a resident without an account.
    path("d/new/", demands.demand_public, name="demand_public"),
    path("d/<str:token>/", demands.demand_status, name="demand_status"),
]

NAV: list[tuple[Any, str, set[str]]] = [
    (_("居民诉求"), "delivery:demand_list", set(HANDLER_ROLES)),
    (_("诉求分派规则"), "delivery:demand_rules", set(AREA_ROLES)),
]
