"""A community cadre registers a volunteer: picks a person, ticks skills and the weekly grid."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from .conftest import screenshot
from .support import login


def test_cadre_registers_a_volunteer(demo: Any, page: Any) -> None:
    login(page, demo.url, "cadre")
    page.goto(demo.url + "/org/volunteers/")
    with page.expect_navigation():
        page.get_by_role("link", name="登记志愿者").click()
    expect(page.locator("h1")).to_have_text("登记志愿者")
    choice = page.locator("input[name=person]").first
    name = page.locator(f"label[for={choice.get_attribute('id')}]").inner_text()
    choice.check()
    page.get_by_label("理发").check()
    page.locator("input[name=availability][value='5:am']").check()
    page.fill("#id_skills_other", "手语")
    screenshot(page, "workforce_volunteer_register")
    with page.expect_navigation():
        page.get_by_role("button", name="登记", exact=True).click()
    expect(page.locator(".message-success")).to_have_text(f"已登记志愿者：{name}。")
    expect(page.locator("h1")).to_contain_text(name)
    assert not page.watch.page_errors and not page.watch.csp_violations, page.watch.console_errors
