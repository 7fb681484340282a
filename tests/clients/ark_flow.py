"""The 2.0 flow both Ark SDKs run unchanged (issue 28): a 12 s clip with sound and a
reference image on the test pattern, then a 1.5 draft and its full render."""

from __future__ import annotations

import base64
import io
import time
from pathlib import Path
from typing import Any

import av
import httpx
from PIL import Image

from tests.live import live_server

KEY = "ark-test-key"


def _reference() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (96, 96), (250, 20, 20)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _finished(tasks: Any, task_id: str) -> Any:
    deadline = time.monotonic() + 180
    while (task := tasks.get(task_id=task_id)).status != "succeeded":
        assert task.status in ("queued", "running"), task
        assert time.monotonic() < deadline, "the task did not finish in 180 s"
        time.sleep(0.2)
    return task


def run_2_0_flow(ark_runtime: Any, tmp_path: Path, model: str) -> None:
    with live_server(tmp_path, backend="testpattern", workers=1, api_keys=KEY) as live:
        tasks = ark_runtime.Ark(base_url=f"{live.url}/api/v3", api_key=KEY).content_generation.tasks
        content = [
            {"type": "text", "text": "a red drum kit, @Image1"},
            {"type": "image_url", "image_url": {"url": _reference()}, "role": "reference_image"},
        ]
        created = tasks.create(
            model=model, content=content, duration=12, resolution="480p", generate_audio=True
        )
        task = _finished(tasks, created.id)
        assert (task.model, task.duration, task.generate_audio) == (model, 12, True)
        video = httpx.get(task.content.video_url, timeout=30).content
        with av.open(io.BytesIO(video)) as container:
            assert container.streams.audio[0].codec_context.name == "aac"
            assert sum(1 for _ in container.decode(video=0)) == 24 * 12 + 1
        draft = tasks.create(
            model="seedance-1-5-pro-251215",
            content=[{"type": "text", "text": "a quick sketch"}],
            draft=True,
        )
        assert _finished(tasks, draft.id).draft is True
        full = tasks.create(
            model="seedance-1-5-pro-251215",
            content=[{"type": "draft_task", "draft_task": {"id": draft.id}}],
        )
        done = _finished(tasks, full.id)
        assert done.draft is False and done.seed == tasks.get(task_id=draft.id).seed
