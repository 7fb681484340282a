"""Many claimers on one database: threads of one process, and separate processes."""

from __future__ import annotations

import multiprocessing
import queue
import threading
from collections import Counter

from clipforge.schemas import JobStatus
from clipforge.store import JobStore
from tests.store.conftest import Engine, MakeStore
from tests.store.support import FakeClock, drain, request

JOBS = 200


def fill(store: JobStore, clock: FakeClock, count: int = JOBS) -> set[str]:
    ids = set()
    for i in range(count):
        ids.add(store.create(request(f"job {i}")).id)
        clock.advance(0.001)
    return ids


def test_threads_claim_every_job_exactly_once(make_store: MakeStore, clock: FakeClock) -> None:
    store = make_store()
    ids = fill(store, clock)
    start = threading.Barrier(8)
    claimed: list[list[str]] = [[] for _ in range(8)]
    errors: list[BaseException] = []

    def claimer(index: int) -> None:
        try:
            start.wait(30)
            while (claim := store.claim(f"thread-{index}", 60.0)) is not None:
                claimed[index].append(claim.job.id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    counts = Counter(job_id for ids_of_one in claimed for job_id in ids_of_one)
    assert set(counts) == ids
    assert set(counts.values()) == {1}
    jobs = store.list_jobs(limit=JOBS + 1)
    assert {(job.status, job.attempts) for job in jobs} == {(JobStatus.GENERATING, 1)}
    holders = {job.id: job.worker_id for job in jobs}
    assert all(
        holders[job_id] == f"thread-{i}" for i, mine in enumerate(claimed) for job_id in mine
    )


def test_processes_complete_every_job_exactly_once(
    engine: Engine, make_store: MakeStore, clock: FakeClock
) -> None:
    url = engine.new_url()
    store = make_store(url)
    ids = fill(store, clock)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(4)
    results = context.Queue()
    workers = [
        context.Process(target=drain, args=(url, f"proc-{i}", barrier, results)) for i in range(4)
    ]
    for worker in workers:
        worker.start()
    try:
        reports = dict(results.get(timeout=120) for _ in workers)
    except queue.Empty as exc:
        raise AssertionError("a worker process reported nothing") from exc
    finally:
        for worker in workers:
            worker.join(30)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]

    counts = Counter(job_id for done in reports.values() for job_id in done)
    assert set(counts) == ids
    assert set(counts.values()) == {1}
    assert sum(1 for done in reports.values() if done) >= 2, "no process ran beside another"
    jobs = {job.id: job for job in store.list_jobs(limit=JOBS + 1)}
    assert len(jobs) == JOBS
    for worker_id, done in reports.items():
        for job_id in done:
            job = jobs[job_id]
            assert (job.status, job.attempts, job.worker_id) == (
                JobStatus.COMPLETED,
                1,
                worker_id,
            )
            assert job.video_key == f"{job_id}.mp4"
