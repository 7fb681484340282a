"""Built-in model speed: `clipforge generate` wall time against a warm server.

For each case, the same request is also timed on a server with the `testpattern` backend
(no model work, same encoder and API path): the baseline of the run, so the ratio shows what
the model adds. Targets (issue 3, on a 2-core CPU): 480p 5 s <= 15 s, 1080p 10 s <= 60 s.

    python bench/builtin.py [--record]

Needs built-in weights (`python -m training.train --export`); speed does not depend on how
well they are trained, only on the network's size.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record import machine_description, record_rows
from serverproc import start_serve

CASES = [("480p", 5, 15.0), ("1080p", 10, 60.0)]
PROMPT = "a red ball rolling to the right"


def serve(data: Path, port: int, backend: str) -> subprocess.Popen[bytes]:
    return start_serve(data, port, "--backend", backend)


def generate_seconds(port: int, resolution: str, duration: int, out: Path) -> float:
    command = [
        sys.executable,
        "-m",
        "clipforge",
        "generate",
        PROMPT,
        "--resolution",
        resolution,
        "--duration",
        str(duration),
        "--seed",
        "1",
        "-o",
        str(out),
        "--server",
        f"http://127.0.0.1:{port}",
    ]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=os.environ)
    return time.perf_counter() - started


def measure(backend: str, port: int) -> dict[tuple[str, int], float]:
    with tempfile.TemporaryDirectory() as data:
        process = serve(Path(data), port, backend)
        try:
            generate_seconds(port, "480p", 5, Path(data) / "warm.mp4")  # warm the worker
            return {
                (res, dur): generate_seconds(port, res, dur, Path(data) / f"{res}.mp4")
                for res, dur, _ in CASES
            }
        finally:
            process.terminate()
            process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=18766)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    baseline = measure("testpattern", args.port)
    builtin = measure("builtin", args.port + 1)
    rows = []
    for res, dur, target in CASES:
        seconds, base = builtin[(res, dur)], baseline[(res, dur)]
        verdict = "met" if seconds <= target else "missed"
        rows.append(
            (
                f"{res} {dur} s",
                f"{seconds:.1f} s",
                f"{base:.1f} s",
                f"{seconds / base:.2f}x",
                f"<= {target:.0f} s",
                verdict,
            )
        )
        print(" | ".join(rows[-1]))
    if args.record:
        record_rows(
            "Built-in model: clipforge generate, warm server (bench/builtin.py)",
            ["case", "builtin", "baseline (testpattern)", "ratio", "target", "verdict"],
            rows,
            machine_description(),
        )


if __name__ == "__main__":
    main()
