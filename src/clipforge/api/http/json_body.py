"""The one JSON parser of request bodies, on every surface (AI/ML, native, Ark, OpenAI).

Stricter than `json.loads`, so that no body can reach a 500 or mean two things:

- nesting deeper than MAX_DEPTH arrays and objects is refused before it is parsed (a body
  nested 1000 deep would otherwise exhaust the parser's recursion);
- an object that names a key twice is refused (`json.loads` silently keeps the last one, while
  a proxy or a client library in front may have read the first).

Both are `json.JSONDecodeError`s, so FastAPI's body parsing turns them into the usual 400
naming `body`, in the surface's own error shape. Routers get this parser through
`StrictJsonRoute` (their `route_class`); a route that reads the body itself calls `loads`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

MAX_DEPTH = 32
"""Deepest nesting of arrays and objects a body may have (the API's bodies need 4)."""

# A string (skipped whole, so brackets inside it do not count) or one bracket.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


class JsonRefused(json.JSONDecodeError):
    """Valid JSON this server does not take; `pos` may be None (where is not known)."""

    def __init__(self, msg: str, doc: str, pos: int | None) -> None:
        ValueError.__init__(self, msg if pos is None else f"{msg} (character {pos})")
        self.msg, self.doc, self.pos = msg, doc, pos  # type: ignore[assignment]
        self.lineno = self.colno = 0


def _check_depth(text: str) -> None:
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return  # the common case, at C speed
    depth = 0
    for token in _TOKENS.finditer(text):
        bracket = token.group(0)
        if bracket in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise JsonRefused(f"nested deeper than {MAX_DEPTH} levels", text, token.start())
        elif bracket in "]}":
            depth -= 1


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise KeyError(key)
        found[key] = value
    return found


def loads(body: bytes | str) -> Any:
    """The JSON value of `body`; `json.JSONDecodeError` for invalid JSON, JsonRefused for JSON
    nested too deep or naming a key twice in one object."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError as exc:
        raise JsonRefused("the body is not UTF-8", "", exc.start) from None
    _check_depth(text)
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except KeyError as exc:
        raise JsonRefused(f"duplicate key {exc.args[0]!r} in one object", text, None) from None


class StrictJsonRequest(Request):
    """A request whose `json()` is `loads`."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads(await self.body())
        return self._json


class StrictJsonRoute(APIRoute):
    """A route that parses its JSON body with `loads` (FastAPI's custom route class)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict
