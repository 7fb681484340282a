"""Per-request identity: the x-inference-id header and the X-Client-Request-Id echo.

A pure ASGI middleware (no BaseHTTPMiddleware) so that it costs next to nothing per request.
"""

from __future__ import annotations

import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

INFERENCE_ID_HEADER = b"x-inference-id"
CLIENT_REQUEST_ID_HEADER = b"x-client-request-id"


def inference_id(scope: Scope) -> str:
    """The id given to this request (also the `requestId` of an error body)."""
    state = scope.setdefault("state", {})
    if "inference_id" not in state:
        state["inference_id"] = uuid.uuid4().hex
    return str(state["inference_id"])


class RequestIdMiddleware:
    """Adds x-inference-id to every response and echoes X-Client-Request-Id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [(INFERENCE_ID_HEADER, inference_id(scope).encode())]
        for name, value in scope["headers"]:
            if name == CLIENT_REQUEST_ID_HEADER:
                extra.append((CLIENT_REQUEST_ID_HEADER, value[:256]))
                break

        async def send_with_ids(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_ids)
