"""SQL shared by the engines: the `jobs` columns, row <-> Job, and the guarded statements.

Statements use named parameters (`:name`, sqlite3's style); an engine whose driver wants
another style rewrites them in one place. Every write is built from a rule's `Changes` and
`Guard` (`store/rules.py`), so what a transition does is decided there and only there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from clipforge.schemas import SERVICE_TIERS, GenerationRequest, Job, JobStatus
from clipforge.store import rules
from clipforge.store.base import IdempotencyKey, JobExtras
from clipforge.store.filters import EXPIRED, JobFilter
from clipforge.store.rules import GENERATING, QUEUED, Changes, Column, Guard

Statement = tuple[str, dict[str, object]]

JOB_COLUMNS = (
    "id",
    "status",
    "request",
    "model",
    "created_at",
    "updated_at",
    "started_at",
    "finished_at",
    "attempts",
    "worker_id",
    "lease_expires_at",
    "progress_step",
    "progress_total",
    "error_name",
    "error_message",
    "video_key",
    "backend",
    "timings",
    "cancel_requested",
    "owner",
    "purged_at",
    "worker_crashes",
    "priority",
    "tier",
    "stills",
    "expires_at",
    "phase",
    "phase_started_at",
    "expected_tail_s",
    "reading",
    "surface",
)
WRITE_ONLY_COLUMNS = (
    "listed_model",
    "callback_url",
    "notified_status",
    "notify_lease_until",
)
"""Columns written on insert and used by filters, not part of a `Job`."""
_SELECT = "SELECT " + ", ".join(JOB_COLUMNS) + " FROM jobs"
_RETURNING = " RETURNING " + ", ".join(JOB_COLUMNS)


class Row(Protocol):
    def __getitem__(self, key: str, /) -> Any: ...


def encode(value: object) -> object:
    """A Python value as the column stores it."""
    if isinstance(value, JobStatus):
        return value.value
    if isinstance(value, dict | list | tuple):
        return json.dumps(value if isinstance(value, dict) else list(value), sort_keys=True)
    if isinstance(value, bool):
        return int(value)
    return value


def job_from_row(row: Row) -> Job:
    return Job(
        id=row["id"],
        request=GenerationRequest.model_validate_json(row["request"]),
        status=JobStatus(row["status"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        attempts=row["attempts"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        progress_step=row["progress_step"],
        progress_total=row["progress_total"],
        worker_id=row["worker_id"],
        lease_expires_at=row["lease_expires_at"],
        error_name=row["error_name"],
        error_message=row["error_message"],
        video_key=row["video_key"],
        backend=row["backend"],
        timings=json.loads(row["timings"]),
        owner=row["owner"],
        purged_at=row["purged_at"],
        worker_crashes=row["worker_crashes"],
        priority=row["priority"],
        tier=SERVICE_TIERS[row["tier"]],
        stills=tuple(json.loads(row["stills"])),
        expires_at=row["expires_at"],
        phase=row["phase"],
        phase_started_at=row["phase_started_at"],
        expected_tail_s=row["expected_tail_s"],
        reading=json.loads(row["reading"]),
        surface=row["surface"],
    )


def insert(job: Job, extras: JobExtras) -> Statement:
    values: dict[str, object] = {
        "id": job.id,
        "status": job.status,
        "request": job.request.model_dump_json(),
        "model": job.request.model,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "attempts": job.attempts,
        "progress_step": job.progress_step,
        "progress_total": job.progress_total,
        "timings": job.timings,
        "cancel_requested": 0,
        "listed_model": job.request.client_model or job.request.model,
        "owner": job.owner,
        "priority": extras.priority,
        "tier": SERVICE_TIERS.index(extras.tier),
        "expires_at": _deadline(job.created_at, extras.expires_after),
        "callback_url": extras.callback_url,
        "surface": extras.surface,
    }
    names = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    return f"INSERT INTO jobs ({names}) VALUES ({marks})", _encoded(values)


def idempotency_lookup(once: IdempotencyKey) -> Statement:
    """The job an idempotency key made, with the key's `fingerprint` column; no row if none."""
    columns = ", ".join(f"j.{name}" for name in JOB_COLUMNS)
    sql = (
        f"SELECT {columns}, k.fingerprint FROM idempotency_keys AS k"
        " JOIN jobs AS j ON j.id = k.job_id WHERE k.scope = :scope AND k.key = :key"
    )
    return sql, {"scope": once.scope, "key": once.key}


def idempotency_insert(once: IdempotencyKey, job_id: str, now: float) -> Statement:
    sql = (
        "INSERT INTO idempotency_keys (scope, key, fingerprint, job_id, created_at)"
        " VALUES (:scope, :key, :fingerprint, :job_id, :now)"
    )
    params = {"scope": once.scope, "key": once.key, "fingerprint": once.fingerprint}
    return sql, params | {"job_id": job_id, "now": now}


def update(changes: Changes, guard: Guard, *, returning: bool = False) -> Statement:
    """`UPDATE jobs SET <changes> WHERE <guard>`: changes nothing unless the guard holds."""
    rules.check_transition(guard, changes)
    params: dict[str, object] = {}
    sets = []
    for column, value in changes.items():
        _check_column(column)
        if isinstance(value, Column):
            _check_column(value.name)
            plus = f" + {int(value.plus)}" if value.plus else ""
            sets.append(f"{column} = {value.name}{plus}")
        else:
            sets.append(f"{column} = :new_{column}")
            params[f"new_{column}"] = encode(value)
    where, where_params = _where(guard)
    sql = f"UPDATE jobs SET {', '.join(sets)} WHERE {where}"
    return sql + (_RETURNING if returning else ""), params | where_params


def select(guard: Guard) -> Statement:
    where, params = _where(guard)
    return f"{_SELECT} WHERE {where}", params


def owned(guard: dict[str, object], owner: str | None) -> dict[str, object]:
    """`guard` limited to the jobs of `owner` (None: every job)."""
    return guard if owner is None else guard | {"owner": owner}


def list_jobs(where: JobFilter, limit: int, offset: int, oldest_first: bool = False) -> Statement:
    condition, params = filtered(where)
    way = "" if oldest_first else " DESC"
    order = f"ORDER BY created_at{way}, id{way} LIMIT :limit OFFSET :offset"
    return f"{_SELECT} WHERE {condition} {order}", params | {"limit": limit, "offset": offset}


def count_jobs(where: JobFilter) -> Statement:
    condition, params = filtered(where)
    return f"SELECT COUNT(*) FROM jobs WHERE {condition}", params


def expire_due(changes: Changes, now: float) -> Statement:
    """End the queued jobs whose deadline has passed (`rules.expired`)."""
    sql, params = update(changes, {"status": QUEUED}, returning=True)
    return sql.replace(" RETURNING", " AND expires_at <= :now RETURNING", 1), params | {"now": now}


def files_to_purge(finished_before: float, limit: int) -> Statement:
    sql = (
        f"{_SELECT} WHERE purged_at IS NULL AND video_key IS NOT NULL"
        " AND finished_at < :before ORDER BY finished_at LIMIT :limit"
    )
    return sql, {"before": finished_before, "limit": limit}


def lease_notifications(now: float, until: float, limit: int, lock: str = "") -> Statement:
    """Lease the oldest unnotified status changes until `until`; `lock` is what the engine
    adds to the inner SELECT so that concurrent leasers skip each other's rows."""
    pending = (
        "SELECT id FROM jobs WHERE callback_url IS NOT NULL"
        " AND (notified_status IS NULL OR notified_status <> status)"
        " AND (notify_lease_until IS NULL OR notify_lease_until <= :now)"
        f" ORDER BY updated_at, id LIMIT :limit{lock}"
    )
    sql = (
        f"UPDATE jobs SET notify_lease_until = :until WHERE id IN ({pending})"
        f"{_RETURNING}, callback_url"
    )
    return sql, {"now": now, "until": until, "limit": limit}


def mark_notified(job_id: str, status: JobStatus) -> Statement:
    sql = "UPDATE jobs SET notified_status = :status, notify_lease_until = NULL WHERE id = :id"
    return sql, {"id": job_id, "status": status.value}


def defer_notification(job_id: str, until: float) -> Statement:
    return "UPDATE jobs SET notify_lease_until = :until WHERE id = :id", {
        "id": job_id,
        "until": until,
    }


def mark_purged(job_id: str, now: float) -> Statement:
    sql = "UPDATE jobs SET purged_at = :now WHERE id = :id RETURNING id"
    return sql, {"id": job_id, "now": now}


def delete_finished(job_id: str, owner: str | None) -> Statement:
    """Delete a job that has finished (any terminal status); no row when it has not."""
    terminal = [status for status in JobStatus if status.is_terminal]
    where, params = _where(owned({"id": job_id, "status": tuple(terminal)}, owner))
    return f"DELETE FROM jobs WHERE {where}{_RETURNING}", params


def filtered(where: JobFilter) -> tuple[str, dict[str, object]]:
    """A WHERE condition (portable SQL) for a listing filter; `1 = 1` for no filter."""
    guard: dict[str, object] = {}
    if where.statuses is not None:
        guard["status"] = tuple(where.statuses)
    if where.ids is not None:
        guard["id"] = tuple(where.ids)
    if where.model is not None:
        guard["listed_model"] = where.model
    if where.owner is not None:
        guard["owner"] = where.owner
    if where.tier is not None:
        guard["tier"] = SERVICE_TIERS.index(where.tier)
    terms, params = _where(guard) if guard else ("1 = 1", {})
    if where.expired is not None:
        params["expired_name"] = EXPIRED
        if where.expired:
            terms += " AND error_name = :expired_name"
        else:
            terms += " AND (error_name IS NULL OR error_name <> :expired_name)"
    for bound, compare in ((where.older_than, "<"), (where.newer_than, ">")):
        if bound is not None:
            name = "older" if compare == "<" else "newer"
            terms += (
                f" AND (created_at {compare} :{name}_at"
                f" OR (created_at = :{name}_at AND id {compare} :{name}_id))"
            )
            params |= {f"{name}_at": bound[0], f"{name}_id": bound[1]}
    return terms, params


def cancel_requested(job_id: str) -> Statement:
    return "SELECT cancel_requested FROM jobs WHERE id = :id", {"id": job_id}


def running_worker_ids() -> Statement:
    sql = "SELECT DISTINCT worker_id FROM jobs WHERE status = :generating ORDER BY worker_id"
    return sql, {"generating": GENERATING.value}


def _where(guard: Guard) -> tuple[str, dict[str, object]]:
    terms: list[str] = []
    params: dict[str, object] = {}
    for column, value in guard.items():
        if isinstance(value, tuple | list | frozenset | set) and not value:
            terms.append("1 = 0")  # IN () is not valid SQL: an empty choice matches nothing
            continue
        _check_column(column)
        if isinstance(value, tuple | list | frozenset | set):
            names = [f"is_{column}_{i}" for i in range(len(value))]
            terms.append(f"{column} IN ({', '.join(':' + n for n in names)})")
            params |= {n: encode(v) for n, v in zip(names, value, strict=True)}
        else:
            terms.append(f"{column} = :is_{column}")
            params[f"is_{column}"] = encode(value)
    return " AND ".join(terms), params


def _encoded(values: Mapping[str, object]) -> dict[str, object]:
    return {name: encode(value) for name, value in values.items()}


def _check_column(name: str) -> None:
    # Column names are interpolated into SQL text: only the table's own are allowed.
    if name not in JOB_COLUMNS and name not in WRITE_ONLY_COLUMNS:
        raise ValueError(f"unknown jobs column {name!r}")


def _deadline(created_at: float, after: float | None) -> float | None:
    return None if after is None else created_at + after
