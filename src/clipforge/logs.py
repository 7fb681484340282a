"""Logging for `clipforge serve` and `clipforge worker`: plain text for a terminal (the
default) or, with CLIPFORGE_LOG_FORMAT=json, one JSON object per line with the time, level,
logger and message and, wherever they apply, the request id, job id, attempt, model, worker
and surface.

Those fields live in a context variable: `log_fields(...)` sets them for a block (a request,
a job's run), and every line logged inside it, in any module, carries them. Threads started
for a job and the store's thread pool take the context along (`api/deps.py`).
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

FIELDS = ("request_id", "job_id", "attempt", "model", "worker", "surface")
"""The context fields a JSON line may carry, in this order."""

_fields: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "clipforge_log_fields", default=None
)

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
HANDLER_NAME = "clipforge"


@contextmanager
def log_fields(**fields: Any) -> Iterator[None]:
    """Add `fields` (None values are left out) to every line logged in the block."""
    merged = {**(_fields.get() or {}), **{k: v for k, v in fields.items() if v is not None}}
    token = _fields.set(merged)
    try:
        yield
    finally:
        _fields.reset(token)


def current_fields() -> dict[str, Any]:
    return dict(_fields.get() or {})


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (ISO 8601, UTC, ms), level, logger, message, the
    context fields, and the traceback of an exception as `exception`."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        line: dict[str, Any] = {
            "time": f"{stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = current_fields()
        line |= {name: context[name] for name in FIELDS if name in context}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """Send the process's logs to stderr as `log_format` says ("text" or "json")."""
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(HANDLER_NAME)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
        os.environ.setdefault("TQDM_DISABLE", "1")  # loading bars would break the lines
    else:
        handler.setFormatter(logging.Formatter(PLAIN_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)  # configured twice in one process: once is enough
    root.addHandler(handler)
    root.setLevel(level)
