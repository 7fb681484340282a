"""Image intake over real HTTP: an image server on loopback (allowlisted) that answers the ways
real ones go wrong, and inline data: URLs. A good image is fetched once, decoded, fitted to
the job's frame size and stored before the job exists; every bad one is a 400 naming the
field, and leaves neither a job nor a file behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from clipforge.files.base import frame_key
from clipforge.schemas import FRAME_SIZES, AspectRatio, Resolution
from clipforge.video.images import decode_png
from clipforge.video.resize import resize_frame
from tests.images import (
    ImageServer,
    Route,
    animated,
    data_url,
    encoded,
    halves,
    image_server,
    png_claiming,
    rotated_jpeg,
)
from tests.live import LiveServer, live_server, wait_for_job
from tests.slow_worker import paced_worker

I2V = "bytedance/seedance-1-0-lite-i2v"
UNIVERSAL = "/v2/video/generations"
TASKS = "/api/v3/contents/generations/tasks"
MAX_BYTES = 200_000


@pytest.fixture(scope="module")
def images() -> Iterator[ImageServer]:
    with image_server() as server:
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = {"backend": "testpattern", "workers": 0, "callbacks": False}
    settings |= {"url_allowlist": "127.0.0.1", "url_allowlist_only": True}
    settings |= {"max_image_bytes": MAX_BYTES}
    settings |= {"image_fetch_timeout_seconds": 1.0, "max_queued_jobs": 0}
    with live_server(tmp_path_factory.mktemp("intake"), **settings) as live:
        yield live


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def create(http: httpx.Client, image: str, **fields: Any) -> httpx.Response:
    body = {"model": I2V, "prompt": "the scene comes alive", "resolution": "480p"}
    return http.post(UNIVERSAL, json={**body, "image_url": image, **fields})


def stored_first_frame(server: LiveServer, job_id: str) -> np.ndarray:
    return decode_png(server.server.storage.get_bytes(frame_key(job_id, "first")))


def test_an_image_url_is_fetched_once_fitted_and_stored(
    server: LiveServer, http: httpx.Client, images: ImageServer
) -> None:
    original = halves(400, 300)
    images.routes["/a.png"] = Route(body=encoded(original))
    response = create(http, f"{images.url}/a.png", aspect_ratio="16:9")
    assert response.status_code == 200, response.text
    job = http.get(f"/v1/jobs/{response.json()['id']}").json()
    assert job["request"]["image_url"] == f"{images.url}/a.png"
    width, height = FRAME_SIZES[Resolution.P480][AspectRatio.WIDE]
    stored = stored_first_frame(server, job["id"])
    assert np.array_equal(stored, resize_frame(original, width, height))
    assert images.hits.count("/a.png") == 1


def test_an_image_without_an_aspect_ratio_gives_its_own(
    server: LiveServer, http: httpx.Client
) -> None:
    tall = halves(300, 560)  # 0.54: nearest allowed ratio 9:16
    job_id = create(http, data_url(encoded(tall))).json()["id"]
    request = http.get(f"/v1/jobs/{job_id}").json()["request"]
    assert request["aspect_ratio"] == "9:16"
    assert request["image_url"].startswith("data:image/png;sha256=")  # not the whole data URL
    assert stored_first_frame(server, job_id).shape == (864, 480, 3)


def test_exif_orientation_is_applied(server: LiveServer, http: httpx.Client) -> None:
    upright = halves(300, 540)  # portrait: red on the left as a person sees it
    job_id = create(http, data_url(rotated_jpeg(upright), "image/jpeg")).json()["id"]
    frame = stored_first_frame(server, job_id).astype(int)
    assert frame.shape[0] > frame.shape[1]  # portrait, not the sideways sensor image
    left, right = frame[:, : frame.shape[1] // 4].mean(axis=(0, 1)), frame[:, -5:].mean(axis=(0, 1))
    assert left[0] > 150 > left[2] and right[2] > 150 > right[0]


def test_a_16_bit_image_is_scaled_not_clipped(server: LiveServer, http: httpx.Client) -> None:
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (144, 1))  # full range
    job_id = create(http, data_url(encoded(ramp)), aspect_ratio="16:9").json()["id"]
    grey = stored_first_frame(server, job_id).astype(int)
    assert abs(grey.mean() - 127.5) < 6, grey.mean()  # clipped, it was almost white
    assert grey[:, :20].mean() < 30 and grey[:, -20:].mean() > 225


@pytest.mark.parametrize("kind", ["WEBP", "PNG"])
def test_an_animation_gives_its_first_frame(
    server: LiveServer, http: httpx.Client, kind: str
) -> None:
    red, blue = (
        halves(200, 200, (200, 0, 0), (200, 0, 0)),
        halves(200, 200, (0, 0, 200), (0, 0, 200)),
    )
    job_id = create(http, data_url(animated([red, blue], kind)), aspect_ratio="1:1").json()["id"]
    colour = stored_first_frame(server, job_id).reshape(-1, 3).mean(axis=0)
    assert colour[0] > 150 and colour[2] < 50


def test_a_redirect_is_followed_and_checked_again(http: httpx.Client, images: ImageServer) -> None:
    images.routes["/moved.png"] = Route(302, location="/b.png")
    images.routes["/b.png"] = Route(body=encoded(halves()))
    assert create(http, f"{images.url}/moved.png").status_code == 200
    images.routes["/inward.png"] = Route(302, location=images.url.replace("127.0.0.1", "[::1]"))
    assert "'::1'" in refusal(create(http, f"{images.url}/inward.png"))  # checked again
    for n in range(5):
        images.routes[f"/loop{n}.png"] = Route(302, location=f"/loop{n + 1}.png")
    assert "redirects" in refusal(create(http, f"{images.url}/loop0.png"))


def refusal(response: httpx.Response, field: str = "image_url") -> str:
    assert response.status_code == 400, response.text
    message: str = response.json()["message"]
    assert message.startswith(f"{field}:"), message
    return message


def _noise(width: int, height: int) -> np.ndarray:
    return np.random.default_rng(7).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _cut(data: bytes) -> bytes:
    return data[: len(data) // 2]


BAD_ROUTES = {
    "/slow.png": (Route(body=encoded(halves()), delay=3.0), "took more than"),
    "/big.png": (Route(body=b"x" * 10, length=MAX_BYTES + 1), "larger than"),
    "/streamed.png": (
        Route(body=b"\x89PNG" + b"x" * (MAX_BYTES + 10), chunked=True),
        "larger than",
    ),
    "/page.html": (
        Route(body=b"<html></html>", content_type="text/html"),
        "content type text/html",
    ),
    "/cut.png": (Route(body=_cut(encoded(_noise(150, 100)))), "damaged or cut short"),
    "/missing.png": (Route(404, b"gone", "text/plain"), "HTTP 404"),
    "/anim.gif": (
        Route(body=encoded(halves(), "GIF"), content_type="image/gif"),
        "JPEG, PNG or WebP",
    ),
    "/tiny.png": (Route(body=encoded(halves(32, 32))), "smaller than 64"),
    "/bomb.png": (Route(body=png_claiming(50_000, 50_000)), "pixels"),
    "/cut.jpg": (
        Route(body=encoded(_noise(150, 100), "JPEG")[:100], content_type="image/jpeg"),
        "damaged or cut short",
    ),
    "/cut.webp": (
        Route(body=encoded(_noise(150, 100), "WEBP")[:30], content_type="image/webp"),
        "damaged or cut short",
    ),
    "/to-data.png": (
        Route(302, location=data_url(encoded(halves()))),
        "not http(s)",
    ),
    "/to-file.png": (Route(302, location="file:///etc/hostname"), "not http(s)"),
}


@pytest.mark.parametrize("path", sorted(BAD_ROUTES))
def test_bad_images_are_400s_naming_the_field_and_leave_nothing(
    server: LiveServer, http: httpx.Client, images: ImageServer, path: str
) -> None:
    route, problem = BAD_ROUTES[path]
    images.routes[path] = route
    before = _jobs_and_frames(server)
    assert problem in refusal(create(http, f"{images.url}{path}"))
    ark = {"type": "image_url", "image_url": {"url": f"{images.url}{path}"}}
    body = {"model": "seedance-1-0-lite-i2v-250428", "content": [_text(), ark]}
    answer = http.post(TASKS, json=body)
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "content[1].image_url"
    assert problem in answer.json()["error"]["message"]
    assert _jobs_and_frames(server) == before


@pytest.mark.parametrize("path", sorted(BAD_ROUTES))
def test_bad_images_are_refused_alike_on_every_surface_and_field(
    server: LiveServer, http: httpx.Client, images: ImageServer, path: str
) -> None:
    """The AI/ML legacy path, native /v1/jobs, a last frame on each dialect, OpenAI's
    input_reference: the same 400 naming the field, and nothing kept of the good first
    image sent beside a bad last one."""
    route, problem = BAD_ROUTES[path]
    images.routes[path] = route
    bad, good = f"{images.url}{path}", data_url(encoded(halves()))
    before = _jobs_and_frames(server)
    aiml = {"model": I2V, "prompt": "the scene comes alive", "resolution": "480p"}
    for where in ("/v2/generate/video/bytedance/generation", "/v1/jobs"):
        assert problem in refusal(http.post(where, json={**aiml, "image_url": bad}))
    last = http.post(UNIVERSAL, json={**aiml, "image_url": good, "last_image_url": bad})
    assert problem in refusal(last, "last_image_url")
    frames = [
        {"type": "image_url", "image_url": {"url": good}, "role": "first_frame"},
        {"type": "image_url", "image_url": {"url": bad}, "role": "last_frame"},
    ]
    body = {"model": "seedance-1-0-lite-i2v-250428", "content": [_text(), *frames]}
    answer = http.post(TASKS, json=body).json()["error"]
    assert answer["param"] == "content[2].image_url" and problem in answer["message"]
    openai = {"prompt": "it moves", "seconds": "4", "input_reference": {"image_url": bad}}
    error = http.post("/v1/videos", json=openai).json()["error"]
    assert error["param"] == "input_reference" and problem in error["message"], error
    assert _jobs_and_frames(server) == before


@pytest.mark.parametrize(
    "url, problem",
    [
        ("data:image/png,rawbytes", "base64"),
        ("data:image/png;base64,***", "not valid base64"),
        ("http://127.0.0.1:9/closed.png", "could not be fetched"),
        ("ftp://127.0.0.1/a.png", "http or https"),
    ],
)
def test_unreadable_and_unreachable_images(
    server: LiveServer, http: httpx.Client, url: str, problem: str
) -> None:
    before = _jobs_and_frames(server)
    assert problem in refusal(create(http, url))
    assert _jobs_and_frames(server) == before


def _jobs_and_frames(server: LiveServer) -> tuple[int, list[str]]:
    root = Path(server.settings.videos_dir)
    return server.server.store.count_jobs(), sorted(p.name for p in root.glob("*.png"))


def _text() -> dict[str, str]:
    return {"type": "text", "text": "the scene comes alive --rs 480p"}


def test_model_and_field_rules(http: httpx.Client) -> None:
    png = data_url(encoded(halves()))
    assert "needs a first frame" in refusal(
        http.post(UNIVERSAL, json={"model": I2V, "prompt": "a"}), "image_url"
    )
    t2v = {"model": "bytedance/seedance-1-0-lite-t2v", "prompt": "a", "image_url": png}
    assert "no image input" in refusal(http.post(UNIVERSAL, json=t2v))
    assert create(http, png, last_image_url=png).status_code == 200  # testpattern takes both


def test_ark_roles(server: LiveServer, http: httpx.Client) -> None:
    first, last = data_url(encoded(halves())), data_url(encoded(halves(200, 200)))

    def task(*items: dict[str, Any], **fields: Any) -> httpx.Response:
        body = {"model": "seedance-1-0-lite-i2v-250428", "content": [_text(), *items], **fields}
        return http.post(TASKS, json=body)

    def image(url: str, role: str | None = None) -> dict[str, Any]:
        item: dict[str, Any] = {"type": "image_url", "image_url": {"url": url}}
        return item | ({"role": role} if role else {})

    plain = task(image(first))  # no role: the first frame, as Ark has it
    assert plain.status_code == 200, plain.text
    job = http.get(f"/v1/jobs/{plain.json()['id']}").json()["request"]
    assert job["image_url"].startswith("data:image/png") and job["last_image_url"] is None
    assert job["aspect_ratio"] == "4:3"  # no ratio with an image: adaptive
    both = task(image(first, "first_frame"), image(last, "last_frame"), ratio="adaptive")
    request = http.get(f"/v1/jobs/{both.json()['id']}").json()["request"]
    assert request["last_image_url"] and request["aspect_ratio"] == "4:3"
    wide = task(image(first, "first_frame"), ratio="16:9")
    assert http.get(f"/v1/jobs/{wide.json()['id']}").json()["request"]["aspect_ratio"] == "16:9"
    fetched = http.get(f"{TASKS}/{both.json()['id']}").json()
    assert fetched["ratio"] == "4:3"  # the task object says what was used
    refused = task(image(first, "reference_image"))
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "content[1].role"
    twice = task(image(first), image(last, "first_frame"))
    assert twice.json()["error"]["param"] == "content[2].image_url"


def test_a_retried_job_reads_its_stored_frame_and_never_fetches_again(
    images: ImageServer, tmp_path: Path
) -> None:
    """The image is fetched once, at accept time; an attempt that ends (the worker gave the
    job back) and the retry that completes it read the stored PNG."""
    images.routes["/once.png"] = Route(body=encoded(halves(640, 360)))
    settings = {"backend": "testpattern", "workers": 0, "callbacks": False}
    settings |= {"url_allowlist": "127.0.0.1", "url_allowlist_only": True}
    with live_server(tmp_path, **settings) as live, live.client() as http:
        created = create(http, f"{images.url}/once.png")
        assert created.status_code == 200, created.text
        job_id = created.json()["id"]
        claim = live.server.store.claim("first-attempt", 30)
        assert claim is not None and claim.job.id == job_id
        assert live.server.store.release(claim)  # given back, as a worker that stops does
        with paced_worker(live, step_seconds=0.0):
            done = wait_for_job(http, job_id, lambda j: j["status"] in ("completed", "error"), 60)
        assert done["status"] == "completed" and done["attempts"] == 2, done
        assert images.hits.count("/once.png") == 1
        assert stored_first_frame(live, job_id).shape == (480, 864, 3)
