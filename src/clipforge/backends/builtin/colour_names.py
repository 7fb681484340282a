"""Colour names in a prompt, as the colours they name: per-token features for the reader.

MiniLM knows little about what colour a rare colour word is: nearest-neighbour among our
training colour names puts "canary", "plum" and "azure" in the wrong family, and no probe on
its states read "lime", "plum" or "ivory" right. People name colours in thousands of ways, so
the reader also gets what a colour-name table says: every token inside a name from the xkcd
colour survey (949 names, `colour_names.tsv`) carries that colour in CIELAB, plus a flag.
Longest names win ("dark sky blue" over "sky blue"); words outside the table carry zeros.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import torch

TABLE = Path(__file__).with_name("colour_names.tsv")
COLOUR_FEATURES = 4  # L*, a*, b* (each / 100) and 1 for "this token is in a colour name"
_WORD = re.compile(r"[a-z]+", re.IGNORECASE)

Features = tuple[float, float, float, float]


def srgb_to_lab(hex_colour: str) -> tuple[float, float, float]:
    """CIELAB (D65) of an sRGB colour "#rrggbb": distances there follow perceived difference."""
    linear = []
    for start in (1, 3, 5):
        c = int(hex_colour[start : start + 2], 16) / 255
        linear.append(((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92)
    r, g, b = linear
    xyz = (
        (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.9505,
        0.2126 * r + 0.7152 * g + 0.0722 * b,
        (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.089,
    )
    fx, fy, fz = (v ** (1 / 3) if v > 0.008856 else 7.787 * v + 16 / 116 for v in xyz)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


class ColourNames:
    """Finds colour names in text: (start, end, features) character spans."""

    def __init__(self, table: dict[tuple[str, ...], Features]) -> None:
        self.table = table
        self.longest = max(len(words) for words in table)

    @classmethod
    def from_file(cls, path: Path = TABLE) -> ColourNames:
        table: dict[tuple[str, ...], Features] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line or line.startswith("#"):
                continue
            name, hex_colour = line.split("\t")
            lightness, a, b = srgb_to_lab(hex_colour)
            words = tuple(word.lower() for word in _WORD.findall(name))
            table[words] = (lightness / 100, a / 100, b / 100, 1.0)
        return cls(table)

    def spans(self, text: str) -> list[tuple[int, int, Features]]:
        # Matched on the text itself, not text.lower(), whose length can differ ("İ"), so that
        # the spans stay the tokenizer's character offsets.
        words = list(_WORD.finditer(text))
        found, i = [], 0
        while i < len(words):
            for size in range(min(self.longest, len(words) - i), 0, -1):
                key = tuple(w.group().lower() for w in words[i : i + size])
                features = self.table.get(key)
                if features is not None:
                    found.append((words[i].start(), words[i + size - 1].end(), features))
                    i += size
                    break
            else:
                i += 1
        return found

    def features(self, texts: Sequence[str], offsets: torch.Tensor) -> torch.Tensor:
        """(B, L, COLOUR_FEATURES) for tokens with character `offsets` (B, L, 2), as a fast
        tokenizer returns them (special tokens (0, 0)). Names past the tokenizer's truncation
        carry nothing; a name cut by it colours the part that is left."""
        out = torch.zeros(*offsets.shape[:2], COLOUR_FEATURES)
        bounds = offsets.tolist()
        for row, text in enumerate(texts):
            for start, end, features in self.spans(text):
                for column, (token_start, token_end) in enumerate(bounds[row]):
                    if token_end > token_start and start <= token_start and token_end <= end:
                        out[row, column] = torch.tensor(features)
        return out


@cache
def colour_names() -> ColourNames:
    """The shipped table, read once per process."""
    return ColourNames.from_file()
