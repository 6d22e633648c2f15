"""Restructuring areas in the browser: city staff merge one community into another, after a
preview of everything that moves."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from .conftest import screenshot
from .support import login, sidebar


def test_city_staff_merge_a_community_after_a_preview(demo: Any, page: Any) -> None:
    from sanlian.organizations.models import Community, Person

    source = Community.objects.get(name="万柳塘社区")
    target = Community.objects.get(name="风雨坛社区")
    people = Person.objects.filter(community=source).count()
    assert people > 0

    login(page, demo.url, "city")
    with page.expect_navigation():
        sidebar(page).get_by_role("link", name="社区", exact=True).click()
    with page.expect_navigation():
        page.locator("table tbody").get_by_role("link", name="万柳塘社区").click()
    expect(page.get_by_role("heading", name="场地")).to_be_visible()
    with page.expect_navigation():
        page.get_by_role("link", name="区划调整").click()
    with page.expect_navigation():
        page.get_by_role("link", name="并入其他社区").click()
    expect(page.locator("h1")).to_contain_text("区划调整：万柳塘社区")

    page.get_by_label("并入社区").select_option(label=f"风雨坛社区（{target.street.name}）")
    with page.expect_navigation():
        page.get_by_role("button", name="预览将要迁移的记录").click()
    preview = page.get_by_test_id("restructure-preview")
    expect(preview).to_contain_text("万柳塘社区 → 风雨坛社区")
    expect(preview.locator("tr[data-key='organizations.Person'] td.num")).to_have_text(str(people))
    screenshot(page, "test_tree_merge_preview")
    # Nothing has moved yet.
    assert Person.objects.filter(community=source).count() == people

    with page.expect_navigation():
        page.get_by_role("button", name="确认执行").click()
    expect(page.locator(".message-success")).to_contain_text("区划调整已完成：并入其他社区")
    expect(page.locator("h1")).to_contain_text("风雨坛社区")
    expect(page.get_by_text(re.compile("并入本社区的"))).to_be_visible()
    screenshot(page, "test_tree_community_profile_after_merge")
    assert Person.objects.filter(community=source).count() == 0
    assert Community.objects.get(pk=source.pk).merged_into_id == target.pk

    with page.expect_navigation():
        sidebar(page).get_by_role("link", name="社区", exact=True).click()
    expect(page.locator("table tbody")).not_to_contain_text("万柳塘社区")
