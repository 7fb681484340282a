"""The `clipforge` command: serve, worker, generate, status, list, cancel, models, keys.

Every command that talks to a server takes --server and --api-key (default $CLIPFORGE_URL
and $CLIPFORGE_API_KEY) and, except serve, --json for scripts: one JSON document on stdout.
Progress and messages go to stderr. Errors are one line naming the problem and the fix: a
mistake in the command or the request (a usage error, a missing file, a 4xx) exits with
status 2, anything else (no server, a failed job, a 5xx) with status 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

try:  # typer vendors click since 0.20; before, click itself
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover
    from click.exceptions import UsageError  # type: ignore[assignment]

from clipforge.cli import output as show
from clipforge.cli.common import connect, console, fail, stdout
from clipforge.cli.generate import follow_and_save, open_with_viewer, report_saved
from clipforge.cli.keys import keys_app
from clipforge.client import DEFAULT_MODEL
from clipforge.schemas import AspectRatio, Resolution

IMAGE_MODEL = "bytedance/seedance-1-0-pro-i2v"
"""The model `clipforge generate --image` asks for unless --model says otherwise."""

app = typer.Typer(help="ClipForge: self-hosted text-to-video with the Seedance API.")

ServerOption = Annotated[
    str | None, typer.Option("--server", help="Server URL (default $CLIPFORGE_URL).")
]
KeyOption = Annotated[
    str | None, typer.Option("--api-key", help="API key (default $CLIPFORGE_API_KEY).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout, for scripts.")]
JobIdArgument = Annotated[str, typer.Argument(help="Generation id.")]


def example(*lines: str) -> str:
    """A command's help epilog: how a person runs it."""
    return "Example: " + "   ".join(lines)


@app.command(
    epilog=example(
        "clipforge serve   (the built-in model on http://127.0.0.1:8000; the studio at /)",
        "clipforge serve --backend testpattern --port 8080",
    )
)
def serve(
    host: Annotated[
        str | None, typer.Option(help="Listen address (default 127.0.0.1; $CLIPFORGE_HOST).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Listen port (default 8000; $CLIPFORGE_PORT).")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Database and videos folder (default ~/.local/share/clipforge, "
            "$CLIPFORGE_DATA_DIR)."
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="Diffusers pipeline folder (or hub id) to serve (default the built-in "
            "model's shipped weights, $CLIPFORGE_MODEL)."
        ),
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option(
            help="Backend: builtin, diffusers, testpattern (default auto = diffusers when "
            "--model names weights, else builtin; $CLIPFORGE_BACKEND)."
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="In-process workers, 0: API only (default 1, $CLIPFORGE_WORKERS)."),
    ] = None,
) -> None:
    """Start the API, the web studio (at /) and the in-process worker(s). Prints one line
    when it listens; the model loads in the background while the queue already accepts."""
    from clipforge.cli.serve import run_server

    overrides = {
        "host": host,
        "port": port,
        "data_dir": data_dir,
        "model": model,
        "backend": backend,
        "workers": workers,
    }
    raise typer.Exit(run_server({k: v for k, v in overrides.items() if v is not None}))


@app.command(epilog=example("clipforge worker --model bytedance/seedance-1-0-pro-t2v"))
def worker(
    model: Annotated[
        list[str] | None,
        typer.Option(help="API model id whose queue to serve (repeat; default every one)."),
    ] = None,
    device: Annotated[str | None, typer.Option(help="Torch device, e.g. cuda:0.")] = None,
    backend: Annotated[str | None, typer.Option(help="Backend name.")] = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve this worker's Prometheus metrics on this port.")
    ] = None,
    metrics_host: Annotated[
        str, typer.Option(help="Address the metrics port listens on (0.0.0.0: every one).")
    ] = "127.0.0.1",
) -> None:
    """Run one GPU worker taking jobs from PostgreSQL through procrastinate (scale-out)."""
    from clipforge.cli.worker import run_worker_command

    metrics = None if metrics_port is None else (metrics_host, metrics_port)
    raise typer.Exit(
        run_worker_command(model or [], device=device, backend=backend, metrics=metrics)
    )


@app.command(
    epilog=example(
        "clipforge generate 'a red ball bouncing to the right on a blue background' "
        "--resolution 480p -o ball.mp4",
        "clipforge generate 'the flag waves' --image first.png",
    )
)
def generate(
    prompt: Annotated[str, typer.Argument(help="What the video shows.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to save the MP4.")] = Path(
        "clipforge.mp4"
    ),
    model: Annotated[
        str | None,
        typer.Option(help=f"Model id (default {DEFAULT_MODEL}; with --image {IMAGE_MODEL})."),
    ] = None,
    resolution: Annotated[Resolution, typer.Option(help="Short side.")] = Resolution.P1080,
    aspect_ratio: Annotated[AspectRatio, typer.Option(help="Frame shape.")] = AspectRatio.WIDE,
    duration: Annotated[int, typer.Option(help="Seconds: 5 or 10.")] = 5,
    seed: Annotated[int | None, typer.Option(help="Same seed, same video.")] = None,
    camera_fixed: Annotated[bool, typer.Option(help="Keep the camera still.")] = False,
    watermark: Annotated[bool, typer.Option(help="Add the 'AI generated' mark.")] = False,
    image: Annotated[
        Path | None, typer.Option(help="First frame: animate this image (image-to-video).")
    ] = None,
    last_image: Annotated[
        Path | None, typer.Option(help="Last frame, where the model takes one.")
    ] = None,
    open_video: Annotated[
        bool, typer.Option("--open", help="Open the saved video with the system's viewer.")
    ] = False,
    server: ServerOption = None,
    api_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Generate a video on a running server, showing its progress, and save it."""
    for flag, path in (("--image", image), ("--last-image", last_image)):
        if path is not None and not path.is_file():
            fail(f"{flag} {path}: no such file; give the path of a PNG, JPEG or WebP image")
    with connect(server, api_key, as_json) as client:
        generation = client.generate(
            prompt,
            model=model or (IMAGE_MODEL if image else DEFAULT_MODEL),
            image=image,
            last_image=last_image,
            resolution=resolution.value,
            aspect_ratio=aspect_ratio.value,
            duration=duration,
            seed=seed,
            camera_fixed=camera_fixed,
            watermark=watermark,
        )
        job, path = follow_and_save(client, generation, output, as_json)
    report_saved(job, path, as_json)
    if open_video:
        open_with_viewer(path)


@app.command(epilog=example("clipforge status JOB_ID"))
def status(
    job_id: JobIdArgument,
    server: ServerOption = None,
    api_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one job: its state, progress and video link."""
    with connect(server, api_key, as_json) as client:
        job = client.get(job_id)
    if as_json:
        show.emit_json(show.job_json(job))
    else:
        stdout.print(show.job_details(job))


@app.command("list", epilog=example("clipforge list --limit 5"))
def list_jobs(
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many jobs.")] = 20,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many newest jobs.")] = 0,
    server: ServerOption = None,
    api_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """List jobs, newest first."""
    with connect(server, api_key, as_json) as client:
        jobs = client.list(limit=limit, offset=offset)
    if as_json:
        show.emit_json([show.job_json(job) for job in jobs])
    elif jobs:
        stdout.print(show.jobs_table(jobs))
    else:
        console.print("no jobs")


@app.command(epilog=example("clipforge cancel JOB_ID"))
def cancel(
    job_id: JobIdArgument,
    server: ServerOption = None,
    api_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cancel a queued or running job (a finished one is left as it is)."""
    with connect(server, api_key, as_json) as client:
        job = client.cancel(job_id)
    if as_json:
        show.emit_json(show.job_json(job))
    else:
        console.print(f"job [bold]{job.id}[/bold]: {escape(show.describe(job))}")


@app.command(epilog=example("clipforge models --json"))
def models(
    server: ServerOption = None,
    api_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the model ids the server serves, and the backend behind each."""
    with connect(server, api_key, as_json) as client:
        served = client.models()
    if as_json:
        show.emit_json([model.model_dump(mode="json") for model in served])
    else:
        stdout.print(show.models_table(served))


app.add_typer(keys_app, name="keys")


def main() -> None:
    """The `clipforge` command: a usage error (an unknown option, a word where a number
    belongs) is one line and exit status 2, not click's four-line usage block."""
    try:
        code = app(standalone_mode=False)
    except UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "clipforge"
        fix = f"see `{where} --help`"
        console.print(f"[red]error[/red]: {escape(exc.format_message())} ({fix})", soft_wrap=True)
        raise SystemExit(2) from None
    except typer.Abort:
        raise SystemExit(1) from None
    raise SystemExit(code or 0)
