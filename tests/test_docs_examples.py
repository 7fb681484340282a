"""Every Python example in README.md and docs/*.md, run as written against a live server.

Each example is claimed by one entry of EXAMPLES (found by a line only it has): the test runs
it in a child process with the interpreter its SDK lives in, against a live testpattern server
that accepts the examples' own placeholder keys, with only the documented address replaced by
the live one; then it checks what the example left behind (files decoded, variables it set,
printed as JSON by a line added after it). An example that another test runs is listed in
RUN_ELSEWHERE with that test. A new example fails `test_every_example_is_claimed` until it is
given an entry, and an edited one that stops working fails here.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from PIL import Image

from tests.clients.sdk_venvs import sdk_python
from tests.live import LiveServer, live_server

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DOCUMENTED_ADDRESS = "http://127.0.0.1:8000"
PLACEHOLDER_KEYS = ["KEY", "any-key-you-configured"]

Check = Callable[["Ran"], None]


@dataclass(frozen=True)
class Ran:
    """What an example left behind: its report, what it printed, its working folder."""

    report: dict[str, Any]
    printed: list[str]
    folder: Path


@dataclass(frozen=True)
class Example:
    claim: str
    """A line only this example has."""
    report: str
    """Python run after the example: prints one JSON object of what to check."""
    check: Check
    python: Callable[[], Path] = lambda: Path(sys.executable)


RUN_ELSEWHERE = {
    "def verified(": "tests/api/test_callbacks.py checks it against what the server sends",
}


def python_examples() -> list[tuple[str, str]]:
    """(document, code) for every ```python block."""
    found = []
    for document in DOCUMENTS:
        for code in re.findall(r"```python\n(.*?)```", document.read_text(), re.S):
            found.append((str(document.relative_to(ROOT)), code))
    return found


def decoded_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def check_sdk(ran: Ran) -> None:
    assert ran.report["status"] == "completed"
    assert ran.printed[0].startswith("queued ") and ran.printed[-2].startswith("completed ")
    assert "'prompt': 'a red ball rolling to the right'" in ran.printed[-1]  # show's reading
    assert decoded_frames(ran.folder / "ball.mp4") > 24
    assert ran.report["recent"] >= 1


def check_hosted(ran: Ran) -> None:
    assert ran.report["status"] in {"queued", "generating", "completed"}
    assert ran.report["id"] == ran.report["polled_id"]


def check_aimlapi(ran: Ran) -> None:
    status, url = ran.printed[-1].split(" ", 1)
    assert status == "completed" and ran.report["url"] == url
    (ran.folder / "linked.mp4").write_bytes(httpx.get(url, timeout=30).content)
    assert decoded_frames(ran.folder / "linked.mp4") == 121


def check_ark(ran: Ran) -> None:
    assert ran.report["model"] == "seedance-1-0-pro-250528"
    assert ran.report["status"] in {"queued", "running", "succeeded"}


def check_openai(ran: Ran) -> None:
    report = ran.report
    assert report["status"] == "completed" and report["size"] == "1280x720"
    assert decoded_frames(ran.folder / "ball.mp4") > 24
    with Image.open(ran.folder / "ball.webp") as thumbnail:
        assert thumbnail.format == "WEBP" and thumbnail.width > 0
    assert report["remix_from"] == report["id"]
    assert report["extension"] not in (report["id"], report["remix"])
    assert report["remix_gone"] and report["listed"] >= 1


def check_seedance_2(ran: Ran) -> None:
    with av.open(str(ran.folder / "drums.mp4")) as container:
        assert container.streams.audio[0].codec_context.name == "aac"
        assert sum(1 for _ in container.decode(video=0)) == 24 * 12 + 1
    assert ran.report["status"] == "completed"


EXAMPLES = [
    Example(
        "from clipforge import Client",
        "import json; print(json.dumps({'status': job.status, 'recent': len(recent)}))",
        check_sdk,
    ),
    Example(
        "import requests",
        "import json; print(json.dumps({'status': status['status'], 'id': job['id'], "
        "'polled_id': status['id']}))",
        check_hosted,
    ),
    Example(
        "from aimlapi import AIMLAPI",
        "import json; print(json.dumps({'url': result['video']['url']}))",
        check_aimlapi,
        partial(sdk_python, "aimlapi"),
    ),
    Example(
        '"model": "bytedance/seedance-2-0"',
        "import json; print(json.dumps({'status': result['status']}))",
        check_seedance_2,
    ),
    Example(
        "from byteplussdkarkruntime import Ark",
        "import json; print(json.dumps({'model': task.model, 'status': task.status}))",
        check_ark,
    ),
    Example(
        "from openai import OpenAI",
        "import json, openai\n"
        "try:\n    client.videos.retrieve(remix.id)\n    gone = False\n"
        "except openai.NotFoundError:\n    gone = True\n"
        "print(json.dumps({'status': video.status, 'size': video.size, 'id': video.id, "
        "'remix': remix.id, 'remix_from': remix.remixed_from_video_id, 'extension': more.id, "
        "'listed': len(page.data), 'remix_gone': gone}))",
        check_openai,
        partial(sdk_python, "openai"),
    ),
]


def claimed_by(code: str) -> Example | str | None:
    claims: list[Example | str] = [e for e in EXAMPLES if e.claim in code]
    claims += [reason for marker, reason in RUN_ELSEWHERE.items() if marker in code]
    assert len(claims) <= 1, f"claimed twice: {code[:80]!r}"
    return claims[0] if claims else None


def test_every_example_is_claimed() -> None:
    examples = python_examples()
    unclaimed = [(where, code[:80]) for where, code in examples if claimed_by(code) is None]
    assert not unclaimed, f"give these an entry in EXAMPLES or RUN_ELSEWHERE: {unclaimed}"
    markers = [e.claim for e in EXAMPLES] + list(RUN_ELSEWHERE)
    stale = [m for m in markers if not any(m in code for _, code in examples)]
    assert not stale, f"no longer in the docs: {stale}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("examples-data")
    with live_server(data, backend="testpattern", api_keys=PLACEHOLDER_KEYS) as live:
        yield live


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.claim)
def test_example_runs_as_written(example: Example, server: LiveServer, tmp_path: Path) -> None:
    (code,) = [code for _, code in python_examples() if claimed_by(code) is example]
    assert DOCUMENTED_ADDRESS in code, "the examples talk to the documented address"
    script = code.replace(DOCUMENTED_ADDRESS, server.url) + "\n" + example.report + "\n"
    done = subprocess.run(
        [example.python(), "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    *printed, report = done.stdout.strip().splitlines()
    example.check(Ran(json.loads(report), printed, tmp_path))
