"""callback_url notifications to a real HTTP receiver on loopback: order, signature, retries."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from clipforge.background.callbacks import PAUSE_AFTER_FAILURES, SIGNATURE_HEADER
from clipforge.logs import JsonFormatter
from clipforge.signing import derived_webhook_secret, secret_bytes
from clipforge.store.tenant import OPEN_OWNER
from tests.live import LiveServer, live_server

TASKS = "/api/v3/contents/generations/tasks"
LOOPBACK = {"url_allowlist": "127.0.0.1"}


@dataclass
class Receiver:
    url: str
    calls: list[tuple[dict[str, Any], bytes, str]] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def statuses(self) -> list[str]:
        return [body["status"] for body, _, _ in self.calls]

    def wait_for_status(self, status: str, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while status not in self.statuses():
            assert time.monotonic() < deadline, self.statuses()
            time.sleep(0.05)

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
            got.hosts.append(self.headers.get("Host", ""))
            got.headers.append({name.lower(): value for name, value in self.headers.items()})
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
        got.wait_for_status("succeeded")
        time.sleep(0.5)  # nothing more comes after the terminal status
        statuses = got.statuses()
        assert statuses[0] == "queued" and statuses[-1] == "succeeded"
        assert statuses.count("succeeded") == 1 and set(statuses) <= {
            "queued",
            "running",
            "succeeded",
        }
        secret = secret_bytes(open_tenant_secret(live))
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
        ids = [headers["webhook-id"] for headers in got.headers]
        assert ids == [f"{task_id}.queued"] + [f"{task_id}.cancelled"] * 4  # a retry keeps its id


def open_tenant_secret(live: LiveServer) -> str:
    """The webhook secret of the keyless server's one tenant (derived: none is stored)."""
    return derived_webhook_secret(live.settings.resolved_signing_secret, OPEN_OWNER)


def _readme_verifier() -> Callable[[str, bytes, dict[str, str]], bool]:
    """The receiver code README.md tells users to write, run as written."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    blocks = [block.split("```", 1)[0] for block in readme.split("```python\n")[1:]]
    (snippet,) = [block for block in blocks if "def verified(" in block]
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)
    verified: Callable[[str, bytes, dict[str, str]], bool] = namespace["verified"]
    return verified


def test_callbacks_verify_with_standard_webhooks_and_the_readme_code(tmp_path: Path) -> None:
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    verified = _readme_verifier()
    with (
        receiver() as got,
        live_server(tmp_path, backend="testpattern", workers=1, **LOOPBACK) as live,
    ):
        task_id = create(live, got.url)
        got.wait_for_status("succeeded")
        secret = open_tenant_secret(live)
    library = Webhook(secret)
    for (_, raw, _), headers in zip(got.calls, got.headers, strict=True):
        assert headers["webhook-id"].startswith(f"{task_id}.")
        assert abs(time.time() - int(headers["webhook-timestamp"])) < 120
        assert library.verify(raw, headers)["id"] == task_id
        assert verified(secret, raw, headers)
        tampered = raw.replace(task_id.encode(), str(uuid.uuid4()).encode())
        assert tampered != raw and not verified(secret, tampered, headers)
        with pytest.raises(WebhookVerificationError):
            library.verify(tampered, headers)
        another = "whsec_" + base64.b64encode(b"another secret").decode()
        assert not verified(another, raw, headers)
        stale = headers | {"webhook-timestamp": str(int(time.time()) - 3600)}
        assert not verified(secret, raw, stale)  # a replay an hour later is refused
    assert len({headers["webhook-id"] for headers in got.headers}) == len(got.calls)


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


@contextmanager
def hanging_receiver() -> Iterator[str]:
    """A receiver that accepts connections and never answers: the worst a tenant can point
    its callbacks at."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()


def test_a_hanging_receiver_delays_only_its_own_notifications(tmp_path: Path) -> None:
    with (
        hanging_receiver() as hanging,
        receiver() as got,
        live_server(tmp_path, backend="testpattern", workers=0, **LOOPBACK) as live,
    ):
        for n in range(16):
            create(live, hanging, f"ball {n}")
        time.sleep(0.5)  # the hanging receiver's lane is full and waiting
        started = time.monotonic()
        task_id = create(live, got.url)
        got.wait_for(1, seconds=5)
        first = time.monotonic() - started
        started = time.monotonic()
        with live.client() as http:
            assert http.delete(f"{TASKS}/{task_id}").status_code == 200
        got.wait_for(2, seconds=5)
        terminal = time.monotonic() - started
        print(f"\nfirst callback after {first:.2f} s, terminal one after {terminal:.2f} s")
        assert got.statuses() == ["queued", "cancelled"]
        assert first < 1.0 and terminal < 1.0


def test_a_failing_receiver_is_paused_and_its_notifications_wait(tmp_path: Path) -> None:
    settings = {**LOOPBACK, "callback_retries": 0}
    with (
        receiver(lambda n: 500) as failing,
        live_server(tmp_path, backend="testpattern", workers=0, **settings) as live,
        caplog_at("clipforge.background.callbacks") as logged,
    ):
        for n in range(8):
            create(live, failing.url, f"ball {n}")
        dispatcher = live.server.app.state.callbacks
        deadline = time.monotonic() + 20
        while dispatcher.stats.paused == 0:
            assert time.monotonic() < deadline, failing.statuses()
            time.sleep(0.05)
        time.sleep(1.0)
        assert len(failing.calls) == PAUSE_AFTER_FAILURES  # then nothing while paused
        assert any("paused" in message for message in logged)
        lines = [json.loads(line) for line in logged]
        unanswered = [line for line in lines if "not acknowledged" in line["message"]]
        assert unanswered and all(line["job_id"] in line["message"] for line in unanswered)
        assert all(line["surface"] == "ark" and line["model"] for line in unanswered)
        store = live.server.store
        waiting = store.lease_notifications(60.0)
        assert waiting == []  # deferred until the pause ends, not given up
        assert dispatcher.stats.failed == PAUSE_AFTER_FAILURES
        with live.client() as http:
            exposition = http.get("/metrics").text
        assert 'clipforge_callbacks_total{outcome="paused"} 1.0' in exposition
        assert (
            f'clipforge_callbacks_total{{outcome="failed"}} {PAUSE_AFTER_FAILURES}.0' in exposition
        )


def test_the_connection_goes_to_the_address_that_was_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: a name that resolves to the receiver while it is checked, and to another
    address (127.0.0.2, where nothing listens) on any later lookup. A delivery that looked
    the name up again to connect would never arrive."""
    real = socket.getaddrinfo
    lookups = {"count": 0}

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.clipforge.test":
            return real(host, port, *args, **kwargs)
        lookups["count"] += 1
        address = "127.0.0.1" if lookups["count"] <= 2 else "127.0.0.2"  # accept, check
        return real(address, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with (
        receiver() as got,
        live_server(
            tmp_path, "asyncio", backend="testpattern", workers=0, url_allowlist="127.0.0.0/8"
        ) as live,
    ):
        port = got.url.split(":")[2].split("/")[0]
        create(live, f"http://rebind.clipforge.test:{port}/hook")
        got.wait_for(1, seconds=10)
        assert got.hosts == [f"rebind.clipforge.test:{port}"]
        assert lookups["count"] == 2


@contextmanager
def caplog_at(name: str) -> Iterator[list[str]]:
    """The lines logged under `name`, as CLIPFORGE_LOG_FORMAT=json writes them."""
    messages: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(JsonFormatter().format(record))

    logger, handler = logging.getLogger(name), Keep()
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


def test_a_native_cancel_wakes_the_dispatcher_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every job change on the API side goes through TenantJobs, which wakes the dispatcher:
    with a 30 s poll, the cancel made on the native surface is posted within seconds."""
    monkeypatch.setattr("clipforge.background.callbacks.POLL_SECONDS", 30.0)
    with receiver() as got, live_server(tmp_path, workers=0, **LOOPBACK) as live:
        task_id = create(live, got.url)
        got.wait_for_status("queued", seconds=10)
        started = time.monotonic()
        with live.client() as http:
            assert http.post(f"/v1/jobs/{task_id}/cancel").status_code == 200
        got.wait_for_status("cancelled", seconds=20)
        assert time.monotonic() - started < 15  # not the 30 s poll (room for a busy machine)
