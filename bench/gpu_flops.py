"""The architectures `gpu_models.py` builds, as data, and the FLOPs of one transformer forward.

Transformer configs are the published `transformer/config.json` values (Wan-AI/*-Diffusers and
the upstream Wan 2.1/2.2 configs: dim, ffn_dim, heads, layers; LTX-Video's 2B and 13B
configs). Random weights of these sizes cost exactly the compute of the trained models.

FLOPs of one forward (one sample, multiply-add = 2 FLOPs), per block, with N video tokens,
L text tokens, width d, feed-forward width f:

    self-attention projections  q, k, v, o:  4 * 2*N*d*d   = 8 N d^2
    self-attention scores + AV:              2 * 2*N*N*d   = 4 N^2 d
    cross-attention q, o (video side):       2 * 2*N*d*d   = 4 N d^2
    cross-attention k, v (text side):        2 * 2*L*d*d   = 4 L d^2
    cross-attention scores + AV:             2 * 2*N*L*d   = 4 N L d
    feed-forward (two matmuls):              2 * 2*N*d*f   = 4 N d f

times the number of blocks. Wan 2.1's image-to-video models (I2V, FLF2V) also attend to I
CLIP image tokens (257 per image) with k, v projections of their own:

    image k, v projections:                  2 * 2*I*d*d   = 4 I d^2
    image scores + AV:                       2 * 2*N*I*d   = 4 N I d

Wan VACE adds its control blocks (a Wan block each over the control tokens, same N: 15 on
the 1.3B, 8 on the 14B; `vace_blocks`), and each reference image one latent frame of tokens.
HunyuanVideo 1.5 is an MMDiT: the context (C tokens: 729 image, 256 ByT5 and 1000 Qwen
tokens, padded; a varlen kernel skips the padding) runs through every block beside the video,
with its own projections and MLP and one joint attention over M = N + C tokens
(`joint_context`): 8 M d^2 + 4 M^2 d + 4 M d f per block.

Embeddings, norms, modulation and the output head are left out (under 1%). "attention" below
is the scores + AV part, the part that grows as N^2. Image-to-video latents carry the image's
latent and mask beside the noise (36 input channels on Wan), which only the patch embedding
sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Architecture:
    """One model's denoiser and the latent geometry its VAE produces."""

    name: str
    family: str  # "wan" | "ltx"
    config: dict[str, Any]
    spatial_stride: int
    """VAE spatial compression x transformer patch size: pixels per token side."""
    temporal_stride: int
    fps: int
    text_tokens: int
    experts: int = 1
    """Wan 2.2 A14B holds two 14B experts (one runs per step: same compute, twice the memory)."""
    image_tokens: int = 0
    """CLIP image tokens the cross-attention also reads (Wan 2.1 I2V: 257, FLF2V: 514)."""
    vace_blocks: int = 0
    """Wan VACE's control blocks (Wan blocks over the control tokens)."""
    joint_context: int = 0
    """MMDiT (HunyuanVideo 1.5): context tokens attended jointly with the video."""

    @property
    def width(self) -> int:
        return int(self.config["num_attention_heads"] * self.config["attention_head_dim"])

    @property
    def ffn(self) -> int:
        ratio = self.config.get("mlp_ratio", 4.0)
        return int(self.config.get("ffn_dim", ratio * self.width))

    @property
    def layers(self) -> int:
        return int(self.config["num_layers"]) + self.vace_blocks


def _wan(heads: int, ffn: int, layers: int, channels: int = 16) -> dict[str, Any]:
    return {
        "patch_size": (1, 2, 2),
        "num_attention_heads": heads,
        "attention_head_dim": 128,
        "in_channels": channels,
        "out_channels": channels,
        "text_dim": 4096,
        "freq_dim": 256,
        "ffn_dim": ffn,
        "num_layers": layers,
        "cross_attn_norm": True,
        "qk_norm": "rms_norm_across_heads",
        "eps": 1e-6,
    }


def _wan_i2v(heads: int, ffn: int, layers: int, images: int) -> dict[str, Any]:
    """Wan 2.1 I2V / FLF2V: 36 input channels, a CLIP image embedding (1280 wide) projected
    into its own cross-attention keys and values; FLF2V's table has two images' tokens."""
    width = heads * 128
    extra = {"image_dim": 1280, "added_kv_proj_dim": width}
    if images == 2:
        extra["pos_embed_seq_len"] = 2 * 257
    return {**_wan(heads, ffn, layers, channels=16), "in_channels": 36, **extra}


def _ltx(heads: int, head_dim: int, layers: int) -> dict[str, Any]:
    width = heads * head_dim
    return {
        "in_channels": 128,
        "out_channels": 128,
        "patch_size": 1,
        "patch_size_t": 1,
        "num_attention_heads": heads,
        "attention_head_dim": head_dim,
        "cross_attention_dim": width,
        "num_layers": layers,
        "caption_channels": 4096,
    }


ARCHITECTURES: dict[str, Architecture] = {
    a.name: a
    for a in (
        Architecture("wan2.1-t2v-1.3b", "wan", _wan(12, 8960, 30), 16, 4, 16, 512),
        Architecture("wan2.1-t2v-14b", "wan", _wan(40, 13824, 40), 16, 4, 16, 512),
        Architecture("wan2.2-ti2v-5b", "wan", _wan(24, 14336, 30, channels=48), 32, 4, 24, 512),
        Architecture("wan2.2-t2v-a14b", "wan", _wan(40, 13824, 40), 16, 4, 16, 512, experts=2),
        Architecture(
            "wan2.1-i2v-14b-720p",
            "wan",
            _wan_i2v(40, 13824, 40, 1),
            16,
            4,
            16,
            512,
            image_tokens=257,
        ),
        Architecture(
            "wan2.1-flf2v-14b-720p",
            "wan",
            _wan_i2v(40, 13824, 40, 2),
            16,
            4,
            16,
            512,
            image_tokens=514,
        ),
        Architecture(
            "wan2.2-i2v-a14b",
            "wan",
            {**_wan(40, 13824, 40), "in_channels": 36},
            16,
            4,
            16,
            512,
            experts=2,
        ),
        Architecture("ltx-video-0.9.5", "ltx", _ltx(32, 64, 28), 32, 8, 24, 128),
        Architecture("ltx-video-0.9.7-distilled", "ltx", _ltx(32, 128, 48), 32, 8, 24, 128),
    )
}


def _hunyuan15() -> dict[str, Any]:
    """HunyuanVideo 1.5's transformer (diffusers' conversion script, every checkpoint)."""
    return {
        "in_channels": 65,
        "out_channels": 32,
        "num_attention_heads": 16,
        "attention_head_dim": 128,
        "num_layers": 54,
        "mlp_ratio": 4.0,
        "patch_size": 1,
        "patch_size_t": 1,
    }


PAPER: dict[str, Architecture] = {
    a.name: a
    for a in (
        Architecture(
            "wan2.1-vace-1.3b", "wan-vace", _wan(12, 8960, 30), 16, 4, 16, 512, vace_blocks=15
        ),
        Architecture(
            "wan2.1-vace-14b", "wan-vace", _wan(40, 13824, 40), 16, 4, 16, 512, vace_blocks=8
        ),
        Architecture(
            "hunyuanvideo-1.5",
            "hunyuan",
            _hunyuan15(),
            16,
            4,
            24,
            0,
            joint_context=729 + 256 + 1000,
        ),
    )
}
"""Architectures counted on paper only (no GPU row builds them yet): Wan VACE (vace_layers
every 2nd of 30 / every 5th of 40, Wan-AI/Wan2.1-VACE-*-diffusers transformer configs) and
HunyuanVideo 1.5 (all eight checkpoints share it)."""

TINY: dict[str, Architecture] = {
    "wan-tiny": Architecture("wan-tiny", "wan", {**_wan(2, 32, 2), "text_dim": 32}, 16, 4, 16, 8),
    "wan-i2v-tiny": Architecture(
        "wan-i2v-tiny",
        "wan",
        {
            **_wan(2, 32, 2),
            "text_dim": 32,
            "in_channels": 36,
            "image_dim": 16,
            "added_kv_proj_dim": 256,
        },
        16,
        4,
        16,
        8,
        image_tokens=4,
    ),
    "ltx-tiny": Architecture(
        "ltx-tiny", "ltx", {**_ltx(2, 16, 2), "caption_channels": 32}, 32, 8, 24, 8
    ),
}
"""Toy sizes for `--tiny` on a CPU: the same code path, seconds instead of minutes."""


def frames_for(arch: Architecture, seconds: int) -> int:
    """The frame count for `seconds` under the family's rule (Wan 4k+1, LTX 8k+1)."""
    step = arch.temporal_stride
    return round(seconds * arch.fps / step) * step + 1


def tokens(arch: Architecture, width: int, height: int, frames: int) -> int:
    """Video tokens the transformer sees: latent frames x latent patches per frame."""
    latent_frames = (frames - 1) // arch.temporal_stride + 1
    return latent_frames * (height // arch.spatial_stride) * (width // arch.spatial_stride)


def forward_flops(arch: Architecture, n: int) -> tuple[float, float]:
    """(total FLOPs, attention scores+AV FLOPs) of one transformer forward over n tokens."""
    d, f, text, image = arch.width, arch.ffn, arch.text_tokens, arch.image_tokens
    if arch.joint_context:
        m = n + arch.joint_context
        joint = 4 * m * m * d
        return float((8 * m * d * d + joint + 4 * m * d * f) * arch.layers), float(
            joint * arch.layers
        )
    attention = 4 * n * n * d + 4 * n * text * d + 4 * n * image * d
    projections = 8 * n * d * d + 4 * n * d * d + 4 * text * d * d + 4 * image * d * d
    mlp = 4 * n * d * f
    per_block = attention + projections + mlp
    return float(per_block * arch.layers), float(attention * arch.layers)


# LTX-2 (issue 29): one transformer, two streams. Its published configs (diffusers'
# scripts/convert_ltx2_to_diffusers.py, 2.0; 2.3 keeps the widths): a video stream d = 32 x 128
# = 4096 and an audio stream d_a = 32 x 64 = 2048, 48 blocks, feed-forward 4x. Each block runs,
# beside each stream's self-attention, text cross-attention and feed-forward (the formulas
# above, per stream), two cross-modal attentions at the audio width d_a: audio-to-video
# (video queries, audio keys) and video-to-audio (audio queries, video keys):
#
#     a2v projections  q, o: 4 N d d_a;  k, v: 4 A d_a d_a;  scores + AV: 4 N A d_a
#     v2a projections  q, o: 4 A d_a d_a;  k, v: 4 N d d_a;  scores + AV: 4 N A d_a
#
# N video tokens (768x512x121: 6,144), A audio tokens (25 a second: 16 kHz mel, hop 160, 4x
# compressed), L text tokens (the connectors' 1,024).
LTX2_WIDTHS = {"video": 4096, "audio": 2048, "layers": 48, "text_tokens": 1024}
LTX2_AUDIO_TOKENS_PER_SECOND = 16_000 / 160 / 4


def ltx2_tokens(width: int, height: int, frames: int, fps: float = 24) -> tuple[int, int]:
    """(video tokens, audio tokens) of an LTX-2 clip (32x spatial, 8x temporal; audio for
    frames / fps seconds, as the pipeline counts it)."""
    video = ((frames - 1) // 8 + 1) * (height // 32) * (width // 32)
    return video, round(frames / fps * LTX2_AUDIO_TOKENS_PER_SECOND)


def _stream_flops(n: int, d: int, text: int) -> float:
    attention = 4 * n * n * d + 4 * n * text * d
    return float(attention + 12 * n * d * d + 4 * text * d * d + 16 * n * d * d)


def ltx2_forward_flops(n: int, a: int, widths: dict[str, int] = LTX2_WIDTHS) -> dict[str, float]:
    """FLOPs of one LTX-2 transformer forward: the video stream alone, and what sound adds
    (the audio stream and the two cross-modal attentions): what `generate_audio: false`
    cannot save, the pipeline having no switch for the audio branch."""
    d, da, text, layers = widths["video"], widths["audio"], widths["text_tokens"], widths["layers"]
    video = _stream_flops(n, d, text)
    audio = _stream_flops(a, da, text)
    cross = 8 * n * d * da + 8 * a * da * da + 8 * n * a * da
    return {
        "video": video * layers,
        "sound": (audio + cross) * layers,
        "total": (video + audio + cross) * layers,
    }
