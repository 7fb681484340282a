"""`clipforge serve`: check the configuration, load the model, then run the API and workers."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

import uvicorn

from clipforge.api.access import is_loopback, open_mode_problem
from clipforge.api.http.serving import uvicorn_options
from clipforge.cli import starting
from clipforge.errors import ClipForgeError
from clipforge.logs import configure_logging
from clipforge.routing import ModelRouting
from clipforge.settings import Settings
from clipforge.settings.server import Environment
from clipforge.wiring import Server, build_server
from clipforge.worker.runner import Worker

log = logging.getLogger(__name__)
_IMPORTED = time.monotonic()

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
    """Returns the process exit code. The API listens before the model is loaded: each worker
    loads it in its own thread (the queue accepts meanwhile), and a model that cannot load
    stops the server with exit code 2."""
    settings = Settings(**overrides)
    configure_logging(settings.log_format)
    logging.getLogger("uvicorn").setLevel(logging.WARNING)
    say = _Say(settings.log_format == "json")
    starting.mark_starting(settings.port)
    try:
        return _serve(settings, say)
    finally:
        starting.clear(settings.port)


def _serve(settings: Settings, say: _Say) -> int:
    server = build_server(settings)
    keyed = bool(settings.api_keys) or server.store.ever_keyed()
    refusal = _refusal(settings, server.models, keyed)
    open_problem = open_mode_problem(settings, server.store)
    if refusal or open_problem:
        say.error(refusal or f"refusing to start: {open_problem}\n")
        return 2
    if not keyed and not is_loopback(settings.host):
        warning = (
            f"CLIPFORGE_OPEN_ACCESS is on and no API key exists: anyone who reaches "
            f"{settings.host} can use this server"
        )
        say.warning(f"\n{'!' * 78}\nWARNING: {warning}\n{'!' * 78}\n\n")
    for key in server.models.unserved_adapter_keys():
        say.warning(f"CLIPFORGE_LORAS: {key!r} names no served model's weights (docs/LORA.md)\n")
    if settings.workers:
        if len(set(server.devices.devices)) > 1:
            say.info(f"workers on {', '.join(server.devices.devices)}\n")
        if server.devices.note:
            say.warning(f"{server.devices.note}\n")
    config = uvicorn.Config(
        server.app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        **uvicorn_options(settings),
    )
    uv = uvicorn.Server(config)
    startup = _Startup(say, server, settings, uv)
    if settings.workers:
        server.pool.on_warm = startup.warmed
        server.pool.warm_after.clear()
    threading.Thread(target=startup.announce, name="ready-line", daemon=True).start()
    uv.run()
    return startup.exit_code


class _Startup:
    """The ready line once the port listens, then the model's warm-up (or its failure)."""

    def __init__(self, say: _Say, server: Server, settings: Settings, uv: uvicorn.Server):
        self.say, self.server, self.settings, self.uv = say, server, settings, uv
        self.exit_code = 0
        self._warm_said = False
        self._lock = threading.Lock()

    def announce(self) -> None:
        while not self.uv.started:
            if self.uv.should_exit:
                self.server.pool.warm_after.set()
                return
            time.sleep(0.02)
        starting.clear(self.settings.port)
        self.say.out(ready_line(self.settings, self.server.models, since_start()))
        self.server.pool.warm_after.set()

    def warmed(self, worker: Worker, failure: BaseException | None) -> None:
        with self._lock:
            if failure is not None:
                self._stop_for(failure)
            elif not self._warm_said:
                self._warm_said = True
                device = getattr(worker.warm.backend, "device", None)
                where = f" on {device}" if device is not None else ""
                taken = since_start()
                self.say.info(f"model warm{where}: ready to generate ({taken:.1f} s)\n")

    def _stop_for(self, failure: BaseException) -> None:
        if self.exit_code:
            return
        if isinstance(failure, ClipForgeError):
            self.say.error(f"cannot load the model: {failure}\n\n{HOW_TO_CONFIGURE}")
            self.exit_code = 2
        else:
            log.error("cannot load the model", exc_info=failure)
            self.exit_code = 1
        self.uv.should_exit = True


def since_start() -> float:
    """Seconds since this process started (Linux: from /proc; elsewhere since this import)."""
    try:
        fields = Path("/proc/self/stat").read_text().rpartition(")")[2].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.monotonic() - _IMPORTED


def ready_line(settings: Settings, models: ModelRouting, seconds: float) -> str:
    """The one line `serve` prints when it listens: where, what, on what, and how fast."""
    address = f"http://{settings.host}:{settings.port}"
    weights = _weights_note(models).strip() or "(no weights)"
    warming = "; the model warms in the background" if settings.workers else "; no workers"
    return (
        f"ClipForge ready at {address} in {seconds:.1f} s: backend {models.backend!r} "
        f"{weights}, device {settings.device}{warming} (studio {address}/, API docs /docs)\n"
    )


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
