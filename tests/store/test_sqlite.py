"""What only the SQLite engine promises: its file, pragmas, schema version and connections."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest

from clipforge.store import SQLiteJobStore, open_store
from clipforge.store.schema import MIGRATIONS
from tests.store.support import request


def test_the_file_and_its_folder_are_created_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "jobs.db"
    with SQLiteJobStore(path) as store:
        store.create(request())
    assert path.exists()
    with closing(sqlite3.connect(path)) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        indexes = {
            row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type='index'")
        }
    assert {"jobs_claim_order", "jobs_newest", "jobs_running"} <= indexes


def test_each_thread_gets_a_connection_with_the_pragmas(tmp_path: Path) -> None:
    store = SQLiteJobStore(tmp_path / "jobs.db")
    seen: list[tuple[int, int, int, int]] = []

    def look() -> None:
        conn = store._connection()
        pragmas = [
            conn.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("busy_timeout", "synchronous", "foreign_keys")
        ]
        seen.append((id(conn), *pragmas))

    threads = [threading.Thread(target=look) for _ in range(3)]
    for thread in threads:
        thread.start()
        thread.join()
    store.close()
    assert len({conn for conn, *_ in seen}) == 3
    # busy_timeout in ms; synchronous NORMAL is 1; foreign keys on
    assert {tuple(rest) for _, *rest in seen} == {(10_000, 1, 1)}


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    SQLiteJobStore(path).close()
    with closing(sqlite3.connect(path)) as raw:
        raw.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(RuntimeError, match="schema version"):
        SQLiteJobStore(path)


def test_a_closed_store_refuses_new_connections(tmp_path: Path) -> None:
    store = SQLiteJobStore(tmp_path / "jobs.db")
    store.close()
    errors: list[BaseException] = []

    def use() -> None:
        try:
            store.create(request())
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=use)
    thread.start()
    thread.join()
    assert len(errors) == 1 and "closed" in str(errors[0])


@pytest.mark.parametrize("path", [":memory:", ""])
def test_an_in_memory_database_is_refused(path: str) -> None:
    with pytest.raises(ValueError):
        SQLiteJobStore(path)


def test_open_store_picks_the_engine_by_url(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'jobs.db'}", max_attempts=5) as store:
        assert isinstance(store, SQLiteJobStore) and store.max_attempts == 5
    with pytest.raises(ValueError, match="unsupported"):
        open_store("mysql://localhost/jobs")
