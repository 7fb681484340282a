"""The job store contract. Rules live here; engines implement the primitives.

Lifecycle (the only transitions a store allows):

```
queued --claim--> generating --complete--> completed
   ^                  |  |----fail------> error
   |                  |  '---cancel-----> cancelled
   '--lease expired---'  (attempts < max_attempts; else -> error "worker lost")
queued --cancel--> cancelled
```

Every write by a worker carries its `worker_id` and the job's `attempts` at claim time (a
fencing token): a worker whose lease expired and whose job was claimed again can no longer
report progress, complete or fail it. This is what keeps two workers from both finishing one
job, and a retried job from leaving a trace beyond its attempt count.

A claim stays valid until the job is claimed again, cancelled, released, recovered or
finished: a lease that ran out while no other worker took the job does not by itself void it.
Every way a worker can lose a job counts as one of its `max_attempts`: an expired lease,
`recover()` and `release()` alike; out of attempts, the job ends in error `WorkerLost`
instead of going back to the queue, so a job that kills its worker cannot loop forever.

What each transition writes is decided once, in `store/rules.py`; the SQL the engines share
is in `store/sql.py`; an engine supplies connections, transactions and migrations.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType

from clipforge.schemas import GenerationRequest, Job, JobResult, JobStatus
from clipforge.store import rules
from clipforge.store.filters import EVERYTHING, JobFilter
from clipforge.store.operations import OperationsStore


@dataclass(frozen=True)
class Claim:
    """A job handed to one worker, with the fencing token it must present on every write."""

    job: Job
    worker_id: str
    attempt: int


@dataclass(frozen=True)
class IdempotencyKey:
    """An `Idempotency-Key` as the store keeps it: per `scope` (the API key), with the
    fingerprint of the request body that first used it."""

    scope: str
    key: str
    fingerprint: str


@dataclass(frozen=True)
class JobExtras:
    """What a create may carry beside the request: the owning API key (`owner`), seconds the
    job may wait queued before it expires, the URL notified of its status changes, the
    owner's cap on queued jobs (checked in the create's own transaction; None: no cap), and
    the id to give the job (a canonical uuid; None: a new one)."""

    owner: str | None = None
    expires_after: float | None = None
    callback_url: str | None = None
    max_queued: int | None = None
    priority: int = 0
    tier: str = "default"
    job_id: str | None = None
    """The new job's id, when the caller made it first (to store its images under it)."""
    surface: str = ""
    """The API dialect the create came through (`schemas.SURFACES`)."""


@dataclass(frozen=True)
class Notification:
    """A status change a callback URL has not been told about, leased to one dispatcher."""

    job: Job
    url: str


NO_EXTRAS = JobExtras()


class JobStore(OperationsStore):
    """Durable jobs. Every method is synchronous and thread-safe; call from a thread pool.

    Methods that take a job id return None / False for an unknown or malformed id; arguments
    out of range (a non-positive lease, a negative page, progress beyond its total) raise
    ValueError. Methods that take an `owner` see only that API key's jobs (another key's job
    is unknown to them); None sees every job (the server's own sweeps, workers, admins). The
    API reaches jobs only through `store.tenant.TenantJobs`, which always passes the caller's.
    """

    max_attempts: int

    on_finished: Callable[[Job], None] | None = None
    """Called with each job this process ends (completed, error, cancelled, expired), after
    the change is stored: what `metrics.Metrics` counts."""

    runs_inline: bool = False
    concurrency: int = 1
    """How many calls the store serves at once (PostgreSQL: its connection pool's size): the
    API runs store calls on that many threads."""
    """True when calls are short and local (no network wait), so that async code may call
    them on the event loop instead of through a thread pool. A write can still wait for
    another writer's lock (milliseconds, at worst the engine's busy timeout)."""

    @abstractmethod
    def create(self, request: GenerationRequest, extras: JobExtras = NO_EXTRAS) -> Job:
        """Insert a queued job and return it; QueueFull when `extras.owner` already has
        `extras.max_queued` queued jobs (counted in the same transaction as the insert)."""

    @abstractmethod
    def create_once(
        self, request: GenerationRequest, once: IdempotencyKey, extras: JobExtras = NO_EXTRAS
    ) -> tuple[Job, bool]:
        """Create a job unless `once` (scope and key) already made one, atomically.

        Returns (the job, True) for a new key or a reuse with the same fingerprint, and
        (the earlier job, False) for a reuse with another fingerprint. A key whose job was
        deleted is free again. A reuse is answered even when the queue cap is reached.
        """

    @abstractmethod
    def get(self, job_id: str, owner: str | None = None) -> Job | None:
        """The job, or None if the id is unknown (never raises for a malformed id)."""

    @abstractmethod
    def list_jobs(
        self,
        *,
        limit: int = 50,
        offset: int = 0,
        where: JobFilter = EVERYTHING,
        oldest_first: bool = False,
    ) -> list[Job]:
        """The jobs `where` matches (`where.owner` scopes them), newest first (by
        created_at, then id, descending), or oldest first."""

    @abstractmethod
    def count_jobs(self, where: JobFilter = EVERYTHING) -> int:
        """How many jobs `where` matches."""

    @abstractmethod
    def delete(self, job_id: str, owner: str | None = None) -> Job | None:
        """Delete a finished job (completed, error or cancelled) and return it as it was.

        None (and no change) for an unknown id or a job that has not finished: cancel those.
        The caller removes the job's video from storage.
        """

    @abstractmethod
    def claim(
        self,
        worker_id: str,
        lease_seconds: float,
        models: Sequence[str] | None = None,
        prefer: Sequence[str] | None = None,
    ) -> Claim | None:
        """Atomically take the next queued job (or one whose lease expired).

        Sets status generating, increments attempts, sets worker_id and the lease, sets
        started_at on the first attempt and clears what an earlier attempt left (progress,
        error, result). Next means by tier, priority, then keys taking turns, then the
        oldest, over both kinds (`store/claim_sql.py`). A job whose lease
        expired after `max_attempts` attempts is moved to error `WorkerLost` instead, and the
        search goes on. `models` limits the search to jobs for those models (an empty list
        finds nothing). `prefer` (a warm worker's models) is searched first: its next job
        goes before older jobs for other models. Returns None when nothing is claimable.
        """

    @abstractmethod
    def heartbeat(self, claim: Claim, lease_seconds: float) -> bool:
        """Extend the lease; False if the claim is no longer valid (lost or cancelled)."""

    @abstractmethod
    def record_progress(self, claim: Claim, step: int, total: int) -> bool:
        """Store per-step progress and extend nothing; False if the claim is no longer valid."""

    @abstractmethod
    def record_phase(self, claim: Claim, phase: str, expected_tail_s: float | None = None) -> bool:
        """The running job enters `phase` (schemas.PHASES), with the worker's estimate of the
        seconds after denoising when it has one; False if the claim is no longer valid."""

    @abstractmethod
    def record_reading(self, claim: Claim, reading: dict[str, object]) -> bool:
        """Store what the model made of the request; False if the claim is no longer valid."""

    @abstractmethod
    def complete(self, claim: Claim, result: JobResult) -> bool:
        """generating -> completed; False (and no change) if the claim is no longer valid.

        Stores the result and finished_at, and sets progress_step to progress_total.
        """

    @abstractmethod
    def fail(self, claim: Claim, name: str, message: str) -> bool:
        """generating -> error; False (and no change) if the claim is no longer valid."""

    @abstractmethod
    def release(self, claim: Claim) -> bool:
        """Give a claimed job back to the queue (worker-level failure or clean shutdown).

        The attempt stays counted: on the last attempt the job ends in error `WorkerLost`
        instead. False (and no change) if the claim is no longer valid.
        """

    @abstractmethod
    def give_back(self, claim: Claim) -> bool:
        """Give a claimed job back to the queue without counting the attempt: the
        infrastructure failed (storage), neither the job nor the worker, so it never uses
        up the job's attempts. False (and no change) if the claim is no longer valid.
        """

    @abstractmethod
    def cancel(self, job_id: str, owner: str | None = None) -> Job | None:
        """Request cancellation: queued -> cancelled at once; generating -> cancelled (the
        worker notices on its next progress or heartbeat). Terminal jobs are returned as is.

        Returns the job after the change, or None if the id is unknown. finished_at is the
        time of the cancellation, also for a job whose worker is still running.
        """

    @abstractmethod
    def expire_due(self) -> list[Job]:
        """End every queued job whose `expires_after` has passed: error `Expired`
        (`filters.EXPIRED`). Returns the jobs as they are now."""

    @abstractmethod
    def files_to_purge(self, finished_before: float, limit: int = 100) -> list[Job]:
        """Finished jobs with a video, finished before `finished_before`, not yet purged."""

    @abstractmethod
    def mark_purged(self, job_id: str) -> bool:
        """Record that the job's video file was removed (it keeps its row and its key)."""

    @abstractmethod
    def lease_notifications(self, lease_seconds: float, limit: int = 100) -> list[Notification]:
        """Take the jobs with a callback URL whose status changed since the last notification
        (or that were never notified), oldest change first, for `lease_seconds`: no other
        call (in any process) gets them again until the lease ends or they are notified."""

    @abstractmethod
    def mark_notified(self, job_id: str, status: JobStatus) -> None:
        """Record that the callback URL was told (or given up on) about `status`."""

    @abstractmethod
    def defer_notification(self, job_id: str, until: float) -> None:
        """Leave a leased notification alone until `until` (its receiver is paused)."""

    @abstractmethod
    def is_cancelled(self, job_id: str) -> bool:
        """True once cancellation was requested (False for an unknown id)."""

    @abstractmethod
    def recover(self, dead_worker_ids: Sequence[str]) -> int:
        """Requeue the running jobs of workers known to be dead (a restart of the same host).

        Counts as an attempt like an expired lease: a job out of attempts ends in error
        `WorkerLost` instead. Returns how many jobs were taken from those workers (requeued
        or ended).
        """

    @abstractmethod
    def running_worker_ids(self) -> list[str]:
        """The distinct worker ids that hold a generating job (to find dead ones to recover)."""

    @abstractmethod
    def queue_position(self, job_id: str) -> int | None:
        """0-based place among queued jobs, or None if the job is not queued."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    def claim_is_valid(self, claim: Claim) -> bool:
        """True while `claim` would pass the fence of a worker's write (a read: it may change
        the moment after; the writes themselves are what is atomic)."""
        job = self.get(claim.job.id)
        guard = rules.fence(claim.worker_id, claim.attempt, claim.job.id)
        return job is not None and rules.matches(job, guard)

    def __enter__(self) -> JobStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
