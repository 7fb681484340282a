"""bench/uploads.py runs (a short probe) and prints a row per case a person can read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import free_port

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[2] / "bench" / "uploads.py"


def test_a_short_run_prints_the_baseline_and_both_upload_cases() -> None:
    command = [sys.executable, str(BENCH), "--seconds", "1", "--port", str(free_port())]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = {line.split(" | ")[0]: line.split(" | ") for line in done.stdout.splitlines()}
    assert set(rows) == {"idle (baseline)", "input_reference", "video"}, done.stdout
    for case in ("input_reference", "video"):
        _, p50, p99, ratio, answers = rows[case]
        assert float(p99.removesuffix(" ms")) >= float(p50.removesuffix(" ms")) > 0
        assert float(ratio.removesuffix("x")) > 0
        assert answers.startswith("400x"), answers  # random bytes: parsed, then refused
