"""The composition root: builds the store, storage, worker pool and API from settings."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from clipforge.api.app import create_app
from clipforge.backends.registry import BackendRegistry, default_registry
from clipforge.settings import Settings
from clipforge.storage.local import LocalStorage
from clipforge.store import JobStore, open_store
from clipforge.worker.pool import WorkerPool


@dataclass
class Server:
    app: FastAPI
    store: JobStore
    storage: LocalStorage
    pool: WorkerPool


def build_server(settings: Settings, registry: BackendRegistry | None = None) -> Server:
    """Everything `clipforge serve` runs, wired together but not started."""
    store = open_store(settings.resolved_database_url, max_attempts=settings.max_attempts)
    storage = LocalStorage(
        settings.videos_dir,
        secret=settings.resolved_signing_secret,
        public_base_url=settings.resolved_public_base_url,
        ttl_seconds=settings.url_ttl_seconds,
    )
    registry = registry or default_registry()
    pool = WorkerPool(
        store, storage, lambda: registry.create(settings.resolved_backend, settings), settings
    )
    app = create_app(settings, store, storage, background=[pool])
    return Server(app, store, storage, pool)
