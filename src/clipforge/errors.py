"""One exception tree for ClipForge.

```
ClipForgeError
├── RequestError                 a client asked for something we refuse (4xx)
│   ├── InvalidField             400: a field is missing, of the wrong type or out of its enum
│   ├── AuthenticationFailed     401: no bearer key, or not a known one
│   ├── LinkRefused              403: a file link that was tampered with or has expired
│   ├── JobNotFound              404: no job with that id
│   ├── ModelNotFound            404: no served model by that name (GET /v1/models/{id})
│   ├── StoredFileGone           410: a job's stored file (video, frame) is no longer there
│   ├── IdempotencyKeyReused     422: an Idempotency-Key sent again with another body
│   ├── RateLimited              429: too many requests or queued jobs for this key
│   │   └── QueueFull            429: this key's queued-job cap is reached (raised by the store)
│   └── StorageQuotaExceeded     507: the data folder or bucket prefix holds its quota
├── JobFailure                   job-level: the job ends in `error` with this message
│   ├── GenerationFailed         the backend could not make the clip
│   └── ModelUnavailable         no backend or weights for the requested model
│       └── AdapterUnavailable   a LoRA adapter a job names could not be loaded
├── JobCancelled                 the job was cancelled (or taken over) while it ran: the
│                                worker stops and writes nothing, the store already says so
├── WorkerFailure                worker-level: the worker restarts, the job is retried
├── StorageUnavailable           infrastructure: storage or scratch cannot be written or
│                                reached; the job goes back to the queue uncounted, the
│                                worker pauses, the API answers 503 with Retry-After
└── ClientError                  the SDK and CLI: a call to a server did not give what it asked
    ├── ApiConnectionError       the server could not be reached or did not answer in time
    ├── ApiError                 the server answered with an error status (any other 4xx)
    │   ├── BadRequestError      400
    │   ├── AuthenticationError  401
    │   ├── PermissionDeniedError 403
    │   ├── NotFoundError        404
    │   ├── RateLimitError       429
    │   └── ServerError          5xx
    ├── JobFailedError           the job ended in error or was cancelled: no video to download
    └── WaitTimeoutError         the job did not finish within the time given to wait()
```

`api/http/errors.py` maps the `RequestError` branch to HTTP in one table (and
`StorageUnavailable` to 503); the worker sorts failures into the job-level, worker-level and
infrastructure branches (anything unexpected is job-level, so that a poison job cannot loop
forever, unless `files/faults.py` classifies it as a storage fault) and stops quietly on
`JobCancelled`. The client
(`clipforge.client`) maps HTTP back to the `ClientError` branch in one table, and retries
connection errors, 429 and 5xx first.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence


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

    def __init__(
        self,
        field: str,
        problem: str,
        allowed: Sequence[object] | None = None,
        given: object = None,
    ) -> None:
        message = f"{field}: {problem}"
        if allowed:
            message += f" (allowed: {', '.join(_show(a) for a in allowed)})"
            message += "" if given is None else did_you_mean(given, allowed)
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

    def __init__(self, job_id: str, field: str = "generation_id") -> None:
        super().__init__(f"no generation with id {job_id!r}", field=field)
        self.job_id = job_id


class ModelNotFound(RequestError):
    status_code = 404
    code = "ResourceNotFound"

    def __init__(self, name: str) -> None:
        super().__init__(f"no model {name!r} is served here (GET /v1/models lists them)")


class StoredFileGone(RequestError):
    """A job exists but a file it stored is gone (removed by hand, lost with a volume)."""

    status_code = 410
    code = "ResourceGone"

    def __init__(self, what: str, field: str | None = None) -> None:
        super().__init__(f"{what} is no longer stored here", field=field)


class IdempotencyKeyReused(RequestError):
    """The same Idempotency-Key came with a different body: the first job is not repeated."""

    status_code = 422
    code = "IdempotencyKeyReused"

    def __init__(self, job_id: str) -> None:
        super().__init__(
            f"Idempotency-Key was already used with a different request body (job {job_id})",
            field="Idempotency-Key",
        )
        self.job_id = job_id


class RateLimited(RequestError):
    """429; `retry_after` (seconds) goes into the Retry-After header."""

    status_code = 429
    code = "RateLimitExceeded"

    def __init__(self, message: str, retry_after: int, limit_name: str = "rate") -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.limit_name = limit_name
        """Which limit refused it (the metrics' label): rate, queue or auth_throttle."""


class QueueFull(RateLimited):
    """The caller already has `limit` queued jobs; raised by the store inside the create's
    transaction, so concurrent creates (on any API replica) cannot pass the cap together."""

    RETRY_AFTER_SECONDS = 10

    def __init__(self, waiting: int, limit: int) -> None:
        message = f"this API key already has {waiting} queued jobs (limit {limit})"
        super().__init__(message, self.RETRY_AFTER_SECONDS, limit_name="queue")
        self.waiting, self.limit = waiting, limit


class StorageQuotaExceeded(RequestError):
    """New jobs are refused while the stored files hold `quota` bytes or more
    (CLIPFORGE_STORAGE_QUOTA_BYTES): refused at once, before the disk is full."""

    status_code = 507
    code = "InsufficientStorage"

    def __init__(self, used: int, quota: int) -> None:
        super().__init__(
            f"storage quota reached: {used} of {quota} bytes in use; no new jobs until "
            "files are removed (finished jobs deleted or expired by retention)"
        )
        self.used, self.quota = used, quota


class JobFailure(ClipForgeError):
    """The job ends in `error`; `name` is what the API shows in `error.name`."""

    name = "GenerationError"


class GenerationFailed(JobFailure):
    name = "GenerationError"


class ModelUnavailable(JobFailure):
    name = "ModelUnavailable"


class AdapterUnavailable(ModelUnavailable):
    """A declared LoRA adapter could not be loaded (missing file, shapes or keys of another
    model): the worker records it and stays up; a job naming it ends in error."""


class JobCancelled(ClipForgeError):
    """Raised by a worker's progress callback once its claim is gone (cancelled, or taken
    over by another worker): not a failure, so nothing is written for the job."""


class WorkerFailure(ClipForgeError):
    """The worker itself is unhealthy (device lost, out of memory); the job is retried."""


class StorageUnavailable(ClipForgeError):
    """Infrastructure, never the job's fault: storage or scratch space cannot be written or
    reached (permission, read-only, no space, I/O, an S3 error or timeout). Raised at the
    storage seam (`files/faults.py`). The message names the kind of fault, never a server
    path; `retry_after` (seconds) goes into the 503's Retry-After header."""

    RETRY_AFTER_SECONDS = 10

    def __init__(self, reason: str, retry_after: int = RETRY_AFTER_SECONDS) -> None:
        super().__init__(f"storage unavailable: {reason}")
        self.reason = reason
        self.retry_after = retry_after


class ClientError(ClipForgeError):
    """Something went wrong talking to a ClipForge server (raised by the SDK, never the server)."""


class ApiConnectionError(ClientError):
    """The server could not be reached, or did not answer in time, after the retries."""


class ApiError(ClientError):
    """The server answered with an error status; `message` is its error body's message."""

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        body: object = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(f"HTTP {status_code}: {message}")
        self.status_code = status_code
        self.message = message
        self.body = body
        self.request_id = request_id


class BadRequestError(ApiError):
    """400: a field is missing, of the wrong type or out of its enum (the message names it)."""


class AuthenticationError(ApiError):
    """401: no API key, or not one the server knows."""


class PermissionDeniedError(ApiError):
    """403: a file link that was tampered with or has expired."""


class NotFoundError(ApiError):
    """404: no generation with that id (or no such path)."""


class RateLimitError(ApiError):
    """429: too many requests (retried first, honouring Retry-After)."""


class ServerError(ApiError):
    """5xx: the server failed (retried first)."""


class JobFailedError(ClientError):
    """The generation ended in error or was cancelled, so it has no video; `job` says why."""

    def __init__(self, job: object, message: str) -> None:
        super().__init__(message)
        self.job = job


class WaitTimeoutError(ClientError):
    """The generation did not finish within the time given to wait() (it goes on running)."""


def did_you_mean(given: object, choices: Iterable[object]) -> str:
    """`; did you mean 'x'?` for a near miss among `choices` (a misspelt field or model id);
    "" when nothing is close."""
    names = [_show(choice) for choice in choices]
    close = difflib.get_close_matches(_show(given), names, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
