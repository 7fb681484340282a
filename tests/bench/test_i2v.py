"""bench/i2v.py runs (one case, one repeat) and prints a row a person can read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import free_port

# the bench script end to end: longer than the suite's 60 s per test
pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

BENCH = Path(__file__).resolve().parents[2] / "bench" / "i2v.py"


def test_one_case_prints_both_timings_and_their_ratio() -> None:
    command = [sys.executable, str(BENCH), "--repeat", "1", "--resolutions", "480p"]
    command += ["--port", str(free_port())]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (row,) = [line for line in done.stdout.splitlines() if line.startswith("480p 5 s |")]
    _, t2v, i2v, ratio, t2v_create, i2v_create = row.split(" | ")
    seconds = float(t2v.removesuffix(" s")), float(i2v.removesuffix(" s"))
    assert all(value > 0 for value in seconds)
    # the seconds are printed to 0.01 s, the ratio from the unrounded ones: within 2%
    assert float(ratio.removesuffix("x")) == pytest.approx(seconds[1] / seconds[0], rel=0.02)
    assert int(i2v_create.removesuffix(" ms")) >= int(t2v_create.removesuffix(" ms"))  # intake
