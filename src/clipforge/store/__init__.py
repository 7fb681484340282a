"""Durable job stores, chosen by URL (see `open_store`)."""

from clipforge.store.base import Claim, JobStore
from clipforge.store.sqlite import SQLiteJobStore


def open_store(url: str, *, max_attempts: int = 3) -> JobStore:
    """`sqlite:///path/to.db` (PostgreSQL comes with the scale-out engine)."""
    if url.startswith("sqlite:///"):
        return SQLiteJobStore(url.removeprefix("sqlite:///"), max_attempts=max_attempts)
    raise ValueError(f"unsupported database URL {url!r}: expected sqlite:///PATH")


__all__ = ["Claim", "JobStore", "SQLiteJobStore", "open_store"]
