"""The parser's trainable part: small heads over frozen MiniLM token states.

Each attribute has its own attention queries over the tokens, so it reads the word that names
it ("crimson" in "a crimson orb drifting left") rather than a sentence summary where one word
is drowned by the rest (MiniLM's pooled "left" and "right" prompts: cosine 0.994). A role head
says, for each colour name the lookup found, whether it colours the object, the background, or
neither ("brick" as a shape, "sky" as a place).
"""

from __future__ import annotations

import math

import torch
from torch import nn

TEXT_DIM = 384
QUERIES = 2
CLASSES: dict[str, tuple[str, ...]] = {
    "shape": ("circle", "square", "triangle", "cross", "other"),
    "motion": ("left", "right", "up", "down", "still", "growing", "shrinking", "bouncing"),
    "background": ("plain", "stripes", "checker", "dots", "unspecified"),
    "camera": ("fixed", "pan left", "pan right", "zoom", "unspecified"),
}
""""other": an object the generator cannot draw (it draws FALLBACK_SHAPE and says so);
"unspecified": the prompt does not say (the generator's default, not reported as read)."""
ROLES = ("object", "background", "none")


class ParserHeads(nn.Module):
    def __init__(self, text_dim: int = TEXT_DIM) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(text_dim)
        self.keys = nn.Linear(text_dim, text_dim)
        self.queries = nn.ParameterDict(
            {
                name: nn.Parameter(torch.randn(QUERIES, text_dim) / math.sqrt(text_dim))
                for name in CLASSES
            }
        )
        self.heads = nn.ModuleDict(
            {name: nn.Linear(QUERIES * text_dim, len(values)) for name, values in CLASSES.items()}
        )
        self.role_query = nn.Linear(text_dim, text_dim)
        self.role = nn.Sequential(
            nn.Linear(2 * text_dim, 128), nn.GELU(), nn.Linear(128, len(ROLES))
        )

    def forward(self, states: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """Logits per attribute (B, classes) from token states (B, L, D) and their mask."""
        return self.read(states, mask)[0]

    def read(
        self, states: torch.Tensor, mask: torch.Tensor
    ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """Logits per attribute, and how much each attribute read each token (B, L), the
        mean of its queries' attention."""
        tokens = self.norm(states)
        keys = self.keys(tokens).transpose(1, 2)  # (B, D, L)
        scale = math.sqrt(tokens.shape[-1])
        logits, attention = {}, {}
        for name, head in self.heads.items():
            scores = (self.queries[name] @ keys / scale).masked_fill(~mask[:, None, :], -1e4)
            weights = scores.softmax(dim=-1)  # (B, queries, L)
            logits[name] = head((weights @ tokens).flatten(1))
            attention[name] = weights.mean(dim=1)
        return logits, attention

    def roles(
        self, states: torch.Tensor, mask: torch.Tensor, rows: torch.Tensor, spans: torch.Tensor
    ) -> torch.Tensor:
        """Role logits (S, 3) of S colour mentions: `rows` (S,) says which prompt, `spans`
        (S, L) which of its tokens the name covers. Each name attends over the rest of its
        prompt, so it can find the word its colour goes with ("background", "stripes", a
        shape) wherever it stands; a name's own states alone, with the prompt's mean, read
        "a lime triangle rising on a black background" as a lime background."""
        tokens = self.norm(states)[rows]  # (S, L, D)
        weights = spans.to(tokens.dtype).unsqueeze(-1)
        own = (tokens * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        others = mask[rows] & ~spans
        keys = self.keys(tokens)  # (S, L, D)
        scores = (keys @ self.role_query(own).unsqueeze(-1)).squeeze(-1) / math.sqrt(own.shape[-1])
        attention = scores.masked_fill(~others, -1e4).softmax(dim=-1)
        context = (attention.unsqueeze(-1) * tokens).sum(1)
        return self.role(torch.cat([own, context], dim=-1))
