"""The web studio in a real headless Chromium (Debian's package), against a live server.

The server runs no workers of its own: a paced test-pattern worker starts when a test wants
the job to move, so that the page can be seen queued, then generating step by step.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.live import LiveServer, live_server, wait_for_job
from tests.slow_worker import paced_worker

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
KEY = "studio-key"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


RECORD_PROGRESS = """() => {
  window.progressLog = [];
  const node = document.getElementById("progress-text");
  new MutationObserver(() => window.progressLog.push(node.textContent))
    .observe(node, {childList: true, characterData: true, subtree: true});
}"""


MODEL_WIDTHS = """m => {
  const text = document.createElement("canvas").getContext("2d");
  text.font = getComputedStyle(m).font;
  return [m.scrollWidth, m.clientWidth, text.measureText(m.value).width];
}"""


SHOW_A_FRAME = """v => new Promise(resolve => {
  v.addEventListener("seeked", resolve, {once: true});
  v.currentTime = 2.5;
})"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("studio")
    with live_server(data, backend="testpattern", workers=0, api_keys=KEY) as live:
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: apt-get install -y chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(server.url)
    enter_key(page)
    yield page
    context.close()


def test_the_page_and_its_files_are_served(server: LiveServer) -> None:
    with server.client() as http:
        page = http.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert 'aria-live="polite"' in page.text and "/studio/app.js" in page.text
        script, style = http.get("/studio/app.js"), http.get("/studio/style.css")
        assert script.status_code == style.status_code == 200
        assert "javascript" in script.headers["content-type"] and "/events" in script.text
        assert style.headers["content-type"].startswith("text/css")
        assert http.get("/studio/index.html").status_code == 404
        assert http.get("/studio/..%2F__init__.py").status_code == 404


def enter_key(page: Page) -> None:
    """The server wants a key: the page shows the field, and keeps what is typed."""
    expect(page.locator("#key-box")).to_be_visible()
    page.get_by_label("API key").fill(KEY)
    page.get_by_label("API key").press("Enter")
    page.get_by_label("API key").dispatch_event("change")
    expect(page.locator("#model option").first).to_have_text("bytedance/seedance-1-0-pro-t2v")


def submit(page: Page, prompt: str, **choices: str) -> str:
    page.get_by_label("Prompt").fill(prompt)
    page.get_by_label("Resolution").select_option("480p")
    for label, value in choices.items():
        page.get_by_label(label).select_option(value)
    page.get_by_role("button", name="Generate").click()
    card = page.locator(".card", has_text=prompt).first
    expect(card).to_have_attribute("data-job-id", re.compile(r".+"))
    job_id = card.get_attribute("data-job-id")
    assert job_id
    return job_id


def test_generate_watch_progress_and_play(page: Page, server: LiveServer) -> None:
    page.evaluate(RECORD_PROGRESS)
    page.get_by_label("Aspect ratio").select_option("16:9")
    page.get_by_label("Duration").select_option("5")
    page.get_by_label("Seed").fill("42")
    page.get_by_label("Camera fixed").check()
    job_id = submit(page, "a red ball rolling to the right")
    status = page.locator("#progress-text")
    expect(status).to_have_text("Queued: position 1 in line")
    with paced_worker(server, step_seconds=0.4, decode_seconds=1.5, frame_seconds=0.015):
        expect(status).to_contain_text("Generating: step")
        card = page.locator(f'.card[data-job-id="{job_id}"]')
        expect(card).to_have_attribute("data-status", "completed", timeout=60_000)
    video = card.locator("video")
    video.wait_for()
    page.wait_for_function("v => v.readyState === 4", arg=video.element_handle(), timeout=30_000)
    duration = video.evaluate("v => v.duration")
    assert abs(duration - 5.0) <= 0.1, duration
    log = page.evaluate("window.progressLog")
    assert "Queued: position 1 in line" in log and log[-1] == "Completed"
    expect(card.locator(".reading")).to_have_text(
        "Model read: a red ball rolling to the right"  # the test pattern uses it as it is
    )
    assert any(text.startswith("Generating: step") and "s left" in text for text in log), log
    later = [text.split(",")[0] for text in log if not text.startswith(("Queued", "Generating"))]
    phases = list(dict.fromkeys(later))  # in the order they were first shown
    assert phases[:2] == ["Decoding the frames", "Encoding the video"], log
    assert page.locator("#progress-box").get_attribute("data-transport") == "sse"
    assert card.get_by_role("link", name="Download").get_attribute("href")
    with server.client(KEY) as http:
        request = http.get(f"/v1/jobs/{job_id}").json()["request"]
    assert request["seed"] == 42 and request["camera_fixed"] is True
    assert request["resolution"] == "480p" and request["aspect_ratio"] == "16:9"
    assert page.evaluate("localStorage.getItem('clipforge.apiKey')") == KEY
    video.evaluate(SHOW_A_FRAME)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "studio.png"), full_page=True)


def test_the_form_starts_where_the_cli_does_and_shows_whole_model_ids(page: Page) -> None:
    assert page.get_by_label("Resolution").input_value() == "1080p"  # as `clipforge generate`
    model = page.get_by_label("Model")
    for value in ("bytedance/seedance-1-0-pro-t2v", "bytedance/seedance-1-0-lite-t2v"):
        model.select_option(value)
        widths = model.evaluate(MODEL_WIDTHS)
        assert widths[0] <= widths[1] and widths[2] < widths[1], widths  # the id is not cut


def test_progress_falls_back_to_polling(page: Page, server: LiveServer) -> None:
    page.route("**/events", lambda route: route.abort())  # a proxy that breaks streaming
    job_id = submit(page, "a blue square, polled")
    with paced_worker(server, step_seconds=0.1):
        card = page.locator(f'.card[data-job-id="{job_id}"]')
        expect(card).to_have_attribute("data-status", "completed", timeout=60_000)
    assert page.locator("#progress-box").get_attribute("data-transport") == "polling"
    expect(page.locator("#progress-text")).to_have_text("Completed")


def test_cancel_from_the_gallery(page: Page) -> None:
    job_id = submit(page, "a clip to cancel")
    card = page.locator(f'.card[data-job-id="{job_id}"]')
    expect(card).to_have_attribute("data-status", "queued")
    card.get_by_role("button", name="Cancel").click()
    expect(card).to_have_attribute("data-status", "cancelled")
    expect(card.get_by_role("button", name="Cancel")).to_be_hidden()
    expect(page.locator("#progress-text")).to_have_text("Cancelled")


def test_an_image_to_video_job_from_a_picked_image(
    page: Page, server: LiveServer, tmp_path: Path
) -> None:
    from tests.images import encoded, halves

    picture = tmp_path / "wide.png"
    picture.write_bytes(encoded(halves(800, 300)))  # wider than 16:9: the sides are cropped
    expect(page.locator("#image-fields")).to_be_hidden()  # a text-to-video model first
    page.get_by_label("Model").select_option("bytedance/seedance-1-0-pro-i2v")
    expect(page.locator("#image-fields")).to_be_visible()
    expect(page.locator("#last-field")).to_be_visible()  # testpattern takes a last frame
    page.get_by_label("First frame").set_input_files(str(picture))
    preview = page.locator("#first-preview img")
    page.wait_for_function("img => img.naturalWidth > 0", arg=preview.element_handle())
    page.get_by_label("Aspect ratio").select_option("16:9")
    box = page.locator("#first-preview").bounding_box()
    assert box is not None and abs(box["width"] / box["height"] - 16 / 9) < 0.02  # the crop
    assert preview.evaluate("img => getComputedStyle(img).objectFit") == "cover"
    job_id = submit(page, "the flag waves")
    with server.client(KEY) as http:
        request = http.get(f"/v1/jobs/{job_id}").json()["request"]
    assert request["model"] == "bytedance/seedance-1-0-pro-i2v"
    assert request["image_url"].startswith("data:image/jpeg;sha256=")
    assert request["aspect_ratio"] == "16:9" and request["last_image_url"] is None
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "studio-image.png"), full_page=True)


def test_phone_width_has_no_horizontal_scroll(browser: Browser, server: LiveServer) -> None:
    with server.client(KEY) as http:  # a finished clip of its own in the gallery
        body = {"model": "bytedance/seedance-1-0-lite-t2v", "prompt": "a phone-sized clip"}
        created = http.post("/v1/jobs", json={**body, "resolution": "480p", "duration": 5})
        assert created.status_code in (200, 201), created.text
        with paced_worker(server, step_seconds=0.0):
            wait_for_job(http, created.json()["id"], lambda job: job["status"] == "completed")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(server.url)
    enter_key(page)
    expect(page.locator(".card").first).to_be_visible()
    finished = page.locator('.card[data-status="completed"] video').first
    expect(finished).to_have_attribute("poster", re.compile(r"\.poster\.webp"))
    assert finished.get_attribute("preload") == "none"  # history shows posters, loads nothing
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1] == 390, widths
    for selector in ("#prompt", "#generate", ".card"):
        box = page.locator(selector).first.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, selector
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "studio-phone.png"), full_page=True)
    context.close()
