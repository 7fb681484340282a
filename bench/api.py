"""API overhead: create + poll throughput and latency at 50 concurrent clients.

Starts `clipforge serve` as a child process (testpattern backend, so a job's model work is
nothing), drives it from this process with a lean keep-alive client, and compares against a
baseline measured in the same run: GET /healthz on the same server (the framework's floor).

Then the cost of the metrics: create + poll on a server with CLIPFORGE_METRICS=false against
one with metrics on and /metrics scraped every second (ten times Prometheus' usual rate),
alternating off and on `--rounds` times, each on a fresh data folder; the ratio of the
median throughputs is the overhead (the target: on/off >= 0.95).

    python bench/api.py [--clients 50] [--seconds 10] [--workers 0|1] [--rounds 3] [--record]
                        [--postgres] [--note TEXT]

`--postgres` runs the server on a throwaway PostgreSQL cluster (tests/postgres.py) instead of
SQLite; `--rounds 0` leaves out the metrics rounds; `--note` goes into the recorded machine
line (e.g. what else loaded the machine).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import Samples, create_and_poll, health, run_load
from record import machine_description, record_rows
from serverproc import start_serve

LEGACY = "/v2/generate/video/bytedance/generation"
BODY = {"model": "bytedance/seedance-1-0-pro-t2v", "prompt": "a red ball", "resolution": "480p"}
KEY = "bench-key"
T = TypeVar("T")


def start_server(
    data_dir: Path, port: int, workers: int, metrics: bool = True, database_url: str | None = None
) -> subprocess.Popen[bytes]:
    args = ("--backend", "testpattern", "--workers", str(workers))
    # One key sends everything: the per-key limits (on by default) would measure themselves.
    unlimited = {"CLIPFORGE_RATE_LIMIT_PER_MINUTE": "0", "CLIPFORGE_MAX_QUEUED_JOBS": "0"}
    env = {"CLIPFORGE_API_KEYS": KEY, "CLIPFORGE_METRICS": str(metrics).lower(), **unlimited}
    if database_url is not None:
        env["CLIPFORGE_DATABASE_URL"] = database_url
    return start_serve(data_dir, port, *args, env=env)


@contextmanager
def database(postgres: bool) -> Iterator[Callable[[], str | None]]:
    """New databases for the servers: a throwaway PostgreSQL cluster's, or None (SQLite)."""
    if not postgres:
        yield lambda: None
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.postgres import PostgresCluster, server_bin

    bin_dir = server_bin()
    if bin_dir is None:
        raise SystemExit("--postgres needs PostgreSQL server binaries (Debian package postgresql)")
    cluster = PostgresCluster(bin_dir)
    cluster.init()
    cluster.start()
    try:
        yield cluster.new_database
    finally:
        cluster.remove()


@contextmanager
def scraping(port: int, every: float = 1.0) -> Iterator[list[float]]:
    """GET /metrics every `every` seconds from a thread while the block runs; the seconds
    each scrape took."""
    took: list[float] = []
    stop = threading.Event()

    def scrape() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            while not stop.wait(every):
                started = time.perf_counter()
                http.get("/metrics").raise_for_status()
                took.append(time.perf_counter() - started)

    thread = threading.Thread(target=scrape, daemon=True)
    thread.start()
    try:
        yield took
    finally:
        stop.set()
        thread.join(30)


def create_poll_rps(
    args: argparse.Namespace, metrics: bool, scraped: bool = True
) -> tuple[float, list[float]]:
    """One create+poll run on a fresh server; its throughput and the scrape times."""
    headers = {"Authorization": f"Bearer {KEY}"}
    with tempfile.TemporaryDirectory() as data:
        server = start_server(Path(data), args.port, args.workers, metrics, args.new_db())
        try:
            load = run_load("127.0.0.1", args.port, args.clients, 2.0, health)
            run_with_fast_loop(load)  # warm-up
            load = run_load(
                "127.0.0.1",
                args.port,
                args.clients,
                args.seconds,
                create_and_poll(LEGACY, BODY, headers),
            )
            if metrics and scraped:
                with scraping(args.port) as took:
                    samples, elapsed = run_with_fast_loop(load)
            else:
                took = []
                samples, elapsed = run_with_fast_loop(load)
        finally:
            server.terminate()
            server.wait(30)
    return samples.count() / elapsed, took


def metrics_rows(args: argparse.Namespace) -> list[tuple[str, ...]]:
    off, counted, on, scrapes = [], [], [], []
    for _ in range(args.rounds):
        off.append(create_poll_rps(args, metrics=False)[0])
        counted.append(create_poll_rps(args, metrics=True, scraped=False)[0])
        rps, took = create_poll_rps(args, metrics=True)
        on.append(rps)
        scrapes += took
    ratio = statistics.median(on) / statistics.median(off)
    scrape_ms = statistics.median(scrapes) * 1000 if scrapes else float("nan")
    return [
        (
            "create+poll, metrics off (baseline)",
            f"{statistics.median(off):.0f} req/s",
            "runs " + ", ".join(f"{r:.0f}" for r in off),
            "",
            "1.00x",
        ),
        (
            "create+poll, metrics on, not scraped",
            f"{statistics.median(counted):.0f} req/s",
            "runs " + ", ".join(f"{r:.0f}" for r in counted),
            "",
            f"{statistics.median(counted) / statistics.median(off):.3f}x of baseline",
        ),
        (
            "create+poll, metrics on, scraped every 1 s",
            f"{statistics.median(on):.0f} req/s",
            "runs " + ", ".join(f"{r:.0f}" for r in on),
            f"scrape p50 {scrape_ms:.1f} ms",
            f"{ratio:.3f}x of baseline",
        ),
    ]


def run_with_fast_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """uvloop when present: the client then takes less of the CPU the server needs."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def summary(name: str, samples: Samples, elapsed: float) -> dict[str, float]:
    return {
        "rps": samples.count() / elapsed,
        "p50_ms": samples.percentile(name, 0.50) * 1000,
        "p99_ms": samples.percentile(name, 0.99) * 1000,
        "errors": samples.errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--rounds", type=int, default=3, help="metrics off/on pairs")
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL store")
    parser.add_argument("--note", default="", help="added to the recorded machine line")
    args = parser.parse_args()
    with database(args.postgres) as new_db:
        args.new_db = new_db
        measure(args)


def measure(args: argparse.Namespace) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    with tempfile.TemporaryDirectory() as data:
        server = start_server(Path(data), args.port, args.workers, database_url=args.new_db())
        try:
            run = lambda scenario: run_with_fast_loop(  # noqa: E731
                run_load("127.0.0.1", args.port, args.clients, args.seconds, scenario)
            )
            run(health)  # warm-up
            base = summary("healthz", *run(health))
            samples, elapsed = run(create_and_poll(LEGACY, BODY, headers))
        finally:
            server.terminate()
            server.wait(30)
    create = summary("create", samples, elapsed)
    poll = summary("poll", samples, elapsed)
    rows = [
        (
            "baseline GET /healthz",
            f"{base['rps']:.0f} req/s",
            f"p50 {base['p50_ms']:.1f} ms",
            f"p99 {base['p99_ms']:.1f} ms",
            "1.00x",
        ),
        (
            "create+poll",
            f"{create['rps']:.0f} req/s",
            f"create p50 {create['p50_ms']:.1f} ms",
            f"create p99 {create['p99_ms']:.1f} ms",
            f"{create['rps'] / base['rps']:.2f}x of baseline",
        ),
        (
            "poll",
            "",
            f"p50 {poll['p50_ms']:.1f} ms",
            f"p99 {poll['p99_ms']:.1f} ms",
            f"errors {int(create['errors'])}",
        ),
    ]
    store = "PostgreSQL" if args.postgres else "SQLite"
    title = (
        f"API overhead ({args.clients} clients, {args.seconds:.0f} s, workers={args.workers}, "
        f"{store})"
    )
    for row in rows:
        print(" | ".join(row))
    metrics = metrics_rows(args) if args.rounds else []
    for row in metrics:
        print(" | ".join(row))
    machine = machine_description() + (f"; {args.note}" if args.note else "")
    if args.record:
        record_rows(title, ["what", "throughput", "p50", "p99", "ratio"], rows, machine)
    if args.record and metrics:
        record_rows(
            f"Metrics overhead ({args.clients} clients, {args.seconds:.0f} s x {args.rounds} "
            f"rounds, workers={args.workers})",
            ["what", "throughput", "runs", "scrape", "ratio"],
            metrics,
            machine,
        )


if __name__ == "__main__":
    main()
