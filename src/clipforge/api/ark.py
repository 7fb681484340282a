"""The BytePlus ModelArk surface (API.md section 3): content generation tasks under /api/v3.

Create bodies become requests in `ark_requests.py`; the bodies themselves are in
`ark_models.py`. Listing filters and pages in the store (SQL), not here. DELETE cancels a
queued or running task and deletes a finished one, with its video.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from clipforge.api.ark_drafts import from_draft, names_a_draft
from clipforge.api.ark_models import (
    STATUS_FILTERS,
    STATUS_OUT,
    CreateTaskBody,
    RatioIn,
    ServiceTier,
    Task,
    TaskContent,
    TaskError,
    TaskId,
    TaskList,
    TaskStatus,
    TaskUsage,
)
from clipforge.api.ark_newer import expires_after
from clipforge.api.ark_requests import served_model_id, to_generation_request
from clipforge.api.deps import Authorized, CallerDep, JobsDep, Services, ServicesDep
from clipforge.api.error_bodies import ARK_ERRORS
from clipforge.api.fields import QueryInt
from clipforge.api.idempotency import IdempotencyHeader, fingerprint
from clipforge.api.submit import submit, with_images
from clipforge.api.urls import check_urls
from clipforge.errors import InvalidField
from clipforge.files.base import job_keys, still_key
from clipforge.schemas import Job, JobStatus
from clipforge.store.base import JobExtras
from clipforge.store.filters import EXPIRED, JobFilter
from clipforge.store.tenant import TenantJobs

BASE = "/api/v3"
TASKS_PATH = f"{BASE}/contents/generations/tasks"

router = APIRouter(tags=["BytePlus ModelArk"], dependencies=[Authorized], responses=ARK_ERRORS)

__all__ = ["RatioIn", "router", "served_model_id", "task_out", "task_status"]


VIDEO_EXPIRED = TaskError(
    code="VideoExpired",
    message="the video was removed after the server's retention period; generate it again",
)
"""The `error` of a succeeded task whose video retention removed (`content.video_url` null)."""


def task_status(job: Job) -> TaskStatus:
    if job.status is JobStatus.ERROR and job.error_name == EXPIRED:
        return "expired"
    return STATUS_OUT[job.status]


def task_out(job: Job, services: Services) -> Task:
    """A job as an Ark task object (also what a callback POSTs)."""
    request = job.request
    status = task_status(job)
    content, error = None, None
    if status == "succeeded" and job.purged_at is not None:
        content, error = TaskContent(video_url=None), VIDEO_EXPIRED
    elif status == "succeeded" and job.video_key:
        last_frame = None
        if request.return_last_frame and "lastframe" in job.stills:
            last_frame = services.storage.url(still_key(job.id, "lastframe"))
        content = TaskContent(
            video_url=services.storage.url(job.video_key), last_frame_url=last_frame
        )
    if status in ("failed", "expired"):
        code = job.error_name or "InternalServiceError"
        error = TaskError(code=code, message=job.error_message or "")
    tokens = request.usage_tokens
    return Task(
        id=job.id,
        model=request.client_model or request.model,
        status=status,
        content=content,
        usage=TaskUsage(completion_tokens=tokens, total_tokens=tokens),
        created_at=int(job.created_at),
        updated_at=int(job.updated_at),
        seed=request.seed,
        resolution=request.resolution.value,
        ratio=request.aspect_ratio.value,
        duration=request.duration,
        frames=request.frames,
        service_tier=job.tier,
        priority=job.priority,
        execution_expires_after=(
            None if job.expires_at is None else round(job.expires_at - job.created_at)
        ),
        safety_identifier=request.safety_identifier,
        generate_audio=request.generate_audio,
        draft=request.draft,
        revised_prompt=_revised(job),
        error=error,
    )


def _revised(job: Job) -> str | None:
    """What the model made of the prompt (Ark's `revised_prompt`), once a worker has it."""
    prompt = job.reading.get("prompt")
    return prompt if isinstance(prompt, str) else None


LIST_FILTERS = ("filter.status", "filter.task_ids", "filter.model", "filter.service_tier")


def list_filter(
    status: TaskStatus | None,
    task_ids: list[str] | None,
    model: str | None,
    tier: ServiceTier | None = None,
) -> JobFilter:
    """The store filter for Ark's `filter.*` query parameters."""
    base = STATUS_FILTERS[status] if status else JobFilter()
    ids = tuple(dict.fromkeys(task_ids)) if task_ids else None
    statuses, expired = base.statuses, base.expired
    return JobFilter(statuses=statuses, expired=expired, ids=ids, model=model, tier=tier)


def check_list_parameters(names: Iterable[str]) -> None:
    """A `filter.*` parameter this server does not know is a 400, not a filter left out."""
    for name in names:
        if name.startswith("filter.") and name not in LIST_FILTERS:
            raise InvalidField(name, "is not a filter of this list", LIST_FILTERS)


def _list(
    jobs: TenantJobs, services: Services, page_num: int, page_size: int, where: JobFilter
) -> TaskList:
    found = jobs.page(page_size, (page_num - 1) * page_size, where)
    items = [task_out(job, services) for job in found]
    return TaskList(total=jobs.count(where), items=items)


def _delete(task_id: str, jobs: TenantJobs, services: Services) -> dict[str, Any]:
    job = jobs.get(task_id, field="task_id")
    if not job.status.is_terminal:
        jobs.cancel(task_id, field="task_id")
        services.callbacks_due.set()
        return {}
    deleted = jobs.delete_finished(task_id)
    if deleted is not None:
        for file_key in job_keys(deleted.id):
            services.storage.delete(file_key)
    return {}


TaskIdPath = Annotated[str, Path(min_length=1, max_length=200)]


@router.post(TASKS_PATH, summary="Create a content generation task")
async def create_task(
    body: CreateTaskBody,
    services: ServicesDep,
    caller: CallerDep,
    jobs: JobsDep,
    key: IdempotencyHeader = None,
) -> TaskId:
    if names_a_draft(body):
        asked = await services.call(from_draft, body, jobs, services)
    else:
        asked = await services.call(to_generation_request, body, services)
    settings = services.settings
    await check_urls(
        {"callback_url": body.callback_url},
        settings.url_allowlist,
        only=settings.url_allowlist_only,
    )
    request, images = await with_images(asked.request, asked.images, services, asked.adaptive)
    extras = JobExtras(
        expires_after=expires_after(body, request.model),
        callback_url=body.callback_url,
        priority=body.priority or 0,
        tier=body.service_tier or "default",
    )
    once = partial(fingerprint, TASKS_PATH, body)
    job = await submit(services, caller, jobs, request, images, key, once, extras, surface="ark")
    if body.callback_url is not None:
        services.callbacks_due.set()
    return TaskId(id=job.id)


@router.get(f"{TASKS_PATH}/{{task_id}}", summary="Get a content generation task")
async def get_task(task_id: TaskIdPath, services: ServicesDep, jobs: JobsDep) -> Task:
    job = await services.call(jobs.get, task_id, "task_id")
    return await services.call(task_out, job, services)


@router.get(TASKS_PATH, summary="List content generation tasks, newest first")
async def list_tasks(
    request: Request,
    services: ServicesDep,
    jobs: JobsDep,
    page_num: Annotated[QueryInt, Query(ge=1, le=500)] = 1,
    page_size: Annotated[QueryInt, Query(ge=1, le=500)] = 10,
    status: Annotated[TaskStatus | None, Query(alias="filter.status")] = None,
    task_ids: Annotated[list[str] | None, Query(alias="filter.task_ids")] = None,
    model: Annotated[str | None, Query(alias="filter.model")] = None,
    tier: Annotated[ServiceTier | None, Query(alias="filter.service_tier")] = None,
) -> TaskList:
    check_list_parameters(request.query_params.keys())
    where = list_filter(status, task_ids, model, tier)
    return await services.call(_list, jobs, services, page_num, page_size, where)


@router.delete(
    f"{TASKS_PATH}/{{task_id}}", summary="Cancel a queued or running task; delete a finished one"
)
async def delete_task(task_id: TaskIdPath, services: ServicesDep, jobs: JobsDep) -> dict[str, Any]:
    return await services.call(_delete, task_id, jobs, services)
