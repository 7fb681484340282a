"""How the CLI shows things: a live progress bar for one job, tables, details, JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from clipforge.client import Job, Model


def emit_json(value: Any) -> None:
    """Machine-readable output: one JSON document on stdout."""
    sys.stdout.write(json.dumps(value, indent=2) + "\n")


def job_json(job: Job, **extra: Any) -> dict[str, Any]:
    return {**job.model_dump(mode="json"), **extra}


def describe(job: Job) -> str:
    """One line for a job's state: queue place, step i/N with an ETA, or how it ended."""
    if job.status == "queued":
        place = job.place_in_line
        return "queued" if place is None else f"queued, position {place} in line"
    if job.status == "generating":
        step, total = job.progress.step, job.progress.total
        eta = "" if job.eta_seconds is None else f", ETA {job.eta_seconds:.0f}s"
        if job.phase in ("decoding", "encoding", "uploading"):
            return f"{job.phase}{eta}"
        if job.phase == "loading" or not total:
            return "generating, loading the model"
        return f"generating, step {step}/{total}{eta}"
    if job.status == "completed":
        return "completed, video expired" if job.video_expired else "completed"
    reason = f": {job.error.message}" if job.error else ""
    return f"{job.status}{reason}"


class JobProgress:
    """A progress bar that follows one job; `update` is the on_progress callback of wait()."""

    def __init__(self, console: Console, *, enabled: bool = True) -> None:
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
        )
        self._progress = Progress(*columns, console=console, disable=not enabled)
        self._task: TaskID | None = None

    def __enter__(self) -> JobProgress:
        self._progress.start()
        self._task = self._progress.add_task("queued", total=None, detail="")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def update(self, job: Job) -> None:
        assert self._task is not None, "use JobProgress as a context manager"
        self._progress.update(self._task, **_bar_fields(job))


def _bar_fields(job: Job) -> dict[str, Any]:
    step, total = job.progress.step, job.progress.total
    detail = escape(describe(job).partition(", ")[2])
    if job.status == "queued":
        return {"description": "queued", "detail": detail, "total": None}
    if job.status == "generating":
        if job.phase in ("decoding", "encoding", "uploading"):  # the steps are done: bar full
            return {
                "description": job.phase,
                "completed": total,
                "total": total or None,
                "detail": detail,
            }
        return {
            "description": "generating",
            "completed": step,
            "total": total or None,
            "detail": detail,
        }
    return {"description": job.status, "completed": total or 1, "total": total or 1, "detail": ""}


def jobs_table(jobs: Sequence[Job]) -> Table:
    table = Table(box=box.SIMPLE, expand=True)
    table.add_column("id", no_wrap=True, min_width=36)  # in full: it is what other commands take
    table.add_column("status", no_wrap=True, min_width=16)
    table.add_column("prompt", overflow="ellipsis", no_wrap=True, ratio=1)
    for job in jobs:
        table.add_row(job.id, escape(_short_status(job)), escape(job.request.prompt))
    return table


def _short_status(job: Job) -> str:
    if job.status == "queued" and job.place_in_line is not None:
        return f"queued #{job.place_in_line}"
    if job.status == "generating" and job.progress.total:
        return f"generating {job.progress.step}/{job.progress.total}"
    return job.status


def models_table(models: Sequence[Model]) -> Table:
    table = Table(box=box.SIMPLE, caption=_references_note(models), caption_justify="left")
    table.add_column("id", no_wrap=True)  # in full: it is what --model takes
    for name in ("backend", "weights", "image", "sound"):  # whole ids in 80 columns
        table.add_column(name)
    loras = any(model.loras for model in models)
    if loras:
        table.add_column("LoRA adapters", overflow="fold")
    noted = any(model.notes for model in models)
    if noted:  # a recipe part that is off (`two-stage: off, ...`), as the worker warns
        table.add_column("notes", overflow="fold")
    for model in models:
        image = "yes" if model.image_input else "no"
        sound = "yes" if model.sound else "no"
        row = [model.id, model.backend, escape(model.weights or "-"), image, sound]
        row += [escape(adapters_text(model))] if loras else []
        table.add_row(*row, *([escape("; ".join(model.notes) or "-")] if noted else []))
    return table


def adapters_text(model: Model) -> str:
    """`name (scale, status)` per adapter, with the reason of one that failed to load."""
    parts = []
    for lora in model.loras:
        text = f"{lora.name} ({lora.scale:g}, {lora.status})"
        parts.append(f"{text}: {lora.error}" if lora.error else text)
    text = "; ".join(parts) or "-"
    return f"{text} [fixed]" if model.loras_fixed and model.loras else text


def _references_note(models: Sequence[Model]) -> str | None:
    """What the ids that take reference images (`image_urls`) render them with."""
    groups: dict[str, list[str]] = {}
    for model in models:
        if model.reference_images:
            weights = model.reference_weights or model.weights or model.backend
            groups.setdefault(weights, []).append(model.id)
    lines = [
        f"with reference images: {', '.join(ids)} -> {escape(weights)}"
        for weights, ids in groups.items()
    ]
    return "\n".join(lines) or None


def job_details(job: Job) -> Table:
    """A job as `field  value` rows, for `clipforge status`."""
    request = job.request
    rows = [
        ("id", job.id),
        ("status", describe(job)),
        ("prompt", request.prompt),
        ("model", request.model),
        ("video", f"{request.resolution} {request.aspect_ratio}, {request.duration} s"),
        ("seed", str(request.seed)),
        ("options", _flags(job) or "-"),
        ("created", _when(job.created_at)),
        ("finished", _when(job.finished_at)),
        ("attempts", str(job.attempts)),
        ("url", job.video_url or ("expired (retention)" if job.video_expired else "-")),
        ("model read", reading_text(job) or "-"),
    ]
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in rows:
        table.add_row(name, escape(value))
    return table


def reading_text(job: Job) -> str:
    """What the model made of the request, in one line ("" until a worker has it)."""
    reading = job.reading
    if not reading:
        return ""
    text = str(reading.get("prompt", ""))
    unused = reading.get("unused_words") or []
    if unused:
        text += f" (words it did not use: {', '.join(map(str, unused))})"
    return text


def _flags(job: Job) -> str:
    flags = [("camera fixed", job.request.camera_fixed), ("watermark", job.request.watermark)]
    return ", ".join(name for name, on in flags if on)


def _when(stamp: float | None) -> str:
    return "-" if stamp is None else datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M:%S")
