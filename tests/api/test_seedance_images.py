"""Images on the newer Seedance ids (issue 28), through a live server on the test pattern:
`adaptive` takes the first image's ratio among the id's own (a 9:21 image on 2.x: 9:16), an
Ark draft made from images keeps them for its full render, and the OpenAI-style `size` takes
4k where the id offers it and refuses it, naming `size`, where not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest

from clipforge.schemas import FRAME_SIZES, AspectRatio, Resolution
from tests.images import data_url, encoded
from tests.live import live_server, wait_for_job

V2 = "/v2/video/generations"
TASKS = "/api/v3/contents/generations/tasks"
RED, BLUE = (220, 30, 30), (30, 30, 220)


def picture(width: int, height: int, colour: tuple[int, int, int]) -> str:
    return data_url(encoded(np.full((height, width, 3), colour, np.uint8)))


TALL = picture(270, 630, RED)
"""9:21."""


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    data = tmp_path_factory.mktemp("images")
    with live_server(data, backend="testpattern") as live, live.client() as client:
        yield client


def done(http: httpx.Client, response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    job: dict[str, Any] = wait_for_job(
        http, response.json()["id"], lambda j: j["status"] in ("completed", "error")
    )
    assert job["status"] == "completed", job
    return job


def first_frame(http: httpx.Client, job: dict[str, Any], tmp_path: Path) -> np.ndarray:
    path = tmp_path / f"{job['id']}.mp4"
    path.write_bytes(http.get(job["video_url"]).content)
    with av.open(str(path)) as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb24")


def test_adaptive_takes_the_nearest_ratio_the_id_offers(http: httpx.Client, tmp_path: Path) -> None:
    body = {"prompt": "a ball", "duration": 4, "resolution": "480p", "generate_audio": False}
    body |= {"image_url": TALL}
    v2 = http.post(V2, json={**body, "model": "bytedance/seedance-2-0"})
    adaptive = {"model": "bytedance/seedance-2-0", "aspect_ratio": "adaptive"}
    job = done(http, http.post(V2, json={**body, **adaptive}))
    for made in (job, done(http, v2)):
        assert made["request"]["aspect_ratio"] == "9:16"  # 2.x has no 9:21: the nearest
    height, width = first_frame(http, job, tmp_path).shape[:2]
    assert (width, height) == FRAME_SIZES[Resolution.P480][AspectRatio.PORTRAIT]
    older = http.post(V2, json={**body, **adaptive, "model": "bytedance/seedance-1-5-pro"})
    assert done(http, older)["request"]["aspect_ratio"] == "9:21"  # 1.5 offers it
    content = [{"type": "text", "text": "a ball"}]
    content.append({"type": "image_url", "image_url": {"url": TALL}})
    ark = {"model": "dreamina-seedance-2-0-260128", "content": content, "ratio": "adaptive"}
    task = done(http, http.post(TASKS, json={**ark, "duration": 4, "resolution": "480p"}))
    assert task["request"]["aspect_ratio"] == "9:16"


def test_an_ark_draft_from_images_renders_them_in_full(http: httpx.Client, tmp_path: Path) -> None:
    content = [
        {"type": "text", "text": "the red picture, @Image1 on top"},
        {"type": "image_url", "image_url": {"url": picture(640, 360, RED)}, "role": "first_frame"},
        {"type": "image_url", "image_url": {"url": picture(64, 64, BLUE)},
         "role": "reference_image"},
    ]  # fmt: skip
    body = {"model": "dreamina-seedance-2-0-260128", "generate_audio": False}
    fields = {"draft": True, "duration": 4, "resolution": "720p", "ratio": "16:9"}
    draft = done(http, http.post(TASKS, json={**body, **fields, "content": content}))
    named = [{"type": "draft_task", "draft_task": {"id": draft["id"]}}]
    full = done(http, http.post(TASKS, json={"model": body["model"], "content": named}))
    request = full["request"]
    assert request["draft_of"] == draft["id"] and request["resolution"] == "720p"
    assert request["image_url"] and len(request["reference_images"]) == 1
    frame = first_frame(http, full, tmp_path)
    assert frame.shape[:2] == (704, 1248)  # the full clip's 720p, not the draft's 480p
    side = 704 // 4  # the reference's tile along the top; the first frame below it
    assert np.abs(frame[20 : side - 20, 20 : side - 20].mean(axis=(0, 1)) - BLUE).max() < 20
    assert np.abs(frame[side + 40 :, :].mean(axis=(0, 1)) - RED).max() < 20


def test_4k_on_the_openai_size(http: httpx.Client) -> None:
    body = {"prompt": "a city at night", "seconds": "4"}
    made = http.post("/v1/videos", json={**body, "model": "bytedance/seedance-2-0",
                                         "size": "3840x2160"})  # fmt: skip
    assert made.status_code == 200, made.text
    assert made.json()["size"] == "3840x2160"
    request = http.get(f"/v1/jobs/{made.json()['id']}").json()["request"]
    assert request["resolution"] == "4k"
    http.post(f"/v1/jobs/{made.json()['id']}/cancel")  # no 4k render in a unit test
    for model, size in (("sora-2", "3840x2160"), ("bytedance/seedance-2-0-fast", "1920x1088")):
        refused = http.post("/v1/videos", json={**body, "model": model, "size": size})
        assert refused.status_code == 400, refused.text
        error = refused.json()["error"]
        assert error["param"] == "size" and model in error["message"], error
