"""Which claimable job goes next, on both engines: the claim order and the queue position.

The order: the default tier before flex, then higher priority, then, within those, keys
(tenants) take turns: a job's `turn` is its place in its own key's line after the key's
running jobs, and among jobs of the same turn the key served longest ago (its latest start)
goes first, then the oldest job. So one key's backlog of 120 jobs makes another key's first
job wait for one job, not 120, and within a key jobs stay oldest first. Everything is read
from the jobs table (GROUP BY; a window function for PostgreSQL's claim), with no column or
migration of its own. Both queries read every queued row of the tier and priority they look
at: about 1.3 ms with 1000 queued on SQLite (docs/BENCHMARKS.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from clipforge.store.rules import GENERATING, QUEUED
from clipforge.store.sql import JOB_COLUMNS, Statement

SERVICE_MEMORY_S = 3600.0
"""How far back a key's last start counts for `served` (jobs running, or finished since):
older service is forgotten, so a key idle for an hour is as new as one never served."""

_READY = "{t}status = :queued AND ({t}expires_at IS NULL OR {t}expires_at > :now)"
_CLAIMABLE = f"(({_READY}) OR ({{t}}status = :generating AND {{t}}lease_expires_at <= :now))"
"""A job a worker may take: queued and not past its deadline (a queued job past it is the
expiry sweep's), or generating on a lease that ran out."""


def claim_candidate(
    now: float, models: Sequence[str] | None, job_id: str | None, lock: str = ""
) -> Statement:
    """The claimable job (among `models`, or this one job) that goes next (the order above).

    Without `lock` (SQLite: one claimer at a time, under its write lock) only the first job
    of a key's line in a (tier, priority) can go next, its turn 1 + the key's running jobs:
    the lines' heads come from a GROUP BY, no sort of the whole queue. With `lock`
    (PostgreSQL: `FOR UPDATE OF jobs SKIP LOCKED`) claimers run side by side and skip each
    other's rows, so every claimable job is ranked (a window function) and the next one in
    line is taken; the claimable test is repeated on `jobs` so that a row another claimer
    changed meanwhile is rechecked, and skipped."""
    only, params = _only(models, job_id)
    where = f"{_CLAIMABLE.format(t='')}{only}"
    if lock:
        line = "PARTITION BY owner, tier, priority ORDER BY created_at, id"
        fields = f"id, owner, tier, priority, ROW_NUMBER() OVER ({line}) AS n"
        candidates, match = f"SELECT {fields} FROM jobs WHERE {where}", "jobs.id = c.id"
    else:
        fields = "owner, tier, priority, MIN(created_at) AS first, 1 AS n"
        candidates = f"SELECT {fields} FROM jobs WHERE {where} GROUP BY owner, tier, priority"
        match = (
            "jobs.created_at = c.first AND jobs.tier = c.tier AND jobs.priority = c.priority"
            " AND COALESCE(jobs.owner, '') = COALESCE(c.owner, '')"
        )
    columns = ", ".join(f"jobs.{name}" for name in JOB_COLUMNS)
    turn = "c.n + COALESCE(k.running, 0)"
    sql = (
        f"SELECT {columns} FROM ({candidates}) AS c LEFT JOIN ({_KEYS}) AS k"
        f" ON k.tenant = COALESCE(c.owner, '') JOIN jobs ON {match}"
        f" WHERE {_CLAIMABLE.format(t='jobs.')}{only.replace(' AND ', ' AND jobs.')}"
        f" ORDER BY c.tier, c.priority DESC, {turn}, COALESCE(k.served, 0), jobs.created_at,"
        f" jobs.id LIMIT 1{lock}"
    )
    return sql, params | _times(now)


def queue_position(job_id: str, now: float) -> Statement:
    """One row (the count of queued jobs ahead in the order above) if the job is queued and
    claimable; no row otherwise.

    Counted per key, not per job (one GROUP BY over the job's tier and priority): of another
    key's line, the jobs whose turn comes before this job's, and the one of the same turn if
    that key was served longer ago (served alike: if its line began earlier, where the claim
    compares those two jobs' ages: an estimate there, exact everywhere else)."""
    me = (
        "SELECT id, COALESCE(owner, '') AS tenant, tier, priority, created_at FROM jobs"
        f" WHERE id = :job_id AND {_READY.format(t='')}"
    )
    before = "q.created_at < j.created_at OR (q.created_at = j.created_at AND q.id < j.id)"
    lines = (
        "SELECT COALESCE(q.owner, '') AS tenant, COUNT(*) AS c, MIN(q.created_at) AS first,"
        f" SUM(CASE WHEN {before} THEN 1 ELSE 0 END) AS older FROM jobs AS q JOIN j"
        f" ON q.tier = j.tier AND q.priority = j.priority WHERE {_READY.format(t='q.')}"
        " GROUP BY COALESCE(q.owner, '')"
    )
    per = (
        "SELECT l.*, COALESCE(k.running, 0) AS running, COALESCE(k.served, 0) AS served"
        f" FROM lines AS l LEFT JOIN ({_KEYS}) AS k ON k.tenant = l.tenant"
    )
    mine = "SELECT p.*, p.running + p.older + 1 AS turn FROM per AS p JOIN j USING (tenant)"
    gap = "m.turn - 1 - o.running"
    below = f"CASE WHEN {gap} < 0 THEN 0 WHEN {gap} > o.c THEN o.c ELSE {gap} END"
    earlier = "o.served < m.served OR (o.served = m.served AND o.first < m.first)"
    tie = f"CASE WHEN o.c > {gap} AND {gap} >= 0 AND ({earlier}) THEN 1 ELSE 0 END"
    others = f"SELECT SUM({below} + {tie}) FROM per AS o WHERE o.tenant <> m.tenant"
    better = (
        "SELECT COUNT(*) FROM jobs AS b, j WHERE b.status = :queued"
        " AND (b.tier < j.tier OR (b.tier = j.tier AND b.priority > j.priority))"
    )
    sql = (
        f"WITH j AS ({me}), lines AS ({lines}), per AS ({per}), m AS ({mine})"
        f" SELECT ({better}) + m.older + COALESCE(({others}), 0) FROM m"
    )
    return sql, {"job_id": job_id} | _times(now)


def _only(models: Sequence[str] | None, job_id: str | None) -> tuple[str, dict[str, object]]:
    only, params = "", {}
    if models is not None:
        marks = [f":model_{i}" for i in range(len(models))]
        only = f" AND model IN ({', '.join(marks)})"
        params |= {f"model_{i}": model for i, model in enumerate(models)}
    if job_id is not None:
        only, params["id"] = only + " AND id = :id", job_id
    return only, params


def _times(now: float) -> dict[str, object]:
    statuses = {"queued": QUEUED.value, "generating": GENERATING.value}
    return statuses | {"now": now, "recent": now - SERVICE_MEMORY_S}


_KEYS = (
    "SELECT tenant, SUM(live) AS running, MAX(started_at) AS served FROM ("
    " SELECT COALESCE(owner, '') AS tenant, started_at,"
    " CASE WHEN lease_expires_at > :now THEN 1 ELSE 0 END AS live"
    " FROM jobs WHERE status = :generating"
    " UNION ALL SELECT COALESCE(owner, '') AS tenant, started_at, 0 AS live FROM jobs"
    " WHERE purged_at IS NULL AND finished_at > :recent AND started_at IS NOT NULL"
    ") AS f GROUP BY tenant"
)
"""Per key: its jobs running on a live lease, and its latest start among those running or
finished lately (both parts indexed: `jobs_by_status`, `jobs_finished`)."""
