"""URLs of the cases pages, and their sidebar entries (NAV: label, url name, roles)."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from sanlian.core.roles import Role
from sanlian.core.scoping import AREA_ROLES

from ..views import cases

urlpatterns: list[URLPattern] = [
    path("cases/", cases.case_list, name="case_list"),
    path("cases/queue/", cases.case_queue, name="case_queue"),
    path("cases/stats/", cases.case_stats, name="case_stats"),
    path("cases/new/", cases.case_create, name="case_create"),
    path("cases/<int:pk>/", cases.case_detail, name="case_detail"),
    path("cases/<int:pk>/referral-targets/", cases.referral_targets, name="referral_targets"),
    path("cases/<int:pk>/<slug:step>/", cases.case_step, name="case_step"),
    path("referrals/", cases.referral_list, name="referral_list"),
    path("referrals/<int:pk>/", cases.referral_detail, name="referral_detail"),
]

NAV: list[tuple[Any, str, set[str]]] = [
    (_("个案工作"), "delivery:case_list", {Role.SOCIAL_WORKER, Role.SOCIAL_ORG_MANAGER}),
    (_("督导待办"), "delivery:case_queue", {Role.SOCIAL_WORKER}),
    (_("个案转介"), "delivery:referral_list", set(cases.REFERRAL_ROLES)),
    (_("个案统计"), "delivery:case_stats", set(AREA_ROLES)),
]
