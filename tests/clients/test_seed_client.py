"""The copy of the seed's client must be the seed's client."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clients.seed_client import HOSTED_BASE, TEMPLATE, swapped_source


def _seeds_folder() -> Path | None:
    """The project's shared/seeds, beside the checkout (or beside one of its parents)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "shared" / "seeds").is_dir():
            return parent / "shared" / "seeds"
    return None


def _seed_lines() -> set[str]:
    seeds = _seeds_folder()
    if seeds is None:
        pytest.skip("no shared/seeds folder beside this checkout to compare the copy with")
    text = "\n".join(p.read_text() for p in sorted(seeds.glob("*.txt")))
    return {line.strip() for line in text.splitlines() if line.strip()}


def test_every_line_of_the_copy_is_in_the_seed_document() -> None:
    seed = _seed_lines()
    missing = [
        line.strip()
        for line in TEMPLATE.read_text().splitlines()
        if line.strip() and line.strip() not in seed
    ]
    assert not missing


def test_the_swap_changes_only_url_key_and_sleep() -> None:
    original = TEMPLATE.read_text().splitlines()
    swapped = swapped_source("http://127.0.0.1:9", "secret", 0.25).splitlines()
    changed = [(a, b) for a, b in zip(original, swapped, strict=True) if a != b]
    assert len(changed) == 4  # two URLs, the key, the sleep
    assert all(HOSTED_BASE in a or "api_key =" in a or "sleep" in a for a, _ in changed)
