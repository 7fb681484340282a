"""`gpu_check.py`'s Wan2.1-T2V-1.3B sections: the real model at 480p 5 s through DiffusersBackend,
with diffusers' defaults, ClipForge's tuned settings, the `fast` profile (FastWan's 3 DMD steps,
no guidance) and the fast profile with FP8 transformers (each in its own process)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from gpu_fast import fast_model, fast_options
from gpu_flops import ARCHITECTURES, forward_flops, tokens

from clipforge.errors import ModelUnavailable

if TYPE_CHECKING:
    from gpu_check import Context

WAN13_FOLDER = "Wan2.1-T2V-1.3B-Diffusers"
"""The real folder name: the weights are identified as their catalogue entry."""


def wan13_plain(context: Context) -> None:
    _wan13(context, "plain", {})


def wan13_tuned(context: Context) -> None:
    """ClipForge's tuned profile less its step cache (whose gain random weights cannot show):
    compile in ClipForge's default mode (GPU_CHECK_COMPILE_MODE overrides) and cuDNN
    attention. Smoke: PyTorch's math kernel, no compile (inductor on a CPU takes minutes)."""
    options: dict[str, Any] = {"compile": True, "compile_mode": _compile_mode()}
    options["attention_backend"] = "_native_cudnn"
    if context.smoke:
        options = {"attention_backend": "_native_math"}
    context.emit(
        what="tuned settings",
        **options,
        note="if killed at its cap, rerun with GPU_CHECK_COMPILE_MODE=default",
    )
    _wan13(context, "tuned", options)


def wan13_fast(context: Context) -> None:
    """The `fast` profile end to end (its own 3 steps, no guidance, decode included), compiled
    with cuDNN attention: a first job that compiles, then the timed one."""
    _fast(context, fp8=False)


def wan13_fast_fp8(context: Context) -> None:
    """The same with the transformer's weights in FP8; a GPU below compute capability 8.9 (and
    the smoke's CPU) is refused by the backend, and the row says so."""
    _fast(context, fp8=True)


def _fast(context: Context, fp8: bool) -> None:
    label = "fast+fp8" if fp8 else "fast"
    options = fast_options(fp8=fp8, compile=not context.smoke)  # inductor on a CPU: minutes
    if options.get("compile"):
        options["compile_mode"] = _compile_mode()
    context.emit(what=f"{label} settings", **options)
    hub = context.work / "hub"  # the device reaches no hub: the profile's weights staged here
    try:
        jobs = 1 if context.smoke else 2  # the smoke does not compile: nothing to warm up
        _wan13(context, label, options, lambda folder: fast_model(folder, cache=hub), jobs)
    except ModelUnavailable as exc:
        if "compute capability" not in str(exc):
            raise
        context.emit(what=f"{label} 480p job", outcome="refused on this device", why=str(exc))


def _compile_mode() -> str:
    """ClipForge's default mode; GPU_CHECK_COMPILE_MODE=default when autotuning runs too long."""
    return os.environ.get("GPU_CHECK_COMPILE_MODE", "max-autotune-no-cudagraphs")


def _wan13(
    context: Context,
    label: str,
    options: dict[str, Any],
    model: Callable[[Path], str] = str,
    jobs: int = 0,
) -> None:
    """Wan2.1-T2V-1.3B through DiffusersBackend at 480p 16:9 5 s: load, then one job of 6 steps
    (2 in the smoke); or, given `jobs`, that many jobs of the profile's own steps (the last one
    the row; the ones before it warm up and compile). `model`: the folder as the setting names
    it (a profile's `<folder>@fast`)."""
    from clipforge.backends.diffusers.backend import DiffusersBackend
    from clipforge.settings import Settings

    folder = context.work / WAN13_FOLDER
    if not (folder / "model_index.json").exists():
        start = time.perf_counter()
        _build_wan13(folder, context)
        context.emit(what="build and save", seconds=round(time.perf_counter() - start, 1))
    small: dict[str, Any] = {}
    if context.smoke:
        small = {"native_short_side": 32, "native_max_frames": 9}
    settings = Settings(model=model(folder), device=str(context.device), **small, **options)
    start = time.perf_counter()
    backend = DiffusersBackend.from_settings(settings)
    entry = backend.entry.name if backend.entry else None
    seconds = round(time.perf_counter() - start, 1)
    context.emit(
        what=f"{label} load", entry=entry, seconds=seconds, resident_gib=context.peak_gib()
    )
    steps, count = (None, jobs) if jobs else (2 if context.smoke else 6, 1)
    for job in range(count):
        warm_up = " (warm-up)" if job < count - 1 else ""
        _timed_job(context, backend, f"{label} 480p job{warm_up}", steps)
    backend.close()


def _build_wan13(folder: Path, context: Context) -> None:
    """The real transformer and VAE, random weights; a 1-layer 4096-wide UMT5 stands in for the
    5.7B text encoder (text encoding is not what is measured). Smoke: the tiny twin."""
    from clipforge.backends.diffusers.tiny import build_tiny_pipeline, tiny_tokenizer

    if context.smoke:
        build_tiny_pipeline("wan2.1-t2v-1.3b", folder)
        return
    from diffusers import (
        AutoencoderKLWan,
        UniPCMultistepScheduler,
        WanPipeline,
        WanTransformer3DModel,
    )
    from transformers import UMT5Config, UMT5EncoderModel

    tokenizer = tiny_tokenizer()
    text = UMT5Config(
        vocab_size=len(tokenizer),
        d_model=4096,
        d_kv=64,
        d_ff=10240,
        num_layers=1,
        num_heads=64,
        feed_forward_proj="gated-gelu",
    )
    torch.manual_seed(0)
    with torch.device(context.device):
        encoder = UMT5EncoderModel(text).eval().to(torch.bfloat16)
        transformer = WanTransformer3DModel(**ARCHITECTURES["wan2.1-t2v-1.3b"].config).eval()
        vae = AutoencoderKLWan().eval()
    scheduler = UniPCMultistepScheduler(
        prediction_type="flow_prediction",
        use_flow_sigmas=True,
        num_train_timesteps=1000,
        flow_shift=3.0,
    )
    pipeline = WanPipeline(
        tokenizer=tokenizer,
        text_encoder=encoder,
        scheduler=scheduler,
        transformer=transformer.to(torch.bfloat16),
        vae=vae,
    )
    pipeline.save_pretrained(folder)


def _timed_job(context: Context, backend: Any, what: str, steps: int | None) -> None:
    """One job, per phase: first step (text encoding, and compiling in a tuned process),
    steady seconds per step, decode, frames to the host, end to end; peak memory per phase;
    MFU of the steady steps (a guided step is two forwards)."""
    from clipforge.schemas import GenerationRequest

    request = GenerationRequest(
        model="bytedance/seedance-1-0-lite-t2v",
        prompt="a red ball",
        num_inference_steps=steps,
        seed=7,
    )
    plan, marks, peaks = backend.plan(request), [], []

    def progress(step: int, total: int) -> None:
        context.sync()
        marks.append(time.perf_counter())
        if step == total:
            peaks.append(context.peak_gib(reset=True))

    context.peak_gib(reset=True)
    start = time.perf_counter()
    clip = backend.generate(request, progress)
    context.sync()
    decoded = time.perf_counter()
    count = sum(1 for _ in clip.frames)
    steady = (marks[-1] - marks[0]) / max(len(marks) - 1, 1)
    arch = ARCHITECTURES["wan2.1-t2v-1.3b"]
    forwards = 2 if backend.family.guidance_scale > 1 else 1
    forward = forward_flops(arch, tokens(arch, plan.width, plan.height, plan.num_frames))[0]
    context.emit(
        what=what,
        size=f"{plan.width}x{plan.height}x{count}",
        steps=len(marks),
        first_step_s=round(marks[0] - start, 2),
        compile_or_overhead_s=round(marks[0] - start - steady, 2),
        step_s=round(steady, 3),
        decode_s=round(decoded - marks[-1], 2),
        to_host_s=round(time.perf_counter() - decoded, 2),
        peak_denoise_gib=peaks[0] if peaks else None,
        peak_decode_gib=context.peak_gib(),
        forwards_per_step=forwards,
        end_to_end_s=round(time.perf_counter() - start, 2),
        clip_50_steps_s=round(50 * steady + time.perf_counter() - marks[-1], 1),
        **context.mfu(forwards * forward, steady),
    )
