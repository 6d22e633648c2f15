"""Template helpers of residents' demands: the overdue count for a home page badge
(`{% include "delivery/demands/_home_badge.html" %}`)."""

from __future__ import annotations

from typing import Any

from django import template

from ..services.demands import overdue_count

register = template.Library()


@register.simple_tag(takes_context=True)
def overdue_demand_count(context: template.Context) -> int:
    request: Any = context.get("request")
    return overdue_count(getattr(request, "user", None))
