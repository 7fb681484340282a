"""The data folders made unwritable mid-run (`chattr +i` on the videos folder and every
scratch folder, as `chmod` stops no root process) on a live server with several jobs queued:
no job fails, creates that must store an image answer 503 with Retry-After, `/readyz` and the
metrics say the workers paused, and every job completes once storage is back."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.test_storage import CREATES, message_of
from tests.fault.processes import Workers
from tests.files.immutable import require_chattr, unwritable
from tests.live import live_server, start_server_process, wait_for_job
from tests.postgres import PostgresCluster, postgres

__all__ = ["postgres"]  # the cluster fixture

pytestmark = pytest.mark.slow

JOBS = 6
FAULT_SECONDS = 12.0  # as long as the outage that failed every job before
TEXT = {"model": "bytedance/seedance-1-0-pro-t2v", "prompt": "a red ball", "resolution": "480p"}


def test_every_job_completes_after_the_data_folders_were_unwritable(tmp_path: Path) -> None:
    require_chattr(tmp_path)
    settings = {"backend": "testpattern", "workers": 1, "callbacks": False}
    with live_server(tmp_path, **settings) as live, live.client() as http:
        ids = [_create(http, "/v1/jobs", TEXT) for _ in range(JOBS - 1)]
        ids.append(_create(http, *CREATES["native"]))  # its first frame stored before the fault
        wait_for_job(http, ids[0], lambda job: job["status"] != "queued")
        folders = [tmp_path / "videos", tmp_path / "tmp", *(tmp_path / "tmp").iterdir()]
        with unwritable(*folders):
            started = time.monotonic()
            for surface, (path, body) in sorted(CREATES.items()):
                answer = http.post(path, json=body)
                message = message_of(surface, answer, 503, "ServiceUnavailable")
                assert "storage unavailable" in message
                assert int(answer.headers["Retry-After"]) > 0
            _wait_for(lambda: "clipforge_storage_healthy 0.0" in http.get("/metrics").text)
            ready = http.get("/readyz")
            assert ready.status_code == 503 and str(tmp_path) not in ready.text, ready.text
            assert any("workers paused" in p for p in ready.json()["problems"]), ready.text
            ids.append(_create(http, "/v1/jobs", TEXT))  # nothing to store: taken, and waits
            while time.monotonic() - started < FAULT_SECONDS:
                assert not [j for j in _jobs(http, ids) if j["status"] == "error"]
                time.sleep(0.5)
        done = [wait_for_job(http, job_id, _ended, timeout=180) for job_id in ids]
        assert [job["status"] for job in done] == ["completed"] * len(ids), done
        _wait_for(lambda: http.get("/readyz").status_code == 200)
        metrics = http.get("/metrics").text
        assert "clipforge_storage_healthy 1.0" in metrics
        assert _value(metrics, "clipforge_jobs_given_back_total") >= 1  # one was mid-run
        assert str(tmp_path) not in str(done)


def _ended(job: dict[str, Any]) -> bool:
    return job["status"] not in ("queued", "generating")


def _value(metrics: str, name: str) -> float:
    line = next(line for line in metrics.splitlines() if line.startswith(name + " "))
    return float(line.split()[1])


def _create(http: httpx.Client, path: str, body: dict[str, Any]) -> str:
    answer = http.post(path, json=body)
    assert answer.status_code in (200, 201), answer.text
    return str(answer.json()["id"])


def _jobs(http: httpx.Client, ids: list[str]) -> list[dict[str, Any]]:
    return [http.get(f"/v1/jobs/{job_id}").json() for job_id in ids]


def _wait_for(condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.2)


def test_a_clipforge_worker_on_postgresql_waits_out_the_fault_too(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    """The scale-out engine: a `clipforge worker` process (procrastinate) gives its job back
    and leaves the others queued while storage is down, with one attempt each allowed."""
    require_chattr(tmp_path)
    env = {
        "CLIPFORGE_DATABASE_URL": postgres.new_database(),
        "CLIPFORGE_DATA_DIR": str(tmp_path),
        "CLIPFORGE_BACKEND": "testpattern",
        "CLIPFORGE_LEASE_SECONDS": "5",
        "CLIPFORGE_HEARTBEAT_SECONDS": "0.5",
        "CLIPFORGE_MAX_ATTEMPTS": "1",
    }
    api = start_server_process(tmp_path, env, "--workers", "0", "--backend", "testpattern")
    workers = Workers(1, env, tmp_path)
    try:
        with httpx.Client(base_url=api.url, timeout=30) as http:
            ids = [_create(http, "/v1/jobs", TEXT) for _ in range(4)]
            wait_for_job(http, ids[0], lambda job: job["status"] != "queued", timeout=120)
            scratch = tmp_path / "tmp"  # the worker's scratch: made a moment after its claim
            _wait_for(lambda: scratch.is_dir() and any(scratch.iterdir()), timeout=60)
            folders = [tmp_path / "videos", scratch, *scratch.iterdir()]
            with unwritable(*folders):
                started = time.monotonic()
                while time.monotonic() - started < FAULT_SECONDS:
                    assert not [j for j in _jobs(http, ids) if j["status"] == "error"]
                    time.sleep(0.5)
            done = [wait_for_job(http, job_id, _ended, timeout=180) for job_id in ids]
        assert [job["status"] for job in done] == ["completed"] * len(ids), done
        log = "".join(p.read_text() for p in tmp_path.glob("worker-*.log"))
        assert "storage unavailable" in log and "storage is back" in log
    finally:
        workers.stop()
        api.kill()
