"""What a listing asks for: a filter on jobs, applied by the engine in SQL, never in Python."""

from __future__ import annotations

from dataclasses import dataclass

from clipforge.schemas import JobStatus

EXPIRED = "Expired"
"""`error_name` of a job whose `execution_expires_after` passed while it was still queued.
Such a job is in status error (the AI/ML surfaces show `error`); Ark shows it as `expired`."""


@dataclass(frozen=True)
class JobFilter:
    """Jobs to list or count; every field left None matches everything.

    `model` matches the model id as the client spelled it (`client_model`, else `model`).
    `expired` True keeps only expired jobs, False leaves them out.
    """

    statuses: tuple[JobStatus, ...] | None = None
    ids: tuple[str, ...] | None = None
    model: str | None = None
    expired: bool | None = None
    owner: str | None = None
    tier: str | None = None
    """A service tier (`schemas.SERVICE_TIERS`)."""
    older_than: tuple[float, str] | None = None
    newer_than: tuple[float, str] | None = None
    """(created_at, id) of a job: only jobs listed before / after it (a cursor)."""


EVERYTHING = JobFilter()
