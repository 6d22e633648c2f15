"""The public lane (sanlian.core.lanes): the survey link skips the staff middleware, keeps the
security headers, the language and CSRF, and nothing else changes route."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import parse_http_date

from sanlian.core.roles import Role

from ..conftest import World
from ..delivery.factories_surveys import survey_with_questions

pytestmark = pytest.mark.django_db

LANE_URLS = "tests.core.lane_urls"


def test_a_lane_view_sees_an_anonymous_visitor_without_session(world: World, settings: Any) -> None:
    settings.ROOT_URLCONF = LANE_URLS
    client = Client()
    client.force_login(world.users[Role.COMMUNITY_CADRE])
    response = client.get("/svc/s/probe/lane/")
    assert response.json() == {"session": False, "signed_in": False, "messages": False}
    # The signed-in staff member's session is neither read nor touched.
    assert "sessionid" not in response.cookies


def test_an_unmarked_view_under_a_lane_prefix_takes_the_full_chain(
    world: World, settings: Any
) -> None:
    settings.ROOT_URLCONF = LANE_URLS
    client = Client()
    client.force_login(world.users[Role.COMMUNITY_CADRE])
    assert client.get("/svc/s/probe/full/").json() == {
        "session": True,
        "signed_in": True,
        "messages": True,
    }


def test_a_path_that_resolves_nowhere_gets_the_full_chain(world: World) -> None:
    # CommonMiddleware (full chain only) still adds the missing slash.
    survey = survey_with_questions(world)
    response = Client().get(reverse("delivery:survey_answer", args=[survey.token]).rstrip("/"))
    assert response.status_code == 301
    assert Client().get("/svc/s/").status_code == 404


def test_the_survey_page_keeps_its_security_headers(world: World) -> None:
    survey = survey_with_questions(world)
    response = Client().get(reverse("delivery:survey_answer", args=[survey.token]))
    assert response.status_code == 200
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    # The same cache headers as Django's never_cache would write.
    expected = HttpResponse()
    add_never_cache_headers(expected)
    assert response["Cache-Control"] == expected["Cache-Control"]
    assert parse_http_date(response["Expires"]) == pytest.approx(time.time(), abs=5)
    assert response["Content-Language"] == "zh-hans"
    assert "sessionid" not in response.cookies


def test_the_lane_follows_the_language(world: World) -> None:
    survey = survey_with_questions(world)
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(
        reverse("delivery:survey_answer", args=[survey.token])
    )
    assert response["Content-Language"] == "en"
    assert ">Submit<" in response.content.decode()


def test_the_lane_still_checks_csrf(settings: Any) -> None:
    """Django's CSRF check stays in the lane for its views (the survey page is exempt: its
    form number is its token, tests/delivery/test_surveys_public.py)."""
    from sanlian.core.models import AuditEntry

    settings.ROOT_URLCONF = LANE_URLS
    response = Client(enforce_csrf_checks=True).post("/svc/s/probe/lane/", {"x": "1"})
    assert response.status_code == 403
    assert "安全校验已失效" in response.content.decode()
    assert AuditEntry.objects.filter(object_type="csrf").exists()


def test_an_unknown_survey_gets_the_not_found_page(world: World) -> None:
    response = Client().get(reverse("delivery:survey_answer", args=["nope"]))
    assert response.status_code == 404
    assert "<html" in response.content.decode()


def test_an_async_only_middleware_is_refused_by_the_lane(settings: Any) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from sanlian.core.lanes import PublicLaneMiddleware

    settings.PUBLIC_LANE_MIDDLEWARE = ["tests.core.lane_urls.AsyncOnly"]
    with pytest.raises(ImproperlyConfigured):
        PublicLaneMiddleware(lambda request: HttpResponse())


def test_a_lane_response_says_its_length(world: World) -> None:
    survey = survey_with_questions(world)
    response = Client().get(reverse("delivery:survey_answer", args=[survey.token]))
    assert response["Content-Length"] == str(len(response.content))


def test_the_lane_checks_the_host(world: World) -> None:
    # The survey page is CSRF-exempt (its form number is its token); ALLOWED_HOSTS still holds.
    survey = survey_with_questions(world)
    url = reverse("delivery:survey_answer", args=[survey.token])
    assert Client(HTTP_HOST="evil.example").get(url).status_code == 400
    assert Client(HTTP_HOST="evil.example").post(url, {}).status_code == 400
