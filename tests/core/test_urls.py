"""Every URL pattern refuses or redirects an anonymous request, except an explicit allow-list.

A new view without protection fails here, so it cannot slip into production."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

# Public on purpose: signing in, choosing a language, health probes, the API's own schema.
PUBLIC = {
    "login",
    "set_language",
    "healthz",
    "api:openapi-json",
    "api:openapi-view",
    "api:api-root",  # django-ninja's bare /api/ route: answers 404 and shows nothing
    "delivery:survey_answer",  # residents answer a survey without an account (token URL)
    "delivery:demand_public",  # a resident raises a demand (no account; limited per address)
    "delivery:demand_status",  # a demand's status by its secret link (status and reply only)
    "delivery:activity_signup",  # sign up for an activity (no account; limited per address)
    "delivery:registration_page",  # a participant's own code and feedback (secret link)
    "delivery:registration_qr",  # that code as a QR image (secret link)
    "delivery:activity_door",  # self check-in by phone on the venue door's QR code
}

SAMPLE_VALUES = {
    "int": "999999",
    "uuid": str(uuid.UUID(int=1)),
    "str": "x",
    "slug": "x",
    "path": "x",
}


def _walk(
    resolver: URLResolver, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else ""
            yield name, prefix + str(entry.pattern)


def _concrete(route: str) -> str:
    def fill(match: re.Match[str]) -> str:
        converter = match.group(1) or "str"
        return SAMPLE_VALUES.get(converter, "x")

    url = re.sub(r"<(?:(\w+):)?\w+>", fill, route)
    url = url.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")
    return "/" + url


def _patterns() -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for name, route in _walk(get_resolver()):
        if route.startswith("static/"):
            continue
        seen.setdefault(_concrete(route), name)
    return sorted((name, url) for url, name in seen.items())


def test_every_pattern_is_named() -> None:
    assert [url for name, url in _patterns() if not name] == []


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "url"), [p for p in _patterns() if p[0] not in PUBLIC])
def test_anonymous_request_is_refused_or_sent_to_login(name: str, url: str) -> None:
    for method in ("get", "post"):
        response = getattr(Client(), method)(url)
        refused = response.status_code in (401, 403, 405)
        to_login = response.status_code == 302 and response["Location"].startswith(
            "/accounts/login/"
        )
        assert refused or to_login, (
            f"{method.upper()} {url} ({name}) answered {response.status_code}"
        )


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_allow_list_names_exist(name: str) -> None:
    assert name in {n for n, _ in _patterns()}
