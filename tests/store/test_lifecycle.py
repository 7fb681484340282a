"""The job lifecycle on a real store: transitions, fencing, attempts, recovery, cancel."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from clipforge.schemas import Job, JobResult, JobStatus
from clipforge.store import Claim, JobStore
from clipforge.store.base import JobExtras
from tests.store.conftest import Engine, MakeStore
from tests.store.support import FakeClock, request

LEASE = 30.0
RESULT = JobResult("job.mp4", "testpattern", {"encode_s": 0.5, "total_s": 2.25})


def claim_one(store: JobStore, worker_id: str = "w1") -> Claim:
    claim = store.claim(worker_id, LEASE)
    assert claim is not None
    return claim


def current(store: JobStore, job_id: str) -> Job:
    job = store.get(job_id)
    assert job is not None
    return job


def test_a_job_goes_from_queued_to_completed(store: JobStore, clock: FakeClock) -> None:
    job = store.create(request())
    assert (job.status, job.attempts, job.created_at) == (JobStatus.QUEUED, 0, clock.now)
    assert current(store, job.id) == job
    assert store.queue_position(job.id) == 0

    started = clock.advance(1)
    claim = claim_one(store, "w1")
    assert (claim.worker_id, claim.attempt, claim.job.id) == ("w1", 1, job.id)
    running = current(store, job.id)
    assert claim.job == running
    assert (running.status, running.attempts, running.worker_id) == (
        JobStatus.GENERATING,
        1,
        "w1",
    )
    assert (running.started_at, running.lease_expires_at) == (started, started + LEASE)
    assert store.queue_position(job.id) is None
    assert store.running_worker_ids() == ["w1"]

    assert store.record_progress(claim, 3, 8)
    assert (current(store, job.id).progress_step, current(store, job.id).progress_total) == (3, 8)
    beat = clock.advance(10)
    assert store.heartbeat(claim, LEASE)
    assert current(store, job.id).lease_expires_at == beat + LEASE

    finished = clock.advance(5)
    assert store.complete(claim, RESULT)
    done = current(store, job.id)
    assert done.status is JobStatus.COMPLETED
    assert (done.video_key, done.backend, done.timings) == (
        RESULT.video_key,
        RESULT.backend,
        RESULT.timings,
    )
    assert (done.progress_step, done.progress_total) == (8, 8)
    assert (done.started_at, done.finished_at, done.updated_at) == (started, finished, finished)
    assert (done.attempts, done.worker_id, done.lease_expires_at) == (1, "w1", None)
    assert (done.error_name, done.error_message) == (None, None)
    assert not store.is_cancelled(job.id)
    assert store.running_worker_ids() == []
    assert store.claim("w2", LEASE) is None


def test_fail_ends_the_job_in_error_with_its_message(store: JobStore, clock: FakeClock) -> None:
    job = store.create(request())
    claim = claim_one(store)
    finished = clock.advance(2)
    assert store.fail(claim, "GenerationError", "the model refused: ünïcode")
    failed = current(store, job.id)
    assert failed.status is JobStatus.ERROR
    assert (failed.error_name, failed.error_message) == (
        "GenerationError",
        "the model refused: ünïcode",
    )
    assert (failed.finished_at, failed.lease_expires_at, failed.video_key) == (finished, None, None)


def _completed(store: JobStore) -> Claim:
    claim = claim_one(store)
    assert store.complete(claim, RESULT)
    return claim


def _failed(store: JobStore) -> Claim:
    claim = claim_one(store)
    assert store.fail(claim, "GenerationError", "boom")
    return claim


def _cancelled_while_running(store: JobStore) -> Claim:
    claim = claim_one(store)
    assert store.cancel(claim.job.id) is not None
    return claim


def _released(store: JobStore) -> Claim:
    claim = claim_one(store)
    assert store.release(claim)
    return claim


def _forged_on_queued(store: JobStore) -> Claim:
    job = store.list_jobs()[0]
    return Claim(job, "w1", 1)


def _wrong_worker(store: JobStore) -> Claim:
    claim = claim_one(store, "w1")
    return Claim(claim.job, "w2", claim.attempt)


def _wrong_attempt(store: JobStore) -> Claim:
    claim = claim_one(store, "w1")
    return Claim(claim.job, "w1", claim.attempt + 1)


SETUPS: dict[str, Callable[[JobStore], Claim]] = {
    "queued": _forged_on_queued,
    "completed": _completed,
    "failed": _failed,
    "cancelled": _cancelled_while_running,
    "released": _released,
    "other-worker": _wrong_worker,
    "other-attempt": _wrong_attempt,
}
WRITES: dict[str, Callable[[JobStore, Claim], bool]] = {
    "complete": lambda store, claim: store.complete(claim, RESULT),
    "fail": lambda store, claim: store.fail(claim, "GenerationError", "late"),
    "progress": lambda store, claim: store.record_progress(claim, 1, 2),
    "heartbeat": lambda store, claim: store.heartbeat(claim, LEASE),
    "release": lambda store, claim: store.release(claim),
}


@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize("setup", SETUPS)
def test_a_write_without_a_valid_claim_is_refused_and_changes_nothing(
    store: JobStore, clock: FakeClock, setup: str, write: str
) -> None:
    job = store.create(request())
    claim = SETUPS[setup](store)
    before = current(store, job.id)
    clock.advance(1)
    assert WRITES[write](store, claim) is False
    assert current(store, job.id) == before
    assert not store.claim_is_valid(claim)


def test_terminal_jobs_are_never_claimed_again(store: JobStore, clock: FakeClock) -> None:
    for setup in (_completed, _failed, _cancelled_while_running):
        store.create(request())
        setup(store)
    clock.advance(10 * LEASE)
    assert store.claim("w9", LEASE) is None
    assert {job.status for job in store.list_jobs()} == {
        JobStatus.COMPLETED,
        JobStatus.ERROR,
        JobStatus.CANCELLED,
    }


def test_a_claim_taken_over_after_its_lease_expired_is_fenced_off(
    store: JobStore, clock: FakeClock
) -> None:
    job = store.create(request())
    first = claim_one(store, "w1")
    assert store.record_progress(first, 5, 8)
    assert store.claim("w2", LEASE) is None  # the lease still runs
    clock.advance(LEASE)
    second = claim_one(store, "w2")
    assert (second.job.id, second.attempt) == (job.id, 2)
    retried = current(store, job.id)
    assert (retried.progress_step, retried.progress_total) == (0, 0)
    assert store.claim_is_valid(second) and not store.claim_is_valid(first)

    assert not store.record_progress(first, 6, 8)
    assert not store.heartbeat(first, LEASE)
    assert not store.complete(first, JobResult("stale.mp4", "old"))
    assert not store.fail(first, "GenerationError", "stale")
    assert not store.release(first)
    assert current(store, job.id) == retried

    assert store.record_progress(second, 8, 8)
    assert store.complete(second, RESULT)
    done = current(store, job.id)
    assert (done.status, done.attempts, done.worker_id) == (JobStatus.COMPLETED, 2, "w2")
    assert (done.error_name, done.error_message, done.video_key) == (None, None, "job.mp4")


def test_a_retry_keeps_no_trace_of_a_failed_attempt_but_its_count(
    make_store: MakeStore, clock: FakeClock
) -> None:
    store = make_store(max_attempts=3)
    job = store.create(request())
    first_start = clock.now
    first = claim_one(store, "w1")
    store.record_progress(first, 2, 4)
    clock.advance(LEASE + 1)
    second = claim_one(store, "w2")
    again = current(store, job.id)
    assert second.job == again
    assert again.started_at == first_start
    assert (again.progress_step, again.progress_total, again.error_name) == (0, 0, None)
    assert (again.error_message, again.video_key, again.backend, again.timings) == (
        None,
        None,
        None,
        {},
    )


def test_an_expired_lease_alone_does_not_void_the_claim(store: JobStore, clock: FakeClock) -> None:
    job = store.create(request())
    claim = claim_one(store)
    clock.advance(LEASE * 3)
    assert store.heartbeat(claim, LEASE)
    assert store.claim("w2", LEASE) is None
    assert store.complete(claim, RESULT)
    assert current(store, job.id).attempts == 1


def test_a_job_whose_worker_keeps_vanishing_ends_in_worker_lost(
    make_store: MakeStore, clock: FakeClock
) -> None:
    store = make_store(max_attempts=2)
    doomed = store.create(request("doomed"))
    clock.advance(1)
    healthy = store.create(request("healthy"))
    assert claim_one(store, "w1").job.id == doomed.id
    clock.advance(LEASE)
    assert claim_one(store, "w2").attempt == 2
    clock.advance(LEASE)

    taken = claim_one(store, "w3")
    assert taken.job.id == healthy.id  # the search went on past the lost job
    lost = current(store, doomed.id)
    assert (lost.status, lost.attempts, lost.error_name) == (JobStatus.ERROR, 2, "WorkerLost")
    assert lost.error_message is not None and "2 times" in lost.error_message
    assert lost.finished_at == clock.now
    assert store.claim("w4", LEASE) is None


def test_recover_requeues_the_jobs_of_dead_workers_only(store: JobStore, clock: FakeClock) -> None:
    orphan = store.create(request("orphan"))
    clock.advance(1)
    alive = store.create(request("alive"))
    dead_claim = claim_one(store, "host:1:dead:0")
    store.record_progress(dead_claim, 3, 4)
    live_claim = claim_one(store, "host:2:live:0")
    assert sorted(store.running_worker_ids()) == ["host:1:dead:0", "host:2:live:0"]

    assert store.recover([]) == 0
    assert store.recover(["host:9:none:0"]) == 0
    assert store.recover(["host:1:dead:0"]) == 1
    back = current(store, orphan.id)
    assert (back.status, back.attempts, back.worker_id, back.lease_expires_at) == (
        JobStatus.QUEUED,
        1,
        None,
        None,
    )
    assert (back.progress_step, back.progress_total) == (0, 0)
    assert store.queue_position(orphan.id) == 0
    assert not store.record_progress(dead_claim, 4, 4)
    assert current(store, alive.id) == live_claim.job
    assert store.running_worker_ids() == ["host:2:live:0"]

    retry = claim_one(store, "host:2:live:1")
    assert (retry.job.id, retry.attempt) == (orphan.id, 2)


def test_recover_on_the_last_attempt_ends_the_job_in_error(
    make_store: MakeStore,
) -> None:
    store = make_store(max_attempts=1)
    job = store.create(request())
    claim_one(store, "dead")
    assert store.recover(["dead"]) == 1
    lost = current(store, job.id)
    assert (lost.status, lost.error_name) == (JobStatus.ERROR, "WorkerLost")
    assert store.claim("w2", LEASE) is None


def test_release_gives_the_job_back_and_counts_the_attempt(
    make_store: MakeStore, clock: FakeClock
) -> None:
    store = make_store(max_attempts=2)
    job = store.create(request())
    first = claim_one(store, "w1")
    store.record_progress(first, 1, 4)
    assert store.release(first)
    back = current(store, job.id)
    assert (back.status, back.attempts, back.worker_id, back.progress_step) == (
        JobStatus.QUEUED,
        1,
        None,
        0,
    )
    assert store.queue_position(job.id) == 0

    second = claim_one(store, "w1")
    assert second.attempt == 2
    assert store.release(second)
    lost = current(store, job.id)
    assert (lost.status, lost.error_name) == (JobStatus.ERROR, "WorkerLost")
    assert store.claim("w1", LEASE) is None


def test_give_back_returns_the_job_without_using_up_its_attempts(make_store: MakeStore) -> None:
    """A storage fault is the infrastructure's: given back any number of times, the job is
    queued again with its attempt uncounted, and a stale claim writes nothing."""
    store = make_store(max_attempts=2)
    job = store.create(request())
    for _ in range(5):
        claim = claim_one(store, "w1")
        assert claim.attempt == 1
        store.record_progress(claim, 1, 4)
        assert store.give_back(claim)
        back = current(store, job.id)
        assert (back.status, back.attempts, back.worker_id, back.progress_step) == (
            JobStatus.QUEUED,
            0,
            None,
            0,
        )
        assert not store.give_back(claim) and not store.complete(claim, RESULT)
    last = claim_one(store, "w2")
    assert store.complete(last, RESULT)
    assert current(store, job.id).status is JobStatus.COMPLETED


def test_cancel_a_queued_job_at_once(store: JobStore, clock: FakeClock) -> None:
    job = store.create(request())
    when = clock.advance(3)
    cancelled = store.cancel(job.id)
    assert cancelled is not None and cancelled == current(store, job.id)
    assert (cancelled.status, cancelled.finished_at) == (JobStatus.CANCELLED, when)
    assert store.is_cancelled(job.id)
    assert store.queue_position(job.id) is None
    assert store.claim("w1", LEASE) is None


def test_cancel_a_running_job_stops_its_worker(store: JobStore, clock: FakeClock) -> None:
    job = store.create(request())
    claim = claim_one(store)
    assert store.record_progress(claim, 1, 4)
    assert not store.is_cancelled(job.id)
    cancelled = store.cancel(job.id)
    assert cancelled is not None and cancelled.status is JobStatus.CANCELLED
    assert store.is_cancelled(job.id)
    assert not store.record_progress(claim, 2, 4)
    assert not store.heartbeat(claim, LEASE)
    assert not store.complete(claim, RESULT)
    after = current(store, job.id)
    assert after == cancelled and after.progress_step == 1 and after.video_key is None
    clock.advance(LEASE * 2)
    assert store.claim("w2", LEASE) is None
    assert store.recover(["w1"]) == 0


@pytest.mark.parametrize("setup", [_completed, _failed, _cancelled_while_running])
def test_cancel_leaves_a_finished_job_as_it_is(
    store: JobStore, clock: FakeClock, setup: Callable[[JobStore], Claim]
) -> None:
    job = store.create(request())
    setup(store)
    before = current(store, job.id)
    clock.advance(1)
    assert store.cancel(job.id) == before
    assert current(store, job.id) == before


def test_queue_position_counts_older_queued_jobs(store: JobStore, clock: FakeClock) -> None:
    jobs = []
    for i in range(4):
        jobs.append(store.create(request(f"job {i}")))
        clock.advance(1)
    assert [store.queue_position(j.id) for j in jobs] == [0, 1, 2, 3]
    claim_one(store)
    store.cancel(jobs[2].id)
    assert [store.queue_position(j.id) for j in jobs] == [None, 0, None, 1]


def test_jobs_created_at_the_same_instant_queue_by_id(store: JobStore) -> None:
    jobs = [store.create(request(f"job {i}")) for i in range(5)]
    by_id = sorted(jobs, key=lambda job: job.id)
    assert [store.queue_position(job.id) for job in by_id] == [0, 1, 2, 3, 4]
    assert claim_one(store).job.id == by_id[0].id


def test_claim_takes_the_oldest_claimable_job(store: JobStore, clock: FakeClock) -> None:
    old = store.create(request("old"))
    clock.advance(1)
    new = store.create(request("new"))
    assert claim_one(store, "w1").job.id == old.id
    clock.advance(LEASE)
    younger = store.create(request("younger"))
    # the expired job is older than every queued one, so it goes first
    order = [claim_one(store, worker).job.id for worker in ("w2", "w3", "w4")]
    assert order == [old.id, new.id, younger.id]
    assert store.claim("w5", LEASE) is None


def test_claim_can_be_limited_to_some_models(store: JobStore, clock: FakeClock) -> None:
    pro = store.create(request(model="bytedance/seedance-1-0-pro-t2v"))
    clock.advance(1)
    lite = store.create(request(model="bytedance/seedance-1-0-lite-t2v"))
    assert store.claim("w1", LEASE, models=[]) is None
    assert store.claim("w1", LEASE, models=["other/model"]) is None
    taken = store.claim("w1", LEASE, models=["bytedance/seedance-1-0-lite-t2v"])
    assert taken is not None and taken.job.id == lite.id
    taken = store.claim("w1", LEASE, models="bytedance/seedance-1-0-pro-t2v")
    assert taken is not None and taken.job.id == pro.id


def test_list_jobs_is_newest_first_and_pages(store: JobStore, clock: FakeClock) -> None:
    assert store.list_jobs() == []
    jobs = []
    for i in range(7):
        jobs.append(store.create(request(f"job {i}")))
        clock.advance(1)
    newest = [job.id for job in reversed(jobs)]
    assert [job.id for job in store.list_jobs()] == newest
    assert [job.id for job in store.list_jobs(limit=3)] == newest[:3]
    assert [job.id for job in store.list_jobs(limit=3, offset=3)] == newest[3:6]
    assert [job.id for job in store.list_jobs(limit=3, offset=6)] == newest[6:]
    assert store.list_jobs(offset=7) == []
    assert store.list_jobs(limit=0) == []


UNKNOWN_IDS = [
    "00000000-0000-4000-8000-000000000000",
    "",
    "not-a-uuid",
    "'; DROP TABLE jobs; --",
    "\x00",
    "9" * 500,
]


@pytest.mark.parametrize("job_id", UNKNOWN_IDS)
def test_unknown_and_malformed_ids_find_nothing(store: JobStore, job_id: str) -> None:
    known = store.create(request())
    assert store.get(job_id) is None
    assert store.cancel(job_id) is None
    assert store.is_cancelled(job_id) is False
    assert store.queue_position(job_id) is None
    assert store.get(known.id) == known
    assert store.get(known.id.upper()) is None  # ids are exact strings


def test_the_request_round_trips_with_every_field(store: JobStore) -> None:
    sent = request(
        "Ein Fuchs 🦊 läuft über verschneite Felder, 夕焼け, \"quoted\" \\ and 'single'",
        model="bytedance/seedance-1-0-lite-i2v",
        resolution="720p",
        aspect_ratio="9:21",
        duration=10,
        watermark=True,
        seed=2**32 - 1,
        camera_fixed=True,
        image_url="https://example.com/first frame.png?a=1&b=2",
        last_image_url="data:image/png;base64,iVBORw0KGgo=",
    )
    job = store.create(sent)
    assert current(store, job.id).request == sent
    assert store.list_jobs()[0].request == sent
    claim = claim_one(store)
    assert claim.job.request == sent
    assert claim.job.request.model_dump() == sent.model_dump()


def test_arguments_out_of_range_are_refused(store: JobStore) -> None:
    store.create(request())
    with pytest.raises(ValueError):
        store.claim("w1", 0)
    claim = claim_one(store)
    with pytest.raises(ValueError):
        store.heartbeat(claim, -1)
    with pytest.raises(ValueError):
        store.record_progress(claim, 5, 4)
    with pytest.raises(ValueError):
        store.list_jobs(limit=-1)
    assert store.claim_is_valid(claim)


def test_jobs_survive_reopening_the_database(engine: Engine, make_store: MakeStore) -> None:
    url = engine.new_url()
    first = make_store(url)
    job = first.create(request("kept"))
    claim = claim_one(first)
    first.close()
    second = make_store(url)
    assert second.get(job.id) == claim.job
    assert second.complete(claim, RESULT)
    assert current(second, job.id).status is JobStatus.COMPLETED


def test_a_job_keeps_the_surface_it_came_through(store: JobStore) -> None:
    job = store.create(request(), JobExtras(surface="ark"))
    assert job.surface == "ark" and current(store, job.id) == job
    assert current(store, store.create(request()).id).surface == ""  # no surface: empty
