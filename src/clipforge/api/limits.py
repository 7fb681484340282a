"""Per-key limits and request size: requests per minute and queued jobs (429 with
Retry-After), and the request body size (413), all from settings."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clipforge.errors import RateLimited
from clipforge.schemas import JobStatus
from clipforge.store.base import JobStore
from clipforge.store.filters import JobFilter

WINDOW_SECONDS = 60.0
QUEUE_RETRY_AFTER_SECONDS = 10


class RateLimiter:
    """A sliding one-minute window of request times per key (in memory, per process)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key_id: str, per_minute: int | None) -> None:
        """Count one request for `key_id`; RateLimited if it is over `per_minute`."""
        if per_minute is None:
            return
        now = self._clock()
        with self._lock:
            seen = self._seen.setdefault(key_id, deque())
            while seen and seen[0] <= now - WINDOW_SECONDS:
                seen.popleft()
            if len(seen) >= per_minute:
                retry_after = max(1, math.ceil(seen[0] + WINDOW_SECONDS - now))
                raise RateLimited(
                    f"rate limit: {per_minute} requests per minute for this API key", retry_after
                )
            seen.append(now)


def check_queue(store: JobStore, key_id: str, max_queued: int | None) -> None:
    """RateLimited when `key_id` already has `max_queued` jobs waiting."""
    if max_queued is None:
        return
    waiting = store.count_jobs(JobFilter(statuses=(JobStatus.QUEUED,), owner=key_id))
    if waiting >= max_queued:
        message = f"this API key already has {waiting} queued jobs (limit {max_queued})"
        raise RateLimited(message, QUEUE_RETRY_AFTER_SECONDS)


class BodyLimitMiddleware:
    """413 for a body over `limit` bytes: by Content-Length at once, else while reading."""

    def __init__(self, app: ASGIApp, limit: Callable[[], int]) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit()
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            from clipforge.api.errors import error_response

            message = f"request body is larger than {limit} bytes"
            response = error_response(Request(scope), 413, message, param="body")
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, f"request body is larger than {limit} bytes")
            return message

        await self.app(scope, counted, send)
