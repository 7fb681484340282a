"""Appends benchmark results, with the machine they ran on, to docs/BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "docs" / "BENCHMARKS.md"
HEADER = "# Benchmarks\n\nWritten by the scripts in `bench/` (`--record`); newest last.\n"


def machine_description() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def record_rows(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], machine: str
) -> None:
    """Append one dated table to docs/BENCHMARKS.md."""
    if not BENCHMARKS.exists():
        BENCHMARKS.parent.mkdir(parents=True, exist_ok=True)
        BENCHMARKS.write_text(HEADER)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"\n## {title}\n", f"{stamp}; machine: {machine}\n"]
    lines.append("| " + " | ".join(columns) + " |")
    lines.append("|" + "---|" * len(columns))
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    with BENCHMARKS.open("a") as out:
        out.write("\n".join(lines) + "\n")
