"""The front door: who is calling, whether the server may be used without a key, how fast.

Decided once, here, for every route:

- A server is *keyed* once a key is configured (CLIPFORGE_API_KEYS) or was ever stored
  (`clipforge keys create`, revoked ones count): from then on every request needs an active
  key, so revoking the last key closes the server instead of opening it. The check runs on
  every request (a key created while the server runs takes effect at once).
- An unkeyed server is open (one tenant, `open`) only on a loopback address, or with
  CLIPFORGE_OPEN_ACCESS=true (refused in production); otherwise every request is a 401 that
  says how to make a key.
- Failed authentications are throttled per client address and key prefix (429 with
  Retry-After; `FailureThrottle`), in the memory of each API process; the client address is
  the connecting one, or X-Forwarded-For from CLIPFORGE_TRUSTED_PROXIES only (`serving.py`).
  The per-key request rate is counted in the database (`store.take_request`), so that
  several API replicas enforce one limit.
"""

from __future__ import annotations

import hmac
import ipaddress
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from clipforge.errors import AuthenticationFailed, RateLimited
from clipforge.settings import Settings
from clipforge.settings.server import Environment
from clipforge.store import throttle
from clipforge.store.base import JobStore
from clipforge.store.keys import ApiKey, digest
from clipforge.store.tenant import OPEN_OWNER, Tenant

ADMIN_SUFFIX = ":admin"
"""A CLIPFORGE_API_KEYS entry written KEY:admin is an admin key."""
HOW_TO_SEND = "send `Authorization: Bearer KEY` (CLI: --api-key or $CLIPFORGE_API_KEY)"
MAX_TRACKED_ADDRESSES = 10_000
KEY_PREFIX_CHARS = 8
"""How much of an offered key the failed-key throttle tells keys apart by (`cf_` + 5)."""
ADDRESS_FACTOR = 10
"""Failures of ever-new keys an address may have, per CLIPFORGE_AUTH_FAILURES_PER_MINUTE."""


@dataclass(frozen=True)
class Caller:
    """Who is asking, and the limits that apply to them (None: unlimited)."""

    tenant: Tenant
    max_queued: int | None = None
    rate_per_minute: int | None = None

    @property
    def key_id(self) -> str:
        return self.tenant.key_id


@dataclass(frozen=True)
class ConfiguredKey:
    """A key from CLIPFORGE_API_KEYS, named by a stable non-secret id (never the key)."""

    secret: str
    key_id: str
    admin: bool


def configured_keys(entries: list[str]) -> list[ConfiguredKey]:
    keys = []
    for entry in entries:
        admin = entry.endswith(ADMIN_SUFFIX)
        secret = entry.removesuffix(ADMIN_SUFFIX) if admin else entry
        keys.append(ConfiguredKey(secret, "env-" + digest(secret)[:12], admin))
    return keys


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class FailureThrottle:
    """Failed authentications, counted per client address *and* key prefix (GCRA, in memory).

    A key that keeps failing from an address is refused there (429) after `per_minute`
    failures, while other keys from the same address (colleagues behind one NAT) keep working.
    A flood of ever-new keys from one address (ADDRESS_FACTOR times as many failures) also
    closes the address to keys it has not seen succeed, so rotating keys buys nothing.
    """

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._next: dict[str, float] = {}
        self._good: dict[str, float] = {}
        self._lock = threading.Lock()

    def check(self, address: str, offered: str | None = None) -> None:
        """RateLimited while this key (by prefix) or, for a key not seen to succeed here,
        this address has used up its failures."""
        if not self.per_minute:
            return
        pair = _pair(address, offered)
        with self._lock:
            now = self._clock()
            wait = self._wait(pair, now, self.per_minute)
            if not wait and pair not in self._good:
                wait = self._wait(address, now, self.per_minute * ADDRESS_FACTOR)
        if wait:
            message = "too many failed authentications from this address"
            raise RateLimited(message, max(1, round(wait + 0.5)), limit_name="auth_throttle")

    def failed(self, address: str, offered: str | None = None) -> None:
        if not self.per_minute:
            return
        now = self._clock()
        with self._lock:
            if len(self._next) >= MAX_TRACKED_ADDRESSES:
                self._next = {a: t for a, t in self._next.items() if t > now}
            for name, rate in (
                (_pair(address, offered), self.per_minute),
                (address, self.per_minute * ADDRESS_FACTOR),
            ):
                moved, _ = throttle.next_arrival(self._next.get(name), now, rate)
                if moved is not None:
                    self._next[name] = moved

    def succeeded(self, address: str, offered: str) -> None:
        """Remember that this key works from this address (it passes an address flood)."""
        if not self.per_minute:
            return
        with self._lock:
            if len(self._good) >= MAX_TRACKED_ADDRESSES:
                self._good.clear()
            self._good[_pair(address, offered)] = self._clock()

    def _wait(self, name: str, now: float, rate: int) -> float:
        _, wait = throttle.next_arrival(self._next.get(name), now, rate)
        return wait


def _pair(address: str, offered: str | None) -> str:
    return f"{address} {(offered or '')[:KEY_PREFIX_CHARS]}"


class FrontDoor:
    """Authenticates requests and applies the per-key request rate (module docstring)."""

    def __init__(self, settings: Settings, store: JobStore) -> None:
        self.settings = settings
        self.store = store
        self._configured = configured_keys(settings.api_keys)
        self._keyed = bool(self._configured)
        self.failures = FailureThrottle(settings.auth_failures_per_minute)

    def keyed(self) -> bool:
        """True once the server has (or had) a key; it never turns back (fail closed)."""
        if not self._keyed and self.store.ever_keyed():
            self._keyed = True
        return self._keyed

    def open_mode_allowed(self) -> bool:
        """No key needed: only outside production, on loopback or by CLIPFORGE_OPEN_ACCESS
        (checked here too, not only when `clipforge serve` starts)."""
        if self.settings.environment is Environment.PRODUCTION:
            return False
        return self.settings.open_access or is_loopback(self.settings.host)

    def identify(self, offered: str | None, address: str) -> Caller:
        """The caller behind a bearer key (None: none sent), from `address`; raises
        AuthenticationFailed (401) or RateLimited (429). Blocks on the store: call it in a
        thread or where the store runs inline."""
        self.failures.check(address, offered)
        if offered is not None:
            caller = self._known(offered)
            if caller is not None:
                self.failures.succeeded(address, offered)
                return caller
        if not self.keyed():
            if self.open_mode_allowed():
                return self._with_defaults(Tenant(OPEN_OWNER))
            raise AuthenticationFailed(
                "this server has no API key yet and listens beyond loopback: create one with "
                "`clipforge keys create NAME` (or set CLIPFORGE_API_KEYS) and " + HOW_TO_SEND
            )
        self.failures.failed(address, offered)
        if offered is None:
            raise AuthenticationFailed("missing API key: " + HOW_TO_SEND)
        raise AuthenticationFailed("invalid or revoked API key: " + HOW_TO_SEND)

    def admit(self, caller: Caller) -> None:
        """Count one request against the caller's rate; RateLimited (429) beyond it."""
        if caller.rate_per_minute is None:
            return
        wait = self.store.take_request(caller.key_id, caller.rate_per_minute)
        if wait is not None:
            message = f"rate limit: {caller.rate_per_minute} requests per minute for this API key"
            raise RateLimited(message, max(1, round(wait + 0.5)))

    def _known(self, offered: str) -> Caller | None:
        for key in self._configured:
            if hmac.compare_digest(offered.encode(), key.secret.encode()):
                return self._with_defaults(Tenant(key.key_id, admin=key.admin))
        stored = self.store.find_key(offered)
        return None if stored is None else self._stored(stored)

    def _stored(self, key: ApiKey) -> Caller:
        limits = key.limits
        default = self._with_defaults(Tenant(key.id, admin=limits.admin))
        max_queued = default.max_queued if limits.max_queued is None else limits.max_queued
        rate = default.rate_per_minute if limits.rate_per_minute is None else limits.rate_per_minute
        return Caller(default.tenant, max_queued or None, rate or None)

    def _with_defaults(self, tenant: Tenant) -> Caller:
        settings = self.settings
        return Caller(
            tenant, settings.max_queued_jobs or None, settings.rate_limit_per_minute or None
        )


def open_mode_problem(settings: Settings, store: JobStore) -> str | None:
    """Why this server cannot start as configured with no key, or None. A keyed server, or
    one on loopback, is fine; CLIPFORGE_OPEN_ACCESS opens it on purpose (development only)."""
    if settings.api_keys or store.ever_keyed() or is_loopback(settings.host):
        return None
    if settings.open_access:
        return None
    return (
        f"no API key exists and the server listens on {settings.host}, beyond this machine. "
        "Create a key (`clipforge keys create NAME`) or set CLIPFORGE_API_KEYS, listen on "
        "127.0.0.1, or set CLIPFORGE_OPEN_ACCESS=true to let anyone in (development only)"
    )
