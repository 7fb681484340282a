"""Settings of how the service runs and reports its jobs: in-process workers and their
leases, housekeeping (expiry, retention), logs, metrics, readiness and callbacks."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class OperationFields(BaseModel):
    """The worker, housekeeping and reporting fields of `Settings` (CLIPFORGE_<NAME>)."""

    workers: int = Field(1, ge=0, description="In-process workers started by `serve`.")
    lease_seconds: float = Field(
        30.0, gt=0, description="A running job whose worker stays silent this long is retried."
    )
    heartbeat_seconds: float = Field(
        5.0, gt=0, description="How often a worker renews the lease of its running job."
    )
    max_attempts: int = Field(
        3, ge=1, description="Attempts before a job whose worker keeps dying ends in error."
    )
    poll_interval_seconds: float = Field(
        0.2, gt=0, description="How often an idle worker looks for queued jobs."
    )
    # --- task management (issue 7) -----------------------------------------------------------
    retention_days: float | None = Field(
        None,
        gt=0,
        description="Remove finished jobs' video files after this many days; unset: keep them.",
    )
    sweep_interval_seconds: float = Field(
        5.0, gt=0, description="How often the server expires queued tasks and removes old files."
    )
    log_format: Literal["text", "json"] = Field(
        "text",
        description="`json`: one JSON object per log line, with the request id, job id, "
        "attempt, model, worker and surface where they apply (`clipforge/logs.py`).",
    )
    metrics: bool = Field(
        True, description="Serve Prometheus metrics at /metrics and count HTTP requests."
    )
    metrics_token: str | None = Field(
        None,
        description="When set, /metrics (the API's and each worker's `--metrics-port`) wants "
        "`Authorization: Bearer <token>` (a token of its "
        "own, not an API key); unset: /metrics is open like /healthz.",
    )
    ready_needs_worker: bool = Field(
        True,
        description="/readyz answers 200 only while some worker (in this process or, on "
        "PostgreSQL, any `clipforge worker`) reported itself within a lease.",
    )
    callbacks: bool = Field(
        True,
        description="Send callback_url notifications from this process, an API replica or a "
        "`clipforge worker` (false: leave them to the others on the same database; they wait "
        "in the store meanwhile).",
    )
    callback_timeout_seconds: float = Field(
        5.0, gt=0, description="How long a callback_url has to acknowledge a notification."
    )
    callback_retries: int = Field(
        3, ge=0, description="Retries of an unacknowledged notification of a terminal status."
    )
