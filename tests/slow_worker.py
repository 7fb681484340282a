"""A worker thread beside a live server, rendering the test pattern with a pause per step.

The `testpattern` backend finishes at once; a pause between its steps lets a test watch
queue place, step i/N and the ETA go by (in the SDK, the CLI and the browser), and pauses
after the last step (as a VAE decode) and per frame (a slow encode) show the later phases.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace

import numpy as np

from clipforge.backends.base import NO_IMAGES, Clip, ImageInput, ProgressCallback
from clipforge.backends.testpattern import TestPatternBackend
from clipforge.schemas import GenerationRequest
from clipforge.worker.runner import Worker
from tests.live import LiveServer


class PacedPattern(TestPatternBackend):
    """The test pattern, `step_seconds` per step, `decode_seconds` after the last one and
    `frame_seconds` per frame the encoder takes."""

    def __init__(
        self, step_seconds: float, decode_seconds: float = 0.0, frame_seconds: float = 0.0
    ) -> None:
        self.step_seconds = step_seconds
        self.decode_seconds = decode_seconds
        self.frame_seconds = frame_seconds

    def generate(
        self, request: GenerationRequest, progress: ProgressCallback, images: ImageInput = NO_IMAGES
    ) -> Clip:
        def paced(step: int, total: int) -> None:
            time.sleep(self.step_seconds)
            progress(step, total)

        clip = super().generate(request, paced, images)
        time.sleep(self.decode_seconds)
        return replace(clip, frames=self._slowly(clip.frames))

    def _slowly(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        for frame in frames:
            time.sleep(self.frame_seconds)
            yield frame


@contextmanager
def paced_worker(
    live: LiveServer,
    step_seconds: float = 0.2,
    decode_seconds: float = 0.0,
    frame_seconds: float = 0.0,
) -> Iterator[Worker]:
    """Run one worker on the live server's store and storage until the block ends."""
    server = live.server
    worker = Worker(
        server.store,
        server.storage,
        lambda: PacedPattern(step_seconds, decode_seconds, frame_seconds),
        live.settings,
        worker_id="paced-test-worker",
    )
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        stop.set()
        thread.join(30)
        worker.close()
