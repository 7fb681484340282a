"""The `Idempotency-Key` header on create, the same on every surface.

The same key with the same request gives back the job the first call made (with the status
the surface always answers a create with); the same key with another request is a 422
(`IdempotencyKeyReused`, naming the header). "The same request" is the body and whatever
else the job is made from (`fingerprint`): a remix of another video is another request.
Keys are scoped per API key: two callers never see each other's jobs through a key. A key is
freed when its job is deleted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Annotated

from fastapi import Header
from pydantic import BaseModel

from clipforge.api.access import Caller
from clipforge.errors import IdempotencyKeyReused
from clipforge.schemas import GenerationRequest, Job
from clipforge.store.base import NO_EXTRAS, JobExtras
from clipforge.store.tenant import TenantJobs

HEADER = "Idempotency-Key"
KEY_MAX_CHARS = 255

IdempotencyHeader = Annotated[
    str | None,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=KEY_MAX_CHARS,
        description="Same key and body: the same job back; same key, other body: 422.",
    ),
]


def fingerprint(surface: str, body: BaseModel, **facts: object) -> str:
    """What 'the same request' means: the validated body on the same surface, and every other
    fact the job depends on that is not in the body (`facts`: the video a remix or an extension
    is of, digests of uploaded files), hashed once as canonical JSON."""
    whole = {"surface": surface, "body": body.model_dump(mode="json"), **facts}
    canonical = json.dumps(whole, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def create_job(
    jobs: TenantJobs,
    caller: Caller,
    request: GenerationRequest,
    key: str | None,
    fingerprint_of: Callable[[], str],
    extras: JobExtras = NO_EXTRAS,
) -> Job:
    """Create a job for `request` (already validated: a bad body is a 400 whatever its key),
    at most once per (caller, key), within the caller's queued-job cap (429 beyond)."""
    capped = replace(extras, max_queued=caller.max_queued)
    job, same = jobs.create(request, capped, None if key is None else (key, fingerprint_of()))
    if not same:
        raise IdempotencyKeyReused(job.id)
    return job
