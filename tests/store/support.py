"""Helpers for the store tests (importable by spawned processes: keep imports light)."""

from __future__ import annotations

import time
from typing import Any

from clipforge.schemas import GenerationRequest, JobResult
from clipforge.store import open_store

MODEL = "bytedance/seedance-1-0-pro-t2v"
START = 1_700_000_000.0


class FakeClock:
    """A clock that moves only when told to, so lease expiry needs no sleeping."""

    def __init__(self, start: float = START) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


def request(prompt: str = "a red ball", **fields: Any) -> GenerationRequest:
    return GenerationRequest(model=fields.pop("model", MODEL), prompt=prompt, **fields)


def drain(url: str, worker_id: str, barrier: Any, results: Any) -> None:
    """A worker process: claim and complete jobs until the queue is empty."""
    store = open_store(url)
    try:
        barrier.wait(60)
        done = []
        while (claim := store.claim(worker_id, 60.0)) is not None:
            store.record_progress(claim, 1, 2)
            time.sleep(0.002)  # "work": lets the other processes at the write lock
            if store.complete(claim, JobResult(f"{claim.job.id}.mp4", worker_id)):
                done.append(claim.job.id)
        results.put((worker_id, done))
    finally:
        store.close()
