"""A lean HTTP/1.1 keep-alive load generator (asyncio streams), so that the client costs less
CPU than the server it measures; httpx alone would saturate a 2-core box before the server."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass
class Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    host: str

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, f"{host}:{port}")

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


@dataclass
class Samples:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0

    def add(self, name: str, seconds: float) -> None:
        self.latencies.setdefault(name, []).append(seconds)

    def count(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def percentile(self, name: str, q: float) -> float:
        values = sorted(self.latencies[name])
        return values[min(len(values) - 1, int(q * len(values)))]


Scenario = Callable[[Connection, Samples], Awaitable[None]]


async def timed(samples: Samples, name: str, call: Awaitable[tuple[int, bytes]]) -> bytes:
    started = time.perf_counter()
    status, body = await call
    samples.add(name, time.perf_counter() - started)
    if status >= 400:
        samples.errors += 1
    return body


async def run_load(
    host: str, port: int, clients: int, seconds: float, scenario: Scenario
) -> tuple[Samples, float]:
    """Run `scenario` in a loop on `clients` connections for `seconds`."""
    samples = Samples()
    connections = [await Connection.open(host, port) for _ in range(clients)]
    deadline = time.perf_counter() + seconds

    async def loop(conn: Connection) -> None:
        while time.perf_counter() < deadline:
            await scenario(conn, samples)

    started = time.perf_counter()
    await asyncio.gather(*(loop(c) for c in connections))
    elapsed = time.perf_counter() - started
    for conn in connections:
        conn.close()
    return samples, elapsed


def create_and_poll(path: str, body: dict[str, object], headers: dict[str, str]) -> Scenario:
    payload = json.dumps(body).encode()

    async def scenario(conn: Connection, samples: Samples) -> None:
        created = await timed(samples, "create", conn.request("POST", path, payload, headers))
        job_id = json.loads(created)["id"]
        poll = f"{path}?generation_id={job_id}"
        await timed(samples, "poll", conn.request("GET", poll, headers=headers))

    return scenario


def health(conn: Connection, samples: Samples) -> Awaitable[None]:
    async def scenario() -> None:
        await timed(samples, "healthz", conn.request("GET", "/healthz"))

    return scenario()
