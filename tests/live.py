"""A real ClipForge server on a loopback port, in a thread or in a child process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from clipforge.api.http.serving import uvicorn_options
from clipforge.settings import Settings
from clipforge.wiring import Server, build_server
from tests.ports import free_port

__all__ = ["LiveServer", "ServerProcess", "free_port", "live_server", "start_server_process"]


@dataclass
class LiveServer:
    url: str
    settings: Settings
    server: Server

    def client(self, api_key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@contextmanager
def live_server(data_dir: Path, loop: str = "auto", **overrides: Any) -> Iterator[LiveServer]:
    """Serve build_server(Settings(...)) with uvicorn in a thread until the block ends
    (`loop`: uvicorn's event loop; "asyncio" resolves names through `socket.getaddrinfo`).
    The socket is bound here, before the server exists: no other test can take its port."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
        settings = Settings(data_dir=data_dir, port=port, **overrides)
        server = build_server(settings)
        with _serving(server, settings, sock, loop):
            yield LiveServer(f"http://127.0.0.1:{port}", settings, server)


@contextmanager
def _serving(server: Server, settings: Settings, sock: socket.socket, loop: str) -> Iterator[None]:
    """uvicorn in a thread on `sock` until the block ends; the store closes with it."""
    config = uvicorn.Config(
        server.app,
        host="127.0.0.1",
        log_level="warning",
        loop=loop,  # type: ignore[arg-type]
        **uvicorn_options(settings),  # the connection limits `clipforge serve` runs with
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    try:
        yield
    finally:
        uv.should_exit = True
        thread.join(30)
        server.store.close()


@dataclass
class ServerProcess:
    """`clipforge serve` as a child process, so that a test can SIGKILL it."""

    url: str
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)


def start_server_process(data_dir: Path, env: dict[str, str], *args: str) -> ServerProcess:
    port = free_port()
    command = [sys.executable, "-m", "clipforge", "serve", "--port", str(port)]
    command += ["--data-dir", str(data_dir), *args]
    log = (data_dir / "server.log").open("ab")
    full_env = {**os.environ, **env}
    process = subprocess.Popen(command, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {(data_dir / 'server.log').read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return ServerProcess(url, process)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not answer within 120 s")


def wait_for_job(
    client: httpx.Client, job_id: str, done: Any, timeout: float = 180, interval: float = 0.1
) -> dict[str, Any]:
    """Poll the native job view until `done(job)`; fail with the last view after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").json()
        if done(job):
            return job
        time.sleep(interval)
    raise AssertionError(f"job {job_id} never got there: {job}")
