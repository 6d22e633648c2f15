"""The sidebar: apps register their sections; only built sections appear, per role."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    roles: frozenset[str]


@dataclass
class NavSection:
    key: str
    label: str | Promise
    order: int
    items: list[NavItem] = field(default_factory=list)


_sections: dict[str, NavSection] = {}


def register(
    section: str,
    section_label: str | Promise,
    order: int,
    *items: tuple[str | Promise, str, Collection[str]],
) -> None:
    sec = _sections.setdefault(section, NavSection(section, section_label, order))
    for label, url_name, roles in items:
        sec.items.append(NavItem(label, url_name, frozenset(roles)))


def for_request(request: HttpRequest) -> list[dict[str, Any]]:
    user = request.user
    if not user.is_authenticated:
        return []
    roles = set(user.role_names())
    out = []
    for sec in sorted(_sections.values(), key=lambda s: s.order):
        links = []
        for item in sec.items:
            if item.roles & roles:
                url = reverse(item.url_name)
                active = request.path == url or (url != "/" and request.path.startswith(url))
                links.append({"label": item.label, "url": url, "active": active})
        if links:
            out.append({"key": sec.key, "label": sec.label, "links": links})
    return out
