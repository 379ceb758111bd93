"""Signing out of the gallery in a real browser, under its Content-Security-Policy."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import sync_playwright

from receiver.web.sessions import SESSION_COOKIE
from tests.e2e.conftest import ADMIN_TOKEN, Stack
from tests.e2e.test_gallery import ARGS, CHROMIUM

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_sign_out_button_ends_the_session(stack: Stack) -> None:
    messages: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.on("console", lambda message: messages.append(message.text))
        page.goto(stack.receiver_url)
        page.fill("input[name=token]", ADMIN_TOKEN)
        page.click("button[type=submit]")
        page.wait_for_selector("#empty:not([hidden])")
        [cookie] = [c["value"] for c in page.context.cookies() if c["name"] == SESSION_COOKIE]

        page.click("text=Sign out")
        page.wait_for_selector("input[name=token]")
        assert not [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
        browser.close()
    assert [text for text in messages if "Content Security Policy" in text] == []
    # The cookie, had it been copied before, opens nothing any more.
    response = httpx.get(
        f"{stack.receiver_url}/v1/jobs", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"}
    )
    assert response.status_code == 401
