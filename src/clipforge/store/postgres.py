"""The scale-out engine: the same `jobs` table on PostgreSQL, shared by many machines.

Statements come from `store/sql.py` (and `store/keys.py`) and are rewritten from `:name` to
psycopg's `%(name)s` in one place (`pg_sql.psycopg_style`). A claim locks its candidate row
with `FOR UPDATE SKIP LOCKED`, so concurrent claimers never wait on each other nor take the
same job; writers that decide from a read take an advisory lock on what they decide about;
every other write is one guarded UPDATE. Connections come from a pool that checks each one
before lending it, so a restarted server costs no failed call. The operations themselves are
`store/sql_store.py`'s.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import psycopg
from psycopg_pool import ConnectionPool

from clipforge.schemas import Job
from clipforge.store import pg_schema, sql
from clipforge.store.pg_sql import Row, claim_candidate, psycopg_style, row_factory
from clipforge.store.sql_store import SqlJobStore

log = logging.getLogger(__name__)


class _Transaction:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def rows(self, statement: sql.Statement) -> list[Row]:
        cursor = self.conn.execute(*psycopg_style(statement))
        return cast(list[Row], cursor.fetchall()) if cursor.description else []

    def lock(self, name: str) -> None:
        self.conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (name,))


class PostgresJobStore(SqlJobStore):
    """`JobStore` on a PostgreSQL database (`postgresql://user@host:port/name`)."""

    _row_lock = " FOR UPDATE"

    def __init__(
        self,
        url: str,
        *,
        max_attempts: int = 3,
        clock: Callable[[], float] = time.time,
        pool_size: int = 20,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self.url = url
        self.max_attempts = max_attempts
        self.concurrency = pool_size
        self._clock = clock
        self.on_created: Callable[[Job], None] | None = None
        """Called with each new job once its insert has committed (the queue's enqueue)."""
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True, "row_factory": row_factory},
            check=ConnectionPool.check_connection,
            open=False,
            name="clipforge-store",
        )
        self._pool.open(wait=True, timeout=30)
        try:
            self._migrate()
        except BaseException:
            self._pool.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresJobStore({self.url.rsplit('@', 1)[-1]!r})"

    def close(self) -> None:
        self._pool.close()

    def now(self) -> float:
        """The store's clock (what leases and deadlines are compared with)."""
        return self._clock()

    def _created(self, job: Job) -> None:
        # After the commit: a job whose enqueue fails (or whose API dies first) is still
        # durable, and the queue's recovery sweep gives it a task.
        if self.on_created is None:
            return
        try:
            self.on_created(job)
        except Exception:
            log.exception("job %s: enqueue failed; the recovery sweep will retry", job.id)

    def _claim_candidate(
        self, now: float, models: Sequence[str] | None, job_id: str | None
    ) -> sql.Statement:
        return claim_candidate(now, models, job_id)

    def _execute(self, statement: sql.Statement) -> list[Row]:
        with self._pool.connection() as conn:
            return _Transaction(conn).rows(statement)

    @contextmanager
    def _transaction(self) -> Iterator[_Transaction]:
        with self._pool.connection() as conn, conn.transaction():
            yield _Transaction(conn)

    def _migrate(self) -> None:
        with self._transaction() as tx:
            conn = tx.conn
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (pg_schema.MIGRATION_LOCK,))
            conn.execute(pg_schema.VERSION_TABLE)
            row = conn.execute("SELECT version FROM schema_version").fetchone()
            version = 0 if row is None else int(row[0])
            known = len(pg_schema.MIGRATIONS)
            if version > known:
                raise RuntimeError(
                    f"the database has schema version {version}; this ClipForge knows "
                    f"{known}: upgrade ClipForge"
                )
            for step in pg_schema.MIGRATIONS[version:]:
                for statement in step:
                    conn.execute(statement)
            if row is None:
                conn.execute("INSERT INTO schema_version VALUES (%s)", (known,))
            else:
                conn.execute("UPDATE schema_version SET version = %s", (known,))
