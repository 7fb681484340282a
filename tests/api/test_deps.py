"""Services.call: store work on PostgreSQL runs on as many threads as the store's pool has
connections (a network round trip each), not one at a time."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from clipforge.api.deps import Services
from clipforge.files.factory import build_storage
from clipforge.routing import ModelRouting
from clipforge.settings import Settings
from clipforge.store.postgres import PostgresJobStore
from tests.live import live_server
from tests.postgres import PostgresCluster, postgres

__all__ = ["postgres"]  # the cluster fixture


def test_store_calls_on_postgresql_overlap_up_to_the_pool_size(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    store = PostgresJobStore(postgres.new_schema(), pool_size=4)
    settings = Settings(data_dir=tmp_path)
    services = Services(settings, store, build_storage(settings), ModelRouting(settings))

    def slow_count() -> int:
        time.sleep(0.3)  # a slow query's wait, on a connection of its own
        return store.count_jobs()

    async def four() -> float:
        started = time.monotonic()
        assert await asyncio.gather(*(services.call(slow_count) for _ in range(4))) == [0] * 4
        return time.monotonic() - started

    try:
        assert store.concurrency == 4
        assert asyncio.run(four()) < 0.9  # one thread: 1.2 s
    finally:
        services.executor.shutdown()
        store.close()


def test_validation_never_goes_to_the_store_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused create on each JSON surface makes no store call but the caller's admission:
    its validation ran inline, so it never waits behind other requests' store work."""
    queued: list[str] = []
    real = Services.call

    async def recording(self: Services, fn: Any, *args: Any, **kwargs: Any) -> Any:
        queued.append(getattr(fn, "__name__", repr(fn)))
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(Services, "call", recording)
    bad = {
        "/v2/generate/video/bytedance/generation": {"model": "nope", "prompt": "a ball"},
        "/v1/jobs": {"model": "nope", "prompt": "a ball"},
        "/api/v3/contents/generations/tasks": {"model": "nope", "content": []},
        "/v1/videos": {"model": "nope", "prompt": "a ball"},
    }
    with live_server(tmp_path, workers=0) as live, live.client() as http:
        for path, body in bad.items():
            queued.clear()
            response = http.post(path, json=body)
            assert 400 <= response.status_code < 500, (path, response.text)
            assert queued == ["_admitted"], (path, queued)
