"""The shipped built-in model, as a user meets it: `clipforge serve` with nothing else, the
openai SDK's extend on it, and a small run of the evaluation through the backend."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from safetensors import safe_open
from training.eval import evaluate
from training.measures import motion_of, object_blob, psnr

from clipforge.backends.builtin.backend import BuiltinBackend
from clipforge.backends.builtin.v2.colours import colour_table
from clipforge.backends.builtin.v2.pipeline import GENERATOR_FILE, WEIGHTS
from clipforge.schemas import FRAME_SIZES, AspectRatio, Resolution
from clipforge.settings import Settings
from tests.live import ServerProcess, start_server_process

# whole clips through a server and the evaluation: longer than the suite's 60 s per test
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def default_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """`clipforge serve --port P --data-dir D`: nothing says which model to use."""
    server = start_server_process(tmp_path_factory.mktemp("default"), {"CLIPFORGE_MODEL": ""})
    try:
        yield server
    finally:
        server.kill()


def generate(server: ServerProcess, out: Path, prompt: str, *options: str) -> None:
    command = [sys.executable, "-m", "clipforge", "generate", prompt, "--server", server.url]
    subprocess.run([*command, *options, "-o", str(out)], check=True, timeout=300)


def frames(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def test_the_weights_ship_with_the_package() -> None:
    files = list(WEIGHTS.glob("*.safetensors"))
    assert sum(path.stat().st_size for path in files) < 50 * 2**20 and len(files) == 2
    with safe_open(str(WEIGHTS / GENERATOR_FILE), framework="pt") as weights:
        assert (weights.metadata() or {}).get("generator_steps")
    assert (WEIGHTS / "MODEL_CARD.md").is_file()


def test_serve_with_no_model_generates_what_the_prompt_asks(
    default_server: ServerProcess, tmp_path: Path
) -> None:
    out = tmp_path / "red.mp4"
    generate(
        default_server,
        out,
        "a red ball rolling to the right",
        "--seed",
        "3",
        "--resolution",
        "480p",
    )
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == FRAME_SIZES[Resolution.P480][AspectRatio.WIDE]
        assert stream.average_rate == 24
    clip = frames(out)
    assert len(clip) == 121
    verdicts = [object_blob(frame, colour_table().names["red"]) for frame in clip]
    assert np.mean([clean for clean, _ in verdicts]) >= 0.95  # one red object, after H.264
    assert motion_of([found for _, found in verdicts], clip.shape[2], clip.shape[1]) == "right"


def test_the_same_seed_gives_the_same_video(default_server: ServerProcess, tmp_path: Path) -> None:
    first, second, other = (tmp_path / f"{name}.mp4" for name in ("first", "second", "other"))
    for path, seed in ((first, "11"), (second, "11"), (other, "12")):
        generate(default_server, path, "a blue square moving up", "--seed", seed)
    # The files differ in their tags (job id, time): the frames must not.
    assert np.array_equal(frames(first), frames(second))
    assert not np.array_equal(frames(first), frames(other))


def _finished(http: httpx.Client, video: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + 240
    while video["status"] in ("queued", "in_progress"):
        assert time.monotonic() < deadline, video
        time.sleep(0.2)
        video = http.get(f"/v1/videos/{video['id']}").json()
    assert video["status"] == "completed", video
    return video


def test_the_readmes_extend_works_on_the_default_server(
    default_server: ServerProcess, tmp_path: Path
) -> None:
    """README's openai example: `videos.extend` starts a clip where the given one ended."""
    with httpx.Client(base_url=default_server.url, timeout=60) as http:
        ball = {"prompt": "a red ball rolling to the right", "seconds": "4", "size": "1280x720"}
        video = _finished(http, http.post("/v1/videos", json=ball).json())
        source = tmp_path / "ball.mp4"
        source.write_bytes(http.get(f"/v1/videos/{video['id']}/content").content)
        with source.open("rb") as clip:  # the SDK uploads the file, as in the README
            upload = {"video": ("ball.mp4", clip, "video/mp4")}
            form = {"prompt": "it rolls on", "seconds": "4"}
            extension = http.post("/v1/videos/extensions", data=form, files=upload)
        assert extension.status_code == 200, extension.text
        more = _finished(http, extension.json())
        (tmp_path / "more.mp4").write_bytes(http.get(f"/v1/videos/{more['id']}/content").content)
    # It starts on the ball's last frame (two lossy encodes apart).
    assert psnr(frames(source)[-1], frames(tmp_path / "more.mp4")[0]) >= 28


def test_held_out_prompts_small_evaluation() -> None:
    """A small-n run of training/eval.py through the shipped backend (the full run is in the
    model card), held one case below what these four cases reached there (4/4 in every
    suite; PSNR exact before the encoder): a regression in the parser, the generator or the
    image path fails here."""
    backend = BuiltinBackend.from_settings(Settings(backend="builtin"))
    scores = evaluate(backend, argparse.Namespace(n=4, seconds=1, every=1), log=lambda line: None)
    assert scores["templated"]["all"]["rate"] >= 0.75, scores
    assert scores["paraphrase"]["all"]["rate"] >= 0.75, scores
    assert scores["colour_held_out"]["colour"]["rate"] >= 0.75, scores
    assert scores["clean_frames"]["rate"] >= 0.95, scores
    assert scores["reading_matches_frame"]["rate"] >= 0.75, scores
    assert scores["camerafixed"]["rate"] >= 0.75, scores
    assert scores["first_last_frames"]["first_psnr_db"]["min"] >= 30, scores
    assert scores["first_last_frames"]["last_psnr_db"]["min"] >= 25, scores
