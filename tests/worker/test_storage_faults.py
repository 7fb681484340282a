"""A storage or scratch fault under a running job is the infrastructure's: the job goes back
to the queue uncounted, the worker claims nothing until storage passes a probe, and the job
completes once storage is back. Real store, real folders made unwritable with `chattr +i`,
the real encoder."""

from __future__ import annotations

import errno
import os
import threading
import time
from pathlib import Path

import pytest

from clipforge.backends.testpattern import TestPatternBackend
from clipforge.files.local import LocalStorage
from clipforge.schemas import JobStatus
from clipforge.settings import Settings
from clipforge.store import SQLiteJobStore
from clipforge.worker.runner import Worker
from clipforge.worker.scratch import scratch_root
from tests.files.immutable import require_chattr, unwritable
from tests.worker.test_runner import REQUEST, ScriptedBackend


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    require_chattr(tmp_path)
    return Settings(data_dir=tmp_path, heartbeat_seconds=0.05, lease_seconds=5, max_attempts=1)


@pytest.fixture
def store(settings: Settings) -> SQLiteJobStore:
    return SQLiteJobStore(settings.data_dir / "jobs.db", max_attempts=settings.max_attempts)


@pytest.fixture
def storage(settings: Settings) -> LocalStorage:
    folder = settings.videos_dir
    return LocalStorage(folder, secret=b"k", public_base_url="http://x", ttl_seconds=60)


def test_unwritable_storage_gives_the_job_back_and_pauses_until_it_is_back(
    store: SQLiteJobStore, storage: LocalStorage, settings: Settings
) -> None:
    jobs = [store.create(REQUEST) for _ in range(3)]
    worker = Worker(store, storage, TestPatternBackend, settings, "host:1:boot:0")
    with unwritable(storage.root):
        assert worker.run_once()
        first = store.get(jobs[0].id)
        assert first is not None and (first.status, first.attempts) == (JobStatus.QUEUED, 0)
        assert not worker.health.healthy and worker.health.given_back == 1
        assert 0.5 < worker.health.wait_before_claim() <= 1.0  # paused: no probe yet
        time.sleep(1.1)  # the first probe is due, and fails: the pause doubles
        assert worker.health.wait_before_claim() > 1.0 and not worker.health.healthy
    assert os.listdir(storage.root) == []
    stop = threading.Event()
    runner = threading.Thread(target=worker.run, args=(stop,))
    runner.start()
    try:
        deadline = time.monotonic() + 60
        while not all(_status(store, job.id) is JobStatus.COMPLETED for job in jobs):
            assert time.monotonic() < deadline, [store.get(job.id) for job in jobs]
            time.sleep(0.1)
    finally:
        stop.set()
        runner.join(30)
    assert worker.health.healthy
    assert [_attempts(store, job.id) for job in jobs] == [1, 1, 1]


def test_unwritable_scratch_gives_the_job_back(
    store: SQLiteJobStore, storage: LocalStorage, settings: Settings
) -> None:
    job = store.create(REQUEST)
    scratch_root(settings.data_dir).mkdir()
    worker = Worker(store, storage, TestPatternBackend, settings, "host:1:boot:0")
    with unwritable(scratch_root(settings.data_dir)):
        assert worker.run_once()
        assert _status(store, job.id) is JobStatus.QUEUED and not worker.health.healthy
    time.sleep(1.1)
    assert worker.health.wait_before_claim() == 0 and worker.run_once()
    assert _status(store, job.id) is JobStatus.COMPLETED


def test_a_full_disk_under_the_backend_is_not_the_jobs_fault(
    store: SQLiteJobStore, storage: LocalStorage, settings: Settings
) -> None:
    """ENOSPC from anywhere in the job (here the backend's own cache) gives it back."""
    job = store.create(REQUEST)

    def full(step: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(settings.data_dir / "cache"))

    worker = Worker(store, storage, lambda: ScriptedBackend(full), settings, "host:1:boot:0")
    assert worker.run_once()
    back = store.get(job.id)
    assert back is not None and (back.status, back.error_message) == (JobStatus.QUEUED, None)


def test_a_job_message_never_carries_a_server_path(
    store: SQLiteJobStore, storage: LocalStorage, settings: Settings
) -> None:
    job = store.create(REQUEST)

    def broken(step: int) -> None:
        raise RuntimeError(f"cannot read {settings.data_dir.resolve()}/models/x.bin or /opt/w")

    worker = Worker(store, storage, lambda: ScriptedBackend(broken), settings, "host:1:boot:0")
    assert worker.run_once()
    failed = store.get(job.id)
    assert failed is not None and failed.status is JobStatus.ERROR
    assert failed.error_message == "RuntimeError: cannot read <data_dir>/models/x.bin or <path>"


def _status(store: SQLiteJobStore, job_id: str) -> JobStatus:
    job = store.get(job_id)
    assert job is not None
    return job.status


def _attempts(store: SQLiteJobStore, job_id: str) -> int:
    job = store.get(job_id)
    assert job is not None
    return job.attempts
