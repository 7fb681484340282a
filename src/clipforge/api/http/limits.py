"""The request body size limit (413), applied before any route reads the body, and its idle
deadline (408).

The limit is CLIPFORGE_MAX_BODY_BYTES, except for a multipart upload (an image file, as the
OpenAI SDK sends `input_reference`), which may also carry CLIPFORGE_MAX_IMAGE_BYTES. A body that
sends nothing for CLIPFORGE_BODY_IDLE_TIMEOUT_SECONDS is a 408: some routes read the body before
the key is checked, so without the deadline anyone could hold connections open for ever."""

from __future__ import annotations

import asyncio

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
        received, done = 0, False
        idle = self.settings.body_idle_timeout_seconds

        async def counted() -> Message:
            nonlocal received, done
            if done:  # the body is in: what follows is a wait for the disconnect, untimed
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), idle)
            except TimeoutError:
                raise HTTPException(408, f"the request body sent nothing for {idle:g} s") from None
            done = not message.get("more_body", False)
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, f"request body is larger than {limit} bytes")
            return message

        await self.app(scope, counted, send)
