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


def test_every_section_has_its_function_and_the_issue_rows_fit_the_budget() -> None:
    """Caps may add up to more than the whole (the last sections run on what is left), but the
    estimates of every section up to blocks14b (issues 27 and 29's rows) fit in TOTAL_S."""
    for section in gpu_check.SECTIONS:
        assert callable(getattr(gpu_check_sections, section.name.replace("-", "_")))
        assert section.estimate_s <= section.budget_s
    names = [s.name for s in gpu_check.SECTIONS]
    kept = gpu_check.SECTIONS[: names.index("blocks14b") + 1]
    assert {"wan13-fast", "wan13-fast-fp8", "ltx2"} <= {s.name for s in kept}
    assert sum(s.estimate_s for s in kept) <= gpu_check.TOTAL_S <= 570
    assert names[-1] == "tiny"  # a correctness sweep: the first to go


def test_the_smoke_run_measures_through_the_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GEMM, kernels, Wan 1.3B through DiffusersBackend (its tiny twin, identified by its real
    folder name), plain and with its fast profile loaded offline (FP8 refused on a CPU), LTX-2's
    two-stream transformer, a decode plain and tiled against the plan, 14B blocks: every row
    measured."""
    from huggingface_hub import constants

    for name in ("HF_HUB_CACHE", "HF_HUB_OFFLINE"):  # the fast rows stage a hub cache
        monkeypatch.setattr(constants, name, getattr(constants, name))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    names = ["gemm", "attention", "wan13-plain", "wan13-fast", "wan13-fast-fp8", "ltx2", "vae"]
    names.append("blocks14b")
    gpu_check.main(["--smoke", "--in-process", "--out", str(tmp_path), "--only", *names])
    rows = _rows(tmp_path)
    assert {row["section"] for row in rows} == set(names)
    assert not [row for row in rows if row.get("outcome") in ("FAILED", "OOM")], rows
    (fast,) = [row for row in rows if row.get("what") == "fast 480p job"]
    assert fast["steps"] == 3 and fast["forwards_per_step"] == 1  # FastWan's DMD sampler
    assert fast["end_to_end_s"] >= fast["decode_s"] > 0  # type: ignore[operator]
    (fp8,) = [row for row in rows if row.get("what") == "fast+fp8 480p job"]
    assert fp8["outcome"] == "refused on this device" and "8.9" in str(fp8["why"])
    (ltx2,) = [row for row in rows if row["section"] == "ltx2"]
    assert ltx2["seconds_per_forward"] > 0 and 0 < ltx2["sound_share"] < 1  # type: ignore[operator]
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
