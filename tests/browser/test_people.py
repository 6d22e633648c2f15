"""People: registering a resident with duplicate detection, finding them by pinyin initials,
and merging a record entered twice."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from playwright.sync_api import expect

from sanlian.core.validators import generate_resident_id

from .conftest import screenshot
from .support import login, sidebar

NEW_ID = generate_resident_id("210102", dt.date(1968, 8, 31), 135)  # a man born 1968-08-31


def test_cadre_registers_a_resident_finds_him_by_initials_and_cannot_register_him_twice(
    demo: Any, page: Any
) -> None:
    login(page, demo.url, "cadre")
    with page.expect_navigation():
        sidebar(page).get_by_role("link", name="居民与会员").click()
    with page.expect_navigation():
        page.get_by_role("link", name="登记居民").click()
    page.fill("#id_name", "单雄信")
    page.fill("#id_id_number", NEW_ID)
    page.fill("#id_phone", "139 1234 5678")
    page.select_option("#id_new_employment_kind", "rider")
    page.get_by_label("困难职工").check()
    with page.expect_navigation():
        page.get_by_role("button", name="登记").click()
    expect(page.locator(".message-success")).to_contain_text("已登记 单雄信")
    expect(page.get_by_test_id("person-badges")).to_contain_text("外卖骑手")
    expect(page.get_by_test_id("id-number")).to_contain_text(NEW_ID[:4] + "*" * 10 + NEW_ID[-4:])
    expect(page.locator("main")).to_contain_text("1968-08-31")
    expect(page.get_by_test_id("tags")).to_contain_text("困难职工")
    person_url = page.url

    # The surname 单 is read shan: "sxx" finds him.
    with page.expect_navigation():
        sidebar(page).get_by_role("link", name="查找").click()
    page.fill("#id_q", "sxx")
    with page.expect_navigation():
        page.get_by_role("button", name="查找").click()
    results = page.get_by_test_id("people-results")
    expect(results).to_contain_text("单雄信")
    screenshot(page, "test_people_search_by_initials")

    # The same ID number again: refused, with a link to the record already there.
    with page.expect_navigation():
        sidebar(page).get_by_role("link", name="居民与会员").click()
    with page.expect_navigation():
        page.get_by_role("link", name="登记居民").click()
    page.fill("#id_name", "单雄兴")
    page.fill("#id_id_number", NEW_ID.lower())
    with page.expect_navigation():
        page.get_by_role("button", name="登记").click()
    expect(page.locator(".field-error")).to_contain_text("该身份证号已登记")
    link = page.get_by_test_id("duplicate-link")
    expect(link).to_have_attribute("href", re.compile(re.escape(person_url.split(demo.url)[1])))
    screenshot(page, "test_people_duplicate_refused")


def test_district_staff_merge_a_resident_entered_twice(demo: Any, page: Any) -> None:
    from sanlian.organizations.models import Person

    page.on("dialog", lambda dialog: dialog.accept())
    login(page, demo.url, "district")
    with page.expect_navigation():
        sidebar(page).get_by_role("link", name="疑似重复").click()
    expect(page.locator("h1")).to_have_text("疑似重复的居民记录")
    first_group = page.locator("table").first
    name = first_group.locator("tbody tr td").first.inner_text().strip()
    with page.expect_navigation():
        first_group.get_by_role("link", name="合并到第一条").click()
    expect(page.locator("h1")).to_have_text("合并重复记录")
    screenshot(page, "test_people_merge_preview")
    with page.expect_navigation():
        page.get_by_role("button", name="确认合并").click()
    expect(page.locator(".message-success")).to_contain_text("合并到本记录")
    expect(page.locator("h1")).to_have_text(name)
    assert Person.objects.filter(name=name, is_active=True).count() == 1
    assert Person.objects.filter(name=name, is_active=False).count() == 1
