"""Counts every HTTP request by route template, method and status, and times it: a pure ASGI
middleware, so that it costs next to nothing per request (bench/api.py measures it).

The route label is the template the router matched (`/v1/jobs/{job_id}`), never the raw
path, and `unmatched` for a path no route has: the label set stays bounded whatever clients
send. A streamed response (the events stream) is timed to its end.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clipforge.metrics import Metrics

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.requests = metrics.http_requests
        self.seconds = metrics.http_seconds
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        """(route, method, status) -> its counter and histogram: `labels()` takes a lock
        and builds a key on every call; the set is bounded, so keep them."""

    def _count(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(route, method, str(status)),
                self.seconds.labels(route, method),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees if the app fails before it answers

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            route = getattr(scope.get("route"), "path", UNMATCHED)
            method = scope["method"] if scope["method"] in METHODS else "other"
            self._count(route, method, status, time.perf_counter() - started)
