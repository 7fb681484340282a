"""The GPU check's LTX-2 section at toy size on a CPU (bench/ltx2_forward.py), and the paper
FLOPs docs/GPU.md quotes (bench/gpu_flops.py `ltx2_forward_flops`)."""

from __future__ import annotations

from bench.gpu_flops import ltx2_forward_flops, ltx2_tokens
from bench.ltx2_forward import TINY, row


def test_a_5_s_768x512_clip_is_6144_video_and_126_audio_tokens_and_sound_is_a_tenth() -> None:
    video, audio = ltx2_tokens(768, 512, 121)
    assert (video, audio) == (6144, 126)
    flops = ltx2_forward_flops(video, audio)
    assert 198e12 < flops["total"] < 200e12  # docs/GPU.md: 199 TFLOPs
    assert 0.10 < flops["sound"] / flops["total"] < 0.12  # 11%


def test_the_tiny_row_runs_a_forward_of_both_streams() -> None:
    measured = row(TINY, (128, 64), 25, "cpu")
    assert measured["seconds_per_forward"] > 0 and 0 < measured["sound_share"] < 1
