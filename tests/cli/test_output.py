"""The words the CLI prints for a job's state (`clipforge status`, the progress bar)."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from clipforge.cli.output import describe, job_details
from clipforge.client import Job


def job(**fields: Any) -> Job:
    base = {
        "id": "j1",
        "status": "generating",
        "request": {
            "model": "m",
            "prompt": "a ball",
            "resolution": "480p",
            "aspect_ratio": "16:9",
            "duration": 5,
            "seed": 1,
        },
        "created_at": 0.0,
    }
    return Job.model_validate(base | fields)


def test_each_phase_is_named_with_its_eta() -> None:
    assert describe(job(phase="loading")) == "generating, loading the model"
    steps = {"progress": {"step": 2, "total": 4}, "eta_seconds": 9.4}
    assert describe(job(phase="denoising", **steps)) == "generating, step 2/4, ETA 9s"
    for phase in ("decoding", "encoding", "uploading"):
        assert describe(job(phase=phase, **steps)) == f"{phase}, ETA 9s"


def test_an_expired_video_says_so() -> None:
    expired = job(status="completed", video_expired=True)
    assert describe(expired) == "completed, video expired"
    assert describe(job(status="completed")) == "completed"
    console = Console(width=100, record=True)
    console.print(job_details(expired))
    assert "expired (retention)" in console.export_text()
