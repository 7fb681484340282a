"""ClipForge: a self-hosted text-to-video service that speaks the Seedance 1.0 API.

`import clipforge` loads the client SDK only (httpx and pydantic: no torch, no fastapi).
"""

__version__ = "0.1.0"

from clipforge.client import (  # after __version__: the client reads it
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
    "__version__",
]
