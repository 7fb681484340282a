"""The built-in text-to-video network: a small 2D UNet that denoises a whole clip at once.

A clip of T frames is treated as one image with 3T channels, so motion is learned as the
correlation between channel groups; the net is convolutional, so one set of weights serves
every aspect ratio. Text comes in three ways from the MiniLM encoder: the pooled sentence
embedding and a learned attention pooling of the token states both modulate every block (FiLM),
and the token states are attended to at the coarsest level (cross-attention). A
camera-fixed flag is a real conditioning input. Learned "no text" embeddings serve
classifier-free guidance. Trained with flow matching: x_t = (1 - t) x_0 + t noise, target
velocity noise - x_0.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import cast

import torch
from torch import nn
from torch.nn import functional as F

from clipforge.backends.builtin.attention import (
    CrossAttention,
    SelfAttention,
    TextCondition,
    TokenPooling,
)
from clipforge.backends.builtin.attributes import AttributeClasses, AttributeReader

MIN_T = 0.05
"""Below this, a velocity derived from a clean-clip prediction would divide by almost zero."""


@dataclass(frozen=True)
class BuiltinConfig:
    frames: int = 16
    short_side: int = 32
    channels: tuple[int, ...] = (48, 96, 192)
    blocks_per_level: int = 2
    text_dim: int = 384
    cond_dim: int = 256
    attention_heads: int = 4
    position_inputs: bool = True
    """Two extra input maps, each pixel's x and y in [-1, 1]. Convolutions alone barely know
    where in the frame they are, yet every motion starts and ends at a fixed place: without
    them the net drew the object all along its path in every frame."""
    token_pooling: bool = True
    """The FiLM condition also reads the prompt's token states (`TokenPooling`), not only
    MiniLM's pooled embedding, which barely tells "left" from "right"."""

    attributes: AttributeClasses = field(default_factory=dict)
    """Named attributes of the training world and their classes, read off the prompt by
    `AttributeReader` into the condition; empty: no reader (weights trained before it)."""

    @property
    def size_multiple(self) -> int:
        return 2 ** (len(self.channels) - 1)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> BuiltinConfig:
        values = dict(data)
        values["channels"] = tuple(values["channels"])  # type: ignore[arg-type]
        attributes = cast(dict[str, list[str]], values.get("attributes") or {})
        values["attributes"] = {name: tuple(kinds) for name, kinds in attributes.items()}
        return cls(**values)  # type: ignore[arg-type]


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of t in [0, 1]."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device) / half)
    angles = 1000.0 * t.float()[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class ResBlock(nn.Module):
    """GroupNorm-SiLU-conv twice, with the condition as a per-channel scale and shift."""

    def __init__(self, in_ch: int, out_ch: int, cond_dim: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(8, in_ch)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.film = nn.Linear(cond_dim, 2 * out_ch)
        self.norm2 = nn.GroupNorm(8, out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.skip = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)  # type: ignore[arg-type]

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.film(cond)[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        return self.skip(x) + self.conv2(F.silu(h))


class ClipUNet(nn.Module):
    """Predicts the flow-matching velocity of a noisy clip (B, 3T, H, W)."""

    def __init__(self, config: BuiltinConfig) -> None:
        super().__init__()
        self.config = config
        io_channels = 3 * config.frames
        in_channels = io_channels + (2 if config.position_inputs else 0)
        cd, top = config.cond_dim, config.channels[-1]
        self.time_mlp = nn.Sequential(nn.Linear(cd, cd), nn.SiLU(), nn.Linear(cd, cd))
        self.text_mlp = nn.Sequential(nn.Linear(config.text_dim, cd), nn.SiLU(), nn.Linear(cd, cd))
        self.camera_embedding = nn.Embedding(2, cd)
        self.token_pool = (
            TokenPooling(config.text_dim, cd, config.attention_heads)
            if config.token_pooling
            else None
        )
        self.attribute_reader = (
            AttributeReader(config.attributes, config.text_dim, cd) if config.attributes else None
        )
        self.null_pooled = nn.Parameter(torch.zeros(config.text_dim))
        self.null_token = nn.Parameter(torch.zeros(config.text_dim))
        self.stem = nn.Conv2d(in_channels, config.channels[0], 3, padding=1)
        self.down = nn.ModuleList()
        self.up = nn.ModuleList()
        self._build_levels(config)
        self.mid_in = ResBlock(top, top, cd)
        self.mid_self = SelfAttention(top, config.attention_heads)
        self.mid_cross = CrossAttention(top, config.text_dim, config.attention_heads)
        self.mid_out = ResBlock(top, top, cd)
        self.head = nn.Sequential(
            nn.GroupNorm(8, config.channels[0]),
            nn.SiLU(),
            nn.Conv2d(config.channels[0], io_channels, 3, padding=1),
        )

    def _build_levels(self, config: BuiltinConfig) -> None:
        cd, skips, ch = config.cond_dim, [config.channels[0]], config.channels[0]
        for level, width in enumerate(config.channels):
            for _ in range(config.blocks_per_level):
                self.down.append(ResBlock(ch, width, cd))
                ch = width
                skips.append(ch)
            if level < len(config.channels) - 1:
                self.down.append(nn.Conv2d(ch, ch, 3, stride=2, padding=1))
                skips.append(ch)
        for level, width in reversed(list(enumerate(config.channels))):
            for _ in range(config.blocks_per_level + 1):
                self.up.append(ResBlock(ch + skips.pop(), width, cd))
                ch = width
            if level > 0:
                self.up.append(nn.Upsample(scale_factor=2, mode="nearest"))

    @property
    def pooled_scale(self) -> float:
        """The pooled embedding is unit-length (entries ~0.05): scaled to unit-variance entries,
        the prompt weighs as much as the timestep in the condition from the first step, rather
        than after thousands of steps of growing the first layer's weights."""
        return math.sqrt(self.config.text_dim)

    def velocity(
        self,
        x: torch.Tensor,
        t: torch.Tensor,
        text: TextCondition,
        camera_fixed: torch.Tensor,
        reader_only: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The flow-matching velocity (noise - clean clip) at time t. The net predicts the
        clean clip, so a small pixel-space net need not reproduce the input noise exactly."""
        out = self(x, t, text, camera_fixed, reader_only).float()
        return (x.float() - out) / t.float().clamp(min=MIN_T).view(-1, 1, 1, 1)

    @staticmethod
    def _with_positions(x: torch.Tensor) -> torch.Tensor:
        """x with each pixel's (x, y) in [-1, 1] appended as two channels, for any frame size."""
        b, _, height, width = x.shape
        ys = torch.linspace(-1.0, 1.0, height, device=x.device, dtype=x.dtype)
        xs = torch.linspace(-1.0, 1.0, width, device=x.device, dtype=x.dtype)
        grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"))
        return torch.cat([x, grid.expand(b, -1, -1, -1)], dim=1)

    def null_text(self, batch: int) -> TextCondition:
        """The "no prompt" condition that guidance pushes away from."""
        tokens = self.null_token.view(1, 1, -1).expand(batch, 1, -1)
        mask = torch.ones(batch, 1, dtype=torch.bool, device=tokens.device)
        return TextCondition.plain(self.null_pooled.expand(batch, -1), tokens, mask)

    def prompt_vector(self, text: TextCondition) -> torch.Tensor:
        """The prompt's share of the FiLM condition (B, cond_dim)."""
        vector = self.text_mlp(text.pooled.to(self.null_pooled.dtype) * self.pooled_scale)
        if self.token_pool is not None:
            vector = vector + self.token_pool(text).to(vector.dtype)
        return vector

    def forward(
        self,
        x: torch.Tensor,
        t: torch.Tensor,
        text: TextCondition,
        camera_fixed: torch.Tensor,
        reader_only: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """`reader_only` (B,) marks rows whose prompt reaches the net through the attribute
        reader alone, the other text paths seeing the empty prompt. The reader reads an unseen
        word ("orb") right more often than the net draws it from the raw MiniLM paths (shape
        82% vs 38% on paraphrases at step 16,000): training a share of rows this way teaches
        the net to draw from the reader's code alone."""
        context = text
        if reader_only is not None and self.attribute_reader is not None:
            context = text.where(~reader_only, self.null_text(x.shape[0]))
        cond = self.time_mlp(timestep_embedding(t, self.config.cond_dim))
        cond = cond + self.prompt_vector(context).to(cond.dtype)
        if self.attribute_reader is not None:
            cond = cond + self.attribute_reader(text).to(cond.dtype)
        cond = cond + self.camera_embedding(camera_fixed.long())
        h = self.stem(self._with_positions(x) if self.config.position_inputs else x)
        skips = [h]
        for layer in self.down:
            h = layer(h, cond) if isinstance(layer, ResBlock) else layer(h)
            skips.append(h)
        h = self.mid_cross(self.mid_self(self.mid_in(h, cond)), context)
        h = self.mid_out(h, cond)
        for layer in self.up:
            if isinstance(layer, ResBlock):
                h = layer(torch.cat([h, skips.pop()], dim=1), cond)
            else:
                h = layer(h)
        return self.head(h)
