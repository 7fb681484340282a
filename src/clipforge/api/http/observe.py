"""Counts every HTTP request by route template, method and status, and times it.

`RequestCounter` is called by the request-id middleware (`context.py`) when a response ends,
so that counting adds no ASGI layer of its own (bench/api.py measures what it costs).

The route label is the template the router matched (`/v1/jobs/{job_id}`), never the raw
path, and `unmatched` for a path no route has: the label set stays bounded whatever clients
send. A streamed response (the events stream) is timed to its end.
"""

from __future__ import annotations

from typing import Any

from starlette.types import Scope

from clipforge.metrics import Metrics

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


class RequestCounter:
    def __init__(self, metrics: Metrics) -> None:
        self.requests = metrics.http_requests
        self.seconds = metrics.http_seconds
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        """(route, method, status) -> its counter and histogram: `labels()` takes a lock
        and builds a key on every call; the set is bounded, so keep them."""

    def __call__(self, scope: Scope, status: int, seconds: float) -> None:
        route = getattr(scope.get("route"), "path", UNMATCHED)
        method = scope["method"] if scope["method"] in METHODS else "other"
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:
            labels = (route, method, str(status))
            children = (self.requests.labels(*labels), self.seconds.labels(*labels))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)
