"""Flow-matching sampling with classifier-free guidance (Euler steps from noise to clip)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from clipforge.backends.builtin.attention import TextCondition
from clipforge.backends.builtin.model import ClipUNet


@torch.inference_mode()
def sample(
    model: ClipUNet,
    text: TextCondition,
    camera_fixed: torch.Tensor,
    *,
    height: int,
    width: int,
    steps: int,
    guidance: float,
    generator: torch.Generator,
    progress: Callable[[int, int], None] = lambda step, total: None,
    reader_only: bool = False,
) -> torch.Tensor:
    """Clips in [-1, 1], shape (B, T, 3, H, W). `progress` may raise to stop between steps.
    `reader_only`: the prompt reaches the net through its attribute reader alone."""
    batch = text.pooled.shape[0]
    frames = model.config.frames
    device = text.pooled.device
    x = torch.randn((batch, 3 * frames, height, width), generator=generator, device=device)
    both_text = _with_unconditional(model, text)
    both_camera = camera_fixed.repeat(2)
    # None, not an all-False mask: the net then skips building the empty-prompt context.
    both_reader_only = (
        torch.ones(2 * batch, dtype=torch.bool, device=device) if reader_only else None
    )
    times = torch.linspace(1.0, 0.0, steps + 1, device=device)
    for index in range(steps):
        t, t_next = times[index], times[index + 1]
        velocity = model.velocity(
            x.repeat(2, 1, 1, 1), t.expand(2 * batch), both_text, both_camera, both_reader_only
        )
        conditional, unconditional = velocity.chunk(2)
        guided = unconditional + guidance * (conditional - unconditional)
        x = x + (t_next - t) * guided
        progress(index + 1, steps)
    return x.clamp(-1, 1).view(batch, frames, 3, height, width)


def _with_unconditional(model: ClipUNet, text: TextCondition) -> TextCondition:
    batch = text.pooled.shape[0]
    keep = torch.cat([torch.ones(batch, dtype=torch.bool), torch.zeros(batch, dtype=torch.bool)])
    doubled = text.repeat(2)
    return doubled.where(keep.to(text.pooled.device), model.null_text(2 * batch))
