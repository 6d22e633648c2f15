"""Volunteer hours on a phone: the volunteer logs two hours, the cadre confirms them, the
volunteer sees the confirmed total."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone
from playwright.sync_api import expect

from .conftest import screenshot, watch_page
from .support import login

PHONE = {"width": 375, "height": 812}
ACTIVITY = "为独居老人送餐（浏览器测试）"


def _phone(new_context: Any) -> Any:
    ctx = new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = ctx.new_page()
    watch_page(page)
    return page


def _confirmed_hours(page: Any) -> Decimal:
    return Decimal(page.get_by_test_id("volunteer-hours").inner_text().strip())


def _scroll_width(page: Any) -> int:
    return int(page.evaluate("() => document.documentElement.scrollWidth"))


def test_volunteer_logs_hours_and_cadre_confirms(demo: Any, new_context: Any) -> None:
    volunteer = _phone(new_context)
    login(volunteer, demo.url, "volunteer")
    before = _confirmed_hours(volunteer)
    with volunteer.expect_navigation():
        volunteer.get_by_role("link", name="记录服务时长", exact=True).last.click()
    expect(volunteer.locator("h1")).to_have_text("记录服务时长")
    submit = volunteer.get_by_role("button", name="提交，等待确认")
    assert submit.bounding_box()["height"] >= 48  # a real touch target

    # Early morning today: outside the 8-hour day and clear of the demo's entries.
    volunteer.fill("#id_served_on", timezone.localdate().isoformat())
    volunteer.fill("#id_start_time", "06:00")
    volunteer.fill("#id_end_time", "08:00")
    volunteer.fill("#id_activity", ACTIVITY)
    volunteer.fill("#id_place", "凯旋社区服务站")
    with volunteer.expect_navigation():
        submit.click()
    expect(volunteer.locator(".message-success")).to_contain_text("已提交 2.0 小时")
    mine = volunteer.get_by_test_id("my-logs").locator("li", has_text=ACTIVITY)
    expect(mine).to_contain_text("待确认")
    expect(mine).to_contain_text("8小时以外 2.0")
    assert _scroll_width(volunteer) <= PHONE["width"] + 2, "the phone page scrolls sideways"
    screenshot(volunteer, "workforce_phone_logged")

    cadre = _phone(new_context)
    login(cadre, demo.url, "cadre")
    cadre.goto(demo.url + "/org/volunteer-hours/")
    expect(cadre.locator("h1")).to_have_text("服务时长确认")
    row = cadre.get_by_test_id("queue").locator("li", has_text=ACTIVITY)
    row.get_by_role("button", name="确认", exact=True).click()  # htmx swaps the queue
    expect(cadre.locator("#queue .message-success")).to_have_text("已确认 1 条，共 2.0 小时。")
    expect(cadre.get_by_test_id("queue").locator("li", has_text=ACTIVITY)).to_have_count(0)
    screenshot(cadre, "workforce_queue_confirmed")

    volunteer.goto(demo.url + "/")
    assert _confirmed_hours(volunteer) == before + Decimal("2.0")
    volunteer.goto(demo.url + "/org/volunteers/me/")
    expect(volunteer.get_by_test_id("my-logs").locator("li", has_text=ACTIVITY)).to_contain_text(
        "已确认"
    )
    screenshot(volunteer, "workforce_phone_confirmed")
    for p in (volunteer, cadre):
        assert not p.watch.page_errors and not p.watch.csp_violations, p.watch.console_errors
