"""The metrics as operators get them: a real Prometheus server (Debian's `prometheus`)
scrapes a live API (`clipforge serve --workers 0`) and one `clipforge worker --metrics-port`
on a throwaway PostgreSQL while three jobs run, and its query API returns the counts. Also:
`/readyz` follows the database through a stop and a start, and every metric the deployment
files use is one the processes export."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.live import ServerProcess, free_port, start_server_process
from tests.postgres import running_cluster
from tests.test_deploy import DOCUMENTED_METRICS

pytestmark = pytest.mark.slow

BODY = {"model": "bytedance/seedance-1-0-lite-t2v", "resolution": "480p", "duration": 5}
TOKEN = "metrics-t0k"
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}


@contextmanager
def prometheus(targets: dict[str, str], folder: Path, token: str) -> Iterator[str]:
    """A Prometheus server scraping `targets` (job -> host:port) every second with the
    metrics `token`, as docs/DEPLOY.md configures it; its URL."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("no prometheus binary: apt-get install -y prometheus")
    jobs = "".join(
        f"  - job_name: {job}\n    authorization:\n      credentials: {token}\n"
        f"    static_configs:\n      - targets: ['{target}']\n"
        for job, target in targets.items()
    )
    config = folder / "prometheus.yml"
    config.write_text(
        f"global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n{jobs}"
    )
    port = free_port()
    log = (folder / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={folder / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: httpx.get(f"{url}/-/ready", timeout=1).status_code == 200, 60)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def _wait_for(ready: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if ready():  # type: ignore[operator]
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"not ready within {seconds} s")


def query(prometheus_url: str, expression: str) -> float | None:
    """The single value of an instant query (None when it has no result)."""
    answer = httpx.get(f"{prometheus_url}/api/v1/query", params={"query": expression}).json()
    assert answer["status"] == "success", answer
    result = answer["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def settles(prometheus_url: str, expression: str, expected: float) -> None:
    """The query reaches `expected` within a few scrapes (each target is scraped every
    second, at its own moment) and stays there."""
    seen: list[float | None] = []

    def there() -> bool:
        seen.append(query(prometheus_url, expression))
        return seen[-1] == expected

    try:
        _wait_for(there, 60)
    except AssertionError:
        raise AssertionError(f"{expression}: {seen[-5:]}, expected {expected}") from None
    time.sleep(1.5)
    assert query(prometheus_url, expression) == expected, expression


@contextmanager
def worker_process(env: dict[str, str], folder: Path, metrics_port: int) -> Iterator[None]:
    log = (folder / "worker.log").open("wb")
    command = [sys.executable, "-m", "clipforge", "worker", "--backend", "testpattern"]
    command += ["--metrics-port", str(metrics_port)]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        metrics = f"http://127.0.0.1:{metrics_port}/metrics"
        _wait_for(lambda: httpx.get(metrics, timeout=1).status_code == 401, 120)
        assert httpx.get(metrics, headers=SCRAPE).status_code == 200
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def _environment(url: str, folder: Path) -> dict[str, str]:
    import os

    return {
        **os.environ,
        "CLIPFORGE_DATABASE_URL": url,
        "CLIPFORGE_DATA_DIR": str(folder),
        "CLIPFORGE_BACKEND": "testpattern",
        "CLIPFORGE_HEARTBEAT_SECONDS": "0.5",
        "CLIPFORGE_LEASE_SECONDS": "5",
        "CLIPFORGE_METRICS_TOKEN": TOKEN,
    }


def test_prometheus_sees_the_api_and_a_worker(tmp_path: Path) -> None:
    with running_cluster() as cluster:
        env = _environment(cluster.new_database(), tmp_path)
        api = start_server_process(tmp_path, env, "--workers", "0")
        worker_port = free_port()
        try:
            with (
                worker_process(env, tmp_path, worker_port),
                prometheus(
                    {
                        "clipforge-api": api.url.removeprefix("http://"),
                        "clipforge-worker": f"127.0.0.1:{worker_port}",
                    },
                    tmp_path,
                    TOKEN,
                ) as prom,
            ):
                exposed = _names(api, worker_port)
                ids = _run_three_jobs(api)
                settles(prom, 'sum(clipforge_jobs_finished_total{outcome="completed"})', 3)
                settles(prom, "sum(clipforge_jobs_created_total)", 3)
                settles(prom, 'sum(clipforge_jobs_created_total{job="clipforge-api"})', 3)
                # the worker process ended them, and timed them
                settles(prom, 'sum(clipforge_jobs_finished_total{job="clipforge-worker"})', 3)
                settles(prom, 'sum(clipforge_job_seconds_count{phase="total"})', 3)
                buckets = 'clipforge_job_seconds_bucket{phase="total"}'
                p90 = f"histogram_quantile(0.9, sum by (le) ({buckets}))"
                assert (query(prom, p90) or 0) > 0
                settles(prom, "max(clipforge_workers_alive)", 1)
                creates = 'sum(clipforge_http_requests_total{route="/v2/video/generations"})'
                settles(prom, creates, 3)
                settles(prom, "max(clipforge_queue_depth)", 0)
                assert len(ids) == 3
        finally:
            api.kill()
    documented = {name.removesuffix("_total") for name in DOCUMENTED_METRICS}
    assert documented <= exposed, documented - exposed  # every metric the dashboards use exists


def _names(api: ServerProcess, worker_port: int) -> set[str]:
    """The metric families the two processes export (counters without `_total`)."""
    from prometheus_client.parser import text_string_to_metric_families

    names: set[str] = set()
    for url in (f"{api.url}/metrics", f"http://127.0.0.1:{worker_port}/metrics"):
        text = httpx.get(url, headers=SCRAPE).raise_for_status().text
        names |= {family.name for family in text_string_to_metric_families(text)}
    return names


def _run_three_jobs(api: ServerProcess) -> list[str]:
    with httpx.Client(base_url=api.url, timeout=30) as client:
        ids = [
            client.post("/v2/video/generations", json={**BODY, "prompt": f"clip {i}"})
            .raise_for_status()
            .json()["id"]
            for i in range(3)
        ]
        for job_id in ids:
            deadline = time.monotonic() + 120
            while client.get(f"/v1/jobs/{job_id}").json()["status"] != "completed":
                assert time.monotonic() < deadline
                time.sleep(0.2)
    return ids


def test_readiness_follows_the_database(tmp_path: Path) -> None:
    with running_cluster() as cluster:
        env = _environment(cluster.new_database(), tmp_path)
        env["CLIPFORGE_READY_NEEDS_WORKER"] = "false"
        api = start_server_process(tmp_path, env, "--workers", "0")
        try:
            with httpx.Client(base_url=api.url, timeout=30) as client:
                assert client.get("/readyz").status_code == 200
                cluster.stop()
                down = client.get("/readyz")
                assert down.status_code == 503, down.text
                assert down.elapsed.total_seconds() < 10  # a probe, not a pool's long wait
                assert down.json()["problems"][0].startswith("database: ")
                assert client.get("/healthz").status_code == 200
                cluster.start()
                _wait_for(lambda: client.get("/readyz").status_code == 200, 60)
        finally:
            api.kill()


def test_json_logs_carry_the_request_and_the_job(tmp_path: Path) -> None:
    env = {"CLIPFORGE_LOG_FORMAT": "json", "CLIPFORGE_HEARTBEAT_SECONDS": "0.5"}
    api = start_server_process(tmp_path, env, "--backend", "testpattern")
    try:
        with httpx.Client(base_url=api.url, timeout=30) as client:
            created = client.post(
                "/v2/video/generations",
                json={**BODY, "prompt": "a ball"},
                headers={"X-Request-ID": "req-7"},
            )
            assert created.headers["x-request-id"] == "req-7"
            job_id = created.json()["id"]
            deadline = time.monotonic() + 60
            while client.get(f"/v1/jobs/{job_id}").json()["status"] != "completed":
                assert time.monotonic() < deadline
                time.sleep(0.1)
    finally:
        api.kill()
    text = (tmp_path / "server.log").read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert [line for line in text.splitlines() if not line.startswith("{")] == []
    assert any(line["message"].startswith("ClipForge ready at") for line in lines)
    [made] = [line for line in lines if line["message"] == f"job {job_id} created"]
    assert made["request_id"] == "req-7" and made["surface"] == "aimlapi"
    assert made["model"] == BODY["model"]
    ran = [line for line in lines if line.get("job_id") == job_id and "attempt" in line]
    assert ran and all(line["worker"] and line["attempt"] == 1 for line in ran)
