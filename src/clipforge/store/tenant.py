"""One caller's view of the jobs: object-level authorization, decided once, in the store.

The API never reaches the job store directly: each request gets a `TenantJobs` for its caller,
and every read, listing, count, cancel and delete goes through it with the caller's owner
filter in the SQL. Another key's job is simply not found (a 404, never a 403, so that ids
cannot be probed). Admin keys see and manage every job.

Every change the API makes to a job goes through here too, so two decisions live here once:
a deleted job takes its files with it, and a change that a callback URL may be told about
wakes the callback dispatcher at once (`changed`) instead of at its next poll.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from clipforge.errors import JobNotFound
from clipforge.files.base import Storage, job_keys
from clipforge.schemas import GenerationRequest, Job
from clipforge.store.base import NO_EXTRAS, IdempotencyKey, JobExtras, JobStore
from clipforge.store.filters import EVERYTHING, JobFilter

OPEN_OWNER = "open"
"""Owner of the jobs made while the server asks for no key (open mode: one tenant)."""


@dataclass(frozen=True)
class Tenant:
    """Who is asking: `key_id` owns the jobs it creates; an `admin` sees every job."""

    key_id: str
    admin: bool = False

    @property
    def owner_filter(self) -> str | None:
        """The owner the store filters by: the key itself, or None (every job) for an admin."""
        return None if self.admin else self.key_id


class TenantJobs:
    """The store as one tenant sees it."""

    def __init__(
        self,
        store: JobStore,
        tenant: Tenant,
        storage: Storage,
        changed: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.tenant = tenant
        self.storage = storage
        self._changed = changed
        """Wakes the callback dispatcher (`Services.callbacks_due.set`)."""

    def create(
        self,
        request: GenerationRequest,
        extras: JobExtras = NO_EXTRAS,
        idempotency: tuple[str, str] | None = None,
    ) -> tuple[Job, bool]:
        """A new job owned by this tenant; with `idempotency` (key, body fingerprint) at most
        one per key: (the earlier job, False) when the key was used with another body."""
        owned = replace(extras, owner=self.tenant.key_id)
        if idempotency is None:
            made = self.store.create(request, owned), True
        else:
            key, fingerprint = idempotency
            once = IdempotencyKey(self.tenant.key_id, key, fingerprint)
            made = self.store.create_once(request, once, owned)
        if owned.callback_url is not None:
            self._changed()
        return made

    def find(self, job_id: str) -> Job | None:
        return self.store.get(job_id, self.tenant.owner_filter)

    def get(self, job_id: str, field: str = "generation_id") -> Job:
        """The job, or JobNotFound (404) naming `field` when this tenant cannot see it."""
        job = self.find(job_id)
        if job is None:
            raise JobNotFound(job_id, field=field)
        return job

    def page(
        self, limit: int, offset: int, where: JobFilter = EVERYTHING, oldest_first: bool = False
    ) -> list[Job]:
        scoped = self._scoped(where)
        return self.store.list_jobs(
            limit=limit, offset=offset, where=scoped, oldest_first=oldest_first
        )

    def count(self, where: JobFilter = EVERYTHING) -> int:
        return self.store.count_jobs(self._scoped(where))

    def cancel(self, job_id: str, field: str = "generation_id") -> Job:
        """Cancel a queued or running job (a finished one is returned as it is); 404 when
        this tenant cannot see it."""
        job = self.store.cancel(job_id, self.tenant.owner_filter)
        if job is None:
            raise JobNotFound(job_id, field=field)
        self._changed()  # the job row does not say whether it has a callback URL: wake anyway
        return job

    def delete_finished(self, job_id: str) -> Job | None:
        """Delete a finished job of this tenant's and its files (video, stills, first and
        last frames); None when it is not (yet) finished."""
        deleted = self.store.delete(job_id, self.tenant.owner_filter)
        if deleted is not None:
            for key in job_keys(deleted.id):
                self.storage.delete(key)
        return deleted

    def queue_position(self, job: Job) -> int | None:
        """The job's 0-based place in the whole queue (every tenant's queued jobs count)."""
        return self.store.queue_position(job.id)

    def _scoped(self, where: JobFilter) -> JobFilter:
        owner = self.tenant.owner_filter
        return where if owner is None else replace(where, owner=owner)
