"""API overhead: create + poll throughput and latency at 50 concurrent clients.

Starts `clipforge serve` as a child process (testpattern backend, so a job's model work is
nothing), drives it from this process with a lean keep-alive client, and compares against a
baseline measured in the same run: GET /healthz on the same server (the framework's floor).

    python bench/api.py [--clients 50] [--seconds 10] [--workers 0|1] [--record]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import Samples, create_and_poll, health, run_load
from record import machine_description, record_rows
from serverproc import start_serve

LEGACY = "/v2/generate/video/bytedance/generation"
BODY = {"model": "bytedance/seedance-1-0-pro-t2v", "prompt": "a red ball", "resolution": "480p"}
KEY = "bench-key"
T = TypeVar("T")


def start_server(data_dir: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    args = ("--backend", "testpattern", "--workers", str(workers))
    # One key sends everything: the per-key limits (on by default) would measure themselves.
    unlimited = {"CLIPFORGE_RATE_LIMIT_PER_MINUTE": "0", "CLIPFORGE_MAX_QUEUED_JOBS": "0"}
    return start_serve(data_dir, port, *args, env={"CLIPFORGE_API_KEYS": KEY, **unlimited})


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
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    headers = {"Authorization": f"Bearer {KEY}"}
    with tempfile.TemporaryDirectory() as data:
        server = start_server(Path(data), args.port, args.workers)
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
    title = f"API overhead ({args.clients} clients, {args.seconds:.0f} s, workers={args.workers})"
    for row in rows:
        print(" | ".join(row))
    if args.record:
        record_rows(
            title, ["what", "throughput", "p50", "p99", "ratio"], rows, machine_description()
        )


if __name__ == "__main__":
    main()
