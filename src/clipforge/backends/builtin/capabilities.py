"""What the built-in model can do, as data (no torch: the model routing reads it)."""

from __future__ import annotations

from clipforge.backends.base import Capabilities

CAPABILITIES = Capabilities(
    fps=24.0,
    camerafixed_conditioning=True,
    max_duration=12,
    first_frame=True,
    last_frame=True,
    audio=True,
    description=(
        "ClipForge's demonstration model: one shape of any colour moving over a plain or "
        "patterned background; starts and ends on given frames."
    ),
)
"""Every output frame drawn natively at 24 fps. No denoising, so no sampling steps or guidance
scale to take; longer clips than max_duration are rendered in segments (a first frame is
taken)."""
