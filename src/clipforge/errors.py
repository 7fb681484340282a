"""One exception tree for ClipForge.

```
ClipForgeError
├── RequestError                 a client asked for something we refuse (4xx)
│   ├── InvalidField             400: a field is missing, of the wrong type or out of its enum
│   ├── AuthenticationFailed     401: no bearer key, or not a known one
│   ├── LinkRefused              403: a file link that was tampered with or has expired
│   └── JobNotFound              404: no job with that id
├── JobFailure                   job-level: the job ends in `error` with this message
│   ├── GenerationFailed         the backend could not make the clip
│   ├── ModelUnavailable         no backend or weights for the requested model
│   └── JobCancelled             the job was cancelled while it ran
└── WorkerFailure                worker-level: the worker restarts, the job is retried
```

`api/errors.py` maps the `RequestError` branch to HTTP in one table; the worker sorts
failures into the job-level and worker-level branches (anything unexpected is job-level,
so that a poison job cannot loop forever).
"""

from __future__ import annotations

from collections.abc import Sequence


class ClipForgeError(Exception):
    """Base class of every error ClipForge raises on purpose."""


class RequestError(ClipForgeError):
    """A client request that is refused; carries the HTTP status it maps to."""

    status_code = 400
    code = "BadRequest"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidField(RequestError):
    """A request field is missing, has the wrong type, or is not one of its allowed values."""

    status_code = 400
    code = "InvalidParameter"

    def __init__(self, field: str, problem: str, allowed: Sequence[object] | None = None) -> None:
        message = f"{field}: {problem}"
        if allowed:
            message += f" (allowed: {', '.join(_show(a) for a in allowed)})"
        super().__init__(message, field=field)
        self.allowed = list(allowed or [])


class AuthenticationFailed(RequestError):
    status_code = 401
    code = "AuthenticationError"


class LinkRefused(RequestError):
    status_code = 403
    code = "Forbidden"


class JobNotFound(RequestError):
    status_code = 404
    code = "ResourceNotFound"

    def __init__(self, job_id: str) -> None:
        super().__init__(f"no generation with id {job_id!r}", field="generation_id")
        self.job_id = job_id


class JobFailure(ClipForgeError):
    """The job ends in `error`; `name` is what the API shows in `error.name`."""

    name = "GenerationError"


class GenerationFailed(JobFailure):
    name = "GenerationError"


class ModelUnavailable(JobFailure):
    name = "ModelUnavailable"


class JobCancelled(JobFailure):
    name = "Cancelled"


class WorkerFailure(ClipForgeError):
    """The worker itself is unhealthy (device lost, out of memory); the job is retried."""


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
