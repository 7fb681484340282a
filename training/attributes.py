"""An auxiliary training signal: the prompt's conditioning vector must name the scene.

Measured at step 10,900: the net drew the same clip for "moving to the left" and "... to the
right" (centroids identical to 0.1 px at t = 1); its text condition moved by 0.45 between the
two prompts against ~7 for a colour change. The denoising loss reaches the text pathway only
through the whole UNet, and only at high noise, where the prompt is all there is to go on.
Linear heads that read the colour, shape, motion and camera the caption names off the same
vector give that pathway a direct, strong signal; the UNet then only has to use it. The heads
are used in training only and never shipped.
"""

from __future__ import annotations

import torch
from scenes import COLOURS, MOTIONS, SHAPES, Scene
from torch import nn
from torch.nn import functional as F

CAMERA_WORDS = ("fixed", "pan left", "pan right", "zoom")
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "colour": tuple(COLOURS),
    "shape": SHAPES,
    "motion": MOTIONS,
    "camera": CAMERA_WORDS,
}


def camera_words(scene: Scene) -> str:
    if scene.camera == "pan":
        return f"pan {scene.pan_direction}"
    return scene.camera


def attribute_targets(described: list[Scene], device: torch.device) -> dict[str, torch.Tensor]:
    """Class indices (B,) per attribute, of the scene each caption describes."""
    values = {
        "colour": [s.colour for s in described],
        "shape": [s.shape for s in described],
        "motion": [s.motion for s in described],
        "camera": [camera_words(s) for s in described],
    }
    return {
        name: torch.tensor([ATTRIBUTES[name].index(v) for v in column], device=device)
        for name, column in values.items()
    }


class AttributeHead(nn.Module):
    """One linear classifier per attribute over the prompt's conditioning vector."""

    def __init__(self, cond_dim: int) -> None:
        super().__init__()
        self.heads = nn.ModuleDict(
            {name: nn.Linear(cond_dim, len(classes)) for name, classes in ATTRIBUTES.items()}
        )

    def forward(self, prompt_vector: torch.Tensor) -> dict[str, torch.Tensor]:
        return {name: head(prompt_vector.float()) for name, head in self.heads.items()}

    def loss(
        self, prompt_vector: torch.Tensor, targets: dict[str, torch.Tensor], keep: torch.Tensor
    ) -> torch.Tensor:
        """Summed cross-entropy over the rows whose caption was kept (not dropped for
        guidance); zero when every caption was dropped."""
        if not bool(keep.any()):
            return prompt_vector.sum() * 0.0
        logits = self(prompt_vector[keep])
        return sum(
            (F.cross_entropy(logits[name], targets[name][keep]) for name in ATTRIBUTES),
            start=torch.zeros((), device=prompt_vector.device),
        )

    @torch.no_grad()
    def accuracy(
        self, prompt_vector: torch.Tensor, targets: dict[str, torch.Tensor]
    ) -> dict[str, float]:
        logits = self(prompt_vector)
        return {
            name: float((logits[name].argmax(1) == targets[name]).float().mean())
            for name in ATTRIBUTES
        }
