"""What the sync and async clients share: configuration, retries, error mapping, request bodies.

Nothing here does I/O, so `Client` and `AsyncClient` differ only in how they wait and send.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from clipforge import __version__
from clipforge.client._models import Job, Model
from clipforge.errors import (
    ApiConnectionError,
    ApiError,
    AuthenticationError,
    BadRequestError,
    JobFailedError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    WaitTimeoutError,
)

DEFAULT_MODEL = "bytedance/seedance-1-0-pro-t2v"
DEFAULT_URL = "http://127.0.0.1:8000"
URL_VARIABLE, KEY_VARIABLE = "CLIPFORGE_URL", "CLIPFORGE_API_KEY"
"""What the SDK and the CLI read from the environment when not told (the server's own
settings are `clipforge.settings`, which the SDK never imports)."""
CREATE_PATH = "/v1/jobs"
"""The native create: the AI/ML body as JSON, or as a form whose images are file parts."""
USER_AGENT = f"clipforge-python/{__version__}"

ERRORS_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}

ProgressCallback = Callable[[Job], object]
"""on_progress(job): called with each job snapshot whose status, step or queue place changed."""


INSUFFICIENT_STORAGE = 507
"""The server's storage quota is reached: waiting alone does not fix it, so not retried."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter for connection errors, 429 and 5xx (507 excepted)."""

    max_retries: int = 3
    base_delay: float = 0.25
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds before retry number `attempt` (0-based): the server's Retry-After when it
        sent one, else base * 2**attempt (capped) scaled by a random 50-100 %."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        ceiling = min(self.max_delay, self.base_delay * 2**attempt)
        return ceiling * (0.5 + random.random() / 2)

    def next_delay(self, attempt: int, outcome: httpx.Response | Exception) -> float | None:
        """How long to wait before trying again, or None to stop here."""
        if attempt >= self.max_retries:
            return None
        if isinstance(outcome, Exception):
            return self.delay(attempt)
        status = outcome.status_code
        if status == 429 or (status >= 500 and status != INSUFFICIENT_STORAGE):
            return self.delay(attempt, retry_after_seconds(outcome))
        return None


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The Retry-After header as seconds (it may be a number or an HTTP date)."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).timestamp() - time.time()
    except (TypeError, ValueError):
        return None


def api_error(response: httpx.Response) -> ApiError:
    """The typed error for an error response whose body has been read."""
    status = response.status_code
    body: object = None
    message = response.text or response.reason_phrase
    with contextlib.suppress(ValueError):
        body = response.json()
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        message = body["message"]
    kind = ServerError if status >= 500 else ERRORS_BY_STATUS.get(status, ApiError)
    request_id = response.headers.get("x-inference-id")
    return kind(status, message, body=body, request_id=request_id)


def connection_error(base_url: str, exc: Exception) -> ApiConnectionError:
    return ApiConnectionError(f"cannot reach {base_url}: {exc or type(exc).__name__}")


ImageSource = str | bytes | os.PathLike[str]
"""An image for `generate(image=..., last_image=...)`: an http(s) or data: URL (sent as it
is), a local file's path (str or Path), or the image's bytes (both uploaded as a file)."""

_SIGNATURES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG": "image/png", b"RIFF": "image/webp"}
_FIELDS = {"image": "image_url", "last_image": "last_image_url"}


def image_file(image: ImageSource) -> tuple[str, bytes, str] | None:
    """`image` as a form's file part (name, bytes, type), or None for a URL (sent as it is)."""
    if isinstance(image, str) and image.startswith(("http://", "https://", "data:")):
        return None
    if isinstance(image, bytes):
        name, data = "image", image
    else:
        path = Path(image)
        name, data = path.name, path.read_bytes()
    kind = next((k for sig, k in _SIGNATURES.items() if data.startswith(sig)), "image/png")
    return name, data, kind


def create_request(
    prompt: str,
    model: str,
    options: dict[str, Any],
    image: ImageSource | None = None,
    last_image: ImageSource | None = None,
) -> dict[str, Any]:
    """The httpx arguments of `generate`'s create: the AI/ML body as JSON, or, when an image
    is a file or bytes, as a multipart form with the image's bytes as a file part (no base64
    on the wire, one copy on the server). Options left as None are not sent."""
    body = {"model": model, "prompt": prompt}
    body.update({name: value for name, value in options.items() if value is not None})
    files = {}
    for name, source in (("image", image), ("last_image", last_image)):
        if source is None:
            continue
        part = image_file(source)
        if part is None:
            body[_FIELDS[name]] = source
        else:
            files[_FIELDS[name]] = part
    if not files:
        return {"json": body}
    return {"data": {name: _form_text(name, value) for name, value in body.items()}, "files": files}


def _form_text(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        raise ValueError(f"{name} cannot be sent beside an image file: give the images as URLs")
    return str(value)


def job_path(job_id: str, suffix: str = "") -> str:
    return f"/v1/jobs/{quote(job_id, safe='')}{suffix}"


def parse_job(response: httpx.Response) -> Job:
    return Job.model_validate_json(response.content)


def parse_jobs(response: httpx.Response) -> list[Job]:
    return [Job.model_validate(item) for item in response.json()["data"]]


def parse_models(response: httpx.Response) -> list[Model]:
    return [Model.model_validate(item) for item in response.json()["data"]]


def require_video(job: Job) -> str:
    """The job's video URL, or JobFailedError saying why there is none."""
    if job.ok and job.video_url:
        return job.video_url
    if job.video_expired:
        raise JobFailedError(
            job, f"generation {job.id} completed, but its video has expired (retention)"
        )
    reason = job.error.message if job.error else job.status
    raise JobFailedError(job, f"generation {job.id} has no video: {reason}")


def partial_path(path: Path) -> Path:
    """Where a download is written before it is renamed into place."""
    return path.with_name(path.name + ".part")


class ClientConfig:
    """Base URL, key and timing of a client; the URL and key default to $CLIPFORGE_URL and
    $CLIPFORGE_API_KEY."""

    def __init__(
        self,
        base_url: str | None,
        api_key: str | None,
        *,
        timeout: float,
        max_retries: int,
        retry_backoff: float,
        poll_interval: float,
    ) -> None:
        if base_url is None:
            base_url = os.environ.get(URL_VARIABLE) or DEFAULT_URL
        if api_key is None:
            api_key = os.environ.get(KEY_VARIABLE) or None
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.retry = RetryPolicy(max_retries=max_retries, base_delay=retry_backoff)
        self.poll_interval = poll_interval

    def headers(self) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def strip_foreign_auth(self, request: httpx.Request) -> httpx.Request:
        """A video link on another host (object storage) never gets the API key."""
        if request.url.netloc != httpx.URL(self.base_url).netloc:
            request.headers.pop("Authorization", None)
        return request


class WaitState:
    """The bookkeeping of wait(): which snapshots to report, and when to give up."""

    def __init__(self, job_id: str, timeout: float | None) -> None:
        self.job_id = job_id
        self.timeout = timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.last_key: tuple[object, ...] | None = None

    def is_news(self, job: Job) -> bool:
        """True the first time a job is seen with this status, step and queue place."""
        key = job.change_key()
        news, self.last_key = key != self.last_key, key
        return news

    def check_deadline(self) -> None:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            message = f"generation {self.job_id} did not finish within {self.timeout} s"
            raise WaitTimeoutError(message)
