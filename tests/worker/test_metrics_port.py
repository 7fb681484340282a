"""A worker's metrics port over real HTTP on loopback: the exposition, and the token rule the
API's /metrics follows too."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from clipforge.metrics import Metrics
from clipforge.worker.metrics_port import MetricsPort

MODEL = "bytedance/seedance-1-0-lite-t2v"


@contextmanager
def port(token: str | None) -> Iterator[str]:
    metrics = Metrics()
    metrics.expect([MODEL])
    served = MetricsPort(metrics, "127.0.0.1", 0, token)
    try:
        yield f"http://127.0.0.1:{served.port}"
    finally:
        served.close()


def test_the_port_serves_the_exposition_without_a_token() -> None:
    with port(None) as url:
        answer = httpx.get(f"{url}/metrics")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
        families = {family.name for family in text_string_to_metric_families(answer.text)}
        assert "clipforge_jobs_finished" in families
        assert MODEL in answer.text  # expected models appear before their first job
        assert httpx.get(f"{url}/other").status_code == 404


def test_with_a_token_only_that_bearer_token_reads_the_metrics() -> None:
    with port("t0k") as url:
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "t0k"}):
            refused = httpx.get(f"{url}/metrics", headers=headers)
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"].startswith("Bearer")
            assert "clipforge_" not in refused.text
        allowed = httpx.get(f"{url}/metrics", headers={"Authorization": "Bearer t0k"})
        assert allowed.status_code == 200 and "clipforge_jobs_finished" in allowed.text


def test_closing_frees_the_port() -> None:
    with port(None) as url:
        pass
    try:
        httpx.get(f"{url}/metrics", timeout=2)
    except httpx.ConnectError:
        return
    raise AssertionError("the port still answers after close()")


def test_idle_connections_time_out_and_threads_are_bounded(monkeypatch: Any) -> None:
    """Clients that open the port and never finish a request cost at most MAX_CONNECTIONS
    threads, are closed after the socket timeout, and scrapes work again at once."""
    from clipforge.worker import metrics_port

    monkeypatch.setattr(metrics_port, "SOCKET_TIMEOUT_SECONDS", 1.0, raising=False)
    before = threading.active_count()
    with port(None) as url:
        address = ("127.0.0.1", int(url.rsplit(":", 1)[1]))
        idle = [socket.create_connection(address) for _ in range(60)]
        for sock in idle:
            sock.sendall(b"GET /met")
        time.sleep(0.5)
        threads = threading.active_count() - before
        print(f"\n60 idle connections: {threads} threads")
        assert threads <= 16 + 2  # MAX_CONNECTIONS, and the accepting thread
        time.sleep(1.5)
        closed = 0
        for sock in idle:
            sock.settimeout(0.2)
            try:
                closed += sock.recv(1024) == b""  # timed out, or refused unanswered
            except ConnectionResetError:
                closed += 1
            except TimeoutError:
                pass  # still open
            sock.close()
        assert closed == 60
        assert threading.active_count() - before <= 2
        assert httpx.get(f"{url}/metrics").status_code == 200
