"""Image-to-video against text-to-video on the same backend, in one run.

A warm `clipforge serve --backend testpattern` (no model work: what is measured is everything
around it). For each case, the same request is timed from POST to a completed job, once as
text-to-video (the baseline of the run) and once with a 1920x1080 JPEG first frame sent as a
data: URL: intake (decode, EXIF, fit to the frame size, PNG into storage), the backend's
animation at the output size, and the H.264 encode. Also the create alone (POST to 200), where
the intake happens. Median of --repeat runs.

    python bench/i2v.py [--record] [--repeat 3] [--resolutions 480p 720p 1080p]

GPU rows for the i2v models come from bench/gpu_models.py where a GPU is available.
"""

from __future__ import annotations

import argparse
import base64
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record import machine_description, record_rows
from serverproc import start_serve

CASES = [("480p", 5), ("720p", 5), ("1080p", 5)]


def photo() -> str:
    """A 1920x1080 JPEG with detail (a photo's size and weight), as a data: URL."""
    rng = np.random.default_rng(1)
    ys, xs = np.mgrid[0:1080, 0:1920]
    pixels = np.stack([xs % 256, ys % 256, (xs + ys) % 256], axis=-1).astype(np.uint8)
    pixels = np.clip(pixels + rng.integers(-20, 20, pixels.shape), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


def timed(http: httpx.Client, body: dict[str, object]) -> tuple[float, float]:
    """(seconds to the create's answer, seconds to the completed job)."""
    started = time.perf_counter()
    created = http.post("/v2/video/generations", json=body)
    created.raise_for_status()
    accepted = time.perf_counter() - started
    job_id = created.json()["id"]
    while (job := http.get(f"/v1/jobs/{job_id}").json())["status"] not in ("completed", "error"):
        time.sleep(0.01)
    assert job["status"] == "completed", job
    return accepted, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=18790)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--record", action="store_true")
    parser.add_argument(
        "--resolutions", nargs="*", default=[r for r, _ in CASES], choices=[r for r, _ in CASES]
    )
    args = parser.parse_args()
    image = photo()
    rows = []
    with tempfile.TemporaryDirectory() as data:
        unlimited = {"CLIPFORGE_RATE_LIMIT_PER_MINUTE": "0"}  # it polls every 10 ms
        process = start_serve(Path(data), args.port, "--backend", "testpattern", env=unlimited)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{args.port}", timeout=120) as http:
                base = {"prompt": "a scene", "aspect_ratio": "16:9", "seed": 1}
                timed(http, {**base, "model": "bytedance/seedance-1-0-lite-t2v"})  # warm
                for resolution, duration in [c for c in CASES if c[0] in args.resolutions]:
                    common = {**base, "resolution": resolution, "duration": duration}
                    t2v = [
                        timed(http, {**common, "model": "bytedance/seedance-1-0-lite-t2v"})
                        for _ in range(args.repeat)
                    ]
                    i2v = [
                        timed(
                            http,
                            {
                                **common,
                                "model": "bytedance/seedance-1-0-lite-i2v",
                                "image_url": image,
                            },
                        )
                        for _ in range(args.repeat)
                    ]
                    t2v_total = statistics.median(t for _, t in t2v)
                    i2v_total = statistics.median(t for _, t in i2v)
                    t2v_accept = statistics.median(a for a, _ in t2v)
                    i2v_accept = statistics.median(a for a, _ in i2v)
                    rows.append(
                        (
                            f"{resolution} {duration} s",
                            f"{t2v_total:.2f} s",
                            f"{i2v_total:.2f} s",
                            f"{i2v_total / t2v_total:.2f}x",
                            f"{t2v_accept * 1e3:.0f} ms",
                            f"{i2v_accept * 1e3:.0f} ms",
                        )
                    )
                    print(" | ".join(rows[-1]), flush=True)
        finally:
            process.terminate()
            process.wait(30)
    if args.record:
        record_rows(
            "Image-to-video vs text-to-video, testpattern backend (bench/i2v.py)",
            [
                "case",
                "t2v (baseline) to completed",
                "i2v (1920x1080 JPEG) to completed",
                "ratio",
                "t2v create",
                "i2v create (intake)",
            ],
            rows,
            machine_description(),
        )


if __name__ == "__main__":
    main()
