"""The embedded engine: one SQLite file in WAL mode, shared by threads and by processes.

Each thread gets its own connection. Writes that read first (claim, recover, capped creates,
migrations) run inside `BEGIN IMMEDIATE`, which takes the database's one write lock before
reading, so two workers can never both see the same job as claimable; every other write is a
single guarded UPDATE. What the writes contain comes from `store/rules.py`, the operations
from `store/sql_store.py`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from clipforge.store import claim_sql, sql
from clipforge.store.schema import MIGRATIONS
from clipforge.store.sql_store import SqlJobStore

BUSY_TIMEOUT_S = 10.0

_PRAGMAS = (
    f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
)


class _Transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def rows(self, statement: sql.Statement) -> list[sqlite3.Row]:
        return self.conn.execute(*statement).fetchall()

    def lock(self, name: str) -> None:
        """Nothing to do: `BEGIN IMMEDIATE` already holds the database's one write lock."""


class SQLiteJobStore(SqlJobStore):
    """`JobStore` on a SQLite file (created with its folder if missing)."""

    runs_inline = True

    def __init__(
        self,
        path: str | Path,
        *,
        max_attempts: int = 3,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if str(path) in ("", ":memory:"):
            raise ValueError("SQLiteJobStore needs a file: each thread opens its own connection")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self.path = Path(path)
        self.max_attempts = max_attempts
        self._clock = clock
        self._lock = threading.Lock()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._inherited: list[sqlite3.Connection] = []
        self._pid = os.getpid()
        self._closed = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._migrate()

    def __repr__(self) -> str:
        return f"SQLiteJobStore({str(self.path)!r})"

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()

    def _claim_candidate(
        self, now: float, models: Sequence[str] | None, job_id: str | None
    ) -> sql.Statement:
        return claim_sql.claim_candidate(now, models, job_id)

    def _execute(self, statement: sql.Statement) -> list[sqlite3.Row]:
        # fetchall() steps the statement to its end, which is what commits an autocommit write.
        return self._connection().execute(*statement).fetchall()

    @contextmanager
    def _transaction(self) -> Iterator[_Transaction]:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield _Transaction(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _connection(self) -> sqlite3.Connection:
        if os.getpid() != self._pid:
            self._forget_parent_connections()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def _connect(self) -> sqlite3.Connection:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self!r} is closed")
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            self._connections.append(conn)
        conn.row_factory = sqlite3.Row
        for pragma in _PRAGMAS:
            conn.execute(pragma)
        return conn

    def _forget_parent_connections(self) -> None:
        # A forked child must not use (nor close) the parent's connections; it opens its own.
        with self._lock:
            self._inherited += self._connections
            self._connections = []
            self._local = threading.local()
            self._pid = os.getpid()

    def _migrate(self) -> None:
        if _user_version(self._connection()) == len(MIGRATIONS):
            return
        with self._transaction() as tx:
            version = _user_version(tx.conn)
            if version > len(MIGRATIONS):
                raise RuntimeError(
                    f"{self.path} has schema version {version}; this ClipForge knows "
                    f"{len(MIGRATIONS)}: upgrade ClipForge"
                )
            for number in range(version + 1, len(MIGRATIONS) + 1):
                for statement in MIGRATIONS[number - 1]:
                    tx.conn.execute(statement)
                tx.conn.execute(f"PRAGMA user_version = {number}")


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])
