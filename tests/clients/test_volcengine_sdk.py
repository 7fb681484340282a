"""The official Volcengine Ark SDK (`volcengine-python-sdk[ark]`, import
`volcenginesdkarkruntime`) against a live server, beside the BytePlus one: today's fields
(return_last_frame, priority, service_tier, frames, safety_identifier, tools) honoured, the
rest refused."""

from __future__ import annotations

import io
import time
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
import volcenginesdkarkruntime as ark_runtime
from PIL import Image

from tests.live import live_server

KEY = "volcengine-key"
MODEL = "seedance-1-0-lite-t2v-250428"


def wait(tasks: object, task_id: str) -> object:
    deadline = time.monotonic() + 120
    while (task := tasks.get(task_id=task_id)).status in ("queued", "running"):  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, task
        time.sleep(0.1)
    return task


def test_last_frame_priority_frames_and_refusals(tmp_path: Path) -> None:
    with live_server(tmp_path, backend="testpattern", workers=1, api_keys=KEY) as live:
        client = ark_runtime.Ark(base_url=f"{live.url}/api/v3", api_key=KEY, max_retries=0)
        tasks = client.content_generation.tasks
        created = tasks.create(
            model=MODEL,
            content=[{"type": "text", "text": "a red ball rolls --rs 480p"}],
            return_last_frame=True,
            frames=57,
            priority=7,
            service_tier="default",
            safety_identifier="user-42",
            tools=[],
        )
        task = wait(tasks, created.id)
        assert task.status == "succeeded", task
        assert (task.frames, task.priority, task.service_tier) == (57, 7, "default")
        assert task.safety_identifier == "user-42" and task.duration == 2
        video = httpx.get(task.content.video_url, timeout=30).content
        with av.open(io.BytesIO(video)) as container:
            decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        assert len(decoded) == 57
        last = httpx.get(task.content.last_frame_url, timeout=30)
        assert last.headers["content-type"] == "image/png"
        with Image.open(io.BytesIO(last.content)) as picture:
            pixels = np.asarray(picture.convert("RGB")).astype(int)
        assert pixels.shape == decoded[-1].shape
        assert np.abs(pixels - decoded[-1].astype(int)).mean() < 3.0  # the clip's own last frame

        plain = wait(tasks, tasks.create(model=MODEL, content=[{"type": "text", "text": "x"}]).id)
        assert plain.content.last_frame_url is None  # only when asked for
        assert (plain.service_tier, plain.priority, plain.frames) == ("default", 0, 121)
        flex = tasks.create(
            model=MODEL, content=[{"type": "text", "text": "y"}], service_tier="flex"
        )
        listed = tasks.list(service_tier="flex")
        assert listed.total == 1 and [item.id for item in listed.items] == [flex.id]
        assert tasks.list(service_tier="default").total == 2

        for field, value in (("generate_audio", True), ("draft", True), ("service_tier", "scale")):
            with pytest.raises(ark_runtime._exceptions.ArkBadRequestError) as refused:
                tasks.create(model=MODEL, content=[{"type": "text", "text": "x"}], **{field: value})
            assert refused.value.param == field


def test_a_2_0_task_with_sound_a_reference_and_a_draft(tmp_path: Path) -> None:
    from tests.clients.ark_flow import run_2_0_flow

    run_2_0_flow(ark_runtime, tmp_path, "doubao-seedance-2-0-260128")
