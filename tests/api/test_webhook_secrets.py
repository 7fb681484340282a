"""A secret per purpose, on a live server with two tenants and a real receiver on loopback:
each key's callbacks verify with its own webhook secret only, a video link cannot be signed
with a webhook secret, rotation keeps old and new valid for the grace period, and one
tenant's failing receiver does not pause another's."""

from __future__ import annotations

import base64
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
from urllib.parse import parse_qs, urlsplit

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from typer.testing import CliRunner

from clipforge.api.access import configured_keys
from clipforge.background.callbacks import PAUSE_AFTER_FAILURES
from clipforge.cli import app
from clipforge.signing import as_whsec, derived_webhook_secret, issue, link_key, secret_bytes
from tests.live import LiveServer, live_server

TASKS = "/api/v3/contents/generations/tasks"
ENV_KEY = "cf_tenant-b-from-the-environment"
ENV_ID = configured_keys([ENV_KEY])[0].key_id
SETTINGS: dict[str, Any] = {
    "url_allowlist": "127.0.0.1",
    "api_keys": [ENV_KEY],
    "callback_retries": 0,
}


@dataclass
class Delivery:
    path: str
    raw: bytes
    headers: dict[str, str]

    @property
    def status(self) -> str:
        status: str = json.loads(self.raw)["status"]
        return status


@dataclass
class Receiver:
    base: str
    got: list[Delivery] = field(default_factory=list)

    def to(self, path: str) -> list[Delivery]:
        return [delivery for delivery in self.got if delivery.path == path]

    def wait_for(self, path: str, status: str, seconds: float = 60) -> Delivery:
        deadline = time.monotonic() + seconds
        while True:
            found = [d for d in self.to(path) if d.status == status]
            if found:
                return found[0]
            assert time.monotonic() < deadline, [(d.path, d.status) for d in self.got]
            time.sleep(0.05)


@contextmanager
def receiver(answer: Callable[[str], int] = lambda path: 200) -> Iterator[Receiver]:
    """One host and port for every tenant; `answer(path)` is the status each POST gets."""
    found = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            headers = {name.lower(): value for name, value in self.headers.items()}
            found.got.append(Delivery(self.path, raw, headers))
            self.send_response(answer(self.path))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    found.base = f"http://127.0.0.1:{http.server_address[1]}"
    try:
        yield found
    finally:
        http.shutdown()
        http.server_close()


def create(live: LiveServer, key: str, callback_url: str, text: str = "a ball --rs 480p") -> str:
    body = {
        "model": "seedance-1-0-lite-t2v-250428",
        "content": [{"type": "text", "text": text}],
        "callback_url": callback_url,
    }
    with live.client(key) as http:
        response = http.post(TASKS, json=body)
    assert response.status_code == 200, response.text
    task_id: str = response.json()["id"]
    return task_id


def verifies(secret: str, delivery: Delivery) -> bool:
    try:
        Webhook(secret).verify(delivery.raw, delivery.headers)
    except WebhookVerificationError:
        return False
    return True


def stored_tenant(live: LiveServer) -> tuple[str, str, str]:
    """A key made as `clipforge keys create` makes one: (id, key, webhook secret)."""
    made, key = live.server.store.create_key("tenant a")
    return made.id, key, issue(live.server.store, made.id)


def test_each_tenant_verifies_its_own_callbacks_and_no_other(tmp_path: Path) -> None:
    with (
        receiver() as hooks,
        live_server(tmp_path, backend="testpattern", workers=1, **SETTINGS) as live,
    ):
        _, key_a, secret_a = stored_tenant(live)
        create(live, key_a, hooks.base + "/a")
        create(live, ENV_KEY, hooks.base + "/b")
        from_a = hooks.wait_for("/a", "succeeded")
        from_b = hooks.wait_for("/b", "succeeded")
        server_secret = live.settings.resolved_signing_secret
    printed = CliRunner().invoke(
        app,
        ["keys", "webhook-secret", ENV_ID, "--data-dir", str(tmp_path)],
        env={"CLIPFORGE_API_KEYS": ENV_KEY},
    )
    assert printed.exit_code == 0, printed.output
    secret_b = printed.stdout.strip()
    assert secret_b == derived_webhook_secret(server_secret, ENV_ID)
    assert secret_a.startswith("whsec_") and len(secret_bytes(secret_a)) == 32
    link = as_whsec(link_key(server_secret))
    server = as_whsec(server_secret)
    assert verifies(secret_a, from_a) and verifies(secret_b, from_b)
    for wrong in (secret_b, link, server):
        assert not verifies(wrong, from_a)
    for wrong in (secret_a, link, server):
        assert not verifies(wrong, from_b)
    legacy = "sha256=" + hmac.new(secret_bytes(secret_a), from_a.raw, hashlib.sha256).hexdigest()
    assert from_a.headers["x-clipforge-signature"] == legacy


def test_a_link_signed_with_a_webhook_secret_is_refused(tmp_path: Path) -> None:
    with (
        receiver() as hooks,
        live_server(tmp_path, backend="testpattern", workers=1, **SETTINGS) as live,
    ):
        _, key_a, secret_a = stored_tenant(live)
        task_id = create(live, key_a, hooks.base + "/a")
        hooks.wait_for("/a", "succeeded")
        with live.client(key_a) as http:
            video_url = http.get(f"{TASKS}/{task_id}").json()["content"]["video_url"]
            parts = urlsplit(video_url)
            expires = parse_qs(parts.query)["expires"][0]
            assert http.get(video_url).status_code == 200  # the server's own link works
            storage_key = parts.path.rsplit("/", 1)[1]
            forgeries = {
                "webhook secret": secret_bytes(secret_a),
                "derived webhook secret": secret_bytes(
                    derived_webhook_secret(live.settings.resolved_signing_secret, ENV_ID)
                ),
                "server secret itself": live.settings.resolved_signing_secret,
            }
            for name, forging_key in forgeries.items():
                signed = f"{storage_key}\n{expires}".encode()
                digest = hmac.new(forging_key, signed, hashlib.sha256).digest()
                signature = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                forged = f"{parts.path}?expires={expires}&signature={signature}"
                assert http.get(forged).status_code == 403, name


def test_rotation_keeps_old_and_new_valid_for_the_grace_period_only(tmp_path: Path) -> None:
    runner, folder = CliRunner(), ["--data-dir", str(tmp_path)]
    with (
        receiver() as hooks,
        live_server(tmp_path, backend="testpattern", workers=0, **SETTINGS) as live,
    ):
        key_id, key_a, old = stored_tenant(live)
        rotated = runner.invoke(app, ["keys", "rotate-webhook-secret", key_id, *folder])
        assert rotated.exit_code == 0, rotated.output
        new = rotated.stdout.strip()
        assert new.startswith("whsec_") and new != old
        create(live, key_a, hooks.base + "/grace")
        during = hooks.wait_for("/grace", "queued")
        assert len(during.headers["webhook-signature"].split()) == 2
        assert verifies(old, during) and verifies(new, during)  # either receiver verifies

        grace = ["--grace-hours", str(1.5 / 3600)]
        again = runner.invoke(app, ["keys", "rotate-webhook-secret", key_id, *grace, *folder])
        assert again.exit_code == 0, again.output
        newest = again.stdout.strip()
        time.sleep(2.0)  # past the grace period
        create(live, key_a, hooks.base + "/after")
        after = hooks.wait_for("/after", "queued")
        assert verifies(newest, after)
        assert not verifies(new, after) and not verifies(old, after)
        assert len(after.headers["webhook-signature"].split()) == 1


def test_a_derived_secret_is_stable_across_restarts_and_distinct_per_key(tmp_path: Path) -> None:
    secrets = []
    for _ in range(2):  # the same data folder, so the same server secret, after a restart
        with (
            receiver() as hooks,
            live_server(tmp_path, backend="testpattern", workers=0, **SETTINGS) as live,
        ):
            create(live, ENV_KEY, hooks.base + "/b")
            delivery = hooks.wait_for("/b", "queued")
            secret = derived_webhook_secret(live.settings.resolved_signing_secret, ENV_ID)
            assert verifies(secret, delivery)
            secrets.append(secret)
    assert secrets[0] == secrets[1]
    server_secret = secrets[0].encode()
    others = {derived_webhook_secret(server_secret, key) for key in ("k1", "k2", "open")}
    assert len(others) == 3


def test_one_tenants_failing_receiver_does_not_pause_another_on_the_same_host(
    tmp_path: Path,
) -> None:
    with (
        receiver(lambda path: 500 if path == "/a" else 200) as hooks,
        live_server(tmp_path, backend="testpattern", workers=0, **SETTINGS) as live,
    ):
        _, key_a, _ = stored_tenant(live)
        for n in range(PAUSE_AFTER_FAILURES + 2):
            create(live, key_a, hooks.base + "/a", f"ball {n}")
        dispatcher = live.server.app.state.callbacks
        deadline = time.monotonic() + 20
        while dispatcher.stats.paused == 0:
            assert time.monotonic() < deadline, [(d.path, d.status) for d in hooks.got]
            time.sleep(0.05)
        started = time.monotonic()
        create(live, ENV_KEY, hooks.base + "/b")
        hooks.wait_for("/b", "queued", seconds=10)
        waited = time.monotonic() - started
        print(f"\nthe other tenant's callback arrived {waited:.2f} s after its create")
        assert waited < 5.0
        assert len(hooks.to("/a")) == PAUSE_AFTER_FAILURES  # tenant A's lane stays paused


@pytest.mark.parametrize("command", ["webhook-secret", "rotate-webhook-secret"])
def test_the_webhook_commands_refuse_an_unknown_key(tmp_path: Path, command: str) -> None:
    refused = CliRunner().invoke(app, ["keys", command, "nosuchkey", "--data-dir", str(tmp_path)])
    assert refused.exit_code == 1 and "no active key" in refused.output
