"""The resource ledger and shared venues in the browser: the community cadre records an
in-kind gift and finds it on the community page (and the city in its view of resources by
community); the social organisation's manager books the community's 职工之家, and the cadre's
booking of the same slot is refused with the clash named beside the start time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import floatformat
from django.utils import timezone
from playwright.sync_api import expect

from .conftest import screenshot, watch_page
from .support import login, sidebar

GIFT = "爱心企业捐赠冬季棉被30床"
GIFT_VALUE = Decimal("4500.00")
VENUE = "凯旋职工之家"
SESSION = "困难职工子女“七彩课堂”小组"


def _as(new_context: Callable[..., Any], base_url: str, username: str) -> Any:
    page = new_context().new_page()
    watch_page(page)
    login(page, base_url, username)
    return page


def _click(page: Any, locator: Any) -> None:
    with page.expect_navigation():
        locator.click()


def _grouped(value: Decimal) -> str:
    """As the pages show money: two decimals, thousands grouped with commas."""
    return str(intcomma(floatformat(value, 2)))


def _in_kind_this_year(community_name: str) -> Decimal:
    from django.db.models import Sum

    from sanlian.resources.models import ResourceEntry, ResourceKind

    total = ResourceEntry.objects.filter(
        community__name=community_name,
        kind=ResourceKind.IN_KIND,
        occurred_on__year=timezone.localdate().year,
    ).aggregate(s=Sum("value"))["s"]
    return total or Decimal(0)


def test_cadre_records_a_gift_and_the_city_sees_it(
    demo: Any, new_context: Callable[..., Any]
) -> None:
    before = _in_kind_this_year("凯旋社区")
    cadre = _as(new_context, demo.url, "cadre")
    _click(cadre, sidebar(cadre).get_by_role("link", name="资源台账"))
    _click(cadre, cadre.get_by_role("link", name="登记资源"))
    cadre.select_option("#id_community", label="凯旋社区（明星）")  # the only one she may
    cadre.select_option("#id_kind", label="实物捐赠")
    cadre.fill("#id_description", GIFT)
    cadre.fill("#id_source_name", "沈阳北方家纺有限公司")
    cadre.fill("#id_quantity", "30")
    cadre.fill("#id_unit", "床")
    cadre.fill("#id_value", "4500")
    cadre.check("#id_is_estimated")
    _click(cadre, cadre.get_by_role("button", name="保存"))
    expect(cadre.locator(".message-success")).to_contain_text(GIFT)
    row = cadre.get_by_test_id("ledger-table").locator("tbody tr", has_text=GIFT)
    expect(row).to_contain_text("实物捐赠")
    expect(row).to_contain_text("30 床")

    _click(cadre, row.get_by_role("link", name="凯旋社区"))
    expect(cadre.locator("h1")).to_contain_text("凯旋社区")
    totals = cadre.get_by_test_id("community-resource-totals")
    gift = totals.locator("dt:text-is('实物捐赠') + dd")
    expect(gift).to_have_text(f"¥{_grouped(before + GIFT_VALUE)}")
    assert _in_kind_this_year("凯旋社区") == before + GIFT_VALUE
    screenshot(cadre, "resources_community")

    city = _as(new_context, demo.url, "city")
    _click(city, sidebar(city).get_by_role("link", name="资源分布"))
    expect(city.locator("h1")).to_contain_text("资源分布")
    for chart in ("kind-chart-data", "share-chart-data"):
        expect(city.locator(f"[data-chart={chart}] svg")).to_have_count(1)
    kaixuan = city.get_by_test_id("community-table").locator("tbody tr", has_text="凯旋社区")
    expect(kaixuan).to_contain_text(_grouped(before + GIFT_VALUE))
    screenshot(city, "resources_city_view")

    _click(city, sidebar(city).get_by_role("link", name="资金池"))
    expect(city.locator("[data-chart=pool-chart-data] svg")).to_have_count(1)
    screenshot(city, "resources_pool_list")
    for p in (cadre, city):
        assert not p.watch.page_errors, p.watch.page_errors
        assert not p.watch.csp_violations, p.watch.csp_violations


def _free_afternoon() -> dt.datetime:
    """A Wednesday 14:00 some weeks ahead (the venue opens 9:00–18:00 Tuesday to Saturday)
    with nothing booked from 13:00 to 18:00."""
    from sanlian.resources.models import VenueBooking

    day = timezone.localdate() + dt.timedelta(days=35)
    day += dt.timedelta(days=(2 - day.weekday()) % 7)
    while True:
        start = timezone.make_aware(dt.datetime.combine(day, dt.time(14)))
        if not VenueBooking.objects.filter(
            venue__name=VENUE,
            starts_at__lt=start + dt.timedelta(hours=4),
            ends_at__gt=start - dt.timedelta(hours=1),
        ).exists():
            return start
        day += dt.timedelta(days=7)


def _fill_booking(page: Any, title: str, start: dt.datetime, hours: int) -> None:
    page.fill("#id_title", title)
    page.fill("#id_starts_at", f"{start:%Y-%m-%dT%H:%M}")
    page.fill("#id_ends_at", f"{start + dt.timedelta(hours=hours):%Y-%m-%dT%H:%M}")
    page.fill("#id_attendees", "20")


def test_a_venue_slot_is_booked_once(demo: Any, new_context: Callable[..., Any]) -> None:
    from sanlian.resources.models import VenueBooking

    start = _free_afternoon()
    org = _as(new_context, demo.url, "orgmanager")
    _click(org, sidebar(org).get_by_role("link", name="场地预约"))
    venue_row = org.get_by_test_id("bookable-venues").locator("tbody tr", has_text=VENUE)
    _click(org, venue_row.get_by_role("link", name="查看与预约"))
    expect(org.locator("h1")).to_contain_text(VENUE)
    _fill_booking(org, SESSION, start, 2)
    org.select_option("#id_purpose", label="小组活动")
    _click(org, org.get_by_test_id("booking-form").get_by_role("button", name="预约"))
    expect(org.locator(".message-success")).to_have_text(f"预约成功：{SESSION}。")
    day = org.get_by_test_id("venue-week").locator("tbody tr", has_text=SESSION)
    expect(day).to_contain_text("14:00–16:00")
    expect(day).to_contain_text("沈阳市阳光社会工作服务中心")
    screenshot(org, "resources_venue_week")

    cadre = _as(new_context, demo.url, "cadre")
    venue_url = org.url.split("?")[0]
    cadre.goto(venue_url)
    _fill_booking(cadre, "凯旋社区居民议事会", start + dt.timedelta(hours=1), 2)
    cadre.select_option("#id_purpose", label="会议")
    _click(cadre, cadre.get_by_test_id("booking-form").get_by_role("button", name="预约"))
    field = cadre.locator(".field", has=cadre.locator("#id_starts_at"))
    expect(field.locator(".field-error")).to_have_text(
        f"该时段已被预约：{SESSION}（沈阳市阳光社会工作服务中心，"
        f"{start:%Y-%m-%d %H:%M}–{start + dt.timedelta(hours=2):%H:%M}），请另选时间。"
    )
    expect(cadre.locator("#id_title")).to_have_value("凯旋社区居民议事会")  # kept to fix
    # The week shown is the one asked for, with the booking in the way.
    taken = cadre.get_by_test_id("venue-week").locator("tbody tr", has_text=SESSION)
    expect(taken).to_contain_text("14:00–16:00")
    screenshot(cadre, "resources_booking_clash")
    assert VenueBooking.objects.filter(venue__name=VENUE, starts_at=start).count() == 1
    assert not VenueBooking.objects.filter(title="凯旋社区居民议事会").exists()
    for p in (org, cadre):
        assert not p.watch.page_errors, p.watch.page_errors
        assert not p.watch.csp_violations, p.watch.csp_violations
