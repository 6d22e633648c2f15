"""URLs of the surveys pages, and their sidebar entries (NAV: label, url name, roles)."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []

NAV: list[tuple[Any, str, set[str]]] = []
