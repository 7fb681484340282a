"""The composition root: builds the store, file storage, model routing, worker pool and API
from settings (what `clipforge serve` runs)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from clipforge.api.surfaces.ark.views import callback_view
from clipforge.backends.devices import DevicePlan, worker_devices
from clipforge.backends.registry import BackendRegistry
from clipforge.background.callbacks import CallbackContext, CallbackDispatcher
from clipforge.files.base import Storage
from clipforge.files.factory import build_storage
from clipforge.metrics import Metrics
from clipforge.routing import ModelRouting
from clipforge.settings import Settings
from clipforge.store import JobStore, is_postgres_url, open_store
from clipforge.worker.pool import WorkerPool

if TYPE_CHECKING:  # the worker process shape never imports FastAPI
    from fastapi import FastAPI


@dataclass
class Server:
    app: FastAPI
    store: JobStore
    storage: Storage
    pool: WorkerPool
    models: ModelRouting
    devices: DevicePlan
    """Each in-process worker's device, and a note when workers share one."""


def build_server(settings: Settings, registry: BackendRegistry | None = None) -> Server:
    """Everything `clipforge serve` runs, wired together but not started."""
    from clipforge.api.app import create_app

    store = open_store(settings.resolved_database_url, max_attempts=settings.max_attempts)
    storage = build_storage(settings)
    if is_postgres_url(settings.resolved_database_url):
        attach_queue(store, settings)
    models = ModelRouting(settings, registry)
    plan = worker_devices(settings.device, settings.devices, settings.workers)
    loaders = [models.for_workers(device=device) for device in plan.devices]
    pool = WorkerPool(store, storage, loaders, settings)
    app = create_app(
        settings, store, storage, models, background=[pool], storage_health=pool.health
    )
    return Server(app, store, storage, pool, models, plan)


def callback_sender(
    settings: Settings, store: JobStore, storage: Storage, models: ModelRouting, metrics: Metrics
) -> CallbackDispatcher | None:
    """The callback dispatcher of a process that is no API (`clipforge worker`), counted in
    its metrics; None with CLIPFORGE_CALLBACKS=false."""
    if not settings.callbacks:
        return None
    dispatcher = CallbackDispatcher(CallbackContext(settings, store, callback_view(storage)))
    metrics.watch_callbacks(lambda: asdict(dispatcher.stats))
    return dispatcher


def attach_queue(store: JobStore, settings: Settings) -> None:
    """On PostgreSQL, every new job also gets a procrastinate task for `clipforge worker`s."""
    from clipforge.queue.procrastinate_queue import ProcrastinateQueue
    from clipforge.store.postgres import PostgresJobStore

    assert isinstance(store, PostgresJobStore)
    lease = settings.lease_seconds
    store.on_created = ProcrastinateQueue(store, lease_seconds=lease, stalled_after=lease).enqueue
