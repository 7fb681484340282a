"""Two API processes (`clipforge serve --workers 0`) on one PostgreSQL: the per-key request
rate and queued-job cap hold across both, and each callback goes out once, from one of them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from clipforge.store.keys import KeyLimits
from clipforge.store.postgres import PostgresJobStore
from tests.live import ServerProcess, start_server_process
from tests.postgres import PostgresCluster

# two `clipforge serve` replicas start per test: longer than 60 s on a busy machine
pytestmark = pytest.mark.timeout(180)
AIML = {"model": "bytedance/seedance-1-0-lite-t2v", "prompt": "a red ball"}
TASKS = "/api/v3/contents/generations/tasks"


@pytest.fixture
def replicas(
    postgres: PostgresCluster, tmp_path: Path
) -> Iterator[tuple[str, list[ServerProcess]]]:
    url = postgres.new_database("replicas")
    env = {
        "CLIPFORGE_DATABASE_URL": url,
        "CLIPFORGE_BACKEND": "testpattern",
        "CLIPFORGE_SIGNING_SECRET": "s" * 32,
        "CLIPFORGE_URL_ALLOWLIST": "127.0.0.1",
    }
    with PostgresJobStore(url):  # migrate once before both start
        pass
    servers = []
    try:
        for name in ("one", "two"):
            (tmp_path / name).mkdir()
            servers.append(start_server_process(tmp_path / name, env, "--workers", "0"))
        yield url, servers
    finally:
        for server in servers:
            server.kill()


def _key(url: str, limits: KeyLimits) -> dict[str, str]:
    with PostgresJobStore(url) as store:
        secret = store.create_key("replicas", limits)[1]
    return {"Authorization": f"Bearer {secret}"}


def test_the_request_rate_is_one_limit_across_replicas(
    replicas: tuple[str, list[ServerProcess]],
) -> None:
    url, servers = replicas
    headers = _key(url, KeyLimits(rate_per_minute=6))
    answers = []
    for n in range(10):
        with httpx.Client(base_url=servers[n % 2].url, headers=headers) as http:
            answers.append(http.get("/v1/jobs").status_code)
    assert answers == [200] * 6 + [429] * 4


def test_the_queued_job_cap_holds_for_concurrent_creates_on_both(
    replicas: tuple[str, list[ServerProcess]],
) -> None:
    url, servers = replicas
    headers = _key(url, KeyLimits(max_queued=3))

    def create(n: int) -> int:
        with httpx.Client(base_url=servers[n % 2].url, headers=headers, timeout=30) as http:
            return http.post("/v2/video/generations", json=AIML).status_code

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(create, range(12)))
    assert sorted(answers) == [200] * 3 + [429] * 9


@contextmanager
def receiver() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """A callback receiver on loopback: its URL and the (task id, status) pairs it got."""
    got: list[tuple[str, str]] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                got.append((body["id"], body["status"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", got
    finally:
        server.shutdown()
        server.server_close()


def test_each_callback_is_sent_once_from_one_replica(
    replicas: tuple[str, list[ServerProcess]],
) -> None:
    _, servers = replicas
    with receiver() as (hook, got):
        ids = []
        for n in range(6):
            body = {
                "model": "seedance-1-0-lite-t2v-250428",
                "content": [{"type": "text", "text": f"ball {n}"}],
                "callback_url": hook,
            }
            with httpx.Client(base_url=servers[n % 2].url) as http:
                ids.append(http.post(TASKS, json=body).json()["id"])
        with httpx.Client(base_url=servers[0].url) as http:
            for task_id in ids[:3]:
                assert http.delete(f"{TASKS}/{task_id}").status_code == 200
        deadline = time.monotonic() + 20
        while len(got) < 9 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # a duplicate would come now
        expected = {(i, "queued") for i in ids} | {(i, "cancelled") for i in ids[:3]}
        assert sorted(got) == sorted(expected)


def test_a_worker_sends_the_callbacks_when_no_api_replica_does(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    """Notifications wait in the database; a `clipforge worker` leases and sends them too, so
    an API that sends none (CLIPFORGE_CALLBACKS=false, or down) loses none."""
    env = {
        **os.environ,
        "CLIPFORGE_DATABASE_URL": postgres.new_database("worker_callbacks"),
        "CLIPFORGE_BACKEND": "testpattern",
        "CLIPFORGE_SIGNING_SECRET": "s" * 32,
        "CLIPFORGE_URL_ALLOWLIST": "127.0.0.1",
        "CLIPFORGE_DATA_DIR": str(tmp_path),
    }
    api = start_server_process(tmp_path, {**env, "CLIPFORGE_CALLBACKS": "false"}, "--workers", "0")
    log = (tmp_path / "worker.log").open("wb")
    command = [sys.executable, "-m", "clipforge", "worker"]
    worker = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        with receiver() as (hook, got), httpx.Client(base_url=api.url, timeout=30) as http:
            body = {
                "model": "seedance-1-0-lite-t2v-250428",
                "content": [{"type": "text", "text": "a ball --rs 480p"}],
                "callback_url": hook,
            }
            task_id = http.post(TASKS, json=body).json()["id"]
            deadline = time.monotonic() + 120
            while (task_id, "succeeded") not in got:
                assert time.monotonic() < deadline, (got, (tmp_path / "worker.log").read_text())
                time.sleep(0.1)
        assert got[0] == (task_id, "queued") and got[-1] == (task_id, "succeeded")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        api.kill()
