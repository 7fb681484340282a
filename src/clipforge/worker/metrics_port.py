"""A `clipforge worker`'s own metrics port: GET /metrics in the Prometheus text format, behind
`CLIPFORGE_METRICS_TOKEN` when it is set, by the same rule as the API's /metrics.

Each connection has a thread; a connection that sends nothing for SOCKET_TIMEOUT_SECONDS is
closed, and beyond MAX_CONNECTIONS at once a new one is closed unanswered, so idle or slow
clients cannot pile up threads in the worker (a scrape takes milliseconds)."""

from __future__ import annotations

import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from clipforge.metrics import CONTENT_TYPE, Metrics, scrape_allowed

SOCKET_TIMEOUT_SECONDS = 10.0
MAX_CONNECTIONS = 16


class _BoundedServer(ThreadingHTTPServer):
    """A thread per connection, MAX_CONNECTIONS threads at most."""

    daemon_threads = True
    request_queue_size = 128  # accept a burst at once (and close what is over the cap)

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)  # full: closed unanswered, the scraper retries
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class MetricsPort:
    """Serves `metrics` on host:port from a daemon thread until `close()`."""

    def __init__(self, metrics: Metrics, host: str, port: int, token: str | None) -> None:
        self._server = _BoundedServer((host, port), _handler(metrics, token))
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="metrics-port", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)


def _handler(metrics: Metrics, token: str | None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = SOCKET_TIMEOUT_SECONDS  # each read of the request (StreamRequestHandler)

        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] != "/metrics":
                self._answer(HTTPStatus.NOT_FOUND, b"only /metrics here\n")
            elif not scrape_allowed(token, self.headers.get("Authorization", "")):
                self._answer(
                    HTTPStatus.UNAUTHORIZED,
                    b"/metrics wants `Authorization: Bearer <CLIPFORGE_METRICS_TOKEN>`\n",
                    {"WWW-Authenticate": 'Bearer realm="metrics"'},
                )
            else:
                self._answer(HTTPStatus.OK, metrics.exposition(), {"Content-Type": CONTENT_TYPE})

        def _answer(
            self, status: HTTPStatus, body: bytes, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            for name, value in {"Content-Type": "text/plain", **(headers or {})}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Scrapes come every few seconds: not worth a log line each."""

    return Handler
