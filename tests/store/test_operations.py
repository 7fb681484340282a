"""What the store keeps for operators, on both engines: each ending reported once, the
workers' presence, and the queue's shape."""

from __future__ import annotations

from clipforge.schemas import Job, JobResult, JobStatus
from clipforge.store import JobStore
from clipforge.store.base import JobExtras
from clipforge.store.filters import EXPIRED
from clipforge.store.presence import WorkerPresence
from tests.store.conftest import MakeStore
from tests.store.support import FakeClock, request

LEASE = 30.0
RESULT = JobResult("job.mp4", "testpattern", {"denoise_s": 1.0})


def test_every_ending_is_reported_once(make_store: MakeStore, clock: FakeClock) -> None:
    store = make_store(max_attempts=1)
    ended: list[Job] = []
    store.on_finished = ended.append
    jobs = []
    for number in range(4):  # in this order in the queue
        jobs.append(store.create(request(f"job {number}")))
        clock.advance(1)
    done, failed, cancelled, lost = jobs
    for job in (done, failed):
        claim = store.claim("w1", LEASE, models=None)
        assert claim is not None and claim.job.id == job.id
        if job is done:
            assert store.complete(claim, RESULT)
            assert not store.complete(claim, RESULT)  # a second write is fenced off: no report
        else:
            assert store.fail(claim, "GenerationError", "boom")
    store.cancel(cancelled.id)
    store.cancel(cancelled.id)  # already cancelled: nothing ends twice
    assert store.claim("w2", LEASE) is not None  # `lost` runs, then its worker goes silent
    clock.advance(LEASE + 1)
    assert store.claim("w3", LEASE) is None  # out of attempts: it ends WorkerLost instead
    soon = store.create(request("soon"), JobExtras(expires_after=5))
    clock.advance(10)
    store.expire_due()
    assert [(j.id, j.status, j.error_name) for j in ended] == [
        (done.id, JobStatus.COMPLETED, None),
        (failed.id, JobStatus.ERROR, "GenerationError"),
        (cancelled.id, JobStatus.CANCELLED, None),
        (lost.id, JobStatus.ERROR, "WorkerLost"),
        (soon.id, JobStatus.ERROR, EXPIRED),
    ]
    assert ended[0].timings == RESULT.timings and ended[0].finished_at is not None


def test_workers_report_themselves_and_go(store: JobStore, clock: FakeClock) -> None:
    seen = WorkerPresence(
        "w1",
        clock.now,
        busy=True,
        model="wan",
        device="cuda:0",
        memory_in_use=5,
        memory_peak=9,
        adapters={"style": None, "broken": "no file at /x"},  # its LoRA adapters (docs/LORA.md)
    )
    store.report_worker(seen)
    store.report_worker(WorkerPresence("w2", clock.now - 100))
    assert store.workers_seen_since(clock.now - 10) == [seen]
    assert seen.failed_adapters == {"broken": "no file at /x"}
    idle = WorkerPresence("w1", clock.now + 1)
    store.report_worker(idle)  # the same worker again: one row, the latest state
    assert store.workers_seen_since(clock.now - 10) == [idle]
    store.remove_worker("w1")
    assert store.workers_seen_since(0) == [WorkerPresence("w2", clock.now - 100)]


def test_the_queue_shape_per_model(store: JobStore, clock: FakeClock) -> None:
    assert store.queue_shape() == []
    first = store.create(request(model="bytedance/seedance-1-0-lite-t2v"))
    clock.advance(5)
    store.create(request(model="bytedance/seedance-1-0-lite-t2v"))
    store.create(request(model="bytedance/seedance-1-0-pro-t2v"))
    store.claim("w1", LEASE, models=["bytedance/seedance-1-0-pro-t2v"])  # running: not queued
    shape = {s.model: (s.depth, s.oldest_created_at) for s in store.queue_shape()}
    assert shape == {"bytedance/seedance-1-0-lite-t2v": (2, first.created_at)}
