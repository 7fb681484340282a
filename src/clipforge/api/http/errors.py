"""The one place where errors become HTTP responses.

Every error gets the AI/ML API error body (message, path, requestId, statusCode, timestamp),
except on paths under /v1/videos (the OpenAI-style dialect), which get OpenAI's body
`{"error": {"message", "type", "param", "code"}}` (OPENAI_TYPES), and on paths under /api/v3
(the BytePlus Ark surface), which get the Ark body
`{"error": {"code", "message", "param", "type"}}`:

| error                             | status                           | Ark code             |
|-----------------------------------|----------------------------------|----------------------|
| RequestError subclasses           | its status_code (400 ... 404)    | its own `code`       |
| request validation (pydantic)     | 400, naming field and values     | InvalidParameter     |
| HTTPException (routing: 404, 405) | its own status                   | by status (ARK_TYPES) |
| StorageUnavailable                | 503 with Retry-After             | ServiceUnavailable   |
| anything else                     | 500, details logged              | InternalServiceError |

No body carries a path of the server's file system (`without_server_paths`).
"""

from __future__ import annotations

import functools
import logging
import os
import re
from datetime import UTC, datetime
from typing import Any, get_args

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from clipforge.api.http.context import inference_id
from clipforge.errors import (
    AuthenticationFailed,
    RateLimited,
    RequestError,
    StorageUnavailable,
    did_you_mean,
)

log = logging.getLogger(__name__)

BODY_MODEL = "clipforge.body_model"
"""Request scope key: the body model of a route that validates its body itself."""


ARK_PREFIX = "/api/v3"
OPENAI_PREFIX = "/v1/videos"
AUTHENTICATE = 'Bearer realm="clipforge"'
"""The WWW-Authenticate challenge of every 401 (RFC 6750)."""

# HTTP status -> the Ark body's `type` (and its `code` where the error carries none).
ARK_TYPES: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "InvalidParameter"),
    401: ("Unauthorized", "AuthenticationError"),
    403: ("Forbidden", "AccessDenied"),
    404: ("NotFound", "ResourceNotFound"),
    405: ("MethodNotAllowed", "MethodNotAllowed"),
    409: ("Conflict", "Conflict"),
    410: ("Gone", "ResourceGone"),
    413: ("PayloadTooLarge", "RequestTooLarge"),
    422: ("UnprocessableEntity", "IdempotencyKeyReused"),
    429: ("TooManyRequests", "RateLimitExceeded"),
    500: ("InternalServerError", "InternalServiceError"),
    503: ("ServiceUnavailable", "ServiceUnavailable"),
    507: ("InsufficientStorage", "InsufficientStorage"),
}


# HTTP status -> the OpenAI body's `type` and default `code`.
OPENAI_TYPES: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "invalid_value"),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "forbidden"),
    404: ("invalid_request_error", "not_found"),
    405: ("invalid_request_error", "method_not_allowed"),
    410: ("invalid_request_error", "gone"),
    413: ("invalid_request_error", "request_too_large"),
    422: ("invalid_request_error", "idempotency_key_reused"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
    500: ("server_error", "server_error"),
    503: ("server_error", "service_unavailable"),
    507: ("server_error", "insufficient_storage"),
}


_ABSOLUTE_PATH = re.compile(r"(?<![\w/.:])/([\w.@+-]+)(?:/[\w.@+-]*)*")
_API_PREFIXES = frozenset({"v1", "v2", "api", "files", "healthz", "readyz", "metrics", "docs"})
SERVER_PATH = "<server path>"


@functools.cache
def _top_folders() -> frozenset[str]:
    try:
        return frozenset(os.listdir("/")) - _API_PREFIXES
    except OSError:
        return frozenset()


def without_server_paths(text: str) -> str:
    """`text` with every absolute path on this machine (one that starts in a folder at the
    root of its file system: /srv/..., /tmp/..., /home/...) replaced by SERVER_PATH, so that
    no message tells a client where the server keeps its files; API paths stay."""
    top = _top_folders()
    return _ABSOLUTE_PATH.sub(
        lambda found: SERVER_PATH if found.group(1) in top else found.group(0), text
    )


def _under(request: Request, prefix: str) -> bool:
    path = request.url.path
    return path == prefix or path.startswith(prefix + "/")


def is_ark_path(request: Request) -> bool:
    return _under(request, ARK_PREFIX)


def error_response(
    request: Request,
    status: int,
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
) -> JSONResponse:
    """The AI/ML API's error body; the Ark body on paths under /api/v3, the OpenAI body
    `{"error": {"message", "type", "param", "code"}}` under /v1/videos. Server paths in the
    message are left out (`without_server_paths`)."""
    message = without_server_paths(message)
    if _under(request, OPENAI_PREFIX):
        kind, default_code = OPENAI_TYPES.get(status, ("server_error", "server_error"))
        error = {"message": message, "type": kind, "param": param, "code": default_code}
        return JSONResponse({"error": error}, status_code=status)
    if is_ark_path(request):
        kind, default_code = ARK_TYPES.get(status, ("Error", "Error"))
        error = {"code": code or default_code, "message": message, "param": param or ""}
        error["type"] = kind
        return JSONResponse({"error": error}, status_code=status)
    body = {
        "message": message,
        "path": request.url.path,
        "requestId": inference_id(request.scope),
        "statusCode": status,
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    return JSONResponse(body, status_code=status)


def validation_field(error: dict[str, Any]) -> str:
    """The field a pydantic error is about (`body` when it is about the body as a whole)."""
    if error.get("type") == "json_invalid":
        return "body"
    location = list(error.get("loc", ()))
    if location and location[0] in ("body", "query", "path"):  # where, not which field
        location = location[1:]  # (a body field may itself be called `path`: kept)
    return ".".join(str(part) for part in location) or "body"


def describe_validation_error(
    error: dict[str, Any], body: object = None, known: list[str] | None = None
) -> str:
    """One pydantic error as `field: problem (allowed: ...)`; `body` is the raw text of a
    body that did not parse (to say where); `known`: the field names beside an unknown one
    (for "did you mean")."""
    field = validation_field(error)
    kind = error.get("type", "")
    if kind == "missing":
        return f"{field}: field required"
    if kind == "extra_forbidden":
        name = str(error.get("loc", ("",))[-1])
        hint = did_you_mean(name, known or [])
        return f"{field}: unknown field (this server does not take it){hint}"
    if kind in ("enum", "literal_error"):
        expected = error.get("ctx", {}).get("expected", "")
        shown = repr(error.get("input"))[:80]
        hint = did_you_mean(error.get("input"), re.findall(r"'([^']*)'", expected))
        return f"{field}: invalid value {shown}; allowed values: {expected}{hint}"
    if kind == "json_invalid":
        return "body: " + _where_json_broke(error, body)
    if kind in ("model_attributes_type", "dict_type") and field == "body":
        return "body: expected a JSON object"
    return f"{field}: {error.get('msg', 'invalid value')}"


def _where_json_broke(error: dict[str, Any], body: object) -> str:
    problem = error.get("ctx", {}).get("error", "JSON decode error")
    location = error.get("loc", ())
    position = location[-1] if location and isinstance(location[-1], int) else None
    return where_json_broke(body, position, problem)


def where_json_broke(body: object, position: int | None, problem: str) -> str:
    """`invalid JSON at line L, column C (character N): problem`, as far as it is known."""
    if position is None:
        return f"invalid JSON: {problem}"
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return f"invalid JSON at line {line}, column {column} (character {position}): {problem}"


async def _on_request_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestError)
    response = error_response(request, exc.status_code, exc.message, code=exc.code, param=exc.field)
    metrics = request.app.state.services.metrics
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
        metrics.rate_limited.labels(exc.limit_name).inc()
    if isinstance(exc, AuthenticationFailed):
        response.headers["WWW-Authenticate"] = AUTHENTICATE
        metrics.auth_failures.inc()
    return response


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [dict(e) for e in exc.errors()]
    route = request.scope.get("route")
    declared = getattr(getattr(route, "body_field", None), "field_info", None)
    body_model = request.scope.get(BODY_MODEL) or getattr(declared, "annotation", None)
    messages = [
        describe_validation_error(e, exc.body, _fields_beside(body_model, e.get("loc", ())))
        for e in errors
    ]
    param = validation_field(errors[0]) if errors else None
    return error_response(request, 400, "; ".join(messages), param=param)


def _fields_beside(model: object, loc: tuple[Any, ...]) -> list[str]:
    """The names a body model (walked along `loc`, an error's location) takes where `loc`
    ends: what a misspelt field is compared with."""
    for part in loc[1:-1] if loc[:1] == ("body",) else loc[:-1]:
        if isinstance(part, str) and isinstance(model, type) and issubclass(model, BaseModel):
            info = model.model_fields.get(part)
            model = _a_model(info.annotation) if info else None
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _a_model(annotation: object) -> object:
    """The pydantic model inside an annotation (`list[X] | None` -> X), or None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for m in map(_a_model, get_args(annotation)) if m is not None), None)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    response = error_response(request, exc.status_code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _on_storage_fault(request: Request, exc: Exception) -> JSONResponse:
    """Storage failed under the request (`files/faults.py`): the client may try again."""
    assert isinstance(exc, StorageUnavailable)
    log.warning("%s: %s", request.url.path, exc, exc_info=exc.__cause__ or exc)
    message = f"{exc}; try again in {exc.retry_after} s"
    response = error_response(request, 503, message, code="ServiceUnavailable")
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return error_response(request, 500, "internal server error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestError, _on_request_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(StorageUnavailable, _on_storage_fault)
    app.add_exception_handler(Exception, _on_unexpected)
