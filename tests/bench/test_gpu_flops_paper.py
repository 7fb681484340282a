"""The FLOPs docs/GPU.md gives for Wan VACE and HunyuanVideo 1.5 (no GPU row builds them yet):
the count `bench/gpu_flops.py` prints, against a hand count of the published configs."""

from __future__ import annotations

import pytest
from bench.gpu_flops import ARCHITECTURES, PAPER, forward_flops, frames_for, tokens


def _tflop(name: str, width: int, height: int) -> float:
    arch = PAPER.get(name) or ARCHITECTURES[name]
    return forward_flops(arch, tokens(arch, width, height, frames_for(arch, 5)))[0] / 1e12


def test_hunyuan_480p_matches_a_hand_count() -> None:
    # 121 frames -> 31 latent frames; 848x480 -> 53x30 tokens (16x VAE, patch 1)
    n, c, d, f, layers = 31 * 30 * 53, 729 + 256 + 1000, 16 * 128, 4 * 2048, 54
    m = n + c
    by_hand = (8 * m * d * d + 4 * m * m * d + 4 * m * d * f) * layers / 1e12
    assert _tflop("hunyuanvideo-1.5", 848, 480) == pytest.approx(by_hand, rel=1e-9)
    assert by_hand == pytest.approx(1442, rel=0.01)  # docs/GPU.md


def test_vace_is_its_wan_backbone_plus_its_control_blocks() -> None:
    for vace, base, blocks, layers in (
        ("wan2.1-vace-1.3b", "wan2.1-t2v-1.3b", 15, 30),
        ("wan2.1-vace-14b", "wan2.1-t2v-14b", 8, 40),
    ):
        ratio = _tflop(vace, 832, 480) / _tflop(base, 832, 480)
        assert ratio == pytest.approx((layers + blocks) / layers, rel=1e-9)
