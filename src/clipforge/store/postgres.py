"""The scale-out engine: the same `jobs` table on PostgreSQL, shared by many machines.

Statements come from `store/sql.py` (and `store/keys.py`) and are rewritten from `:name` to
psycopg's `%(name)s` in one place (`_psycopg`). A claim locks its candidate row with
`FOR UPDATE SKIP LOCKED`, so concurrent claimers never wait on each other nor take the same
job; every other write is one guarded UPDATE. Connections come from a pool that checks each
one before lending it, so a restarted server costs no failed call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import psycopg
from psycopg_pool import ConnectionPool

from clipforge.schemas import GenerationRequest, Job, JobStatus
from clipforge.store import pg_schema, rules, sql
from clipforge.store.base import NO_EXTRAS, Claim, JobExtras, OnceKey
from clipforge.store.pg_sql import Row, apply, claim_candidate, one, psycopg_style, row_factory
from clipforge.store.sql_store import SqlJobStore

log = logging.getLogger(__name__)


class PostgresJobStore(SqlJobStore):
    """`JobStore` on a PostgreSQL database (`postgresql://user@host:port/name`)."""

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

    def create(self, request: GenerationRequest, extras: JobExtras = NO_EXTRAS) -> Job:
        job = rules.new_job(request, self._clock())
        self._execute(sql.insert(job, extras))
        self._created(job)
        return job

    def create_once(
        self, request: GenerationRequest, once: OnceKey, extras: JobExtras = NO_EXTRAS
    ) -> tuple[Job, bool]:
        with self._transaction() as conn:
            # Serialise makers of the same key: the loser then sees the winner's row.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (once.scope + once.key,))
            row = one(conn, sql.idempotency_lookup(once))
            if row is not None:
                return sql.job_from_row(row), row["fingerprint"] == once.fingerprint
            job = rules.new_job(request, self._clock())
            conn.execute(*psycopg_style(sql.insert(job, extras)))
            conn.execute(*psycopg_style(sql.idempotency_insert(once, job.id, job.created_at)))
        self._created(job)
        return job, True

    def claim(
        self,
        worker_id: str,
        lease_seconds: float,
        models: Sequence[str] | None = None,
        prefer: Sequence[str] | None = None,
    ) -> Claim | None:
        rules.check_lease(lease_seconds)
        for wanted in rules.claim_searches(models, prefer):
            claim = self._claim(worker_id, lease_seconds, wanted, None)
            if claim is not None:
                return claim
        return None

    def claim_job(self, job_id: str, worker_id: str, lease_seconds: float) -> Claim | None:
        """Claim this one job if it is claimable now (the queue engine's task names it)."""
        rules.check_lease(lease_seconds)
        if not rules.is_job_id(job_id):
            return None
        return self._claim(worker_id, lease_seconds, None, job_id)

    def _claim(
        self, worker_id: str, lease: float, models: Sequence[str] | None, job_id: str | None
    ) -> Claim | None:
        with self._transaction() as conn:
            now = self._clock()
            while row := one(conn, claim_candidate(now, models, job_id)):
                job = sql.job_from_row(row)
                changes = rules.on_claim(job, worker_id, lease, now, self.max_attempts)
                taken = apply(conn, changes, rules.snapshot(job))
                if taken.status is JobStatus.GENERATING:
                    return Claim(taken, worker_id, taken.attempts)
        return None

    def recover(self, dead_worker_ids: Sequence[str]) -> int:
        dead = rules.names(dead_worker_ids)
        if not dead:
            return 0
        with self._transaction() as conn:
            now = self._clock()
            held = sql.select({"status": JobStatus.GENERATING, "worker_id": dead})
            text, params = psycopg_style(held)
            rows = conn.execute(text + " FOR UPDATE", params).fetchall()
            for job in (sql.job_from_row(row) for row in rows):
                lost = rules.abandoned(job.attempts, now, self.max_attempts, "stopped responding")
                apply(conn, lost, rules.snapshot(job))
        return len(rows)

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

    def _fenced(self, claim: Claim, changes: rules.Changes) -> bool:
        guard = rules.fence(claim.worker_id, claim.attempt, claim.job.id)
        return len(self._execute(sql.update(changes, guard, returning=True))) == 1

    def _execute(self, statement: sql.Statement) -> list[Row]:
        with self._pool.connection() as conn:
            cursor = conn.execute(*psycopg_style(statement))
            return cast(list[Row], cursor.fetchall()) if cursor.description else []

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection[Any]]:
        with self._pool.connection() as conn, conn.transaction():
            yield conn

    def _migrate(self) -> None:
        with self._transaction() as conn:
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
