"""Request rate limits as a generic cell rate algorithm (GCRA): one number per key.

A key allowed `per_minute` requests has a theoretical arrival time `tat`: each request moves it
on by 60 / per_minute seconds (from now, if it lies in the past), and a request is refused when
that would put it more than a minute ahead. So a quiet key may send `per_minute` requests at
once, and a busy one gets an even `per_minute` a minute, with the exact wait when refused.

`next_arrival` is the rule; `take` is the same rule as one SQL statement for the store, so
that every API process sharing a database counts against one limit.
"""

from __future__ import annotations

WINDOW_SECONDS = 60.0

Statement = tuple[str, dict[str, object]]


def interval(per_minute: int) -> float:
    return WINDOW_SECONDS / per_minute


def next_arrival(tat: float | None, now: float, per_minute: int) -> tuple[float | None, float]:
    """(the new tat, 0) when a request is allowed now; (None, seconds to wait) when not."""
    moved = max(tat if tat is not None else now, now) + interval(per_minute)
    if moved - now <= WINDOW_SECONDS:
        return moved, 0.0
    return None, moved - now - WINDOW_SECONDS


_LATER = "CASE WHEN rate_limits.tat > :now THEN rate_limits.tat ELSE :now END + :interval"


def take(key_id: str, now: float, per_minute: int) -> Statement:
    """`next_arrival` in SQL: one row (the new tat) when allowed, none when refused."""
    sql = (
        "INSERT INTO rate_limits (key_id, tat) VALUES (:key_id, :now + :interval)"
        f" ON CONFLICT (key_id) DO UPDATE SET tat = {_LATER}"
        f" WHERE {_LATER} <= :now + :window RETURNING tat"
    )
    params = {"key_id": key_id, "now": now, "interval": interval(per_minute)}
    return sql, params | {"window": WINDOW_SECONDS}


def current(key_id: str) -> Statement:
    return "SELECT tat FROM rate_limits WHERE key_id = :key_id", {"key_id": key_id}


def wait_after_refusal(tat: float, now: float, per_minute: int) -> float:
    """Seconds until a refused key may send again (the `Retry-After`)."""
    return max(0.0, tat + interval(per_minute) - now - WINDOW_SECONDS)


MIGRATION: tuple[str, ...] = (
    "CREATE TABLE rate_limits (key_id TEXT PRIMARY KEY, tat REAL NOT NULL)",
)
