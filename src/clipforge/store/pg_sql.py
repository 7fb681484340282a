"""PostgreSQL's side of the shared SQL: parameter style, rows, the locking claim query.

`store/sql.py` writes `:name` parameters (sqlite3's style); psycopg wants `%(name)s`, so
`psycopg_style` rewrites every statement in this one place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from clipforge.store import claim_sql, sql

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


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
    """`claim_sql.claim_candidate`, row-locked: rows other claimers hold are skipped, not
    waited for (only `jobs` is locked: the ranking's window function cannot be)."""
    return claim_sql.claim_candidate(now, models, job_id, " FOR UPDATE OF jobs SKIP LOCKED")
