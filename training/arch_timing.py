"""The measurement that chose the v2 generator (training/README.md, "v2 design"): one guided
denoising pass of two small space-time nets over 121 native frames (24 fps, 5 s) at the old
native size, against the layered renderer at larger sizes, warm, on 2 threads.

    python -m training.arch_timing
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from clipforge.backends.builtin.v2.generator import Condition, LayeredGenerator, render

FRAMES, HEIGHT, WIDTH, STEPS = 121, 32, 56, 24


class SpaceTime(nn.Module):
    """Per-frame 2D convolutions, each followed by a temporal layer over every pixel: a 1D
    convolution (factorised) or self-attention across all frames (joint)."""

    def __init__(self, channels: int = 48, attention: bool = False) -> None:
        super().__init__()
        self.attention = attention
        self.inp = nn.Conv2d(3, channels, 3, padding=1)
        self.space = nn.ModuleList([nn.Conv2d(channels, channels, 3, padding=1) for _ in range(4)])
        self.time = nn.ModuleList([nn.Conv1d(channels, channels, 3, padding=1) for _ in range(4)])
        self.attend = nn.ModuleList(
            [nn.MultiheadAttention(channels, 4, batch_first=True) for _ in range(4)]
        )
        self.out = nn.Conv2d(channels, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _, height, width = x.shape
        h = self.inp(x.flatten(0, 1))
        for i in range(4):
            h = h + F.silu(self.space[i](h))
            if i == 1:
                h = F.avg_pool2d(h, 2)
            elif i == 3:
                h = F.interpolate(h, scale_factor=2)
            c, hh, ww = h.shape[1:]
            seq = h.view(b, t, c, hh, ww).permute(0, 3, 4, 2, 1).reshape(-1, c, t)
            if self.attention:
                q = seq.transpose(1, 2)
                seq = seq + self.attend[i](q, q, q, need_weights=False)[0].transpose(1, 2)
            else:
                seq = seq + F.silu(self.time[i](seq))
            h = seq.view(b, hh, ww, c, t).permute(0, 4, 3, 1, 2).reshape(b * t, c, hh, ww)
        return self.out(h).view(b, t, 3, height, width)


def warm_seconds(run: Callable[[], object], repeats: int = 2) -> float:
    run()
    started = time.perf_counter()
    for _ in range(repeats):
        run()
    return (time.perf_counter() - started) / repeats


@torch.inference_mode()
def main() -> None:
    torch.set_num_threads(2)
    torch.manual_seed(0)
    x = torch.randn(2, FRAMES, 3, HEIGHT, WIDTH)  # conditional and unconditional rows
    for name, net in [("factorised", SpaceTime()), ("joint attention", SpaceTime(attention=True))]:
        one = warm_seconds(lambda net=net: net(x), repeats=1)
        params = sum(p.numel() for p in net.parameters()) / 1e6
        print(
            f"{name}: {params:.2f}M params, {STEPS} guided steps at {WIDTH}x{HEIGHT}x{FRAMES}: "
            f"{one * STEPS:.1f} s"
        )
    model = LayeredGenerator().eval()
    row = {
        "shape": "square",
        "motion": "right",
        "background": "stripes",
        "camera": "pan left",
        "colour": (255, 0, 0),
        "tone": (0, 0, 0),
    }
    cond = Condition.of([row])
    track = model.tracks(cond, torch.zeros(1, 3), torch.linspace(0, 1, FRAMES))
    for width, height in [(214, 120), (342, 192), (426, 240)]:

        def run(width: int = width, height: int = height) -> None:
            for start in range(0, FRAMES, 16):
                render(cond, track[:, start : start + 16], width, height)

        print(f"layered: {width}x{height}x{FRAMES}: {warm_seconds(run):.2f} s")


if __name__ == "__main__":
    main()
