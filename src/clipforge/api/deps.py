"""Typed dependencies shared by the routers."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Annotated, ParamSpec, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from clipforge.catalog import ModelCatalog
from clipforge.errors import AuthenticationFailed
from clipforge.settings import Settings
from clipforge.storage.base import Storage
from clipforge.store.base import JobStore

P = ParamSpec("P")
T = TypeVar("T")
STORE_THREADS = 1


@dataclass(frozen=True)
class Services:
    """What the routers work with; built once by the app factory."""

    settings: Settings
    store: JobStore
    storage: Storage
    catalog: ModelCatalog
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(STORE_THREADS, thread_name_prefix="store")
    )

    async def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run store work: inline when the store says its calls are short and local (SQLite
        in WAL mode: about 0.1 ms, never a network wait), else in a small thread pool.

        The thread hop is what an inline call saves: bench/api.py measured create+poll at
        3.9k req/s with p99 23 ms inline, against 2.4k req/s with p99 78 ms through a pool.
        """
        if self.store.runs_inline:
            return fn(*args, **kwargs)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, partial(fn, *args, **kwargs))


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]

_bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer KEY`")


@dataclass(frozen=True)
class Caller:
    """Who is asking: `key_id` scopes idempotency keys, limits and job ownership."""

    key_id: str


OPEN_CALLER = Caller("open")


def key_id(key: str) -> str:
    """A stable, non-secret name for an API key (never the key itself)."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


async def require_api_key(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """401 unless no keys are configured or the bearer key is one of them.

    Dependencies that do no I/O are `async def`: FastAPI would run a plain `def` one in the
    thread pool, a thread hop per request for nothing.
    """
    keys = services.settings.api_keys
    if not keys:
        return OPEN_CALLER
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationFailed("missing API key: send `Authorization: Bearer KEY`")
    offered = credentials.credentials.encode()
    if not any(hmac.compare_digest(offered, key.encode()) for key in keys):
        raise AuthenticationFailed("invalid API key")
    return Caller(key_id(credentials.credentials))


Authorized = Depends(require_api_key)
CallerDep = Annotated[Caller, Depends(require_api_key)]
