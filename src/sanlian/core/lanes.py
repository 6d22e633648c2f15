"""The public lane: the residents' anonymous pages skip what only signed-in users need.

A needs survey's public link is the one page that floods (a QR code on every notice board, a
whole estate answering in an evening). Each answer is a page view and a submission, and most
of what the full middleware chain does for them is for staff: sessions, the user and the
second factor, messages, the lockout and the account gate, static files. `PublicLaneMiddleware`
sits first in MIDDLEWARE; a request whose path starts with one of PUBLIC_LANE_PREFIXES and
resolves to a view marked with `@public_lane` goes through PUBLIC_LANE_MIDDLEWARE only
(security headers, language, the Host check and Content-Length, CSRF, framing, CSP, the
audit context), as an anonymous visitor.
Everything else goes on down the full chain, unchanged.

A view marked for the lane must not need a session or a signed-in user: it sees
`request.user` as AnonymousUser whoever sends it, and has no `request.session`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, ResolverMatch, get_resolver
from django.utils.module_loading import import_string

View = TypeVar("View", bound=Callable[..., Any])

_ANONYMOUS = AnonymousUser()


def public_lane(view: View) -> View:
    """Marks a view as served by the public lane (outermost decorator). Like csrf_exempt,
    it marks a wrapper, not the function itself."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return view(*args, **kwargs)

    wrapper.public_lane = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


class _LaneHandler(BaseHandler):
    """Django's own view handling (view, exception and template-response middleware), with
    a short middleware list and the URL match made by the lane."""

    def __init__(self, middleware: list[str]) -> None:
        self._view_middleware: list[Any] = []
        self._template_response_middleware: list[Any] = []
        self._exception_middleware: list[Any] = []
        handler = convert_exception_to_response(self._get_response)  # type: ignore[attr-defined]
        for path in reversed(middleware):
            # BaseHandler.load_middleware reads settings.MIDDLEWARE only, hence this short,
            # synchronous version of its loop (no adapting between sync and async).
            factory = import_string(path)
            if not getattr(factory, "sync_capable", True):
                raise ImproperlyConfigured(f"{path}: the public lane runs synchronous middleware")
            instance = factory(handler)
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_template_response"):
                self._template_response_middleware.append(instance.process_template_response)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler

    def resolve_request(self, request: HttpRequest) -> ResolverMatch:
        match = request.resolver_match
        assert match is not None
        return match

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self._middleware_chain(request)  # type: ignore[return-value]


@functools.lru_cache(maxsize=1024)
def _lane_match(urlconf: str, path: str) -> ResolverMatch | None:
    """The match of a lane view's path, remembered: a survey's link is the same few paths
    over and over, and walking the whole URLconf cost 5 % of an answer. Bounded, so random
    paths cannot grow it; keyed by the URLconf, so a test's override does not see stale
    matches. A match is read, never changed, by the views."""
    try:
        match = get_resolver(urlconf).resolve(path)
    except Resolver404:
        return None
    return match if getattr(match.func, "public_lane", False) else None


class PublicLaneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.prefixes = tuple(getattr(settings, "PUBLIC_LANE_PREFIXES", ()))
        self.lane = _LaneHandler(list(getattr(settings, "PUBLIC_LANE_MIDDLEWARE", [])))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.prefixes and request.path_info.startswith(self.prefixes):
            match = _lane_match(settings.ROOT_URLCONF, request.path_info)
            if match is not None:
                request.resolver_match = match
                request.user = _ANONYMOUS
                return self.lane(request)
        return self.get_response(request)
