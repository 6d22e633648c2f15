"""The 资源联合 sidebar section, from the NAV list of each part's urls module."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register_pages() -> None:
    from sanlian.core.navigation import register

    from .urls import funding, ledger, projects

    register("resources", _("资源联合"), 20, *funding.NAV, *projects.NAV, *ledger.NAV)
