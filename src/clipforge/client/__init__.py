"""Clients of a running ClipForge server: the Python SDK (sync and async) and the CLI.

```python
from clipforge import Client

with Client("http://127.0.0.1:8000", api_key="KEY") as client:
    generation = client.generate("a red ball rolling to the right", resolution="480p")
    generation.wait(on_progress=lambda job: print(job.status, job.progress.step))
    generation.download("ball.mp4")
```
"""

from clipforge.client._async import AsyncClient, AsyncGeneration
from clipforge.client._base import DEFAULT_MODEL, ProgressCallback
from clipforge.client._models import Job, JobError, JobRequest, Model, Progress
from clipforge.client._sync import Client, Generation
from clipforge.errors import (
    ApiConnectionError,
    ApiError,
    AuthenticationError,
    BadRequestError,
    ClientError,
    JobFailedError,
    NotFoundError,
    PermissionDeniedError,
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
