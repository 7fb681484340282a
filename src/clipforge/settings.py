"""Settings: the only module of the server that reads the environment (CLIPFORGE_*). The SDK
and the CLI's client commands read their two, CLIPFORGE_URL and CLIPFORGE_API_KEY, in
`clipforge/client/_base.py`, so that the SDK never imports server code."""

from __future__ import annotations

import os
import secrets
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def default_data_dir() -> Path:
    """One data folder for every command, whatever the current folder."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "clipforge"


ADAPTER_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
"""What an adapter's name may be: a short word, never a path or a URL."""


class LoraAdapter(BaseModel):
    """One LoRA adapter an operator declares for a model (CLIPFORGE_LORAS; docs/LORA.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=ADAPTER_NAME, description="What requests call it (`loras`).")
    source: str = Field(
        min_length=1,
        description="A local .safetensors file, a folder holding one, or a hub id (the hub "
        "is asked only where it can be reached: HF_HUB_OFFLINE reads the local cache).",
    )
    weight_name: str | None = Field(
        None, description="The file in a folder or hub repository holding several."
    )
    scale: float = Field(1.0, ge=-10, le=10, description="Scale when a request names none.")
    transformer_2: bool = Field(
        False,
        description="Wan 2.2 A14B: load it into the low-noise expert (`transformer_2`), as the "
        "low-noise file of a two-file release (Wan2.2-Lightning) is meant.",
    )


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Everything an operator can set. Each field reads CLIPFORGE_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="CLIPFORGE_", extra="ignore")

    environment: Environment = Field(
        Environment.DEVELOPMENT,
        description="`production` refuses unsafe defaults (no API keys, no signing secret).",
    )
    data_dir: Path = Field(
        default_factory=lambda: default_data_dir(),
        description="Folder for the SQLite database, the signing secret and generated videos; "
        "default $XDG_DATA_HOME/clipforge (~/.local/share/clipforge), the same for every "
        "command wherever it runs.",
    )
    database_url: str | None = Field(
        None, description="Job store URL; default sqlite:///<data_dir>/clipforge.db."
    )
    host: str = Field("127.0.0.1", description="Address `clipforge serve` listens on.")
    port: int = Field(8000, description="Port `clipforge serve` listens on.")
    public_base_url: str | None = Field(
        None,
        description="Base of the absolute video URLs handed to clients, e.g. "
        "https://videos.example.com; default http://<host>:<port>.",
    )
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated bearer keys; a key written KEY:admin is an admin key (sees "
        "every job). Beside the stored keys of `clipforge keys create`.",
    )
    open_access: bool = Field(
        False,
        description="Serve without API keys on an address beyond loopback (development only; "
        "production refuses it). Without it, a server with no key answers only on loopback.",
    )
    signing_secret: str | None = Field(
        None,
        description="Server secret: the file-link key and each API key's default webhook "
        "secret are derived from it (HKDF); default a random one kept in <data_dir>/secret.",
    )
    url_ttl_seconds: int = Field(
        24 * 3600, gt=0, description="How long a signed video link stays valid."
    )
    backend: str = Field(
        "auto",
        description="Backend that serves the Seedance model ids: builtin, diffusers, testpattern "
        "or a plugin's name; auto = diffusers when weights are named (CLIPFORGE_MODEL or "
        "CLIPFORGE_MODEL_MAP), else the built-in model.",
    )
    model: str | None = Field(
        None,
        description="Weights for the backend: a local diffusers pipeline folder or a hub id "
        "(for builtin: a folder of exported weights; default the shipped ones).",
    )
    device: str = Field(
        "auto",
        description="Torch device for the in-process worker(s); with several workers a bare "
        "`cuda` (or `auto` on a CUDA machine) puts worker i on cuda:i.",
    )
    devices: str | None = Field(
        None,
        description="Comma-separated torch devices for the in-process workers in turn (e.g. "
        "cuda:0,cuda:1); instead of spreading CLIPFORGE_DEVICE over the visible GPUs.",
    )
    dtype: str = Field("auto", description="Torch dtype: auto (bf16 on GPU, fp32 on CPU).")
    num_inference_steps: int | None = Field(
        None, gt=0, description="Override the backend's default number of denoising steps."
    )
    native_short_side: int | None = Field(
        None,
        gt=0,
        description="Short side of the frames the model renders before upscaling to the API "
        "size; default the model family's native size (480 for Wan, 512 for LTX, 192 for "
        "the built-in model).",
    )
    native_max_frames: int | None = Field(
        None,
        gt=0,
        description="Cap on the frames the model renders (spread over the clip's length: a "
        "lower frame rate, not a shorter clip); default the model family's full length.",
    )
    frame_rate_mode: Literal["native", "interpolate"] = Field(
        "native",
        description="How a model's frames reach the file when its rate is not held evenly "
        "at 24 fps (Wan's 16 fps): native, the file at the model's own rate, frame for "
        "frame; interpolate, FFmpeg's motion-compensated minterpolate to 24 fps (slower, "
        "artefacts where objects cross). Never a cross-fade (docs/GPU.md).",
    )
    workers: int = Field(1, ge=0, description="In-process workers started by `serve`.")
    lease_seconds: float = Field(
        30.0, gt=0, description="A running job whose worker stays silent this long is retried."
    )
    heartbeat_seconds: float = Field(
        5.0, gt=0, description="How often a worker renews the lease of its running job."
    )
    max_attempts: int = Field(
        3, ge=1, description="Attempts before a job whose worker keeps dying ends in error."
    )
    poll_interval_seconds: float = Field(
        0.2, gt=0, description="How often an idle worker looks for queued jobs."
    )
    # --- task management and the front door (issue 7) ---------------------------------------
    retention_days: float | None = Field(
        None,
        gt=0,
        description="Remove finished jobs' video files after this many days; unset: keep them.",
    )
    sweep_interval_seconds: float = Field(
        5.0, gt=0, description="How often the server expires queued tasks and removes old files."
    )
    log_format: Literal["text", "json"] = Field(
        "text",
        description="`json`: one JSON object per log line, with the request id, job id, "
        "attempt, model, worker and surface where they apply (`clipforge/logs.py`).",
    )
    metrics: bool = Field(
        True, description="Serve Prometheus metrics at /metrics and count HTTP requests."
    )
    metrics_token: str | None = Field(
        None,
        description="When set, /metrics (the API's and each worker's `--metrics-port`) wants "
        "`Authorization: Bearer <token>` (a token of its "
        "own, not an API key); unset: /metrics is open like /healthz.",
    )
    ready_needs_worker: bool = Field(
        True,
        description="/readyz answers 200 only while some worker (in this process or, on "
        "PostgreSQL, any `clipforge worker`) reported itself within a lease.",
    )
    callbacks: bool = Field(
        True,
        description="Send callback_url notifications from this process, an API replica or a "
        "`clipforge worker` (false: leave them to the others on the same database; they wait "
        "in the store meanwhile).",
    )
    callback_timeout_seconds: float = Field(
        5.0, gt=0, description="How long a callback_url has to acknowledge a notification."
    )
    callback_retries: int = Field(
        3, ge=0, description="Retries of an unacknowledged notification of a terminal status."
    )
    rate_limit_per_minute: int = Field(
        600,
        ge=0,
        le=1_000_000,
        description="Requests per minute per API key (429 beyond); 0: unlimited. A stored key "
        "may carry its own (`clipforge keys create NAME --rate P`).",
    )
    max_queued_jobs: int = Field(
        120,
        ge=0,
        le=1_000_000,
        description="Queued jobs one API key may have (429 beyond; Ark caps an account at 120); "
        "0: unlimited. A stored key may carry its own (`--max-queued N`).",
    )
    auth_failures_per_minute: int = Field(
        30,
        ge=0,
        description="Failed authentications per client address per minute before that address "
        "gets 429 for a while; 0: no throttle.",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated addresses or networks (CIDR) of reverse proxies whose "
        "X-Forwarded-For names the client (the address failed keys are throttled by); "
        "default none: the connecting address is the client, whatever the header says.",
    )
    header_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="A connection must send a request's headers within this many seconds "
        "(408 and closed otherwise); `clipforge serve` only (docs/DEPLOY.md).",
    )
    keep_alive_seconds: float = Field(
        5.0, gt=0, description="An idle keep-alive connection is closed after this many seconds."
    )
    body_idle_timeout_seconds: float = Field(
        30.0,
        gt=0,
        description="A request body that sends nothing for this many seconds gets a 408 (a "
        "caller, even one without a key, cannot hold a connection by never finishing its body).",
    )
    max_body_bytes: int = Field(
        1_000_000, ge=1024, description="Largest request body accepted (413 beyond)."
    )
    max_prompt_chars: int = Field(
        4000, ge=1, description="Longest prompt accepted (400 naming the field beyond)."
    )
    url_allowlist_only: bool = Field(
        False,
        description="Reach only the hosts and networks of CLIPFORGE_URL_ALLOWLIST with callbacks "
        "and image fetches, public ones included (a closed network).",
    )
    max_image_bytes: int = Field(
        20_000_000,
        ge=1024,
        description="Largest first or last frame image (fetched or inline) accepted, in bytes.",
    )
    image_fetch_timeout_seconds: float = Field(
        20.0, gt=0, description="How long fetching one image URL may take in all (5 s to connect)."
    )
    max_video_seconds: float = Field(
        600.0,
        gt=0,
        description="Longest uploaded video (an extension's source) taken, by its header.",
    )
    max_video_frames: int = Field(
        20_000,
        ge=1,
        description="Most frames an uploaded video may have (by its header) and decode from its "
        "last key frame.",
    )
    video_decode_seconds: float = Field(
        10.0, gt=0, description="How long finding an uploaded video's last frame may take."
    )
    url_allowlist: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated hosts or networks (CIDR) that callback and image URLs may "
        "reach although they are private, loopback or link-local (refused otherwise).",
    )
    # --- scale-out: object storage (docs/DEPLOY.md; the database is database_url) -----------
    storage_url: str | None = Field(
        None,
        description="Where videos go: s3://BUCKET or s3://BUCKET/PREFIX for S3-compatible "
        "storage (credentials from the usual AWS_* variables); unset: <data_dir>/videos.",
    )
    s3_endpoint_url: str | None = Field(
        None, description="S3 endpoint for MinIO, R2, Ceph...; unset: AWS."
    )
    s3_region: str | None = Field(None, description="S3 region (unset: boto3's default).")
    storage_quota_bytes: int | None = Field(
        None,
        gt=0,
        description="Bytes the stored files (the videos folder, or the bucket prefix) may "
        "hold: new jobs are refused with a 507 once they hold this much; unset: no quota.",
    )
    storage_usage_refresh_seconds: float = Field(
        30.0,
        gt=0,
        description="How often the quota's count of stored bytes is refreshed (a walk of the "
        "folder or a listing of the prefix, never one per request).",
    )
    # --- diffusers: which weights serve which API id, and speed/memory options (docs/GPU.md)
    model_map: dict[str, str] = Field(
        default_factory=dict,
        description="JSON object: API model id -> catalogue name, folder or hub id, e.g. "
        '{"bytedance/seedance-1-0-pro-t2v": "wan2.2-t2v-a14b"}; overrides CLIPFORGE_MODEL.',
    )
    model_aliases: dict[str, str] = Field(
        default_factory=dict,
        description="JSON object: model names clients use (the OpenAI dialect's sora-2, ...) -> "
        "served ids; merged over the defaults (routing.DEFAULT_ALIASES).",
    )
    fast_profile: bool = Field(
        False,
        description="Under CLIPFORGE_MODEL=catalogue, serve the -fast Seedance ids with their "
        "entry's fast profile (`<entry>@fast`: distilled weights or a LoRA, which must be on "
        "this machine or downloadable; docs/GPU.md), where the entry has one.",
    )
    quantize: dict[str, str] = Field(
        default_factory=dict,
        description='JSON object: weights (as configured, or their catalogue name; "*" for '
        'all) -> none | int8 | fp8, e.g. {"wan2.2-t2v-a14b": "fp8"}: the transformers\' '
        "weights through torchao (fp8: NVIDIA compute capability 8.9+; docs/GPU.md).",
    )
    reference_model_map: dict[str, str] = Field(
        default_factory=dict,
        description="JSON object: API model id -> catalogue name, folder or hub id serving its "
        "requests with reference images (image_urls, Ark reference_image), e.g. "
        '{"bytedance/seedance-2-0": "wan2.1-vace-14b"}; under CLIPFORGE_MODEL=catalogue the '
        "2.x ids default to Wan VACE (routing.DEFAULT_REFERENCE_MAP); unmapped ids keep their "
        "own weights for such requests.",
    )
    offload: str = Field(
        "none", description="none | model (model CPU offload) | group (group offload, streams)."
    )
    vae_tiling: bool = Field(
        False,
        description="Always decode the video in tiles; else each job's memory plan turns "
        "tiling on when the decode would not fit (docs/GPU.md).",
    )
    device_memory_gb: float | None = Field(
        None,
        gt=0,
        description="Free device memory (GiB) the per-job memory plan assumes instead of "
        "asking the device: to share a GPU with other work, or to test the plan on a CPU.",
    )
    vae_slicing: bool = Field(False, description="Decode batch items one at a time.")
    compile: bool = Field(False, description="torch.compile the transformer(s) (GPU only).")
    compile_mode: str = Field(
        "max-autotune-no-cudagraphs", description="torch.compile mode when compile is on."
    )
    attention_backend: str | None = Field(
        None, description="diffusers attention backend (flash, sage, _native_cudnn, ...)."
    )
    step_cache: str = Field(
        "none", description="none | first_block | taylorseer | cache_dit: reuse block outputs."
    )
    step_cache_threshold: float | None = Field(
        None, gt=0, description="Cache threshold (first_block, cache_dit); default per kind."
    )
    context_parallel: str = Field(
        "none", description="none | ulysses | ring: split the sequence over torchrun's GPUs."
    )
    guidance_scale: float | None = Field(
        None,
        ge=0,
        description="Override the model's guidance; 1.0 turns classifier-free guidance off "
        "(step-distilled weights), which also halves the work per step.",
    )
    # --- LoRA adapters (docs/LORA.md) ---------------------------------------------------------
    loras: dict[str, list[LoraAdapter]] = Field(
        default_factory=dict,
        description="JSON object: weights (as CLIPFORGE_MODEL or CLIPFORGE_MODEL_MAP name "
        'them) -> their LoRA adapters, e.g. {"wan2.1-t2v-1.3b": [{"name": "pixel", "source": '
        '"/loras/pixel.safetensors", "scale": 0.8}]}; requests choose among them by name.',
    )
    lora_fixed: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated weights (keys of CLIPFORGE_LORAS) whose adapters always "
        "apply at their scales, fused into the weights once: requests may not choose (`loras` "
        "is a 400 there) and each step costs what the base model's does.",
    )
    lora_max_loaded: int = Field(
        8,
        ge=1,
        le=64,
        description="Adapters a worker keeps loaded beside its model; beyond, the least "
        "recently used is unloaded (and loaded again when a request names it).",
    )

    @field_validator("api_keys", "url_allowlist", "trusted_proxies", "lora_fixed", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @field_validator("loras")
    @classmethod
    def _unique_adapter_names(
        cls, value: dict[str, list[LoraAdapter]]
    ) -> dict[str, list[LoraAdapter]]:
        for weights, adapters in value.items():
            names = [adapter.name for adapter in adapters]
            twice = sorted({name for name in names if names.count(name) > 1})
            if twice:
                raise ValueError(f"{weights}: adapter names must differ ({', '.join(twice)})")
        return value

    def adapters_for(self, weights: str | None) -> tuple[tuple[LoraAdapter, ...], bool]:
        """The LoRA adapters declared for `weights` (CLIPFORGE_LORAS) and whether they are
        fixed (CLIPFORGE_LORA_FIXED: always on, fused; only where any are declared). The API's
        routing and the worker's backend both ask here, so they agree on what a request may
        choose."""
        adapters = tuple(self.loras.get(weights or "", ()))
        return adapters, bool(adapters) and (weights or "") in self.lora_fixed

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'clipforge.db'}"

    @property
    def resolved_public_base_url(self) -> str:
        base = self.public_base_url or f"http://{self.host}:{self.port}"
        return base.rstrip("/")

    @cached_property
    def resolved_signing_secret(self) -> bytes:
        """The configured secret, or one kept in the data folder so links survive restarts."""
        if self.signing_secret:
            return self.signing_secret.encode()
        path = self.data_dir / "secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip().encode()

    @property
    def videos_dir(self) -> Path:
        return self.data_dir / "videos"

    def check_safe(self, stored_keys: bool = False) -> list[str]:
        """Problems that refuse a production start; in development they are warnings.
        `stored_keys`: the job store holds API keys (`clipforge keys create`)."""
        problems = []
        if not self.api_keys and not stored_keys:
            problems.append("no API keys configured (set CLIPFORGE_API_KEYS)")
        if self.open_access:
            problems.append("CLIPFORGE_OPEN_ACCESS is on (anyone could use the server)")
        if not self.signing_secret:
            problems.append("no signing secret configured (set CLIPFORGE_SIGNING_SECRET)")
        return problems
