"""A worker's metrics port over real HTTP on loopback: the exposition, and the token rule the
API's /metrics follows too."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
