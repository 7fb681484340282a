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
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from clipforge.schemas import GenerationRequest, Job, JobResult


@dataclass(frozen=True)
class Claim:
    """A job handed to one worker, with the fencing token it must present on every write."""

    job: Job
    worker_id: str
    attempt: int


class JobStore(ABC):
    """Durable jobs. Every method is synchronous and thread-safe; call from a thread pool."""

    @abstractmethod
    def create(self, request: GenerationRequest) -> Job:
        """Insert a queued job and return it."""

    @abstractmethod
    def get(self, job_id: str) -> Job | None:
        """The job, or None if the id is unknown (never raises for a malformed id)."""

    @abstractmethod
    def list_jobs(self, *, limit: int = 50, offset: int = 0) -> list[Job]:
        """Newest first."""

    @abstractmethod
    def claim(
        self, worker_id: str, lease_seconds: float, models: Sequence[str] | None = None
    ) -> Claim | None:
        """Atomically take the oldest queued job (or one whose lease expired).

        Sets status generating, increments attempts, sets worker_id and the lease. A job whose
        lease expired after `max_attempts` attempts is moved to error instead of handed out.
        """

    @abstractmethod
    def heartbeat(self, claim: Claim, lease_seconds: float) -> bool:
        """Extend the lease; False if the claim is no longer valid (lost or cancelled)."""

    @abstractmethod
    def record_progress(self, claim: Claim, step: int, total: int) -> bool:
        """Store per-step progress and extend nothing; False if the claim is no longer valid."""

    @abstractmethod
    def complete(self, claim: Claim, result: JobResult) -> bool:
        """generating -> completed; False (and no change) if the claim is no longer valid."""

    @abstractmethod
    def fail(self, claim: Claim, name: str, message: str) -> bool:
        """generating -> error; False (and no change) if the claim is no longer valid."""

    @abstractmethod
    def release(self, claim: Claim) -> bool:
        """Give a claimed job back to the queue (worker-level failure or clean shutdown)."""

    @abstractmethod
    def cancel(self, job_id: str) -> Job | None:
        """Request cancellation: queued -> cancelled at once; generating -> cancelled (the
        worker notices on its next progress or heartbeat). Terminal jobs are returned as is."""

    @abstractmethod
    def is_cancelled(self, job_id: str) -> bool:
        """True once cancellation was requested."""

    @abstractmethod
    def recover(self, dead_worker_ids: Sequence[str]) -> int:
        """Requeue the running jobs of workers known to be dead (a restart of the same host).

        Counts as an attempt like an expired lease. Returns how many jobs were requeued.
        """

    @abstractmethod
    def queue_position(self, job_id: str) -> int | None:
        """0-based place among queued jobs, or None if the job is not queued."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""
