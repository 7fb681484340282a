"""Every shell command in README.md and docs/*.md: run here as written, or listed with why not.

`documented_commands` reads the commands out of the documents (lines of bash/sh blocks, and
inline code that starts with a program name). Each must be in RUN_HERE, which the session test
runs exactly as written in a fresh home folder (placeholders like `<generation id>` filled in),
or in NOT_RUN with the reason. A command edited in the docs is then either run again or has to
be excused again, and one that stops working fails the suite.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import av
import httpx
import pytest
from PIL import Image

from tests.live import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_BLOCKS = {"bash", "sh", "shell", "console"}
PROGRAMS = {"clipforge", "python", "python3", "pip", "docker", "sudo", "cp", "hf", "curl", "sh"}
PROGRAMS |= {"apt", "apt-get", "systemctl", "psql", "promtool", "bash", ".ci/run"}

TINY = "python -m clipforge.backends.diffusers.tiny wan ./tiny-wan"
TINY_SERVE = (
    "CLIPFORGE_NATIVE_SHORT_SIDE=32 CLIPFORGE_NUM_INFERENCE_STEPS=4 "
    "clipforge serve --model ./tiny-wan"
)
GENERATE = (
    'clipforge generate "a red ball rolling to the right" '
    "--resolution 480p --duration 5 -o ball.mp4"
)
OFFLINE = "HF_HUB_OFFLINE=1 clipforge serve --model wan2.1-t2v-1.3b"
EXPOSED = "clipforge serve --host 0.0.0.0"
EXPOSED_API = "clipforge serve --host 0.0.0.0 --workers 0"
TESTPATTERN = "clipforge serve --backend testpattern"
FIRST_FRAME = 'clipforge generate "..." --image first.png'
STATUS = "clipforge status <generation id>"
LISTING = "clipforge list --limit 10"
CANCEL = "clipforge cancel <generation id>"
MODELS = "clipforge models"
SERVE = "clipforge serve"
KEYS = ("clipforge keys create TEAM", "clipforge keys create NAME", "clipforge keys list")

RUN_HERE = {
    TINY,
    TINY_SERVE,
    GENERATE,
    STATUS,
    LISTING,
    CANCEL,
    MODELS,
    SERVE,
    OFFLINE,
    EXPOSED,
    EXPOSED_API,
    TESTPATTERN,
    FIRST_FRAME,
    *KEYS,
}

GPU = "needs a GPU and real weights"
HUB = "downloads weights from the Hugging Face hub (no network in tests)"
DEPLOY_TESTS = "run from the repository root by tests/test_deploy.py"
NOT_RUN = {
    "python3 -m venv .venv && . .venv/bin/activate && pip install -r requirements-cpu.txt "
    "&& pip install uv && uv pip install -r requirements-dev.txt "
    "&& python tests/clients/sdk_venvs.py": ("installs; .ci/run runs these installs"),
    "python -m pytest": "the test command itself; .ci/run runs it",
    "python3 -m venv .venv && . .venv/bin/activate && pip install -r requirements-cpu.txt "
    '&& pip install ".[builtin]" && clipforge serve': (
        "a user's install; the serve it ends with runs in this test (the built-in model)"
    ),
    "python bench/api.py --postgres --rounds 0": (
        "a benchmark on a throwaway PostgreSQL cluster; tests/bench runs the bench scripts small"
    ),
    "clipforge serve --workers N": "a form with a placeholder; serve --workers runs in this test",
    "clipforge generate": "a command named in prose; run here with its arguments",
    "clipforge status": "a command named in prose; run here with its arguments",
    "CLIPFORGE_FUZZ_REQUESTS=1000 python -m pytest tests/api/test_fuzz.py -p no:asyncio -s "
    "-n 0 --timeout 0": ("the long fuzz run; the suite runs the same test with fewer requests"),
    "clipforge serve --model /models/Wan2.1-T2V-1.3B-Diffusers": GPU,
    "clipforge serve --model wan2.1-t2v-1.3b": HUB,
    "clipforge serve --model Wan-AI/Wan2.1-T2V-14B-Diffusers": HUB,
    "CLIPFORGE_MODEL=catalogue clipforge serve": HUB,
    "clipforge worker": "needs PostgreSQL; tests/fault/test_scale_out.py runs workers on it",
    "clipforge keys rotate-webhook-secret ID": "tests/cli/test_keys.py runs it on a real "
    "database and checks a live server's callbacks (tests/api/test_webhook_secrets.py)",
    "clipforge keys webhook-secret ID": "tests/cli/test_keys.py runs it on a real database "
    "and checks a live server's callbacks (tests/api/test_webhook_secrets.py)",
    "clipforge keys revoke ID": "tests/cli/test_keys.py runs it on a real database, used by a "
    "live server",
    "clipforge worker --device cuda:0": GPU,
    "clipforge worker --device cuda:0 [--model ID ...]": GPU,
    "python bench/gpu_models.py": GPU + " (tests/bench runs it at tiny size)",
    "bash bench/gpu_check.sh": GPU + " (tests/bench runs bench/gpu_check.py --smoke)",
    "python bench/gpu_check.py": GPU + " (tests/bench runs it with --smoke)",
    "python bench/memory_plan.py": "tests/bench/test_memory_plan.py runs it (arithmetic only)",
    "python bench/ltx2_forward.py --version 2.3 --size 768x512 --frames 121": GPU
    + " (tests/bench/test_ltx2_forward.py runs its row at tiny size)",
    "python -m training.v2_train": "trains for an hour or more; tests/training runs its steps "
    "at toy size",
    "pip install cache-dit": "installs from the network",
    "hf download <hub id>": HUB,
    "hf download <repo> <file>": HUB,
    'pip install "clipforge[quantize]"': "installs; requirements-dev.txt installs the same extra",
    "python bench/memory_plan.py --quantize fp8": "tests/bench/test_memory_plan.py runs its "
    "arithmetic (the fp8 column)",
    "promtool check config deploy/prometheus/prometheus.yml": DEPLOY_TESTS,
    "promtool check rules deploy/prometheus/alerts.yml": DEPLOY_TESTS,
    "promtool test rules deploy/prometheus/alerts_test.yml": DEPLOY_TESTS,
    "clipforge worker --metrics-port 9400 --metrics-host 0.0.0.0": "needs PostgreSQL; "
    "tests/test_metrics.py runs a worker with --metrics-port for a real Prometheus",
    "clipforge worker --metrics-port 9400": "needs PostgreSQL; tests/test_metrics.py runs it",
    "apt-get install -y chromium": "needs root; .ci/run installs it",
    "apt-get install -y postgresql": "needs root; .ci/run installs it",
    "apt install postgresql": "needs root; .ci/run installs it",
    "apt-get install -y prometheus": "needs root; .ci/run installs it",
    "systemctl enable --now clipforge-api": "needs root and systemd",
    "systemctl enable --now clipforge-worker@0 clipforge-worker@1 ...": "needs root and systemd",
    "systemctl stop": "needs root and systemd (a fragment: the unit follows in the text)",
    "sudo -u postgres psql -f deploy/postgres/setup.sql": "needs root and the system's "
    "PostgreSQL; tests/test_deploy.py runs setup.sql on a test cluster",
    'pip install -e ".[diffusers]"': "installs; requirements-dev.txt installs the same extra",
    "cp deploy/clipforge.env.example deploy/clipforge.env": "writes into the checkout; "
    "tests/test_deploy.py reads the example",
    "docker compose -f deploy/compose.yaml --env-file deploy/clipforge.env up -d --build": (
        "needs Docker; tests/test_deploy.py checks the compose file"
    ),
    "docker compose -f deploy/compose.yaml --env-file deploy/clipforge.env up -d --scale "
    "worker=4": "needs Docker and GPUs",
    "sudo useradd --system --home /var/lib/clipforge clipforge": "needs root",
    "sudo python3 -m venv /opt/clipforge": "needs root",
    'sudo /opt/clipforge/bin/pip install "clipforge[diffusers,postgres,s3]"': "needs root",
    "sudo install -m 600 -o clipforge deploy/clipforge.env.example /etc/clipforge/clipforge.env": (
        "needs root"
    ),
    "sudo cp deploy/systemd/*.service /etc/systemd/system/ && sudo systemctl daemon-reload": (
        "needs root and systemd; tests/test_deploy.py checks the units"
    ),
    "CLIPFORGE_MODEL=wan2.1-t2v-14b@fast CLIPFORGE_COMPILE=true "
    "CLIPFORGE_ATTENTION_BACKEND=_native_cudnn clipforge serve": GPU,
    "CLIPFORGE_MODEL=wan2.1-t2v-1.3b CLIPFORGE_COMPILE=true "
    "CLIPFORGE_ATTENTION_BACKEND=_native_cudnn CLIPFORGE_STEP_CACHE=first_block "
    "clipforge serve": GPU,
    "CLIPFORGE_MODEL=wan2.1-t2v-14b CLIPFORGE_OFFLOAD=group CLIPFORGE_VAE_TILING=true clipforge "
    "serve": GPU,
}


def _without_comment(line: str) -> str:
    """The line without a trailing `# comment` (a `#` inside quotes stays)."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip()
    return line.rstrip()


def _block_commands(block: str) -> Iterator[str]:
    joined = re.sub(r"\\\n\s*", " ", block)
    for line in joined.splitlines():
        command = _without_comment(line).strip()
        if command:
            yield re.sub(r"\s+", " ", command)


def _is_command(text: str) -> bool:
    words = text.split()
    while words and re.fullmatch(r"[A-Z_]+=\S+", words[0]):
        words = words[1:]
    return len(words) > 1 and words[0] in PROGRAMS  # a bare name is prose, not a command


def documented_commands() -> dict[str, str]:
    """Each command in the documents -> the first document that has it."""
    found: dict[str, str] = {}
    for document in DOCUMENTS:
        text = document.read_text()
        name = str(document.relative_to(ROOT))
        for match in re.finditer(r"```(\w*)\n(.*?)```", text, re.S):
            if match.group(1) in SHELL_BLOCKS:
                for command in _block_commands(match.group(2)):
                    found.setdefault(command, name)
        prose = re.sub(r"```.*?```", "", text, flags=re.S)
        for span in re.findall(r"`([^`\n]+)`", prose):
            if _is_command(span):
                found.setdefault(re.sub(r"\s+", " ", span.strip()), name)
    return found


def test_every_documented_command_is_run_here_or_excused() -> None:
    documented = documented_commands()
    unaccounted = {c: where for c, where in documented.items() if c not in RUN_HERE | set(NOT_RUN)}
    assert not unaccounted, f"run these in the session test or say why not: {unaccounted}"
    stale = (RUN_HERE | set(NOT_RUN)) - set(documented)
    assert not stale, f"no longer in the docs: {stale}"
    assert not RUN_HERE & set(NOT_RUN)


def test_every_relative_link_in_the_docs_is_a_file_of_this_repository() -> None:
    for document in DOCUMENTS:
        for target in re.findall(r"\]\(([^)\s]+)\)", document.read_text()):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue  # a web address or an anchor
            path = (document.parent / target.split("#")[0]).resolve()
            assert path.is_relative_to(ROOT) and path.exists(), f"{document.name}: {target}"


def test_the_reader_finds_commands_in_blocks_and_prose() -> None:
    commands = dict.fromkeys(_block_commands("# a comment\nA=1 \\\n  clipforge x  # why\n"))
    assert list(commands) == ["A=1 clipforge x"]
    assert _without_comment('clipforge generate "a # b" # c') == 'clipforge generate "a # b"'
    assert _is_command("X=1 clipforge serve") and not _is_command("CLIPFORGE_MODEL")


@dataclass
class Session:
    """A new user's shell: a fresh home folder, the package on PATH, nothing configured."""

    home: Path
    work: Path
    port: int
    ran: set[str] = field(default_factory=set)
    servers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CLIPFORGE_", "XDG_", "HF_")) and k not in ("DISPLAY",)
        }
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        # the port is the one thing changed: the documents' default, 8000, may be taken here
        return inherited | {"HOME": str(self.home), "PATH": path, "CLIPFORGE_PORT": str(self.port)}

    def run(self, command: str, expect: int = 0, **fill: str) -> str:
        """Run a documented command as written (placeholders filled in); its output."""
        done = subprocess.run(
            ["bash", "-c", self._filled(command, fill)],
            cwd=self.work,
            env=self.env | {"CLIPFORGE_URL": self.url},
            capture_output=True,
            text=True,
            timeout=300,
        )
        output = done.stdout + done.stderr
        assert done.returncode == expect, f"{command}: exit {done.returncode}\n{output}"
        return output

    def _filled(self, command: str, fill: dict[str, str]) -> str:
        self.ran.add(command)
        for placeholder, value in fill.items():
            command = command.replace(f"<{placeholder.replace('_', ' ')}>", shlex.quote(value))
        assert "<" not in command, f"unfilled placeholder in {command}"
        return command

    @contextmanager
    def serving(self, command: str) -> Iterator[Path]:
        """Run a documented server command until the block ends; yields its log file."""
        log = (self.work / f"server-{len(self.servers)}.log").open("wb")
        server = subprocess.Popen(
            ["bash", "-c", self._filled(command, {})],
            cwd=self.work,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.servers.append(server)
        try:
            self._wait_until_up(server, log.name)
            yield Path(log.name)
        finally:
            with suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)  # bash and the server it started
            server.wait(30)

    def _wait_until_up(self, server: subprocess.Popen[bytes], log: str) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert server.poll() is None, Path(log).read_text()
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError(f"not up in 120 s: {Path(log).read_text()}")


@pytest.fixture
def session(tmp_path: Path) -> Session:
    (tmp_path / "home").mkdir()
    (tmp_path / "work").mkdir()
    return Session(tmp_path / "home", tmp_path / "work", free_port())


def _job_id(output: str) -> str:
    match = re.search(r"job (\S+) queued", output)
    assert match, output
    return match.group(1)


@pytest.mark.timeout(300)  # the whole walk-through, as a user types it
def test_the_documented_commands_run_as_written(session: Session) -> None:
    _quickstart(session)
    _serving(session)
    assert session.ran >= RUN_HERE, f"not run: {RUN_HERE - session.ran}"


def _quickstart(session: Session) -> None:
    wrote = session.run(TINY)
    assert f"try it: {TINY_SERVE}" in wrote  # the hint is the command the README gives
    with session.serving(TINY_SERVE):
        generated = session.run(GENERATE)
        job_id = _job_id(generated)
        assert "model read: a red ball rolling to the right" in generated
        with av.open(str(session.work / "ball.mp4")) as video:
            stream = video.streams.video[0]
            assert (stream.width, stream.height, stream.average_rate) == (864, 480, 16)
            assert sum(1 for _ in video.decode(stream)) == 81  # the tiny Wan's 16 x 5 + 1
        assert "completed" in session.run(STATUS, generation_id=job_id)
        assert job_id in session.run("clipforge list --limit 10 --json")
        assert "completed" in session.run(LISTING)
        assert "completed" in session.run(CANCEL, generation_id=job_id)  # finished: left as is
        assert "bytedance/seedance-1-0-lite-t2v" in session.run(MODELS)
    assert not (session.work / "clipforge-data").exists()  # the data went to the home folder
    assert (session.home / ".local/share/clipforge/clipforge.db").is_file()


def _serving(session: Session) -> None:
    missing = session.run(OFFLINE, expect=2)
    assert "HF_HUB_OFFLINE" in missing and "Wan-AI/Wan2.1-T2V-1.3B-Diffusers" in missing
    for exposed in (EXPOSED, EXPOSED_API):  # no key yet: refuses to listen beyond loopback
        refused = session.run(exposed, expect=2)
        assert "clipforge keys create" in refused, refused
    with session.serving(SERVE) as log:
        assert "builtin" in session.run(MODELS)
        assert "backend 'builtin' (shipped weights)" in log.read_text()
    Image.new("RGB", (320, 180), (200, 40, 40)).save(session.work / "first.png")
    with session.serving(TESTPATTERN) as log:
        assert "backend 'testpattern' (no weights)" in log.read_text()
        animated = session.run(FIRST_FRAME)
        assert "saved" in animated and (session.work / "clipforge.mp4").stat().st_size > 0
        team = session.run(KEYS[0]).splitlines()[0].strip()
        assert team.startswith("cf_")
        assert "stored in" in session.run(KEYS[1])
        listed = session.run(KEYS[2])
        assert "TEAM" in listed and "NAME" in listed
        denied = session.run(MODELS, expect=2)  # the running server now wants a key
        assert "401" in denied and "--api-key" in denied
        with httpx.Client(base_url=session.url, headers={"Authorization": f"Bearer {team}"}) as c:
            assert c.get("/v1/models").status_code == 200
