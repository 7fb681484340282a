"""Per-request identity: the x-inference-id header, the X-Client-Request-Id echo, and the
X-Request-ID that every log line of the request carries (taken from the request when it is a
plain token, made otherwise, and echoed).

A pure ASGI middleware (no BaseHTTPMiddleware) so that it costs next to nothing per request.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clipforge.logs import log_fields

INFERENCE_ID_HEADER = b"x-inference-id"
CLIENT_REQUEST_ID_HEADER = b"x-client-request-id"
REQUEST_ID_HEADER = b"x-request-id"
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


def inference_id(scope: Scope) -> str:
    """The id given to this request (also the `requestId` of an error body)."""
    state = scope.setdefault("state", {})
    if "inference_id" not in state:
        state["inference_id"] = uuid.uuid4().hex
    return str(state["inference_id"])


Observer = Callable[[Scope, int, float], None]
"""Told of each response as it ends: the scope, the status, the seconds it took."""


class RequestIdMiddleware:
    """Adds x-inference-id and X-Request-ID to every response, echoes X-Client-Request-Id,
    and tells `observe` (the HTTP metrics) how each request ended."""

    def __init__(self, app: ASGIApp, observe: Observer | None = None) -> None:
        self.app = app
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ours = inference_id(scope).encode()
        sent: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name in (CLIENT_REQUEST_ID_HEADER, REQUEST_ID_HEADER):
                sent.setdefault(name, value)
        extra = [(INFERENCE_ID_HEADER, ours)]
        if CLIENT_REQUEST_ID_HEADER in sent:
            extra.append((CLIENT_REQUEST_ID_HEADER, sent[CLIENT_REQUEST_ID_HEADER][:256]))
        given = sent.get(REQUEST_ID_HEADER, b"")
        request_id = given if _REQUEST_ID.fullmatch(given) else ours
        extra.append((REQUEST_ID_HEADER, request_id))

        started = time.perf_counter()
        status = 500  # what the client sees if the app fails before it answers

        async def send_with_ids(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            with log_fields(request_id=request_id.decode()):
                await self.app(scope, receive, send_with_ids)
        finally:
            if self.observe is not None:
                self.observe(scope, status, time.perf_counter() - started)
