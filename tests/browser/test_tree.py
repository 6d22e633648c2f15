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
    expect(page.get_by_role("heading", name="场地", exact=True)).to_be_visible()
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


def test_cadre_creates_the_communitys_organisations(demo: Any, page: Any) -> None:
    """A community cadre adds a social organisation and an enterprise under the community's
    joint union; a wrong credit code is refused in Chinese, the corrected one saved."""
    from sanlian.core.validators import make_credit_code
    from sanlian.organizations.models import Organization

    union = Organization.objects.get(name="凯旋社区联合工会")
    login(page, demo.url, "cadre")
    with page.expect_navigation():
        sidebar(page).get_by_role("link", name="组织架构").click()
    with page.expect_navigation():
        page.get_by_role("link", name="新增组织").click()

    page.get_by_label("类型").select_option(label="社会组织")
    page.get_by_label("上级组织").select_option(value=str(union.pk))
    page.get_by_label("名称").fill("凯旋社区邻里互助服务中心")
    good = make_credit_code("210102", 7777)
    page.get_by_label("统一社会信用代码").fill(good[:17] + ("0" if good[17] != "0" else "1"))
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("保存|新增|创建")).click()
    expect(page.locator(".field-error, .errorlist").first).to_contain_text("统一社会信用代码")
    screenshot(page, "test_tree_org_create_bad_code")

    page.get_by_label("统一社会信用代码").fill(good)
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("保存|新增|创建")).click()
    expect(page.locator(".message-success")).to_contain_text("凯旋社区邻里互助服务中心")

    with page.expect_navigation():
        page.goto(demo.url + "/org/organizations/new/")
    page.get_by_label("类型").select_option(label="企业")
    page.get_by_label("上级组织").select_option(value=str(union.pk))
    page.get_by_label("名称").fill("凯旋物业服务有限公司")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("保存|新增|创建")).click()
    expect(page.locator(".message-success")).to_contain_text("凯旋物业服务有限公司")
    screenshot(page, "test_tree_org_created")

    created = Organization.objects.filter(
        parent=union, name__in=["凯旋社区邻里互助服务中心", "凯旋物业服务有限公司"]
    )
    assert sorted(created.values_list("kind", flat=True)) == ["enterprise", "social_org"]
    assert created.get(kind="social_org").credit_code == good
