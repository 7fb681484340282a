"""Local folder storage served by the API through HMAC-signed, expiring links."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from clipforge.errors import LinkRefused, StoredFileGone
from clipforge.files.base import Storage, check_key

FILES_PATH = "/files"


class LocalStorage(Storage):
    """Videos in one folder; links are `{base}/files/{key}?expires=..&signature=..`."""

    def __init__(
        self,
        root: Path,
        *,
        secret: bytes,
        public_base_url: str,
        ttl_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = root
        self._secret = secret
        self._base = public_base_url.rstrip("/")
        self._ttl = ttl_seconds
        self._clock = clock
        root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, source: Path) -> None:
        os.replace(source, self.path(key))

    def put_bytes(self, key: str, data: bytes) -> None:
        partial = self.path(key).with_name(f".{key}.{secrets.token_hex(4)}.part")
        partial.write_bytes(data)
        os.replace(partial, self.path(key))

    def get_bytes(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def url(self, key: str) -> str:
        expires = int(self._clock()) + self._ttl
        query = urlencode({"expires": expires, "signature": self._sign(key, expires)})
        return f"{self._base}{FILES_PATH}/{check_key(key)}?{query}"

    def open_signed(self, key: str, expires: int, signature: str) -> Path:
        """The file behind a link: LinkRefused if the link is forged or expired, StoredFileGone
        (410) if the file is no longer there."""
        check_key(key)
        if not hmac.compare_digest(self._sign(key, expires), signature):
            raise LinkRefused("invalid signature")
        if expires < self._clock():
            raise LinkRefused("link expired")
        path = self.path(key)
        if not path.is_file():
            raise StoredFileGone("the file of this link")
        return path

    def _sign(self, key: str, expires: int) -> str:
        digest = hmac.new(self._secret, f"{key}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
