"""What both SQL engines do the same way: every job operation, written once on top of a few
engine primitives (DESIGN.md habit 3, saq's `Queue` base).

An engine supplies only (`_execute` and `_transaction` are declared in `sql_operations.py`):
- `_execute(statement)`: one statement in its own transaction, the rows it returned;
- `_transaction()`: a `Transaction` whose `lock(name)` serialises writers that decide from a
  read (SQLite: its `BEGIN IMMEDIATE` already holds the one write lock; PostgreSQL: an advisory
  lock on the name);
- `_claim_candidate(...)`: the claimable job whose turn it is (PostgreSQL locks it, skipping
  locked rows);
- `_row_lock`: what makes a SELECT lock its rows inside a transaction (PostgreSQL only);
- connections and migrations, and `_created(job)` if a new job must be announced (the queue).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence

from clipforge.errors import QueueFull
from clipforge.schemas import GenerationRequest, Job, JobResult, JobStatus
from clipforge.store import claim_sql, keys, rules, sql
from clipforge.store.base import NO_EXTRAS, Claim, IdempotencyKey, JobExtras, JobStore, Notification
from clipforge.store.filters import EVERYTHING, JobFilter
from clipforge.store.sql_operations import SqlOperations, Transaction


class SqlJobStore(SqlOperations, JobStore):
    """A `JobStore` on SQL: the rules of `store/rules.py` as guarded statements of `sql.py`."""

    max_attempts: int
    _row_lock: str = ""

    @abstractmethod
    def _claim_candidate(
        self, now: float, models: Sequence[str] | None, job_id: str | None
    ) -> sql.Statement:
        """The claimable job whose turn it is among `models` (or this one job), for a claim."""

    def _created(self, job: Job) -> None:
        """Called once a new job's insert has committed."""

    # --- creating -----------------------------------------------------------------------------

    def create(self, request: GenerationRequest, extras: JobExtras = NO_EXTRAS) -> Job:
        job, _ = self._insert(request, extras, None)
        return job

    def create_once(
        self, request: GenerationRequest, once: IdempotencyKey, extras: JobExtras = NO_EXTRAS
    ) -> tuple[Job, bool]:
        return self._insert(request, extras, once)

    def _insert(
        self, request: GenerationRequest, extras: JobExtras, once: IdempotencyKey | None
    ) -> tuple[Job, bool]:
        with self._transaction() as tx:
            if once is not None:
                # Serialise makers of the same key: the loser then sees the winner's row.
                tx.lock(f"once\n{once.scope}\n{once.key}")
                found = tx.rows(sql.idempotency_lookup(once))
                if found:
                    return sql.job_from_row(found[0]), found[0]["fingerprint"] == once.fingerprint
            if extras.max_queued is not None:
                tx.lock(f"queue\n{extras.owner}")
                queued = JobFilter(statuses=(JobStatus.QUEUED,), owner=extras.owner)
                waiting = int(tx.rows(sql.count_jobs(queued))[0][0])
                if waiting >= extras.max_queued:
                    raise QueueFull(waiting, extras.max_queued)
            job = rules.new_job(request, self._clock(), extras.owner, extras.job_id, extras.surface)
            tx.rows(sql.insert(job, extras))
            if once is not None:
                tx.rows(sql.idempotency_insert(once, job.id, job.created_at))
        self._created(job)
        return job, True

    # --- reading ------------------------------------------------------------------------------

    def get(self, job_id: str, owner: str | None = None) -> Job | None:
        if not rules.is_job_id(job_id):
            return None
        rows = self._execute(sql.select(sql.owned({"id": job_id}, owner)))
        return sql.job_from_row(rows[0]) if rows else None

    def list_jobs(
        self,
        *,
        limit: int = 50,
        offset: int = 0,
        where: JobFilter = EVERYTHING,
        oldest_first: bool = False,
    ) -> list[Job]:
        rules.check_page(limit, offset)
        rows = self._execute(sql.list_jobs(where, limit, offset, oldest_first))
        return [sql.job_from_row(row) for row in rows]

    def count_jobs(self, where: JobFilter = EVERYTHING) -> int:
        return int(self._execute(sql.count_jobs(where))[0][0])

    def is_cancelled(self, job_id: str) -> bool:
        if not rules.is_job_id(job_id):
            return False
        rows = self._execute(sql.cancel_requested(job_id))
        return bool(rows and rows[0][0])

    def running_worker_ids(self) -> list[str]:
        return [row[0] for row in self._execute(sql.running_worker_ids())]

    def queue_position(self, job_id: str) -> int | None:
        if not rules.is_job_id(job_id):
            return None
        rows = self._execute(claim_sql.queue_position(job_id, self._clock()))
        return int(rows[0][0]) if rows else None

    # --- a client's writes ----------------------------------------------------------------------

    def cancel(self, job_id: str, owner: str | None = None) -> Job | None:
        if not rules.is_job_id(job_id):
            return None
        guard = sql.owned({"id": job_id, "status": rules.CANCELLABLE}, owner)
        rows = self._execute(sql.update(rules.cancelled(self._clock()), guard, returning=True))
        if not rows:
            return self.get(job_id, owner)
        job = sql.job_from_row(rows[0])
        self._ended([job])
        return job

    def delete(self, job_id: str, owner: str | None = None) -> Job | None:
        if not rules.is_job_id(job_id):
            return None
        rows = self._execute(sql.delete_finished(job_id, owner))
        return sql.job_from_row(rows[0]) if rows else None

    def revoke_key(self, key_id: str) -> bool:
        """The key and its queued jobs in one transaction: a worker claims none of them after.
        Running ones finish (their worker is not interrupted)."""
        with self._transaction() as tx:
            now = self._clock()
            if not tx.rows(keys.revoke(key_id, now)):
                return False
            queued = {"status": JobStatus.QUEUED, "owner": key_id}
            rows = tx.rows(sql.update(rules.cancelled(now), queued, returning=True))
        self._ended([sql.job_from_row(row) for row in rows])
        return True

    # --- a worker's writes ----------------------------------------------------------------------

    def claim(
        self,
        worker_id: str,
        lease_seconds: float,
        models: Sequence[str] | None = None,
        prefer: Sequence[str] | None = None,
    ) -> Claim | None:
        rules.check_lease(lease_seconds)
        for wanted in rules.claim_searches(models, prefer):
            claim = self._claim(worker_id, lease_seconds, wanted, None)
            if claim is not None:
                return claim
        return None

    def claim_job(self, job_id: str, worker_id: str, lease_seconds: float) -> Claim | None:
        """Claim this one job if it is claimable now (the queue engine's task names it)."""
        rules.check_lease(lease_seconds)
        if not rules.is_job_id(job_id):
            return None
        return self._claim(worker_id, lease_seconds, None, job_id)

    def _claim(
        self, worker_id: str, lease: float, models: Sequence[str] | None, job_id: str | None
    ) -> Claim | None:
        lost: list[Job] = []  # out of attempts on the way: ended WorkerLost
        try:
            with self._transaction() as tx:
                now = self._clock()
                while found := tx.rows(self._claim_candidate(now, models, job_id)):
                    job = sql.job_from_row(found[0])
                    changes = rules.on_claim(job, worker_id, lease, now, self.max_attempts)
                    taken = _apply(tx, changes, rules.snapshot(job))
                    if taken.status is JobStatus.GENERATING:
                        return Claim(taken, worker_id, taken.attempts)
                    lost.append(taken)
        finally:
            self._ended(lost)
        return None

    def heartbeat(self, claim: Claim, lease_seconds: float) -> bool:
        rules.check_lease(lease_seconds)
        return self._fenced(claim, rules.renewed(lease_seconds, self._clock()))

    def record_progress(self, claim: Claim, step: int, total: int) -> bool:
        return self._fenced(claim, rules.progressed(step, total, self._clock()))

    def record_phase(self, claim: Claim, phase: str, expected_tail_s: float | None = None) -> bool:
        return self._fenced(claim, rules.phased(phase, self._clock(), expected_tail_s))

    def record_reading(self, claim: Claim, reading: dict[str, object]) -> bool:
        return self._fenced(claim, rules.read(reading, self._clock()))

    def complete(self, claim: Claim, result: JobResult) -> bool:
        return self._fenced(claim, rules.completed(result, self._clock()), ends=True)

    def fail(self, claim: Claim, name: str, message: str) -> bool:
        return self._fenced(claim, rules.failed(name, message, self._clock()), ends=True)

    def release(self, claim: Claim) -> bool:
        how = "gave the job back"
        lost = rules.abandoned(claim.attempt, self._clock(), self.max_attempts, how, crashed=False)
        return self._fenced(claim, lost, ends=True)

    def give_back(self, claim: Claim) -> bool:
        return self._fenced(claim, rules.given_back(self._clock()))

    def recover(self, dead_worker_ids: Sequence[str]) -> int:
        dead = rules.as_names(dead_worker_ids)
        if not dead:
            return 0
        with self._transaction() as tx:
            now = self._clock()
            text, params = sql.select({"status": JobStatus.GENERATING, "worker_id": dead})
            jobs = [sql.job_from_row(row) for row in tx.rows((text + self._row_lock, params))]
            after = []
            for job in jobs:
                how = "stopped responding"
                lost = rules.abandoned(job.attempts, now, self.max_attempts, how, crashed=True)
                after.append(_apply(tx, lost, rules.snapshot(job)))
        self._ended(after)
        return len(jobs)

    def _fenced(self, claim: Claim, changes: rules.Changes, *, ends: bool = False) -> bool:
        """Apply a worker's write if its claim still holds; `ends`: the write may end the job."""
        guard = rules.fence(claim.worker_id, claim.attempt, claim.job.id)
        rows = self._execute(sql.update(changes, guard, returning=True))
        if ends and rows:
            self._ended([sql.job_from_row(rows[0])])
        return len(rows) == 1

    def _ended(self, jobs: Sequence[Job]) -> None:
        """Tell `on_finished` about the jobs this process just ended."""
        if self.on_finished is not None:
            for job in jobs:
                if job.status.is_terminal:
                    self.on_finished(job)

    # --- the server's sweeps ----------------------------------------------------------------------

    def expire_due(self) -> list[Job]:
        rows = self._execute(sql.expire_due(rules.expired(self._clock()), self._clock()))
        jobs = [sql.job_from_row(row) for row in rows]
        self._ended(jobs)
        return jobs

    def files_to_purge(self, finished_before: float, limit: int = 100) -> list[Job]:
        rows = self._execute(sql.files_to_purge(finished_before, limit))
        return [sql.job_from_row(row) for row in rows]

    def mark_purged(self, job_id: str) -> bool:
        if not rules.is_job_id(job_id):
            return False
        return bool(self._execute(sql.mark_purged(job_id, self._clock())))

    def lease_notifications(self, lease_seconds: float, limit: int = 100) -> list[Notification]:
        rules.check_lease(lease_seconds)
        now = self._clock()
        lock = " FOR UPDATE SKIP LOCKED" if self._row_lock else ""
        rows = self._execute(sql.lease_notifications(now, now + lease_seconds, limit, lock))
        taken = [Notification(sql.job_from_row(row), row["callback_url"]) for row in rows]
        return sorted(taken, key=lambda n: (n.job.updated_at, n.job.id))

    def mark_notified(self, job_id: str, status: JobStatus) -> None:
        if rules.is_job_id(job_id):
            self._execute(sql.mark_notified(job_id, status))

    def defer_notification(self, job_id: str, until: float) -> None:
        if rules.is_job_id(job_id):
            self._execute(sql.defer_notification(job_id, until))


def _apply(tx: Transaction, changes: rules.Changes, guard: rules.Guard) -> Job:
    """Apply a change decided from a row read (and, where the engine can, locked) in `tx`."""
    rows = tx.rows(sql.update(changes, guard, returning=True))
    if len(rows) != 1:
        raise RuntimeError(f"job {guard.get('id')} changed inside a write transaction")
    return sql.job_from_row(rows[0])
