"""The PostgreSQL schema, derived from the SQLite migrations so the two cannot drift apart.

Each step of `schema.MIGRATIONS` is rewritten into PostgreSQL's dialect here (REAL is a
4-byte float in PostgreSQL: timestamps need DOUBLE PRECISION; JSON paths use `->>`), and a
step this module cannot translate fails loudly at import, not in production. The applied
count is kept in a one-row `schema_version` table (SQLite's `user_version`).
"""

from __future__ import annotations

import re

from clipforge.store.schema import MIGRATIONS as SQLITE_MIGRATIONS

_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
    (re.compile(r"json_extract\((\w+), '\$\.(\w+)'\)"), r"(\1::jsonb ->> '\2')"),
)
_UNTRANSLATED = re.compile(r"\b(json_\w+|PRAGMA|AUTOINCREMENT|datetime|strftime)\b", re.I)

VERSION_TABLE = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
MIGRATION_LOCK = 0x636C6970  # pg_advisory_xact_lock key: one migrating process at a time


def to_postgres(statement: str) -> str:
    """One SQLite DDL statement in PostgreSQL's dialect (ValueError if it cannot say)."""
    for pattern, replacement in _REWRITES:
        statement = pattern.sub(replacement, statement)
    leftover = _UNTRANSLATED.search(statement)
    if leftover:
        raise ValueError(
            f"store/pg_schema.py cannot translate {leftover.group(0)!r} in a SQLite "
            f"migration into PostgreSQL: add a rewrite for it\n{statement}"
        )
    return statement


MIGRATIONS: tuple[tuple[str, ...], ...] = tuple(
    tuple(to_postgres(statement) for statement in step) for step in SQLITE_MIGRATIONS
)
