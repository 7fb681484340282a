"""How jobs reach workers on other machines: the narrow queue interface (DESIGN.md, Engines).

The job row in the store stays the truth (status, attempts, lease, fencing); a queue engine
only carries "job X for model M is ready" to a worker listening on M's queue. Six operations
are all it must offer, so procrastinate (`queue/procrastinate_queue.py`) or Celery could fill
the role:

- `enqueue(job)`: make the job known to the workers of its model's queue (idempotent);
- `claim(job_id, worker_id)`: take that job's row, fenced, if it is claimable now;
- `heartbeat(claim)`: extend the lease; False once the claim is lost or cancelled;
- `request_abort(job_id)`: cancel the job; its worker stops at its next step;
- `check_abort(claim)`: True once the worker must stop;
- `recover_stalled()`: give every claimable job that no live task carries a fresh task
  (a worker killed mid-job, an API that died between the insert and the enqueue).
"""

from __future__ import annotations

from typing import Protocol

from clipforge.schemas import Job
from clipforge.store.base import Claim


class JobQueue(Protocol):
    def enqueue(self, job: Job) -> None: ...

    def claim(self, job_id: str, worker_id: str) -> Claim | None: ...

    def heartbeat(self, claim: Claim) -> bool: ...

    def request_abort(self, job_id: str) -> Job | None: ...

    def check_abort(self, claim: Claim) -> bool: ...

    def recover_stalled(self) -> int: ...


def queue_name(model: str) -> str:
    """The queue of one API model id (one queue per model)."""
    return f"model:{model}"
