"""Stored webhook secrets, one row per API key that has one (`clipforge/signing.py` says who
has one and what the others use). Portable SQL; an engine runs it with its own connections.

Rows are keyed by the key's id, not tied to `api_keys`, so that a key from CLIPFORGE_API_KEYS
(which has no row there) can be rotated too. The secrets are kept as they are sent to the
tenant: a notification must be signed with them, so they cannot be stored hashed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Statement = tuple[str, dict[str, object]]


@dataclass(frozen=True)
class StoredWebhookSecret:
    key_id: str
    secret: str
    previous: str | None
    previous_until: float | None


def put(
    key_id: str, secret: str, previous: str | None, previous_until: float | None, now: float
) -> Statement:
    sql = (
        "INSERT INTO webhook_secrets (key_id, secret, previous, previous_until, updated_at)"
        " VALUES (:key_id, :secret, :previous, :previous_until, :now)"
        " ON CONFLICT (key_id) DO UPDATE SET secret = excluded.secret,"
        " previous = excluded.previous, previous_until = excluded.previous_until,"
        " updated_at = excluded.updated_at"
    )
    params = {"key_id": key_id, "secret": secret, "previous": previous}
    return sql, params | {"previous_until": previous_until, "now": now}


def find(key_id: str) -> Statement:
    sql = "SELECT key_id, secret, previous, previous_until FROM webhook_secrets"
    return sql + " WHERE key_id = :key_id", {"key_id": key_id}


def from_row(row: Any) -> StoredWebhookSecret:
    return StoredWebhookSecret(row["key_id"], row["secret"], row["previous"], row["previous_until"])


MIGRATION: tuple[str, ...] = (
    """CREATE TABLE webhook_secrets (
        key_id TEXT PRIMARY KEY,
        secret TEXT NOT NULL,
        previous TEXT,
        previous_until REAL,
        updated_at REAL NOT NULL
    )""",
)
"""The table (portable SQL): appended to each engine's migrations."""
