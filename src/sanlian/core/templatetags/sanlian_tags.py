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
