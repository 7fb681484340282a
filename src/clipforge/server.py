"""The composition root: builds the store, storage, worker pool and API from settings."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from clipforge.api.app import create_app
from clipforge.backends.base import Backend
from clipforge.backends.diffusers_catalog import weights_for_model
from clipforge.backends.registry import BackendRegistry, default_registry
from clipforge.schemas import IMAGE_TO_VIDEO_MODELS, SEEDANCE_MODELS
from clipforge.settings import Settings
from clipforge.storage.base import Storage
from clipforge.storage.factory import build_storage
from clipforge.store import JobStore, is_postgres_url, open_store
from clipforge.worker.pool import WorkerPool
from clipforge.worker.warm import WeightsRouting


@dataclass
class Server:
    app: FastAPI
    store: JobStore
    storage: Storage
    pool: WorkerPool


def build_server(settings: Settings, registry: BackendRegistry | None = None) -> Server:
    """Everything `clipforge serve` runs, wired together but not started."""
    store = open_store(settings.resolved_database_url, max_attempts=settings.max_attempts)
    storage = build_storage(settings)
    if is_postgres_url(settings.resolved_database_url):
        attach_queue(store, settings)
    registry = registry or default_registry()
    pool = WorkerPool(store, storage, weights_routing(settings, registry), settings)
    app = create_app(settings, store, storage, background=[pool])
    return Server(app, store, storage, pool)


def attach_queue(store: JobStore, settings: Settings) -> None:
    """On PostgreSQL, every new job also gets a procrastinate task for `clipforge worker`s."""
    from clipforge.queue.procrastinate_queue import ProcrastinateQueue
    from clipforge.store.postgres import PostgresJobStore

    assert isinstance(store, PostgresJobStore)
    lease = settings.lease_seconds
    store.on_created = ProcrastinateQueue(store, lease_seconds=lease, stalled_after=lease).enqueue


def weights_routing(settings: Settings, registry: BackendRegistry) -> WeightsRouting:
    """Each served id's weights (CLIPFORGE_MODEL, CLIPFORGE_MODEL_MAP), loaded through the
    configured backend; the lite id comes first, so warming up loads the small model."""
    served = [m for m in SEEDANCE_MODELS if m not in IMAGE_TO_VIDEO_MODELS]
    served.sort(key=lambda model_id: "-lite-" not in model_id)

    def weights_for(model_id: str) -> str | None:
        return weights_for_model(settings.model, settings.model_map, model_id)

    def load(weights: str | None) -> Backend:
        with_weights = settings.model_copy(update={"model": weights})
        return registry.create(settings.resolved_backend, with_weights)

    return WeightsRouting(weights_for, load, tuple(served))
