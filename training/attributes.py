"""The attributes of the training world, as the model's `AttributeReader` learns to read them.

Each caption names a colour, shape, motion, background and tone, and a camera (said or
implied); these are the reader's classes. Cross-entropy against the captions' ground truth
trains the reader, so the prompt's attribute code is clearly separated from the first steps:
measured at step 10,900 without it, the net drew the same clip for "moving to the left" and
"... to the right" (centroids equal to 0.1 px at t = 1).
"""

from __future__ import annotations

import torch
from scenes import BACKGROUND_TONES, BACKGROUNDS, COLOURS, MOTIONS, SHAPES, Scene
from torch.nn import functional as F

from clipforge.backends.builtin.attributes import AttributeClasses, AttributeReader

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


def attribute_targets(described: list[Scene], device: torch.device) -> dict[str, torch.Tensor]:
    """Class indices (B,) per attribute, of the scene each caption describes."""
    rows = [attribute_values(scene) for scene in described]
    return {
        name: torch.tensor([classes.index(row[name]) for row in rows], device=device)
        for name, classes in ATTRIBUTES.items()
    }


def attribute_loss(
    reader: AttributeReader,
    prompt_vector: torch.Tensor,
    targets: dict[str, torch.Tensor],
    keep: torch.Tensor,
) -> torch.Tensor:
    """Summed cross-entropy over the rows whose caption was kept (not dropped for guidance);
    zero, still in the graph, when every caption was dropped."""
    if not bool(keep.any()):
        return prompt_vector.sum() * 0.0
    logits = reader.logits(prompt_vector[keep].float())
    return sum(
        (F.cross_entropy(logits[name], targets[name][keep]) for name in ATTRIBUTES),
        start=torch.zeros((), device=prompt_vector.device),
    )


@torch.no_grad()
def attribute_accuracy(
    reader: AttributeReader, prompt_vector: torch.Tensor, targets: dict[str, torch.Tensor]
) -> dict[str, float]:
    logits = reader.logits(prompt_vector.float())
    return {
        name: float((logits[name].argmax(1) == targets[name]).float().mean()) for name in ATTRIBUTES
    }
