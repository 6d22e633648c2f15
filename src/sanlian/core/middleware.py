"""Request-wide concerns: audit context, expired sessions, password change and second factor."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

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
        user = getattr(request, "user", None)
        authenticated = user is not None and user.is_authenticated
        token = audit.set_context(
            audit.RequestContext(
                user_id=user.pk if authenticated and user is not None else None,
                username=user.get_username() if authenticated and user is not None else "",
                ip=audit.client_ip(request),
            )
        )
        try:
            return self.get_response(request)
        finally:
            audit.reset_context(token)


class SessionExpiredMiddleware:
    """A session cookie that no longer opens a session means it expired: say so at login."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        had_cookie = settings.SESSION_COOKIE_NAME in request.COOKIES
        if had_cookie and not request.user.is_authenticated and request.session.is_empty():
            request.session_expired = True  # type: ignore[attr-defined]
        return self.get_response(request)


class AccountGateMiddleware:
    """Forced password change, and TOTP for administrators, before anything else."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        path = request.path
        if user.is_authenticated and not path.startswith(GATE_EXEMPT_PREFIXES):
            if user.must_change_password:  # type: ignore[union-attr]
                messages.warning(request, _("首次登录或密码已重置，请先修改密码。"))
                return HttpResponseRedirect(reverse("password_change"))
            if user.needs_second_factor and not user.is_verified():  # type: ignore[union-attr]
                return HttpResponseRedirect(reverse("otp_verify") + f"?next={path}")
        return self.get_response(request)
