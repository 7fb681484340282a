"""What the prompt names, read as class probabilities: a strong, disentangled condition.

MiniLM barely separates one-word differences ("moving to the left" / "... right": pooled
cosine 0.994, token cosine 0.87), and the denoiser did not learn them from its own loss in
11,000 steps. Fed a clearly separated code instead, the same UNet learned left from right in
~300 steps (a from-scratch experiment at 16 px). So the reader classifies each attribute of the
procedural world (colour, shape, motion, camera, background, tone), trained with cross-entropy
on the captions' ground truth, and its probabilities enter the FiLM condition through a wide
embedding.

Each attribute has its own attention queries over the prompt's token states, so it reads the
word that names it ("crimson" in "a crimson orb drifting left") rather than a sentence
embedding where that word is one of many. On the 256 held-out paraphrases ("a clip showing
one teal orb ascending"), linear heads over the prompt vector read colour / shape / motion
19 / 76 / 82% right (all three 11%); this reader, fitted on the same model, 25 / 82 / 91% (20%).
MiniLM itself limits colour: it places "plum", "ivory" and "azure" nearer other colours.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from clipforge.backends.builtin.attention import TextCondition

AttributeClasses = dict[str, tuple[str, ...]]
READER_HEADS = 2


class AttributeReader(nn.Module):
    def __init__(self, classes: AttributeClasses, text_dim: int, cond_dim: int) -> None:
        super().__init__()
        self.classes = classes
        self.norm = nn.LayerNorm(text_dim)
        self.keys = nn.Linear(text_dim, text_dim)
        self.queries = nn.ParameterDict(
            {
                name: nn.Parameter(torch.randn(READER_HEADS, text_dim) / math.sqrt(text_dim))
                for name in classes
            }
        )
        self.heads = nn.ModuleDict(
            {
                name: nn.Linear(READER_HEADS * text_dim, len(values))
                for name, values in classes.items()
            }
        )
        self.embedding = nn.Linear(sum(len(values) for values in classes.values()), cond_dim)
        # One confident class per attribute moves each condition entry by ~1, as much as the
        # timestep does: the signal must be strong from the first step to be used at all.
        nn.init.normal_(self.embedding.weight, std=1.0 / math.sqrt(len(classes)))
        nn.init.zeros_(self.embedding.bias)

    def logits(self, text: TextCondition) -> dict[str, torch.Tensor]:
        tokens = self.norm(text.tokens.to(self.keys.weight.dtype))
        batch, _, dim = tokens.shape
        keys = self.keys(tokens).transpose(1, 2)  # (B, D, L)
        hidden = ~text.mask[:, None, :]
        logits = {}
        for name, head in self.heads.items():
            scores = (self.queries[name] @ keys / math.sqrt(dim)).masked_fill(hidden, -torch.inf)
            read = scores.softmax(dim=-1) @ tokens  # (B, heads, D)
            logits[name] = head(read.reshape(batch, -1))
        return logits

    def forward(self, text: TextCondition) -> torch.Tensor:
        """The condition's attribute share (B, cond_dim)."""
        probabilities = [logits.softmax(dim=-1) for logits in self.logits(text).values()]
        return self.embedding(torch.cat(probabilities, dim=-1))

    @torch.no_grad()
    def read(self, text: TextCondition) -> list[dict[str, str]]:
        """The most likely class of each attribute, per prompt: what the model understood."""
        picks = {name: logits.argmax(-1).tolist() for name, logits in self.logits(text).items()}
        return [
            {name: self.classes[name][picks[name][row]] for name in self.classes}
            for row in range(text.mask.shape[0])
        ]
