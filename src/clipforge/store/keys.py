"""API keys as the store keeps them: only a SHA-256 of each key, never the key itself.

A key is `cf_` and 43 random URL-safe characters (256 bits), so a plain SHA-256 is enough to
make a stolen database useless for logging in (no slow hash needed against guessing). Each key
may be an admin key (sees and manages every job) and may carry its own limits (queued jobs,
requests per minute) in place of the server's defaults. The SQL here is portable; an engine
runs it with its own connections.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

Statement = tuple[str, dict[str, object]]

KEY_PREFIX = "cf_"
_COLUMNS = "id, name, created_at, revoked_at, admin, max_queued, rate_per_minute"


@dataclass(frozen=True)
class KeyLimits:
    """A key's own settings: `admin` sees every job; `max_queued` and `rate_per_minute` replace
    the server's defaults for this key (None: the default; 0: unlimited)."""

    admin: bool = False
    max_queued: int | None = None
    rate_per_minute: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_queued", "rate_per_minute"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be 0 (unlimited) or more, got {value}")


NO_LIMITS = KeyLimits()


@dataclass(frozen=True)
class ApiKey:
    """A key's record: `id` names it in listings, limits and job ownership."""

    id: str
    name: str
    created_at: float
    revoked_at: float | None = None
    limits: KeyLimits = NO_LIMITS


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def insert(name: str, secret: str, now: float, limits: KeyLimits) -> tuple[ApiKey, Statement]:
    key = ApiKey(id=uuid.uuid4().hex[:12], name=name, created_at=now, limits=limits)
    sql = (
        "INSERT INTO api_keys (id, name, digest, created_at, admin, max_queued, rate_per_minute)"
        " VALUES (:id, :name, :digest, :created_at, :admin, :max_queued, :rate_per_minute)"
    )
    params = {"id": key.id, "name": name, "digest": digest(secret), "created_at": now}
    params |= {"admin": int(limits.admin), "max_queued": limits.max_queued}
    return key, (sql, params | {"rate_per_minute": limits.rate_per_minute})


def find_active(secret: str) -> Statement:
    sql = f"SELECT {_COLUMNS} FROM api_keys"
    return sql + " WHERE digest = :digest AND revoked_at IS NULL", {"digest": digest(secret)}


def count_all() -> Statement:
    """Every key ever made, revoked ones too (a keyed server never opens again)."""
    return "SELECT COUNT(*) FROM api_keys", {}


def list_all() -> Statement:
    return f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at, id", {}


def revoke(key_id: str, now: float) -> Statement:
    sql = "UPDATE api_keys SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL"
    return sql + " RETURNING id", {"id": key_id, "now": now}


def from_row(row: Any) -> ApiKey:
    limits = KeyLimits(bool(row["admin"]), row["max_queued"], row["rate_per_minute"])
    return ApiKey(row["id"], row["name"], row["created_at"], row["revoked_at"], limits)


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

LIMITS_MIGRATION: tuple[str, ...] = (
    "ALTER TABLE api_keys ADD COLUMN admin INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE api_keys ADD COLUMN max_queued INTEGER",
    "ALTER TABLE api_keys ADD COLUMN rate_per_minute INTEGER",
)
"""Admin keys and per-key limits (a later step: existing keys stay plain, server defaults)."""
