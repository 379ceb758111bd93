"""The gallery in a real browser: sign in, see a new video arrive without reloading, play it;
copy a job's id, S3 URI and link, download it, read its deliveries, page and filter the list,
all at a phone's width too."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from receiver.config import Secret
from receiver.lifecycle import JobStatus
from receiver.store.database import open_database
from receiver.tokens import CallbackClaims, CallbackSigner
from tests.conftest import run_sql
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
    # The count follows the live feed too.
    expect(page.locator("#count")).to_have_text("1 of 1 jobs")
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


#: The sizes the gallery must fit without scrolling sideways: a phone's, a laptop's.
VIEWPORTS: list[ViewportSize] = [{"width": 390, "height": 844}, {"width": 1280, "height": 800}]
#: Older jobs written straight into the database: more than one page of the gallery.
OLDER_JOBS = 110
#: The five oldest of them are the only cancelled jobs: beyond the first page.
OLDEST_CANCELLED = 5


def assert_fits(page: Page) -> None:
    """No horizontal scrolling at a phone's width or a laptop's."""
    for viewport in VIEWPORTS:
        page.set_viewport_size(viewport)
        width, inner = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert width <= inner, f"{width}px of page in a {inner}px window"
    page.set_viewport_size(VIEWPORTS[1])


def insert_older_jobs(stack: Stack) -> dict[str, list[str]]:
    """Jobs older than any real one, of every status, some flagged; their ids by status
    (and under "attention", the flagged ones)."""
    statuses = [status for status in JobStatus if status is not JobStatus.CANCELLED]
    made: dict[str, list[str]] = {}
    db = open_database(stack.env["RECEIVER_DATABASE_URL"])
    try:
        for n in range(OLDER_JOBS):
            job_id = f"job_{n:026d}"  # sorts before every id the clock makes
            status = JobStatus.CANCELLED if n < OLDEST_CANCELLED else statuses[n % len(statuses)]
            attention = "archive failed: the link expired" if n % 10 == 5 else None
            # One unbroken prompt, longer than a phone is wide.
            prompt = "x" * 300 if n == OLDER_JOBS - 1 else f"an older clip, number {n}"
            run_sql(
                db,
                "INSERT INTO jobs (id, provider, model, prompt, params, status, attention,"
                " credits_reserved, created_at, updated_at)"
                " VALUES (:id, 'evolink', 'kling-v3-text-to-video', :prompt, '{\"duration\": 5}',"
                " :status, :attention, 36.0, :at, :at)",
                id=job_id,
                prompt=prompt,
                status=status.value,
                attention=attention,
                at=f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}.000000Z",
            )
            made.setdefault(status.value, []).append(job_id)
            if attention:
                made.setdefault("attention", []).append(job_id)
    finally:
        db.close()
    return made


def reject_a_callback(stack: Stack, job_id: str) -> None:
    """A callback for the job, with its valid token, whose body is not JSON: rejected."""
    signer = CallbackSigner([Secret(stack.env["RECEIVER_SECRET_KEYS"])], max_age=3600)
    url = signer.callback_url(stack.receiver_url, CallbackClaims(provider="evolink", job_id=job_id))
    answer = httpx.post(url, content=b"not json", headers={"Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text


def wait_for_cards(page: Page, count: int, selector: str = "#jobs > article:not([hidden])") -> None:
    """Until the page holds ``count`` cards matching ``selector`` (a function, not a string:
    the page's CSP forbids the eval a string predicate needs)."""
    page.wait_for_function(
        "([selector, count]) => document.querySelectorAll(selector).length === count",
        arg=[selector, count],
    )


def visible_ids(page: Page) -> list[str]:
    ids: list[str] = page.eval_on_selector_all(
        "#jobs > article", "cards => cards.filter((c) => !c.hidden).map((c) => c.id)"
    )
    return ids


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_gallery_copies_downloads_pages_filters_and_fits_a_phone(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    job_id = json.loads(stack.cli("submit", "a heron over a misty lake", "--json").stdout)["id"]
    job = stack.wait_for(job_id, "stored")
    asset = job["asset"]
    reject_a_callback(stack, job_id)
    older = insert_older_jobs(stack)

    # Times are shown in the viewer's zone, named: this browser is in Tokyo.
    context = browser.new_context(viewport=VIEWPORTS[1], timezone_id="Asia/Tokyo", locale="en-US")
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.goto(stack.receiver_url)
    assert_fits(page)  # the sign-in page

    # The icon, where browsers look for it, and one the browser can draw under the CSP.
    icon = page.request.get(f"{stack.receiver_url}/favicon.ico")
    assert icon.status == 200
    assert icon.headers["content-type"] == "image/vnd.microsoft.icon"
    assert Image.open(io.BytesIO(icon.body())).format == "ICO"
    drawn = page.evaluate(
        """() => new Promise((done) => {
            const image = new Image();
            image.onload = () => done(image.naturalWidth);
            image.onerror = () => done(0);
            image.src = "/favicon.ico";
        })"""
    )
    assert drawn > 0

    sign_in(page, stack, ADMIN_TOKEN)
    card = page.locator(f"[id='{job_id}']")
    card.wait_for()

    # The first page (100) of 111 jobs, then the rest on demand.
    total = OLDER_JOBS + 1
    expect(page.locator("#count")).to_have_text(f"100 of {total} jobs · more to load below")
    assert len(visible_ids(page)) == 100
    page.click("#more")
    wait_for_cards(page, total, "#jobs > article")
    assert page.locator("#more").is_hidden()
    expect(page.locator("#count")).to_have_text(f"{total} of {total} jobs")

    # Time with its zone, the copyable id and S3 URI, and the credits.
    shown = card.locator(".top time")
    assert shown.get_attribute("datetime") == job["created_at"]
    assert shown.inner_text().endswith("GMT+9"), shown.inner_text()
    assert card.locator(".job-id").inner_text() == job_id
    assert card.locator(".uri").inner_text() == asset["uri"]
    credits = job["credits_reserved"]
    assert credits, job
    assert f"{round(credits, 2):g} credits" in card.locator(".facts").inner_text()
    link = f"{stack.receiver_url}/v1/jobs/{job_id}/video"
    for button, expected in [
        (".copy-id", job_id),
        (".copy-uri", asset["uri"]),
        (".copy-link", link),
    ]:
        card.locator(button).click()
        expect(card.locator(button)).to_have_text("Copied")
        assert page.evaluate("navigator.clipboard.readText()") == expected
    # The copied link brings whoever holds a session (or the token) to the video itself.
    video = page.request.get(link)
    assert hashlib.sha256(video.body()).hexdigest() == asset["sha256"]
    # Download opens the stored video in a tab of its own; the gallery stays where it was.
    with context.expect_page() as opened:
        card.locator(".download").click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url.startswith(stack.env["RECEIVER_S3_ENDPOINT_URL"]), tab.url
    assert hashlib.sha256(page.request.get(tab.url).body()).hexdigest() == asset["sha256"]
    tab.close()
    assert page.url.rstrip("/") == stack.receiver_url

    # Its deliveries: the provider's callback, and the rejected one, which can be replayed.
    card.locator(".deliveries summary").click()
    deliveries = card.locator(".delivery-list > li")
    deliveries.nth(1).wait_for()
    assert card.locator(".deliveries summary").inner_text() == "Deliveries (2)"
    outcomes = sorted(deliveries.locator(".outcome").all_inner_texts())
    assert outcomes == ["accepted", "rejected"]
    for received in deliveries.locator("time").all_inner_texts():
        assert received.endswith("GMT+9"), received
    rejected = deliveries.filter(has_text="rejected")
    accepted = deliveries.filter(has_text="accepted")
    assert accepted.locator(".replay").is_hidden()
    # Replayed with the page's CSRF token: the receiver judges the stored body again (still
    # not JSON), and the verdict shows under the delivery.
    rejected.locator(".replay").click()
    verdict = rejected.locator(".verdict")
    verdict.wait_for()
    assert verdict.inner_text().startswith("Replayed: still failing (malformed body"), verdict

    # The filter: every status, and the jobs that need attention.
    options = page.eval_on_selector_all("#status option", "options => options.map((o) => o.value)")
    assert sorted(options) == sorted(["", "attention", *JobStatus])
    page.select_option("#status", "attention")
    wait_for_cards(page, len(older["attention"]))
    assert sorted(visible_ids(page)) == sorted(older["attention"])
    page.select_option("#status", "")

    # A status whose jobs are all beyond the first page: the server is asked for them.
    page.reload()
    card.wait_for()
    assert len(visible_ids(page)) == 100
    page.select_option("#status", "cancelled")
    wait_for_cards(page, OLDEST_CANCELLED)
    assert sorted(visible_ids(page)) == sorted(older["cancelled"])
    expect(page.locator("#count")).to_have_text(f"{OLDEST_CANCELLED} of {OLDEST_CANCELLED} jobs")
    page.select_option("#status", "")
    page.click("#more")
    wait_for_cards(page, total, "#jobs > article")

    # Everything open and loaded (the 300-character prompt too) fits a phone.
    card.locator(".deliveries summary").click()
    card.locator(".delivery-list > li").nth(1).wait_for()
    assert_fits(page)
    page.set_viewport_size(VIEWPORTS[0])
    page.evaluate("() => window.scrollTo(0, 0)")
    shots = Path(os.environ.get("RECEIVER_SCREENSHOTS", str(tmp_path)))
    page.screenshot(path=str(shots / "gallery-phone.png"))
    context.close()
    assert [text for text in messages if "Content Security Policy" in text] == []


def _submit_model(stack: Stack, prompt: str, model: str, *params: str) -> str:
    args = [item for param in params for item in ("--param", param)]
    submitted = stack.cli("submit", prompt, "--model", model, *args, "--json").stdout
    job_id: str = json.loads(submitted)["id"]
    return job_id


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_card_shows_every_image_and_plays_every_song_at_a_phones_width(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    images_id = _submit_model(stack, "three lighthouses", "gpt-image-2", "n=3")
    songs_id = _submit_model(stack, "a sea shanty", "suno-v5-beta")
    images = stack.wait_for(images_id, "stored")["assets"]
    songs = stack.wait_for(songs_id, "stored")["assets"]
    assert len(images) == 3
    assert len(songs) == 2

    context = browser.new_context(viewport=VIEWPORTS[0])
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    sign_in(page, stack, ADMIN_TOKEN)

    # The list carries a job's first file; the card reads the job whole once seen: all three
    # images, drawn from the bucket through /v1/jobs/{id}/video?index=N.
    card = page.locator(f"[id='{images_id}']")
    card.scroll_into_view_if_needed()
    page.wait_for_function(
        """(id) => {
            const shown = [...document.getElementById(id).querySelectorAll(".media img")];
            return shown.length === 3 && shown.every((img) => img.complete && img.naturalWidth);
        }""",
        arg=images_id,
    )
    drawn = page.eval_on_selector_all(
        f"[id='{images_id}'] .media img",
        "shown => shown.map((img) => [img.getAttribute('src'), img.naturalWidth])",
    )
    assert drawn == [
        [f"/v1/jobs/{images_id}/video", 16],
        [f"/v1/jobs/{images_id}/video?index=1", 17],
        [f"/v1/jobs/{images_id}/video?index=2", 18],
    ]
    assert "3 images" in card.locator(".facts").inner_text()
    # Each file has its own download and link; the card's single ones are not shown.
    assert card.locator(".actions .download").is_hidden()
    assert card.locator(".actions .copy-link").is_hidden()
    figures = card.locator("figure.asset")
    assert figures.count() == 3
    second = figures.nth(1)
    second.locator(".asset-copy-link").click()
    expect(second.locator(".asset-copy-link")).to_have_text("Copied")
    link = page.evaluate("navigator.clipboard.readText()")
    assert link == f"{stack.receiver_url}/v1/jobs/{images_id}/video?index=1"
    assert hashlib.sha256(page.request.get(link).body()).hexdigest() == images[1]["sha256"]
    with context.expect_page() as opened:
        figures.nth(2).locator(".asset-download").click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url.startswith(stack.env["RECEIVER_S3_ENDPOINT_URL"]), tab.url
    assert hashlib.sha256(page.request.get(tab.url).body()).hexdigest() == images[2]["sha256"]
    tab.close()

    # Every song of the Suno job, playable.
    songs_card = page.locator(f"[id='{songs_id}']")
    songs_card.scroll_into_view_if_needed()
    page.wait_for_function(
        "(id) => document.getElementById(id).querySelectorAll('.media audio').length === 2",
        arg=songs_id,
    )
    played = page.evaluate(
        """async (id) => {
            const heard = [];
            for (const audio of document.getElementById(id).querySelectorAll(".media audio")) {
                audio.muted = true;
                await audio.play();
                await new Promise((done) => setTimeout(done, 250));
                audio.pause();
                heard.push({ time: audio.currentTime, error: audio.error && audio.error.code });
            }
            return heard;
        }""",
        songs_id,
    )
    assert [song["error"] for song in played] == [None, None]
    assert all(song["time"] > 0 for song in played), played
    assert "2 audio files" in songs_card.locator(".facts").inner_text()

    # Several files per card, at a phone's width and a laptop's: nothing scrolls sideways.
    assert_fits(page)
    page.set_viewport_size(VIEWPORTS[0])
    card.scroll_into_view_if_needed()
    shots = Path(os.environ.get("RECEIVER_SCREENSHOTS", str(tmp_path)))
    page.screenshot(path=str(shots / "gallery-several.png"))
    context.close()
    assert [text for text in messages if "Content Security Policy" in text] == []
