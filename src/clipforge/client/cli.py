"""The `clipforge` command: serve, generate, status."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from clipforge.client._http import ClipForgeHTTP, ServerError
from clipforge.schemas import SEEDANCE_MODELS, AspectRatio, Resolution
from clipforge.settings import ClientSettings

app = typer.Typer(help="ClipForge: self-hosted text-to-video with the Seedance API.")
console = Console(stderr=True)

ServerOption = Annotated[
    str | None, typer.Option("--server", help="Server URL (default $CLIPFORGE_URL).")
]
KeyOption = Annotated[
    str | None, typer.Option("--api-key", help="API key (default $CLIPFORGE_API_KEY).")
]


def _client(server: str | None, api_key: str | None) -> ClipForgeHTTP:
    defaults = ClientSettings()
    return ClipForgeHTTP(server or defaults.url, api_key or defaults.api_key)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address.")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port.")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Database and videos folder.")] = None,
    model: Annotated[
        str | None, typer.Option(help="Diffusers pipeline folder (or hub id) to serve.")
    ] = None,
    backend: Annotated[str | None, typer.Option(help="Backend name.")] = None,
    workers: Annotated[int | None, typer.Option(help="In-process workers (0: API only).")] = None,
) -> None:
    """Start the API and the in-process worker(s)."""
    from clipforge.serve import run_server

    overrides = {
        "host": host,
        "port": port,
        "data_dir": data_dir,
        "model": model,
        "backend": backend,
        "workers": workers,
    }
    raise typer.Exit(run_server({k: v for k, v in overrides.items() if v is not None}))


@app.command()
def generate(
    prompt: Annotated[str, typer.Argument(help="What the video shows.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to save the MP4.")] = Path(
        "clipforge.mp4"
    ),
    model: Annotated[str, typer.Option(help="Model id.")] = SEEDANCE_MODELS[0],
    resolution: Annotated[Resolution, typer.Option(help="Short side.")] = Resolution.P1080,
    aspect_ratio: Annotated[AspectRatio, typer.Option(help="Frame shape.")] = AspectRatio.WIDE,
    duration: Annotated[int, typer.Option(help="Seconds: 5 or 10.")] = 5,
    seed: Annotated[int | None, typer.Option(help="Same seed, same video.")] = None,
    camera_fixed: Annotated[bool, typer.Option(help="Keep the camera still.")] = False,
    watermark: Annotated[bool, typer.Option(help="Add the 'AI generated' mark.")] = False,
    server: ServerOption = None,
    api_key: KeyOption = None,
) -> None:
    """Generate a video on a running server and save it."""
    body: dict[str, Any] = {
        "model": model,
        "prompt": prompt,
        "resolution": resolution.value,
        "aspect_ratio": aspect_ratio.value,
        "duration": duration,
        "seed": seed,
        "camera_fixed": camera_fixed,
        "watermark": watermark,
    }
    client = _client(server, api_key)
    try:
        job_id = client.create(body)["id"]
        console.print(f"job [bold]{job_id}[/bold] queued")
        job = _follow(client, job_id)
        if job["status"] != "completed":
            console.print(f"[red]job {job['status']}[/red]: {job.get('error')}")
            raise typer.Exit(1)
        size = client.download(job["video_url"], output)
    except ServerError as exc:
        console.print(f"[red]error[/red]: {exc}")
        raise typer.Exit(1) from exc
    finally:
        client.close()
    console.print(f"saved {output} ({size / 1e6:.1f} MB, seed {job['request']['seed']})")


def _follow(client: ClipForgeHTTP, job_id: str, interval: float = 0.5) -> dict[str, Any]:
    """Poll until the job ends, drawing its progress."""
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[detail]}"))
    with Progress(*columns, TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("queued", total=None, detail="")
        while True:
            job = client.job(job_id)
            bar.update(task, **_progress_fields(job))
            if job["status"] in ("completed", "error", "cancelled"):
                return job
            time.sleep(interval)


def _progress_fields(job: dict[str, Any]) -> dict[str, Any]:
    step, total = job["progress"]["step"], job["progress"]["total"]
    if job["status"] == "queued":
        position = job.get("queue_position")
        return {"description": "queued", "detail": f"position {position}", "total": None}
    if job["status"] == "generating":
        detail = f"step {step}/{total}" if total else "starting"
        return {
            "description": "generating",
            "completed": step,
            "total": total or None,
            "detail": detail,
        }
    return {"description": job["status"], "completed": total, "total": total or 1, "detail": ""}


@app.command()
def status(
    job_id: Annotated[str, typer.Argument(help="Generation id.")],
    server: ServerOption = None,
    api_key: KeyOption = None,
) -> None:
    """Print a job as JSON."""
    client = _client(server, api_key)
    try:
        job = client.job(job_id)
    except ServerError as exc:
        console.print(f"[red]error[/red]: {exc}")
        raise typer.Exit(1) from exc
    finally:
        client.close()
    sys.stdout.write(json.dumps(job, indent=2) + "\n")


def main() -> None:
    app()
