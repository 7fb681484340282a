"""What `clipforge worker` runs: settings from the environment and the command line, logging,
then the worker process (`worker/process.py`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from clipforge.settings import Settings


def run_worker_command(
    models: Sequence[str], *, device: str | None = None, backend: str | None = None
) -> int:
    """Returns the process exit code."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    overrides = {"device": device, "backend": backend}
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    from clipforge.worker.process import run_worker_process

    return run_worker_process(settings, models)
