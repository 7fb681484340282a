"""The colour lookup: colour names in a prompt, longest match first, as sRGB values.

Explicit rather than learnt: MiniLM places rare colour words ("plum", "ivory") nearer other
colours than their own, while the shipped xkcd survey table (`../colour_names.tsv`) names 949
colours with a value each. Which mention is the object's and which the background's is the
parser's job (`parser.py`), not the lookup's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TABLE = Path(__file__).resolve().parent.parent / "colour_names.tsv"
_WORD = re.compile(r"[a-z]+", re.IGNORECASE)

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Mention:
    """A colour name found in a text: its table name, value and character span."""

    name: str
    rgb: RGB
    start: int
    end: int


def hex_to_rgb(hex_colour: str) -> RGB:
    return (int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16))


class ColourTable:
    """Colour names (as word tuples) and their sRGB values."""

    def __init__(self, names: dict[str, RGB]) -> None:
        self.names = dict(names)
        self._by_words = {tuple(_WORD.findall(name.lower())): name for name in names}
        self._longest = max(len(words) for words in self._by_words)

    @classmethod
    def from_file(cls, path: Path = TABLE) -> ColourTable:
        names: dict[str, RGB] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                name, hex_colour = line.split("\t")
                names[name] = hex_to_rgb(hex_colour)
        return cls(names)

    def mentions(self, text: str) -> list[Mention]:
        """Every colour name in `text`, left to right; at each word the longest name wins
        ("dark sky blue" over "sky blue" over "blue"), and its words are not matched again.
        Words are matched on the text itself (not text.lower(), whose length can differ), so
        the spans are character offsets into `text`."""
        words = list(_WORD.finditer(text))
        found: list[Mention] = []
        i = 0
        while i < len(words):
            for size in range(min(self._longest, len(words) - i), 0, -1):
                key = tuple(w.group().lower() for w in words[i : i + size])
                name = self._by_words.get(key)
                if name is not None:
                    start, end = words[i].start(), words[i + size - 1].end()
                    found.append(Mention(name, self.names[name], start, end))
                    i += size
                    break
            else:
                i += 1
        return found


@cache
def colour_table() -> ColourTable:
    """The shipped table, read once per process."""
    return ColourTable.from_file()
