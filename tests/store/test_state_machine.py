"""The job lifecycle as a Hypothesis state machine, checked against a plain model (habit 5).

The model below is written from the contract in `store/base.py`, not from the store's rules:
it predicts which job each claim takes, which writes pass the fence, and every status.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from clipforge.schemas import Job, JobResult, JobStatus
from clipforge.store import Claim
from tests.store.conftest import Engine, MakeStore
from tests.store.support import FakeClock, request

QUEUED, GENERATING = JobStatus.QUEUED, JobStatus.GENERATING
COMPLETED, ERROR, CANCELLED = JobStatus.COMPLETED, JobStatus.ERROR, JobStatus.CANCELLED
LEASE = 10.0
MAX_ATTEMPTS = 2
TOTAL = 3
MAX_JOBS = 5  # few jobs, so that runs spend their steps moving them along
WORKERS = ("w1", "w2", "w3")
# What one step may do to a job's status (generating -> generating: an expired lease retaken).
ALLOWED = {
    QUEUED: {QUEUED, GENERATING, CANCELLED},
    GENERATING: {GENERATING, QUEUED, COMPLETED, ERROR, CANCELLED},
    COMPLETED: {COMPLETED},
    ERROR: {ERROR},
    CANCELLED: {CANCELLED},
}


@dataclass
class Expected:
    created_at: float
    status: JobStatus = QUEUED
    attempts: int = 0
    worker: str | None = None
    lease_until: float | None = None
    progress: tuple[int, int] = (0, 0)
    error_name: str | None = None

    def held_by(self, claim: Claim) -> bool:
        return (
            self.status is GENERATING
            and self.worker == claim.worker_id
            and self.attempts == claim.attempt
        )

    def give_up_or_requeue(self) -> None:
        if self.attempts >= MAX_ATTEMPTS:
            self.status, self.error_name = ERROR, "WorkerLost"
        else:
            self.status, self.worker, self.progress = QUEUED, None, (0, 0)
        self.lease_until = None


def holds(job: Job, claim: Claim) -> bool:
    return (
        job.status is GENERATING
        and job.worker_id == claim.worker_id
        and job.attempts == claim.attempt
    )


class Lifecycle(RuleBasedStateMachine):
    jobs = Bundle("jobs")
    claims = Bundle("claims")

    def __init__(self, make_store: MakeStore) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.store = make_store(clock=self.clock, max_attempts=MAX_ATTEMPTS)
        self.expected: dict[str, Expected] = {}
        self.seen: dict[str, Job] = {}
        self.handed_out: list[Claim] = []

    def teardown(self) -> None:
        self.store.close()

    @precondition(lambda self: len(self.expected) < MAX_JOBS)
    @rule(target=jobs)
    def create(self) -> str:
        now = self.clock.advance(1)
        job = self.store.create(request(f"job {len(self.expected)}"))
        self.expected[job.id] = Expected(created_at=now)
        return job.id

    @rule(target=claims, worker=st.sampled_from(WORKERS))
    def claim(self, worker: str) -> object:
        wanted = self._take(worker, self.clock.now)
        claim = self.store.claim(worker, LEASE)
        if wanted is None:
            assert claim is None
            return multiple()
        assert claim is not None
        assert (claim.job.id, claim.attempt) == (wanted, self.expected[wanted].attempts)
        self.handed_out.append(claim)
        return claim

    def _take(self, worker: str, now: float) -> str | None:
        for job_id, job in sorted(self.expected.items(), key=lambda e: (e[1].created_at, e[0])):
            lease = job.lease_until
            lapsed = job.status is GENERATING and lease is not None and lease <= now
            if job.status is not QUEUED and not lapsed:
                continue
            if lapsed and job.attempts >= MAX_ATTEMPTS:
                job.give_up_or_requeue()
                continue
            job.status, job.attempts, job.worker = GENERATING, job.attempts + 1, worker
            job.lease_until, job.progress = now + LEASE, (0, 0)
            return job_id
        return None

    @rule(claim=claims, step=st.integers(0, TOTAL))
    def progress(self, claim: Claim, step: int) -> None:
        expected = self.expected[claim.job.id]
        assert self.store.record_progress(claim, step, TOTAL) == expected.held_by(claim)
        if expected.held_by(claim):
            expected.progress = (step, TOTAL)

    @rule(claim=claims)
    def heartbeat(self, claim: Claim) -> None:
        expected = self.expected[claim.job.id]
        assert self.store.heartbeat(claim, LEASE) == expected.held_by(claim)
        if expected.held_by(claim):
            expected.lease_until = self.clock.now + LEASE

    @rule(claim=claims)
    def complete(self, claim: Claim) -> None:
        expected = self.expected[claim.job.id]
        result = JobResult(f"{claim.job.id}.mp4", "model")
        assert self.store.complete(claim, result) == expected.held_by(claim)
        if expected.held_by(claim):
            expected.status, expected.lease_until = COMPLETED, None
            expected.progress = (expected.progress[1], expected.progress[1])

    @rule(claim=claims)
    def fail(self, claim: Claim) -> None:
        expected = self.expected[claim.job.id]
        assert self.store.fail(claim, "GenerationError", "no") == expected.held_by(claim)
        if expected.held_by(claim):
            expected.status, expected.error_name, expected.lease_until = (
                ERROR,
                "GenerationError",
                None,
            )

    @rule(claim=claims)
    def release(self, claim: Claim) -> None:
        expected = self.expected[claim.job.id]
        assert self.store.release(claim) == expected.held_by(claim)
        if expected.held_by(claim):
            expected.give_up_or_requeue()

    @rule(job_id=jobs)
    def cancel(self, job_id: str) -> None:
        expected = self.expected[job_id]
        if expected.status in (QUEUED, GENERATING):
            expected.status, expected.lease_until = CANCELLED, None
        job = self.store.cancel(job_id)
        assert job is not None and job.status is expected.status
        assert self.store.is_cancelled(job_id) == (expected.status is CANCELLED)

    @rule(seconds=st.sampled_from([1.0, LEASE / 2, LEASE]))
    def let_time_pass(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @rule(dead=st.sets(st.sampled_from(WORKERS), max_size=2))
    def recover(self, dead: set[str]) -> None:
        orphans = [e for e in self.expected.values() if e.status is GENERATING and e.worker in dead]
        for expected in orphans:
            expected.give_up_or_requeue()
        assert self.store.recover(sorted(dead)) == len(orphans)

    @invariant()
    def every_job_is_where_the_model_says(self) -> None:
        listed = {job.id: job for job in self.store.list_jobs(limit=100_000)}
        assert set(listed) == set(self.expected)  # nothing lost, nothing invented
        for job_id, job in listed.items():
            self._check_step(self.seen.get(job_id), job)
            self._check_against_model(self.expected[job_id], job)
            valid = [c for c in self.handed_out if c.job.id == job_id and holds(job, c)]
            assert len(valid) <= (1 if job.status is GENERATING else 0)
            self.seen[job_id] = job

    @invariant()
    def queue_positions_follow_creation_order(self) -> None:
        queued = sorted((e.created_at, i) for i, e in self.expected.items() if e.status is QUEUED)
        for position, (_, job_id) in enumerate(queued):
            assert self.store.queue_position(job_id) == position

    def _check_step(self, before: Job | None, job: Job) -> None:
        if before is None:
            return
        assert job.status in ALLOWED[before.status], (before.status, job.status)
        assert job.attempts >= before.attempts
        if before.status.is_terminal:
            assert job == before

    def _check_against_model(self, expected: Expected, job: Job) -> None:
        assert (job.status, job.attempts) == (expected.status, expected.attempts)
        assert job.attempts <= MAX_ATTEMPTS
        assert (job.progress_step, job.progress_total) == expected.progress
        if job.status is QUEUED:
            assert job.attempts < MAX_ATTEMPTS and job.worker_id is None
        if job.status is GENERATING:
            assert (job.worker_id, job.lease_expires_at) == (expected.worker, expected.lease_until)
        if job.status is ERROR:
            assert job.error_name == expected.error_name
        else:
            assert job.error_name is None and job.error_message is None
        if job.status.is_terminal:
            assert job.finished_at is not None and job.lease_expires_at is None


@pytest.mark.timeout(300)  # hypothesis' state machine: many sequences, each a fresh store
def test_the_lifecycle_holds_for_any_sequence_of_operations(
    make_store: MakeStore, engine: Engine
) -> None:
    class OnThisEngine(Lifecycle):
        def __init__(self) -> None:
            super().__init__(make_store)

    # The rules are one module for both engines (store/sql_store.py); PostgreSQL, ~4x slower a
    # sequence, explores half as many as SQLite's 300.
    examples = 300 if engine.name == "sqlite" else 150
    run_state_machine_as_test(
        OnThisEngine,
        settings=settings(
            max_examples=examples, stateful_step_count=50, deadline=None, database=None
        ),
    )
