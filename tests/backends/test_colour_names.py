"""Colour names in prompts: the table, the matching, and the features the reader gets."""

from __future__ import annotations

import pytest
import torch

from clipforge.backends.builtin.attention import TextCondition
from clipforge.backends.builtin.attributes import AttributeReader
from clipforge.backends.builtin.colour_names import (
    COLOUR_FEATURES,
    ColourNames,
    colour_names,
    srgb_to_lab,
)
from clipforge.backends.builtin.text import TextEncoder

SMALL = ColourNames(
    {
        ("blue",): (0.3, 0.7, -1.1, 1.0),
        ("sky", "blue"): (0.8, -0.1, -0.3, 1.0),
        ("dark", "sky", "blue"): (0.6, 0.0, -0.5, 1.0),
        ("apricot",): (0.8, 0.2, 0.5, 1.0),
    }
)


@pytest.mark.parametrize(
    ("hex_colour", "lab"),
    [("#ffffff", (100.0, 0.0, 0.0)), ("#000000", (0.0, 0.0, 0.0)), ("#ff0000", (53.2, 80.1, 67.2))],
)
def test_srgb_to_lab_matches_the_cielab_reference_values(
    hex_colour: str, lab: tuple[float, float, float]
) -> None:
    assert srgb_to_lab(hex_colour) == pytest.approx(lab, abs=0.2)


def test_the_longest_name_wins_and_other_words_carry_nothing() -> None:
    text = "A Dark-Sky Blue ball, then a blue cube and a bluish cone"
    spans = SMALL.spans(text)
    assert [(text[start:end], features) for start, end, features in spans] == [
        ("Dark-Sky Blue", SMALL.table[("dark", "sky", "blue")]),
        ("blue", SMALL.table[("blue",)]),
    ]


def test_every_token_of_a_name_gets_its_colour_and_no_other_token_does() -> None:
    # "an apricot cube" as a WordPiece tokenizer splits it: [CLS] an apr ##ico ##t cube [SEP] pad
    offsets = torch.tensor([[[0, 0], [0, 2], [3, 6], [6, 9], [9, 10], [11, 15], [0, 0], [0, 0]]])
    features = SMALL.features(["an apricot cube"], offsets)
    assert features.shape == (1, 8, COLOUR_FEATURES)
    named = features[0, :, -1].nonzero().flatten().tolist()
    assert named == [2, 3, 4]
    assert features[0, 2].tolist() == pytest.approx(SMALL.table[("apricot",)])


def test_the_shipped_table_holds_the_survey_names_in_lab() -> None:
    table = colour_names().table
    assert len(table) == 938  # 949 names; 11 differ from another only by a slash
    lightness, a, _, flag = table[("crimson",)]
    assert flag == 1.0 and a > 0.4 and lightness < 0.4  # a dark, strongly red colour
    assert table[("white",)][0] > table[("grey",)][0] > table[("black",)][0]


def test_the_encoder_marks_colour_words_in_real_prompts() -> None:
    encoder = TextEncoder()
    texts = [
        "a clip showing one crimson orb drifting to the left",
        "an apricot cube under a dark sky blue arch",
        "a ball",
    ]
    text = encoder.encode(texts)
    named = text.colours[..., -1] > 0
    assert not (named & ~text.mask).any()  # padding and truncated tails carry nothing
    for row, expected in enumerate([["crimson"], ["apricot", "dark sky blue"], []]):
        tokens = encoder.tokenizer.convert_ids_to_tokens(encoder.tokenizer(texts[row])["input_ids"])
        words = encoder.tokenizer.convert_tokens_to_string(
            [tokens[i] if named[row, i] else "|" for i in range(len(tokens))]
        )
        assert [w.strip() for w in words.split("|") if w.strip()] == expected
    apricot = colour_names().table[("apricot",)]
    pieces = text.colours[1, named[1]]
    assert len(pieces) > 4  # 4 words, in more pieces: "apricot" is split
    assert pieces[0].tolist() == pytest.approx(apricot)


def test_the_unconditional_rows_carry_no_colours_and_repeats_keep_them() -> None:
    colours = torch.rand(2, 3, COLOUR_FEATURES)
    text = TextCondition(torch.zeros(2, 8), torch.randn(2, 3, 8), torch.ones(2, 3).bool(), colours)
    empty = TextCondition.plain(torch.ones(2, 8), torch.ones(2, 1, 8), torch.ones(2, 1).bool())
    mixed = text.where(torch.tensor([True, False]), empty)
    assert torch.equal(mixed.colours[0], colours[0])
    assert not mixed.colours[1].any()
    assert torch.equal(text.repeat(2).colours, torch.cat([colours, colours]))


def reader_reading_colours(classes: dict[str, tuple[str, ...]]) -> AttributeReader:
    torch.manual_seed(0)
    reader = AttributeReader(classes, text_dim=8, cond_dim=4)
    with torch.no_grad():
        reader.colour_names[-1].weight.normal_()  # the layer into the tokens starts at zero
    return reader


def test_the_reader_reads_a_colour_name_as_its_table_colour() -> None:
    reader = reader_reading_colours({"colour": ("red", "blue")})
    plain = TextCondition.plain(torch.zeros(1, 8), torch.randn(1, 3, 8), torch.ones(1, 3).bool())
    named = []
    for lab in ((0.5, 0.8, 0.7), (0.3, 0.8, -1.0)):
        colours = torch.zeros(1, 3, COLOUR_FEATURES)
        colours[0, 1] = torch.tensor([*lab, 1.0])
        named.append(TextCondition(plain.pooled, plain.tokens, plain.mask, colours))
    with torch.no_grad():
        before = reader(plain)
        assert not torch.allclose(reader(named[0]), reader(named[1]), atol=1e-3)
        reader.colour_names[-1].weight.normal_()
        assert torch.equal(reader(plain), before)  # prompts without colour names: MiniLM alone


def test_a_named_colour_is_read_from_the_table_alone_and_other_attributes_from_minilm() -> None:
    reader = reader_reading_colours({"colour": ("red", "blue"), "motion": ("left", "right")})
    colours = torch.zeros(2, 4, COLOUR_FEATURES)
    colours[:, 2] = torch.tensor([0.5, 0.8, 0.7, 1.0])  # the same colour name in both prompts
    mask = torch.ones(2, 4, dtype=torch.bool)
    text = TextCondition(torch.zeros(2, 8), torch.randn(2, 4, 8), mask, colours)
    with torch.no_grad():
        logits = reader.logits(text)
    assert torch.allclose(logits["colour"][0], logits["colour"][1], atol=1e-6)
    assert not torch.allclose(logits["motion"][0], logits["motion"][1], atol=1e-3)
