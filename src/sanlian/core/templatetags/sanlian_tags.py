"""Small template helpers."""

from datetime import timedelta
from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key)


@register.filter
def minutes(delta: timedelta | None) -> int:
    return int(delta.total_seconds() // 60) if delta else 0


@register.filter
def enumerate_labels(items: Any) -> str:
    """Join labels with the language's list separator (、 in Chinese, a comma in English)."""
    from django.utils.translation import gettext

    return gettext("、").join(str(i) for i in items)


@register.simple_tag(takes_context=True)
def shown_phone(context: template.Context, number: str | None) -> str:
    """A mobile number as this page's user may see it: in full for area staff, who call
    residents; masked for everyone else (the rule of exports, `core.xlsx.disclosure_for`)."""
    from sanlian.core.xlsx import disclosure_for

    if not number:
        return "—"
    request = context.get("request")
    return disclosure_for(getattr(request, "user", None)).phone(number)
