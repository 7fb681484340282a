"""What both SQL engines do the same way: every method that is one guarded statement from
`sql.py` (or `keys.py`) through the engine's `_execute`, or a fenced write through its `_fenced`.
An engine adds connections, claims, transactions and migrations."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from typing import Any

from clipforge.schemas import Job, JobResult, JobStatus
from clipforge.store import keys, rules, sql
from clipforge.store.base import Claim, JobStore
from clipforge.store.filters import EVERYTHING, JobFilter
from clipforge.store.keys import ApiKey


class SqlJobStore(JobStore):
    """The engine-independent half of a SQL `JobStore`."""

    max_attempts: int
    _clock: Callable[[], float]

    @abstractmethod
    def _execute(self, statement: sql.Statement) -> list[Any]:
        """Run one statement in its own transaction; the rows it returned."""

    @abstractmethod
    def _fenced(self, claim: Claim, changes: rules.Changes) -> bool:
        """Apply `changes` only while `claim` still holds the job."""

    def get(self, job_id: str) -> Job | None:
        if not rules.is_job_id(job_id):
            return None
        rows = self._execute(sql.select({"id": job_id}))
        return sql.job_from_row(rows[0]) if rows else None

    def count_jobs(self, where: JobFilter = EVERYTHING) -> int:
        return int(self._execute(sql.count_jobs(where))[0][0])

    def delete(self, job_id: str) -> Job | None:
        if not rules.is_job_id(job_id):
            return None
        rows = self._execute(sql.delete_finished(job_id))
        return sql.job_from_row(rows[0]) if rows else None

    def heartbeat(self, claim: Claim, lease_seconds: float) -> bool:
        rules.check_lease(lease_seconds)
        return self._fenced(claim, rules.renewed(lease_seconds, self._clock()))

    def record_progress(self, claim: Claim, step: int, total: int) -> bool:
        return self._fenced(claim, rules.progressed(step, total, self._clock()))

    def complete(self, claim: Claim, result: JobResult) -> bool:
        return self._fenced(claim, rules.completed(result, self._clock()))

    def fail(self, claim: Claim, name: str, message: str) -> bool:
        return self._fenced(claim, rules.failed(name, message, self._clock()))

    def cancel(self, job_id: str) -> Job | None:
        if not rules.is_job_id(job_id):
            return None
        guard = {"id": job_id, "status": rules.CANCELLABLE}
        rows = self._execute(sql.update(rules.cancelled(self._clock()), guard, returning=True))
        return sql.job_from_row(rows[0]) if rows else self.get(job_id)

    def expire_due(self) -> list[Job]:
        rows = self._execute(sql.expire_due(rules.expired(self._clock()), self._clock()))
        return [sql.job_from_row(row) for row in rows]

    def files_to_purge(self, finished_before: float, limit: int = 100) -> list[Job]:
        rows = self._execute(sql.files_to_purge(finished_before, limit))
        return [sql.job_from_row(row) for row in rows]

    def mark_purged(self, job_id: str) -> bool:
        if not rules.is_job_id(job_id):
            return False
        return bool(self._execute(sql.mark_purged(job_id, self._clock())))

    def pending_notifications(self, limit: int = 100) -> list[tuple[Job, str]]:
        rows = self._execute(sql.pending_notifications(limit))
        return [(sql.job_from_row(row), row["callback_url"]) for row in rows]

    def mark_notified(self, job_id: str, status: JobStatus) -> None:
        if rules.is_job_id(job_id):
            self._execute(sql.mark_notified(job_id, status))

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
        rows = self._execute(sql.queue_position(job_id))
        return int(rows[0][0]) if rows else None

    def create_key(self, name: str) -> tuple[ApiKey, str]:
        secret = keys.new_secret()
        key, statement = keys.insert(name, secret, self._clock())
        self._execute(statement)
        return key, secret

    def find_key(self, secret: str) -> ApiKey | None:
        rows = self._execute(keys.find_active(secret))
        return keys.from_row(rows[0]) if rows else None

    def has_keys(self) -> bool:
        return int(self._execute(keys.count_active())[0][0]) > 0

    def list_keys(self) -> list[ApiKey]:
        return [keys.from_row(row) for row in self._execute(keys.list_all())]

    def revoke_key(self, key_id: str) -> bool:
        return bool(self._execute(keys.revoke(key_id, self._clock())))

    def list_jobs(
        self, *, limit: int = 50, offset: int = 0, where: JobFilter = EVERYTHING
    ) -> list[Job]:
        rules.check_page(limit, offset)
        rows = self._execute(sql.list_jobs(where, limit, offset))
        return [sql.job_from_row(row) for row in rows]

    def release(self, claim: Claim) -> bool:
        how = "gave the job back"
        lost = rules.abandoned(claim.attempt, self._clock(), self.max_attempts, how)
        return self._fenced(claim, lost)
