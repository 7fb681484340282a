"""Durable job stores, chosen by URL (see `open_store`)."""

from clipforge.store.base import Claim, JobStore
from clipforge.store.sqlite import SQLiteJobStore

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def open_store(url: str, *, max_attempts: int = 3) -> JobStore:
    """`sqlite:///path/to.db`, or `postgresql://user@host:port/name` (the scale-out engine)."""
    if url.startswith("sqlite:///"):
        return SQLiteJobStore(url.removeprefix("sqlite:///"), max_attempts=max_attempts)
    if url.startswith(POSTGRES_SCHEMES):
        from clipforge.store.postgres import PostgresJobStore  # psycopg only when asked for

        return PostgresJobStore(url, max_attempts=max_attempts)
    raise ValueError(
        f"unsupported database URL {url!r}: expected sqlite:///PATH or postgresql://..."
    )


def is_postgres_url(url: str) -> bool:
    return url.startswith(POSTGRES_SCHEMES)


__all__ = ["Claim", "JobStore", "SQLiteJobStore", "is_postgres_url", "open_store"]
