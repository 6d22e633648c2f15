"""URLs of the ledger pages, and their sidebar entries (NAV: label, url name, roles)."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from sanlian.core.roles import Role

from ..services.ledger import BOOKER_ROLES, OVERVIEW_ROLES, RECORDER_ROLES
from ..views import ledger

urlpatterns: list[URLPattern] = [
    path("ledger/", ledger.ledger_list, name="ledger_list"),
    path("ledger/new/", ledger.ledger_create, name="ledger_create"),
    path("ledger/<int:pk>/edit/", ledger.ledger_edit, name="ledger_edit"),
    path("ledger/<int:pk>/delete/", ledger.ledger_delete, name="ledger_delete"),
    path("ledger/volunteer-hours/", ledger.volunteer_hours, name="volunteer_hours_record"),
    path("ledger-overview/", ledger.resources_overview, name="resources_overview"),
    path("bookings/", ledger.booking_list, name="booking_list"),
    path("bookings/<int:pk>/cancel/", ledger.booking_cancel, name="booking_cancel"),
    path("venues/<int:pk>/bookings/", ledger.venue_bookings, name="venue_bookings"),
]

NAV: list[tuple[Any, str, set[str]]] = [
    (_("资源台账"), "resources:ledger_list", {*RECORDER_ROLES, Role.SOCIAL_WORKER}),
    (_("资源分布"), "resources:resources_overview", set(OVERVIEW_ROLES)),
    (_("场地预约"), "resources:booking_list", set(BOOKER_ROLES)),
]
