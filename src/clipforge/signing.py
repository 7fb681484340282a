"""One server secret, one key per purpose.

The server secret (CLIPFORGE_SIGNING_SECRET, else `<data_dir>/secret`) is never used as a key
itself: the `/files` link key and each API key's webhook secret are derived from it with HKDF
(RFC 5869) under different `info` labels, so that a tenant holding its webhook secret can
neither sign a download link nor another tenant's notifications.

A webhook secret is written as Standard Webhooks spells it, `whsec_` and the base64 of its
bytes. A key made with `clipforge keys create` gets a random one, stored and shown once; a key
without a stored one (CLIPFORGE_API_KEYS, keys made before, the open tenant) uses the one
derived from the server secret and its key id, stable across restarts. Rotating stores a new
random one and keeps the old one valid for a grace period: notifications then carry both
signatures (Standard Webhooks allows several, space-separated), so a receiver can switch over
at any time within it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clipforge.store.operations import OperationsStore

LINK_INFO = b"clipforge files link v1"
WEBHOOK_INFO = b"clipforge webhook v1 key="
PREFIX = "whsec_"
SECRET_BYTES = 32


def hkdf(secret: bytes, info: bytes, length: int = SECRET_BYTES, salt: bytes = b"") -> bytes:
    """HKDF-SHA256 (RFC 5869): extract with `salt` (zeros when empty), expand with `info`."""
    prk = hmac.new(salt or bytes(hashlib.sha256().digest_size), secret, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out, counter = out + block, counter + 1
    return out[:length]


def link_key(server_secret: bytes) -> bytes:
    """The key that signs `/files` links (and only them)."""
    return hkdf(server_secret, LINK_INFO)


def as_whsec(raw: bytes) -> str:
    return PREFIX + base64.b64encode(raw).decode()


def secret_bytes(whsec: str) -> bytes:
    """The HMAC key a `whsec_...` secret stands for."""
    return base64.b64decode(whsec.removeprefix(PREFIX))


def derived_webhook_secret(server_secret: bytes, key_id: str) -> str:
    """The webhook secret of a key that has none stored: a function of the server secret and
    the key's id alone."""
    return as_whsec(hkdf(server_secret, WEBHOOK_INFO + key_id.encode()))


def new_webhook_secret() -> str:
    return as_whsec(secrets.token_bytes(SECRET_BYTES))


@dataclass(frozen=True)
class WebhookSecrets:
    """A key's webhook secret, and the one it replaced while that is still valid."""

    current: str
    previous: str | None = None
    previous_until: float | None = None

    def valid_at(self, now: float) -> list[bytes]:
        """The keys that sign a notification sent at `now`: the current one first."""
        keys = [secret_bytes(self.current)]
        if self.previous and self.previous_until is not None and now < self.previous_until:
            keys.append(secret_bytes(self.previous))
        return keys


def webhook_secrets(store: OperationsStore, server_secret: bytes, key_id: str) -> WebhookSecrets:
    """The stored secrets of `key_id`, else the one derived for it."""
    stored = store.webhook_secret(key_id)
    if stored is None:
        return WebhookSecrets(derived_webhook_secret(server_secret, key_id))
    return WebhookSecrets(stored.secret, stored.previous, stored.previous_until)


def issue(store: OperationsStore, key_id: str) -> str:
    """A new key's webhook secret: random, stored, returned to be shown once."""
    secret = new_webhook_secret()
    store.put_webhook_secret(key_id, secret, None, None)
    return secret


def rotate(
    store: OperationsStore, server_secret: bytes, key_id: str, grace_seconds: float, now: float
) -> str:
    """Replace `key_id`'s webhook secret; the old one signs too for `grace_seconds` more."""
    old = webhook_secrets(store, server_secret, key_id).current
    secret = new_webhook_secret()
    store.put_webhook_secret(key_id, secret, old, now + grace_seconds)
    return secret
