"""The one place where errors become HTTP responses.

Every error gets the AI/ML API error body (message, path, requestId, statusCode, timestamp):

| error                              | status                                  |
|------------------------------------|-----------------------------------------|
| RequestError subclasses            | its own status_code (400, 401, 403, 404) |
| request validation (pydantic)      | 400, naming the field and allowed values |
| HTTPException (routing: 404, 405)  | its own status                          |
| anything else                      | 500, details logged                     |
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from clipforge.api.context import inference_id
from clipforge.errors import RequestError

log = logging.getLogger(__name__)


def error_response(request: Request, status: int, message: str) -> JSONResponse:
    """The AI/ML API's error body."""
    body = {
        "message": message,
        "path": request.url.path,
        "requestId": inference_id(request.scope),
        "statusCode": status,
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    return JSONResponse(body, status_code=status)


def describe_validation_error(error: dict[str, Any]) -> str:
    """One pydantic error as `field: problem (allowed: ...)`."""
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query")]
    field = ".".join(location) or "body"
    kind = error.get("type", "")
    if kind == "missing":
        return f"{field}: field required"
    if kind in ("enum", "literal_error"):
        expected = error.get("ctx", {}).get("expected", "")
        return f"{field}: invalid value {error.get('input')!r}; allowed values: {expected}"
    if kind in ("json_invalid", "model_attributes_type", "dict_type") and field == "body":
        return "body: expected a JSON object"
    return f"{field}: {error.get('msg', 'invalid value')}"


async def _on_request_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestError)
    return error_response(request, exc.status_code, exc.message)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    messages = [describe_validation_error(dict(e)) for e in exc.errors()]
    return error_response(request, 400, "; ".join(messages))


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    response = error_response(request, exc.status_code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return error_response(request, 500, "internal server error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestError, _on_request_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
