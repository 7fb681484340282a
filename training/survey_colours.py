"""Colour-survey names as caption words: each name clearly nearest one palette colour.

The reader gets each colour name's CIELAB value from the shipped table (`colour_names.py`),
but learns to use it only if the captions make it: MiniLM alone reads our hand-picked names
perfectly, so a reader fitted on them ignored the table. Hundreds of survey names, labelled by
the palette colour nearest in CIELAB, teach it that the table's colour is what counts. Names
with a held-out evaluation word, and names of hues the palette lacks, are left out.
"""

from __future__ import annotations

import math
from collections.abc import Collection

from clipforge.backends.builtin.colour_names import ColourNames, colour_names, srgb_to_lab
from training.scenes import COLOURS

# Hues the palette has no colour for: a "pink" labelled red or white teaches a wrong meaning.
FOREIGN_HUES = frozenset(
    [
        "black",
        "grey",
        "gray",
        "navy",
        "brown",
        "beige",
        "pink",
        "pinkish",
        "rose",
        "salmon",
        "tan",
        "khaki",
        "olive",
        "brownish",
        "greyish",
        "mud",
        "muddy",
        "dirt",
        "dirty",
        "poo",
        "poop",
        "puke",
        "vomit",
        "shit",
        "snot",
        "booger",
        "diarrhea",
    ]
)
MAX_DISTANCE = 45.0  # CIELAB units, about the gap between two neighbouring palette colours
MAX_RATIO = 0.6  # nearest / second nearest: names halfway between two colours are left out


def survey_colour_words(
    held_out: Collection[str], names: ColourNames | None = None
) -> dict[str, list[str]]:
    """Palette colour -> survey names nearest it, none containing a `held_out` word."""
    table = (names or colour_names()).table
    palette = {
        colour: srgb_to_lab("#" + "".join(f"{c:02x}" for c in rgb))
        for colour, rgb in COLOURS.items()
    }
    chosen: dict[str, list[str]] = {colour: [] for colour in COLOURS}
    for words, features in sorted(table.items()):
        if set(words) & (FOREIGN_HUES | set(held_out)):
            continue
        lab = tuple(100 * value for value in features[:3])
        ranked = sorted((math.dist(lab, centre), colour) for colour, centre in palette.items())
        (nearest, colour), (second, _) = ranked[:2]
        if nearest < MAX_DISTANCE and nearest < MAX_RATIO * second:
            chosen[colour].append(" ".join(words))
    return chosen
