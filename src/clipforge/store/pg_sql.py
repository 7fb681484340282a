"""PostgreSQL's side of the shared SQL: parameter style, rows, the locking claim query.

`store/sql.py` writes `:name` parameters (sqlite3's style); psycopg wants `%(name)s`, so
`psycopg_style` rewrites every statement in this one place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from clipforge.store import rules, sql

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_SELECT = "SELECT " + ", ".join(sql.JOB_COLUMNS) + " FROM jobs"


class Row(dict[str, Any]):
    """A result row readable by column name (as `sql.job_from_row` does) or by position."""

    def __getitem__(self, key: str | int) -> Any:
        if isinstance(key, int):
            return list(self.values())[key]
        return super().__getitem__(key)


def row_factory(cursor: Any) -> Callable[[Sequence[Any]], Row]:
    names = [column.name for column in cursor.description or ()]
    return lambda values: Row(zip(names, values, strict=True))


def psycopg_style(statement: sql.Statement) -> tuple[str, dict[str, object]]:
    """`:name` parameters as psycopg's `%(name)s` (a literal % doubled)."""
    text, params = statement
    return _PARAM.sub(r"%(\1)s", text.replace("%", "%%")), params


def claim_candidate(now: float, models: Sequence[str] | None, job_id: str | None) -> sql.Statement:
    """The oldest claimable job (queued, or generating on an expired lease), row-locked; rows
    other claimers hold are skipped, not waited for."""
    params: dict[str, object] = {"queued": rules.QUEUED.value, "now": now}
    params["generating"] = rules.GENERATING.value
    # The same jobs as `sql.claim_candidate` (keep the two in step; the store suite runs on
    # both engines): a queued job past its deadline is the expiry sweep's, never a worker's.
    queued = "status = :queued AND (expires_at IS NULL OR expires_at > :now)"
    where = f"(({queued}) OR (status = :generating AND lease_expires_at <= :now))"
    if models is not None:
        marks = [f":model_{i}" for i in range(len(models))]
        where += f" AND model IN ({', '.join(marks)})"
        params |= {f"model_{i}": model for i, model in enumerate(models)}
    if job_id is not None:
        where, params["id"] = where + " AND id = :id", job_id
    order = f"ORDER BY {sql.CLAIM_ORDER} LIMIT 1 FOR UPDATE SKIP LOCKED"
    return f"{_SELECT} WHERE {where} {order}", params
