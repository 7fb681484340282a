"""Settings of the open models served through diffusers: which weights serve which API id
(and the names clients use for them), and the speed and memory options (docs/GPU.md)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class OpenModelFields(BaseModel):
    """The diffusers fields of `Settings` (CLIPFORGE_<NAME>)."""

    model_map: dict[str, str] = Field(
        default_factory=dict,
        description="JSON object: API model id -> catalogue name, folder or hub id, e.g. "
        '{"bytedance/seedance-1-0-pro-t2v": "wan2.2-t2v-a14b"}; overrides CLIPFORGE_MODEL.',
    )
    model_aliases: dict[str, str] = Field(
        default_factory=dict,
        description="JSON object: model names clients use (the OpenAI dialect's sora-2, ...) -> "
        "served ids; merged over the defaults (routing/names.py DEFAULT_ALIASES).",
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
        "2.x ids default to Wan VACE (routing/weights.py DEFAULT_REFERENCE_MAP); unmapped ids "
        "keep their own weights for such requests.",
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
