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
from clipforge.files.faults import storage_faults

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
        with storage_faults():
            os.replace(source, self.path(key))

    def put_bytes(self, key: str, data: bytes) -> None:
        partial = self.path(key).with_name(f".{key}.{secrets.token_hex(4)}.part")
        with storage_faults():
            try:
                partial.write_bytes(data)
                os.replace(partial, self.path(key))
            finally:
                partial.unlink(missing_ok=True)  # a disk that filled up mid-write

    def get_bytes(self, key: str) -> bytes:
        with storage_faults():
            return self.path(key).read_bytes()

    def delete(self, key: str) -> None:
        with storage_faults():
            self.path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        with storage_faults():
            return self.path(key).is_file()

    def used_bytes(self) -> int:
        total = 0
        with storage_faults(), os.scandir(self.root) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
        return total

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
