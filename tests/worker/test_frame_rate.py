"""Frame rate through the worker, checked on the decoded MP4: never a cross-fade.

A 16 fps model (Wan 2.1 / 2.2 A14B) keeps 16 fps in the file by default, frame for frame; the
3 fps model's 16 frames for 5 s are held on 24 fps; with CLIPFORGE_FRAME_RATE_MODE=
interpolate a 16 fps clip becomes 24 fps by motion compensation (the moving square is drawn
once per frame, not twice at half strength as a cross-fade draws it).
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from clipforge.backends.base import NO_IMAGES, Clip, GenerationPlan, ImageInput, ProgressCallback
from clipforge.backends.testpattern import TestPatternBackend
from clipforge.files.local import LocalStorage
from clipforge.schemas import GenerationRequest, JobStatus, Resolution
from clipforge.settings import Settings
from clipforge.store import SQLiteJobStore
from clipforge.worker.runner import Worker

WIDTH, HEIGHT, SIDE = 864, 480, 96
REQUEST = GenerationRequest(
    model="bytedance/seedance-1-0-pro-t2v", prompt="a square", resolution=Resolution.P480
)


def square(index: int, count: int) -> np.ndarray:
    """A white square crossing a black frame, a whole square's width every 4 native frames."""
    frame = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    left = round(index * (WIDTH - SIDE) / (count - 1))
    frame[192 : 192 + SIDE, left : left + SIDE] = 255
    return frame


class MovingSquare(TestPatternBackend):
    """A model with a native rate: `count` frames for the 5 s request, at the output size."""

    def __init__(self, count: int, fps: float) -> None:
        self.count, self.fps = count, fps

    def plan(self, request: GenerationRequest) -> GenerationPlan:
        return GenerationPlan(WIDTH, HEIGHT, self.count, self.fps, 1)

    def generate(
        self, request: GenerationRequest, progress: ProgressCallback, images: ImageInput = NO_IMAGES
    ) -> Clip:
        progress(1, 1)
        frames: Iterator[np.ndarray] = (square(i, self.count) for i in range(self.count))
        return Clip(WIDTH, HEIGHT, self.fps, self.count, frames)


def run(tmp_path: Path, backend: MovingSquare, **settings: object) -> tuple[list, Fraction, dict]:
    config = Settings(data_dir=tmp_path, heartbeat_seconds=0.05, lease_seconds=5, **settings)
    store = SQLiteJobStore(config.data_dir / "jobs.db")
    storage = LocalStorage(
        config.videos_dir, secret=b"k", public_base_url="http://x", ttl_seconds=60
    )
    job = store.create(REQUEST)
    assert Worker(store, storage, lambda: backend, config, "host:1:boot:0").run_once()
    done = store.get(job.id)
    assert done is not None and done.status is JobStatus.COMPLETED, done
    assert done.video_key is not None
    with av.open(str(storage.path(done.video_key))) as container:
        stream = container.streams.video[0]
        frames = [frame.to_ndarray(format="gray") for frame in container.decode(stream)]
        rate = stream.average_rate
    return frames, rate, done.reading["frame_rate"]


def lit_columns(frame: np.ndarray) -> np.ndarray:
    """How lit each column is across the square's rows (1.0 inside the square)."""
    return frame[200:280].astype(np.float32).mean(axis=0) / 235.0


def ghost_columns(frame: np.ndarray) -> int:
    """Columns lit between a quarter and three quarters: a cross-fade's half-strength squares
    (away from the one or two soft columns H.264 leaves at each edge)."""
    lit = lit_columns(frame)
    return int(np.count_nonzero((lit > 0.25) & (lit < 0.75)))


def test_a_16_fps_model_keeps_16_fps_frame_for_frame(tmp_path: Path) -> None:
    frames, rate, written = run(tmp_path, MovingSquare(81, 16))
    assert (rate, len(frames)) == (16, 81)
    assert written == {"fps": 16, "frames": 81, "how": "native", "native_fps": 16.0}
    for index, frame in enumerate(frames):
        assert ghost_columns(frame) <= 4, index
        expected = square(index, 81)[..., 0].astype(np.float32)
        assert np.abs(frame.astype(np.float32) - expected).mean() < 3, index


def test_the_built_in_models_16_frames_are_held_never_blended(tmp_path: Path) -> None:
    frames, rate, written = run(tmp_path, MovingSquare(16, 3.2))
    assert (rate, len(frames), written["how"]) == (24, 121, "hold")
    assert max(ghost_columns(frame) for frame in frames) <= 4


def test_interpolation_moves_the_square_instead_of_doubling_it(tmp_path: Path) -> None:
    frames, rate, written = run(tmp_path, MovingSquare(81, 16), frame_rate_mode="interpolate")
    assert (rate, len(frames), written["how"]) == (24, 121, "interpolate")
    # Output frame 3k + 1 sits a third of the way between native frames 2k and 2k + 1: a
    # cross-fade shows both squares at 2/3 and 1/3 strength (about 40 ghost columns).
    for index in range(1, 120, 3):
        assert ghost_columns(frames[index]) <= 12, index
        centre = np.average(np.arange(WIDTH), weights=lit_columns(frames[index]))
        truth = (index / 120) * (WIDTH - SIDE) + SIDE / 2
        assert abs(centre - truth) < 4, index


@pytest.mark.parametrize("mode", ["native", "interpolate"])
def test_a_24_fps_model_is_written_as_asked(tmp_path: Path, mode: str) -> None:
    frames, rate, written = run(tmp_path, MovingSquare(121, 24), frame_rate_mode=mode)
    assert (rate, len(frames), written["how"]) == (24, 121, "hold")
