"""The 服务联动 sidebar section, from the NAV list of each part's urls module."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register_pages() -> None:
    from sanlian.core.navigation import register

    from .urls import activities, cases, demands, groups, surveys

    register(
        "delivery",
        _("服务联动"),
        30,
        *surveys.NAV,
        *demands.NAV,
        *cases.NAV,
        *groups.NAV,
        *activities.NAV,
    )
