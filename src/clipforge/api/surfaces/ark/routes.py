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

from clipforge.api.accept.fields import QueryInt
from clipforge.api.accept.idempotency import IdempotencyHeader, fingerprint
from clipforge.api.accept.submit import submit, with_images
from clipforge.api.deps import Authorized, CallerDep, JobsDep, Services, ServicesDep
from clipforge.api.http.error_bodies import ARK_ERRORS
from clipforge.api.http.json_body import StrictJsonRoute
from clipforge.api.surfaces.ark.drafts import from_draft, names_a_draft
from clipforge.api.surfaces.ark.models import (
    STATUS_FILTERS,
    CreateTaskBody,
    RatioIn,
    ServiceTier,
    Task,
    TaskId,
    TaskList,
    TaskStatus,
)
from clipforge.api.surfaces.ark.newer import expires_after
from clipforge.api.surfaces.ark.requests import served_model_id, to_generation_request
from clipforge.api.surfaces.ark.views import task_out
from clipforge.errors import InvalidField
from clipforge.outbound import check_urls
from clipforge.store.base import JobExtras
from clipforge.store.filters import JobFilter
from clipforge.store.tenant import TenantJobs

BASE = "/api/v3"
TASKS_PATH = f"{BASE}/contents/generations/tasks"

router = APIRouter(
    tags=["BytePlus ModelArk"],
    dependencies=[Authorized],
    responses=ARK_ERRORS,
    route_class=StrictJsonRoute,
)

__all__ = ["RatioIn", "router", "served_model_id"]


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
    items = [task_out(job, services.storage) for job in found]
    return TaskList(total=jobs.count(where), items=items)


def _delete(task_id: str, jobs: TenantJobs) -> dict[str, Any]:
    """Ark's DELETE: a queued or running task is cancelled (and stays listed); a finished one
    is deleted with its files."""
    if jobs.get(task_id, field="task_id").status.is_terminal:
        jobs.delete_finished(task_id)
    else:
        jobs.cancel(task_id, field="task_id")
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
        asked = to_generation_request(body, services)  # validation: inline, never queued
    settings = services.settings
    await check_urls(
        {"callback_url": body.callback_url},
        settings.url_allowlist,
        only=settings.url_allowlist_only,
    )
    request, taken = await with_images(asked.request, asked.images, services, asked.adaptive)
    images = [*taken, *asked.stored]
    extras = JobExtras(
        expires_after=expires_after(body, request.model),
        callback_url=body.callback_url,
        priority=body.priority or 0,
        tier=body.service_tier or "default",
    )
    once = partial(fingerprint, TASKS_PATH, body)
    job = await submit(services, caller, jobs, request, images, key, once, extras, surface="ark")
    return TaskId(id=job.id)


@router.get(f"{TASKS_PATH}/{{task_id}}", summary="Get a content generation task")
async def get_task(task_id: TaskIdPath, services: ServicesDep, jobs: JobsDep) -> Task:
    job = await services.call(jobs.get, task_id, "task_id")
    return await services.call(task_out, job, services.storage)


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
    return await services.call(_delete, task_id, jobs)
