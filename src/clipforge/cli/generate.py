"""`clipforge generate` after the request is made: the job's progress while it renders, the
video saved (or the failure reported), and `--open`'s hand-over to the system's viewer."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer
from rich.markup import escape

from clipforge.cli import output as show
from clipforge.cli.common import console
from clipforge.client import Client, Generation, Job


def follow_and_save(
    client: Client, generation: Generation, output: Path, as_json: bool
) -> tuple[Job, Path]:
    """Show the job's progress (and what the model read) until it ends; the finished job and
    where its video was saved. A failed job is reported, exit status 1."""
    if not as_json:
        console.print(f"job [bold]{generation.id}[/bold] queued")
    said: list[str] = []

    def progress(job: Job) -> None:
        bar.update(job)
        reading = show.reading_text(job)
        if reading and not said and not as_json:
            said.append(reading)
            console.print(f"model read: {escape(reading)}")

    with show.JobProgress(console, enabled=not as_json) as bar:
        job = generation.wait(on_progress=progress)
    if not job.ok:
        _report_failure(job, as_json)
    return job, client.download(job, output)


def report_saved(job: Job, path: Path, as_json: bool) -> None:
    if as_json:
        show.emit_json(show.job_json(job, path=str(path)))
    else:
        size = path.stat().st_size / 1e6
        console.print(f"saved {escape(str(path))} ({size:.1f} MB, seed {job.request.seed})")


def _report_failure(job: Job, as_json: bool) -> NoReturn:
    if as_json:
        show.emit_json(show.job_json(job))
    console.print(f"[red]job {job.status}[/red]: {escape(show.describe(job))}")
    raise typer.Exit(1)


def open_with_viewer(path: Path) -> None:
    """Show the video with the system's viewer, saying what happened (headless: why not)."""
    import os
    import shutil
    import subprocess
    import sys

    if sys.platform == "darwin":
        command = ["open", str(path)]
    elif sys.platform.startswith("win"):
        os.startfile(path)  # type: ignore[attr-defined]
        console.print(f"opened {escape(str(path))}", soft_wrap=True)
        return
    elif not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        console.print(
            "--open: no display here (DISPLAY is unset); the video is saved above", soft_wrap=True
        )
        return
    elif shutil.which("xdg-open") is None:
        console.print("--open: xdg-open is not installed; the video is saved above", soft_wrap=True)
        return
    else:
        command = ["xdg-open", str(path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    if done.returncode == 0:
        console.print(f"opened {escape(str(path))} with {command[0]}", soft_wrap=True)
    else:
        console.print(f"--open: {command[0]} failed ({done.stderr.strip()[:200]})", soft_wrap=True)
