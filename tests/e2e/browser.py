"""Driving the staff screens as a person does: Debian's chromium under Playwright, axe-core on every
page, screenshots at a desktop's and a tablet's size under var/screenshots/.

Playwright's async API, each scenario in its own event loop (`run`): the test process is
monkey-patched by eventlet (tests/conftest.py), and eventlet's hub takes over the greenlet that
Playwright's sync API returns through when it stops, so that API never finishes closing."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright, expect

from deploy.local.stack import ROOT

SCREENSHOTS = ROOT / "var" / "screenshots"
SIZES = {"desktop": (1280, 800), "tablet": (800, 1280)}
# The residents' pages: a phone (most families book from one) and a desktop.
PUBLIC_SIZES = {"phone": (390, 844), "desktop": (1280, 800)}
# WCAG 2.1 A and AA: the level of JIS X 8341-3 that municipalities are asked to meet.
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
_axe = Axe()


async def launch(playwright) -> Browser:
    """Debian's chromium: Playwright's own browser download is not reachable from build machines.
    (As root, Playwright starts it without the sandbox by itself; it loads only our local pages.)"""
    executable = shutil.which("chromium")
    assert executable, "chromium is not installed (make test installs Debian's chromium)"
    return await playwright.chromium.launch(executable_path=executable)


def run(scenario: Callable[[Page], Awaitable[None]]) -> None:
    """Runs `scenario` with a fresh browser page (Japanese locale and time zone, desktop size)."""

    async def main() -> None:
        async with async_playwright() as playwright:
            browser = await launch(playwright)
            try:
                context = await browser.new_context(
                    locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": 1280, "height": 800}
                )
                page = await context.new_page()
                page.set_default_timeout(15_000)
                await scenario(page)
            finally:
                await browser.close()

    asyncio.run(main())


async def accessibility_violations(page: Page) -> list[str]:
    results = await _axe.run(page, options=WCAG_AA)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


async def check_page(page: Page, name: str, sizes: dict[str, tuple[int, int]] = SIZES) -> None:
    """Zero axe violations, nothing cut off at 200% zoom, then a screenshot of the whole page at
    each size (the viewport restored after)."""
    violations = await accessibility_violations(page)
    assert not violations, f"{name}: {violations}"
    overflow = await wider_than_window_at_200_percent(page)
    assert not overflow, f"{name}: at 200% zoom these need sideways scrolling: {overflow}"
    await shoot(page, name, sizes)


async def wider_than_window_at_200_percent(page: Page) -> list[str]:
    """A 1280 px window zoomed to 200% lays out like a 640 px one (WCAG 1.4.4 and 1.4.10): the page
    must not need scrolling sideways. Returns the widest offenders, if any."""
    original = page.viewport_size
    await page.set_viewport_size({"width": 640, "height": 800})
    try:
        return await page.evaluate(
            """() => {
              const limit = document.documentElement.clientWidth;
              if (document.documentElement.scrollWidth <= limit + 1) return [];
              return [...document.querySelectorAll("body *")]
                .filter((e) => e.getBoundingClientRect().right > limit + 1)
                .slice(0, 5)
                .map((e) => `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}.${e.className}`);
            }"""
        )
    finally:
        if original:
            await page.set_viewport_size(original)


async def shoot(page: Page, name: str, sizes: dict[str, tuple[int, int]] = SIZES) -> list[Path]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    paths = []
    for size, (width, height) in sizes.items():
        await page.set_viewport_size({"width": width, "height": height})
        path = SCREENSHOTS / f"{name}-{size}.png"
        await page.screenshot(path=str(path), full_page=True)
        paths.append(path)
    if original:
        await page.set_viewport_size(original)
    return paths


async def sign_in(page: Page, portal: str, role_label: str) -> None:
    """Through the OpenID Connect flow: the portal sends the browser to the provider, the person
    picks who they are, the provider sends them back signed in."""
    await page.goto(f"{portal}/staff")
    await expect(page.get_by_role("heading", name="ログイン（開発用の認証画面）")).to_be_visible()
    await page.get_by_label(role_label).check()
    await page.get_by_role("button", name="ログイン").click()
    await expect(page.get_by_role("heading", name="メニュー")).to_be_visible()


async def sign_out(page: Page) -> None:
    await page.get_by_role("button", name="ログアウト").click()
    await expect(page.get_by_role("heading", name="ログアウトしました")).to_be_visible()
