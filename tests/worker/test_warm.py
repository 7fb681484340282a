"""A worker keeps its model warm and prefers queued jobs for the weights it already holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipforge.backends.base import Backend
from clipforge.backends.registry import BackendRegistry
from clipforge.backends.testpattern import TestPatternBackend
from clipforge.files.local import LocalStorage
from clipforge.routing import ModelRouting
from clipforge.routing.workers import WeightsRouting
from clipforge.schemas import GenerationRequest, JobStatus, Resolution
from clipforge.settings import Settings
from clipforge.store import SQLiteJobStore
from clipforge.worker.runner import Worker
from clipforge.worker.warm import WarmBackend

LITE, PRO = "bytedance/seedance-1-0-lite-t2v", "bytedance/seedance-1-0-pro-t2v"
WEIGHTS = {LITE: "small-weights", PRO: "big-weights"}


class NamedBackend(TestPatternBackend):
    """The test pattern, labelled with the weights it was 'loaded' with."""

    def __init__(self, weights: str | None, closed: list[str | None]) -> None:
        self.weights, self._closed = weights, closed

    def close(self) -> None:
        self._closed.append(self.weights)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, lease_seconds=30)


@pytest.fixture
def store(settings: Settings) -> SQLiteJobStore:
    return SQLiteJobStore(settings.data_dir / "jobs.db")


@pytest.fixture
def storage(settings: Settings) -> LocalStorage:
    return LocalStorage(settings.videos_dir, secret=b"k", public_base_url="http://x", ttl_seconds=9)


def _request(model: str, prompt: str) -> GenerationRequest:
    return GenerationRequest(
        model=model, prompt=prompt, resolution=Resolution.P480, aspect_ratio="1:1"
    )


def test_the_worker_prefers_jobs_for_its_warm_weights(
    store: SQLiteJobStore, storage: LocalStorage, settings: Settings
) -> None:
    loaded: list[str | None] = []
    closed: list[str | None] = []

    def load(weights: str | None) -> Backend:
        loaded.append(weights)
        return NamedBackend(weights, closed)

    routing = WeightsRouting(WEIGHTS.get, load, (LITE, PRO))
    worker = Worker(store, storage, routing, settings, "host:1:boot:0")
    order = ["pro 1", "lite 1", "pro 2", "lite 2"]
    jobs = {p: store.create(_request(PRO if p.startswith("pro") else LITE, p)) for p in order}

    while worker.run_once():
        pass

    done = [store.get(job.id) for job in jobs.values()]
    assert all(j is not None and j.status is JobStatus.COMPLETED for j in done)
    by_start = sorted(done, key=lambda j: j.started_at or 0.0)  # type: ignore[union-attr]
    assert [j.request.prompt for j in by_start if j] == ["pro 1", "pro 2", "lite 1", "lite 2"]
    assert loaded == ["big-weights", "small-weights"]  # one switch, not three
    assert closed == ["big-weights"]


def test_one_loader_for_every_id_loads_once(
    store: SQLiteJobStore, storage: LocalStorage, settings: Settings
) -> None:
    loads: list[int] = []

    def load() -> Backend:
        loads.append(1)
        return TestPatternBackend()

    worker = Worker(store, storage, load, settings, "host:1:boot:0")
    for prompt, model in (("a", PRO), ("b", LITE), ("c", PRO)):
        store.create(_request(model, prompt))
    while worker.run_once():
        pass
    assert loads == [1]
    assert worker.warm.preferred() == []


def test_server_routing_follows_the_model_map(settings: Settings) -> None:
    registry = BackendRegistry()
    registry.register("testpattern", lambda s: NamedBackend(s.model, []))
    routed = settings.model_copy(
        update={"backend": "testpattern", "model": "catalogue", "model_map": {PRO: "/w/pro"}}
    )
    routing = ModelRouting(routed, registry).for_workers()
    assert routing.model_ids[0] == LITE
    assert routing.weights_for(PRO) == "/w/pro"
    assert routing.weights_for(LITE) == "wan2.1-t2v-1.3b"
    warm = WarmBackend(routing)
    assert warm.preferred() is None
    assert warm.warm_up().weights == "wan2.1-t2v-1.3b"  # type: ignore[attr-defined]
    assert warm.preferred() == [LITE]
