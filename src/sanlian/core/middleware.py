"""Request-wide concerns: audit context, expired sessions, password change and second factor."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import csp.middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp import user_has_device

from . import audit

Handler = Callable[[HttpRequest], HttpResponse]

# Paths a signed-in user may reach while a password change or second factor is pending.
# The API answers 401 itself for such users (core.api.ActiveSessionAuth) rather than redirect.
GATE_EXEMPT_PREFIXES = ("/static/", "/accounts/", "/i18n/", "/healthz", "/api/")


class RequestContextMiddleware:
    """Make the acting user and address available to audit writers deep in services."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The user is read when an entry is written, so a user authenticated later in the
        # request (API bearer token) is the actor too.
        token = audit.set_context(
            audit.RequestContext(
                user_id=None, username="", ip=audit.client_ip(request), request=request
            )
        )
        try:
            return self.get_response(request)
        finally:
            audit.reset_context(token)


SESSION_TOUCHED = "_sanlian_touched"
SESSION_TOUCH_SECONDS = 60


class SessionTouchMiddleware:
    """The idle expiry slides forward with use, written at most once a minute.

    Saving the session on every request (SESSION_SAVE_EVERY_REQUEST) cost each page a
    transaction with an UPDATE and a commit to disk. Instead a signed-in session is saved
    when its last save is a minute old or more, so it expires between SESSION_COOKIE_AGE
    minus a minute and SESSION_COOKIE_AGE after the last request (the cookie itself lives
    until the browser closes)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and session.session_key and not session.is_empty():
            now = int(time.time())
            if now - int(session.get(SESSION_TOUCHED, 0)) >= SESSION_TOUCH_SECONDS:
                session[SESSION_TOUCHED] = now
        return response


class SessionExpiredMiddleware:
    """A session cookie that no longer opens a session means it expired: say so at login.

    On the login page itself the flag `request.session_expired` shows the notice. Any other
    page that sends the expired visitor to login also deletes the dead cookie, so the browser
    arrives at login without it: the notice travels as a message instead.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # A deleted cookie may come back empty from some clients: that is no session at all.
        had_cookie = bool(request.COOKIES.get(settings.SESSION_COOKIE_NAME))
        expired = had_cookie and not request.user.is_authenticated and request.session.is_empty()
        login_path = resolve_url(settings.LOGIN_URL) if expired else ""
        if expired and request.path == login_path:
            request.session_expired = True  # type: ignore[attr-defined]
        response = self.get_response(request)
        if expired and request.path != login_path and _redirects_to(response, login_path):
            messages.warning(request, _("登录已超时，请重新登录。"))
        return response


def _redirects_to(response: HttpResponse, path: str) -> bool:
    location = response.get("Location")
    return (
        response.status_code in (301, 302, 303, 307)
        and bool(location)
        and (urlsplit(location).path == path)
    )


def second_factor_required(user: Any) -> bool:
    """Administrators always; anyone else once they have enrolled an authenticator."""
    return bool(user.needs_second_factor) or user_has_device(user)


class AccountGateMiddleware:
    """Forced password change, then the second factor (administrators, and anyone who
    enrolled one), before anything else."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user: Any = request.user  # with `is_verified` from django_otp's middleware
        path = request.path
        if user.is_authenticated and not path.startswith(GATE_EXEMPT_PREFIXES):
            if user.must_change_password:
                messages.warning(request, _("首次登录或密码已重置，请先修改密码。"))
                return HttpResponseRedirect(reverse("password_change"))
            if not user.is_verified() and second_factor_required(user):
                query = urlencode({"next": request.get_full_path()})
                return HttpResponseRedirect(f"{reverse('otp_verify')}?{query}")
        return self.get_response(request)


# What makes a response's policy its own: django-csp's per-view decorators and exemptions.
_CSP_RESPONSE_ATTRS = tuple(
    f"_csp_{kind}{suffix}"
    for kind in ("config", "update", "replace", "exempt")
    for suffix in ("", "_ro")
)


_NO_POLICY: dict[str, Any] = {}


class CSPMiddleware(csp.middleware.CSPMiddleware):
    """django-csp's middleware, with the policy of an ordinary response (no nonce asked for,
    no per-view decorator, no excluded prefixes) built once per settings value rather than
    on every response: building it was a tenth of a cached survey page's time."""

    _plain: dict[tuple[int, int], tuple[str, str]] = {}

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:  # type: ignore[override]
        # The same empty dict each time when a setting is absent: a new {} has a new id()
        # and the headers, keyed by id, were built again for every response.
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", None) or _NO_POLICY
        report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None) or _NO_POLICY
        if (
            getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, attr) for attr in _CSP_RESPONSE_ATTRS)
            or HEADER in response
            or HEADER_REPORT_ONLY in response
            or policy.get("EXCLUDE_URL_PREFIXES")
            or report_only.get("EXCLUDE_URL_PREFIXES")
            or (settings.DEBUG and response.status_code in (404, 500))
        ):
            return super().process_response(request, response)  # type: ignore[return-value]
        key = (id(policy), id(report_only))
        headers = self._plain.get(key)
        if headers is None:
            if len(self._plain) > 20:  # settings overridden again and again (tests)
                self._plain.clear()
            headers = self._plain[key] = (build_policy(), build_policy(report_only=True))
        if headers[0]:
            response[HEADER] = headers[0]
        if headers[1]:
            response[HEADER_REPORT_ONLY] = headers[1]
        # As django-csp does: asking for a nonce after the header is written is an error.
        request.csp_nonce = csp.middleware.CheckableLazyObject(  # type: ignore[attr-defined]
            self._csp_nonce_post_response
        )
        return response
