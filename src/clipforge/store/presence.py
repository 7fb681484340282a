"""Workers' presence and the queue's shape, in the database: what every API replica reads the
same way for `/readyz` and `/metrics`.

Each worker upserts its row every heartbeat, busy or idle (the warm model, the device memory
it holds), and removes it when it stops; a row not seen for a lease is a worker that died.
The queue's depth and its oldest job per model are one grouped read of the jobs table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Statement = tuple[str, dict[str, object]]

FORGET_AFTER_SECONDS = 3600.0
"""A row not seen for this long is deleted (a worker that died without saying goodbye)."""


@dataclass(frozen=True)
class WorkerPresence:
    """One worker as it last reported itself."""

    worker_id: str
    seen_at: float
    busy: bool = False
    model: str | None = None
    """The model it holds warm (None before the first load)."""
    device: str = "cpu"
    memory_in_use: int | None = None
    memory_peak: int | None = None
    """Device memory in bytes (CUDA devices only)."""
    adapters: Mapping[str, str | None] = field(default_factory=dict)
    """The LoRA adapters declared for its warm model -> None when loaded, else why not."""

    @property
    def failed_adapters(self) -> dict[str, str]:
        return {name: why for name, why in self.adapters.items() if why is not None}


@dataclass(frozen=True)
class QueueShape:
    """The queued jobs of one model: how many, and when the oldest was created."""

    model: str
    depth: int
    oldest_created_at: float


MIGRATION: tuple[str, ...] = (
    """CREATE TABLE workers (
        worker_id TEXT PRIMARY KEY,
        seen_at REAL NOT NULL,
        busy INTEGER NOT NULL DEFAULT 0,
        model TEXT,
        device TEXT NOT NULL DEFAULT 'cpu',
        memory_in_use INTEGER,
        memory_peak INTEGER
    )""",
)

ADAPTERS_MIGRATION: tuple[str, ...] = (
    "ALTER TABLE workers ADD COLUMN adapters TEXT NOT NULL DEFAULT '{}'",
)
"""Each worker's LoRA adapters and which failed to load (`/readyz`, `/v1/models`)."""


def upsert(presence: WorkerPresence) -> Statement:
    sql = (
        "INSERT INTO workers (worker_id, seen_at, busy, model, device, memory_in_use,"
        " memory_peak, adapters) VALUES (:worker_id, :seen_at, :busy, :model, :device,"
        " :memory_in_use, :memory_peak, :adapters) ON CONFLICT (worker_id) DO UPDATE SET"
        " seen_at = :seen_at, busy = :busy, model = :model, device = :device,"
        " memory_in_use = :memory_in_use, memory_peak = :memory_peak, adapters = :adapters"
    )
    params = {
        "worker_id": presence.worker_id,
        "seen_at": presence.seen_at,
        "busy": int(presence.busy),
        "model": presence.model,
        "device": presence.device,
        "memory_in_use": presence.memory_in_use,
        "memory_peak": presence.memory_peak,
        "adapters": json.dumps(dict(presence.adapters), sort_keys=True),
    }
    return sql, params


def remove(worker_id: str) -> Statement:
    return "DELETE FROM workers WHERE worker_id = :worker_id", {"worker_id": worker_id}


def forget_before(seen_before: float) -> Statement:
    return "DELETE FROM workers WHERE seen_at < :before", {"before": seen_before}


def seen_since(since: float) -> Statement:
    sql = (
        "SELECT worker_id, seen_at, busy, model, device, memory_in_use, memory_peak, adapters"
        " FROM workers WHERE seen_at >= :since ORDER BY worker_id"
    )
    return sql, {"since": since}


def from_row(row: Any) -> WorkerPresence:
    """A row by column name (SQLite's Row and psycopg's dict rows both take names)."""
    in_use, peak = row["memory_in_use"], row["memory_peak"]
    return WorkerPresence(
        worker_id=str(row["worker_id"]),
        seen_at=float(row["seen_at"]),
        busy=bool(row["busy"]),
        model=None if row["model"] is None else str(row["model"]),
        device=str(row["device"]),
        memory_in_use=None if in_use is None else int(in_use),
        memory_peak=None if peak is None else int(peak),
        adapters=json.loads(row["adapters"] or "{}"),
    )


def queue_shape() -> Statement:
    sql = (
        "SELECT model, COUNT(*) AS depth, MIN(created_at) AS oldest FROM jobs"
        " WHERE status = 'queued' GROUP BY model ORDER BY model"
    )
    return sql, {}


def shape_from_row(row: Any) -> QueueShape:
    return QueueShape(str(row["model"]), int(row["depth"]), float(row["oldest"]))
