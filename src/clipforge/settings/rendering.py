"""Settings of what renders a job: the backend, its weights, the torch device(s) and dtype,
the steps, and the native size, length and frame rate of the frames it renders."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class RenderingFields(BaseModel):
    """The rendering fields of `Settings` (CLIPFORGE_<NAME>)."""

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
