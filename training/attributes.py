"""The attributes of the training world, as the model's `AttributeReader` learns to read them.

Each caption names a colour, shape, motion, background and tone, and a camera (said or
implied); these are the reader's classes. Cross-entropy against the captions' ground truth
trains the reader, so the prompt's attribute code is clearly separated from the first steps:
measured at step 10,900 without it, the net drew the same clip for "moving to the left" and
"... to the right" (centroids equal to 0.1 px at t = 1).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.nn import functional as F

from clipforge.backends.builtin.attention import TextCondition
from clipforge.backends.builtin.attributes import AttributeClasses, AttributeReader
from training.scenes import BACKGROUND_TONES, BACKGROUNDS, COLOURS, MOTIONS, SHAPES, Scene

CAMERA_WORDS = ("fixed", "pan left", "pan right", "zoom")
ATTRIBUTES: AttributeClasses = {
    "colour": tuple(COLOURS),
    "shape": SHAPES,
    "motion": MOTIONS,
    "camera": CAMERA_WORDS,
    "background": BACKGROUNDS,
    "tone": tuple(BACKGROUND_TONES),
}


def camera_words(scene: Scene) -> str:
    if scene.camera == "pan":
        return f"pan {scene.pan_direction}"
    return scene.camera


def attribute_values(scene: Scene) -> dict[str, str]:
    return {
        "colour": scene.colour,
        "shape": scene.shape,
        "motion": scene.motion,
        "camera": camera_words(scene),
        "background": scene.background,
        "tone": scene.tone,
    }


UNSAID = -100
"""The target of an attribute the caption does not name (cross-entropy's ignore index)."""
BACKGROUND_ATTRIBUTES = ("background", "tone")


def attribute_targets(
    described: list[Scene], device: torch.device, names_background: Sequence[bool]
) -> dict[str, torch.Tensor]:
    """Class indices (B,) per attribute, of the scene each caption describes; `UNSAID` for
    the background and its tone where the caption leaves them out."""
    rows = [attribute_values(scene) for scene in described]
    return {
        name: torch.tensor(
            [
                classes.index(row[name]) if said or name not in BACKGROUND_ATTRIBUTES else UNSAID
                for row, said in zip(rows, names_background, strict=True)
            ],
            device=device,
        )
        for name, classes in ATTRIBUTES.items()
    }


def attribute_loss(
    reader: AttributeReader,
    text: TextCondition,
    targets: dict[str, torch.Tensor],
    keep: torch.Tensor,
) -> torch.Tensor:
    """Summed cross-entropy over the rows whose caption was kept (not dropped for guidance);
    zero, still in the graph, when every caption was dropped."""
    logits = reader.logits(text)
    if not bool(keep.any()):
        return sum(values.sum() for values in logits.values()) * 0.0
    losses = [
        F.cross_entropy(logits[name][keep].float(), targets[name][keep], ignore_index=UNSAID)
        for name in ATTRIBUTES
        if bool((targets[name][keep] != UNSAID).any())
    ]
    return sum(losses, start=torch.zeros((), device=keep.device))
