"""The studio's per-model controls in Debian's Chromium against a live server (issues 28 and
31): durations, resolutions and ratios as `GET /v1/models` serves each id's row (no copy of
the table in the page), the sound switch where the id makes sound and a player whose clip has
a sound track, reference images picked, previewed, removed and sent as `image_urls`.

Screenshots go to $CLIPFORGE_STUDIO_SHOTS (default test-artifacts/), to be looked at."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.images import encoded
from tests.live import LiveServer, live_server
from tests.web.test_studio import (  # fixtures: the page opens on this module's server
    KEY,
    browser,
    enter_key,
    page,
    submit,
)
from tests.web.test_studio_work import shot

__all__ = ["browser", "page"]  # fixtures: Chromium, one per module; a page on its server

V2 = "bytedance/seedance-2-0"
COLOURS = {"red": (220, 30, 30), "green": (30, 200, 30), "blue": (30, 30, 220)}
PLAY_A_SECOND = """async v => {
  v.muted = false;
  await v.play();
  await new Promise(done => setTimeout(done, 1000));
  v.pause();
  return [v.webkitAudioDecodedByteCount, v.webkitVideoDecodedByteCount, v.muted];
}"""

TOO_WIDE = """() => [...document.querySelectorAll('*')]
  .filter(node => node.getBoundingClientRect().right > 390)
  .map(node => `${node.tagName}#${node.id}.${node.className}`)"""
"""What sticks out at phone width (for the failure message)."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("studio-models")
    with live_server(data, backend="testpattern", api_keys=KEY) as live:
        yield live


@pytest.fixture(scope="module")
def table(server: LiveServer) -> dict[str, dict]:
    with server.client(KEY) as http:
        return {model["id"]: model for model in http.get("/v1/models").json()["data"]}


def options(page: Page, label: str) -> list[str]:
    return (
        page.get_by_label(label)
        .locator("option:not([hidden])")
        .evaluate_all("nodes => nodes.map(n => n.value)")
    )


def test_each_model_shows_its_own_limits(page: Page, table: dict, server: LiveServer) -> None:
    for model_id in ("bytedance/seedance-1-0-pro-t2v", V2, "bytedance/seedance-2-5"):
        page.get_by_label("Model").select_option(model_id)
        row = table[model_id]
        assert options(page, "Duration") == [str(d) for d in row["durations"]]
        assert options(page, "Resolution") == row["resolutions"]
        ratios = [r for r in row["aspect_ratios"] if r != "adaptive"]
        assert [r for r in options(page, "Aspect ratio") if r] == ratios
        expect(page.locator("#sound-field")).to_be_visible(visible=row["sound"])
        expect(page.locator("#references")).to_be_visible(visible=bool(row["reference_images"]))
    assert options(page, "Duration")[-1] == "30" and "4k" not in options(page, "Resolution")
    page.get_by_label("Model").select_option(V2)
    assert "4k" in options(page, "Resolution") and "9:21" not in options(page, "Aspect ratio")
    expect(page.get_by_label("Resolution")).to_have_value("720p")  # the id's default
    with server.client(KEY) as http:  # the table comes from the API: the page has none
        scripts = [http.get(f"/studio/{name}").text for name in ("form.js", "controls.js")]
    assert not any('"4k"' in script or "[5, 10]" in script for script in scripts)


def pictures(tmp_path: Path) -> list[str]:
    paths = []
    for name, colour in COLOURS.items():
        path = tmp_path / f"{name}.png"
        path.write_bytes(encoded(np.full((96, 96, 3), colour, np.uint8)))
        paths.append(str(path))
    return paths


def test_references_and_a_clip_with_sound(page: Page, server: LiveServer, tmp_path: Path) -> None:
    page.get_by_label("Model").select_option(V2)
    expect(page.get_by_role("checkbox", name="Sound")).to_be_checked()
    page.get_by_label("Add reference images").set_input_files(pictures(tmp_path))
    items = page.locator("#reference-list li")
    expect(items).to_have_count(3)
    for index in range(3):
        preview = items.nth(index).locator("img")
        page.wait_for_function("img => img.naturalWidth > 0", arg=preview.element_handle())
    page.get_by_role("button", name="Remove @Image2").click()  # the green one
    expect(items).to_have_count(2)
    expect(items.nth(1)).to_contain_text("@Image2")  # renumbered
    page.get_by_label("Duration").select_option("4")
    page.get_by_label("Aspect ratio").select_option("1:1")
    shot(page, "desktop-references.png")
    job_id = submit(page, "@Image1 beside @Image2")
    card = page.locator(f'.card[data-job-id="{job_id}"]')
    expect(card).to_have_attribute("data-status", "completed", timeout=60_000)
    with server.client(KEY) as http:
        request = http.get(f"/v1/jobs/{job_id}").json()["request"]
    assert len(request["reference_images"]) == 2 and request["generate_audio"] is True
    expect(card.locator(".meta")).to_contain_text("♪ sound")
    video = card.locator("video")
    page.wait_for_function("v => v.readyState >= 3", arg=video.element_handle())
    audio_bytes, video_bytes, muted = video.evaluate(PLAY_A_SECOND)
    assert audio_bytes > 0 and video_bytes > 0 and not muted  # it plays with its sound track
    frame = first_frame(server, job_id)
    side = frame.shape[0] // 4  # the test pattern's tiles: red, then blue (green removed)
    for index, name in enumerate(("red", "blue")):
        tile = frame[8 : side - 8, index * side + 8 : (index + 1) * side - 8]
        assert np.abs(tile.mean(axis=(0, 1)) - COLOURS[name]).max() < 25, name
    shot(page, "desktop-sound.png")


def first_frame(server: LiveServer, job_id: str) -> np.ndarray:
    with server.client(KEY) as http:
        url = http.get(f"/v1/jobs/{job_id}").json()["video_url"]
        data = httpx.get(url).content
    with av.open(io.BytesIO(data)) as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb24")


def test_sound_off_is_sent(page: Page, server: LiveServer) -> None:
    page.get_by_label("Model").select_option(V2)
    page.get_by_role("checkbox", name="Sound").uncheck()
    job_id = submit(page, "a quiet clip")
    with server.client(KEY) as http:
        assert http.get(f"/v1/jobs/{job_id}").json()["request"]["generate_audio"] is False
    page.reload()  # the switch is a kept setting
    expect(page.locator("#model option").first).to_be_attached()
    expect(page.get_by_role("checkbox", name="Sound")).not_to_be_checked()
    page.get_by_label("Model").select_option("bytedance/seedance-1-0-pro-t2v")
    expect(page.locator("#sound-field")).to_be_hidden()  # a 1.0 id: no sound here


def test_phone_width_with_references(browser: Browser, server: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(server.url)
    enter_key(page)
    page.get_by_label("Model").select_option(V2)
    expect(page.locator("#references")).to_be_visible()
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    wide = page.evaluate(TOO_WIDE)
    assert widths[0] <= widths[1] == 390, (widths, wide)
    shot(page, "phone-models.png")
    context.close()
