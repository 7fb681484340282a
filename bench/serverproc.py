"""`clipforge serve` as a child process for the benchmarks, ready once /healthz answers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx


def start_serve(
    data_dir: Path, port: int, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start the server with extra CLI `args`; kill it and raise if it does not come up."""
    command = [sys.executable, "-m", "clipforge", "serve", "--port", str(port)]
    command += ["--data-dir", str(data_dir), *args]
    process = subprocess.Popen(
        command,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,  # stderr stays: a refusal to start says why there
    )
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError(f"clipforge serve {' '.join(args)} exited ({process.returncode})")
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"clipforge serve {' '.join(args)} did not start")
