"""组织联建 pages: masked resident IDs, the audited reveal, optimistic concurrency on edits."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from .conftest import screenshot, watch_page
from .support import FULL_ID, MASKED_ID, login, sidebar


def test_cadre_sees_masked_ids_and_can_reveal_one(demo: Any, page: Any) -> None:
    from sanlian.core.models import AuditEntry

    login(page, demo.url, "cadre")
    with page.expect_navigation():
        sidebar(page).get_by_role("link", name="居民与会员").click()
    expect(page.locator("h1")).to_have_text("居民与会员")

    id_cells = page.locator("table tbody tr td:nth-child(3)")
    expect(id_cells.first).to_be_visible()
    masked = id_cells.all_inner_texts()
    assert masked, "no residents listed"
    assert all(MASKED_ID.match(t.strip()) for t in masked), masked
    assert all(t.startswith("2101") for t in masked), masked
    page_text = page.locator("main").inner_text()
    assert not re.search(r"\b\d{17}[\dX]\b", page_text), "a full ID number is on the list page"
    screenshot(page, "test_person_list_masked")

    first = page.locator("table tbody tr").first
    name = first.locator("td").first.inner_text().strip()
    first_masked = masked[0].strip()
    with page.expect_navigation():
        first.get_by_role("link").click()
    expect(page.locator("h1")).to_have_text(name)
    id_cell = page.get_by_test_id("id-number")
    expect(id_cell).to_contain_text(first_masked)

    views_before = AuditEntry.objects.filter(action="view").count()
    with page.expect_navigation():
        id_cell.get_by_role("button", name=re.compile("查看完整号码")).click()
    full = page.get_by_test_id("id-number").inner_text().strip()
    assert FULL_ID.match(full), full
    assert len(full) == 18
    assert full[:4] == first_masked[:4] and full[-4:] == first_masked[-4:]
    assert AuditEntry.objects.filter(action="view").count() == views_before + 1


def _open_community_edit(page: Any, base_url: str) -> None:
    login(page, base_url, "cadre")
    with page.expect_navigation():
        sidebar(page).get_by_role("link", name="社区", exact=True).click()
    with page.expect_navigation():
        page.locator("table tbody").get_by_role("link", name="凯旋社区").click()
    expect(page.locator("h1")).to_contain_text("凯旋社区")
    with page.expect_navigation():
        page.get_by_role("link", name="编辑").click()
    expect(page.locator("h1")).to_contain_text("编辑社区")


def _two_cadres_edit_kaixuan(base_url: str, new_context: Any) -> tuple[Any, Any]:
    """Both open 凯旋社区's edit form; the first raises the population and saves, then the
    second changes the address and saves. Returns (community before, second page)."""
    from sanlian.organizations.models import Community

    before = Community.objects.get(name="凯旋社区")
    first = new_context().new_page()
    second = new_context().new_page()
    for p in (first, second):
        watch_page(p)
        _open_community_edit(p, base_url)

    first.fill("#id_population", "12345")
    with first.expect_navigation():
        first.get_by_role("button", name="保存").click()
    expect(first.locator(".message-success")).to_contain_text("已保存")

    second.fill("#id_address", "沈阳市和平区测试路1号")
    with second.expect_navigation():
        second.get_by_role("button", name="保存").click()
    for p in (first, second):
        assert not p.watch.page_errors and not p.watch.csp_violations
    return before, second


def test_concurrent_community_edits_are_merged_not_overwritten(demo: Any, new_context: Any) -> None:
    from sanlian.organizations.models import Community

    before, second = _two_cadres_edit_kaixuan(demo.url, new_context)
    screenshot(second, "test_concurrent_edit_merge")
    expect(second.locator("h1")).to_contain_text("编辑社区")
    notice = second.locator(".message-warning")
    expect(notice).to_contain_text("该记录已被他人修改，您的修改未保存")
    expect(notice).to_contain_text("已合并到下方表单")
    # The other user's population is taken over; the second user's typing is kept.
    expect(second.locator("#id_population")).to_have_value("12345")
    expect(second.locator("#id_address")).to_have_value("沈阳市和平区测试路1号")

    after = Community.objects.get(pk=before.pk)
    assert after.population == 12345
    assert after.address == before.address
    assert after.version == before.version + 1

    # Saving the merged form keeps both people's edits.
    with second.expect_navigation():
        second.get_by_role("button", name="保存").click()
    saved = Community.objects.get(pk=before.pk)
    assert (saved.population, saved.address) == (12345, "沈阳市和平区测试路1号")
