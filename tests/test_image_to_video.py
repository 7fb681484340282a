"""Image-to-video end to end, through every surface, the SDK and the CLI, on the testpattern
backend (no weights): the clip's first frame is the first image fitted to the frame size and
its last frame the fitted last image (mean absolute error after H.264, at the output size)."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from typer.testing import CliRunner

from clipforge import Client
from clipforge.cli import app
from clipforge.files.base import frame_key
from clipforge.schemas import FRAME_SIZES, AspectRatio, Resolution
from clipforge.video.images import decode_png
from clipforge.video.resize import resize_frame
from tests.images import data_url, encoded, halves
from tests.live import LiveServer, live_server

I2V = "bytedance/seedance-1-0-pro-i2v"
FIRST = halves(400, 300, (220, 40, 40), (40, 40, 220))
LAST = halves(300, 400, (40, 200, 40), (230, 220, 40))
WIDTH, HEIGHT = FRAME_SIZES[Resolution.P480][AspectRatio.WIDE]
CLOSE = 3.0  # mean absolute error (0-255) of a frame that is the image, after H.264


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("i2v")
    with live_server(folder, backend="testpattern", workers=1) as live:
        yield live


def mae(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def first_and_last(video: bytes) -> tuple[np.ndarray, np.ndarray, int]:
    with av.open(io.BytesIO(video)) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    return frames[0], frames[-1], len(frames)


def assert_the_clip_shows_the_images(video: bytes, last: bool = True) -> None:
    start, end, count = first_and_last(video)
    fitted_first = resize_frame(FIRST, WIDTH, HEIGHT)
    fitted_last = resize_frame(LAST, WIDTH, HEIGHT)
    assert start.shape == (HEIGHT, WIDTH, 3) and count == 121
    assert mae(start, fitted_first) < CLOSE, mae(start, fitted_first)
    assert mae(start, fitted_last) > 30  # the check can tell the two apart
    if last:
        assert mae(end, fitted_last) < CLOSE, mae(end, fitted_last)


def wait_video(http: httpx.Client, job_id: str) -> bytes:
    deadline = time.monotonic() + 120
    while (job := http.get(f"/v1/jobs/{job_id}").json())["status"] != "completed":
        assert job["status"] in ("queued", "generating"), job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    return http.get(job["video_url"]).content


AIML_BODY = {
    "model": I2V,
    "prompt": "the flag turns into a field",
    "resolution": "480p",
    "aspect_ratio": "16:9",
    "image_url": data_url(encoded(FIRST)),
    "last_image_url": data_url(encoded(LAST, "JPEG", quality=98), "image/jpeg"),
}
SURFACES: dict[str, Callable[[httpx.Client], str]] = {
    "aiml legacy": lambda h: h.post(
        "/v2/generate/video/bytedance/generation", json=AIML_BODY
    ).json()["id"],
    "aiml universal": lambda h: h.post("/v2/video/generations", json=AIML_BODY).json()["id"],
    "native": lambda h: h.post("/v1/jobs", json=AIML_BODY).json()["id"],
    "ark": lambda h: h.post(
        "/api/v3/contents/generations/tasks",
        json={
            "model": "seedance-1-0-pro-250528",
            "ratio": "16:9",
            "content": [
                {"type": "text", "text": "the flag turns into a field --rs 480p"},
                {"type": "image_url", "image_url": {"url": AIML_BODY["image_url"]}},
                {
                    "type": "image_url",
                    "image_url": {"url": AIML_BODY["last_image_url"]},
                    "role": "last_frame",
                },
            ],
        },
    ).json()["id"],
}


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_each_surface_hands_the_backend_the_fitted_frames(server: LiveServer, surface: str) -> None:
    with server.client() as http:
        job_id = SURFACES[surface](http)
        assert_the_clip_shows_the_images(wait_video(http, job_id))


def test_the_sdk_sends_a_file_and_bytes(server: LiveServer, tmp_path: Path) -> None:
    first = tmp_path / "first.png"
    first.write_bytes(encoded(FIRST))
    with Client(server.url) as client:
        generation = client.generate(
            "the flag turns into a field",
            model=I2V,
            resolution="480p",
            aspect_ratio="16:9",
            image=first,
            last_image=encoded(LAST, "WEBP", lossless=True),
        )
        job = generation.wait()
        path = generation.download(tmp_path / "clip.mp4")
    assert job.status == "completed"
    assert_the_clip_shows_the_images(path.read_bytes())


def test_the_sdk_uploads_a_file_as_its_bytes(server: LiveServer, tmp_path: Path) -> None:
    """An image file goes up as a multipart file part (its bytes, no base64 data: URL), and
    the stored first frame is the file's pixels exactly (an image of the frame size is kept)."""
    pixels = noise(WIDTH, HEIGHT)
    data = encoded(pixels)
    first = tmp_path / "first.png"
    first.write_bytes(data)
    sent: list[httpx.Request] = []
    with Client(server.url) as client:
        client._http.event_hooks["request"].append(sent.append)  # what went on the wire
        generation = client.generate(
            "the flag waves", model=I2V, resolution="480p", aspect_ratio="16:9", image=first
        )
        create = next(request for request in sent if request.method == "POST")
        body = create.read()
        assert create.headers["content-type"].startswith("multipart/form-data")
        assert data in body and b"data:image" not in body and b"base64" not in body
        stored = server.server.storage.get_bytes(frame_key(generation.id, "first"))
        assert np.array_equal(decode_png(stored), pixels)
        generation.cancel()


def test_a_native_form_upload_is_one_job_per_key_and_file(server: LiveServer) -> None:
    """The same Idempotency-Key with the same file is the first job again; with another file
    (the form's text the same) it is refused: the file's digest is part of the request."""
    form = {"model": I2V, "prompt": "the same words", "resolution": "480p"}

    def post(http: httpx.Client, image: bytes) -> httpx.Response:
        files = {"image_url": ("first.png", image, "image/png")}
        return http.post("/v1/jobs", data=form, files=files, headers={"Idempotency-Key": "k1"})

    with server.client() as http:
        first = post(http, encoded(FIRST))
        assert first.status_code == 201, first.text
        assert post(http, encoded(FIRST)).json()["id"] == first.json()["id"]
        other = post(http, encoded(LAST))
        assert other.status_code == 422 and "different request" in other.text, other.text
        http.post(f"/v1/jobs/{first.json()['id']}/cancel")


def noise(width: int, height: int) -> np.ndarray:
    """Pixels that no resize or lossy step leaves unchanged."""
    return np.random.default_rng(5).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_the_cli_takes_image_files(server: LiveServer, tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(encoded(FIRST))
    (tmp_path / "b.png").write_bytes(encoded(LAST))
    out = tmp_path / "clip.mp4"
    args = ["generate", "the flag turns into a field", "--server", server.url]
    args += ["--image", str(tmp_path / "a.png"), "--last-image", str(tmp_path / "b.png")]
    args += ["--resolution", "480p", "--aspect-ratio", "16:9", "-o", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert_the_clip_shows_the_images(out.read_bytes())


def test_deleting_a_task_deletes_its_frames(server: LiveServer) -> None:
    storage = server.server.storage
    with server.client() as http:
        job_id = SURFACES["ark"](http)
        wait_video(http, job_id)
        assert storage.exists(frame_key(job_id, "first")) and storage.exists(
            frame_key(job_id, "last")
        )
        assert http.delete(f"/api/v3/contents/generations/tasks/{job_id}").status_code == 200
    assert not storage.exists(frame_key(job_id, "first"))
    assert not storage.exists(frame_key(job_id, "last"))


def test_a_first_frame_alone_is_zoomed_into(server: LiveServer) -> None:
    ramp = np.repeat(np.linspace(0, 255, 400, dtype=np.uint8)[None, :, None], 300, axis=0)
    ramp = np.ascontiguousarray(np.repeat(ramp, 3, axis=2))
    body: dict[str, Any] = {k: v for k, v in AIML_BODY.items() if k != "last_image_url"}
    body["image_url"] = data_url(encoded(ramp))
    with server.client() as http:
        job_id = http.post("/v2/video/generations", json=body).json()["id"]
        video = wait_video(http, job_id)
    start, end, _ = first_and_last(video)
    assert mae(start, resize_frame(ramp, WIDTH, HEIGHT)) < CLOSE
    assert 2.0 < mae(start, end) < 20  # a zoom into the same image, not another image
