"""API keys as the store keeps them: only a SHA-256 of each key, never the key itself.

A key is `cf_` and 43 random URL-safe characters (256 bits), so a plain SHA-256 is enough to
make a stolen database useless for logging in (no slow hash needed against guessing). The
SQL here is portable; an engine runs it with its own connections.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

Statement = tuple[str, dict[str, object]]

KEY_PREFIX = "cf_"


@dataclass(frozen=True)
class ApiKey:
    """A key's record: `id` names it in listings, limits and job ownership."""

    id: str
    name: str
    created_at: float
    revoked_at: float | None = None


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def insert(name: str, secret: str, now: float) -> tuple[ApiKey, Statement]:
    key = ApiKey(id=uuid.uuid4().hex[:12], name=name, created_at=now)
    sql = (
        "INSERT INTO api_keys (id, name, digest, created_at)"
        " VALUES (:id, :name, :digest, :created_at)"
    )
    params = {"id": key.id, "name": name, "digest": digest(secret), "created_at": now}
    return key, (sql, params)


def find_active(secret: str) -> Statement:
    sql = "SELECT id, name, created_at, revoked_at FROM api_keys"
    return sql + " WHERE digest = :digest AND revoked_at IS NULL", {"digest": digest(secret)}


def count_active() -> Statement:
    return "SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL", {}


def list_all() -> Statement:
    return "SELECT id, name, created_at, revoked_at FROM api_keys ORDER BY created_at, id", {}


def revoke(key_id: str, now: float) -> Statement:
    sql = "UPDATE api_keys SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL"
    return sql + " RETURNING id", {"id": key_id, "now": now}


def from_row(row: Any) -> ApiKey:
    return ApiKey(row["id"], row["name"], row["created_at"], row["revoked_at"])


MIGRATION: tuple[str, ...] = (
    """CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        digest TEXT NOT NULL UNIQUE,
        created_at REAL NOT NULL,
        revoked_at REAL
    )""",
)
"""The table (portable SQL): appended to each engine's migrations."""
