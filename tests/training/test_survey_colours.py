"""Colour-survey caption words: labelled by the nearest palette colour, held-out words kept out."""

from __future__ import annotations

from training.captions import PARAPHRASE_COLOURS
from training.survey_colours import survey_colour_words

from clipforge.backends.builtin.colour_names import ColourNames, srgb_to_lab


def names(**hex_by_name: str) -> ColourNames:
    table = {}
    for name, hex_colour in hex_by_name.items():
        lightness, a, b = srgb_to_lab(hex_colour)
        table[tuple(name.split("_"))] = (lightness / 100, a / 100, b / 100, 1.0)
    return ColourNames(table)


def test_names_go_to_the_nearest_palette_colour_unless_ambiguous_foreign_or_held_out() -> None:
    table = names(
        fire_red="#e01010",  # next to the palette's red
        leaf="#20c040",  # next to green
        crimson="#dc143c",  # red, but held out
        pink_red="#e02020",  # red, but a hue the palette lacks is named
        sea_blue="#23a0e4",  # halfway between blue and cyan
    )
    chosen = survey_colour_words({"crimson"}, table)
    assert chosen["red"] == ["fire red"]
    assert chosen["green"] == ["leaf"]
    assert sum(len(words) for words in chosen.values()) == 2


def test_every_palette_colour_gets_survey_names_and_none_is_held_out() -> None:
    chosen = survey_colour_words(PARAPHRASE_COLOURS.values())
    assert all(len(words) >= 5 for words in chosen.values()), chosen
    held_out = set(PARAPHRASE_COLOURS.values())
    assert not any(held_out & set(name.split()) for words in chosen.values() for name in words)
    assert "scarlet" in chosen["red"] and "turquoise" in chosen["cyan"]
