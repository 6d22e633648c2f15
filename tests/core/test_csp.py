"""The Content-Security-Policy header: built once for ordinary responses
(core.middleware.CSPMiddleware), the same as django-csp would build it, and still per
response where a view asks for a nonce or its own policy."""

from __future__ import annotations

from typing import Any

import pytest
from csp.constants import HEADER, NONCE, SELF
from csp.exceptions import CSPNonceError
from csp.utils import build_policy
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from sanlian.core.middleware import CSPMiddleware


def _through(view: Any, path: str = "/") -> tuple[HttpRequest, HttpResponse]:
    request = RequestFactory().get(path)
    return request, CSPMiddleware(view)(request)


def test_an_ordinary_response_gets_the_policy_of_the_settings() -> None:
    _request, response = _through(lambda request: HttpResponse("ok"))
    assert response[HEADER] == build_policy()
    assert "default-src 'self'" in response[HEADER] and "nonce" not in response[HEADER]


WITH_NONCE = {"DIRECTIVES": {"default-src": [SELF], "style-src": [SELF, NONCE]}}


def test_a_page_that_uses_a_nonce_gets_it_in_its_header(settings: Any) -> None:
    settings.CONTENT_SECURITY_POLICY = WITH_NONCE

    def view(request: Any) -> HttpResponse:
        return HttpResponse(f'<style nonce="{request.csp_nonce}"></style>')

    _request, response = _through(view)
    nonce = response.content.decode().split('"')[1]
    assert f"'nonce-{nonce}'" in response[HEADER]


def test_each_nonce_is_new(settings: Any) -> None:
    settings.CONTENT_SECURITY_POLICY = WITH_NONCE

    def view(request: Any) -> HttpResponse:
        return HttpResponse(str(request.csp_nonce))

    first, second = _through(view)[1], _through(view)[1]
    assert first[HEADER] != second[HEADER]


def test_a_view_with_its_own_policy_keeps_it() -> None:
    def view(request: Any) -> HttpResponse:
        response = HttpResponse("ok")
        response._csp_update = {"img-src": ["https://tiles.example.gov.cn"]}  # type: ignore[attr-defined]
        return response

    _request, response = _through(view)
    assert "https://tiles.example.gov.cn" in response[HEADER]


def test_a_policy_changed_in_the_settings_is_followed(settings: Any) -> None:
    _through(lambda request: HttpResponse("ok"))
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    _request, response = _through(lambda request: HttpResponse("ok"))
    assert response[HEADER] == "default-src 'none'"


def test_a_nonce_asked_for_after_the_header_is_an_error() -> None:
    request, _response = _through(lambda request: HttpResponse("ok"))
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)  # type: ignore[attr-defined]


def test_the_header_is_built_once_without_a_report_only_policy(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No CONTENT_SECURITY_POLICY_REPORT_ONLY (as in our settings): the cached header must
    # still be found, not built again for each response.
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = None
    _through(lambda request: HttpResponse("ok"))
    built: list[bool] = []
    real = build_policy

    def counting(*args: Any, **kwargs: Any) -> str:
        built.append(True)
        return real(*args, **kwargs)

    monkeypatch.setattr("sanlian.core.middleware.build_policy", counting)
    for _ in range(3):
        _through(lambda request: HttpResponse("ok"))
    assert built == []
