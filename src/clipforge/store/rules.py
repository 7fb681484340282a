"""The job lifecycle rules, written once for every engine (DESIGN.md habit 3).

Each transition is a pure function that says what to write, as a mapping of column to new
value (`Changes`); an engine applies it with one guarded UPDATE (see `store/sql.py`). The
guards are data too: `fence(...)` for a worker's writes, `snapshot(job)` for a row read
in the same transaction. Nothing here touches a database.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from clipforge.schemas import PHASES, GenerationRequest, Job, JobResult, JobStatus
from clipforge.store.filters import EXPIRED

QUEUED, GENERATING = JobStatus.QUEUED, JobStatus.GENERATING
COMPLETED, ERROR, CANCELLED = JobStatus.COMPLETED, JobStatus.ERROR, JobStatus.CANCELLED

WORKER_LOST = "WorkerLost"
"""`error_name` of a job given up after `max_attempts` attempts whose worker went away."""

TRANSITIONS: Mapping[JobStatus, frozenset[JobStatus]] = {
    # queued -> error: its execution_expires_after passed while it waited (`expired`).
    QUEUED: frozenset({GENERATING, CANCELLED, ERROR}),
    # generating -> generating: an expired lease claimed again (a new attempt).
    GENERATING: frozenset({GENERATING, QUEUED, COMPLETED, ERROR, CANCELLED}),
    COMPLETED: frozenset(),
    ERROR: frozenset(),
    CANCELLED: frozenset(),
}
"""The lifecycle diagram of `store/base.py` as data: status -> statuses it may move to."""

CANCELLABLE: tuple[JobStatus, ...] = tuple(s for s, to in TRANSITIONS.items() if CANCELLED in to)


@dataclass(frozen=True)
class Column:
    """A new value that is another column of the same row, plus a constant (`SET a = b + 1`)."""

    name: str
    plus: int = 0


Value = str | int | float | None | dict[str, object] | list[str] | Column
Changes = dict[str, Value]
Guard = Mapping[str, object]
"""Column -> required current value (a tuple means any of these values)."""

_FRESH_ATTEMPT: Changes = {
    "progress_step": 0,
    "progress_total": 0,
    "error_name": None,
    "error_message": None,
    "video_key": None,
    "backend": None,
    "timings": {},
    "stills": [],
    "phase": None,
    "phase_started_at": None,
    "expected_tail_s": None,
    "reading": {},
}


_CRASH: Changes = {"worker_crashes": Column("worker_crashes", plus=1)}


def new_job(
    request: GenerationRequest,
    now: float,
    owner: str | None = None,
    job_id: str | None = None,
    surface: str = "",
) -> Job:
    """A queued job with `job_id` (a canonical uuid) or a fresh uuid4 id."""
    if job_id is not None and not is_job_id(job_id):
        raise ValueError(f"not a job id: {job_id!r}")
    job_id = job_id or str(uuid.uuid4())
    return Job(
        job_id, request, QUEUED, created_at=now, updated_at=now, owner=owner, surface=surface
    )


def is_job_id(value: object) -> bool:
    """True for an id this store could have made (a canonical uuid string)."""
    if not isinstance(value, str):
        return False
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def check_transition(guard: Guard, changes: Changes) -> None:
    """Refuse (as a bug) a write whose status change is not on the diagram.

    A write that sets a status must name the status(es) it moves from in its guard.
    """
    if "status" not in changes:
        return
    wanted = guard.get("status")
    before = wanted if isinstance(wanted, tuple) else (wanted,)
    for status in before:
        if not isinstance(status, JobStatus) or changes["status"] not in TRANSITIONS[status]:
            raise ValueError(f"no transition {status} -> {changes['status']} in the lifecycle")


def fence(worker_id: str, attempt: int, job_id: str) -> Guard:
    """What a worker's write requires: its job, still generating, still on its attempt."""
    return {"id": job_id, "worker_id": worker_id, "attempts": attempt, "status": GENERATING}


def snapshot(job: Job) -> Guard:
    """What a write decided from `job` requires: the row has not moved on since."""
    return {"id": job.id, "status": job.status, "attempts": job.attempts}


def matches(job: Job, guard: Guard) -> bool:
    """True if `job` satisfies `guard` (what the engine's WHERE clause checks)."""
    for column, wanted in guard.items():
        value = getattr(job, column)
        if isinstance(wanted, tuple | list | frozenset | set):
            if value not in wanted:
                return False
        elif value != wanted:
            return False
    return True


def on_claim(
    job: Job, worker_id: str, lease_seconds: float, now: float, max_attempts: int
) -> Changes:
    """Hand `job` (queued, or generating with an expired lease) to `worker_id`, or give up."""
    crashed = job.status is GENERATING  # an expired lease: its worker stopped responding
    if crashed and job.attempts >= max_attempts:
        return abandoned(job.attempts, now, max_attempts, "stopped responding", crashed=True)
    started = job.started_at if job.started_at is not None else now
    return {
        **_FRESH_ATTEMPT,
        **(_CRASH if crashed else {}),
        "status": GENERATING,
        "attempts": job.attempts + 1,
        "worker_id": worker_id,
        "lease_expires_at": now + lease_seconds,
        "started_at": started,
        "updated_at": now,
    }


def abandoned(attempts: int, now: float, max_attempts: int, how: str, *, crashed: bool) -> Changes:
    """The worker of a generating job (on its attempt `attempts`) went away: back to the
    queue, or error when out of attempts. `how` completes "the worker ... N times";
    `crashed` counts the attempt in `worker_crashes` (a worker that died or went silent, not
    one that gave the job back)."""
    counted = _CRASH if crashed else {}
    if attempts >= max_attempts:
        message = f"the worker {how} {attempts} times; giving up"
        return {
            **counted,
            "status": ERROR,
            "error_name": WORKER_LOST,
            "error_message": message,
            "finished_at": now,
            "updated_at": now,
            "lease_expires_at": None,
        }
    return {
        **_FRESH_ATTEMPT,
        **counted,
        "status": QUEUED,
        "worker_id": None,
        "lease_expires_at": None,
        "updated_at": now,
    }


def given_back(now: float) -> Changes:
    """A worker gives its job back because storage failed: queued again with the attempt
    uncounted (the next claim takes the same attempt number; the fence still holds, as the
    job is no longer generating under this worker)."""
    return {
        **_FRESH_ATTEMPT,
        "status": QUEUED,
        "attempts": Column("attempts", plus=-1),
        "worker_id": None,
        "lease_expires_at": None,
        "updated_at": now,
    }


def as_names(values: Sequence[str]) -> tuple[str, ...]:
    """Model or worker names as a tuple (a lone string is one name, not its letters)."""
    return (values,) if isinstance(values, str) else tuple(values)


def claim_searches(
    models: Sequence[str] | None, prefer: Sequence[str] | None
) -> list[tuple[str, ...] | None]:
    """The model sets a claim tries, in order (None: any model; no set: nothing to take).

    A worker that has a model loaded prefers its jobs: the oldest job for a `prefer` model
    (among `models`, when given) is taken before an older job that would need other weights;
    with none queued, the worker takes the oldest job of `models` as usual.
    """
    allowed = None if models is None else as_names(models)
    if allowed == ():
        return []
    if not prefer:
        return [allowed]
    preferred = tuple(m for m in as_names(prefer) if allowed is None or m in allowed)
    return [preferred, allowed] if preferred else [allowed]


def phased(phase: str, now: float, expected_tail_s: float | None = None) -> Changes:
    """A running job enters `phase` (one of schemas.PHASES)."""
    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}: expected one of {', '.join(PHASES)}")
    changes: Changes = {"phase": phase, "phase_started_at": now, "updated_at": now}
    if expected_tail_s is not None:
        changes["expected_tail_s"] = expected_tail_s
    return changes


def read(reading: dict[str, object], now: float) -> Changes:
    """What the model made of the request (written once it is known)."""
    return {"reading": dict(reading), "updated_at": now}


def renewed(lease_seconds: float, now: float) -> Changes:
    return {"lease_expires_at": now + lease_seconds, "updated_at": now}


def progressed(step: int, total: int, now: float) -> Changes:
    if total < 0 or not 0 <= step <= total:
        raise ValueError(f"progress step {step} of {total}: expected 0 <= step <= total")
    return {"progress_step": step, "progress_total": total, "updated_at": now}


def completed(result: JobResult, now: float) -> Changes:
    return {
        "status": COMPLETED,
        "video_key": result.video_key,
        "backend": result.backend,
        "timings": dict(result.timings),
        "stills": list(result.stills),
        "progress_step": Column("progress_total"),
        "phase": None,
        "finished_at": now,
        "updated_at": now,
        "lease_expires_at": None,
    }


def failed(name: str, message: str, now: float) -> Changes:
    return {
        "status": ERROR,
        "error_name": name,
        "error_message": message,
        "finished_at": now,
        "updated_at": now,
        "lease_expires_at": None,
    }


def cancelled(now: float) -> Changes:
    """Applied under `{"status": CANCELLABLE}`: a running worker's next write then fails."""
    return {
        "status": CANCELLED,
        "cancel_requested": 1,
        "finished_at": now,
        "updated_at": now,
        "lease_expires_at": None,
    }


def expired(now: float) -> Changes:
    """Applied under `{"status": QUEUED}` once the job's `expires_at` has passed."""
    return {
        "status": ERROR,
        "error_name": EXPIRED,
        "error_message": "the task waited in the queue past its execution_expires_after",
        "finished_at": now,
        "updated_at": now,
    }


def check_lease(lease_seconds: float) -> None:
    if not lease_seconds > 0:
        raise ValueError(f"lease_seconds must be positive, got {lease_seconds}")


def check_page(limit: int, offset: int) -> None:
    if limit < 0 or offset < 0:
        raise ValueError(f"limit and offset must be >= 0, got {limit} and {offset}")
