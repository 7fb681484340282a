"""An API-only server (no workers: jobs stay queued) and a client for it, per test module.
A module that needs another configuration (keys, workers) defines its own `server`."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.live import LiveServer, live_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # No worker and no callback dispatcher: nothing this server accepts is ever delivered. The
    # built-in model's routing (never loaded: no worker) takes first and last frames, so an
    # image URL a test sends is fetched at create: tests send loopback or refused addresses.
    settings = {"backend": "builtin", "workers": 0, "callbacks": False}
    with live_server(tmp_path_factory.mktemp("api"), **settings) as live:
        yield live


@pytest.fixture(scope="module")
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client
