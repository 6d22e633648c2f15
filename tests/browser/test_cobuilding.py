"""组织联建 in the browser: the Party secretary records a joint meeting with a follow-up item
and moves it on (htmx); district staff record a Trade Union Law training with two attendees
and their scores; the community profile shows both."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from playwright.sync_api import expect

from .conftest import screenshot
from .support import login, logout, sidebar

MEETING = "2026年第四季度联席会议"
FOLLOW_UP = "为快递骑手设立爱心驿站"


def _record_meeting(page: Any, base_url: str) -> None:
    login(page, base_url, "secretary")
    with page.expect_navigation():
        sidebar(page).get_by_role("link", name="联建协议").click()
    expect(page.locator("h1")).to_have_text("联建协议")
    with page.expect_navigation():
        page.get_by_role("link", name="凯旋社区组织联建协议").click()
    with page.expect_navigation():
        page.get_by_role("link", name="登记联席会议").click()
    expect(page.locator("h1")).to_contain_text("登记联席会议")
    # The signatories are the prefilled attendees; the secretary chairs.
    expect(page.locator("#id_attendance-0-attendee_name")).to_have_value("李志强")
    expect(page.locator("#id_chair")).to_have_value("李志强")
    page.fill("#id_title", MEETING)
    page.fill("#id_minutes", "研究新就业形态劳动者服务。")
    page.fill("#id_followups-0-description", FOLLOW_UP)
    page.select_option("#id_followups-0-owner_organization", label="沈阳市阳光社会工作服务中心")
    page.fill("#id_followups-0-owner_name", "赵敏")
    page.fill("#id_followups-0-due_on", (dt.date.today() + dt.timedelta(days=30)).isoformat())
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    expect(page.locator(".message-success")).to_contain_text("联席会议已登记")
    expect(page.locator("h1")).to_have_text(MEETING)


def _move_follow_up_on(page: Any) -> None:
    """The status changes in place: htmx swaps the row, no page load."""
    from sanlian.organizations.models import FollowUpItem

    row = page.locator("[data-testid=follow-ups] tbody tr", has_text=FOLLOW_UP)
    row.locator("select[name=status]").select_option("in_progress")
    url_before = page.url
    with page.expect_response(re.compile(r"/follow-ups/\d+/status/$")):
        row.get_by_role("button", name="更新").click()
    expect(row.locator("select[name=status]")).to_have_value("in_progress")
    assert page.url == url_before
    assert FollowUpItem.objects.get(description=FOLLOW_UP).status == "in_progress"
    screenshot(page, "test_cobuilding_meeting")


def _record_training(page: Any, base_url: str) -> None:
    login(page, base_url, "district")
    expect(page.get_by_test_id("overdue-badge")).to_have_text("1")  # the demo's overdue item
    with page.expect_navigation():
        sidebar(page).get_by_role("link", name="工会法培训").click()
    with page.expect_navigation():
        page.get_by_role("link", name="登记培训").click()
    page.select_option("#id_topic", "trade_union_law")
    page.fill("#id_title", "社会组织职工《工会法》培训")
    page.fill("#id_held_on", dt.date.today().isoformat())
    page.fill("#id_trainer", "刘明")
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    expect(page.locator(".message-success")).to_contain_text("培训已登记")
    with page.expect_navigation():
        page.get_by_role("link", name="录入签到与成绩").click()
    page.select_option("#id_organization", label="沈阳市阳光社会工作服务中心")
    with page.expect_navigation():
        page.get_by_role("button", name="下一步").click()
    rows = page.locator("[data-testid=trainee-rows] tbody tr")
    for i, score in ((0, "92"), (1, "85.5")):
        rows.nth(i).locator("input[type=checkbox]").check()
        rows.nth(i).locator("input[type=number]").fill(score)
    screenshot(page, "test_cobuilding_training_sheet")
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    expect(page.locator(".message-success")).to_contain_text("2人")
    attendance = page.get_by_test_id("attendance")
    expect(attendance.locator("tbody tr")).to_have_count(2)
    expect(attendance).to_contain_text("85.5")
    # (92 + 85.5) / 2 = 88.75, shown with one decimal
    expect(page.get_by_test_id("org-summary")).to_contain_text("88.8")
    screenshot(page, "test_cobuilding_training")


def test_joint_meeting_and_training_show_on_the_community_profile(demo: Any, page: Any) -> None:
    from sanlian.organizations.models import Community, Organization, TrainingAttendance

    _record_meeting(page, demo.url)
    _move_follow_up_on(page)
    logout(page)

    _record_training(page, demo.url)
    recorded = TrainingAttendance.objects.filter(session__title="社会组织职工《工会法》培训")
    assert recorded.filter(attended=True, test_score__isnull=False).count() == 2

    kaixuan = Community.objects.get(name="凯旋社区")
    page.goto(demo.url + kaixuan.get_absolute_url())
    cobuilding = page.get_by_test_id("community-cobuilding")
    expect(cobuilding).to_contain_text("凯旋社区组织联建协议")
    expect(cobuilding).to_contain_text(MEETING)  # the last joint meeting
    union = page.get_by_test_id("community-unionbuilding")
    sunshine = Organization.objects.get(name="沈阳市阳光社会工作服务中心")
    trained = TrainingAttendance.objects.all().trained_per_organization(dt.date.today())
    row = union.locator("tbody tr", has_text=sunshine.name)
    expect(row.locator("td").last).to_have_text(str(trained[sunshine.pk]))
    screenshot(page, "test_cobuilding_community")
