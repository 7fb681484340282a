"""The official AI/ML API SDK (`aimlapi-sdk-python`, import `aimlapi`) against a live server.

The SDK installs its own package named `openai`, so it lives in a virtual environment of its
own, `.venv-aimlapi` in the repository root, made at install time by
`python tests/clients/sdk_venvs.py`. The script below runs in that environment as a child
process.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from tests.clients.sdk_venvs import sdk_python
from tests.live import LiveServer, live_server

KEY = "aimlapi-sdk-key"

SCRIPT = """
import asyncio, json, sys
from aimlapi import AIMLAPI, AsyncAIMLAPI

port, key, out = sys.argv[1], sys.argv[2], sys.argv[3]
base_url = f"http://127.0.0.1:{port}/v1"
model = "bytedance/seedance-1-0-pro-t2v"
statuses = []
result = AIMLAPI(api_key=key, base_url=base_url).videos.generate_with_polling(
    model=model,
    prompt="a red ball rolling to the right",
    extra_body={"resolution": "480p"},
    poll_interval=0.5,
    status_callback=lambda payload: statuses.append(payload.get("status")),
)

async def video_bytes():
    client = AsyncAIMLAPI(api_key=key, base_url=base_url)
    return await client.videos.generate_with_polling(
        model=model, prompt="a blue square", extra_body={"resolution": "480p"},
        poll_interval=0.5, return_bytes=True,
    )

with open(out, "wb") as file:
    file.write(asyncio.run(video_bytes()))
print(json.dumps({"result": result, "statuses": statuses}))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("aimlapi-sdk")
    with live_server(data, backend="testpattern", api_keys=KEY) as live:
        yield live


def run_sdk(server: LiveServer, out: Path) -> dict[str, Any]:
    port = server.url.rsplit(":", 1)[1]
    command = [sdk_python("aimlapi"), "-c", SCRIPT, port, KEY, str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=out.parent)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def frames_and_size(path: Path) -> tuple[int, tuple[int, int]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return frames, (stream.codec_context.width, stream.codec_context.height)


def test_generate_with_polling(server: LiveServer, tmp_path: Path) -> None:
    report = run_sdk(server, tmp_path / "from-bytes.mp4")
    result = report["result"]
    assert result["status"] == "completed" and result["error"] is None
    assert report["statuses"][0] == "queued" and report["statuses"][-1] == "completed"
    assert set(report["statuses"]) <= {"queued", "generating", "completed"}
    video = httpx.get(result["video"]["url"], timeout=30)
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    (tmp_path / "from-url.mp4").write_bytes(video.content)
    for name in ("from-url.mp4", "from-bytes.mp4"):
        assert frames_and_size(tmp_path / name) == (121, (864, 480)), name


SCRIPT_2_0 = """
import json, sys
from aimlapi import AIMLAPI

port, key = sys.argv[1], sys.argv[2]
result = AIMLAPI(api_key=key, base_url=f"http://127.0.0.1:{port}/v1").videos.generate_with_polling(
    model="bytedance/seedance-2-0", prompt="a drum solo",
    extra_body={"resolution": "480p", "duration": 12}, poll_interval=0.5,
)
print(json.dumps(result))
"""


def test_a_2_0_clip_of_12_s_with_sound(server: LiveServer, tmp_path: Path) -> None:
    port = server.url.rsplit(":", 1)[1]
    command = [sdk_python("aimlapi"), "-c", SCRIPT_2_0, port, KEY]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "completed" and result["meta"]["usage"]["usd_spent"] == 0
    (tmp_path / "drums.mp4").write_bytes(httpx.get(result["video"]["url"], timeout=30).content)
    assert frames_and_size(tmp_path / "drums.mp4") == (24 * 12 + 1, (864, 480))
    with av.open(str(tmp_path / "drums.mp4")) as container:
        assert container.streams.audio[0].codec_context.name == "aac"
