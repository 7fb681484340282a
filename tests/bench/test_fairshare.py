"""bench/fairshare.py runs at a tiny size (a backlog of 6, one baseline job, 50 claims) and
prints rows a person can read: the second key's job starts next, and both latencies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import free_port

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[2] / "bench" / "fairshare.py"


def test_a_tiny_run_prints_the_wait_and_the_claim_latency() -> None:
    command = [sys.executable, str(BENCH), "--backlog", "6", "--repeat", "1", "--claims", "50"]
    command += ["--port", str(free_port())]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    live, base, loaded = done.stdout.splitlines()[-3:]
    backlog, one_job, waited, ratio, cut_in, queued = live.split(" | ")
    assert backlog == "6" and float(one_job.removesuffix(" s")) > 0
    seconds = float(waited.removesuffix(" s")) / float(one_job.removesuffix(" s"))
    assert float(ratio.removesuffix(" job times")) == pytest.approx(seconds, abs=0.01)
    assert cut_in == "0"  # no job of the backlog started between B's arrival and B's start
    assert int(queued.split()[0]) >= 4  # oldest-first would have put these ahead of B
    assert base.startswith("1 queued (baseline)") and loaded.startswith("50 queued")
    assert len(loaded.split(" | ")) == 6
