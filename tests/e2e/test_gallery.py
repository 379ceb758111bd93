"""The gallery in a real browser: sign in, see a new video arrive without reloading, play it."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.conftest import ADMIN_TOKEN, Stack

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these, headless Chromium reaches for Google's services, which this network refuses.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def sign_in(page: Page, stack: Stack, token: str) -> None:
    page.goto(stack.receiver_url)
    page.fill("input[name=token]", token)
    page.click("button[type=submit]")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_new_video_appears_live_and_plays(stack: Stack, browser: Browser, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.on("console", lambda message: print("console:", message.text))
    page.on("pageerror", lambda error: print("pageerror:", error))
    sign_in(page, stack, "not-the-token")
    assert page.locator(".error").inner_text() == "That is not the admin token."
    shots_dir = os.environ.get("RECEIVER_SCREENSHOTS")
    if shots_dir:
        page.screenshot(path=str(Path(shots_dir) / "gallery-sign-in.png"))
    sign_in(page, stack, ADMIN_TOKEN)
    page.wait_for_selector("#empty:not([hidden])")

    # Submitted from elsewhere while the page is open: no reload anywhere below.
    job_id = json.loads(stack.cli("submit", "a red kite over the dunes", "--json").stdout)["id"]
    page.wait_for_selector(f"[id='{job_id}'] video", timeout=60_000)
    assert page.locator(f"[id='{job_id}'] .status").inner_text().lower() == "stored"
    playing = page.evaluate(
        """async (id) => {
            const video = document.getElementById(id).querySelector("video");
            video.muted = true;
            await video.play();
            await new Promise((done) => setTimeout(done, 700));
            return { time: video.currentTime, error: video.error && video.error.code };
        }""",
        job_id,
    )
    assert playing["error"] is None
    assert playing["time"] > 0
    # RECEIVER_SCREENSHOTS=docs/images refreshes the screenshots the docs show.
    shots = Path(os.environ.get("RECEIVER_SCREENSHOTS", str(tmp_path)))
    page.screenshot(path=str(shots / "gallery.png"))

    # The page's session cannot change anything without its CSRF token.
    response = page.request.post(f"{stack.receiver_url}/v1/jobs/{job_id}/retry")
    assert response.status == 403
    # With it (as the page's buttons send it), the request goes through to the service.
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    response = page.request.post(
        f"{stack.receiver_url}/v1/jobs/{job_id}/retry", headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 409  # stored: nothing to retry
    page.close()
