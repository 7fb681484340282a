"""A worker thread beside a live server, rendering the test pattern with a pause per step.

The `testpattern` backend finishes at once; a pause between its steps lets a test watch
queue place, step i/N and the ETA go by (in the SDK, the CLI and the browser).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from clipforge.backends.base import NO_IMAGES, Clip, ImageInput, ProgressCallback
from clipforge.backends.testpattern import TestPatternBackend
from clipforge.schemas import GenerationRequest
from clipforge.worker.runner import Worker
from tests.live import LiveServer


class PacedPattern(TestPatternBackend):
    """The test pattern, `step_seconds` per step."""

    def __init__(self, step_seconds: float) -> None:
        self.step_seconds = step_seconds

    def generate(
        self, request: GenerationRequest, progress: ProgressCallback, images: ImageInput = NO_IMAGES
    ) -> Clip:
        def paced(step: int, total: int) -> None:
            time.sleep(self.step_seconds)
            progress(step, total)

        return super().generate(request, paced, images)


@contextmanager
def paced_worker(live: LiveServer, step_seconds: float = 0.2) -> Iterator[Worker]:
    """Run one worker on the live server's store and storage until the block ends."""
    server = live.server
    worker = Worker(
        server.store,
        server.storage,
        lambda: PacedPattern(step_seconds),
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
