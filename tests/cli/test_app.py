"""The CLI through its runner (and once as a real process), against live servers."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from typer.testing import CliRunner

from clipforge.cli import app
from tests.live import LiveServer, live_server
from tests.slow_worker import paced_worker

KEY = "cli-key"
MODEL = "bytedance/seedance-1-0-pro-t2v"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("cli")
    with live_server(data, backend="testpattern", api_keys=KEY) as live:
        yield live


@pytest.fixture(scope="module")
def idle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """No workers: jobs stay queued until a test cancels them."""
    data = tmp_path_factory.mktemp("cli-idle")
    with live_server(data, backend="testpattern", api_keys=KEY, workers=0) as live:
        yield live


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def on(live: LiveServer) -> tuple[str, ...]:
    return ("--server", live.url, "--api-key", KEY)


def create(live: LiveServer, prompt: str) -> str:
    with live.client(KEY) as http:
        body = {"model": MODEL, "prompt": prompt, "resolution": "480p"}
        job_id: str = http.post("/v2/video/generations", json=body).json()["id"]
        return job_id


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
        *on(server),
    )
    assert code == 0, output
    assert "saved" in output and "seed 11" in output
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (480, 864)
    job_id = output.split("job ")[1].split()[0]
    code, output = run("status", job_id, "--json", *on(server))
    assert code == 0, output
    job = json.loads(output)
    assert job["status"] == "completed" and job["video_url"]
    assert job["request"]["camera_fixed"] is True and job["request"]["watermark"] is True
    code, output = run("status", job_id, *on(server))
    assert code == 0, output
    assert job_id in output and "completed" in output and "camera fixed, watermark" in output


def test_generate_json_and_open(server: LiveServer, tmp_path: Path) -> None:
    """--open hands the saved file to the OS viewer (xdg-open: here a script that notes it)."""
    viewer_dir, log = tmp_path / "bin", tmp_path / "viewer.log"
    viewer_dir.mkdir()
    viewer = viewer_dir / "xdg-open"
    viewer.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{log}"\n')
    viewer.chmod(0o755)
    out = tmp_path / "json.mp4"
    env = {"PATH": f"{viewer_dir}{os.pathsep}{os.environ['PATH']}", "DISPLAY": ":0"}
    args = ("generate", "a blue cube", "--resolution", "480p", "-o", str(out), "--json", "--open")
    result = CliRunner().invoke(app, [*args, *on(server)], env=env)
    assert result.exit_code == 0, result.output
    job = json.loads(result.stdout)
    assert job["status"] == "completed" and job["path"] == str(out) and out.stat().st_size > 0
    deadline = time.monotonic() + 10
    while not log.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert log.read_text() == str(out)
    assert f"opened {out} with xdg-open" in result.stderr


def test_open_on_a_headless_machine_says_why_not(server: LiveServer, tmp_path: Path) -> None:
    out = tmp_path / "headless.mp4"
    env = {"DISPLAY": "", "WAYLAND_DISPLAY": ""}
    args = ("generate", "a blue cube", "--resolution", "480p", "-o", str(out), "--open")
    result = CliRunner().invoke(app, [*args, *on(server)], env=env)
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0
    assert "--open: no display here (DISPLAY is unset); the video is saved above" in result.stderr


def test_json_errors_are_json_on_stdout(server: LiveServer) -> None:
    for args in (("status", "missing"), ("cancel", "missing"), ("list",), ("models",)):
        result = CliRunner().invoke(app, [*args, "--json", "--server", server.url])
        assert result.exit_code == 2, result.output  # a 4xx: the command's to fix
        error = json.loads(result.stdout)["error"]
        assert error["status"] == 401 and "--api-key" in error["message"], error
    result = CliRunner().invoke(app, ["status", "missing", "--json", *on(server)])
    assert result.exit_code == 2 and json.loads(result.stdout)["error"]["status"] == 404
    result = CliRunner().invoke(app, ["models", "--json", "--server", "http://127.0.0.1:9"])
    error = json.loads(result.stdout)["error"]
    assert result.exit_code == 1 and "cannot reach" in error["message"] and error["status"] is None


def test_the_models_table_shows_whole_ids_in_80_columns(server: LiveServer) -> None:
    result = CliRunner().invoke(app, ["models", *on(server)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "bytedance/seedance-1-0-lite-t2v" in result.stdout
    assert "…" not in result.stdout


def test_list_cancel_and_models(idle: LiveServer) -> None:
    first, second = create(idle, "first clip"), create(idle, "second clip")
    code, output = run("list", "--json", "--limit", "2", *on(idle))
    assert code == 0, output
    jobs = json.loads(output)
    assert [job["id"] for job in jobs] == [second, first]
    assert [job["queue_position"] for job in jobs] == [1, 0]
    code, output = run("list", *on(idle))
    assert code == 0 and first in output and second in output and "queued #2" in output

    code, output = run("cancel", first, "--json", *on(idle))
    assert code == 0, output
    assert json.loads(output)["status"] == "cancelled"
    code, output = run("cancel", second, *on(idle))
    assert code == 0 and "cancelled" in output
    code, output = run("list", "--json", "--limit", "1", "--offset", "1", *on(idle))
    assert [job["id"] for job in json.loads(output)] == [first]

    code, output = run("models", "--json", *on(idle))
    assert code == 0, output
    models = json.loads(output)
    assert MODEL in {model["id"] for model in models}
    assert {model["backend"] for model in models} == {"testpattern"}
    code, output = run("models", *on(idle))
    assert code == 0 and MODEL in output and "testpattern" in output


def test_cli_reports_server_errors(server: LiveServer, tmp_path: Path) -> None:
    code, output = run("status", "missing", *on(server))
    assert code == 2 and "404" in output  # 4xx: the command's to fix, exit status 2
    code, output = run("cancel", "missing", "--json", *on(server))
    assert code == 2 and "404" in output
    code, output = run(
        "generate", "x", "-o", str(tmp_path / "x.mp4"), "--server", server.url, "--api-key", "bad"
    )
    assert code == 2 and "401" in output
    code, output = run("models", "--server", server.url)
    assert code == 2 and "401" in output
    code, output = run("models", "--server", server.url, "--api-key", f"Bearer {KEY}")
    assert code == 0, output  # a key pasted with its "Bearer " is the key
    code, output = run("generate", "x", "--server", "http://127.0.0.1:9", "-o", "x.mp4")
    assert code == 1 and "cannot reach" in output


def test_generate_reports_a_cancelled_job(idle: LiveServer, tmp_path: Path) -> None:
    process = cli_process(idle, "doomed clip", tmp_path / "never.mp4", "--json")
    job_id = wait_for_job(idle, "doomed clip")
    code, output = run("cancel", job_id, *on(idle))
    assert code == 0, output
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 1, stderr
    assert json.loads(stdout)["status"] == "cancelled" and "job cancelled" in stderr
    assert not (tmp_path / "never.mp4").exists()


def test_progress_shows_queue_place_then_steps_and_eta(tmp_path: Path) -> None:
    """The live bar, drawn as on a terminal (FORCE_COLOR), in a real `clipforge` process."""
    with live_server(tmp_path / "data", backend="testpattern", api_keys=KEY, workers=0) as live:
        ahead = create(live, "ahead")
        process = cli_process(live, "watched clip", tmp_path / "watched.mp4")
        wait_for_job(live, "watched clip")
        time.sleep(1.0)  # the CLI polls twice a second
        run("cancel", ahead, *on(live))
        time.sleep(1.0)
        with paced_worker(live, step_seconds=0.8, decode_seconds=1.5, frame_seconds=0.015):
            _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    for needle in ("position 2 in line", "position 1 in line", "ETA"):
        assert needle in stderr, needle
    step = re.search(r"step [123]/4", stderr)
    assert step is not None, "no step i/4 drawn"
    assert stderr.index("position 2") < stderr.index("position 1") < step.start()
    assert step.start() < stderr.index("decoding") < stderr.index("encoding")
    assert "saved" in stderr and (tmp_path / "watched.mp4").stat().st_size > 0


def cli_process(live: LiveServer, prompt: str, out: Path, *extra: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "clipforge", "generate", prompt, "--resolution", "480p"]
    command += ["-o", str(out), *on(live), *extra]
    env = {**os.environ, "FORCE_COLOR": "1", "COLUMNS": "160"}
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for_job(live: LiveServer, prompt: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with live.client(KEY) as http:
            jobs = http.get("/v1/jobs", params={"limit": 100}).json()["data"]
        for job in jobs:
            if job["request"]["prompt"] == prompt and job["status"] == "queued":
                return str(job["id"])
        time.sleep(0.1)
    raise AssertionError(f"no queued job for {prompt!r}")


def test_the_cli_uses_the_environment(server: LiveServer) -> None:
    env = {"CLIPFORGE_URL": server.url, "CLIPFORGE_API_KEY": KEY}
    code, output = run("models", "--json", env=env)
    assert code == 0, output
    assert MODEL in {model["id"] for model in json.loads(output)}
    code, output = run("models", env={**env, "CLIPFORGE_API_KEY": "bad"})
    assert code == 2 and "401" in output
    code, output = run("models", env={**env, "CLIPFORGE_API_KEY": f"Bearer {KEY}"})
    assert code == 0, output
