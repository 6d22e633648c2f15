"""Signing in: the Chinese login page, administrators' second factor, forced password change,
wrong passwords and lockout, choosing English."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from .conftest import screenshot
from .support import LOGIN_PATH, login, logout, sidebar, totp_code

NEW_PASSWORD = "Lianjian@2027q"


def test_login_page_is_chinese_self_hosted_and_clean(live_server: Any, page: Any) -> None:
    page.goto(live_server.url + LOGIN_PATH, wait_until="networkidle")

    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_have_text("三联平台")
    expect(page.locator("label[for=id_username]")).to_have_text("用户名")
    expect(page.locator("label[for=id_password]")).to_have_text("密码")
    expect(page.get_by_role("button", name="登录")).to_be_visible()

    assert page.watch.requests, "no requests recorded"
    foreign = [u for u in page.watch.requests if not u.startswith((live_server.url + "/", "data:"))]
    assert not foreign, f"the login page loads from other hosts: {foreign}"
    # The stylesheet and the scripts really loaded (CSP 'self' let them through).
    assert any(u.endswith("/static/sanlian/app.css") for u in page.watch.requests)
    assert any(u.endswith("/static/sanlian/app.js") for u in page.watch.requests)
    assert page.evaluate("() => Boolean(window.htmx)")
    assert not page.watch.console_errors, page.watch.console_errors
    assert not page.watch.csp_violations


def test_wrong_password_then_lockout(demo: Any, page: Any) -> None:
    login(page, demo.url, "cadre", "wrong-Password#1")
    expect(page.locator(".errorlist.nonfield")).to_contain_text("用户名或密码错误")
    expect(page).to_have_url(re.compile(re.escape(LOGIN_PATH)))
    screenshot(page, "test_wrong_password")

    for attempt in range(2, 6):
        login(page, demo.url, "cadre", f"wrong-Password#{attempt}")

    login(page, demo.url, "cadre")  # the right password, too late
    expect(page.locator("h1")).to_have_text("账号已锁定")
    expect(page.get_by_role("alert")).to_contain_text("连续5次登录失败，该账号已被锁定30分钟")
    expect(page.locator("nav.sidebar")).to_have_count(0)


def test_english_can_be_chosen_on_the_login_page(live_server: Any, page: Any) -> None:
    page.goto(live_server.url + LOGIN_PATH)
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    with page.expect_navigation():
        page.locator("select[name=language]").select_option("en")  # auto-submits

    expect(page).to_have_url(re.compile(re.escape(LOGIN_PATH)))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("select[name=language]")).to_have_value("en")
    expect(page.locator("select[name=language] option:checked")).to_have_text("English")
    # The choice sticks for the next page too.
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert not page.watch.console_errors, page.watch.console_errors


def _admin_login(page: Any, base_url: str, username: str) -> None:
    """Administrators are stopped at the second factor, then reach account management."""
    login(page, base_url, username)
    expect(page).to_have_url(re.compile(r"/accounts/otp/verify/"))
    expect(page.locator("h1")).to_have_text("两步验证")
    page.fill("#id_token", totp_code(username))
    with page.expect_navigation():
        page.get_by_role("button", name="验证").click()
    expect(page).to_have_url(base_url + "/")
    expect(page.locator("main h1")).to_contain_text("账号管理")
    with page.expect_navigation():
        sidebar(page).get_by_role("link", name="用户与角色").click()
    expect(page.locator("h1")).to_have_text("用户与角色")
    expect(page.locator("table")).to_contain_text("cadre")


def test_admins_create_a_cadre_who_must_change_password(demo: Any, page: Any) -> None:
    from sanlian.core.models import User

    # The system administrator creates the account (without roles: 三员分立) ...
    _admin_login(page, demo.url, "sysadmin")
    with page.expect_navigation():
        page.get_by_role("link", name="新建账号").click()
    expect(page.locator("h1")).to_have_text("新建账号")
    page.fill("#id_username", "kaixuan2")
    page.fill("#id_full_name", "周红梅")
    option = page.locator("#id_organization option", has_text="凯旋社区联合工会").first
    page.select_option("#id_organization", label=option.inner_text())
    page.fill("#id_password", "Start#2026abc")
    screenshot(page, "test_admin_user_form")
    with page.expect_navigation():
        page.get_by_role("button", name="创建").click()
    expect(page.locator(".message-success")).to_contain_text("首次登录须修改密码")
    expect(page.locator("main")).to_contain_text("凯旋社区联合工会")
    new = User.objects.get(username="kaixuan2")
    assert new.must_change_password
    assert new.role_names() == []
    logout(page)

    # ... the security administrator grants the community cadre role ...
    _admin_login(page, demo.url, "secadmin")
    with page.expect_navigation():
        page.get_by_role("link", name="kaixuan2").click()
    page.select_option("#id_role", "community_cadre")
    with page.expect_navigation():
        page.get_by_role("button", name="授予角色").click()
    expect(page.locator(".message-success")).to_contain_text("角色已授予")
    expect(page.locator("main")).to_contain_text("社区联合工会干部")
    assert User.objects.get(pk=new.pk).role_names() == ["community_cadre"]
    logout(page)

    # ... and the cadre's first sign-in goes through the password change.
    login(page, demo.url, "kaixuan2", "Start#2026abc")
    expect(page).to_have_url(re.compile(r"/accounts/password/"))
    expect(page.locator("h1")).to_have_text("修改密码")
    expect(page.locator(".message-warning").first).to_contain_text("请先修改密码")
    page.goto(demo.url + "/org/people/")  # nothing else is reachable before the change
    expect(page).to_have_url(re.compile(r"/accounts/password/"))

    page.fill("#id_old_password", "Start#2026abc")
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="保存新密码").click()

    expect(page).to_have_url(demo.url + "/")
    expect(page.locator(".message-success")).to_contain_text("密码已修改")
    expect(page.locator("main h1")).to_contain_text("凯旋社区联合工会")
    expect(sidebar(page)).to_contain_text("组织联建")
    new.refresh_from_db()
    assert not new.must_change_password
