"""Each business role lands on a real home page with only the sections that are built."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import screenshot
from .support import LOGIN_PATH, login, sidebar

WITH_ORG_SECTION = ["city", "district", "cadre", "secretary", "orgmanager"]
WITHOUT_ORG_SECTION = ["worker", "volunteer", "evaluator"]


@pytest.mark.parametrize("username", WITH_ORG_SECTION + WITHOUT_ORG_SECTION)
def test_business_role_lands_on_home(demo: Any, page: Any, username: str) -> None:
    from sanlian.core.models import User

    org_name = User.objects.select_related("organization").get(username=username).organization.name

    login(page, demo.url, username)

    expect(page).to_have_url(demo.url + "/")
    expect(page.locator("main h1")).to_contain_text("工作台")
    expect(page.locator("main")).to_contain_text(org_name)
    nav = sidebar(page)
    expect(nav.locator(".nav-heading").first).to_have_text("工作台")
    if username in WITH_ORG_SECTION:
        expect(nav).to_contain_text("组织联建")
    else:
        expect(nav).not_to_contain_text("组织联建")
    # No administrator sections for business roles.
    expect(nav).not_to_contain_text("系统管理")
    expect(nav).not_to_contain_text("安全审计")
    page.wait_for_load_state("networkidle")
    assert not page.watch.console_errors, page.watch.console_errors
    screenshot(page, f"home_{username}")


def test_city_home_renders_the_tier_chart(demo: Any, page: Any) -> None:
    login(page, demo.url, "city")
    chart = page.locator("[data-chart]")
    expect(chart).to_have_count(1)
    expect(chart.locator("svg").first).to_be_visible()
    # The pie has one slice per tier: star, ordinary, weak.
    assert chart.locator("svg path").count() >= 3
    expect(chart).to_contain_text("明星")
    foreign = [u for u in page.watch.requests if not u.startswith((demo.url + "/", "data:"))]
    assert not foreign, foreign
    assert not page.watch.console_errors, page.watch.console_errors


PHONE = {"width": 375, "height": 812}
SLACK_PX = 2


def _scroll_width(page: Any) -> int:
    return int(page.evaluate("() => document.documentElement.scrollWidth"))


@pytest.mark.parametrize("username", ["city", "cadre", "worker"])
def test_phone_viewport_has_no_horizontal_scroll(
    demo: Any, new_context: Any, username: str, request: pytest.FixtureRequest
) -> None:
    ctx = new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = ctx.new_page()
    page.goto(demo.url + LOGIN_PATH)
    assert _scroll_width(page) <= PHONE["width"] + SLACK_PX, "login page scrolls sideways"
    screenshot(page, f"phone_login_{username}")

    login(page, demo.url, username)
    expect(page).to_have_url(demo.url + "/")
    page.wait_for_load_state("networkidle")
    width = _scroll_width(page)
    screenshot(page, f"phone_home_{username}")
    assert width <= PHONE["width"] + SLACK_PX, f"home page is {width}px wide on a 375px phone"
