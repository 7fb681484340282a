"""Fair share between tenants: how long a second key's first job waits behind another key's
backlog, in units of one job's time; and what the fair claim query costs.

Live part: a warm `clipforge serve --backend testpattern` with two API keys and one worker.
First, the baseline of the run: --repeat jobs of a third key alone, one at a time; one job's
time is their median `finished_at - started_at`. Then key A submits a backlog of --backlog
jobs, and once they are all queued and the first has started, key B submits one job: its
wait is `started_at - created_at` (the server's own clock), printed as a ratio of one job's
time (the target: at most 1.0, the rest of the A job that was running when B arrived). For
contrast, the A jobs still queued when B arrived: what oldest-first claiming put ahead of it.

Store part (--claims N): the median and p95 of one `claim`, and of one `queue_position` (what
every view of a queued job asks), on SQLite with N jobs queued (N - 1 of key A and one of key
B) and N finished in the last hour, against the same with one job queued (the baseline of the
run). Run it with another checkout on PYTHONPATH to compare code.

    python bench/fairshare.py [--record] [--backlog 120] [--repeat 3] [--claims 1000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record import machine_description, record_rows
from serverproc import start_serve

KEYS = {
    "A": "bench-tenant-a-0123456789",
    "B": "bench-tenant-b-0123456789",
    "base": "bench-baseline-0123456789",  # its own key: its jobs count as no tenant's turn
}
BODY = {
    "model": "bytedance/seedance-1-0-lite-t2v",
    "prompt": "a scene",
    "resolution": "480p",
    "duration": 5,
    "aspect_ratio": "16:9",
    "seed": 1,
}


def submit(http: httpx.Client, tenant: str) -> str:
    headers = {"Authorization": f"Bearer {KEYS[tenant]}"}
    created = http.post("/v2/video/generations", json=BODY, headers=headers)
    created.raise_for_status()
    return str(created.json()["id"])


def view(http: httpx.Client, tenant: str, job_id: str) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {KEYS[tenant]}"}
    answer = http.get(f"/v1/jobs/{job_id}", headers=headers)
    answer.raise_for_status()
    return dict(answer.json())


def finished(http: httpx.Client, tenant: str, job_id: str, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while (job := view(http, tenant, job_id))["status"] not in ("completed", "error"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {job['status']}")
        time.sleep(0.02)
    assert job["status"] == "completed", job
    return job


def started(http: httpx.Client, tenant: str, job_id: str, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while (job := view(http, tenant, job_id))["started_at"] is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} not started after {timeout} s")
        time.sleep(0.02)
    return job


def live(port: int, backlog: int, repeat: int) -> list[str]:
    """The live part's row: backlog, one job's time, B's wait, the ratio, A jobs started
    while B waited, A jobs queued when B arrived."""
    env = {
        "CLIPFORGE_API_KEYS": ",".join(KEYS.values()),
        "CLIPFORGE_RATE_LIMIT_PER_MINUTE": "0",  # it polls every 20 ms
        "CLIPFORGE_MAX_QUEUED_JOBS": "0",
    }
    with tempfile.TemporaryDirectory() as data:
        process = start_serve(Path(data), port, "--backend", "testpattern", env=env)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
                finished(http, "base", submit(http, "base"))  # warm
                alone = [finished(http, "base", submit(http, "base")) for _ in range(repeat)]
                one_job = statistics.median(j["finished_at"] - j["started_at"] for j in alone)
                queued = [submit(http, "A") for _ in range(backlog)]
                started(http, "A", queued[0])  # B arrives while A's backlog is being worked on
                ahead = view(http, "A", queued[-1])["queue_position"]
                fifo_ahead = 0 if ahead is None else int(ahead) + 1  # A's queued jobs
                second = started(http, "B", submit(http, "B"))
                waited = second["started_at"] - second["created_at"]
                # Jobs that started after B arrived and before B: 0 when B was next in line.
                starts = [view(http, "A", job_id)["started_at"] for job_id in queued[:10]]
                arrived, began = second["created_at"], second["started_at"]
                cut_in = [t for t in starts if t and arrived < t < began]
        finally:
            process.terminate()
            process.wait(30)
    return [
        f"{backlog}",
        f"{one_job:.3f} s",
        f"{waited:.3f} s",
        f"{waited / one_job:.2f} job times",
        f"{len(cut_in)}",
        f"{fifo_ahead} (≈ {fifo_ahead} job times oldest-first)",
    ]


def store_latency(backlog: int, samples: int = 50) -> list[float]:
    """[claim p50, claim p95, position p50, position p95] in seconds, on SQLite with
    `backlog` jobs queued and as many finished."""
    from clipforge.schemas import GenerationRequest, JobResult
    from clipforge.store import SQLiteJobStore
    from clipforge.store.base import JobExtras

    request = GenerationRequest(model=str(BODY["model"]), prompt="a scene")
    with tempfile.TemporaryDirectory() as data:
        store = SQLiteJobStore(Path(data) / "jobs.db")
        try:
            for owner in ["A"] * (backlog - 1) + ["B"]:
                store.create(request, JobExtras(owner=owner))
            while (done := store.claim("bench", 60)) is not None:  # the last hour's history
                store.complete(done, JobResult("x.mp4", "testpattern"))
            for owner in ["A"] * (backlog - 1) + ["B"]:
                last = store.create(request, JobExtras(owner=owner))
            claims, positions = [], []
            for _ in range(samples):
                begun = time.perf_counter()
                store.queue_position(last.id)
                positions.append(time.perf_counter() - begun)
                begun = time.perf_counter()
                claim = store.claim("bench", 60)
                claims.append(time.perf_counter() - begun)
                assert claim is not None
                store.complete(claim, JobResult("x.mp4", "testpattern"))
                replaced = store.create(request, JobExtras(owner=claim.job.owner))
                last = replaced if claim.job.id == last.id else last
        finally:
            store.close()
    return [*_p50_p95(claims), *_p50_p95(positions)]


def _p50_p95(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[int(len(times) * 0.95)]


def claims_rows(backlog: int) -> list[list[str]]:
    import clipforge

    code = str(Path(clipforge.__file__).resolve().parents[1])
    base = store_latency(1)
    loaded = store_latency(backlog)
    rows = []
    for what, times in (("1 queued (baseline)", base), (f"{backlog} queued", loaded)):
        rows.append([f"{what}, {code}", *(f"{t * 1e3:.2f} ms" for t in times)])
    rows[1].append(f"claim {loaded[0] / base[0]:.1f}x, position {loaded[2] / base[2]:.1f}x")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=18791)
    parser.add_argument("--backlog", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--claims", type=int, default=0, help="also time claims with N queued")
    parser.add_argument("--only-claims", action="store_true", help="skip the live part")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    row = [] if args.only_claims else live(args.port, args.backlog, args.repeat)
    if row:
        print(" | ".join(row), flush=True)
    claims = claims_rows(args.claims) if args.claims else []
    for line in claims:
        print(" | ".join(line), flush=True)
    if args.record and row:
        columns = ["A's backlog", "one job (baseline)", "B's wait", "ratio"]
        columns += ["A jobs started while B waited", "A jobs queued when B arrived"]
        title = "Fair share: a second key's first job behind a backlog (bench/fairshare.py)"
        record_rows(title, columns, [row], machine_description())
    if args.record and claims:
        title = "Claim and queue-position latency on SQLite, two keys (bench/fairshare.py --claims)"
        rows = [c + [""] * (6 - len(c)) for c in claims]
        columns = ["queue", "claim p50", "claim p95", "position p50", "position p95", "ratio"]
        record_rows(title, columns, rows, machine_description())


if __name__ == "__main__":
    main()
