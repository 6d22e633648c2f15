"""URLs of the projects pages, and their sidebar entries (NAV: label, url name, roles)."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from sanlian.core.roles import Role

from ..models import FUNDER_ROLES
from ..views import projects as views

urlpatterns: list[URLPattern] = [
    path("projects/", views.project_board, name="project_board"),
    path("projects/<int:pk>/", views.project_detail, name="project_detail"),
    path(
        "projects/contract/<int:application_pk>/",
        views.project_create,
        name="project_create",
    ),
    path("projects/<int:pk>/edit/", views.project_edit, name="project_edit"),
    path("projects/<int:pk>/sign/", views.project_sign, name="project_sign"),
    path(
        "projects/<int:pk>/request-closure/",
        views.project_request_closure,
        name="project_request_closure",
    ),
    path("projects/<int:pk>/accept/", views.project_accept, name="project_accept"),
    path("projects/<int:pk>/terminate/", views.project_terminate, name="project_terminate"),
    path(
        "projects/<int:pk>/evaluations/new/",
        views.evaluation_assign,
        name="evaluation_assign",
    ),
    path("milestones/<int:pk>/report/", views.milestone_report, name="milestone_report"),
    path("milestones/<int:pk>/review/", views.milestone_review, name="milestone_review"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence_download"),
    path("evidence/<int:pk>/remove/", views.evidence_remove, name="evidence_remove"),
    path("indicators/<int:pk>/report/", views.indicator_report, name="indicator_report"),
    path("disbursements/", views.disbursement_queue, name="disbursement_queue"),
    path("disbursements/request/", views.disbursement_request, name="disbursement_request"),
    path("disbursements/<int:pk>/", views.disbursement_action, name="disbursement_action"),
    path("evaluations/", views.evaluation_list, name="evaluation_list"),
    path("evaluations/<int:pk>/", views.evaluation_detail, name="evaluation_detail"),
]

NAV: list[tuple[Any, str, set[str]]] = [
    (
        _("服务项目"),
        "resources:project_board",
        {
            *FUNDER_ROLES,
            Role.COMMUNITY_CADRE,
            Role.PARTY_SECRETARY,
            Role.SOCIAL_ORG_MANAGER,
            Role.SOCIAL_WORKER,
            Role.EVALUATOR,
        },
    ),
    (_("拨付审批"), "resources:disbursement_queue", set(FUNDER_ROLES)),
    (_("我的评估"), "resources:evaluation_list", {*FUNDER_ROLES, Role.EVALUATOR}),
]
