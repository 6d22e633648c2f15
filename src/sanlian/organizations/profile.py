"""Sections that later apps add to the pages of 组织联建 (a community's profile, a venue's page)
without this app importing them: each registers a template and a function that builds its
context for the user and the object, in its AppConfig.ready():

    from sanlian.organizations import profile
    profile.register_section("resources/ledger/_community.html", community_resources, 20)

The page renders every section of its kind in `order`, each template with `section` (the
context the function returned) and the page's own context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models

COMMUNITY = "community"
VENUE = "venue"

ContextFn = Callable[[Any, Any], dict[str, Any] | None]


@dataclass(frozen=True)
class Section:
    page: str
    template_name: str
    context: ContextFn
    order: int


@dataclass(frozen=True)
class RenderedSection:
    template_name: str
    context: dict[str, Any]


_sections: dict[tuple[str, str], Section] = {}


def register_section(
    template_name: str, context_fn: ContextFn, order: int = 100, *, page: str = COMMUNITY
) -> None:
    """Add (or replace) a section of `page` (COMMUNITY or VENUE)."""
    _sections[(page, template_name)] = Section(page, template_name, context_fn, order)


def sections_for(page: str, user: Any, obj: models.Model) -> list[RenderedSection]:
    """The sections of `page` for this user and object, in order (a section whose function
    returns None is left out)."""
    out = []
    for s in sorted((s for s in _sections.values() if s.page == page), key=lambda s: s.order):
        context = s.context(user, obj)
        if context is not None:
            out.append(RenderedSection(s.template_name, context))
    return out
