"""What the SDK hands back: a job with its progress, a served model, the job's request.

These mirror the server's JSON (`GET /v1/jobs/{id}`, `GET /v1/models`) and ignore fields they
do not know, so that an older client keeps working against a newer server.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

TERMINAL_STATUSES = frozenset({"completed", "error", "cancelled"})


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class JobRequest(_Lenient):
    """The request as the server accepted it (defaults applied, the seed made concrete)."""

    model: str
    prompt: str
    resolution: str
    aspect_ratio: str
    duration: int
    watermark: bool = False
    seed: int
    camera_fixed: bool = False
    image_url: str | None = None
    last_image_url: str | None = None
    negative_prompt: str | None = None
    num_inference_steps: int | None = None
    guidance_scale: float | None = None


class Progress(_Lenient):
    """Denoising steps done out of `total` (0 of 0 until the backend reports)."""

    step: int = 0
    total: int = 0

    @property
    def fraction(self) -> float | None:
        """0.0 to 1.0, or None before the backend has said how many steps it takes."""
        return self.step / self.total if self.total else None


class JobError(_Lenient):
    name: str
    message: str


class Job(_Lenient):
    """One generation as the server sees it now.

    `status` is queued, generating, completed, error or cancelled; while queued,
    `queue_position` is the number of jobs ahead (0: next; `place_in_line` counts from 1, as
    the CLI and the studio show it); while generating, `phase` is loading, denoising,
    decoding, encoding or uploading and `eta_seconds` estimates what is left of the whole job.
    `video_expired` is True once the server's retention removed a completed job's video.
    `reading` is what the model made of the request (`prompt`: the prompt it used; the
    built-in model adds `attributes` and `unused_words`).
    """

    id: str
    status: str
    request: JobRequest
    progress: Progress = Progress()
    queue_position: int | None = None
    phase: str | None = None
    eta_seconds: float | None = None
    attempts: int = 0
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    video_url: str | None = None
    error: JobError | None = None
    backend: str | None = None
    timings: dict[str, float] = {}
    poster_url: str | None = None
    video_expired: bool = False
    reading: dict[str, Any] = {}

    @property
    def place_in_line(self) -> int | None:
        """1 for the next job to run, as the CLI and the studio say it; None unless queued."""
        return None if self.queue_position is None else self.queue_position + 1

    @property
    def done(self) -> bool:
        """True once the job has stopped: completed, error or cancelled."""
        return self.status in TERMINAL_STATUSES

    @property
    def ok(self) -> bool:
        """True when the job completed and its video can be downloaded."""
        return self.status == "completed" and self.video_url is not None

    def change_key(self) -> tuple[object, ...]:
        """What a progress display cares about: a new key means something to show."""
        return (
            self.status,
            self.phase,
            self.progress.step,
            self.progress.total,
            self.queue_position,
            bool(self.reading),
        )


class Lora(_Lenient):
    """A LoRA adapter the server's operator declared for a model (`loras` names it)."""

    name: str
    scale: float = 1.0
    status: str = "declared"
    """loaded, failed (`error` says why) or declared (no live worker holds the model)."""
    error: str | None = None


class Model(_Lenient):
    """A model id this server serves, and the backend behind it."""

    id: str
    backend: str
    weights: str | None = None
    image_input: bool = False
    sound: bool = False
    """Makes a sound track by default (`generate_audio`)."""
    loras: list[Lora] = []
    loras_fixed: bool = False
    notes: list[str] = []
    """What the operator should know about the weights (`two-stage: off, ...`)."""
    reference_images: int = 0
    """How many reference images (`image_urls`) it takes (0: none)."""
    reference_weights: str | None = None
    """What a request with reference images renders with, where not `weights`."""
