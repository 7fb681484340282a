"""The prompt's names for reference images (Seedance 2.x: "@Image1" is the first of
`image_urls`, or of the Ark `reference_image` items in content order), resolved into the plain
text an open model reads (no torch).

Wan VACE takes its references as a list in that same order and reads the prompt as plain
text (ali-vilab/VACE's reference-to-video prompts describe the subjects); "@Image2" means
nothing to its text encoder, so it becomes "the subject of reference image 2".
"""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"@image\s?(\d+)\b", re.IGNORECASE)


def highest_placeholder(prompt: str) -> int:
    """The largest N of the prompt's @ImageN (0: none)."""
    return max((int(n) for n in PLACEHOLDER.findall(prompt)), default=0)


def resolve_placeholders(prompt: str, references: int) -> str:
    """The prompt with each @ImageN (1 <= N <= references) written out as plain words."""

    def spelled(match: re.Match[str]) -> str:
        number = int(match.group(1))
        if not 1 <= number <= references:
            return match.group(0)
        return f"the subject of reference image {number}"

    return PLACEHOLDER.sub(spelled, prompt)
