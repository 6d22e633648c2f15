"""Template context shared by every page."""

from django.http import HttpRequest

from . import navigation as nav


def navigation(request: HttpRequest) -> dict[str, object]:
    return {"nav_sections": nav.for_request(request)}
