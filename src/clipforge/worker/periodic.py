"""A side thread that beats every few seconds while a block runs (a job's lease, a worker's
presence): started on entering, stopped and joined on leaving."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Self


class Periodic:
    """Calls `beat()` every `interval` seconds, or at once after `wake()`, until the block
    ends or `beat()` returns False."""

    def __init__(self, interval: float, name: str) -> None:
        self._interval = interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def beat(self) -> bool:
        """One beat; False ends the thread."""
        raise NotImplementedError

    def wake(self) -> None:
        self._wake.set()

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join()

    def _loop(self) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._stop.is_set() or not self.beat():
                return
