"""bench/gpu_check.py: its sections run at toy size on the CPU (--smoke), each under its
budget, and a section with no time left is a row that says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import gpu_check, gpu_check_sections

pytestmark = pytest.mark.timeout(600)  # several small models built and run on a shared CPU


def _rows(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


def test_every_section_has_its_function() -> None:
    for section in gpu_check.SECTIONS:
        assert callable(getattr(gpu_check_sections, section.name.replace("-", "_")))
    assert sum(s.budget_s for s in gpu_check.SECTIONS) <= gpu_check.TOTAL_S <= 570


def test_the_smoke_run_measures_through_the_backend(tmp_path: Path) -> None:
    """GEMM, kernels, Wan 1.3B through DiffusersBackend (its tiny twin, identified by its real
    folder name), a decode plain and tiled against the plan, 14B blocks: every row measured."""
    names = ["gemm", "attention", "wan13-plain", "vae", "blocks14b"]
    gpu_check.main(["--smoke", "--in-process", "--out", str(tmp_path), "--only", *names])
    rows = _rows(tmp_path)
    assert {row["section"] for row in rows} == set(names)
    assert not [row for row in rows if row.get("outcome") in ("FAILED", "OOM")], rows
    (job,) = [row for row in rows if row.get("what") == "plain 480p job"]
    assert job["steps"] == 2 and job["step_s"] > 0 and job["decode_s"] > 0  # type: ignore[operator]
    assert job["mfu_spec"] is not None and job["mfu_gemm"] is not None
    assert [row["entry"] for row in rows if row.get("what") == "plain load"] == ["wan2.1-t2v-1.3b"]
    decodes = [row for row in rows if row["section"] == "vae"]
    assert [row["tiled"] for row in decodes] == [False, True]
    assert all(row["plan_estimate_gib"] > 0 for row in decodes)  # type: ignore[operator]
    assert "| wan13-plain | plain 480p job |" in (tmp_path / "summary.md").read_text()


def test_a_section_without_time_left_is_a_row_that_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gpu_check, "TOTAL_S", 10.0)  # under MIN_START_S: nothing may start
    gpu_check.main(["--smoke", "--in-process", "--out", str(tmp_path)])
    rows = _rows(tmp_path)
    assert [row["section"] for row in rows] == [s.name for s in gpu_check.SECTIONS]
    assert all(str(row["outcome"]).startswith("skipped") for row in rows)
