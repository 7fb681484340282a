"""The BytePlus ModelArk surface (API.md section 3): content generation tasks under /api/v3.

Parameters come as JSON fields or as text commands at the end of the prompt
(`... --rs 720p --rt 16:9 --dur 5`). When both name the same parameter the JSON field wins:
the body is Ark's newer, strictly validated way and the text commands its older one, so a
client that sets a field explicitly means it. Either way a bad value is a 400 naming the
field or the text command (`param`).

Model ids: any id starting with `seedance-1-0-` maps to the catalogue's Seedance 1.0 model of
the same family (`lite`, `pro-fast`, else `pro`; `i2v` ids to the image-to-video ones) and the
Ark id is kept in the request (`client_model`) to be echoed back.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from clipforge.api.ark_commands import split_text_commands, text_command_values
from clipforge.api.deps import Authorized, Services, ServicesDep
from clipforge.errors import InvalidField, JobNotFound
from clipforge.schemas import (
    FPS,
    SEED_MAX,
    AspectRatio,
    GenerationRequest,
    Job,
    JobStatus,
    Resolution,
    new_seed,
)

BASE = "/api/v3"
TASKS_PATH = f"{BASE}/contents/generations/tasks"
ARK_MODEL_PREFIX = "seedance-1-0-"
PROMPT_MAX_CHARS = 4000
LIST_SCAN_PAGE = 200

router = APIRouter(tags=["BytePlus ModelArk"], dependencies=[Authorized])

TaskStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
STATUS_OUT: dict[JobStatus, TaskStatus] = {
    JobStatus.QUEUED: "queued",
    JobStatus.GENERATING: "running",
    JobStatus.COMPLETED: "succeeded",
    JobStatus.ERROR: "failed",
    JobStatus.CANCELLED: "cancelled",
}

RatioIn = Literal["16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "9:21", "adaptive"]


class ImageUrl(BaseModel):
    model_config = ConfigDict(extra="ignore")

    url: StrictStr = Field(min_length=1)


class ContentItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["text", "image_url"]
    text: StrictStr | None = None
    image_url: ImageUrl | None = None
    role: Literal["first_frame", "last_frame", "reference_image"] | None = None


class CreateTaskBody(BaseModel):
    """Create a task. JSON null means absent. `callback_url`, `return_last_frame`,
    `service_tier`, `execution_expires_after` and `frames` are accepted and ignored for now."""

    model_config = ConfigDict(extra="ignore")

    model: StrictStr = Field(examples=["seedance-1-0-pro-250528"])
    content: list[ContentItem] = Field(min_length=1)
    resolution: Resolution | None = None
    ratio: RatioIn | None = None
    duration: Literal[5, 10] | None = None
    framespersecond: Literal[24] | None = None
    seed: StrictInt | None = Field(None, ge=-1, le=SEED_MAX)
    camera_fixed: StrictBool | None = None
    watermark: StrictBool | None = None
    callback_url: StrictStr | None = None
    return_last_frame: StrictBool | None = None
    service_tier: StrictStr | None = None
    execution_expires_after: StrictInt | None = None
    frames: StrictInt | None = None


class TaskId(BaseModel):
    id: str


class TaskContent(BaseModel):
    video_url: str


class TaskUsage(BaseModel):
    completion_tokens: int
    total_tokens: int


class TaskError(BaseModel):
    code: str
    message: str


class Task(BaseModel):
    id: str
    model: str
    status: TaskStatus
    content: TaskContent | None = None
    usage: TaskUsage
    created_at: int
    updated_at: int
    seed: int
    resolution: str
    ratio: str
    duration: int
    framespersecond: int = FPS
    error: TaskError | None = None


class TaskList(BaseModel):
    total: int
    items: list[Task]


def served_model_id(ark_model: str, wants_images: bool) -> str:
    """The catalogue id an Ark model id stands for (see the module docstring)."""
    if not ark_model.startswith(ARK_MODEL_PREFIX):
        raise InvalidField(
            "model", f"model {ark_model!r} is not served here (ids start with {ARK_MODEL_PREFIX!r})"
        )
    rest = ark_model[len(ARK_MODEL_PREFIX) :]
    family = "lite" if rest.startswith("lite") else "pro"
    if "i2v" in rest.split("-"):
        return f"bytedance/seedance-1-0-{family}-i2v"
    if family == "pro" and rest.startswith("pro-fast"):
        return "bytedance/seedance-1-0-pro-fast"
    if wants_images:
        return f"bytedance/seedance-1-0-{family}-i2v"
    return f"bytedance/seedance-1-0-{family}-t2v"


def to_generation_request(body: CreateTaskBody, services: Services) -> GenerationRequest:
    texts = [item for item in body.content if item.type == "text"]
    images = [item for item in body.content if item.type == "image_url"]
    if len(texts) != 1 or not (texts[0].text or "").strip():
        raise InvalidField("content", "exactly one text item with a prompt is required")
    prompt, commands = split_text_commands(texts[0].text or "")
    if not prompt:
        raise InvalidField("content", "the text item has no prompt before its commands")
    if len(prompt) > PROMPT_MAX_CHARS:
        raise InvalidField("content", f"the prompt is longer than {PROMPT_MAX_CHARS} characters")

    model_id = served_model_id(body.model, wants_images=bool(images))
    try:
        served = services.catalog.require(model_id)
    except InvalidField:
        if not images:
            raise
        raise InvalidField(
            "content", f"model {body.model!r} takes no image input here (text only)"
        ) from None
    image_values: dict[str, str] = {}
    for item in images:
        if not served.image_input:
            raise InvalidField("content", f"model {body.model!r} takes no image input here")
        if item.image_url is None:
            raise InvalidField("content", "an image_url item needs image_url.url")
        key = "last_image_url" if item.role == "last_frame" else "image_url"
        image_values[key] = item.image_url.url

    # JSON fields win over text commands (module docstring); JSON null means absent.
    values = text_command_values(commands)
    values.update(
        body.model_dump(
            exclude_none=True,
            include={
                "resolution",
                "ratio",
                "duration",
                "framespersecond",
                "seed",
                "camera_fixed",
                "watermark",
            },
        )
    )
    values.pop("framespersecond", None)
    ratio = values.pop("ratio", None)
    seed = values.pop("seed", -1)
    return GenerationRequest(
        model=served.id,
        client_model=body.model,
        prompt=prompt,
        aspect_ratio=AspectRatio.WIDE if ratio in (None, "adaptive") else AspectRatio(ratio),
        seed=seed if seed >= 0 else new_seed(),
        **image_values,
        **values,
    )


def task_out(job: Job, services: Services) -> Task:
    request = job.request
    status = STATUS_OUT[job.status]
    content = None
    if status == "succeeded" and job.video_key:
        content = TaskContent(video_url=services.storage.url(job.video_key))
    error = None
    if status == "failed":
        error = TaskError(
            code=job.error_name or "InternalServiceError", message=job.error_message or ""
        )
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
        error=error,
    )


def _create(body: CreateTaskBody, services: Services) -> TaskId:
    return TaskId(id=services.store.create(to_generation_request(body, services)).id)


def _job(task_id: str, services: Services) -> Job:
    job = services.store.get(task_id)
    if job is None:
        missing = JobNotFound(task_id)
        missing.field = "task_id"
        raise missing
    return job


def _get(task_id: str, services: Services) -> Task:
    return task_out(_job(task_id, services), services)


def _model_of(job: Job) -> str:
    return job.request.client_model or job.request.model


def _list(
    services: Services,
    page_num: int,
    page_size: int,
    status: TaskStatus | None,
    task_ids: list[str] | None,
    model: str | None,
) -> TaskList:
    """Filters in Python: the store lists pages but cannot filter yet (O(all jobs) per call)."""
    if task_ids:
        found = (services.store.get(task_id) for task_id in dict.fromkeys(task_ids))
        jobs = sorted(
            (job for job in found if job is not None),
            key=lambda job: (job.created_at, job.id),
            reverse=True,
        )
    else:
        jobs = []
        offset = 0
        while page := services.store.list_jobs(limit=LIST_SCAN_PAGE, offset=offset):
            jobs.extend(page)
            offset += len(page)
    matching = [
        job
        for job in jobs
        if (status is None or STATUS_OUT[job.status] == status)
        and (model is None or _model_of(job) == model)
    ]
    start = (page_num - 1) * page_size
    items = [task_out(job, services) for job in matching[start : start + page_size]]
    return TaskList(total=len(matching), items=items)


def _delete(task_id: str, services: Services) -> dict[str, Any]:
    """Cancels a queued or running task. A finished task is left as it is: the store has no
    delete yet (the Ark contract deletes it; see the README)."""
    job = _job(task_id, services)
    if not job.status.is_terminal:
        services.store.cancel(task_id)
    return {}


TaskIdPath = Annotated[str, Path(min_length=1, max_length=200)]


@router.post(TASKS_PATH, summary="Create a content generation task")
async def create_task(body: CreateTaskBody, services: ServicesDep) -> TaskId:
    return await services.call(_create, body, services)


@router.get(f"{TASKS_PATH}/{{task_id}}", summary="Get a content generation task")
async def get_task(task_id: TaskIdPath, services: ServicesDep) -> Task:
    return await services.call(_get, task_id, services)


@router.get(TASKS_PATH, summary="List content generation tasks, newest first")
async def list_tasks(
    services: ServicesDep,
    page_num: Annotated[int, Query(ge=1, le=500)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 10,
    status: Annotated[TaskStatus | None, Query(alias="filter.status")] = None,
    task_ids: Annotated[list[str] | None, Query(alias="filter.task_ids")] = None,
    model: Annotated[str | None, Query(alias="filter.model")] = None,
) -> TaskList:
    return await services.call(_list, services, page_num, page_size, status, task_ids, model)


@router.delete(f"{TASKS_PATH}/{{task_id}}", summary="Cancel a queued or running task")
async def delete_task(task_id: TaskIdPath, services: ServicesDep) -> dict[str, Any]:
    return await services.call(_delete, task_id, services)
