"""`gpu_check.py`'s LTX-2 section: the published 2.3 (22B) and 2.0 (19B) transformers at real
size with random bf16 weights, one forward of a 768x512 5 s clip with its sound (issue 29).

`ltx2_forward.build` makes the model under `torch.device("cuda")` in bf16: the parameters are
allocated and initialised on the GPU directly (never on the CPU first, which would take
minutes for 44 GB); 2.3 alone takes ~44 GB, so each model is freed before the next one.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from gpu_check import Context

SIZE, FRAMES = (768, 512), 121
"""LTX-2's first stage: 768x512, 121 frames at 24 fps (5 s)."""
GUIDED_FORWARDS, DISTILLED_FORWARDS = 40 * 4, 8
"""A first stage of the published 40 guided steps (cond, uncond, STG, modality: 4 forwards
each) and the distilled checkpoint's 8 steps (one forward each)."""


def ltx2(context: Context) -> None:
    """2.3 then 2.0: seconds per forward, TFLOPs, sound's share, TFLOP/s, peak; the first
    stage's transformer seconds follow (the upsampler, stage 2 and decode are not in it)."""
    from bench.ltx2_forward import LTX2_20, LTX2_23, TINY, row

    cases = [("ltx-2.3 22B", LTX2_23), ("ltx-2.0 19B", LTX2_20)]
    size, frames = SIZE, FRAMES
    if context.smoke:
        cases, size, frames = [("ltx-2.3 toy", TINY)], (64, 64), 9
    for what, config in cases:
        if context.left() < 25:
            context.emit(what=what, outcome="skipped, out of time")
            continue
        context.peak_gib(reset=True)
        try:
            measured = row(config, size, frames, str(context.device))
        except torch.cuda.OutOfMemoryError as exc:
            context.emit(what=what, outcome="OOM", why=str(exc)[:160])
            continue
        finally:
            gc.collect()
            if context.cuda:
                torch.cuda.empty_cache()
        seconds = measured["seconds_per_forward"]
        context.emit(
            what=what,
            **measured,
            of_spec=round(measured["achieved_tflops"] / context.spec_tflops(), 3),
            stage1_40_guided_s=round(GUIDED_FORWARDS * seconds, 1),
            stage1_8_distilled_s=round(DISTILLED_FORWARDS * seconds, 2),
        )
