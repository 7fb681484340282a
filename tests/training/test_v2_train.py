"""The v2 recipe: one seeded command that resumes where it stopped, and captions that keep the
evaluation's words out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from training.v2_captions import (
    HELD_OUT_COLOURS,
    OTHER_OBJECTS,
    UNSEEN_OBJECTS,
    paraphrase_content_words,
    random_labelled,
)
from training.vocabulary import SHAPE_WORDS

from clipforge.backends.builtin.v2.colours import colour_table
from training import v2_train


def _run(tmp_path: Path, parser_steps: int, generator_steps: int) -> None:
    v2_train.main(
        [
            f"--parser-steps={parser_steps}",
            f"--generator-steps={generator_steps}",
            "--parser-batch=4",
            "--pool=8",
            "--pool-refresh=2",
            "--generator-batch=2",
            "--frames=3",
            "--log-every=1",
            f"--checkpoints={tmp_path / 'checkpoints'}",
            f"--tracked={tmp_path / 'tracked'}",
        ]
    )


def test_training_resumes_where_it_stopped_and_a_copy_is_kept_for_git(tmp_path: Path) -> None:
    _run(tmp_path, 2, 1)
    first = torch.load(tmp_path / "tracked" / "latest.pt", weights_only=False)
    assert (first["parser_step"], first["generator_step"]) == (2, 1)
    _run(tmp_path, 3, 3)
    saved = torch.load(tmp_path / "checkpoints" / "latest.pt", weights_only=False)
    assert (saved["parser_step"], saved["generator_step"]) == (3, 3)
    lines = (tmp_path / "checkpoints" / "log.tsv").read_text().splitlines()
    # Resumed at steps 2 and 1: each stage logs each step once, losses finite.
    assert [line.split("\t")[:2] for line in lines] == [
        ["parser", "1"],
        ["generator", "1"],
        ["parser", "2"],
        ["parser", "3"],
        ["generator", "2"],
        ["generator", "3"],
    ]
    assert all(np.isfinite(float(v)) for line in lines for v in line.split("\t")[2:-1])


def test_training_captions_never_use_held_out_colours_or_paraphrase_words() -> None:
    rng = np.random.default_rng(0)
    table = colour_table()
    forbidden = paraphrase_content_words()
    for _ in range(2000):
        item = random_labelled(rng)
        assert not set(item.text.replace(",", " ").split()) & forbidden, item.text
        for mention in table.mentions(item.text):
            assert mention.name not in HELD_OUT_COLOURS, item.text
        if item.colour_span:
            named = item.text[slice(*item.colour_span)]
            assert named in table.names and named not in HELD_OUT_COLOURS


def test_the_unknown_objects_of_evaluation_and_tests_are_never_training_nouns() -> None:
    training_words = {w for noun in OTHER_OBJECTS for w in noun.split()}
    assert not training_words & set(UNSEEN_OBJECTS)
    for shape_words in SHAPE_WORDS.values():
        assert not {w for noun in shape_words for w in noun.split()} & set(UNSEEN_OBJECTS)
