"""The CLI through its runner, against a live server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from typer.testing import CliRunner

from clipforge.client.cli import app
from tests.live import LiveServer, live_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("cli")
    with live_server(data, backend="testpattern", api_keys="cli-key") as live:
        yield live


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_generate_saves_the_video_and_status_reports_it(server: LiveServer, tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    code, output = run(
        "generate",
        "a red ball rolling to the right",
        "--resolution",
        "480p",
        "--aspect-ratio",
        "9:16",
        "--seed",
        "11",
        "--camera-fixed",
        "--watermark",
        "-o",
        str(out),
        "--server",
        server.url,
        "--api-key",
        "cli-key",
    )
    assert code == 0, output
    assert "saved" in output and "seed 11" in output
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (480, 864)
    job_id = output.split("job ")[1].split()[0]
    code, output = run("status", job_id, "--server", server.url, "--api-key", "cli-key")
    assert code == 0, output
    job = json.loads(output)
    assert job["status"] == "completed"
    assert job["request"]["camera_fixed"] is True and job["request"]["watermark"] is True


def test_cli_reports_server_errors(server: LiveServer, tmp_path: Path) -> None:
    code, output = run("status", "missing", "--server", server.url, "--api-key", "cli-key")
    assert code == 1 and "404" in output
    code, output = run(
        "generate",
        "x",
        "-o",
        str(tmp_path / "x.mp4"),
        "--server",
        server.url,
        "--api-key",
        "wrong",
    )
    assert code == 1 and "401" in output
    code, output = run("generate", "x", "--server", "http://127.0.0.1:9", "-o", "x.mp4")
    assert code == 1 and "cannot reach" in output
