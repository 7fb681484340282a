"""The parser: what it reads, and an honest account of the words it did not use."""

from __future__ import annotations

from functools import cache

import pytest
import torch

from clipforge.backends.builtin.text import TextEncoder
from clipforge.backends.builtin.v2.colours import colour_table
from clipforge.backends.builtin.v2.heads import ParserHeads
from clipforge.backends.builtin.v2.parser import (
    FUNCTION_WORDS,
    PARSER_FILE,
    PromptParser,
    load_heads,
)
from clipforge.backends.builtin.v2.pipeline import WEIGHTS

ODD_PROMPTS = [
    "",
    "   ",
    "a busy street at night",
    "a dragon flying over a castle at dawn, cinematic, 8k",
    "🐉🔥 !!! ???",
    "İstanbul'da k\u0131rm\u0131z\u0131 bir top",  # Turkish: "İ".lower() is 2 characters
    "red " * 80,
    "a blue blue blue circle on a blue background on a red background",
    "sky blue sky, brick red brick moving left",
]


@cache
def _encoder() -> TextEncoder:
    return TextEncoder()


@cache
def trained() -> PromptParser:
    return PromptParser(_encoder(), load_heads(WEIGHTS / PARSER_FILE))


@pytest.mark.parametrize("prompt", ODD_PROMPTS)
def test_no_prompt_crashes_the_parser_and_it_accounts_only_for_its_words(prompt: str) -> None:
    torch.manual_seed(0)
    untrained = PromptParser(_encoder(), ParserHeads())  # any weights: the mechanism holds
    for parser in (untrained, trained()):
        parsed = parser.parse(prompt)
        table = colour_table().names
        assert table.get(parsed.colour[0], parsed.colour[1]) == parsed.colour[1]
        words = prompt.split()
        for word in parsed.unused_words:
            assert any(word in w for w in words) and word.lower() not in FUNCTION_WORDS
        assert set(parsed.replaced) <= set(parsed.unused_words)


@pytest.mark.parametrize(
    ("prompt", "colour", "background"),
    [
        ("a red circle moving left on a white background", "red", "white"),
        ("a pink square on a navy blue background", "pink", "navy blue"),
        ("on a black background, a lime triangle rising", "lime", "black"),
        ("a dark sky blue ball bouncing against yellow stripes", "dark sky blue", "yellow"),
        # The background is not named: black by default.
        ("a magenta cross shrinking", "magenta", "black"),
    ],
)
def test_the_objects_colour_is_told_apart_from_the_backgrounds(
    prompt: str, colour: str, background: str
) -> None:
    parsed = trained().parse(prompt)
    table = colour_table().names
    assert parsed.colour == (colour, table[colour])
    assert parsed.background_colour == (background, table[background])


@pytest.mark.parametrize(
    ("prompt", "noun"),
    [
        ("a dragon flying to the left", "dragon"),
        ("a dragon flying over a castle at dawn, cinematic, 8k", "dragon"),  # the seed's
        ("a yellow star moving right on a black background", "star"),
        ("a pink heart growing", "heart"),
        ("a busy street at night", "street"),
    ],
)
def test_an_object_it_cannot_draw_is_named_as_replaced_and_unused(prompt: str, noun: str) -> None:
    parsed = trained().parse(prompt)
    assert parsed.replaced[noun] == "circle" and parsed.shape == "circle"
    assert set(parsed.replaced.values()) == {"circle"}
    assert noun in parsed.unused_words
    assert parsed.attributes()[f"replaced {noun}"] == "circle"


def test_words_that_change_the_reading_are_used_and_filler_is_not() -> None:
    parsed = trained().parse("a green circle falling down on a white background, wonderful")
    assert (parsed.shape, parsed.motion, parsed.colour[0]) == ("circle", "down", "green")
    assert parsed.camera == "unspecified"  # nobody asked: not reported as fixed
    assert "wonderful" in parsed.unused_words
    for word in ("green", "circle", "falling", "white"):
        assert word not in parsed.unused_words
