"""The official BytePlus SDK (`byteplus-python-sdk-v2[ark]`) against a live ClipForge server."""

from __future__ import annotations

import io
import time
from pathlib import Path

import av
import byteplussdkarkruntime as ark_runtime
import httpx
import pytest
from byteplussdkarkruntime import _exceptions as ark_errors

from clipforge.files.base import job_keys
from tests.live import live_server

KEY = "ark-test-key"
MODEL = "seedance-1-0-lite-t2v-250428"


def test_create_get_list_delete_and_decode(tmp_path: Path) -> None:
    with live_server(tmp_path, backend="testpattern", workers=1, api_keys=KEY) as live:
        client = ark_runtime.Ark(base_url=f"{live.url}/api/v3", api_key=KEY)
        tasks = client.content_generation.tasks
        created = tasks.create(
            model=MODEL,
            content=[{"type": "text", "text": "a red ball rolls --rs 480p --rt 16:9 --seed 11"}],
            duration=5,
            camera_fixed=False,
            watermark=False,
        )
        deadline = time.monotonic() + 120
        while (task := tasks.get(task_id=created.id)).status != "succeeded":
            assert task.status in ("queued", "running"), task
            assert time.monotonic() < deadline, "the task did not finish in 120 s"
            time.sleep(0.2)
        assert task.model == MODEL
        assert (task.resolution, task.ratio, task.duration, task.seed) == ("480p", "16:9", 5, 11)
        assert task.framespersecond == 24
        assert task.revised_prompt == "a red ball rolls"  # what the model used: no commands
        assert task.usage.completion_tokens == 864 * 480 * 121 // 1024

        video = httpx.get(task.content.video_url, timeout=30)
        assert video.status_code == 200
        with av.open(io.BytesIO(video.content)) as container:
            stream = container.streams.video[0]
            frames = list(container.decode(stream))
        assert (frames[0].width, frames[0].height) == (864, 480)
        assert len(frames) == 121

        listed = tasks.list(page_num=1, page_size=10, status="succeeded", model=MODEL)
        assert listed.total == 1 and listed.items[0].id == created.id
        by_id = tasks.list(task_ids=[created.id])
        assert [item.id for item in by_id.items] == [created.id]

        queued = tasks.create(model=MODEL, content=[{"type": "text", "text": "x --dur 10"}])
        tasks.delete(task_id=queued.id)
        try:  # queued or running: cancelled; already finished: deleted. Never left to succeed
            after = tasks.get(task_id=queued.id).status
        except ark_errors.ArkNotFoundError:
            after = "deleted"
        assert after in ("cancelled", "deleted"), after

        storage = live.server.storage
        kept = [key for key in job_keys(created.id) if storage.exists(key)]
        assert f"{created.id}.mp4" in kept and len(kept) >= 3  # the video and its stills
        tasks.delete(task_id=created.id)  # finished: the task and every file go
        assert [key for key in job_keys(created.id) if storage.exists(key)] == []


def test_errors_reach_the_sdk_as_its_own_exceptions(tmp_path: Path) -> None:
    with live_server(tmp_path, backend="testpattern", workers=0, api_keys=KEY) as live:
        client = ark_runtime.Ark(base_url=f"{live.url}/api/v3", api_key=KEY, max_retries=0)
        tasks = client.content_generation.tasks
        with pytest.raises(ark_errors.ArkBadRequestError) as bad:
            tasks.create(model=MODEL, content=[{"type": "text", "text": "x --rs 4k"}])
        assert bad.value.status_code == 400
        assert bad.value.code == "InvalidParameter" and bad.value.param == "--rs"
        with pytest.raises(ark_errors.ArkNotFoundError):
            tasks.get(task_id="cgt-nope")
        wrong = ark_runtime.Ark(base_url=f"{live.url}/api/v3", api_key="wrong", max_retries=0)
        with pytest.raises(ark_errors.ArkAuthenticationError):
            wrong.content_generation.tasks.get(task_id="cgt-nope")


def test_a_first_frame_image_through_the_sdk(tmp_path: Path) -> None:
    from tests.images import data_url, encoded, halves

    first = halves(400, 300, (220, 40, 40), (40, 40, 220))
    with live_server(tmp_path, backend="testpattern", workers=1, api_keys=KEY) as live:
        tasks = ark_runtime.Ark(base_url=f"{live.url}/api/v3", api_key=KEY).content_generation.tasks
        created = tasks.create(
            model="seedance-1-0-lite-i2v-250428",
            content=[
                {"type": "text", "text": "the flag waves --rs 480p"},
                {
                    "type": "image_url",
                    "image_url": {"url": data_url(encoded(first))},
                    "role": "first_frame",
                },
            ],
        )
        deadline = time.monotonic() + 120
        while (task := tasks.get(task_id=created.id)).status != "succeeded":
            assert task.status in ("queued", "running"), task
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert task.ratio == "4:3"  # no ratio with an image: the image's own (adaptive)
        video = httpx.get(task.content.video_url, timeout=30).content
        with av.open(io.BytesIO(video)) as container:
            frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
        from clipforge.video.resize import resize_frame

        fitted = resize_frame(first, 736, 544)
        assert abs(frame.astype(int) - fitted.astype(int)).mean() < 3.0


def test_a_2_0_task_with_sound_a_reference_and_a_draft(tmp_path: Path) -> None:
    from tests.clients.ark_flow import run_2_0_flow

    run_2_0_flow(ark_runtime, tmp_path, "dreamina-seedance-2-0-260128")
