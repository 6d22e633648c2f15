"""The pages benchmark's reference page: absent unless BENCH_REFERENCE_PAGE, then a signed-in
page showing the user's organisation in the base template."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import clear_url_caches

from sanlian.core.roles import Role

from ..conftest import World

pytestmark = pytest.mark.django_db

PATH = "/bench/reference/"


def _reload_urls() -> None:
    """The page is mounted when the URL modules are imported: import them again."""
    import sanlian.config.urls
    import sanlian.core.urls

    importlib.reload(sanlian.core.urls)
    importlib.reload(sanlian.config.urls)
    clear_url_caches()


@pytest.fixture
def reference_on(settings: Any) -> Iterator[None]:
    settings.BENCH_REFERENCE_PAGE = True
    _reload_urls()
    yield
    settings.BENCH_REFERENCE_PAGE = False
    _reload_urls()


def test_absent_by_default(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).get(PATH)

    assert response.status_code == 404


@pytest.mark.usefixtures("reference_on")
def test_shows_the_users_organisation_when_on(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).get(PATH)

    assert response.status_code == 200
    assert {"core/bench_reference.html", "base.html"} <= {t.name for t in response.templates}
    assert f"<h1>{world.c1.organization.name}</h1>" in response.content.decode()


@pytest.mark.usefixtures("reference_on")
def test_needs_a_signed_in_user(db: None) -> None:
    response = Client().get(PATH)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
