"""`/healthz` latency while 20 MB multipart uploads arrive, against the same server idle.

A `clipforge serve --backend testpattern` (no workers). First `/healthz` alone (the run's
baseline), then while two clients upload 20 MB files in a loop, as the OpenAI SDK sends them:
an `input_reference` image and an extension's `video` (both bytes that decode to nothing,
so each is a 400 after parsing: what is measured is receiving and parsing the form). p50 and
p99 of the probe, and the ratio to the baseline.

    python bench/uploads.py [--record] [--seconds 10] [--uploaders 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record import machine_description, record_rows
from serverproc import start_serve

UPLOAD_BYTES = 20_000_000
CASES = {
    "input_reference": ("/v1/videos", {"prompt": "a", "seconds": "4"}),
    "video": ("/v1/videos/extensions", {"prompt": "a", "seconds": "4"}),
}


def probe(url: str, seconds: float) -> list[float]:
    """`/healthz` latencies, one request every 10 ms for `seconds`."""
    latencies = []
    with httpx.Client(base_url=url, timeout=30) as http:
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            started = time.perf_counter()
            http.get("/healthz").raise_for_status()
            latencies.append(time.perf_counter() - started)
            time.sleep(0.01)
    return latencies


def upload_loop(
    url: str, field: str, stop: multiprocessing.Event, answers: multiprocessing.Queue
) -> None:
    """One uploader (a process of its own: its work never slows the probe's client)."""
    path, form = CASES[field]
    payload = os.urandom(UPLOAD_BYTES)
    with httpx.Client(base_url=url, timeout=120) as http:
        while not stop.is_set():
            files = {field: ("upload.bin", payload, "application/octet-stream")}
            answers.put(http.post(path, data=form, files=files).status_code)


def loaded(url: str, field: str, uploaders: int, seconds: float) -> tuple[list[float], list[int]]:
    stop, queue = multiprocessing.Event(), multiprocessing.Queue()
    processes = [
        multiprocessing.Process(target=upload_loop, args=(url, field, stop, queue))
        for _ in range(uploaders)
    ]
    for process in processes:
        process.start()
    time.sleep(2.0)  # the uploads are under way
    latencies = probe(url, seconds)
    stop.set()
    for process in processes:
        process.join(120)
    answers = []
    while not queue.empty():
        answers.append(queue.get())
    return latencies, answers


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=18791)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--uploaders", type=int, default=2)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    url = f"http://127.0.0.1:{args.port}"
    rows = []
    with tempfile.TemporaryDirectory() as data:
        env = {"CLIPFORGE_RATE_LIMIT_PER_MINUTE": "0", "CLIPFORGE_WORKERS": "0"}
        process = start_serve(Path(data), args.port, "--backend", "testpattern", env=env)
        try:
            idle = probe(url, args.seconds)
            base = (statistics.median(idle), p99(idle))
            rows.append(("idle (baseline)", *_ms(base), "1.0x", "-"))
            print(" | ".join(rows[-1]), flush=True)
            for field in CASES:
                latencies, answers = loaded(url, field, args.uploaders, args.seconds)
                seen = (statistics.median(latencies), p99(latencies))
                statuses = ",".join(f"{s}x{answers.count(s)}" for s in sorted(set(answers)))
                rows.append((field, *_ms(seen), f"{seen[1] / base[1]:.1f}x", statuses))
                print(" | ".join(rows[-1]), flush=True)
        finally:
            process.terminate()
            process.wait(30)
    if args.record:
        columns = ["uploads", "healthz p50", "healthz p99", "p99 ratio", "upload answers"]
        title = f"/healthz while {args.uploaders} clients upload 20 MB forms (bench/uploads.py)"
        record_rows(title, columns, rows, machine_description())


def _ms(pair: tuple[float, float]) -> tuple[str, str]:
    return f"{pair[0] * 1e3:.1f} ms", f"{pair[1] * 1e3:.1f} ms"


if __name__ == "__main__":
    main()
