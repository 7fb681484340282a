"""The request body size limit (413), applied before any route reads the body.

The limit is CLIPFORGE_MAX_BODY_BYTES, except for a multipart upload (an image file, as the
OpenAI SDK sends `input_reference`), which may also carry CLIPFORGE_MAX_IMAGE_BYTES."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clipforge.settings import Settings


class BodyLimitMiddleware:
    """413 for a body over `limit` bytes: by Content-Length at once, else while reading."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def limit(self, scope: Scope) -> int:
        kind = dict(scope["headers"]).get(b"content-type", b"")
        upload = kind.startswith(b"multipart/form-data")
        return self.settings.max_body_bytes + (self.settings.max_image_bytes if upload else 0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            from clipforge.api.http.errors import error_response

            message = f"request body is larger than {limit} bytes"
            response = error_response(Request(scope), 413, message, param="body")
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, f"request body is larger than {limit} bytes")
            return message

        await self.app(scope, counted, send)
