"""Scale-out queue benchmark: jobs per minute with 1, 2 and 4 `clipforge worker` processes
(testpattern backend, 480p 5 s clips: the encoder is the work) on PostgreSQL, and the queue
overhead per job (accepted -> started) with an idle worker.

    python bench/scaleout.py [--jobs 16] [--record]

Starts a throwaway PostgreSQL cluster (tests/postgres.py) unless --database-url is given
(an empty database). Throughput: a burst of jobs, from the first insert to the last
completion. Overhead: one job at a time into an idle worker, started_at - created_at.
(Not bench/queue.py: a script's folder comes first on sys.path, and a file named queue.py
there would shadow the standard library's queue module.)
Scaling efficiency is the speed-up over one worker divided by min(workers, cores): on a
machine with fewer cores than workers, workers beyond the cores cannot add throughput.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.record import machine_description, record_rows
from tests.postgres import PostgresCluster, server_bin

from clipforge.queue.procrastinate_queue import ProcrastinateQueue
from clipforge.schemas import GenerationRequest
from clipforge.store.postgres import PostgresJobStore

MODEL = "bytedance/seedance-1-0-lite-t2v"


def _request(i: int) -> GenerationRequest:
    return GenerationRequest(
        model=MODEL, prompt=f"bench {i}", seed=abs(i), resolution="480p", duration=5
    )


def _start_workers(count: int, url: str, data: Path) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "CLIPFORGE_DATABASE_URL": url, "CLIPFORGE_DATA_DIR": str(data)}
    command = [sys.executable, "-m", "clipforge", "worker", "--backend", "testpattern"]
    command += ["--model", MODEL]
    log = (data / "workers.log").open("ab")
    return [
        subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        for _ in range(count)
    ]


def _wait(store: PostgresJobStore, ids: list[str], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = [store.get(job_id) for job_id in ids]
        if all(job is not None and job.status.is_terminal for job in jobs):
            bad = [job for job in jobs if job is not None and job.status.value != "completed"]
            if bad:
                raise RuntimeError(f"{len(bad)} job(s) did not complete: {bad[0]}")
            return
        time.sleep(0.05)
    raise TimeoutError("jobs did not finish")


def _store(url: str) -> tuple[PostgresJobStore, ProcrastinateQueue]:
    store = PostgresJobStore(url, pool_size=2)
    queue = ProcrastinateQueue(store, lease_seconds=30, stalled_after=30)
    store.on_created = queue.enqueue
    return store, queue


def throughput(url: str, workers: int, jobs: int, data: Path) -> float:
    """Jobs per minute for a burst of `jobs` with `workers` warm worker processes."""
    store, queue = _store(url)
    procs = _start_workers(workers, url, data)
    try:
        _wait(store, [store.create(_request(-i - 1)).id for i in range(workers * 2)])  # warm
        started = time.perf_counter()
        _wait(store, [store.create(_request(i)).id for i in range(jobs)])
        return jobs / (time.perf_counter() - started) * 60
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(60)
        queue.close()
        store.close()


def overhead(url: str, jobs: int, data: Path) -> list[float]:
    """accepted -> started of `jobs` single jobs, each into an idle worker (seconds)."""
    store, queue = _store(url)
    procs = _start_workers(1, url, data)
    try:
        _wait(store, [store.create(_request(-1)).id])
        delays = []
        for i in range(jobs):
            job_id = store.create(_request(i)).id
            _wait(store, [job_id])
            job = store.get(job_id)
            assert job is not None and job.started_at is not None
            delays.append(job.started_at - job.created_at)
        return delays
    finally:
        procs[0].terminate()
        procs[0].wait(60)
        queue.close()
        store.close()


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def run(args: argparse.Namespace, new_database: object) -> list[list[str]]:
    data = Path(tempfile.mkdtemp(prefix="clipforge-bench-"))
    rows, base = [], 0.0
    cores = os.cpu_count() or 1
    for workers in (1, 2, 4):
        rate = throughput(new_database(), workers, args.jobs, data)  # type: ignore[operator]
        base = base or rate
        speedup = rate / base
        efficiency = speedup / min(workers, cores)
        rows.append(
            [
                f"{workers} worker(s)",
                f"{rate:.1f} jobs/min",
                f"{speedup:.2f}x",
                f"{efficiency:.0%} per core",
                "",
                "",
            ]
        )
        print(rows[-1], flush=True)
    delays = overhead(new_database(), args.overhead_jobs, data)  # type: ignore[operator]
    p50, p99 = _percentile(delays, 50), _percentile(delays, 99)
    rows.append(
        [
            f"queue overhead ({len(delays)} jobs, idle worker)",
            "",
            "",
            "",
            f"p50 {p50 * 1000:.0f} ms",
            f"p99 {p99 * 1000:.0f} ms",
        ]
    )
    print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=16)
    parser.add_argument("--overhead-jobs", type=int, default=20)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    bin_dir = server_bin()
    if bin_dir is None:
        raise SystemExit("needs PostgreSQL server binaries (Debian package postgresql)")
    cluster = PostgresCluster(bin_dir)
    cluster.init()
    cluster.start()
    try:
        rows = run(args, cluster.new_database)
    finally:
        cluster.remove()
    if args.record:
        title = (
            f"Scale-out queue: clipforge worker on PostgreSQL (bench/scaleout.py, {args.jobs} jobs)"
        )
        columns = ["what", "throughput", "speed-up", "scaling efficiency", "overhead p50", "p99"]
        record_rows(title, columns, rows, machine_description())


if __name__ == "__main__":
    main()
