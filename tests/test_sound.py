"""Sound end to end (issue 28): a 2.0 request with a prompt alone on the test pattern gives an
MP4 with an AAC track as long as the video, each click on its white frame (within 1/24 s);
reference images arrive (as tiles); a silent backend refuses an explicit `generate_audio`."""

from __future__ import annotations

import base64
import io
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from PIL import Image

from clipforge.backends.testpattern_sound import click_times
from tests.live import LiveServer, live_server, wait_for_job

V2 = "/v2/video/generations"
TASKS = "/api/v3/contents/generations/tasks"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("sound"), backend="testpattern") as live:
        yield live


@pytest.fixture(scope="module")
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def finished(http: httpx.Client, job_id: str, tmp_path: Path) -> Path:
    job = wait_for_job(http, job_id, lambda j: j["status"] in ("completed", "error"))
    assert job["status"] == "completed", job
    path = tmp_path / f"{job_id}.mp4"
    path.write_bytes(httpx.get(job["video_url"]).content)
    return path


def decoded(path: Path) -> dict[str, Any]:
    """Video brightness per frame, the audio samples (from time 0) and both durations."""
    with av.open(str(path)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert audio.codec_context.name == "aac"
        brightness = [float(f.to_ndarray(format="gray").mean()) for f in container.decode(video)]
    with av.open(str(path)) as container:
        chunks, rate, start = [], 0, None
        for frame in container.decode(container.streams.audio[0]):
            start = float(frame.pts * frame.time_base) if start is None else start
            chunks.append(frame.to_ndarray()[0])
            rate = frame.sample_rate
        video_s = float(container.streams.video[0].duration * container.streams.video[0].time_base)
        audio_s = float(container.streams.audio[0].duration * container.streams.audio[0].time_base)
    return {
        "brightness": np.array(brightness),
        "samples": np.concatenate(chunks),
        "rate": rate,
        "start": start or 0.0,
        "video_s": video_s,
        "audio_s": audio_s,
    }


def flash_centre(brightness: np.ndarray) -> float:
    """The middle of the brightest run (a native frame may be shown for several output
    frames: an 8 fps source is repeated whole at 24 fps)."""
    bright = np.flatnonzero(brightness >= brightness.max() - 1.0)
    return float(bright.mean())


def click_onsets(samples: np.ndarray, rate: int, start: float) -> list[float]:
    loud = np.flatnonzero(np.abs(samples) > 0.5)
    onsets = [loud[0]] + [b for a, b in itertools.pairwise(loud) if b - a > rate // 10]
    return [start + index / rate for index in onsets]


def test_a_2_0_prompt_alone_gives_a_12_s_clip_with_sound_in_sync(
    http: httpx.Client, tmp_path: Path
) -> None:
    body = {"model": "bytedance/seedance-2-0", "prompt": "a ball", "duration": 12}
    created = http.post(V2, json={**body, "resolution": "480p"})
    assert created.status_code == 200, created.text
    request = http.get(f"/v1/jobs/{created.json()['id']}").json()["request"]
    assert request["generate_audio"] is True  # the 2.0 default, on a backend with sound
    clip = decoded(finished(http, created.json()["id"], tmp_path))
    assert len(clip["brightness"]) == 24 * 12 + 1
    assert abs(clip["audio_s"] - clip["video_s"]) < 0.03  # as long as the video
    expected = click_times(12.0)
    heard = click_onsets(clip["samples"], clip["rate"], clip["start"])
    assert len(heard) == len(expected)
    near = [round(t * 24) - 6 for t in expected]  # the brightest frame near each click
    flashes = [start + flash_centre(clip["brightness"][start : start + 12]) for start in near]
    for at, seen, frame in zip(expected, heard, flashes, strict=True):
        assert abs(seen - at) <= 1 / 24, (seen, at)
        assert abs(seen - frame / 24) <= 1 / 24, (seen, frame)  # the click is on its frame


def test_sound_off_gives_a_silent_mp4(http: httpx.Client, tmp_path: Path) -> None:
    body = {"model": "bytedance/seedance-2-0", "prompt": "a ball", "resolution": "480p"}
    created = http.post(V2, json={**body, "generate_audio": False, "duration": 4})
    with av.open(str(finished(http, created.json()["id"], tmp_path))) as container:
        assert not container.streams.audio


def _png(colour: tuple[int, int, int]) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_reference_images_arrive_as_tiles(http: httpx.Client, tmp_path: Path) -> None:
    colours = [(250, 0, 0), (0, 0, 250)]
    body = {"model": "bytedance/seedance-2-0", "prompt": "@Image1 meets @Image2", "duration": 4}
    body |= {"resolution": "480p", "aspect_ratio": "1:1", "generate_audio": False}
    created = http.post(V2, json={**body, "image_urls": [_png(c) for c in colours]})
    assert created.status_code == 200, created.text
    job = http.get(f"/v1/jobs/{created.json()['id']}").json()
    assert len(job["request"]["reference_images"]) == 2
    with av.open(str(finished(http, job["id"], tmp_path))) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    side = 640 // 4  # a quarter of the short side, at the 640x640 output
    for index, colour in enumerate(colours):
        tile = frame[10 : side - 10, index * side + 10 : (index + 1) * side - 10]
        assert np.abs(tile.mean(axis=(0, 1)) - colour).max() < 20, tile.mean(axis=(0, 1))


def test_ark_2_0_task_with_sound_and_duration_picked_by_the_model(
    http: httpx.Client, tmp_path: Path
) -> None:
    content = [{"type": "text", "text": "a ball"}]
    body = {"model": "dreamina-seedance-2-0-260128", "content": content, "duration": -1}
    created = http.post(TASKS, json={**body, "resolution": "480p"})
    assert created.status_code == 200, created.text
    task = http.get(f"{TASKS}/{created.json()['id']}").json()
    assert (task["duration"], task["generate_audio"], task["model"]) == (
        5,
        True,
        "dreamina-seedance-2-0-260128",
    )
    with av.open(str(finished(http, task["id"], tmp_path))) as container:
        assert container.streams.audio[0].codec_context.name == "aac"


def test_a_30_s_2_5_clip_is_30_s_of_video_and_sound(http: httpx.Client, tmp_path: Path) -> None:
    body = {"model": "bytedance/seedance-2-5", "prompt": "a long drive", "duration": 30}
    created = http.post(V2, json={**body, "resolution": "480p", "aspect_ratio": "9:16"})
    assert created.status_code == 200, created.text
    clip = decoded(finished(http, created.json()["id"], tmp_path))
    assert len(clip["brightness"]) == 24 * 30 + 1
    assert abs(clip["audio_s"] - 30 - 1 / 24) < 0.03
