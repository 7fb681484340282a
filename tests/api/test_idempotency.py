"""Idempotency-Key on create, on every surface, over real HTTP, scoped per API key."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live import LiveServer, live_server

ARK = "/api/v3/contents/generations/tasks"
AIML = {"model": "bytedance/seedance-1-0-lite-t2v", "prompt": "a red ball"}
ARK_BODY = {"model": "seedance-1-0-pro-250528", "content": [{"type": "text", "text": "a ball"}]}

# path, body, the status a create answers with, the body of a second, different request
SURFACES = [
    ("/v2/generate/video/bytedance/generation", AIML, 201, {**AIML, "prompt": "a blue ball"}),
    ("/v2/video/generations", AIML, 200, {**AIML, "duration": 10}),
    ("/v1/jobs", AIML, 201, {**AIML, "seed": 3}),
    (ARK, ARK_BODY, 200, {**ARK_BODY, "resolution": "480p"}),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("idem")
    with live_server(folder, backend="testpattern", workers=0, api_keys="k1,k2") as live:
        yield live


def post(
    live: LiveServer, path: str, body: dict[str, Any], key: str, api_key: str = "k1"
) -> httpx.Response:
    with live.client(api_key) as http:
        return http.post(path, json=body, headers={"Idempotency-Key": key})


@pytest.mark.parametrize("path, body, status, other", SURFACES)
def test_same_key_same_body_is_the_same_job(
    server: LiveServer, path: str, body: dict[str, Any], status: int, other: dict[str, Any]
) -> None:
    key = f"same-{path}"
    before = _job_count(server, "k1")
    first, second = post(server, path, body, key), post(server, path, body, key)
    assert (first.status_code, second.status_code) == (status, status), first.text
    assert first.json() == second.json()  # the same answer, the same job
    assert _job_count(server, "k1") == before + 1
    with server.client("k1") as http:
        fresh = http.post(path, json=body)  # no key: a new job each time
    assert fresh.json()["id"] != first.json()["id"]
    assert _job_count(server, "k1") == before + 2


def _job_count(live: LiveServer, api_key: str) -> int:
    count, page = 0, {"has_more": True}
    with live.client(api_key) as http:
        while page["has_more"]:
            page = http.get("/v1/jobs", params={"limit": 100, "offset": count}).json()
            count += len(page["data"])
    return count


@pytest.mark.parametrize("path, body, status, other", SURFACES)
def test_same_key_other_body_is_a_422_naming_the_header(
    server: LiveServer, path: str, body: dict[str, Any], status: int, other: dict[str, Any]
) -> None:
    key = f"other-{path}"
    first = post(server, path, body, key)
    reused = post(server, path, other, key)
    assert reused.status_code == 422, reused.text
    error = reused.json()
    if path == ARK:
        assert error["error"]["code"] == "IdempotencyKeyReused"
        assert error["error"]["param"] == "Idempotency-Key"
    else:
        assert error["statusCode"] == 422 and "Idempotency-Key" in error["message"]
    assert first.json()["id"] in reused.text


def test_keys_are_scoped_per_api_key(server: LiveServer) -> None:
    mine = post(server, "/v2/video/generations", AIML, "shared", "k1")
    theirs = post(server, "/v2/video/generations", AIML, "shared", "k2")
    assert mine.status_code == theirs.status_code == 200
    assert mine.json()["id"] != theirs.json()["id"]
    with server.client("k2") as http:  # each key's job is its own
        assert http.get(f"/v1/jobs/{mine.json()['id']}").status_code == 404
        assert http.get(f"/v1/jobs/{theirs.json()['id']}").status_code == 200


def test_a_bad_body_is_a_400_even_with_a_used_key(server: LiveServer) -> None:
    post(server, "/v2/video/generations", AIML, "bad-body")
    bad = post(server, "/v2/video/generations", {**AIML, "resolution": "4k"}, "bad-body")
    assert bad.status_code == 400 and "resolution" in bad.json()["message"]
    too_long = post(server, "/v2/video/generations", AIML, "k" * 256)
    assert too_long.status_code == 400 and "Idempotency-Key" in too_long.json()["message"]


def test_a_deleted_ark_task_frees_its_key(tmp_path: Path) -> None:
    with live_server(tmp_path, backend="testpattern", workers=0) as live:
        first = post(live, ARK, ARK_BODY, "again", api_key="")
        task_id = first.json()["id"]
        with live.client() as http:
            assert http.delete(f"{ARK}/{task_id}").status_code == 200  # cancels
            assert http.get(f"{ARK}/{task_id}").json()["status"] == "cancelled"
            assert http.delete(f"{ARK}/{task_id}").status_code == 200  # deletes
            assert http.get(f"{ARK}/{task_id}").status_code == 404
        second = post(live, ARK, ARK_BODY, "again", api_key="")
        assert second.status_code == 200 and second.json()["id"] != task_id
        with live.client() as http:
            assert http.get(f"{ARK}/{second.json()['id']}").json()["status"] == "queued"


def test_a_native_create_returns_the_job(server: LiveServer) -> None:
    with server.client("k1") as http:
        created = http.post("/v1/jobs", json=AIML)
        assert created.status_code == 201, created.text
        job = created.json()
        assert job["status"] == "queued" and job["request"]["prompt"] == "a red ball"
        assert http.get(f"/v1/jobs/{job['id']}").json()["id"] == job["id"]
    with server.client() as anonymous:
        assert anonymous.post("/v1/jobs", json=AIML).status_code == 401


def test_a_remix_or_extension_of_another_video_under_the_same_key_is_a_422(
    tmp_path: Path,
) -> None:
    """The key's request includes what a remix or an extension is of, not only the body:
    the same key and body on another source video is another request."""
    settings = {"backend": "testpattern", "workers": 1, "callbacks": False}
    with live_server(tmp_path, **settings) as live, live.client() as http:
        first, second = (_finished_video(http, f"ball {n}") for n in range(2))
        remix = {"prompt": "again, in blue"}
        key = {"Idempotency-Key": "remix-1"}
        made = http.post(f"/v1/videos/{first}/remix", json=remix, headers=key)
        assert made.status_code == 200, made.text
        again = http.post(f"/v1/videos/{first}/remix", json=remix, headers=key)
        assert again.json()["id"] == made.json()["id"]
        other = http.post(f"/v1/videos/{second}/remix", json=remix, headers=key)
        assert other.status_code == 422, other.text
        assert other.json()["error"]["code"] == "idempotency_key_reused"
        extend = {"prompt": "on", "seconds": "4", "video": {"id": first}}
        key = {"Idempotency-Key": "extend-1"}
        made = http.post("/v1/videos/extensions", json=extend, headers=key)
        assert made.status_code == 200, made.text
        other = http.post(
            "/v1/videos/extensions", json={**extend, "video": {"id": second}}, headers=key
        )
        assert other.status_code == 422, other.text


def _finished_video(http: httpx.Client, prompt: str) -> str:
    video = http.post("/v1/videos", json={"prompt": prompt, "size": "864x480"}).json()
    for _ in range(600):
        if video["status"] == "completed":
            return str(video["id"])
        assert video["status"] in ("queued", "in_progress"), video
        time.sleep(0.1)
        video = http.get(f"/v1/videos/{video['id']}").json()
    raise AssertionError(f"video never finished: {video}")
