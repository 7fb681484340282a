"""The sections of `gpu_check.py`, one function each: `name(context)` measures and `emit`s rows.

Real sizes on a GPU, toy sizes under `--smoke` (the same code path on a CPU, in seconds).
Every model has random weights: the compute and memory of the trained one, not its output.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from gpu_check_ltx2 import ltx2
from gpu_check_wan import wan13_fast, wan13_fast_fp8, wan13_plain, wan13_tuned
from gpu_flops import ARCHITECTURES, forward_flops
from gpu_render import LTX097_VAE

if TYPE_CHECKING:
    from gpu_check import Context

__all__ = [
    "attention",
    "blocks14b",
    "gemm",
    "ltx2",
    "tiny",
    "vae",
    "wan13_fast",
    "wan13_fast_fp8",
    "wan13_plain",
    "wan13_tuned",
]

PROFILES: dict[str, dict[str, Any]] = {
    "default": {},
    "fast": {"num_inference_steps": 4, "guidance_scale": 1.0},
    "small-gpu": {"offload": "group", "vae_tiling": True},
    "tuned": {"compile": True, "attention_backend": "_native_cudnn", "step_cache": "first_block"},
}
"""docs/GPU.md's profiles (`fast` for step-distilled weights, `tuned` for 50-step models on
one GPU, `small-gpu`), as settings."""


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
        return AutoencoderKLLTXVideo(**LTX097_VAE)

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
