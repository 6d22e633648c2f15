"""The 数据分析 sidebar section, from the NAV list of the analysis urls."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register_pages() -> None:
    from sanlian.core.navigation import register

    from .urls import analysis

    register("insights", _("数据分析"), 40, *analysis.NAV)
