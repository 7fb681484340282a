"""The worker on a real store, real storage and real encoder: success, failures, cancel."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import av
import pytest
import torch

from clipforge.backends.base import NO_IMAGES, Backend, Clip, ImageInput, ProgressCallback
from clipforge.backends.testpattern import TestPatternBackend
from clipforge.errors import GenerationFailed, WorkerFailure
from clipforge.files.local import LocalStorage
from clipforge.schemas import GenerationRequest, JobStatus, Resolution
from clipforge.settings import Settings
from clipforge.store import SQLiteJobStore
from clipforge.worker.pool import WorkerPool
from clipforge.worker.runner import Worker

REQUEST = GenerationRequest(
    model="bytedance/seedance-1-0-pro-t2v", prompt="a red ball", resolution=Resolution.P480
)


class ScriptedBackend(TestPatternBackend):
    """The test pattern, with a hook run at every step (to fail or cancel mid-job)."""

    def __init__(self, on_step: Callable[[int], None] = lambda step: None) -> None:
        self.on_step = on_step
        self.closed = False

    def generate(
        self, request: GenerationRequest, progress: ProgressCallback, images: ImageInput = NO_IMAGES
    ) -> Clip:
        def scripted(step: int, total: int) -> None:
            self.on_step(step)
            progress(step, total)

        return super().generate(request, scripted, images)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, heartbeat_seconds=0.05, lease_seconds=5)


@pytest.fixture
def store(settings: Settings) -> SQLiteJobStore:
    return SQLiteJobStore(settings.data_dir / "jobs.db")


@pytest.fixture
def storage(settings: Settings) -> LocalStorage:
    return LocalStorage(
        settings.videos_dir, secret=b"k", public_base_url="http://x", ttl_seconds=60
    )


def make_worker(
    store: SQLiteJobStore, storage: LocalStorage, settings: Settings, backend: Backend
) -> Worker:
    return Worker(store, storage, lambda: backend, settings, "host:1:boot:0")


def test_a_job_runs_to_a_decodable_video(
    store: SQLiteJobStore, storage: LocalStorage, settings: Settings
) -> None:
    job = store.create(REQUEST)
    worker = make_worker(store, storage, settings, TestPatternBackend())
    assert worker.run_once()
    done = store.get(job.id)
    assert done is not None and done.status is JobStatus.COMPLETED, done
    assert done.attempts == 1
    assert done.backend == "testpattern"
    assert done.progress_step == done.progress_total == 4
    assert {"encode_s", "total_s"} <= set(done.timings)
    assert done.video_key is not None
    with av.open(str(storage.path(done.video_key))) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert (stream.width, stream.height, frames) == (864, 480, 121)
        assert container.metadata.get("clipforge_prompt") == "a red ball"
    assert not [path for path in (settings.data_dir / "tmp").rglob("*") if path.is_file()]
    assert not worker.run_once()


@pytest.mark.parametrize(
    "error, name, message",
    [
        (GenerationFailed("the model refused"), "GenerationError", "the model refused"),
        (RuntimeError("tensor mismatch"), "GenerationError", "RuntimeError: tensor mismatch"),
    ],
)
def test_job_level_failures_end_the_job_in_error(
    store: SQLiteJobStore,
    storage: LocalStorage,
    settings: Settings,
    error: Exception,
    name: str,
    message: str,
) -> None:
    def fail(step: int) -> None:
        raise error

    job = store.create(REQUEST)
    make_worker(store, storage, settings, ScriptedBackend(fail)).run_once()
    failed = store.get(job.id)
    assert failed is not None and failed.status is JobStatus.ERROR
    assert (failed.error_name, failed.error_message) == (name, message)
    assert not storage.exists(f"{job.id}.mp4")


def test_worker_level_failure_requeues_and_reloads_the_backend(
    store: SQLiteJobStore, storage: LocalStorage, settings: Settings
) -> None:
    def lose_device(step: int) -> None:
        raise WorkerFailure("CUDA device lost")

    backends = [ScriptedBackend(lose_device), ScriptedBackend()]
    loads = iter(backends)
    worker = Worker(store, storage, lambda: next(loads), settings, "host:1:boot:0")
    job = store.create(REQUEST)
    worker.run_once()
    requeued = store.get(job.id)
    assert requeued is not None and requeued.status is JobStatus.QUEUED
    assert backends[0].closed
    worker.run_once()
    done = store.get(job.id)
    assert done is not None and done.status is JobStatus.COMPLETED and done.attempts == 2


def test_a_cuda_out_of_memory_from_any_backend_gives_the_job_back(
    store: SQLiteJobStore, storage: LocalStorage, settings: Settings
) -> None:
    """The device's state, not the job's fault: torch.cuda.OutOfMemoryError raised by a
    backend that does not map it itself (the built-in one) ended the job in `error`."""

    def out_of_memory(step: int) -> None:
        if step == 2:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    backends = [ScriptedBackend(out_of_memory), ScriptedBackend()]
    loads = iter(backends)
    worker = Worker(store, storage, lambda: next(loads), settings, "host:1:boot:0")
    job = store.create(REQUEST)
    worker.run_once()
    requeued = store.get(job.id)
    assert requeued is not None and requeued.status is JobStatus.QUEUED, requeued
    assert requeued.error_name is None and backends[0].closed
    worker.run_once()
    done = store.get(job.id)
    assert done is not None and done.status is JobStatus.COMPLETED and done.attempts == 2


def test_cancel_mid_generation_stops_the_job_and_keeps_no_file(
    store: SQLiteJobStore, storage: LocalStorage, settings: Settings
) -> None:
    steps: list[int] = []
    job = store.create(REQUEST)

    def cancel_at_two(step: int) -> None:
        steps.append(step)
        if step == 2:
            store.cancel(job.id)

    make_worker(store, storage, settings, ScriptedBackend(cancel_at_two)).run_once()
    cancelled = store.get(job.id)
    assert cancelled is not None and cancelled.status is JobStatus.CANCELLED
    assert steps == [1, 2]
    assert not storage.exists(f"{job.id}.mp4")


class CountingBackend(TestPatternBackend):
    """Counts how often each prompt is generated, across worker threads."""

    def __init__(self, counter: dict[str, int], lock: threading.Lock) -> None:
        self.counter, self.lock = counter, lock

    def generate(
        self, request: GenerationRequest, progress: ProgressCallback, images: ImageInput = NO_IMAGES
    ) -> Clip:
        with self.lock:
            self.counter[request.prompt] = self.counter.get(request.prompt, 0) + 1
        return super().generate(request, progress, images)


def test_two_workers_share_a_queue_without_running_a_job_twice(
    store: SQLiteJobStore, storage: LocalStorage, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, workers=2, poll_interval_seconds=0.01)
    runs: dict[str, int] = {}
    lock = threading.Lock()
    jobs = [
        store.create(REQUEST.model_copy(update={"prompt": f"job {i}", "duration": 5}))
        for i in range(8)
    ]
    pool = WorkerPool(store, storage, lambda: CountingBackend(runs, lock), settings)
    pool.start()
    try:
        for _ in range(600):
            states = [store.get(job.id) for job in jobs]
            if all(s is not None and s.status.is_terminal for s in states):
                break
            threading.Event().wait(0.1)
    finally:
        pool.stop()
    finished = [store.get(job.id) for job in jobs]
    assert all(j is not None and j.status is JobStatus.COMPLETED for j in finished)
    assert all(j is not None and j.attempts == 1 for j in finished)
    assert runs == {f"job {i}": 1 for i in range(8)}
    assert {j.worker_id for j in finished if j} == {w.worker_id for w in pool.workers}


class FlakyStore(SQLiteJobStore):
    """A real store whose first claim fails, as a locked or full disk would."""

    failures = 1

    def claim(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if self.failures:
            self.failures -= 1
            raise OSError("disk I/O error")
        return super().claim(*args, **kwargs)  # type: ignore[arg-type]


def test_the_worker_loop_survives_a_store_error(storage: LocalStorage, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, poll_interval_seconds=0.01)
    store = FlakyStore(tmp_path / "flaky.db")
    job = store.create(REQUEST)
    stop = threading.Event()
    worker = make_worker(store, storage, settings, TestPatternBackend())
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    try:
        for _ in range(300):
            done = store.get(job.id)
            if done is not None and done.status is JobStatus.COMPLETED:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join()
    assert store.failures == 0
    assert done is not None and done.status is JobStatus.COMPLETED
