"""`gpu_models.py`'s two-stage row: LTX-Video 0.9.7 distilled as ClipForge renders it."""

from __future__ import annotations

import argparse
import os

import torch
from gpu_flops import Architecture, forward_flops, frames_for, tokens
from gpu_models import build, inputs, record, seconds_per_forward, tune
from gpu_render import decode_seconds, two_stage_sizes, upsample_seconds

TWO_STAGE = "ltx-video-0.9.7-distilled"
TINY_TWO_STAGE = ((64, 32), (128, 64))


def measure_two_stage(arch: Architecture, setting: str, options: argparse.Namespace) -> None:
    """LTX distilled as ClipForge renders it: 7 steps at the first stage's size, the upsampler,
    3 refine steps at twice that size, the decode (no guidance: one forward a step)."""
    from clipforge.backends.diffusers.attention import active_backend
    from clipforge.backends.diffusers.entries import CATALOGUE

    device, dtype, cuda = options.device, options.dtype, options.device.type == "cuda"
    rules = CATALOGUE[TWO_STAGE].rules
    assert rules.two_stage is not None
    small, refine = TINY_TWO_STAGE if options.tiny else two_stage_sizes(TWO_STAGE)
    frames = frames_for(arch, 5)
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    model = build(arch, device, dtype)
    applied = "diffusers-defaults"
    if setting == "tuned":
        applied = tune(model, options.attention, options.compile_mode if cuda else None, device)
    seconds = {}
    for name, size in (("first", small), ("refine", refine)):
        args = inputs(arch, size, frames, device, dtype)
        seconds[name] = seconds_per_forward(model, args, options.repeats, sync)
    peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else 0.0
    attention = active_backend(model)
    del model, args
    t = (frames - 1) // arch.temporal_stride + 1
    channels = 8 if options.tiny else arch.config["in_channels"]  # the tiny upsampler's 8
    latent = (1, channels, t, small[1] // 32, small[0] // 32)
    upsample_s = upsample_seconds(latent, options.tiny, device, dtype)
    decode_s, decode_gib = decode_seconds("ltx", refine, frames, options.tiny, device)
    first, second = rules.steps, rules.two_stage.refine_steps
    flops, _ = forward_flops(arch, tokens(arch, small[0], small[1], frames))
    record(
        "RESULT",
        model=arch.name,
        res="two-stage",
        size=f"{small[0]}x{small[1]}+{refine[0]}x{refine[1]}",
        frames=frames,
        setting=setting,
        applied=applied,
        attention=attention,
        pid=os.getpid(),
        steps=f"{first}+{second}",
        forward_s=seconds["first"],
        refine_forward_s=seconds["refine"],
        upsample_s=upsample_s,
        decode_s=decode_s,
        video_s=first * seconds["first"] + second * seconds["refine"] + upsample_s + decode_s,
        peak_gib=peak,
        decode_gib=decode_gib,
        achieved_tflops=flops / seconds["first"] / 1e12,
        peak_fraction=flops / seconds["first"] / 1e12 / options.peak_tflops,
    )
