"""The prompt as the network sees it, and the attention layers that read it."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from clipforge.backends.builtin.colour_names import COLOUR_FEATURES


@dataclass
class TextCondition:
    """MiniLM outputs for a batch: pooled (B, D), tokens (B, L, D), mask (B, L) True = real;
    colours (B, L, COLOUR_FEATURES): what colour each token's colour name is, if any."""

    pooled: torch.Tensor
    tokens: torch.Tensor
    mask: torch.Tensor
    colours: torch.Tensor

    @classmethod
    def plain(cls, pooled: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor) -> TextCondition:
        """A condition whose prompt names no colour."""
        return cls(pooled, tokens, mask, tokens.new_zeros(*tokens.shape[:2], COLOUR_FEATURES))

    def where(self, keep: torch.Tensor, other: TextCondition) -> TextCondition:
        """Rows where `keep` is False come from `other` (a one-token condition)."""
        k = keep.view(-1, 1)
        other_tokens = other.tokens[:, :1].expand(-1, self.tokens.shape[1], -1)
        other_mask = torch.zeros_like(self.mask)
        other_mask[:, 0] = True
        return TextCondition(
            torch.where(k, self.pooled, other.pooled),
            torch.where(k[..., None], self.tokens, other_tokens),
            torch.where(k, self.mask, other_mask),
            torch.where(k[..., None], self.colours, other.colours[:, :1]),
        )

    def repeat(self, times: int) -> TextCondition:
        return TextCondition(
            self.pooled.repeat(times, 1),
            self.tokens.repeat(times, 1, 1),
            self.mask.repeat(times, 1),
            self.colours.repeat(times, 1, 1),
        )


class CrossAttention(nn.Module):
    """Image positions attend to the prompt's token states."""

    def __init__(self, channels: int, text_dim: int, heads: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(8, channels)
        self.q = nn.Conv2d(channels, channels, 1)
        self.kv = nn.Linear(text_dim, 2 * channels)
        self.out = nn.Conv2d(channels, channels, 1)
        self.heads = heads
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)  # type: ignore[arg-type]

    def forward(self, x: torch.Tensor, text: TextCondition) -> torch.Tensor:
        b, c, h, w = x.shape
        d = c // self.heads
        q = self.q(self.norm(x)).reshape(b, self.heads, d, h * w).transpose(-1, -2)
        kv = self.kv(text.tokens.to(q.dtype)).reshape(b, -1, 2, self.heads, d)
        k, v = kv.permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v, attn_mask=text.mask[:, None, None, :])
        return x + self.out(attended.transpose(-1, -2).reshape(b, c, h, w))


class SelfAttention(nn.Module):
    """Global attention at the coarsest level: where things are relative to each other."""

    def __init__(self, channels: int, heads: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(8, channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)
        self.heads = heads
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)  # type: ignore[arg-type]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, self.heads, c // self.heads, h * w).unbind(1)
        attended = F.scaled_dot_product_attention(
            q.transpose(-1, -2), k.transpose(-1, -2), v.transpose(-1, -2)
        )
        return x + self.out(attended.transpose(-1, -2).reshape(b, c, h, w))


class TokenPooling(nn.Module):
    """Learned queries attend over the prompt's token states; the result joins the FiLM
    condition of every block. MiniLM's mean pooling all but erases one-word differences
    ("to the left" vs "to the right": cosine 0.994), while the tokens keep them; one object
    per clip means every attribute the prompt names is global to the clip."""

    def __init__(self, text_dim: int, cond_dim: int, heads: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(text_dim)
        self.queries = nn.Parameter(torch.randn(heads, text_dim) / text_dim**0.5)
        self.k = nn.Linear(text_dim, text_dim)
        self.v = nn.Linear(text_dim, text_dim)
        self.out = nn.Linear(heads * text_dim, cond_dim)
        self.heads = heads
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, text: TextCondition) -> torch.Tensor:
        tokens = self.norm(text.tokens.to(self.queries.dtype))
        b, _, dim = tokens.shape
        q = self.queries.unsqueeze(0).expand(b, -1, -1)  # every head reads all dims: few heads
        scores = q @ self.k(tokens).transpose(1, 2) / dim**0.5  # (B, heads, L)
        scores = scores.masked_fill(~text.mask[:, None, :], float("-inf"))
        pooled = scores.softmax(dim=-1) @ self.v(tokens)  # (B, heads, D)
        return self.out(pooled.reshape(b, self.heads * dim))
