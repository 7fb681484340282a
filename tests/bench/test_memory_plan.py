"""bench/memory_plan.py: the table docs/GPU.md shows, from the memory plan's own numbers."""

from __future__ import annotations

import pytest
from bench.memory_plan import CARDS, cell, main

from clipforge.schemas import Resolution


def test_it_prints_both_cards(capsys: pytest.CaptureFixture[str]) -> None:
    main()
    out = capsys.readouterr().out
    assert "80 GB card" in out and "24 GB card" in out and "`wan2.2-t2v-a14b`" in out


def test_a14b_at_720p_tiles_on_an_h100_and_does_not_load_on_24_gb() -> None:
    # The case: ~64 GiB of weights + ~16-19 GiB of plain decode > 79.6 GiB.
    assert cell("wan2.2-t2v-a14b", Resolution.P720, 5, CARDS["80 GB"]).startswith("tiled")
    assert cell("wan2.1-t2v-1.3b", Resolution.P480, 5, CARDS["80 GB"]).startswith("plain")
    on_24 = cell("wan2.2-t2v-a14b", Resolution.P720, 5, CARDS["24 GB"])
    assert on_24.startswith("offload, ")  # the weights alone are ~64 GiB


def test_fp8_or_int8_transformers_leave_a14b_a_plain_720p_decode() -> None:
    """CLIPFORGE_QUANTIZE halves the transformers' bytes: A14B's 720p decode then fits plain."""
    for mode in ("fp8", "int8"):
        assert cell("wan2.2-t2v-a14b", Resolution.P720, 5, CARDS["80 GB"], mode).startswith("plain")
