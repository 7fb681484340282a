"""Crash-proof jobs on the scale-out engine, with real processes (no mocks):

three `clipforge worker` processes (testpattern backend) and a `clipforge serve --workers 0`
API on a throwaway PostgreSQL cluster; 50 jobs through HTTP while a busy worker is
SIGKILLed (and restarted) every two seconds, the API is SIGKILLed and restarted between the
two halves of the jobs, and PostgreSQL itself is restarted mid-run. Every job must end
completed, exactly once: no job lost, none duplicated, one video per job, and a job that was
run more than once shows it only in its attempt count.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from clipforge.files.base import STILL_SUFFIXES, still_key
from clipforge.schemas import JobStatus
from clipforge.store.postgres import PostgresJobStore
from tests.fault.processes import Chaos, Workers, pid_of
from tests.live import ServerProcess, start_server_process
from tests.postgres import PostgresCluster, running_cluster

# fifty jobs through killed workers and restarts: longer than the suite's 60 s per test
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

JOBS = 50
BODY = {"model": "bytedance/seedance-1-0-lite-t2v", "resolution": "480p", "duration": 5}


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    """A cluster of this test's own: it gets restarted."""
    with running_cluster() as cluster:
        yield cluster


def _post(api: ServerProcess, count: int, first: int) -> list[str]:
    with httpx.Client(base_url=api.url, timeout=30) as client:
        return [
            client.post("/v2/video/generations", json={**BODY, "prompt": f"clip {i}", "seed": i})
            .raise_for_status()
            .json()["id"]
            for i in range(first, first + count)
        ]


def _wait_all_finished(store: PostgresJobStore, ids: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if all(store.get(i).status.is_terminal for i in ids):  # type: ignore[union-attr]
                return
        except Exception:
            pass  # the database is restarting
        time.sleep(0.5)


def test_fifty_jobs_survive_killed_workers_and_restarts(
    cluster: PostgresCluster, tmp_path: Path
) -> None:
    url = cluster.new_database()
    env = {
        "CLIPFORGE_DATABASE_URL": url,
        "CLIPFORGE_DATA_DIR": str(tmp_path),
        "CLIPFORGE_BACKEND": "testpattern",
        "CLIPFORGE_LEASE_SECONDS": "3",
        "CLIPFORGE_HEARTBEAT_SECONDS": "0.5",
        "CLIPFORGE_MAX_ATTEMPTS": "20",
    }
    api = start_server_process(tmp_path, env, "--workers", "0", "--backend", "testpattern")
    store = PostgresJobStore(url, pool_size=2)
    workers = Workers(3, env, tmp_path)

    def busy() -> set[int]:
        return {pid for w in store.running_worker_ids() if (pid := pid_of(w))}

    chaos = Chaos(workers, busy, every=2.0)
    chaos.start()
    try:
        ids = _post(api, JOBS // 2, 0)
        time.sleep(3)
        api.kill()  # the API dies with jobs queued and running
        api = start_server_process(tmp_path, env, "--workers", "0", "--backend", "testpattern")
        ids += _post(api, JOBS - len(ids), len(ids))
        time.sleep(3)
        cluster.restart()  # every connection of every process is cut
        time.sleep(15)
        chaos.killing.clear()  # let the run converge
        _wait_all_finished(store, ids, timeout=150)
    finally:
        chaos.stopped.set()
        chaos.join(30)
        workers.stop()
        api.kill()
    jobs = [store.get(job_id) for job_id in ids]
    total = store.count_jobs()
    store.close()
    _check(jobs, total, ids, tmp_path, workers.kills)


def _check(jobs: list, total: int, ids: list[str], data: Path, kills: int) -> None:
    assert len(set(ids)) == JOBS and total == JOBS  # none lost, none duplicated
    statuses = {job.id: job.status for job in jobs}
    assert set(statuses.values()) == {JobStatus.COMPLETED}, statuses
    for job in jobs:  # a retried job leaves no trace beyond its attempt count
        assert job.error_name is None and job.error_message is None
        assert job.progress_step == job.progress_total > 0
        assert job.video_key == f"{job.id}.mp4" and job.lease_expires_at is None
    files = {path.name for path in (data / "videos").iterdir()}
    stills = {still_key(job_id, kind) for job_id in ids for kind in STILL_SUFFIXES}
    assert files == {f"{job_id}.mp4" for job_id in ids} | stills  # no orphan from a killed attempt
    retried = [job.attempts for job in jobs if job.attempts > 1]
    print(f"kills={kills} retried={len(retried)} attempts={sorted(retried)}")
    assert kills >= 5 and retried, "the chaos should have hit running jobs"
