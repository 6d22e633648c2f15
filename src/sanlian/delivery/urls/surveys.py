"""URLs of the surveys pages, and their sidebar entries (NAV: label, url name, roles)."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from sanlian.core.roles import Role

from ..services.surveys import BUILDER_ROLES
from ..views import surveys as views

urlpatterns: list[URLPattern] = [
    path("surveys/", views.survey_list, name="survey_list"),
    path("surveys/new/", views.survey_create, name="survey_create"),
    path("surveys/<int:pk>/", views.survey_detail, name="survey_detail"),
    path("surveys/<int:pk>/edit/", views.survey_edit, name="survey_edit"),
    path("surveys/<int:pk>/questions/", views.question_add, name="survey_question_add"),
    path(
        "surveys/<int:pk>/questions/<int:question_pk>/delete/",
        views.question_delete,
        name="survey_question_delete",
    ),
    path(
        "surveys/<int:pk>/publish/",
        views.survey_transition,
        {"action": "publish"},
        name="survey_publish",
    ),
    path(
        "surveys/<int:pk>/close/", views.survey_transition, {"action": "close"}, name="survey_close"
    ),
    path("surveys/<int:pk>/preview/", views.survey_preview, name="survey_preview"),
    path("surveys/<int:pk>/qr.png", views.survey_qr, name="survey_qr"),
    path("surveys/<int:pk>/poster/", views.survey_poster, name="survey_poster"),
    path("surveys/<int:pk>/results/", views.survey_results, name="survey_results"),
    path("surveys/<int:pk>/texts/", views.survey_texts, name="survey_texts"),
    path("surveys/<int:pk>/needs/", views.need_link, name="survey_need_link"),
    path(
        "surveys/<int:pk>/needs/<int:link_pk>/delete/",
        views.need_unlink,
        name="survey_need_unlink",
    ),
    # The residents' public page: no account; the token is the survey's unguessable secret.
    path("s/<str:token>/", views.survey_answer, name="survey_answer"),
]

NAV: list[tuple[Any, str, set[str]]] = [
    (
        _("需求调查"),
        "delivery:survey_list",
        {*BUILDER_ROLES, Role.SOCIAL_ORG_MANAGER, Role.SOCIAL_WORKER},
    ),
]
