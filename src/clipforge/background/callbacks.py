"""Ark `callback_url` notifications: the task object POSTed on every status change.

The store is the outbox: a job whose status differs from the last one notified is pending.
A dispatcher in each API process and each `clipforge worker` leases pending notifications
from the store (so that with several processes on one PostgreSQL each notification goes out
from one of them, and one whose dispatcher died is leased again when the lease ends) and
delivers them on its own event loop, in a thread of its own: neither a job nor the API's
event loop ever waits on a receiver.

Receivers are kept apart: each tenant (the job's API key) has a lane per receiver (scheme,
host and port of the URL), which delivers one notification at a time (so one job's statuses
arrive in order) and holds at most `LANE_DEPTH` waiting. A slow or dead receiver therefore
delays only its own notifications. Connecting is given `CONNECT_TIMEOUT_SECONDS`, the whole
POST `callback_timeout_seconds`. After `PAUSE_AFTER_FAILURES` failed attempts in a row a lane
is paused (30 s, doubling up to 10 min; a log line and `stats.paused` count it): its
notifications wait in the store until the pause ends, and nothing is held meanwhile. Another
tenant's notifications to the same host go on: one tenant cannot pause another's.

Each POST is signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`,
`webhook-signature` over id.timestamp.body: `webhook_headers`) with the webhook secret of the
job's key (`clipforge/signing.py`; during a rotation's grace period with the old one too, both
signatures space-separated), and, for one more release, with `X-ClipForge-Signature:
sha256=<hex>` over the body alone under the current one (see README, "Callbacks"). A receiver
acknowledges with any 2xx; a terminal status that is not acknowledged is retried
`callback_retries` times (backing off 0.5 s, 1 s, 2 s, ...), others are sent once. The URL
is checked again before each attempt and the connection goes to the address that check
resolved (`outbound.py`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from clipforge.errors import InvalidField
from clipforge.logs import log_fields
from clipforge.outbound import pinned, resolve
from clipforge.schemas import Job
from clipforge.settings import Settings
from clipforge.signing import webhook_secrets
from clipforge.store.base import JobStore, Notification
from clipforge.store.tenant import OPEN_OWNER

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-ClipForge-Signature"
POLL_SECONDS = 0.2
BATCH = 100
LANE_DEPTH = 4
CONNECT_TIMEOUT_SECONDS = 2.0
FIRST_BACKOFF_SECONDS = 0.5
PAUSE_AFTER_FAILURES = 5
FIRST_PAUSE_SECONDS = 30.0
LONGEST_PAUSE_SECONDS = 600.0
BUSY_RETRY_SECONDS = 1.0
"""A notification whose receiver's lane is full goes back to the store for this long."""
GIVE_UP_AFTER_SECONDS = 86_400.0
"""A status change not delivered within a day (its receiver paused all along) is dropped."""


def sign(secret: bytes, body: bytes) -> str:
    """The old signature header's value for `body`: `sha256=` and the hex HMAC-SHA256 (kept
    for one release beside the Standard Webhooks headers)."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def webhook_headers(
    secrets: Sequence[bytes], message_id: str, body: bytes, now: float
) -> dict[str, str]:
    """Standard Webhooks headers (standardwebhooks.com): `webhook-id`, `webhook-timestamp`
    (unix seconds) and `webhook-signature`: for each secret, `v1,` and the base64
    HMAC-SHA256 of `id.timestamp.body` under its bytes, space-separated (a receiver accepts
    any one), so that a receiver can refuse a replayed or stale notification."""
    timestamp = str(int(now))
    signed = f"{message_id}.{timestamp}.".encode() + body
    signatures = [
        "v1," + base64.b64encode(hmac.new(secret, signed, hashlib.sha256).digest()).decode()
        for secret in secrets
    ]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": " ".join(signatures),
    }


def receiver(url: str) -> str:
    """The receiver a URL names: scheme, host and port."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{parts.port or ''}"


def owner_of(notification: Notification) -> str:
    """The key whose job it is (jobs made before keys belong to the open tenant)."""
    return notification.job.owner or OPEN_OWNER


@dataclass
class DeliveryStats:
    """Counters of this process's deliveries (what a metrics exporter reads)."""

    delivered: int = 0
    failed: int = 0
    """Notifications given up on (never acknowledged)."""
    paused: int = 0
    """Times a receiver was paused after failing again and again."""


@dataclass
class _Lane:
    name: str
    owner: str
    waiting: deque[Notification] = field(default_factory=deque)
    failures: int = 0
    pauses: int = 0
    paused_until: float = 0.0
    task: asyncio.Task[None] | None = None


@dataclass(frozen=True)
class CallbackContext:
    """What the dispatcher needs from the process that runs it, handed in by the wiring (so
    this package imports no router): the store, the settings, the view a receiver gets of a
    job (the Ark task object), and the event a change sets to wake the dispatcher at once."""

    settings: Settings
    store: JobStore
    view: Callable[[Job], bytes]
    due: threading.Event = field(default_factory=threading.Event)


class CallbackDispatcher:
    """A `BackgroundService`: leases pending notifications and delivers them per receiver."""

    def __init__(self, services: CallbackContext) -> None:
        self.services = services
        self.stats = DeliveryStats()
        self._lanes: dict[tuple[str, str], _Lane] = {}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._client: httpx.AsyncClient | None = None

    @property
    def lease_seconds(self) -> float:
        """Long enough for a full lane to deliver, retries included."""
        settings = self.services.settings
        attempts = 1 + settings.callback_retries
        backoff = FIRST_BACKOFF_SECONDS * (2**settings.callback_retries)
        one = attempts * settings.callback_timeout_seconds + backoff
        return (LANE_DEPTH + 1) * one

    def start(self) -> None:
        self._ready.clear()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="callbacks", daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def stop(self) -> None:
        self._stop.set()
        self.services.due.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        due = self.services.due
        timeout = httpx.Timeout(
            self.services.settings.callback_timeout_seconds,
            connect=min(CONNECT_TIMEOUT_SECONDS, self.services.settings.callback_timeout_seconds),
        )
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            self._client = client
            self._ready.set()
            while not self._stop.is_set():
                due.clear()
                try:
                    await self.dispatch_once()
                except Exception:  # the next poll tries again
                    log.exception("callback dispatch failed")
                await asyncio.to_thread(due.wait, POLL_SECONDS)
            for lane in self._lanes.values():
                if lane.task is not None:
                    lane.task.cancel()

    async def dispatch_once(self) -> int:
        """Lease pending notifications and hand each to its receiver's lane; how many."""
        store = self.services.store
        leased = await asyncio.to_thread(store.lease_notifications, self.lease_seconds, BATCH)
        for notification in leased:
            await self._offer(notification)
        return len(leased)

    async def _offer(self, notification: Notification) -> None:
        owner, name = owner_of(notification), receiver(notification.url)
        lane = self._lanes.setdefault((owner, name), _Lane(name, owner))
        now = time.time()
        if lane.paused_until > now:
            await self._defer(notification, lane.paused_until)
        elif len(lane.waiting) >= LANE_DEPTH:
            await self._defer(notification, now + BUSY_RETRY_SECONDS)
        else:
            lane.waiting.append(notification)
            if lane.task is None or lane.task.done():
                lane.task = asyncio.create_task(self._drain(lane))

    async def _drain(self, lane: _Lane) -> None:
        while lane.waiting:
            notification = lane.waiting.popleft()
            job = notification.job
            with log_fields(job_id=job.id, model=job.request.model, surface=job.surface or None):
                try:
                    await self._deliver(lane, notification)
                except Exception:
                    log.exception("callback for job %s failed", job.id)

    async def _deliver(self, lane: _Lane, notification: Notification) -> None:
        job, store = notification.job, self.services.store
        if time.time() - job.updated_at > GIVE_UP_AFTER_SECONDS:
            log.warning("callback for job %s dropped: undelivered for a day", job.id)
            self.stats.failed += 1
            await asyncio.to_thread(store.mark_notified, job.id, job.status)
            return
        body = self.services.view(job)
        secrets = await asyncio.to_thread(self._secrets_of, lane.owner)
        attempts = 1 + (self.services.settings.callback_retries if job.status.is_terminal else 0)
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(FIRST_BACKOFF_SECONDS * 2 ** (attempt - 1))
            if lane.paused_until > time.time():
                await self._defer(notification, lane.paused_until)
                return
            message_id = f"{job.id}.{job.status.value}"
            if await self._post(notification.url, body, message_id, secrets):
                lane.failures, lane.pauses = 0, 0
                self.stats.delivered += 1
                await asyncio.to_thread(store.mark_notified, job.id, job.status)
                return
            await self._failed(lane)
        log.warning("callback %s for job %s not acknowledged", notification.url, job.id)
        self.stats.failed += 1
        await asyncio.to_thread(store.mark_notified, job.id, job.status)

    async def _failed(self, lane: _Lane) -> None:
        lane.failures += 1
        if lane.failures < PAUSE_AFTER_FAILURES:
            return
        pause = min(LONGEST_PAUSE_SECONDS, FIRST_PAUSE_SECONDS * 2**lane.pauses)
        lane.pauses += 1
        lane.paused_until = time.time() + pause
        self.stats.paused += 1
        log.warning(
            "callback receiver %s of key %s paused for %.0f s after %d failed deliveries in a row",
            lane.name,
            lane.owner,
            pause,
            lane.failures,
        )
        while lane.waiting:
            await self._defer(lane.waiting.popleft(), lane.paused_until)

    async def _defer(self, notification: Notification, until: float) -> None:
        await asyncio.to_thread(self.services.store.defer_notification, notification.job.id, until)

    def _secrets_of(self, owner: str) -> list[bytes]:
        """The keys that sign `owner`'s notifications now (its webhook secret; during a
        rotation's grace period the old one too)."""
        server_secret = self.services.settings.resolved_signing_secret
        return webhook_secrets(self.services.store, server_secret, owner).valid_at(time.time())

    async def _post(self, url: str, body: bytes, message_id: str, secrets: list[bytes]) -> bool:
        settings = self.services.settings
        try:
            target = await resolve(
                "callback_url", url, settings.url_allowlist, only=settings.url_allowlist_only
            )
        except InvalidField as refused:
            log.warning("callback refused: %s", refused.message)
            return False
        address, headers, extensions = pinned(target)
        headers |= {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secrets[0], body),
            **webhook_headers(secrets, message_id, body, time.time()),
        }
        assert self._client is not None
        try:
            response = await self._client.post(
                address, content=body, headers=headers, extensions=extensions
            )
        except httpx.HTTPError:
            return False
        return response.is_success


__all__ = [
    "SIGNATURE_HEADER",
    "CallbackDispatcher",
    "DeliveryStats",
    "receiver",
    "sign",
    "webhook_headers",
]
