"""The studio as a person uses it, in Debian's Chromium against a live server: the key, kept
settings, what each model can do, images (pick, paste, drop) with previews and card thumbnails,
refusals with a next step, delete, the time bar, two clips side by side, a phone's width.

Screenshots go to $CLIPFORGE_STUDIO_SHOTS (default test-artifacts/), to be looked at."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.live import LiveServer, live_server
from tests.slow_worker import paced_worker
from tests.web.test_studio import (  # fixtures: the page opens on this module's server
    ARTIFACTS,
    KEY,
    browser,
    enter_key,
    page,
    submit,
)

__all__ = ["browser", "page"]  # fixtures: Chromium, shared; a page on this module's server

SHOTS = Path(os.environ.get("CLIPFORGE_STUDIO_SHOTS") or ARTIFACTS)
I2V = "bytedance/seedance-1-0-pro-i2v"

# A 320x180 image made in the page, handed over as a clipboard paste or a drop.
MAKE_IMAGE = """async ([kind, target, colour]) => {
  const canvas = document.createElement("canvas");
  canvas.width = 320; canvas.height = 180;
  const g = canvas.getContext("2d");
  g.fillStyle = colour; g.fillRect(0, 0, 320, 180);
  g.fillStyle = "#fff"; g.fillRect(130, 60, 60, 60);
  const blob = await new Promise((done) => canvas.toBlob(done, "image/png"));
  const data = new DataTransfer();
  data.items.add(new File([blob], "frame.png", {type: "image/png"}));
  const node = document.querySelector(target);
  if (kind === "paste") {
    node.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true}));
  } else {
    node.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true}));
  }
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("studio-work")
    with live_server(data, backend="testpattern", workers=0, api_keys=KEY) as live:
        yield live


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_no_key_and_a_wrong_key_are_told_apart(browser: Browser, server: LiveServer) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(server.url)
    problem = page.locator("#key-problem")
    expect(problem).to_have_text("This server needs an API key: enter it below.")
    page.get_by_label("API key").fill("not-the-key")
    page.get_by_label("API key").dispatch_event("change")
    expect(problem).to_contain_text("refused this API key")
    shot(page, "wrong-key.png")
    page.get_by_label("API key").fill(KEY)
    page.get_by_label("API key").dispatch_event("change")
    expect(problem).to_have_text("")
    context.close()


def test_settings_are_kept_across_a_reload(page: Page) -> None:
    expect(page.get_by_label("Aspect ratio")).to_have_value("16:9")  # not "the first image's"
    page.get_by_label("Model").select_option("bytedance/seedance-1-0-lite-t2v")
    page.get_by_label("Resolution").select_option("480p")
    page.get_by_label("Aspect ratio").select_option("9:16")
    page.get_by_label("Duration").select_option("10")
    page.get_by_label("Camera fixed").check()
    page.reload()
    expect(page.locator("#model option").first).to_be_attached()
    expect(page.get_by_label("Model")).to_have_value("bytedance/seedance-1-0-lite-t2v")
    expect(page.get_by_label("Resolution")).to_have_value("480p")
    expect(page.get_by_label("Aspect ratio")).to_have_value("9:16")
    expect(page.get_by_label("Duration")).to_have_value("10")
    expect(page.get_by_label("Camera fixed")).to_be_checked()
    page.evaluate("localStorage.removeItem('clipforge.settings')")


def test_the_model_list_drives_the_controls(page: Page) -> None:
    page.get_by_label("Model").select_option("bytedance/seedance-1-0-pro-t2v")
    expect(page.locator("#model-caps")).to_contain_text("text to video")
    expect(page.locator("#i2v-hint")).to_contain_text("To animate an image, choose ")
    expect(page.locator("#i2v-hint")).to_contain_text(I2V)
    expect(page.locator("#image-fields")).to_be_hidden()
    page.get_by_label("Model").select_option(I2V)
    expect(page.locator("#model-caps")).to_contain_text("a first frame and an optional last")
    expect(page.locator("#image-fields")).to_be_visible()
    expect(page.locator("#examples .example").first).to_be_visible()


def test_a_refusal_says_what_to_do_next(page: Page) -> None:
    page.get_by_label("Model").select_option(I2V)
    page.get_by_label("Prompt").fill("no image given")
    page.get_by_role("button", name="Generate").click()  # an image model without its image
    error = page.locator("#form-error")
    expect(error).to_contain_text("Refused: image_url")
    expect(error).to_contain_text("Change what the message names, then generate again.")


def test_paste_and_drop_images_then_the_card_shows_the_first_frame(page: Page) -> None:
    page.get_by_label("Model").select_option(I2V)
    page.evaluate(MAKE_IMAGE, ["paste", "body", "#c0392b"])  # Ctrl+V anywhere: the first frame
    first = page.locator("#first-preview img")
    page.wait_for_function("img => img.naturalWidth > 0", arg=first.element_handle())
    page.evaluate(MAKE_IMAGE, ["drop", '.frame[data-which="last"]', "#2e86c1"])
    last = page.locator("#last-preview img")
    page.wait_for_function("img => img.naturalWidth > 0", arg=last.element_handle())
    expect(page.locator("#first-preview")).not_to_have_class(re.compile("empty"))
    expect(page.locator("#last-preview")).not_to_have_class(re.compile("empty"))
    shot(page, "desktop-images.png")
    job_id = submit(page, "the square waves")
    card = page.locator(f'.card[data-job-id="{job_id}"]')
    expect(card).to_have_attribute("data-status", "queued")
    thumb = card.locator(".thumb")
    expect(thumb).to_have_class(re.compile("has-image"))  # queued: the first frame stands in
    assert thumb.locator("img").evaluate("img => img.naturalWidth") > 0
    page.reload()
    expect(page.locator(f'.card[data-job-id="{job_id}"] .thumb')).to_have_class(
        re.compile("has-image")
    )


def test_delete_asks_first(page: Page, server: LiveServer) -> None:
    job_id = submit(page, "a clip to delete")
    card = page.locator(f'.card[data-job-id="{job_id}"]')
    page.once("dialog", lambda dialog: dialog.dismiss())
    card.get_by_role("button", name="Delete").click()
    expect(card).to_be_visible()  # kept: the person said no
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    card.get_by_role("button", name="Delete").click()
    expect(card).to_have_count(0)
    assert asked and "a clip to delete" in asked[0]
    with server.client(KEY) as http:
        assert http.get(f"/v1/jobs/{job_id}").status_code == 404


def test_time_bar_and_two_clips_side_by_side(page: Page, server: LiveServer) -> None:
    page.get_by_label("Seed").fill("1")
    first = submit(page, "a green square, first")
    page.get_by_label("Seed").fill("2")
    second = submit(page, "a green square, second")
    cards = [page.locator(f'.card[data-job-id="{job}"]') for job in (first, second)]
    with paced_worker(server, step_seconds=0.05, decode_seconds=0.3):
        for card in cards:
            expect(card).to_have_attribute("data-status", "completed", timeout=60_000)
    bar = cards[0].locator(".timebar")
    expect(bar).to_be_visible()
    expect(bar.locator(".times")).to_contain_text(re.compile(r"denoise [0-9.]+ · decode"))
    assert bar.locator(".segment.denoise").count() == 1
    for card in cards:
        card.get_by_label("Compare").check()
    page.get_by_role("button", name="Compare (2/2)").click()
    videos = page.locator("#compare video")
    expect(videos).to_have_count(2)
    for index in range(2):
        page.wait_for_function(
            "v => v.readyState >= 3", arg=videos.nth(index).element_handle(), timeout=30_000
        )
    expect(page.locator("#compare figcaption").nth(0)).to_contain_text("seed 1")
    page.get_by_role("button", name="Play both").click()
    page.wait_for_timeout(1200)
    state = videos.evaluate_all("vs => vs.map(v => [v.paused, v.currentTime])")
    assert not state[0][0] and not state[1][0], state  # both play
    assert state[0][1] > 0.3 and abs(state[0][1] - state[1][1]) < 0.3, state  # in step
    page.get_by_role("button", name="Pause both").click()
    videos.nth(0).evaluate("v => { v.currentTime = 2.0; }")  # a seek on the left: both go
    page.wait_for_timeout(1000)
    times = videos.evaluate_all("vs => vs.map(v => v.currentTime)")
    assert abs(times[1] - 2.0) < 0.05, times
    shot(page, "desktop-compare.png")


def test_phone_width(browser: Browser, server: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(server.url)
    enter_key(page)
    expect(page.locator(".card").first).to_be_visible()
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1] == 390, widths
    for selector in ("#prompt", "#generate", ".card", "#examples", ".timebar"):
        box = page.locator(selector).first.bounding_box()
        assert box is None or (box["x"] >= 0 and box["x"] + box["width"] <= 390), selector
    shot(page, "phone.png")
    context.close()
