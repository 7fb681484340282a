"""Built-in model: speed (`clipforge generate` wall time against a warm server) and the full
evaluation through the backend (`training/eval.py`, n = 64 per suite).

For each case, the same request is also timed on a server with the `testpattern` backend
(no model work, same encoder and API path): the baseline of the run, so the ratio shows what
the model adds. Targets (issue 30, on a 2-core CPU): 480p 5 s <= 5 s; image-to-video (a
480p first frame, `--image`) <= 1.2x the same request from text; 1080p 10 s <= 60 s (issue 3).

    python bench/builtin.py [--record] [--eval] [--n 64]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record import machine_description, record_rows
from serverproc import start_serve

CASES = [("480p", 5, 5.0), ("480p i2v", 5, 0.0), ("1080p", 10, 60.0)]
"""(resolution, seconds, target in s); the image-to-video target is 1.2x the text case's."""
I2V_RATIO = 1.2
PROMPT = "a red ball rolling to the right"


def serve(data: Path, port: int, backend: str) -> subprocess.Popen[bytes]:
    return start_serve(data, port, "--backend", backend)


def generate_seconds(port: int, resolution: str, duration: int, out: Path) -> float:
    image = []
    if resolution.endswith(" i2v"):
        resolution = resolution.split()[0]
        image = ["--image", str(first_frame(out.parent))]
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
        *image,
        "-o",
        str(out),
        "--server",
        f"http://127.0.0.1:{port}",
    ]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=os.environ)
    return time.perf_counter() - started


def first_frame(folder: Path) -> Path:
    """A 854x480 PNG of a red square on a navy background: what the model was made for."""
    path = folder / "first.png"
    if not path.exists():
        from PIL import Image

        pixels = np.zeros((480, 854, 3), np.uint8)
        pixels[:] = (20, 25, 70)
        pixels[200:280, 150:230] = (220, 30, 30)
        Image.fromarray(pixels).save(path)
    return path


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
    parser.add_argument("--eval", action="store_true", help="also the full evaluation")
    parser.add_argument("--n", type=int, default=64, help="evaluation cases per suite")
    args = parser.parse_args()
    if args.eval:
        evaluate(args.n, args.record)
    baseline = measure("testpattern", args.port)
    builtin = measure("builtin", args.port + 1)
    rows = []
    for res, dur, target in CASES:
        seconds, base = builtin[(res, dur)], baseline[(res, dur)]
        if res.endswith(" i2v"):
            target = I2V_RATIO * builtin[(res.split()[0], dur)]
        verdict = "met" if seconds <= target else "missed"
        rows.append(
            (
                f"{res} {dur} s",
                f"{seconds:.1f} s",
                f"{base:.1f} s",
                f"{seconds / base:.2f}x",
                f"<= {target:.1f} s",
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


def evaluate(n: int, record: bool) -> None:
    """training/eval.py through the backend, each figure against its issue 30 target."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from training.eval import main as run_eval

    scores = run_eval(["--n", str(n)])
    rows = [
        (name, f"{value['rate']:.3f}", f"{value['low']:.3f}-{value['high']:.3f}", str(value["n"]))
        for name, value in flat_figures(scores)
    ]
    if record:
        record_rows(
            "Built-in model: evaluation through the backend (training/eval.py)",
            ["figure", "rate", "95% Wilson interval", "n"],
            rows,
            machine_description(),
        )


def flat_figures(scores: dict, prefix: str = "") -> list[tuple[str, dict]]:
    found = []
    for key, value in scores.items():
        if isinstance(value, dict) and "rate" in value:
            found.append((prefix + key, value))
        elif isinstance(value, dict):
            found.extend(flat_figures(value, f"{prefix}{key} "))
    return found


if __name__ == "__main__":
    main()
