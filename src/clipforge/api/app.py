"""The app factory: settings, store and storage in; a FastAPI app out (no torch here)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Protocol

from fastapi import FastAPI

from clipforge import __version__
from clipforge.api import probes as operations
from clipforge.api.deps import Services
from clipforge.api.http.context import RequestIdMiddleware
from clipforge.api.http.errors import install_error_handlers
from clipforge.api.http.limits import BodyLimitMiddleware
from clipforge.api.http.observe import RequestCounter
from clipforge.api.surfaces import aimlapi, files, studio
from clipforge.api.surfaces.ark import routes as ark
from clipforge.api.surfaces.ark.views import callback_view
from clipforge.api.surfaces.native import routes as native
from clipforge.api.surfaces.openai import routes as openai
from clipforge.background.callbacks import CallbackContext, CallbackDispatcher
from clipforge.background.housekeeping import Housekeeper
from clipforge.files.base import Storage
from clipforge.files.health import StorageHealth
from clipforge.routing import ModelRouting
from clipforge.settings import Settings
from clipforge.store.base import JobStore


class BackgroundService(Protocol):
    """Something that runs beside the API for the app's lifetime (the worker pool)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def create_app(
    settings: Settings,
    store: JobStore,
    storage: Storage,
    models: ModelRouting,
    *,
    background: Sequence[BackgroundService] = (),
    storage_health: StorageHealth | None = None,
) -> FastAPI:
    """Build the API. `background` services start with the app and stop with it, after the
    housekeeping sweep (expired tasks, file retention) that every app runs;
    `storage_health` is the in-process workers' (for `/readyz` and the metrics)."""

    shared = Services(settings, store, storage, models, storage_health=storage_health)
    if storage_health is not None:
        shared.metrics.watch_storage(storage_health)
    services: list[BackgroundService] = [Housekeeper(store, storage, settings)]
    dispatcher = None
    if settings.callbacks:
        dispatcher = CallbackDispatcher(
            CallbackContext(settings, store, callback_view(storage), shared.callbacks_due)
        )
    if dispatcher is not None:
        services.append(dispatcher)
        shared.metrics.watch_callbacks(lambda: asdict(dispatcher.stats))
    services += background
    store.on_finished = shared.metrics.job_finished
    shared.metrics.watch(store, settings.lease_seconds, models.ids)
    shared.metrics.expect(models.ids)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for service in services:
            service.start()
        try:
            yield
        finally:
            for service in reversed(services):
                service.stop()

    app = FastAPI(
        title="ClipForge",
        version=__version__,
        summary="Self-hosted text-to-video that speaks the Seedance 1.0 API.",
        lifespan=lifespan,
    )
    app.state.services = shared
    app.state.callbacks = dispatcher
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, settings=settings)
    counter = RequestCounter(shared.metrics) if settings.metrics else None
    app.add_middleware(RequestIdMiddleware, observe=counter)
    routers = (aimlapi.router, ark.router, native.router, openai.router, files.router)
    for router in (*routers, studio.router):
        app.include_router(router)
    app.include_router(operations.router)
    if settings.metrics:
        app.include_router(operations.metrics_router)
    return app
