"""The queue interface on procrastinate, in the same PostgreSQL database as the job table.

One procrastinate task, `clipforge.run_job(job_id)`, deferred on the queue of the job's model
with the job id as its queueing lock (so at most one waiting task per job). The task only
names the job: the worker then claims the row whose turn it is on that model (`claim_turn`:
the store's fair order between keys, not procrastinate's oldest-task-first), fenced as in the
embedded engine, so a task run twice, or a job run by a worker that was thought dead, can
never finish the job twice.

Recovery (`recover_stalled`) has two halves: procrastinate's own (tasks in `doing` on a
worker whose procrastinate heartbeat stopped are retried) and the store's (a claimable job,
queued or on an expired lease, with no waiting task gets one). Either alone would leave a
gap: procrastinate does not know our leases, and a lease does not bring a task back.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
from typing import Any

import procrastinate
import psycopg
from procrastinate import exceptions as pexc
from procrastinate import sql as psql
from procrastinate.schema import SchemaManager

from clipforge.queue import queue_name
from clipforge.schemas import SERVICE_TIERS, Job
from clipforge.store.base import Claim
from clipforge.store.postgres import PostgresJobStore

log = logging.getLogger(__name__)

TASK = "clipforge.run_job"
SETTLE_SECONDS = 2.0
"""A job younger than this is left to the API's own enqueue (which follows its insert)."""

_ORPHANS = """
SELECT j.id, j.model, j.priority, j.tier FROM jobs AS j
 WHERE (j.status = 'queued' OR (j.status = 'generating' AND j.lease_expires_at <= %(now)s))
   AND j.updated_at <= %(settled)s
   AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs AS p
                    WHERE p.queueing_lock = j.id AND p.status = 'todo')
   AND NOT (j.status = 'queued' AND EXISTS (SELECT 1 FROM procrastinate_jobs AS p
                    WHERE p.status = 'doing' AND p.args ->> 'job_id' = j.id))
 ORDER BY j.created_at, j.id LIMIT 1000
"""


def queue_priority(priority: int, tier: str) -> int:
    """procrastinate's task priority (higher first) for a job's priority and service tier:
    every default-tier task before any flex one, as the store claims them."""
    return priority - 1000 * SERVICE_TIERS.index(tier)


def make_app(database_url: str) -> procrastinate.App:
    """A procrastinate app on the job store's database (not opened)."""
    return procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=database_url))


class ProcrastinateQueue:
    """`JobQueue` on procrastinate; synchronous, safe to call from any thread."""

    def __init__(
        self, store: PostgresJobStore, *, lease_seconds: float, stalled_after: float
    ) -> None:
        self.store = store
        self.lease_seconds = lease_seconds
        self.stalled_after = stalled_after
        self.app = make_app(store.url)
        self.app.open()
        ensure_schema(store.url)

    def enqueue(self, job: Job) -> None:
        self.enqueue_id(job.id, job.request.model, queue_priority(job.priority, job.tier))

    def claim(self, job_id: str, worker_id: str) -> Claim | None:
        return self.store.claim_job(job_id, worker_id, self.lease_seconds)

    def claim_turn(self, job_id: str, worker_id: str) -> Claim | None:
        """A task for `job_id` runs: claim the job whose turn it is on that job's model (the
        store's fair order between keys), which need not be `job_id` itself.

        procrastinate hands out tasks oldest first; a task is taken as a token for one run on
        its model's queue, so the store, not the task's age, picks the job. There is one task
        per claimable job, so every job still runs once; a job whose task ran another job is
        served by that job's task (or the recovery sweep), and a spare task claims nothing."""
        job = self.store.get(job_id)
        if job is None:
            return None
        return self.store.claim(worker_id, self.lease_seconds, models=[job.request.model])

    def heartbeat(self, claim: Claim) -> bool:
        return self.store.heartbeat(claim, self.lease_seconds)

    def request_abort(self, job_id: str) -> Job | None:
        job = self.store.cancel(job_id)
        for waiting in self.app.job_manager.list_jobs(queueing_lock=job_id, status="todo"):
            if waiting.id is not None:
                self.app.job_manager.cancel_job_by_id(waiting.id, abort=True)
        return job

    def check_abort(self, claim: Claim) -> bool:
        return not self.store.claim_is_valid(claim)

    def recover_stalled(self) -> int:
        """Retry procrastinate's stalled tasks, then enqueue claimable jobs no task carries.
        Returns how many jobs were given a task again."""
        self._retry_stalled_tasks()
        now = self.store.now()
        params = {"now": now, "settled": now - SETTLE_SECONDS}
        rows = self._sync().execute_query_all(query=_ORPHANS, **params)
        for row in rows:
            priority = queue_priority(row["priority"], SERVICE_TIERS[row["tier"]])
            self.enqueue_id(row["id"], row["model"], priority)
        if rows:
            log.warning("recovered %d job(s) that no task carried", len(rows))
        return len(rows)

    def enqueue_id(self, job_id: str, model: str, priority: int = 0) -> None:
        deferrer = self.app.configure_task(
            TASK, queue=queue_name(model), queueing_lock=job_id, priority=priority
        )
        with contextlib.suppress(pexc.AlreadyEnqueued):  # a waiting task already names it
            deferrer.defer(job_id=job_id)

    def close(self) -> None:
        self.app.close()

    def _retry_stalled_tasks(self) -> None:
        query = psql.queries["select_stalled_jobs_by_heartbeat"]
        rows = self._sync().execute_query_all(
            query=query, queue=None, task_name=TASK, seconds_since_heartbeat=self.stalled_after
        )
        for row in rows:
            try:
                self.app.job_manager.retry_job_by_id(row["id"], retry_at=_utcnow())
            except pexc.ProcrastinateException as exc:
                # A waiting task already carries the job (the queueing lock): leave this one.
                log.debug("stalled task %s not retried: %s", row["id"], exc)

    def _sync(self) -> Any:
        return self.app.connector.get_sync_connector()


def ensure_schema(database_url: str) -> None:
    """Install procrastinate's tables once per database (under a lock: workers start
    together)."""
    with psycopg.connect(database_url) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(7236854)")
        row = conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()
        if row is not None and not row[0]:
            conn.execute(SchemaManager.get_schema())


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
