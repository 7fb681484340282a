"""GPU speed of the catalogue's models at their real size, with random weights.

For each row (an architecture, the published transformer configs of `gpu_flops.py`, at a size)
this builds the transformer with random weights (no download: the same compute as the trained
model), then times denoising steps twice: plain diffusers defaults (eager, native SDPA
attention), and ClipForge's tuned settings (`--attention` backend, checked and set the way the
backend does it, and torch.compile of the repeated block). Every row runs in a fresh Python
process: diffusers' attention backend and torch.compile's caches are process-wide, so a "plain"
row after a tuned one in the same process would run the tuned kernel. Each RESULT says the
kernel its model ran (`attention=`). It prints, per row: seconds per denoising step
(classifier-free guidance: two forwards), the VAE decode of the whole clip (`gpu_render.py`),
seconds per 5 s video at the model's default step count with the decode, peak GPU memory, the
analytic FLOPs of one forward and the fraction of `--peak-tflops` achieved. Step caching is not
timed: its gain depends on how alike trained weights' steps are, which random weights do not
show.

The default (`--quick`) is what the service renders and fits one 9.5-minute GPU call: Wan2.1-
T2V-1.3B at 480p, and LTX-Video 0.9.7 distilled as ClipForge runs it at 720p (two stages: 7
steps at the first stage's size, the latent upsampler, 3 refine steps at twice that size, the
decode), each plain and tuned (compile mode `default` unless `--compile-mode`: four processes).
`--all` times every architecture at 480p and 720p (36 processes, an hour or more).

    python bench/gpu_models.py [--all] [--models wan2.1-t2v-1.3b ...] [--peak-tflops 989]
    python bench/gpu_models.py --tiny     # toy sizes on the CPU: checks the code path

Output lines are `key=value` records (FLOPS ... and RESULT ...) so tests and docs can parse them.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpu_flops import ARCHITECTURES, TINY, Architecture, forward_flops, frames_for, tokens
from gpu_render import decode_seconds

SIZES = {"480p": (832, 480), "720p": (1280, 720)}
TINY_SIZES = {"tiny": (64, 32)}
QUICK_ROWS = [("wan2.1-t2v-1.3b", "480p"), ("ltx-video-0.9.7-distilled", "two-stage")]


def record(kind: str, **fields: object) -> None:
    """One parseable line: KIND key=value ..."""
    values = " ".join(
        f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in fields.items()
    )
    print(f"{kind} {values}", flush=True)


def build(arch: Architecture, device: torch.device, dtype: torch.dtype) -> Any:
    """The transformer with random weights, made directly on the device in its dtype."""
    from diffusers import LTXVideoTransformer3DModel, WanTransformer3DModel

    cls = WanTransformer3DModel if arch.family == "wan" else LTXVideoTransformer3DModel
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            return cls(**arch.config).eval()
    finally:
        torch.set_default_dtype(previous)


def inputs(
    arch: Architecture, size: tuple[int, int], frames: int, device: torch.device, dtype: torch.dtype
) -> dict[str, Any]:
    """One sample's forward arguments at this size (random latents and text embeddings)."""
    cfg = arch.config
    vae = arch.spatial_stride // (2 if arch.family == "wan" else 1)  # VAE part of the stride
    t = (frames - 1) // arch.temporal_stride + 1
    h, w = size[1] // vae, size[0] // vae
    text_width = cfg["text_dim"] if arch.family == "wan" else cfg["caption_channels"]
    text = torch.randn(1, arch.text_tokens, text_width, device=device, dtype=dtype)
    step = torch.tensor([500], device=device)
    if arch.family == "wan":
        latents = torch.randn(1, cfg["in_channels"], t, h, w, device=device, dtype=dtype)
        args = {"hidden_states": latents, "timestep": step, "encoder_hidden_states": text}
        if arch.image_tokens:
            shape = (1, arch.image_tokens, cfg["image_dim"])
            args["encoder_hidden_states_image"] = torch.randn(*shape, device=device, dtype=dtype)
        return args
    packed = torch.randn(1, t * h * w, cfg["in_channels"], device=device, dtype=dtype)
    mask = torch.ones(1, arch.text_tokens, device=device, dtype=dtype)
    return {
        "hidden_states": packed,
        "encoder_hidden_states": text,
        "timestep": step,
        "encoder_attention_mask": mask,
        "num_frames": t,
        "height": h,
        "width": w,
    }


def seconds_per_forward(
    model: Any, args: dict[str, Any], repeats: int, sync: Callable[[], None]
) -> float:
    """Median wall time of one forward after one warm-up (which also compiles)."""
    with torch.inference_mode():
        model(**args, return_dict=False)
        sync()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            model(**args, return_dict=False)
            sync()
            times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def tune(model: Any, attention: str | None, compile_mode: str | None, device: torch.device) -> str:
    """Apply the tuned settings that run here, as the backend applies them (the attention
    kernel checked on this model and set on it only); returns what was applied."""
    from clipforge.backends.diffusers.attention import use_attention_backend
    from clipforge.errors import ModelUnavailable

    applied = []
    if attention:
        try:
            use_attention_backend([model], attention, device)
            applied.append(f"attention:{attention}")
        except ModelUnavailable as refused:
            print(f"# {attention} not applied: {refused}", file=sys.stderr)
    if compile_mode:
        model.compile_repeated_blocks(mode=compile_mode, fullgraph=True)  # no hooks here
        applied.append(f"compile:{compile_mode}")
    return "+".join(applied) or "none-on-this-device"


def default_steps(name: str) -> int:
    """The denoising steps ClipForge's catalogue runs the model with (toy models: 50)."""
    from clipforge.backends.diffusers.entries import CATALOGUE

    entry = CATALOGUE.get(name)
    return entry.rules.steps if entry is not None else 50


def measure_row(
    arch: Architecture,
    size_name: str,
    size: tuple[int, int],
    setting: str,
    options: argparse.Namespace,
) -> None:
    """One setting's timings of one architecture at one size (in its own process)."""
    from clipforge.backends.diffusers.attention import active_backend

    device, dtype = options.device, options.dtype
    frames = frames_for(arch, 5)
    n = tokens(arch, size[0], size[1], frames)
    flops, _ = forward_flops(arch, n)
    steps = options.steps or default_steps(arch.name)
    cuda = device.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    args = inputs(arch, size, frames, device, dtype)
    model = build(arch, device, dtype)
    # Wan 2.2 A14B keeps its second expert resident too: count its weights, not its compute.
    weights_gib = sum(p.numel() * p.element_size() for p in model.parameters()) / 2**30
    extra_experts_gib = weights_gib * (arch.experts - 1) if cuda else 0.0
    applied = "diffusers-defaults"
    if setting == "tuned":
        applied = tune(model, options.attention, options.compile_mode if cuda else None, device)
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    forward_s = seconds_per_forward(model, args, options.repeats, sync)
    peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else 0.0
    guidance_forwards = 1 if "distilled" in arch.name else 2
    attention = active_backend(model)
    del model, args
    decode_s, decode_gib = _decode(arch, size, frames, options)
    record(
        "RESULT",
        model=arch.name,
        res=size_name,
        size=f"{size[0]}x{size[1]}",
        frames=frames,
        tokens=n,
        setting=setting,
        applied=applied,
        attention=attention,
        pid=os.getpid(),
        forward_s=forward_s,
        step_s=forward_s * guidance_forwards,
        steps=steps,
        decode_s=decode_s,
        video_s=forward_s * guidance_forwards * steps + decode_s,
        fast_video_s=forward_s * 4 + decode_s,
        peak_gib=peak + extra_experts_gib,
        decode_gib=decode_gib,
        tflop_per_forward=flops / 1e12,
        achieved_tflops=flops / forward_s / 1e12,
        peak_fraction=flops / forward_s / 1e12 / options.peak_tflops,
    )
    if cuda:
        torch.cuda.empty_cache()


def _decode(
    arch: Architecture, size: tuple[int, int], frames: int, options: argparse.Namespace
) -> tuple[float, float]:
    """The clip's decode (0 for Wan 2.2 TI2V 5B, whose 48-channel VAE is not built here)."""
    if arch.config.get("in_channels") == 48:
        return 0.0, 0.0
    return decode_seconds(arch.family, size, frames, options.tiny, options.device)


def print_flops(names: list[str]) -> None:
    """The analytic FLOPs of every real architecture at every size (no model is built)."""
    for name in names:
        arch = ARCHITECTURES[name]
        for size_name, (width, height) in SIZES.items():
            frames = frames_for(arch, 5)
            n = tokens(arch, width, height, frames)
            total, attention = forward_flops(arch, n)
            record(
                "FLOPS",
                model=name,
                res=size_name,
                size=f"{width}x{height}",
                frames=frames,
                tokens=n,
                tflop_per_forward=total / 1e12,
                attention_share=attention / total,
            )


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--models", nargs="*", default=list(ARCHITECTURES), choices=list(ARCHITECTURES)
    )
    parser.add_argument("--sizes", nargs="*", default=list(SIZES), choices=list(SIZES))
    parser.add_argument(
        "--peak-tflops", type=float, default=989.0, help="bf16 dense peak (H100 SXM: 989)"
    )
    parser.add_argument("--attention", default="_native_cudnn", help="tuned attention backend")
    parser.add_argument("--compile-mode", default=None, help="quick: default; --all: max-autotune")
    parser.add_argument("--steps", type=int, default=None, help="default: the model's own")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--tiny", action="store_true", help="toy sizes on the CPU (checks the code)"
    )
    parser.add_argument("--all", action="store_true", help="every model at 480p and 720p")
    parser.add_argument(
        "--row", nargs=3, metavar=("MODEL", "SIZE", "SETTING"), help=argparse.SUPPRESS
    )
    return parser.parse_args(argv)


def run_rows(rows: list[tuple[str, str]], argv: list[str]) -> None:
    """Each (model, size) row's plain and tuned timings, each in a fresh process."""
    for model, size_name in rows:
        for setting in ("plain", "tuned"):
            command = [sys.executable, __file__, *argv, "--row", model, size_name, setting]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            sys.stderr.write(done.stderr)
            if done.returncode:
                sys.exit(f"row {model} {size_name} {setting} failed ({done.returncode})")
            print(done.stdout, end="", flush=True)


def cpu_name() -> str:
    """The CPU's model name (Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    options = parse(argv)
    cuda = torch.cuda.is_available() and not options.tiny
    options.device = torch.device("cuda" if cuda else "cpu")
    options.dtype = torch.bfloat16 if cuda else torch.float32
    if options.compile_mode is None:
        options.compile_mode = "max-autotune-no-cudagraphs" if options.all else "default"
    if options.row:
        model, size_name, setting = options.row
        arch = TINY[model] if options.tiny else ARCHITECTURES[model]
        if size_name == "two-stage":
            from gpu_two_stage import measure_two_stage

            measure_two_stage(arch, setting, options)
            return
        size = TINY_SIZES[size_name] if options.tiny else SIZES[size_name]
        measure_row(arch, size_name, size, setting, options)
        return
    name = torch.cuda.get_device_name() if cuda else f"{cpu_name()} ({os.cpu_count()} cores)"
    record(
        "MACHINE",
        device=name.replace(" ", "_"),
        torch=torch.__version__,
        threads=torch.get_num_threads(),
    )
    print_flops(options.models)
    if options.tiny:
        run_rows([(name, "tiny") for name in TINY] + [("ltx-tiny", "two-stage")], argv)
        return
    if not cuda:
        sys.exit("no CUDA GPU: the real sizes need one (use --tiny to check the code on a CPU)")
    everything = [(m, s) for m in options.models for s in options.sizes]
    run_rows(everything if options.all else QUICK_ROWS, argv)


if __name__ == "__main__":
    main()
