"""Ark `callback_url` notifications: the task object POSTed on every status change.

A dispatcher thread in the server process looks for jobs whose status differs from the last
one notified (the store keeps both, so a change made by a worker in another process is seen
too) and hands each to a small pool of delivery threads; neither the workers nor the event
loop ever wait on a receiver. One job has at most one delivery in flight, so its receiver
hears its statuses in order; a status that lasted less than one poll may be skipped.

Each POST carries `X-ClipForge-Signature: sha256=<hex>`, the HMAC-SHA256 of the exact body
bytes under the server's signing secret (see README, "Callbacks"). A receiver acknowledges
with any 2xx within `callback_timeout_seconds`; a terminal status that is not acknowledged
is retried `callback_retries` times (backing off 0.5 s, 1 s, 2 s, ...), others are sent once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from clipforge.api.ark import task_out
from clipforge.api.deps import Services
from clipforge.api.urls import check_url_now
from clipforge.errors import InvalidField
from clipforge.schemas import Job

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-ClipForge-Signature"
POLL_SECONDS = 0.2
DELIVERY_THREADS = 4
FIRST_BACKOFF_SECONDS = 0.5


def sign(secret: bytes, body: bytes) -> str:
    """The signature header's value for `body`: `sha256=` and the hex HMAC-SHA256."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class CallbackDispatcher:
    """A `BackgroundService`: polls for status changes and delivers them off-thread."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._stop = threading.Event()
        self._in_flight: set[str] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None

    def start(self) -> None:
        self._stop.clear()
        self._pool = ThreadPoolExecutor(DELIVERY_THREADS, thread_name_prefix="callback")
        self._thread = threading.Thread(target=self._run, name="callbacks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def dispatch_once(self) -> int:
        """Hand every pending notification without one in flight to the pool; how many."""
        assert self._pool is not None, "start() first"
        handed = 0
        for job, url in self.services.store.pending_notifications():
            with self._lock:
                if job.id in self._in_flight:
                    continue
                self._in_flight.add(job.id)
            self._pool.submit(self._deliver, job, url)
            handed += 1
        return handed

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                self.dispatch_once()
            except Exception:  # the next poll tries again
                log.exception("callback dispatch failed")

    def _deliver(self, job: Job, url: str) -> None:
        try:
            body = task_out(job, self.services).model_dump_json().encode()
            attempts = 1 + (
                self.services.settings.callback_retries if job.status.is_terminal else 0
            )
            if not self._post(url, body, attempts):
                log.warning("callback %s for job %s not acknowledged", url, job.id)
            self.services.store.mark_notified(job.id, job.status)
        finally:
            with self._lock:
                self._in_flight.discard(job.id)

    def _post(self, url: str, body: bytes, attempts: int) -> bool:
        settings = self.services.settings
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(settings.resolved_signing_secret, body),
        }
        for attempt in range(attempts):
            if attempt and self._stop.wait(FIRST_BACKOFF_SECONDS * 2 ** (attempt - 1)):
                return False
            try:
                check_url_now("callback_url", url, settings.url_allowlist)  # resolved again
            except InvalidField as refused:
                log.warning("callback refused: %s", refused.message)
                return False
            try:
                response = httpx.post(
                    url, content=body, headers=headers, timeout=settings.callback_timeout_seconds
                )
                if response.is_success:
                    return True
            except httpx.HTTPError:
                pass
        return False


__all__ = ["SIGNATURE_HEADER", "CallbackDispatcher", "sign"]
