"""Listing with filters, counting and deleting, done by the engine (every engine)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from clipforge.schemas import JobResult, JobStatus
from clipforge.store import JobStore, SQLiteJobStore
from clipforge.store.base import IdempotencyKey, JobExtras
from clipforge.store.filters import EXPIRED, JobFilter
from clipforge.store.schema import MIGRATIONS
from tests.store.support import FakeClock, request

LITE = "bytedance/seedance-1-0-lite-t2v"


def test_filters_by_status_ids_model_and_owner_with_counts(
    store: JobStore, clock: FakeClock
) -> None:
    jobs = []
    for n in range(6):
        model = LITE if n % 2 else "bytedance/seedance-1-0-pro-t2v"
        jobs.append(store.create(request(f"job {n}", model=model), JobExtras(owner=f"key{n % 3}")))
        clock.advance(1)
    ids = [job.id for job in jobs]
    store.cancel(ids[0])
    claim = store.claim("w1", 30.0)
    assert claim is not None and claim.job.id == ids[1]

    queued = JobFilter(statuses=(JobStatus.QUEUED,))
    assert [job.id for job in store.list_jobs(where=queued)] == ids[:1:-1]
    assert store.count_jobs(queued) == 4
    assert store.count_jobs() == 6
    by_ids = JobFilter(ids=(ids[0], ids[3], "not-an-id"))
    assert [job.id for job in store.list_jobs(where=by_ids)] == [ids[3], ids[0]]
    assert store.count_jobs(JobFilter(ids=())) == 0
    lite = JobFilter(model=LITE)
    assert [job.id for job in store.list_jobs(where=lite)] == [ids[5], ids[3], ids[1]]
    both = JobFilter(model=LITE, statuses=(JobStatus.QUEUED,))
    assert [job.id for job in store.list_jobs(where=both, limit=1, offset=1)] == [ids[3]]
    assert store.count_jobs(both) == 2
    assert store.count_jobs(JobFilter(owner="key0", statuses=(JobStatus.QUEUED,))) == 1


def test_the_client_model_is_what_model_filters_match(store: JobStore) -> None:
    ark = store.create(request(client_model="seedance-1-0-pro-250528"))
    store.create(request())
    found = store.list_jobs(where=JobFilter(model="seedance-1-0-pro-250528"))
    assert [job.id for job in found] == [ark.id]


def test_expired_is_told_apart_from_other_errors(store: JobStore) -> None:
    job = store.create(request())
    claim = store.claim("w1", 30.0)
    assert claim is not None
    store.fail(claim, "GenerationError", "boom")
    errors = JobFilter(statuses=(JobStatus.ERROR,), expired=False)
    assert [j.id for j in store.list_jobs(where=errors)] == [job.id]
    assert store.count_jobs(JobFilter(statuses=(JobStatus.ERROR,), expired=True)) == 0
    late = store.create(request("late"), JobExtras(expires_after=0))
    assert [j.id for j in store.expire_due()] == [late.id]
    expired = JobFilter(statuses=(JobStatus.ERROR,), expired=True)
    assert [j.id for j in store.list_jobs(where=expired)] == [late.id]
    assert [j.id for j in store.list_jobs(where=errors)] == [job.id]


def test_delete_removes_finished_jobs_only(store: JobStore, clock: FakeClock) -> None:
    queued = store.create(request("queued"))
    clock.advance(1)
    running = store.create(request("running"))
    clock.advance(1)
    done = store.create(request("done"))
    store.cancel(queued.id)
    first = store.claim("w1", 30.0)
    second = store.claim("w2", 30.0)
    assert first is not None and second is not None and second.job.id == done.id
    store.complete(second, JobResult("done.mp4", "testpattern"))

    assert store.delete(running.id) is None  # generating: cancel it instead
    assert store.get(running.id) is not None
    gone = store.delete(done.id)
    assert gone is not None and gone.video_key == "done.mp4"
    assert store.get(done.id) is None and store.delete(done.id) is None
    cancelled = store.delete(queued.id)
    assert cancelled is not None and cancelled.status is JobStatus.CANCELLED
    assert store.delete("nope") is None
    assert store.count_jobs() == 1


def test_a_version_1_database_is_migrated_and_keeps_its_jobs(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path)) as raw:
        for statement in MIGRATIONS[0]:
            raw.execute(statement)
        raw.execute("PRAGMA user_version = 1")
        old = request(client_model="seedance-1-0-lite-t2v-250428", model=LITE)
        raw.execute(
            "INSERT INTO jobs (id, status, request, model, created_at, updated_at)"
            " VALUES ('00000000-0000-4000-8000-000000000001', 'queued', ?, ?, 1, 1)",
            (old.model_dump_json(), LITE),
        )
        raw.commit()
    with SQLiteJobStore(path) as store:
        found = store.list_jobs(where=JobFilter(model="seedance-1-0-lite-t2v-250428"))
        assert [job.request for job in found] == [old]
        assert store.count_jobs(JobFilter(model=LITE)) == 0


def test_an_idempotency_key_makes_one_job_per_scope(store: JobStore) -> None:
    first, same = store.create_once(
        request("a"), IdempotencyKey("k1", "abc", "fp1"), JobExtras("k1")
    )
    assert same and store.count_jobs(JobFilter(owner="k1")) == 1
    again, same = store.create_once(request("a"), IdempotencyKey("k1", "abc", "fp1"))
    assert same and again == first and store.count_jobs() == 1
    other, same = store.create_once(request("b"), IdempotencyKey("k1", "abc", "fp2"))
    assert not same and other == first and store.count_jobs() == 1
    elsewhere, same = store.create_once(request("a"), IdempotencyKey("k2", "abc", "fp1"))
    assert same and elsewhere.id != first.id and store.count_jobs() == 2


def test_a_deleted_job_frees_its_idempotency_key(store: JobStore) -> None:
    first, _ = store.create_once(request(), IdempotencyKey("k1", "abc", "fp1"))
    store.cancel(first.id)
    assert store.delete(first.id) is not None
    second, same = store.create_once(request(), IdempotencyKey("k1", "abc", "fp1"))
    assert same and second.id != first.id


def test_queued_jobs_expire_at_their_deadline_only(store: JobStore, clock: FakeClock) -> None:
    soon = store.create(request("soon"), JobExtras(expires_after=10))
    later = store.create(request("later"), JobExtras(expires_after=100))
    clock.advance(1)
    forever = store.create(request("forever"))
    clock.advance(9)
    expired = store.expire_due()
    assert [job.id for job in expired] == [soon.id]
    assert (expired[0].status, expired[0].error_name) == (JobStatus.ERROR, EXPIRED)
    assert expired[0].finished_at == clock.now
    claim = store.claim("w1", 30.0)
    assert claim is not None and claim.job.id == later.id  # running: no longer expires
    clock.advance(1000)
    assert store.expire_due() == []
    assert store.count_jobs(JobFilter(statuses=(JobStatus.ERROR,), expired=True)) == 1
    assert current_status(store, forever.id) is JobStatus.QUEUED


def test_files_to_purge_are_finished_old_and_not_yet_purged(
    store: JobStore, clock: FakeClock
) -> None:
    old = store.create(request("old"))
    claim = store.claim("w1", 30.0)
    assert claim is not None
    store.complete(claim, JobResult(f"{old.id}.mp4", "testpattern"))
    cancelled = store.create(request("no video"))
    store.cancel(cancelled.id)
    clock.advance(100)
    assert store.files_to_purge(clock.now - 200) == []
    assert [job.id for job in store.files_to_purge(clock.now - 50)] == [old.id]
    assert store.mark_purged(old.id) and not store.mark_purged("nope")
    assert store.files_to_purge(clock.now) == []
    assert current_status(store, old.id) is JobStatus.COMPLETED


def current_status(store: JobStore, job_id: str) -> JobStatus:
    job = store.get(job_id)
    assert job is not None
    return job.status


def test_a_queued_job_past_its_deadline_is_never_claimed(store: JobStore, clock: FakeClock) -> None:
    late = store.create(request("late"), JobExtras(expires_after=5.0))
    on_time = store.create(request("on time"), JobExtras(expires_after=60.0))
    clock.advance(10)
    claim = store.claim("w1", 30.0)
    assert claim is not None and claim.job.id == on_time.id
    assert store.claim("w2", 30.0) is None
    assert [job.id for job in store.expire_due()] == [late.id]
