"""What `clipforge worker` runs: settings from the environment and the command line, logging,
then the worker process (`worker/process.py`)."""

from __future__ import annotations

from collections.abc import Sequence

from clipforge.logs import configure_logging
from clipforge.settings import Settings


def run_worker_command(
    models: Sequence[str],
    *,
    device: str | None = None,
    backend: str | None = None,
    metrics: tuple[str, int] | None = None,
) -> int:
    """Returns the process exit code. `metrics`: (host, port) to serve /metrics on."""
    overrides = {"device": device, "backend": backend}
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    configure_logging(settings.log_format)
    from clipforge.wiring import callback_sender
    from clipforge.worker.process import run_worker_process

    return run_worker_process(settings, models, metrics, sidecars=(callback_sender,))
