"""The shipped built-in weights, end to end: `clipforge serve` with no model argument serves
them, `clipforge generate` gets a real MP4, and the analyser finds what the prompt asked for."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest
from training.analyse import analyse_video
from training.eval import evaluate

from clipforge.backends.builtin.weights import WEIGHTS_DIR, load_model, read_metadata
from clipforge.schemas import FRAME_SIZES, AspectRatio, Resolution
from tests.live import ServerProcess, start_server_process

# the shipped model's evaluation runs: longer than the suite's 60 s per test
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


def test_the_weights_ship_with_the_package() -> None:
    assert (WEIGHTS_DIR / "builtin.safetensors").stat().st_size < 50 * 2**20
    assert int(read_metadata()["steps"]) > 0
    assert (WEIGHTS_DIR / "MODEL_CARD.md").is_file()


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
        assert sum(1 for _ in container.decode(stream)) == 121
    analysis = analyse_video(out)
    # The shipped weights get colour and motion right on nearly every templated prompt (100% /
    # 97% on held-out ones, MODEL_CARD.md), shapes less often (89%): colour and motion are checked.
    assert (analysis.colour, analysis.motion) == ("red", "right"), analysis


def test_the_same_seed_gives_the_same_video(default_server: ServerProcess, tmp_path: Path) -> None:
    first, second, other = (tmp_path / f"{name}.mp4" for name in ("first", "second", "other"))
    for path, seed in ((first, "11"), (second, "11"), (other, "12")):
        generate(default_server, path, "a blue square moving up", "--seed", seed)
    # The files differ in their tags (job id, time): the frames must not.
    assert np.array_equal(frames(first), frames(second))
    assert not np.array_equal(frames(first), frames(other))


def frames(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def test_held_out_prompts_small_evaluation() -> None:
    """A small-n run of training/eval.py on the shipped weights (the full run, n=64 per suite,
    is in the model card), held to what they reach there less one clip, well above chance (1 in
    8 colours and motions), so that a regression in the model, the sampler or the text path
    fails here (n = 8 gave templated colour 8/8, motion 8/8, all three 7/8; paraphrase colour
    8/8, all three 6/8; still camera 8/8)."""
    scores = evaluate(load_model(), n=8, steps=24)
    assert scores["templated"]["colour"] >= 0.875, scores
    assert scores["templated"]["motion"] >= 0.875, scores
    assert scores["templated"]["all"] >= 0.75, scores
    assert scores["paraphrase"]["colour"] >= 0.875, scores
    assert scores["paraphrase"]["all"] >= 0.625, scores
    assert scores["camerafixed"]["textured"] >= 0.875, scores
    assert scores["camerafixed"]["camera_still"] >= 0.875, scores
