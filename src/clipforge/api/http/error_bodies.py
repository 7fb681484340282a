"""The error bodies as OpenAPI models, so that the document says what a 4xx looks like
(and schemathesis can hold every error answer to it)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorBody(BaseModel):
    """The AI/ML API's error body (every path but /api/v3)."""

    message: str
    path: str
    requestId: str
    statusCode: int
    timestamp: str


class ArkErrorDetail(BaseModel):
    code: str
    message: str
    param: str
    type: str


class ArkErrorBody(BaseModel):
    """The BytePlus Ark error body (paths under /api/v3)."""

    error: ArkErrorDetail


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str


class OpenAIErrorBody(BaseModel):
    """The OpenAI error body (paths under /v1/videos)."""

    error: OpenAIErrorDetail


_STATUSES = {
    400: "A field is missing, of the wrong type or out of range (the message names it).",
    401: "No API key, or not a known one.",
    404: "No such task or generation.",
    410: "A file the job stored (its video, a frame) is no longer there.",
    413: "The request body is over the server's limit.",
    422: "The Idempotency-Key was used before with a different body.",
    429: "Too many requests or queued jobs for this key (see Retry-After).",
}


def error_responses(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a router whose errors have the body `model`."""
    return {status: {"model": model, "description": text} for status, text in _STATUSES.items()}


AIML_ERRORS = error_responses(ErrorBody)
ARK_ERRORS = error_responses(ArkErrorBody)
OPENAI_ERRORS = error_responses(OpenAIErrorBody)
