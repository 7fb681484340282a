"""/metrics and /readyz on a live server: the numbers each surface, worker and refusal
leaves, bounded labels, the token, and readiness that follows the database, the storage
and the workers."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.live import LiveServer, live_server, wait_for_job

KEY = "ops-key"
MODEL = "bytedance/seedance-1-0-lite-t2v"
AIML = "/v2/video/generations"
ARK = "/api/v3/contents/generations/tasks"


def scrape(
    live: LiveServer, **headers: str
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics: (name, sorted labels) -> value."""
    with live.client() as http:
        response = http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("ops")
    with live_server(data, backend="testpattern", api_keys=KEY, workers=1) as live:
        yield live


def _create_on_every_surface(http: httpx.Client) -> list[str]:
    native = http.post("/v1/jobs", json={"model": MODEL, "prompt": "a", "resolution": "480p"})
    aiml = http.post(AIML, json={"model": MODEL, "prompt": "b", "resolution": "480p"})
    ark = http.post(
        ARK,
        json={"model": "seedance-1-0-lite-t2v-250428", "content": [{"type": "text", "text": "c"}]},
    )
    openai = http.post("/v1/videos", json={"prompt": "d", "seconds": "4", "size": "864x480"})
    responses = [native, aiml, ark, openai]
    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses]
    return [r.json()["id"] for r in responses]


def test_jobs_http_and_refusals_are_counted(server: LiveServer) -> None:
    before = scrape(server)
    with server.client(KEY) as http:
        ids = _create_on_every_surface(http)
        for job_id in ids:
            wait_for_job(http, job_id, lambda j: j["status"] == "completed", 120)
        http.get(f"/v1/jobs/{ids[0]}")
        http.get("/no/such/path/a8f3")
    with server.client("wrong-key") as http:
        assert http.get("/v1/jobs").status_code == 401
    after = scrape(server)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    for surface in ("native", "aimlapi", "ark", "openai"):
        assert grew("clipforge_jobs_created_total", surface=surface) == 1, surface
        finished = grew("clipforge_jobs_finished_total", surface=surface, outcome="completed")
        assert finished == 1, surface
    assert grew("clipforge_jobs_finished_total", outcome="completed") == 4
    assert grew("clipforge_job_seconds_count", phase="total") == 4
    for phase in ("queue_wait", "load", "denoise", "decode", "encode", "upload"):
        assert grew("clipforge_job_seconds_count", phase=phase) == 4, phase
    assert grew("clipforge_job_seconds_sum", phase="total") > 0
    assert grew("clipforge_denoise_step_seconds_count") == 4
    routes = {dict(labels).get("route") for name, labels in after if "http_requests" in name}
    assert "/v1/jobs/{job_id}" in routes and "unmatched" in routes
    assert not any(job_id in str(route) for route in routes for job_id in ids)  # bounded
    assert grew("clipforge_http_requests_total", route="/v1/jobs", status="401") == 1
    timed_401 = grew(
        "clipforge_http_request_duration_seconds_count", route="/v1/jobs", status="401"
    )
    assert timed_401 == 1
    assert grew("clipforge_auth_failures_total") == 1
    assert value(after, "clipforge_workers_alive") == 1
    assert value(after, "clipforge_worker_busy") == 0
    assert value(after, "clipforge_worker_warm_model", model="testpattern") == 1


def test_the_queue_and_the_cap_as_the_database_has_them(tmp_path: Path) -> None:
    limits = {"api_keys": KEY, "workers": 0, "max_queued_jobs": 2}
    with live_server(tmp_path, backend="testpattern", **limits) as live:
        with live.client(KEY) as http:
            for prompt in ("one", "two", "three"):
                http.post(AIML, json={"model": MODEL, "prompt": prompt})
        time.sleep(0.2)
        samples = scrape(live)
    assert value(samples, "clipforge_queue_depth", model=MODEL) == 2
    assert 0.2 <= value(samples, "clipforge_queue_oldest_age_seconds", model=MODEL) < 30
    assert value(samples, "clipforge_rate_limited_total", limit="queue") == 1
    assert value(samples, "clipforge_workers_alive") == 0
    # started at 0 so that the first ending shows as an increase
    for surface in ("aimlapi", "ark", "native", "openai"):
        labels = (("error", ""), ("model", MODEL), ("outcome", "completed"), ("surface", surface))
        assert samples[("clipforge_jobs_finished_total", labels)] == 0


def test_a_metrics_token_guards_metrics_and_metrics_can_be_off(tmp_path: Path) -> None:
    with live_server(tmp_path / "a", backend="testpattern", workers=0, metrics_token="t0k") as live:
        with live.client() as http:
            assert http.get("/metrics").status_code == 401
            assert http.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert "clipforge_queue_depth" in str(scrape(live, Authorization="Bearer t0k"))
    off = {"backend": "testpattern", "workers": 0, "metrics": False}
    with live_server(tmp_path / "b", **off) as live, live.client() as http:
        assert http.get("/metrics").status_code == 404
        assert http.get("/healthz").status_code == 200


def test_readiness_follows_the_workers_and_the_storage(tmp_path: Path) -> None:
    with live_server(tmp_path / "idle", backend="testpattern", workers=0) as live:
        with live.client() as http:
            waiting = http.get("/readyz")
        assert waiting.status_code == 503
        assert "no worker reported itself" in waiting.json()["problems"][0]
    overrides = {"backend": "testpattern", "workers": 1}
    with live_server(tmp_path / "busy", **overrides) as live, live.client() as http:
        assert http.get("/readyz").json() == {"status": "ready", "problems": []}
        videos = live.settings.data_dir / "videos"
        shutil.rmtree(videos)
        videos.write_text("not a folder")  # storage can no longer be written
        broken = http.get("/readyz")
        assert broken.status_code == 503
        assert broken.json()["problems"][0].startswith("storage: ")
        videos.unlink()
        videos.mkdir()
        assert http.get("/readyz").status_code == 200
        assert http.get("/healthz").status_code == 200  # liveness never looked
    alone = {"backend": "testpattern", "workers": 0, "ready_needs_worker": False}
    with live_server(tmp_path / "alone", **alone) as live, live.client() as http:
        assert http.get("/readyz").status_code == 200


def test_request_ids_are_taken_or_made_and_echoed(server: LiveServer) -> None:
    with server.client() as http:
        given = http.get("/healthz", headers={"X-Request-ID": "trace-42.a"})
        made = http.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert given.headers["x-request-id"] == "trace-42.a"
    assert made.headers["x-request-id"] == made.headers["x-inference-id"] != "bad id"


def test_errors_cancels_and_every_limit_are_counted(tmp_path: Path) -> None:
    limits = {"api_keys": KEY, "workers": 0, "rate_limit_per_minute": 4}
    limits |= {"auth_failures_per_minute": 2, "callbacks": False}
    with live_server(tmp_path, backend="testpattern", **limits) as live:
        with live.client(KEY) as http:
            failing = http.post(AIML, json={"model": MODEL, "prompt": "fails"}).json()["id"]
            cancelled = http.post(AIML, json={"model": MODEL, "prompt": "goes"}).json()["id"]
            http.post(f"/v1/jobs/{cancelled}/cancel")
            statuses = [http.get("/v1/jobs").status_code for _ in range(3)]
        store = live.server.store
        claim = store.claim("test-worker", 30)
        assert claim is not None and claim.job.id == failing
        assert store.fail(claim, "GenerationError", "out of memory")
        with live.client("wrong") as http:
            refused = [http.get("/v1/jobs").status_code for _ in range(3)]
        samples = scrape(live)
    assert statuses[-1] == 429 and refused[-1] == 429
    finished = "clipforge_jobs_finished_total"
    error = {"outcome": "error", "error": "GenerationError", "surface": "aimlapi"}
    assert value(samples, finished, model=MODEL, **error) == 1
    assert value(samples, finished, model=MODEL, outcome="cancelled", surface="aimlapi") == 1
    assert value(samples, finished, outcome="completed") == 0
    assert value(samples, "clipforge_rate_limited_total", limit="rate") >= 1
    assert value(samples, "clipforge_rate_limited_total", limit="auth_throttle") >= 1
    assert value(samples, "clipforge_auth_failures_total") >= 2
