"""What a person trips over in the first minute, as a real `clipforge` process: one-line
errors with exit status 2, no server vs a starting one, help with defaults and examples, and
`serve`'s ready line before the model has loaded."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from clipforge.cli import starting
from tests.live import free_port


def clipforge(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "clipforge", *args]
    full = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=full)


def test_user_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    cases = {
        ("generate", "a ball", "--image", str(tmp_path / "missing.png")): "no such file",
        ("generate", "a ball", "--duration", "abc"): "--duration",
        ("generate", "a ball", "--durration", "5"): "--duration",
        ("genernate", "a ball"): "Did you mean 'generate'",
    }
    for args, words in cases.items():
        done = clipforge(*args)
        assert done.returncode == 2, (args, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and words in lines[0], (args, done.stderr)
        assert "Traceback" not in done.stderr


def test_no_server_says_how_to_start_one() -> None:
    done = clipforge("models", env={"CLIPFORGE_URL": f"http://127.0.0.1:{free_port()}"})
    assert done.returncode == 1
    assert "start one with `clipforge serve`" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_help_shows_defaults_and_an_example() -> None:
    served = clipforge("serve", "--help").stdout
    assert "(default 8000;" in served and "(default 127.0.0.1;" in served, served
    for command in ("serve", "generate", "status", "list", "cancel", "models"):
        shown = clipforge(command, "--help").stdout
        assert f"Example: clipforge {command}" in shown, (command, shown)


def test_serve_is_ready_before_the_model_loads_and_generate_waits(tmp_path: Path) -> None:
    """The built-in model (torch, MiniLM) loads after the ready line; a command sent while
    the server starts waits for it instead of "connection refused"."""
    port = free_port()
    starting.mark_starting(port)  # as serve does first thing (here: this test's own pid)
    url = f"http://127.0.0.1:{port}"
    client = subprocess.Popen(
        [sys.executable, "-m", "clipforge", "models", "--server", url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(3)  # the command finds nothing listening yet
    log = (tmp_path / "serve.log").open("w")
    command = [sys.executable, "-m", "clipforge", "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--data-dir", str(tmp_path / "data")], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        out, err = client.communicate(timeout=120)
        assert client.returncode == 0, err
        assert f"waiting for the server at {url} to finish starting" in err
        assert "bytedance/seedance-1-0-pro-t2v" in out
        text = (tmp_path / "serve.log").read_text()
        ready = [line for line in text.splitlines() if line.startswith("ClipForge ready at")]
        assert len(ready) == 1, text
        assert url in ready[0] and "backend 'builtin'" in ready[0], ready
        assert "device auto" in ready[0] and " s: " in ready[0], ready
        body = {"model": "bytedance/seedance-1-0-pro-t2v", "prompt": "a red ball"}
        queued = httpx.post(f"{url}/v1/jobs", json=body, timeout=10)
        assert queued.status_code == 201  # the queue accepts while the model warms
        assert "ready to generate" not in (tmp_path / "serve.log").read_text()
    finally:
        server.terminate()
        server.wait(30)
        starting.marker(port).unlink(missing_ok=True)
