"""The copy of the seed's client must be the seed's client."""

from __future__ import annotations

from pathlib import Path

from tests.clients.seed_client import HOSTED_BASE, TEMPLATE, swapped_source

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"


def _seed_lines() -> set[str]:
    text = "\n".join(p.read_text() for p in sorted(SEEDS.glob("*.txt")))
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
