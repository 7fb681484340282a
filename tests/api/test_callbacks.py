"""callback_url notifications to a real HTTP receiver on loopback: order, signature, retries."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from clipforge.api.callbacks import SIGNATURE_HEADER
from tests.live import LiveServer, live_server

TASKS = "/api/v3/contents/generations/tasks"
LOOPBACK = {"url_allowlist": "127.0.0.1"}


@dataclass
class Receiver:
    url: str
    calls: list[tuple[dict[str, Any], bytes, str]] = field(default_factory=list)

    def statuses(self) -> list[str]:
        return [body["status"] for body, _, _ in self.calls]

    def wait_for(self, count: int, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while len(self.calls) < count:
            assert time.monotonic() < deadline, self.statuses()
            time.sleep(0.05)


@contextmanager
def receiver(answer: Callable[[int], int] = lambda n: 200) -> Iterator[Receiver]:
    """An HTTP server that records each POST; `answer(n)` is the status of the n-th (a
    negative one: sleep that many seconds, then 200)."""
    got = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            got.calls.append((json.loads(raw), raw, self.headers.get(SIGNATURE_HEADER, "")))
            status = answer(len(got.calls))
            if status < 0:
                time.sleep(-status)
                status = 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    got.url = f"http://127.0.0.1:{http.server_address[1]}/hook"
    try:
        yield got
    finally:
        http.shutdown()
        http.server_close()


def create(live: LiveServer, callback_url: str, text: str = "a ball --rs 480p") -> str:
    body = {
        "model": "seedance-1-0-lite-t2v-250428",
        "content": [{"type": "text", "text": text}],
        "callback_url": callback_url,
    }
    with live.client() as http:
        response = http.post(TASKS, json=body)
    assert response.status_code == 200, response.text
    task_id: str = response.json()["id"]
    return task_id


def test_every_status_is_posted_in_order_and_signed(tmp_path: Path) -> None:
    with (
        receiver() as got,
        live_server(tmp_path, backend="testpattern", workers=1, **LOOPBACK) as live,
    ):
        task_id = create(live, got.url)
        deadline = time.monotonic() + 120
        while "succeeded" not in got.statuses():
            assert time.monotonic() < deadline, got.statuses()
            time.sleep(0.05)
        time.sleep(0.5)  # nothing more comes after the terminal status
        statuses = got.statuses()
        assert statuses[0] == "queued" and statuses[-1] == "succeeded"
        assert statuses.count("succeeded") == 1 and set(statuses) <= {
            "queued",
            "running",
            "succeeded",
        }
        secret = live.settings.resolved_signing_secret
        for body, raw, signature in got.calls:
            assert body["id"] == task_id
            expected = "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(signature, expected)
        with live.client() as http:
            final = http.get(f"{TASKS}/{task_id}").json()
        assert (
            got.calls[-1][0]["content"]["video_url"].split("?")[0]
            == final["content"]["video_url"].split("?")[0]
        )


def test_a_terminal_status_is_retried_three_times_then_given_up(tmp_path: Path) -> None:
    with (
        receiver(lambda n: 200 if n == 1 else 500) as got,
        live_server(tmp_path, backend="testpattern", workers=0, **LOOPBACK) as live,
    ):
        task_id = create(live, got.url)
        got.wait_for(1)
        with live.client() as http:
            assert http.delete(f"{TASKS}/{task_id}").status_code == 200  # cancels it
        got.wait_for(5, seconds=20)
        time.sleep(1.5)
        assert got.statuses() == ["queued"] + ["cancelled"] * 4


def test_the_api_never_waits_on_a_receiver(tmp_path: Path) -> None:
    """The receiver holds the "cancelled" notification until the DELETE has answered: an API
    that delivered before answering would never answer (the client gives up after 10 s)."""
    delete_answered = threading.Event()

    def hold_the_second(n: int) -> int:
        if n == 2:
            delete_answered.wait(60)
        return 200

    settings = {**LOOPBACK, "callback_timeout_seconds": 60}
    with (
        receiver(hold_the_second) as got,
        live_server(tmp_path, backend="testpattern", workers=0, **settings) as live,
    ):
        task_id = create(live, got.url)
        got.wait_for(1)
        with httpx.Client(base_url=live.url, timeout=10) as http:
            assert http.delete(f"{TASKS}/{task_id}").status_code == 200
            assert http.get("/healthz").status_code == 200
        delete_answered.set()
        got.wait_for(2)
        assert got.statuses() == ["queued", "cancelled"]


def test_a_slow_receiver_times_out_and_a_retry_gets_through(tmp_path: Path) -> None:
    slow_then_ok: Callable[[int], int] = lambda n: {2: -1, 3: 503}.get(n, 200)  # noqa: E731
    settings = {**LOOPBACK, "callback_timeout_seconds": 0.3}
    with (
        receiver(slow_then_ok) as got,
        live_server(tmp_path, backend="testpattern", workers=0, **settings) as live,
    ):
        task_id = create(live, got.url)
        got.wait_for(1)
        with live.client() as http:
            http.delete(f"{TASKS}/{task_id}")
        got.wait_for(4, seconds=20)
        time.sleep(1.5)
        assert got.statuses() == ["queued", "cancelled", "cancelled", "cancelled"]
