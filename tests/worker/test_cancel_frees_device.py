"""Cancelling a running job frees the worker (and its device) within one denoising step plus 1 s:
the next queued job starts generating by then. A real tiny diffusers model over real HTTP."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.live import live_server, wait_for_job

pytestmark = pytest.mark.slow

BODY = {"model": "bytedance/seedance-1-0-pro-t2v", "prompt": "a red ball", "resolution": "480p"}


def seconds_per_step(client: httpx.Client, job_id: str) -> float:
    """Watch the running job advance a few steps and time them."""
    first = wait_for_job(client, job_id, lambda j: j["progress"]["step"] >= 2, 120, 0.02)
    started = time.monotonic()
    later = wait_for_job(
        client, job_id, lambda j: j["progress"]["step"] >= first["progress"]["step"] + 5, 120, 0.02
    )
    return (time.monotonic() - started) / (later["progress"]["step"] - first["progress"]["step"])


def test_cancel_frees_the_worker_within_one_step_plus_a_second(
    tiny_wan_path: Path, tmp_path: Path
) -> None:
    overrides = {
        "backend": "diffusers",
        "model": str(tiny_wan_path),
        "native_short_side": 64,
        "native_max_frames": 17,
        "num_inference_steps": 300,
        "poll_interval_seconds": 0.05,
    }
    with live_server(tmp_path, **overrides) as live, live.client() as client:
        running = client.post("/v1/jobs", json={**BODY, "seed": 1}).json()["id"]
        waiting = client.post("/v1/jobs", json={**BODY, "seed": 2}).json()["id"]
        step = seconds_per_step(client, running)
        cancelled_at = time.monotonic()
        assert client.post(f"/v1/jobs/{running}/cancel").status_code == 200
        wait_for_job(client, waiting, lambda j: j["status"] != "queued", 10 + step, 0.02)
        freed_after = time.monotonic() - cancelled_at
        final = client.get(f"/v1/jobs/{running}").json()
        assert final["status"] == "cancelled"
        assert final["progress"]["step"] < 300
        assert freed_after <= step + 1.0, (freed_after, step)
        client.post(f"/v1/jobs/{waiting}/cancel")
