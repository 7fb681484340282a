"""What the built-in model can do, as data (no torch: the model routing reads it)."""

from __future__ import annotations

from clipforge.backends.base import Capabilities

CAPABILITIES = Capabilities(
    fps=3.2,
    camerafixed_conditioning=True,
    max_duration=12,
    sampling_steps=True,
    guidance=True,
    audio=True,
    description="ClipForge's demonstration model: simple shapes and motions, 32 px.",
)
"""16 frames a clip (3.2 fps over 5 s; the video layer brings them to 24 fps). No image input."""
