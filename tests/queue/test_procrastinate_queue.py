"""The queue interface on procrastinate, against a real PostgreSQL (no worker process here:
tests/fault runs real workers)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from clipforge.queue import queue_name
from clipforge.queue.procrastinate_queue import SETTLE_SECONDS, TASK, ProcrastinateQueue
from clipforge.schemas import JobStatus
from clipforge.store.postgres import PostgresJobStore
from tests.postgres import PostgresCluster
from tests.store.support import FakeClock, request

MODEL = "bytedance/seedance-1-0-lite-t2v"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(time.time())


@pytest.fixture
def queue(postgres: PostgresCluster, clock: FakeClock) -> Iterator[ProcrastinateQueue]:
    store = PostgresJobStore(postgres.new_database(), clock=clock)
    queue = ProcrastinateQueue(store, lease_seconds=30, stalled_after=30)
    yield queue
    queue.close()
    store.close()


def _waiting(queue: ProcrastinateQueue) -> list[tuple[str, str]]:
    tasks = queue.app.job_manager.list_jobs(task=TASK, status="todo")
    return sorted((str(t.task_kwargs["job_id"]), t.queue) for t in tasks)


def test_enqueue_puts_one_task_on_the_models_queue_however_often_it_is_called(
    queue: ProcrastinateQueue,
) -> None:
    job = queue.store.create(request(model=MODEL))
    queue.enqueue(job)
    queue.enqueue(job)
    assert _waiting(queue) == [(job.id, queue_name(MODEL))]


def test_the_store_enqueues_each_new_job_after_its_insert(queue: ProcrastinateQueue) -> None:
    queue.store.on_created = queue.enqueue
    job = queue.store.create(request(model=MODEL))
    assert _waiting(queue) == [(job.id, queue_name(MODEL))]


def test_recover_stalled_gives_a_task_to_every_claimable_job_without_one(
    queue: ProcrastinateQueue, clock: FakeClock
) -> None:
    store = queue.store
    orphan = store.create(request("the API died before enqueueing it", model=MODEL))
    carried = store.create(request("has its task", model=MODEL))
    queue.enqueue(carried)
    running = store.create(request("held on a live lease", model=MODEL))
    assert queue.claim(running.id, "w1") is not None
    done = store.create(request("finished", model=MODEL))
    claim = queue.claim(done.id, "w1")
    assert claim is not None and store.fail(claim, "GenerationError", "boom")
    assert queue.recover_stalled() == 0  # too fresh: the API's own enqueue follows its insert
    clock.advance(SETTLE_SECONDS + 1)
    assert queue.recover_stalled() == 1
    assert {job_id for job_id, _ in _waiting(queue)} == {orphan.id, carried.id}
    assert queue.recover_stalled() == 0  # idempotent


def test_a_job_on_an_expired_lease_gets_a_task_again(
    postgres: PostgresCluster, clock: FakeClock
) -> None:
    store = PostgresJobStore(postgres.new_database(), clock=clock)
    queue = ProcrastinateQueue(store, lease_seconds=5, stalled_after=30)
    try:
        job = store.create(request(model=MODEL))
        claim = queue.claim(job.id, "killed-worker")
        clock.advance(SETTLE_SECONDS + 1)
        assert claim is not None and queue.recover_stalled() == 0  # lease still live
        clock.advance(5)  # the lease ran out
        assert queue.recover_stalled() == 1
        second = queue.claim(job.id, "w2")
        assert second is not None and second.attempt == 2
        assert not queue.store.complete(claim, _result(job.id))  # the fence holds
    finally:
        queue.close()
        store.close()


def test_request_abort_cancels_the_job_its_waiting_task_and_the_running_claim(
    queue: ProcrastinateQueue,
) -> None:
    waiting = queue.store.create(request(model=MODEL))
    queue.enqueue(waiting)
    running = queue.store.create(request(model=MODEL))
    claim = queue.claim(running.id, "w1")
    assert claim is not None and not queue.check_abort(claim) and queue.heartbeat(claim)
    assert queue.request_abort(waiting.id).status is JobStatus.CANCELLED  # type: ignore[union-attr]
    assert _waiting(queue) == []
    queue.request_abort(running.id)
    assert queue.check_abort(claim) and not queue.heartbeat(claim)


def _result(job_id: str):  # type: ignore[no-untyped-def]
    from clipforge.schemas import JobResult

    return JobResult(f"{job_id}.mp4", "testpattern")


def test_tasks_run_jobs_in_the_stores_fair_order_not_oldest_task_first(
    queue: ProcrastinateQueue, clock: FakeClock
) -> None:
    from clipforge.store.base import JobExtras

    queue.store.on_created = queue.enqueue
    backlog = []
    for n in range(6):
        backlog.append(queue.store.create(request(f"a {n}", model=MODEL), JobExtras("key-a")).id)
        clock.advance(0.01)
    second = queue.store.create(request("b", model=MODEL), JobExtras("key-b")).id
    # procrastinate hands tasks out by priority, then oldest first: every one of the backlog's
    # tasks comes before the second key's.
    tasks = queue.app.job_manager.list_jobs(task=TASK, status="todo")
    named = [str(t.task_kwargs["job_id"]) for t in sorted(tasks, key=lambda t: t.id or 0)]
    assert named == [*backlog, second]

    ran = [queue.claim_turn(job_id, "w1") for job_id in named]

    assert [claim.job.id if claim else None for claim in ran] == [
        backlog[0],
        second,
        *backlog[1:],
    ]
