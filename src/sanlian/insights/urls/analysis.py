"""URLs of the analysis pages (/insights/, namespace `insights`), and their sidebar entries
(NAV: label, url name, roles)."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from sanlian.core.roles import Role

from ..services.common import ROLES
from ..views import allocation, dashboard, fairness, pilots, report, tiers

app_name = "insights"

urlpatterns: list[URLPattern] = [
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("fairness/", fairness.fairness_page, name="fairness"),
    path("fairness/settings/", fairness.fairness_settings, name="fairness_settings"),
    path("allocation/", allocation.allocation_list, name="allocation"),
    path("allocation/<int:pk>/", allocation.allocation_detail, name="allocation_detail"),
    path("tiers/", tiers.tier_list, name="tiers"),
    path("tiers/<int:pk>/", tiers.tier_detail, name="tier_detail"),
    path(
        "tiers/<int:pk>/proposals/<int:proposal_pk>/decide/",
        tiers.proposal_decide,
        name="tier_decide",
    ),
    path("pilots/", pilots.pilot_list, name="pilots"),
    path("pilots/<int:pk>/", pilots.pilot_detail, name="pilot_detail"),
    path("pilots/<int:pk>/indicators/", pilots.indicator_add, name="pilot_indicator_add"),
    path(
        "pilots/<int:pk>/indicators/<int:indicator_pk>/values/",
        pilots.values_edit,
        name="pilot_values",
    ),
    path("projects/<int:pk>/report/", report.project_report, name="project_report"),
]

NAV: list[tuple[Any, str, set[str]]] = [
    (
        _("数据看板"),
        "insights:dashboard",
        set(ROLES) | {Role.COMMUNITY_CADRE, Role.PARTY_SECRETARY},
    ),
    (_("资源均衡"), "insights:fairness", set(ROLES)),
    (_("社区分类"), "insights:tiers", set(ROLES)),
    (_("预算分配"), "insights:allocation", set(ROLES)),
    (_("试点评估"), "insights:pilots", set(ROLES)),
]
