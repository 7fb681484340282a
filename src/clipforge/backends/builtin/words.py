"""Words that carry no attribute of a clip: never reported as unused (both parsers)."""

from __future__ import annotations

FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "on",
        "in",
        "at",
        "to",
        "and",
        "with",
        "over",
        "under",
        "into",
        "onto",
        "from",
        "by",
        "its",
        "it",
        "is",
        "are",
    ]
)
