"""Storage seen from the API: a create that cannot store its images answers 503 with
Retry-After in each surface's error shape (never a 500), `/readyz` says why without a server
path, and the storage quota refuses new jobs with a 507 before the disk is full."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from clipforge.files.base import frame_key
from tests.files.immutable import require_chattr, unwritable
from tests.images import data_url, encoded, halves
from tests.live import LiveServer, live_server

I2V = "bytedance/seedance-1-0-pro-i2v"
IMAGE = data_url(encoded(halves(96, 72)))
AIML = {"model": I2V, "prompt": "the scene comes alive", "resolution": "480p", "image_url": IMAGE}
ARK = {
    "model": "seedance-1-0-lite-i2v-250428",
    "content": [
        {"type": "text", "text": "the scene comes alive --rs 480p"},
        {"type": "image_url", "image_url": {"url": IMAGE}, "role": "first_frame"},
    ],
}
OPENAI = {"prompt": "it moves", "seconds": "4", "input_reference": {"image_url": IMAGE}}
CREATES: dict[str, tuple[str, dict[str, Any]]] = {
    "aiml legacy": ("/v2/generate/video/bytedance/generation", AIML),
    "aiml universal": ("/v2/video/generations", AIML),
    "native": ("/v1/jobs", AIML),
    "ark": ("/api/v3/contents/generations/tasks", ARK),
    "openai": ("/v1/videos", OPENAI),
}


def message_of(surface: str, answer: httpx.Response, status: int, ark_code: str) -> str:
    """The error message, after checking the surface's own error shape and status."""
    body = answer.json()
    assert answer.status_code == status, answer.text
    if surface == "ark":
        assert body["error"]["code"] == ark_code, body
        return str(body["error"]["message"])
    if surface == "openai":
        assert body["error"]["type"] == "server_error", body
        return str(body["error"]["message"])
    assert body["statusCode"] == status, body
    return str(body["message"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("storage")
    settings = {"backend": "testpattern", "workers": 0, "callbacks": False}
    with live_server(folder, ready_needs_worker=False, **settings) as live:
        yield live


def _jobs(server: LiveServer) -> int:
    return len(server.server.store.list_jobs(limit=1000))


@pytest.mark.parametrize("surface", sorted(CREATES))
def test_a_create_during_a_storage_fault_is_a_503_with_retry_after(
    server: LiveServer, surface: str
) -> None:
    require_chattr(server.settings.data_dir)
    path, body = CREATES[surface]
    before, files = _jobs(server), sorted(os.listdir(server.settings.videos_dir))
    with server.client() as http, unwritable(server.settings.videos_dir):
        answer = http.post(path, json=body)
        message = message_of(surface, answer, 503, "ServiceUnavailable")
        assert answer.headers["Retry-After"] == "10"
        assert "storage unavailable" in message and str(server.settings.data_dir) not in message
        ready = http.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["problems"] == ["storage: operation not permitted"]
    assert _jobs(server) == before and sorted(os.listdir(server.settings.videos_dir)) == files
    with server.client() as http:
        assert http.post(path, json=body).status_code in (200, 201)  # storage back: taken
        assert http.get("/readyz").status_code == 200


@pytest.fixture(scope="module")
def quota_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("quota")
    settings = {"backend": "testpattern", "workers": 0, "callbacks": False}
    quota = {"storage_quota_bytes": 100_000, "storage_usage_refresh_seconds": 0.5}
    with live_server(folder, **quota, **settings) as live:
        yield live


def _fill(server: LiveServer, size: int) -> Callable[[], None]:
    """Store `size` bytes as a job's frame; returns how to remove them."""
    key = frame_key("0f8fad5b-d9cb-479f-a165-70867c5a5ef1", "first")
    server.server.storage.put_bytes(key, os.urandom(size))
    return lambda: server.server.storage.delete(key)


def test_the_quota_refuses_new_jobs_with_a_507_on_every_surface(quota_server: LiveServer) -> None:
    with quota_server.client() as http:
        assert http.post("/v1/jobs", json=AIML).status_code in (200, 201)
        remove = _fill(quota_server, 120_000)
        time.sleep(0.6)  # the count is refreshed now and then, not per request
        before = _jobs(quota_server)
        for surface, (path, body) in sorted(CREATES.items()):
            message = message_of(surface, http.post(path, json=body), 507, "InsufficientStorage")
            assert "storage quota reached" in message and "of 100000 bytes" in message
        assert _jobs(quota_server) == before
        remove()
        time.sleep(0.6)
        assert http.post("/v1/jobs", json=AIML).status_code in (200, 201)
