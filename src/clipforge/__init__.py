"""ClipForge: a self-hosted text-to-video service that speaks the Seedance 1.0 API.

The SDK's names (`Client`, `AsyncClient`, the errors, ...) load on first use, so that
`import clipforge.video` pulls in neither httpx nor pydantic; the SDK itself never pulls in
torch or fastapi.
"""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from clipforge.client import (
        DEFAULT_MODEL,
        ApiConnectionError,
        ApiError,
        AsyncClient,
        AsyncGeneration,
        AuthenticationError,
        BadRequestError,
        Client,
        ClientError,
        Generation,
        Job,
        JobError,
        JobFailedError,
        JobRequest,
        Model,
        NotFoundError,
        PermissionDeniedError,
        Progress,
        ProgressCallback,
        RateLimitError,
        ServerError,
        WaitTimeoutError,
    )

__all__ = [
    "DEFAULT_MODEL",
    "ApiConnectionError",
    "ApiError",
    "AsyncClient",
    "AsyncGeneration",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ClientError",
    "Generation",
    "Job",
    "JobError",
    "JobFailedError",
    "JobRequest",
    "Model",
    "NotFoundError",
    "PermissionDeniedError",
    "Progress",
    "ProgressCallback",
    "RateLimitError",
    "ServerError",
    "WaitTimeoutError",
]


def __getattr__(name: str) -> Any:
    """Load the SDK when one of its names is first asked for (PEP 562)."""
    if name in __all__:
        from clipforge import client

        return getattr(client, name)
    raise AttributeError(f"module 'clipforge' has no attribute {name!r}")
