"""The one-shot GPU check: one call of at most 9.5 minutes on one H100/H200 with no network.

    python bench/gpu_check.py                    # on the GPU machine, from the repo root
    python bench/gpu_check.py --smoke            # toy sizes on a CPU, seconds (tests/bench/)
    python bench/gpu_check.py --only gemm vae    # some sections
    bash bench/gpu_check.sh                      # installs the carried wheels first (below)

Every model is built with random weights at its real size (no download: the same compute and
memory as the trained weights; HF_HUB_OFFLINE=1). The check is a list of sections (`SECTIONS`,
one function each in `gpu_check_sections.py`), each run in a process of its own (diffusers'
attention backend and torch.compile's caches are process-wide) under its own time budget,
cut to what is left of the whole; a section that would start with under `MIN_START_S` left
is skipped with a row saying so. The sections run in order of importance (the issues' rows
first, correctness sweeps last), each with its estimated time on one H100 and why: later work
adds a section by writing its function and inserting a `Section` where its importance puts
it. Output, under `--out` (default `$OUT` or /tmp/gpu-check): one JSON object per measurement
in `results.jsonl`, and `summary.md`, rows for docs/BENCHMARKS.md (also printed at the end).
Exit 0 even when a section fails: its rows say which and why.

The GPU machine reaches no network: bring the Python wheels the image lacks, downloaded here
into `.whl/` (kept out of git: `echo /.whl/ >> .git/info/exclude`) and carried along;
`bench/gpu_check.sh` installs them when an import fails:

    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \\
      --implementation cp --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \\
      -d .whl diffusers==0.42.1 ftfy==6.3.1 wcwidth==0.9.5 pydantic==2.14.4 \\
      pydantic-core==2.50.5 pydantic-settings==2.16.3 python-dotenv==1.2.4 \\
      annotated-types==0.8.0 typing-inspection==0.4.5 typing-extensions==4.16.0
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # `bench.ltx2_forward`

TOTAL_S = float(os.environ.get("GPU_CHECK_TOTAL_S", "540"))
"""The whole check's wall budget: 9 minutes of the 9.5-minute call (installing the carried
wheels and the summary take the rest)."""
MIN_START_S = 20.0
STARTUP_S = 8.0
"""A section's process start (importing torch and diffusers), inside its cap."""


@dataclass(frozen=True)
class Section:
    name: str
    budget_s: float
    """Its own cap (cut to what is left of TOTAL_S)."""
    estimate_s: float
    """What it should take on one H100, process start included (its comment says why)."""
    what: str


SECTIONS: list[Section] = [
    # In order of importance: when earlier sections run long, the last ones are skipped. The
    # estimates through blocks14b (issue 27's and 29's rows) add up to 482 s of TOTAL_S' 540;
    # vae gets what is left (most of its decodes), attention and tiny run only on what earlier
    # sections leave unused.
    # 8 s start + cuBLAS init + 20 GEMMs of 1.1 TFLOP (~2 ms each)
    Section("gemm", 15, 12, "bf16 GEMM TFLOP/s measured here: the second MFU denominator"),
    # start; build and save the random 1.3B folder (~3.5 GB: 15 s); load 10 s; 6 guided steps
    # (12 forwards of 283 TFLOP, ~0.8 s each); the 480p decode (~12 s)
    Section("wan13-plain", 90, 60, "Wan2.1-T2V-1.3B 480p 5 s, the backend, diffusers defaults"),
    # start, load; max-autotune compile of the repeated block (60-90 s); 6 steps; decode
    Section("wan13-tuned", 150, 120, "the same, ClipForge tuned (compile + cuDNN attention)"),
    # start; stage the folder in the hub cache (copy, 5 s); load; a warm-up job (compile mostly
    # from the tuned section's inductor caches, 3 steps of one forward, decode), the timed job
    Section("wan13-fast", 100, 70, "the same, fast profile (3 DMD steps, no guidance)"),
    # as wan13-fast, plus torchao's FP8 quantization (10 s) and compiling its FP8 graphs afresh
    Section("wan13-fast-fp8", 150, 130, "the same, fast profile, FP8 weights (CC >= 8.9)"),
    # start; per version: 19-22B random bf16 weights made on the GPU (~5 s), 4 forwards of
    # ~199 TFLOP (~0.5 s each); 2.3 then 2.0
    Section("ltx2", 60, 35, "LTX-2.3 and 2.0 transformers, 768x512 5 s with sound, a forward"),
    # start; plain, then compiled (autotune of 4 blocks, ~30 s); 3 forwards each
    Section("blocks14b", 60, 55, "four real-width Wan 14B blocks, scaled to 40"),
    # start; four VAEs built on the GPU; 8 decodes at 480p-720p, fp32 Wan ones ~5-10 s each
    Section("vae", 75, 70, "VAE decodes at real sizes, plain and tiled, against the memory plan"),
    # start; 9 kernels, each a warm-up and 3 calls of ~6.6 TFLOP (absent kernels: a row)
    Section("attention", 30, 20, "attention kernels alone at Wan 1.3B's 480p shape and LTX's mask"),
    # start; every entry x 4 profiles of tiny twins, ~2 s each: a correctness sweep, not speed
    Section("tiny", 110, 110, "every catalogue entry's tiny twin on the device, every profile"),
]


class Context:
    """What a section measures with: device, sizes, the clock, and `emit` for its rows."""

    def __init__(self, section: str, out: Path, smoke: bool, deadline: float) -> None:
        import torch

        self.section, self.out, self.smoke, self.deadline = section, out, smoke, deadline
        self.cuda = torch.cuda.is_available() and not smoke
        self.device = torch.device("cuda" if self.cuda else "cpu")
        self.work = out / "work"
        self.work.mkdir(parents=True, exist_ok=True)

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def emit(self, **row: Any) -> None:
        row = {"section": self.section, **row}
        line = json.dumps(row, default=str)
        print("RESULT", line, flush=True)
        with (self.out / "results.jsonl").open("a") as results:
            results.write(line + "\n")

    def sync(self) -> None:
        import torch

        if self.cuda:
            torch.cuda.synchronize()

    def peak_gib(self, reset: bool = False) -> float:
        import torch

        if not self.cuda:
            return 0.0
        value = torch.cuda.max_memory_allocated() / 2**30
        if reset:
            torch.cuda.reset_peak_memory_stats()
        return round(value, 2)

    def spec_tflops(self) -> float:
        """bf16 dense peak from the spec sheet (PEAK_TFLOPS overrides)."""
        import torch

        name = torch.cuda.get_device_name() if self.cuda else ""
        if "PEAK_TFLOPS" in os.environ:
            return float(os.environ["PEAK_TFLOPS"])
        if "PCIe" in name:
            return 756.0
        return 989.0  # H100 SXM, H200

    def gemm_tflops(self) -> float | None:
        """The GEMM rate the `gemm` section measured in this run, if it ran."""
        path = self.out / "gemm.json"
        return json.loads(path.read_text())["tflops"] if path.exists() else None

    def mfu(self, flops: float, seconds: float) -> dict[str, float | None]:
        """Model FLOPs utilisation against the spec peak and the measured GEMM."""
        achieved = flops / seconds / 1e12
        gemm = self.gemm_tflops()
        return {
            "tflops": round(achieved, 1),
            "mfu_spec": round(achieved / self.spec_tflops(), 3),
            "mfu_gemm": round(achieved / gemm, 3) if gemm else None,
        }


def run_section(name: str, out: Path, smoke: bool, seconds: float) -> None:
    """One section, in this process."""
    import gpu_check_sections

    context = Context(name, out, smoke, time.monotonic() + seconds)
    function: Callable[[Context], None] = getattr(gpu_check_sections, name.replace("-", "_"))
    try:
        function(context)
    except Exception as exc:  # its row says why; the next section runs
        context.emit(outcome="FAILED", why=f"{type(exc).__name__}: {exc}"[:400])


def run_all(sections: list[Section], out: Path, smoke: bool, in_process: bool) -> None:
    start = time.monotonic()
    for section in sections:
        left = TOTAL_S - (time.monotonic() - start)
        if left < MIN_START_S:
            _skipped(out, section.name, f"skipped, {left:.0f} s of the check left")
            continue
        cap = min(section.budget_s, left)
        if in_process:
            run_section(section.name, out, smoke, cap)
            continue
        command = [sys.executable, __file__, "--section", section.name, "--out", str(out)]
        command += ["--seconds", str(cap - STARTUP_S)] + (["--smoke"] if smoke else [])
        try:  # a section past its cap is killed: its rows so far stay
            done = subprocess.run(command, timeout=cap, check=False)
            if done.returncode:
                _skipped(out, section.name, f"exit {done.returncode}")
        except subprocess.TimeoutExpired:
            _skipped(out, section.name, f"killed at its {cap:.0f} s cap")


def _skipped(out: Path, name: str, outcome: str) -> None:
    with (out / "results.jsonl").open("a") as results:
        results.write(json.dumps({"section": name, "outcome": outcome}) + "\n")


def summary(out: Path) -> str:
    """results.jsonl as Markdown rows for docs/BENCHMARKS.md."""
    lines = ["| section | what | result |", "|---|---|---|"]
    path = out / "results.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    for row in rows:
        section = row.pop("section")
        what = str(row.pop("what", ""))
        values = ", ".join(f"{k}={v}" for k, v in row.items() if v is not None)
        lines.append(f"| {section} | {what} | {values} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="toy sizes on the CPU")
    parser.add_argument("--only", nargs="*", choices=[s.name for s in SECTIONS])
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "/tmp/gpu-check")))
    parser.add_argument("--in-process", action="store_true", help="no process per section")
    parser.add_argument("--section", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=60.0, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("PYTORCH_CUDA_ALLOC_CONF", "expandable_segments:True")
    options.out.mkdir(parents=True, exist_ok=True)
    if options.section:
        run_section(options.section, options.out, options.smoke, options.seconds)
        return
    chosen = [s for s in SECTIONS if not options.only or s.name in options.only]
    run_all(chosen, options.out, options.smoke, options.in_process)
    text = summary(options.out)
    (options.out / "summary.md").write_text(text)
    print(text, end="")


if __name__ == "__main__":
    main()
