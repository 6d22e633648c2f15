"""Browser tests: headless Debian Chromium driven by Playwright's sync API against live_server.

One browser per session; a fresh context and page per test. Every page records its console
errors, uncaught exceptions, CSP violations and request URLs so tests can assert on them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse
# ORM calls made from the test (fixtures seeding the live server's database).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
TIMEOUT_MS = 10_000

BROWSER_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/browser is a browser test."""
    for item in items:
        if BROWSER_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@dataclass
class Watch:
    """What a page did: requests, console errors, uncaught exceptions."""

    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    @property
    def csp_violations(self) -> list[str]:
        return [
            e for e in self.console_errors if "Content Security Policy" in e or e.startswith("CSP ")
        ]

    def clear(self) -> None:
        self.requests.clear()
        self.console_errors.clear()
        self.page_errors.clear()


# Reported through the console too, with the directive, in case Chromium's own message changes.
CSP_REPORTER = """
document.addEventListener('securitypolicyviolation', function (e) {
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI);
});
"""


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        message = f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: {message}", pytrace=False)
        pytest.skip(f"SKIPPING ALL BROWSER TESTS: {message}")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()


@pytest.fixture
def new_context(browser: Any) -> Iterator[Callable[..., Any]]:
    """Factory for extra contexts (two users side by side); all closed at teardown."""
    contexts: list[Any] = []

    def make(**kwargs: Any) -> Any:
        kwargs.setdefault("viewport", DESKTOP)
        kwargs.setdefault("locale", "zh-CN")
        kwargs.setdefault("timezone_id", "Asia/Shanghai")
        ctx = browser.new_context(**kwargs)
        ctx.set_default_timeout(TIMEOUT_MS)
        ctx.add_init_script(CSP_REPORTER)
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def context(new_context: Callable[..., Any]) -> Any:
    return new_context()


def watch_page(page: Any) -> Watch:
    w = Watch()
    page.on("request", lambda req: w.requests.append(req.url))
    page.on(
        "console", lambda msg: w.console_errors.append(msg.text) if msg.type == "error" else None
    )
    page.on("pageerror", lambda exc: w.page_errors.append(str(exc)))
    page.watch = w
    return w


@pytest.fixture
def page(context: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A watched page; a full-page screenshot of its last state is saved at teardown,
    and no test may leave an uncaught script error or a CSP violation behind."""
    p = context.new_page()
    w = watch_page(p)
    yield p
    if not p.is_closed():
        screenshot(p, request.node.name)
    assert not w.page_errors, f"uncaught script errors: {w.page_errors}"
    assert not w.csp_violations, f"CSP violations: {w.csp_violations}"


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / (re.sub(r"[^\w.-]+", "_", name).strip("_") + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def demo(live_server: Any) -> Any:
    """The small demo city, seeded into the live server's (transactional) database."""
    from sanlian.organizations.demo import seed

    result = seed("small", 1)
    assert not result.get("skipped"), result
    return live_server
