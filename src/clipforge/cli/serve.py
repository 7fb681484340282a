"""`clipforge serve`: check the configuration, load the model, then run the API and workers."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import uvicorn

from clipforge.api.access import is_loopback, open_mode_problem
from clipforge.api.http.serving import uvicorn_options
from clipforge.errors import ClipForgeError
from clipforge.logs import configure_logging
from clipforge.routing import ModelRouting
from clipforge.settings import Environment, Settings
from clipforge.wiring import build_server

log = logging.getLogger(__name__)

NO_MODEL = "No weights are configured for the diffusers backend: no model id is served.\n\n"
HOW_TO_CONFIGURE = """\
Point ClipForge at a diffusers text-to-video pipeline (Wan 2.1/2.2, LTX-Video):
    clipforge serve --model /path/to/Wan2.1-T2V-1.3B-Diffusers
or set CLIPFORGE_MODEL (a local folder, or a hub id on a machine that can reach the hub).
Without --model, `clipforge serve` runs ClipForge's small built-in model.

To try the service without real weights:
    python -m clipforge.backends.diffusers.tiny wan ./tiny-wan  # tiny random-weight model (noise)
    CLIPFORGE_NATIVE_SHORT_SIDE=32 CLIPFORGE_NUM_INFERENCE_STEPS=4 \\
        clipforge serve --model ./tiny-wan
or serve a synthetic test pattern: clipforge serve --backend testpattern
"""


def run_server(overrides: dict[str, Any]) -> int:
    """Returns the process exit code."""
    settings = Settings(**overrides)
    configure_logging(settings.log_format)
    logging.getLogger("uvicorn").setLevel(logging.WARNING)
    say = _Say(settings.log_format == "json")
    server = build_server(settings)
    keyed = bool(settings.api_keys) or server.store.ever_keyed()
    refusal = _refusal(settings, server.models, keyed)
    if refusal:
        say.error(refusal)
        return 2
    open_problem = open_mode_problem(settings, server.store)
    if open_problem:
        say.error(f"refusing to start: {open_problem}\n")
        return 2
    if not keyed and not is_loopback(settings.host):
        warning = (
            f"CLIPFORGE_OPEN_ACCESS is on and no API key exists: anyone who reaches "
            f"{settings.host} can use this server"
        )
        say.warning(f"\n{'!' * 78}\nWARNING: {warning}\n{'!' * 78}\n\n")
    backend = server.models.backend
    if settings.workers:
        say.info(f"loading backend {backend!r}{_weights_note(server.models)}\n")
        if len(set(server.devices.devices)) > 1:
            say.info(f"workers on {', '.join(server.devices.devices)}\n")
        if server.devices.note:
            say.warning(f"{server.devices.note}\n")
        try:
            server.pool.warm_up()
        except ClipForgeError as exc:
            say.error(f"cannot load the model: {exc}\n\n{HOW_TO_CONFIGURE}")
            return 2
    address = f"http://{settings.host}:{settings.port}"
    say.out(f"ClipForge ({backend}) listening on {address}\n  API docs: {address}/docs\n")
    uvicorn.run(
        server.app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        **uvicorn_options(settings),
    )
    return 0


class _Say:
    """What serve tells the person who started it: plain text on stderr (the address on
    stdout), or with CLIPFORGE_LOG_FORMAT=json log records like every other line."""

    def __init__(self, as_log: bool) -> None:
        self.as_log = as_log

    def _emit(self, level: int, text: str, stream: TextIO) -> None:
        if self.as_log:
            log.log(level, "%s", text.strip().strip("!").strip())
        else:
            stream.write(text)
            stream.flush()

    def error(self, text: str) -> None:
        self._emit(logging.ERROR, text, sys.stderr)

    def warning(self, text: str) -> None:
        self._emit(logging.WARNING, text, sys.stderr)

    def info(self, text: str) -> None:
        self._emit(logging.INFO, text, sys.stderr)

    def out(self, text: str) -> None:
        self._emit(logging.INFO, text, sys.stdout)


def _refusal(settings: Settings, models: ModelRouting, stored_keys: bool) -> str | None:
    problems = settings.check_safe(stored_keys)
    if problems and settings.environment is Environment.PRODUCTION:
        return "refusing to start in production: " + "; ".join(problems) + "\n"
    if settings.workers and models.backend == "diffusers" and not models.ids:
        return NO_MODEL + HOW_TO_CONFIGURE
    return None


def _weights_note(models: ModelRouting) -> str:
    """` (weights)` as the start-up line names them: the built-in model's shipped ones, the
    configured ones, or none (testpattern draws without weights)."""
    weights = sorted({m.weights for m in models if m.weights})
    if weights:
        return f" ({', '.join(weights)})"
    return " (shipped weights)" if models.backend == "builtin" else ""
