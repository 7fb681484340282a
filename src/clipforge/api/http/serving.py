"""How the API is served over HTTP: the uvicorn options `clipforge serve` runs with (and the
tests' live servers), so that the listening socket itself holds to the settings.

- A header deadline (CLIPFORGE_HEADER_TIMEOUT_SECONDS): a connection that has not finished a
  request's headers that long after it opened (or after the first byte of its next request)
  gets a 408 and is closed. uvicorn has no such limit of its own: a client that sends half a
  request line would hold its connection, and a file descriptor, for ever; thousands of them
  would hold the server. Headers are also capped at MAX_HEADER_BYTES (431).
- Idle keep-alive connections close after CLIPFORGE_KEEP_ALIVE_SECONDS.
- `X-Forwarded-For` and `X-Forwarded-Proto` are believed only from the addresses of
  CLIPFORGE_TRUSTED_PROXIES (none by default): the client address is what the failed-key
  throttle counts by, so a header anyone can write must not choose it.

Operators who run the app under their own server (gunicorn, hypercorn, a uvicorn command
line) set the same limits there: docs/DEPLOY.md.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from clipforge.settings import Settings

MAX_HEADER_BYTES = 64 * 1024
"""Largest request line and headers taken, in bytes (431 beyond)."""

_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-length: 0\r\nconnection: close\r\n\r\n"
)


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol with a deadline and a size cap on reading a request's headers."""

    header_timeout: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._deadline: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        super().connection_made(transport)
        self._arm()  # a connection that sends nothing at all is timed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        reading_headers = self._deadline is not None
        super().data_received(data)
        if reading_headers and self._deadline is not None:
            self._header_bytes += len(data)
            if self._header_bytes > MAX_HEADER_BYTES:
                self._refuse(_TOO_LARGE)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def _arm(self) -> None:
        self._header_bytes = 0
        self._deadline = self.loop.call_later(self.header_timeout, self._refuse, _TIMEOUT)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _refuse(self, answer: bytes) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self.transport.write(answer)
            self.transport.close()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run` / `uvicorn.Config` that apply the settings above."""
    protocol = type(
        "HeaderDeadline",
        (HeaderDeadlineProtocol,),
        {"header_timeout": settings.header_timeout_seconds},
    )
    trusted = settings.trusted_proxies
    return {
        "http": protocol,
        "timeout_keep_alive": settings.keep_alive_seconds,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": list(trusted) if trusted else [],
    }
