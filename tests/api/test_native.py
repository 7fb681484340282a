"""ClipForge's own job endpoints over real HTTP: history, cancel, the events stream, the ETA.

The server runs no workers: the test itself claims jobs and reports progress through the real
store, so that every state a stream can show is reached on cue.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from clipforge.api.access import configured_keys
from clipforge.api.surfaces.native.events import event_stream
from clipforge.api.surfaces.native.views import job_view
from clipforge.schemas import JobResult
from clipforge.store.tenant import Tenant, TenantJobs
from tests.live import LiveServer, live_server

MODEL = "bytedance/seedance-1-0-pro-t2v"
KEY = "native-key"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("native")
    with live_server(data, backend="testpattern", workers=0, api_keys=KEY) as live:
        yield live


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client(KEY) as client:
        yield client


@pytest.fixture(autouse=True)
def empty_queue(server: LiveServer) -> Iterator[None]:
    """Each test starts and ends with no queued job (a claim takes the oldest one)."""
    yield
    for job in server.server.store.list_jobs(limit=1000):
        if not job.status.is_terminal:
            server.server.store.cancel(job.id)


def create(http: httpx.Client, prompt: str = "a red ball") -> str:
    body = {"model": MODEL, "prompt": prompt, "resolution": "480p"}
    response = http.post("/v2/video/generations", json=body)
    assert response.status_code == 200, response.text
    job_id: str = response.json()["id"]
    return job_id


def events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """The `job` events of a text/event-stream response, as they arrive."""
    name, data = None, []
    for line in response.iter_lines():
        if line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data.append(line.split(":", 1)[1].strip())
        elif not line and data:
            assert name == "job"
            yield json.loads("\n".join(data))
            name, data = None, []


def test_list_is_newest_first_with_the_job_shape(http: httpx.Client) -> None:
    ids = [create(http, f"clip {n}") for n in range(3)]
    page = http.get("/v1/jobs", params={"limit": 2}).json()
    assert [job["id"] for job in page["data"]] == ids[::-1][:2]
    assert page["limit"] == 2 and page["offset"] == 0 and page["has_more"] is True
    single = http.get(f"/v1/jobs/{ids[2]}").json()
    listed = page["data"][0]
    assert set(listed) == set(single) and listed["request"] == single["request"]
    assert listed["queue_position"] == single["queue_position"] == 2
    older = http.get("/v1/jobs", params={"limit": 1, "offset": 2}).json()["data"]
    assert [job["id"] for job in older] == [ids[0]]


def test_list_checks_its_page_and_the_key(server: LiveServer, http: httpx.Client) -> None:
    assert http.get("/v1/jobs", params={"limit": 0}).status_code == 400
    assert http.get("/v1/jobs", params={"limit": 101}).status_code == 400
    assert http.get("/v1/jobs", params={"offset": -1}).status_code == 400
    with server.client() as anonymous:
        assert anonymous.get("/v1/jobs").status_code == 401
        assert anonymous.post(f"/v1/jobs/{create(http)}/cancel").status_code == 401


def test_cancel_returns_the_job_and_404s_an_unknown_id(http: httpx.Client) -> None:
    job_id = create(http)
    response = http.post(f"/v1/jobs/{job_id}/cancel")
    assert response.status_code == 200
    job = response.json()
    assert job["id"] == job_id and job["status"] == "cancelled"
    assert job["queue_position"] is None and job["finished_at"] is not None
    again = http.post(f"/v1/jobs/{job_id}/cancel").json()
    assert again["status"] == "cancelled" and again["finished_at"] == job["finished_at"]
    polled = http.get("/v2/video/generations", params={"generation_id": job_id}).json()
    assert polled["status"] == "error"
    missing = http.post("/v1/jobs/no-such-job/cancel")
    assert missing.status_code == 404 and "no-such-job" in missing.json()["message"]


def test_cancel_leaves_a_finished_job_as_it_is(server: LiveServer, http: httpx.Client) -> None:
    job_id = create(http)
    store = server.server.store
    claim = store.claim("test-worker", 30)
    assert claim is not None and claim.job.id == job_id
    assert store.complete(claim, JobResult(f"{job_id}.mp4", "testpattern"))
    job = http.post(f"/v1/jobs/{job_id}/cancel").json()
    assert job["status"] == "completed" and job["video_url"]


def test_events_follow_queue_place_progress_and_end(server: LiveServer, http: httpx.Client) -> None:
    store = server.server.store
    ahead, job_id = create(http, "first"), create(http, "second")
    seen: list[dict[str, Any]] = []
    with http.stream("GET", f"/v1/jobs/{job_id}/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = events(response)
        seen.append(next(stream))  # queued, one job ahead
        store.cancel(ahead)
        seen.append(next(stream))  # queued, next in line
        claim = store.claim("test-worker", 30)
        assert claim is not None and claim.job.id == job_id
        seen.append(next(stream))  # generating, no step yet
        assert store.record_progress(claim, 2, 4)
        seen.append(next(stream))  # generating, step 2 of 4
        assert store.record_progress(claim, 4, 4)
        assert store.record_phase(claim, "decoding", 30.0)
        seen.append(next(stream))  # the steps are done: decoding, with what is left after them
        if seen[-1]["phase"] != "decoding":  # the two changes came as two events
            seen[-1:] = [next(stream)]
        assert store.record_phase(claim, "encoding", 20.0)
        seen.append(next(stream))
        assert store.fail(claim, "GenerationError", "the test ends it here")
        seen.extend(stream)  # error, then the stream ends
    shape = [(e["status"], e["queue_position"], e["progress"]["step"]) for e in seen]
    assert shape == [
        ("queued", 1, 0),
        ("queued", 0, 0),
        ("generating", None, 0),
        ("generating", None, 2),
        ("generating", None, 4),
        ("generating", None, 4),
        ("error", None, 4),
    ]
    assert [e["phase"] for e in seen[4:6]] == ["decoding", "encoding"]
    assert 0 < seen[4]["eta_seconds"] <= 30.0 and 0 < seen[5]["eta_seconds"] <= 20.0
    assert seen[3]["progress"]["total"] == 4 and seen[3]["eta_seconds"] is not None
    assert seen[2]["eta_seconds"] is None
    assert seen[-1]["error"] == {"name": "GenerationError", "message": "the test ends it here"}
    assert all(e["id"] == job_id for e in seen)


def test_events_of_a_finished_job_is_one_event(http: httpx.Client) -> None:
    job_id = create(http)
    http.post(f"/v1/jobs/{job_id}/cancel")
    with http.stream("GET", f"/v1/jobs/{job_id}/events") as response:
        seen = list(events(response))
    assert [e["status"] for e in seen] == ["cancelled"]


def test_events_need_the_key_and_a_known_job(server: LiveServer, http: httpx.Client) -> None:
    assert http.get("/v1/jobs/no-such-job/events").status_code == 404
    with server.client() as anonymous:
        assert anonymous.get(f"/v1/jobs/{create(http)}/events").status_code == 401


def test_a_stream_ends_after_its_time_limit(server: LiveServer, http: httpx.Client) -> None:
    """So that an open page cannot hold up a graceful shutdown; the client reconnects."""
    job_id = create(http)
    services = server.server.app.state.services

    jobs = TenantJobs(services.store, Tenant(configured_keys([KEY])[0].key_id), services.storage)

    async def collect() -> list[str]:
        first = await services.call(job_view, job_id, jobs, services)
        stream = event_stream(first, jobs, services, interval=0.05, max_seconds=0.3)
        return [chunk async for chunk in stream]

    started = time.monotonic()
    chunks = asyncio.run(collect())
    assert 0.3 <= time.monotonic() - started < 10  # ignoring its limit, it would never end
    assert chunks[0] == "retry: 1000\n\n"
    assert [chunk.split("\n")[0] for chunk in chunks[1:]] == ["event: job"]
    assert http.get(f"/v1/jobs/{job_id}").json()["status"] == "queued"


def test_eta_is_extrapolated_from_the_steps_done(server: LiveServer, http: httpx.Client) -> None:
    job_id = create(http)
    store = server.server.store
    before = time.time()
    claim = store.claim("test-worker", 30)
    claimed = time.time()
    assert claim is not None and claim.job.id == job_id
    assert http.get(f"/v1/jobs/{job_id}").json()["eta_seconds"] is None
    time.sleep(0.5)
    assert store.record_progress(claim, 1, 4)
    recorded = time.time()
    job = http.get(f"/v1/jobs/{job_id}").json()
    after = time.time()
    assert job["progress"] == {"step": 1, "total": 4}
    # 1 step of 4 took the time since the claim: 3 more steps take 3 times as long.
    assert 3 * (recorded - claimed) - 0.1 <= job["eta_seconds"] <= 3 * (after - before) + 0.1
    assert job["eta_seconds"] >= 1.4


def test_one_model_by_id_or_alias(server: LiveServer, http: httpx.Client) -> None:
    listed = {model["id"]: model for model in http.get("/v1/models").json()["data"]}
    lite = "bytedance/seedance-1-0-lite-t2v"
    one = http.get(f"/v1/models/{lite}")
    assert one.status_code == 200 and one.json() == listed[lite]
    alias = http.get("/v1/models/sora-2-pro").json()  # the served model the alias stands for
    assert alias == listed["bytedance/seedance-1-0-pro-t2v"]
    missing = http.get("/v1/models/bytedance/no-such-model")
    assert missing.status_code == 404 and "no-such-model" in missing.json()["message"]
    with server.client() as anonymous:
        assert anonymous.get(f"/v1/models/{lite}").status_code == 401
