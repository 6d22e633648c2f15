"""Steps shared by the browser tests."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from sanlian.organizations.demo import DEMO_PASSWORD, DEMO_TOTP_KEYS

LOGIN_PATH = "/accounts/login/"
MASKED_ID = re.compile(r"^\d{4}\*{10}[\dX]{4}$")
FULL_ID = re.compile(r"^\d{17}[\dX]$")


def login(page: Any, base_url: str, username: str, password: str = DEMO_PASSWORD) -> Any:
    """Fill and submit the sign-in form; returns the response of the final page."""
    page.goto(base_url + LOGIN_PATH)
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.locator("form.form button[type=submit]").click()
    return page


def totp_code(username: str) -> str:
    from django_otp.oath import totp

    return f"{totp(bytes.fromhex(DEMO_TOTP_KEYS[username])):06d}"


def logout(page: Any) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(re.escape(LOGIN_PATH)))


def sidebar(page: Any) -> Any:
    return page.locator("nav.sidebar")
