"""The sections of `gpu_check.py`, one function each: `name(context)` measures and `emit`s rows.

Real sizes on a GPU, toy sizes under `--smoke` (the same code path on a CPU, in seconds).
Every model has random weights: the compute and memory of the trained one, not its output.
"""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from gpu_flops import ARCHITECTURES, forward_flops, tokens

if TYPE_CHECKING:
    from gpu_check import Context

PROFILES: dict[str, dict[str, Any]] = {
    "default": {},
    "fast": {"num_inference_steps": 4, "guidance_scale": 1.0},
    "small-gpu": {"offload": "group", "vae_tiling": True},
    "tuned": {"compile": True, "attention_backend": "_native_cudnn", "step_cache": "first_block"},
}
"""docs/GPU.md's profiles (`fast` for step-distilled weights, `tuned` for 50-step models on
one GPU, `small-gpu`), as settings."""
WAN13_FOLDER = "Wan2.1-T2V-1.3B-Diffusers"
"""The real folder name: the weights are identified as their catalogue entry."""


def gemm(context: Context) -> None:
    """bf16 matmul rate here: what MFU is also measured against (the spec peak is not reached
    by any kernel)."""
    n, repeats = (128, 2) if context.smoke else (8192, 20)
    dtype = torch.bfloat16 if context.cuda else torch.float32
    a, b = (torch.randn(n, n, device=context.device, dtype=dtype) for _ in "ab")
    a @ b
    context.sync()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    context.sync()
    seconds = (time.perf_counter() - start) / repeats
    tflops = 2 * n**3 / seconds / 1e12
    (context.out / "gemm.json").write_text(f'{{"tflops": {tflops}}}')
    spec = context.spec_tflops()
    context.emit(
        what=f"GEMM {n}^3 {dtype}",
        tflops=round(tflops, 1),
        spec_tflops=spec,
        of_spec=round(tflops / spec, 3),
    )


def attention(context: Context) -> None:
    """Each attention kernel alone: Wan 1.3B's 480p self-attention (no mask), then LTX 13B's
    cross-attention with its padding mask (`attention.probe_inputs`' layout)."""
    from clipforge.backends.diffusers.attention import PADDING_BIAS

    dtype = torch.bfloat16 if context.cuda else torch.float32
    tokens_, heads, text = (256, 2, 32) if context.smoke else (32760, 12, 256)
    wan = [torch.randn(1, tokens_, heads, 128, device=context.device, dtype=dtype) for _ in "qkv"]
    kernels = ("native", "_native_cudnn", "_native_flash", "_native_efficient", "flash", "sage")
    for kernel in kernels:
        _kernel_row(context, "wan1.3b self 480p", kernel, (*wan, None))
    ltx_heads = 2 if context.smoke else 32
    q = torch.randn(2, tokens_ // 4, ltx_heads, 128, device=context.device, dtype=dtype)
    k, v = (torch.randn(2, text, ltx_heads, 128, device=context.device, dtype=dtype) for _ in "kv")
    kept = torch.arange(text, device=context.device) < torch.tensor([[40], [3]]).to(q.device)
    mask = ((~kept).to(dtype) * PADDING_BIAS)[:, None, None, :].expand(2, ltx_heads, 1, text)
    for kernel in ("native", "_native_cudnn", "_native_efficient"):
        _kernel_row(context, "ltx13b cross masked", kernel, (q, k, v, mask.contiguous()))


def _kernel_row(context: Context, what: str, kernel: str, tensors: tuple[Any, ...]) -> None:
    from diffusers.models.attention_dispatch import AttentionBackendName, dispatch_attention_fn

    q, k, v, mask = tensors
    if context.left() < 5:
        context.emit(what=what, kernel=kernel, outcome="skipped, out of time")
        return
    flops = 4 * q.shape[0] * q.shape[1] * k.shape[1] * q.shape[2] * q.shape[3]
    try:
        backend = AttentionBackendName(kernel)
        with torch.no_grad():
            dispatch_attention_fn(q, k, v, attn_mask=mask, backend=backend)
            context.sync()
            start = time.perf_counter()
            for _ in range(3):
                dispatch_attention_fn(q, k, v, attn_mask=mask, backend=backend)
            context.sync()
        seconds = (time.perf_counter() - start) / 3
        context.emit(
            what=what, kernel=kernel, ms=round(seconds * 1e3, 2), **context.mfu(flops, seconds)
        )
    except Exception as exc:  # not installed, not on this device, refuses the mask
        context.emit(what=what, kernel=kernel, outcome=f"{type(exc).__name__}: {exc}"[:160])


def wan13_plain(context: Context) -> None:
    _wan13(context, "plain", {})


def wan13_tuned(context: Context) -> None:
    """ClipForge's tuned profile less its step cache (whose gain random weights cannot show):
    compile in ClipForge's default mode (GPU_CHECK_COMPILE_MODE overrides) and cuDNN
    attention. Smoke: PyTorch's math kernel, no compile (inductor on a CPU takes minutes)."""
    mode = os.environ.get("GPU_CHECK_COMPILE_MODE", "max-autotune-no-cudagraphs")
    options: dict[str, Any] = {"compile": True, "compile_mode": mode}
    options["attention_backend"] = "_native_cudnn"
    if context.smoke:
        options = {"attention_backend": "_native_math"}
    context.emit(
        what="tuned settings",
        **options,
        note="if killed at its cap, rerun with GPU_CHECK_COMPILE_MODE=default",
    )
    _wan13(context, "tuned", options)


def _wan13(context: Context, label: str, options: dict[str, Any]) -> None:
    """Wan2.1-T2V-1.3B through DiffusersBackend at 480p 16:9 5 s: load, then one job."""
    from clipforge.backends.diffusers.backend import DiffusersBackend
    from clipforge.settings import Settings

    folder = context.work / WAN13_FOLDER
    if not (folder / "model_index.json").exists():
        start = time.perf_counter()
        _build_wan13(folder, context)
        context.emit(what="build and save", seconds=round(time.perf_counter() - start, 1))
    small = {"native_short_side": 32, "native_max_frames": 9} if context.smoke else {}
    settings = Settings(model=str(folder), device=str(context.device), **small, **options)
    start = time.perf_counter()
    backend = DiffusersBackend.from_settings(settings)
    entry = backend.entry.name if backend.entry else None
    seconds = round(time.perf_counter() - start, 1)
    context.emit(
        what=f"{label} load", entry=entry, seconds=seconds, resident_gib=context.peak_gib()
    )
    _timed_job(context, backend, label, steps=2 if context.smoke else 6)
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


def _timed_job(context: Context, backend: Any, label: str, steps: int) -> None:
    """One job, per phase: first step (text encoding, and compiling in a tuned process),
    steady seconds per step, decode, frames to the host; peak memory per phase; MFU."""
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
    flops = 2 * forward_flops(arch, tokens(arch, plan.width, plan.height, plan.num_frames))[0]
    context.emit(
        what=f"{label} 480p job",
        size=f"{plan.width}x{plan.height}x{count}",
        steps=len(marks),
        first_step_s=round(marks[0] - start, 2),
        compile_or_overhead_s=round(marks[0] - start - steady, 2),
        step_s=round(steady, 3),
        decode_s=round(decoded - marks[-1], 2),
        to_host_s=round(time.perf_counter() - decoded, 2),
        peak_denoise_gib=peaks[0] if peaks else None,
        peak_decode_gib=context.peak_gib(),
        clip_50_steps_s=round(50 * steady + time.perf_counter() - marks[-1], 1),
        **context.mfu(flops, steady),
    )


def tiny(context: Context) -> None:
    """Every catalogue entry's tiny twin on the device with every profile; each entry's
    default and fast first, so a short budget still covers every entry once."""
    from clipforge.backends.diffusers.entries import CATALOGUE

    names = list(CATALOGUE)
    profiles = list(PROFILES)
    if context.smoke:  # the two-stage path, in one run
        names, profiles = ["ltx-video-0.9.7-distilled"], ["fast"]
    folders: dict[str, Path] = {}
    for profile in profiles:
        for name in names:
            if context.left() < 10:
                context.emit(what=name, profile=profile, outcome="skipped, out of time")
                continue
            _tiny_run(context, name, profile, folders)


def _tiny_run(context: Context, name: str, profile: str, folders: dict[str, Path]) -> None:
    from clipforge.backends.base import ImageInput
    from clipforge.backends.diffusers.backend import DiffusersBackend
    from clipforge.backends.diffusers.tiny import build_tiny_pipeline
    from clipforge.schemas import GenerationRequest
    from clipforge.settings import Settings

    if name not in folders:  # named as the entry: dev and distilled twins are told apart so
        folder = context.work / "tiny" / name
        folders[name] = build_tiny_pipeline(name, folder, upsampler=name.startswith("ltx"))
    values = {"num_inference_steps": 2, **PROFILES[profile]}
    settings = Settings(
        model=str(folders[name]),
        device=str(context.device),
        native_short_side=32,
        native_max_frames=9,
        **values,
    )
    start = time.perf_counter()
    backend = None
    try:
        backend = DiffusersBackend.from_settings(settings)
        request = GenerationRequest(model="m", prompt="a red ball", seed=1, aspect_ratio="4:3")
        width, height = request.size
        picture = np.full((height, width, 3), 128, dtype=np.uint8)
        family = backend.family
        last = picture if family.needs_last_frame else None
        images = ImageInput(picture, last) if family.needs_image else ImageInput()
        clip = backend.generate(request, lambda s, t: None, images)
        frames = sum(1 for _ in clip.frames)
        context.emit(
            what=name,
            profile=profile,
            outcome="ok",
            frames=frames,
            two_stage=backend.two_stage is not None,
            seconds=round(time.perf_counter() - start, 1),
        )
    except Exception as exc:
        context.emit(
            what=name, profile=profile, outcome="FAILED", why=f"{type(exc).__name__}: {exc}"[:300]
        )
    finally:
        if backend is not None:
            backend.close()
        gc.collect()


def vae(context: Context) -> None:
    """Real-size decodes, plain and tiled: seconds and peak against the plan's estimate."""
    from memory_plan import LTX_VAE, WAN21_VAE, WAN22_VAE

    from clipforge.backends.diffusers.memory import decode_bytes

    cases = _vae_cases(context.smoke)
    shapes = {"wan2.1": WAN21_VAE, "wan2.2": WAN22_VAE, "ltx": LTX_VAE}
    for label, make, dtype, latent, frames, extra in cases:
        with torch.device(context.device):
            model = make().to(dtype).eval()
        height, width = latent[3] * shapes[label].spatial, latent[4] * shapes[label].spatial
        for tiled in (False, True):
            if context.left() < 15:
                context.emit(what=label, tiled=tiled, outcome="skipped, out of time")
                continue
            if tiled:
                model.enable_tiling()
            estimate = decode_bytes(shapes[label], frames, height, width, tiled) / 2**30
            _decode_row(context, model, latent, dtype, extra, label, tiled, estimate)
        del model
        gc.collect()


def _decode_row(
    context: Context,
    model: Any,
    latent: tuple[int, ...],
    dtype: Any,
    extra: dict[str, float],
    label: str,
    tiled: bool,
    estimate: float,
) -> None:
    latents = torch.randn(latent, device=context.device, dtype=dtype)
    arguments = {k: torch.tensor([v], device=context.device, dtype=dtype) for k, v in extra.items()}
    weights = context.peak_gib(reset=True)
    start = time.perf_counter()
    try:
        with torch.no_grad():
            model.decode(latents, return_dict=False, **arguments)
        context.sync()
        peak = context.peak_gib()
        context.emit(
            what=label,
            size=f"{list(latent)}",
            tiled=tiled,
            seconds=round(time.perf_counter() - start, 2),
            peak_gib=peak,
            peak_over_weights_gib=round(peak - weights, 2),
            plan_estimate_gib=round(estimate, 2),
        )
    except torch.cuda.OutOfMemoryError as exc:
        context.emit(what=label, tiled=tiled, outcome="OOM", why=str(exc)[:160])


def _vae_cases(smoke: bool) -> list[tuple[Any, ...]]:
    from diffusers import AutoencoderKLLTXVideo, AutoencoderKLWan

    def wan22() -> Any:
        return AutoencoderKLWan(
            base_dim=160,
            decoder_base_dim=256,
            z_dim=48,
            is_residual=True,
            in_channels=12,
            out_channels=12,
            patch_size=2,
            scale_factor_spatial=16,
            scale_factor_temporal=4,
            latents_mean=[0.0] * 48,
            latents_std=[1.0] * 48,
        )

    def ltx() -> Any:
        return AutoencoderKLLTXVideo(
            latent_channels=128,
            block_out_channels=(128, 256, 512, 1024, 2048),
            down_block_types=("LTXVideo095DownBlock3D",) * 4,
            decoder_block_out_channels=(256, 512, 1024),
            layers_per_block=(4, 6, 6, 2, 2),
            decoder_layers_per_block=(5, 5, 5, 5),
            spatio_temporal_scaling=(True,) * 4,
            decoder_spatio_temporal_scaling=(True,) * 3,
            decoder_inject_noise=(False,) * 4,
            downsample_type=("spatial", "temporal", "spatiotemporal", "spatiotemporal"),
            upsample_residual=(True,) * 3,
            upsample_factor=(2, 2, 2),
            timestep_conditioning=True,
            patch_size=4,
            patch_size_t=1,
            encoder_causal=True,
            decoder_causal=False,
            spatial_compression_ratio=32,
            temporal_compression_ratio=8,
        )

    fp32, bf16, temb = torch.float32, torch.bfloat16, {"temb": 0.05}
    if smoke:

        def small() -> Any:
            return AutoencoderKLWan(base_dim=8, dim_mult=[1, 1, 1, 1], num_res_blocks=1)

        return [("wan2.1", small, fp32, (1, 16, 3, 8, 12), 9, {})]
    return [  # 832x480x81 and 1280x720x81; 1280x704x121; LTX's two-stage refine of 1248x704
        ("wan2.1", AutoencoderKLWan, fp32, (1, 16, 21, 60, 104), 81, {}),
        ("wan2.1", AutoencoderKLWan, fp32, (1, 16, 21, 90, 160), 81, {}),
        ("wan2.2", wan22, fp32, (1, 48, 31, 44, 80), 121, {}),
        ("ltx", ltx, bf16, (1, 128, 16, 28, 52), 121, temb),
    ]


def blocks14b(context: Context) -> None:
    """Four of Wan 14B's 40 blocks at I2V-480P's shape; forward time scaled to 40 blocks,
    plain and compiled with cuDNN attention."""
    from diffusers import WanTransformer3DModel

    from clipforge.backends.diffusers.attention import use_attention_backend

    arch = ARCHITECTURES["wan2.1-i2v-14b-720p"]
    layers, (t, h, w) = (1, (3, 8, 12)) if context.smoke else (4, (21, 60, 104))
    config = arch.config | {"num_layers": layers}
    if context.smoke:
        config |= {"num_attention_heads": 2, "ffn_dim": 64, "added_kv_proj_dim": 256}
    flops = forward_flops(arch, t * h * w // 4)[0]
    dtype = torch.bfloat16 if context.cuda else torch.float32
    for setting in ("plain", "compile+cudnn"):
        if context.left() < 15:
            context.emit(what="wan14b blocks", setting=setting, outcome="skipped, out of time")
            continue
        torch.manual_seed(0)
        with torch.device(context.device):
            model = WanTransformer3DModel(**config).eval().to(dtype)
        if setting != "plain" and context.cuda:
            use_attention_backend([model], "_native_cudnn", context.device)
            model.compile_repeated_blocks(fullgraph=True)
        seconds, warm = _forward_seconds(context, model, config, (t, h, w), dtype)
        per40 = seconds * 40 / layers
        context.emit(
            what="wan14b blocks",
            setting=setting,
            layers=layers,
            warmup_s=round(warm, 1),
            forward_s=round(seconds, 3),
            forward_40_s=round(per40, 2),
            clip_40_steps_cfg_s=round(80 * per40),
            **context.mfu(flops, per40),
        )
        del model
        gc.collect()


def _forward_seconds(
    context: Context, model: Any, config: dict[str, Any], thw: tuple[int, int, int], dtype: Any
) -> tuple[float, float]:
    t, h, w = thw
    device = context.device

    def noise(*shape: int) -> Any:
        return torch.randn(*shape, device=device, dtype=dtype)

    arguments = {
        "hidden_states": noise(1, config["in_channels"], t, h, w),
        "timestep": torch.tensor([500], device=device),
        "encoder_hidden_states": noise(1, 512, config["text_dim"]),
        "encoder_hidden_states_image": noise(1, 257, config["image_dim"]),
        "return_dict": False,
    }
    with torch.inference_mode():
        start = time.perf_counter()
        model(**arguments)
        context.sync()
        warm = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(2):
            model(**arguments)
        context.sync()
    return (time.perf_counter() - start) / 2, warm
