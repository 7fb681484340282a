"""The shared vocabulary: requests, jobs, statuses and the output geometry of API.md section 2."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

FPS = 24
SEED_MAX = 2**32 - 1


class Resolution(StrEnum):
    P480 = "480p"
    P720 = "720p"
    P1080 = "1080p"
    P4K = "4k"
    """Seedance 2.0 only (`seedance_models.py`)."""


class AspectRatio(StrEnum):
    WIDE = "16:9"
    CLASSIC = "4:3"
    SQUARE = "1:1"
    CLASSIC_PORTRAIT = "3:4"
    PORTRAIT = "9:16"
    CINEMA = "21:9"
    CINEMA_PORTRAIT = "9:21"


DURATIONS = (5, 10)
"""The AI/ML API's durations (seconds); Ark takes 2-12, the OpenAI dialect 4, 8 and 12."""
MAX_SECONDS = 30
"""The longest clip any surface may ask for; each backend says its own (`max_duration`)."""

SEEDANCE_MODELS = (
    "bytedance/seedance-1-0-pro-t2v",
    "bytedance/seedance-1-0-lite-t2v",
    "bytedance/seedance-1-0-pro-fast",
    "bytedance/seedance-1-0-lite-i2v",
    "bytedance/seedance-1-0-pro-i2v",
)
IMAGE_TO_VIDEO_MODELS = frozenset(m for m in SEEDANCE_MODELS if m.endswith("-i2v"))

FRAME_SIZES: dict[Resolution, dict[AspectRatio, tuple[int, int]]] = {
    Resolution.P480: {
        AspectRatio.WIDE: (864, 480),
        AspectRatio.CLASSIC: (736, 544),
        AspectRatio.SQUARE: (640, 640),
        AspectRatio.CLASSIC_PORTRAIT: (544, 736),
        AspectRatio.PORTRAIT: (480, 864),
        AspectRatio.CINEMA: (960, 416),
        AspectRatio.CINEMA_PORTRAIT: (416, 960),
    },
    Resolution.P720: {
        AspectRatio.WIDE: (1248, 704),
        AspectRatio.CLASSIC: (1120, 832),
        AspectRatio.SQUARE: (960, 960),
        AspectRatio.CLASSIC_PORTRAIT: (832, 1120),
        AspectRatio.PORTRAIT: (704, 1248),
        AspectRatio.CINEMA: (1504, 640),
        AspectRatio.CINEMA_PORTRAIT: (640, 1504),
    },
    Resolution.P1080: {
        AspectRatio.WIDE: (1920, 1088),
        AspectRatio.CLASSIC: (1664, 1248),
        AspectRatio.SQUARE: (1440, 1440),
        AspectRatio.CLASSIC_PORTRAIT: (1248, 1664),
        AspectRatio.PORTRAIT: (1088, 1920),
        AspectRatio.CINEMA: (2176, 928),
        AspectRatio.CINEMA_PORTRAIT: (928, 2176),
    },
    # 16:9 is the AI/ML 2.0 page's 3840x2160 (UHD); the others are *derived*: twice the 1080p
    # row (no published figure), which keeps every size a multiple of 16 and the ratios exact.
    Resolution.P4K: {
        AspectRatio.WIDE: (3840, 2160),
        AspectRatio.CLASSIC: (3328, 2496),
        AspectRatio.SQUARE: (2880, 2880),
        AspectRatio.CLASSIC_PORTRAIT: (2496, 3328),
        AspectRatio.PORTRAIT: (2160, 3840),
        AspectRatio.CINEMA: (4352, 1856),
        AspectRatio.CINEMA_PORTRAIT: (1856, 4352),
    },
}


def frame_size(resolution: Resolution, aspect_ratio: AspectRatio) -> tuple[int, int]:
    """(width, height) of the output video, exactly as the hosted service renders it."""
    return FRAME_SIZES[resolution][aspect_ratio]


def frame_count(duration: int) -> int:
    """Frames in the output video: 24 per second plus the closing frame."""
    return FPS * duration + 1


def usage_tokens(width: int, height: int, frames: int) -> int:
    """The hosted service's token count: 1920x1088 for 121 frames is 246840."""
    return width * height * frames // 1024


def new_seed(asked: int | None = None) -> int:
    """The seed a request renders with: the one asked for, or a random one when the client
    asked for none or for -1 (the hosted APIs' "random"). Every surface decides it here."""
    if asked is not None and asked >= 0:
        return asked
    return secrets.randbelow(SEED_MAX + 1)


class LoraChoice(BaseModel):
    """One LoRA adapter a request renders with: a name the operator declared for the model
    (CLIPFORGE_LORAS) and the scale, the adapter's default filled in when the client sent
    none."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    scale: float


class GenerationRequest(BaseModel):
    """One validated request, whichever API surface it came through.

    The seed is always concrete here: a request without one gets a random seed when it is
    accepted, so that a retried attempt renders the same video.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str
    prompt: str = Field(min_length=1)
    resolution: Resolution = Resolution.P1080
    aspect_ratio: AspectRatio = AspectRatio.WIDE
    duration: int = Field(5, ge=1, le=MAX_SECONDS)
    watermark: bool = False
    seed: int = Field(default_factory=new_seed, ge=0, le=SEED_MAX)
    camera_fixed: bool = False
    image_url: str | None = None
    last_image_url: str | None = None
    client_model: str | None = None
    """The model id as the client spelled it when it differs from `model` (the BytePlus Ark
    surface takes dated ids such as `seedance-1-0-pro-250528`, the OpenAI dialect `sora-2`,
    and echoes them back)."""
    width: int | None = None
    height: int | None = None
    """An exact output size (the OpenAI dialect's `size`) instead of the resolution table's."""
    frame_count: int | None = Field(None, ge=2)
    """An exact number of output frames (Ark's `frames`) instead of 24 x duration + 1."""
    negative_prompt: str | None = None
    num_inference_steps: int | None = Field(None, ge=1, le=200)
    guidance_scale: float | None = Field(None, ge=0, le=50)
    """Sampling overrides (the self-hosted peers' extension fields), where the backend
    takes them (its capabilities say; the API refuses them otherwise)."""
    return_last_frame: bool = False
    """Ark: the task object hands out the clip's last frame as well."""
    safety_identifier: str | None = None
    """Ark: the client's end-user identifier, stored and echoed."""
    source_job: str | None = None
    """The job this one remixes or extends (OpenAI dialect), if any."""
    generate_audio: bool = False
    """The clip carries a sound track (AAC): the model's default from 1.5 on, where the
    serving backend makes sound (`routing/served.py` `ServedModel.audio_for`)."""
    draft: bool = False
    """Ark's `draft`: a preview at 480p with half the steps; its id renders the full clip
    later (`draft_task`) from the same seed and settings."""
    draft_of: str | None = None
    """The draft job whose seed and settings this full render reuses (Ark `draft_task`)."""
    provider: str | None = None
    """The AI/ML 1.5/2.x `provider` field: accepted and echoed (one provider here)."""
    loras: tuple[LoraChoice, ...] = ()
    """LoRA adapters to render with (none: the base model, or a model's fixed adapters)."""
    reference_images: tuple[str, ...] = ()
    """Reference images (AI/ML `image_urls`, Ark `reference_image`) as the job records them;
    the pixels are stored beside the job (`files.base.reference_key`)."""

    @property
    def size(self) -> tuple[int, int]:
        if self.width is not None and self.height is not None:
            return self.width, self.height
        if self.draft:  # a preview: 480p whatever the full clip's resolution
            return frame_size(Resolution.P480, self.aspect_ratio)
        return frame_size(self.resolution, self.aspect_ratio)

    @property
    def frames(self) -> int:
        return self.frame_count if self.frame_count is not None else frame_count(self.duration)

    @property
    def seconds(self) -> float:
        """The clip's length in seconds: what a backend renders (frames - 1 at 24 fps)."""
        return (self.frames - 1) / FPS

    @property
    def pixel_frames(self) -> int:
        """Output pixels times frames: what decoding and encoding scale with."""
        width, height = self.size
        return width * height * self.frames

    @property
    def usage_tokens(self) -> int:
        return self.pixel_frames // 1024


PHASES = ("loading", "denoising", "decoding", "encoding", "uploading")
"""A running job's phases, in order. Decoding runs from the last denoising step until frames
reach the encoder: diffusers decodes the latents with its VAE there; the built-in model and
the test pattern stream their frames, so theirs is short and the rest happens while encoding."""

SURFACES = ("aimlapi", "ark", "native", "openai")
"""The API dialects a job can come through (what its record, the metrics and the logs say)."""

SERVICE_TIERS = ("default", "flex")
"""Ark's service tiers, in claim order: every queued `default` job goes before a `flex` one."""


class JobStatus(StrEnum):
    """Internal job states. The AI/ML surface shows the first four; Ark adds cancelled."""

    QUEUED = "queued"
    GENERATING = "generating"
    COMPLETED = "completed"
    ERROR = "error"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.ERROR, JobStatus.CANCELLED)


@dataclass(frozen=True)
class Job:
    """A job row as the store returns it. Times are unix seconds (float)."""

    id: str
    request: GenerationRequest
    status: JobStatus
    created_at: float
    updated_at: float
    attempts: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    progress_step: int = 0
    progress_total: int = 0
    worker_id: str | None = None
    lease_expires_at: float | None = None
    error_name: str | None = None
    error_message: str | None = None
    video_key: str | None = None
    backend: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    owner: str | None = None
    """The id of the API key that created the job (`open` in open mode)."""
    purged_at: float | None = None
    """When retention removed the job's video (the job stays, its video has expired)."""
    worker_crashes: int = 0
    """Attempts that ended because their worker died or stopped responding."""
    priority: int = 0
    """Higher is claimed first (Ark's `priority`), within a service tier."""
    tier: str = "default"
    """`default`, or `flex` (claimed after every default job: Ark's `service_tier`)."""
    stills: tuple[str, ...] = ()
    """The stills stored with the video (`video.stills.KINDS`: poster, sprites, lastframe)."""
    expires_at: float | None = None
    """When the job, still queued, ends expired (Ark's `execution_expires_after`)."""
    phase: str | None = None
    """What a running job is doing: loading, denoising, decoding, encoding or uploading
    (`PHASES`)."""
    phase_started_at: float | None = None
    expected_tail_s: float | None = None
    """The worker's estimate of the seconds from the start of this phase to the end of the
    job, denoising steps left aside (decode, encode, upload: `worker/tail.py`)."""
    reading: dict[str, object] = field(default_factory=dict)
    """What the model made of the request (`backends.base.Reading`): the prompt it used, and
    for the built-in model the attributes it read and the words it did not use."""
    surface: str = ""
    """The API dialect that created the job (`SURFACES`; empty for jobs made before it was
    recorded, or by code that is no surface)."""


@dataclass(frozen=True)
class JobResult:
    """What a worker reports when a job completes."""

    video_key: str
    backend: str
    timings: dict[str, float] = field(default_factory=dict)
    stills: tuple[str, ...] = ()
