"""The official `openai` SDK (3.x) against a live server: the whole videos flow, unchanged.

The AI/ML API SDK installs its own package named `openai`, so this SDK lives in a virtual
environment of its own, `.venv-openai` in the repository root, made at install time by
`python tests/clients/sdk_venvs.py`. The script below runs there as a child process and
reports in JSON.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from tests.clients.sdk_venvs import sdk_python
from tests.images import encoded, halves
from tests.live import LiveServer, live_server

# the first test waits for the whole SDK script (the module fixture): longer than 60 s
pytestmark = pytest.mark.timeout(180)
KEY = "openai-sdk-key"

SCRIPT = """
import json, sys, warnings
from pathlib import Path
import openai
from openai import OpenAI

warnings.simplefilter("ignore", DeprecationWarning)
port, key, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
client = OpenAI(api_key=key, base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
report = {"version": openai.__version__}

video = client.videos.create_and_poll(
    prompt="a red ball rolling to the right", model="sora-2", seconds="4", size="1280x720"
)
report["video"] = video.model_dump()
for variant in ("video", "thumbnail", "spritesheet"):
    client.videos.download_content(video.id, variant=variant).write_to_file(out / variant)

with open(out / "first.png", "rb") as image:
    i2v = client.videos.create_and_poll(
        prompt="the flag waves", input_reference=image, seconds="4", size="1280x720"
    )
report["i2v"] = i2v.model_dump()
client.videos.download_content(i2v.id).write_to_file(out / "i2v")

remix = client.videos.remix(video.id, prompt="a blue ball rolling to the right")
remix = client.videos.poll(remix.id)
report["remix"] = remix.model_dump()

with open(out / "video", "rb") as clip:  # the SDK uploads the video to extend
    extension = client.videos.extend(prompt="it rolls on", seconds="4", video=clip)
extension = client.videos.poll(extension.id)
report["extension"] = extension.model_dump()
client.videos.download_content(extension.id).write_to_file(out / "extension")

report["listed"] = [item.id for item in client.videos.list(limit=2)]  # pages through all
report["first_page"] = [item.id for item in client.videos.list(limit=2).data]
report["oldest_first"] = [item.id for item in client.videos.list(order="asc")]
deleted = client.videos.delete(remix.id)
report["deleted"] = deleted.model_dump()
report["models"] = [model.id for model in client.models.list()]
report["retrieved"] = client.models.retrieve("sora-2").id

# Seedance 2.0, as a client written this year calls it: sound on by default, a 12 s clip
v2 = client.videos.create_and_poll(
    prompt="a drum solo", model="bytedance/seedance-2-0", seconds="12", size="864x480"
)
report["v2"] = v2.model_dump()
client.videos.download_content(v2.id).write_to_file(out / "v2")

errors = {}
for name, call in {
    "missing": lambda: client.videos.retrieve("no-such-video"),
    "deleted": lambda: client.videos.retrieve(remix.id),
    "seconds": lambda: client.videos.create(prompt="x", seconds="30"),
    "size": lambda: client.videos.create(prompt="x", size="100x100"),
    "size_4k": lambda: client.videos.create(prompt="x", model="sora-2", size="3840x2160"),
    "model": lambda: client.models.retrieve("no-such-model"),
}.items():
    try:
        call()
    except openai.APIStatusError as exc:
        errors[name] = {"status": exc.status_code, "body": exc.body, "type": type(exc).__name__}
report["errors"] = errors
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], Path]]:
    python = sdk_python("openai")
    data, out = tmp_path_factory.mktemp("openai-sdk"), tmp_path_factory.mktemp("openai-out")
    (out / "first.png").write_bytes(encoded(halves(640, 360)))
    with live_server(data, backend="testpattern", api_keys=KEY) as live:
        yield run_sdk(python, live, out), out


def run_sdk(python: Path, server: LiveServer, out: Path) -> dict[str, Any]:
    port = server.url.rsplit(":", 1)[1]
    command = [python, "-c", SCRIPT, port, KEY, str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=out)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def test_create_and_poll_and_the_three_variants(report: tuple[dict[str, Any], Path]) -> None:
    result, out = report
    assert result["version"].startswith("3.")
    video = result["video"]
    assert video["status"] == "completed" and video["progress"] == 100
    assert (video["model"], video["seconds"], video["size"]) == ("sora-2", "4", "1280x720")
    assert video["object"] == "video" and video["completed_at"] >= video["created_at"]
    clip = frames(out / "video")
    assert len(clip) == 97 and clip[0].shape == (720, 1280, 3)  # 4 s at 24 fps, exact size
    with Image.open(out / "thumbnail") as poster:
        assert poster.format == "WEBP" and poster.width == 640
    with Image.open(out / "spritesheet") as sheet:
        assert sheet.format == "JPEG" and sheet.width == 5 * 256


def test_an_input_reference_file_is_the_first_frame(report: tuple[dict[str, Any], Path]) -> None:
    result, out = report
    assert result["i2v"]["status"] == "completed"
    start = frames(out / "i2v")[0].astype(int)
    with Image.open(out / "first.png") as sent:
        fitted = np.asarray(sent.convert("RGB").resize((1280, 720))).astype(int)
    assert np.abs(start - fitted).mean() < 3.0


def test_remix_extend_list_delete(report: tuple[dict[str, Any], Path]) -> None:
    result, out = report
    video, remix, extension = result["video"], result["remix"], result["extension"]
    assert remix["status"] == "completed" and remix["remixed_from_video_id"] == video["id"]
    assert remix["prompt"].startswith("a blue ball") and remix["size"] == video["size"]
    assert extension["status"] == "completed" and extension["remixed_from_video_id"] is None
    last_of_source = frames(out / "video")[-1].astype(int)
    first_of_extension = frames(out / "extension")[0].astype(int)
    assert np.abs(last_of_source - first_of_extension).mean() < 3.0  # it starts where it ended
    made = {video["id"], result["i2v"]["id"], remix["id"], extension["id"]}
    assert set(result["listed"]) == made and len(result["first_page"]) == 2
    assert result["oldest_first"][0] == video["id"]
    assert result["deleted"] == {"id": remix["id"], "deleted": True, "object": "video.deleted"}
    assert "bytedance/seedance-1-0-pro-t2v" in result["models"]
    assert result["retrieved"] == "bytedance/seedance-1-0-pro-fast"  # what sora-2 stands for


def test_errors_reach_the_sdk_in_openai_shape(report: tuple[dict[str, Any], Path]) -> None:
    errors = report[0]["errors"]
    assert errors["missing"]["status"] == 404 and errors["missing"]["type"] == "NotFoundError"
    assert errors["deleted"]["status"] == 404
    assert errors["model"]["status"] == 404 and errors["model"]["type"] == "NotFoundError"
    for name, param in (("seconds", "seconds"), ("size", "size"), ("size_4k", "size")):
        assert errors[name]["status"] == 400 and errors[name]["type"] == "BadRequestError"
        body = errors[name]["body"]
        assert body["param"] == param and body["type"] == "invalid_request_error", body


def test_a_seedance_2_0_clip_with_sound(report: tuple[dict[str, Any], Path]) -> None:
    result, out = report
    video = result["v2"]
    assert video["status"] == "completed", video
    assert (video["model"], video["seconds"], video["size"]) == (
        "bytedance/seedance-2-0",
        "12",
        "864x480",
    )
    with av.open(str(out / "v2")) as container:
        picture, sound = container.streams.video[0], container.streams.audio[0]
        assert sound.codec_context.name == "aac"  # 2.0 makes sound by default
        lengths = [float(s.duration * s.time_base) for s in (picture, sound)]
        assert (picture.width, picture.height) == (864, 480)
    assert abs(lengths[0] - (12 + 1 / 24)) < 0.01 and abs(lengths[1] - lengths[0]) < 0.03
