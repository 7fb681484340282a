"""What only the PostgreSQL engine promises: the same schema as SQLite, its version table,
row locks that claimers skip, and selection by URL. Runs on a real throwaway cluster."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import psycopg
import pytest

from clipforge.store import SQLiteJobStore, open_store
from clipforge.store.pg_schema import MIGRATIONS, to_postgres
from clipforge.store.postgres import PostgresJobStore
from tests.postgres import PostgresCluster
from tests.store.support import request

_TYPES = {"text": "TEXT", "double precision": "REAL", "integer": "INTEGER"}


def _sqlite_columns(path: Path) -> dict[str, set[tuple[str, str]]]:
    with closing(sqlite3.connect(path)) as raw:
        tables = [r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            table: {(r[1], r[2]) for r in raw.execute(f"PRAGMA table_info({table})")}
            for table in tables
        }


def _postgres_columns(url: str) -> dict[str, set[tuple[str, str]]]:
    query = (
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name <> 'schema_version'"
    )
    tables: dict[str, set[tuple[str, str]]] = {}
    with psycopg.connect(url) as conn:
        for table, column, kind in conn.execute(query):
            tables.setdefault(table, set()).add((column, _TYPES.get(kind, kind)))
    return tables


def test_both_engines_have_the_same_tables_and_columns(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    url = postgres.new_database()
    PostgresJobStore(url).close()
    SQLiteJobStore(tmp_path / "jobs.db").close()
    assert _postgres_columns(url) == _sqlite_columns(tmp_path / "jobs.db")


def test_the_schema_version_counts_the_migrations_and_a_newer_one_is_refused(
    postgres: PostgresCluster,
) -> None:
    url = postgres.new_database()
    with PostgresJobStore(url) as store:
        store.create(request())
    with PostgresJobStore(url) as again:  # a second open migrates nothing and keeps the job
        assert again.count_jobs() == 1
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchone() == (len(MIGRATIONS),)
        conn.execute("UPDATE schema_version SET version = version + 1")
    with pytest.raises(RuntimeError, match="schema version"):
        PostgresJobStore(url)


def test_an_untranslatable_sqlite_migration_fails_loudly() -> None:
    assert to_postgres("ALTER TABLE jobs ADD COLUMN x REAL") == (
        "ALTER TABLE jobs ADD COLUMN x DOUBLE PRECISION"
    )
    with pytest.raises(ValueError, match="cannot translate"):
        to_postgres("UPDATE jobs SET x = strftime('%s', 'now')")


def test_a_claim_skips_a_row_another_transaction_holds(postgres: PostgresCluster) -> None:
    url = postgres.new_database()
    with PostgresJobStore(url) as store, psycopg.connect(url) as other:
        first, second = store.create(request("one")), store.create(request("two"))
        other.execute("SELECT id FROM jobs WHERE id = %s FOR UPDATE", (first.id,))
        taken: list[str] = []
        thread = threading.Thread(target=lambda: taken.append(store.claim("w", 30.0).job.id))
        thread.start()
        thread.join(10)
        assert taken == [second.id]  # did not wait for the lock on the older job
        other.rollback()
        claim = store.claim("w2", 30.0)
        assert claim is not None and claim.job.id == first.id


def test_claim_job_takes_only_the_named_job(postgres: PostgresCluster) -> None:
    with PostgresJobStore(postgres.new_database()) as store:
        older, newer = store.create(request("older")), store.create(request("newer"))
        claim = store.claim_job(newer.id, "w", 30.0)
        assert claim is not None and claim.job.id == newer.id and claim.attempt == 1
        assert store.claim_job(newer.id, "w2", 30.0) is None  # held on a live lease
        assert store.claim_job("not-an-id", "w", 30.0) is None
        assert store.get(older.id).status.value == "queued"


def test_open_store_picks_postgresql_by_url(postgres: PostgresCluster) -> None:
    with open_store(postgres.new_database(), max_attempts=4) as store:
        assert isinstance(store, PostgresJobStore) and store.max_attempts == 4
