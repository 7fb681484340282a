"""The front door over real HTTP: stored hashed keys, open mode, rate and queue limits,
body and prompt limits, and refusal of URLs that point inside the network."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from clipforge.api.access import open_mode_problem
from clipforge.errors import InvalidField
from clipforge.outbound import check_url, check_url_now
from clipforge.settings import Settings
from clipforge.store import SQLiteJobStore
from tests.live import live_server, start_server_process

TASKS = "/api/v3/contents/generations/tasks"
UNIVERSAL = "/v2/video/generations"
AIML = {"model": "bytedance/seedance-1-0-lite-t2v", "prompt": "a red ball"}


def ark_body(**fields: object) -> dict[str, object]:
    return {
        "model": "seedance-1-0-pro-250528",
        "content": [{"type": "text", "text": "a ball"}],
    } | fields


def test_stored_keys_are_hashed_listed_and_revocable(tmp_path: Path) -> None:
    with live_server(tmp_path, backend="testpattern", workers=0, api_keys="env-key") as live:
        store = live.server.store
        record, secret = store.create_key("ci")
        with live.client(secret) as http:
            assert http.post(UNIVERSAL, json=AIML).status_code == 200
        with live.client("env-key") as http:  # CLIPFORGE_API_KEYS still works
            assert http.post(UNIVERSAL, json=AIML).status_code == 200
        assert [key.name for key in store.list_keys()] == ["ci"]
        assert store.revoke_key(record.id) and not store.revoke_key(record.id)
        with live.client(secret) as http:
            assert http.post(UNIVERSAL, json=AIML).status_code == 401
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("clipforge.db*"))
    assert secret.encode() not in raw and record.id.encode() in raw
    with closing(sqlite3.connect(tmp_path / "clipforge.db")) as db:
        assert db.execute("SELECT COUNT(*) FROM api_keys WHERE digest <> ''").fetchone()[0] == 1


def test_open_mode_only_without_keys_and_on_loopback(tmp_path: Path) -> None:
    with live_server(tmp_path, backend="testpattern", workers=0) as live:
        with live.client() as anonymous:
            assert anonymous.post(UNIVERSAL, json=AIML).status_code == 200
        store = live.server.store
        assert open_mode_problem(live.settings, store) is None
        exposed = Settings(data_dir=tmp_path, host="0.0.0.0")
        problem = open_mode_problem(exposed, store)
        assert problem is not None and "0.0.0.0" in problem
        store.create_key("first")
        assert open_mode_problem(exposed, store) is None
        with live.client() as anonymous:  # a stored key ends open mode at once
            assert anonymous.post(UNIVERSAL, json=AIML).status_code == 401


def test_serve_refuses_open_mode_beyond_loopback_in_production(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {
        "CLIPFORGE_ENVIRONMENT": "production",
        "CLIPFORGE_SIGNING_SECRET": "s" * 32,
        "CLIPFORGE_DATA_DIR": str(tmp_path),
    }
    with SQLiteJobStore(tmp_path / "clipforge.db") as store:
        assert not store.ever_keyed()
    command = [sys.executable, "-m", "clipforge", "serve", "--host", "0.0.0.0", "--workers", "0"]
    done = subprocess.run(command, env={**_env(), **env}, capture_output=True, timeout=120)
    assert done.returncode == 2
    assert b"refusing to start" in done.stderr


def test_serve_refuses_open_mode_beyond_loopback_in_development_too(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {"CLIPFORGE_BACKEND": "testpattern", "CLIPFORGE_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "clipforge", "serve", "--host", "0.0.0.0", "--workers", "0"]
    done = subprocess.run(command, env={**_env(), **env}, capture_output=True, timeout=120)
    assert done.returncode == 2
    assert b"CLIPFORGE_OPEN_ACCESS" in done.stderr and b"0.0.0.0" in done.stderr


def test_serve_with_open_access_warns_loudly_in_development(tmp_path: Path) -> None:
    env = {"CLIPFORGE_BACKEND": "testpattern", "CLIPFORGE_OPEN_ACCESS": "true"}
    server = start_server_process(tmp_path, env, "--host", "0.0.0.0", "--workers", "0")
    try:
        log = (tmp_path / "server.log").read_text()
        assert "WARNING: CLIPFORGE_OPEN_ACCESS is on" in log and "0.0.0.0" in log
    finally:
        server.kill()


def test_production_refuses_open_access(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {
        "CLIPFORGE_ENVIRONMENT": "production",
        "CLIPFORGE_SIGNING_SECRET": "s" * 32,
        "CLIPFORGE_API_KEYS": "k",
        "CLIPFORGE_OPEN_ACCESS": "true",
        "CLIPFORGE_DATA_DIR": str(tmp_path),
    }
    command = [sys.executable, "-m", "clipforge", "serve", "--workers", "0"]
    done = subprocess.run(command, env={**_env(), **env}, capture_output=True, timeout=120)
    assert done.returncode == 2
    assert b"CLIPFORGE_OPEN_ACCESS is on" in done.stderr


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = {
        "rate_limit_per_minute": 5,
        "max_queued_jobs": 2,
        "max_body_bytes": 2048,
        "max_prompt_chars": 20,
        "api_keys": "a,b,c,d",
    }
    folder = tmp_path_factory.mktemp("limits")
    with live_server(folder, backend="testpattern", workers=0, **settings) as live:
        yield live.url


def test_rate_limit_per_key_is_a_429_with_retry_after(limited: str) -> None:
    with httpx.Client(base_url=limited, headers={"Authorization": "Bearer a"}) as http:
        answers = [http.get(TASKS).status_code for _ in range(5)]
        assert answers == [200] * 5
        refused = http.get(TASKS)
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.json()["error"]["code"] == "RateLimitExceeded"
        aiml = http.get(UNIVERSAL, params={"generation_id": "x"})
        assert aiml.status_code == 429 and aiml.json()["statusCode"] == 429
    with httpx.Client(base_url=limited, headers={"Authorization": "Bearer b"}) as other:
        assert other.get(TASKS).status_code == 200  # per key


def test_queued_jobs_per_key_are_capped(limited: str) -> None:
    with httpx.Client(base_url=limited, headers={"Authorization": "Bearer c"}) as http:
        assert [http.post(UNIVERSAL, json=AIML).status_code for _ in range(2)] == [200, 200]
        refused = http.post(TASKS, json=ark_body())
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert "queued" in refused.json()["error"]["message"]


def test_body_and_prompt_limits(limited: str) -> None:
    with httpx.Client(base_url=limited, headers={"Authorization": "Bearer d"}) as http:
        big = http.post(UNIVERSAL, json={**AIML, "pad": "x" * 3000})
        assert big.status_code == 413 and big.json()["statusCode"] == 413
        chunks = (b'{"pad": "' + b"x" * 1000 for _ in range(4))
        streamed = http.post(TASKS, content=chunks, headers={"Content-Type": "application/json"})
        assert streamed.status_code == 413 and streamed.json()["error"]["type"] == "PayloadTooLarge"
        long = http.post(UNIVERSAL, json={**AIML, "prompt": "x" * 21})
        assert long.status_code == 400 and long.json()["message"].startswith("prompt:")
        ark = http.post(TASKS, json=ark_body(content=[{"type": "text", "text": "y" * 21}]))
        assert ark.status_code == 400 and ark.json()["error"]["param"] == "content"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://0.0.0.0/hook",
        "ftp://93.184.216.34/hook",
        "not a url",
        # IPv6 forms that carry a loopback or private IPv4 address inside them
        "http://[64:ff9b::7f00:1]/hook",  # NAT64
        "http://[64:ff9b:1::a00:1]/hook",  # local-use NAT64, 10.0.0.1
        "http://[2002:7f00:1::]/hook",  # 6to4
        "http://[::127.0.0.1]/hook",  # IPv4-compatible
        "http://[::ffff:169.254.169.254]/hook",  # IPv4-mapped
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook",  # Teredo
        "http://[::ffff:0:7f00:1]/hook",  # IPv4-translated (SIIT) 127.0.0.1
        "http://[fec0::1]/hook",  # IPv6 site-local
        "http://192.0.0.8/hook",  # IETF protocol assignments (the IPv4 dummy address)
        "https://93.184.216.34/" + "a" * 2030,  # public, but 2049 characters
    ],
)
def test_callback_urls_inside_the_network_are_refused(url: str, http: httpx.Client) -> None:
    refused = http.post(TASKS, json=ark_body(callback_url=url))
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["param"] == "callback_url"


def test_public_and_allowlisted_callback_urls_are_accepted(
    tmp_path: Path, http: httpx.Client
) -> None:
    assert (
        http.post(TASKS, json=ark_body(callback_url="https://93.184.216.34/h")).status_code == 200
    )
    longest = "https://93.184.216.34/" + "a" * 2026  # 2048 characters: the cap
    assert http.post(TASKS, json=ark_body(callback_url=longest)).status_code == 200
    # Nothing is delivered from here (no dispatcher): 10.9.9.9 is only checked, never reached.
    allow = {"url_allowlist": "127.0.0.1,10.0.0.0/8", "callbacks": False}
    with (
        live_server(tmp_path, backend="testpattern", workers=0, **allow) as live,
        live.client() as c,
    ):
        for url in ("http://127.0.0.1:9/hook", "http://10.9.9.9/hook"):
            assert c.post(TASKS, json=ark_body(callback_url=url)).status_code == 200
        assert c.post(TASKS, json=ark_body(callback_url="http://192.168.1.1/")).status_code == 400


def test_image_urls_inside_the_network_are_refused_and_data_urls_pass() -> None:
    # The served catalogue here has no image-to-video model, so the check is called directly.
    for url in ("http://169.254.169.254/a.png", "http://localhost/a.png", "file:///etc/passwd"):
        with pytest.raises(InvalidField) as refused:
            asyncio.run(check_url("image_url", url, [], data=True))
        assert refused.value.field == "image_url"
    asyncio.run(check_url("image_url", "data:image/png;base64,iVBORw0KGgo=", [], data=True))
    asyncio.run(check_url("image_url", "https://93.184.216.34/a.png", [], data=True))
    with pytest.raises(InvalidField):
        check_url_now("callback_url", "http://127.0.0.1/", [])
    check_url_now("callback_url", "http://127.0.0.1/", ["127.0.0.0/8"])


@pytest.mark.parametrize(
    "address, public",
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("64:ff9b::5db8:d822", True),  # NAT64 of a public address
        ("2002:5db8:d822::1", True),  # 6to4 of a public address
        ("64:ff9b::7f00:1", False),
        ("64:ff9b::c0a8:101", False),  # 192.168.1.1
        ("2002:a00:1::1", False),  # 10.0.0.1
        ("::127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),
        ("fe80::1", False),
        ("ff02::1", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("::ffff:0:7f00:1", False),  # IPv4-translated 127.0.0.1
        ("::ffff:0:5db8:d822", True),  # IPv4-translated public address
        ("fec0::1", False),
        ("192.0.0.8", False),
        ("192.0.0.170", False),
    ],
)
def test_addresses_that_embed_a_private_ipv4_are_not_public(address: str, public: bool) -> None:
    import ipaddress

    from clipforge.outbound import is_public

    assert is_public(ipaddress.ip_address(address)) is public


def test_a_delivery_connects_to_the_address_that_was_checked() -> None:
    from clipforge.outbound import Target, pinned

    target = Target("https://hooks.example:8443/h?x=1", "hooks.example", 8443, _ip("127.0.0.1"))
    url, headers, extensions = pinned(target)
    assert url == "https://127.0.0.1:8443/h?x=1"
    assert headers == {"Host": "hooks.example:8443"}
    assert extensions == {"sni_hostname": "hooks.example"}
    v6 = Target("http://hooks.example/h", "hooks.example", 80, _ip("::1"))
    assert pinned(v6)[0] == "http://[::1]/h" and pinned(v6)[2] == {}


def _ip(text: str):  # type: ignore[no-untyped-def]
    import ipaddress

    return ipaddress.ip_address(text)


def test_allowlist_only_refuses_public_addresses_too() -> None:
    check_url_now("callback_url", "http://127.0.0.1:9/", ["127.0.0.1"], only=True)
    with pytest.raises(InvalidField, match="not in CLIPFORGE_URL_ALLOWLIST"):
        check_url_now("callback_url", "https://93.184.216.34/h", ["127.0.0.1"], only=True)
    check_url_now("callback_url", "https://93.184.216.34/h", ["127.0.0.1"])  # public: fine


def test_connections_that_never_finish_their_headers_are_closed(tmp_path: Path) -> None:
    """200 connections that send half a request line get a 408 and are closed at the header
    deadline (uvicorn alone kept all of them open: 500 of 500 after 40 s); one that sends
    nothing is closed too, headers over the cap are a 431, an idle keep-alive connection
    closes after its timeout, and real requests are served all along."""
    limits = {"header_timeout_seconds": 1.0, "keep_alive_seconds": 1.0, "api_keys": "k"}
    with live_server(tmp_path, backend="testpattern", workers=0, callbacks=False, **limits) as live:
        address = ("127.0.0.1", live.settings.port)
        half = [socket.create_connection(address) for _ in range(200)]
        for sock in half:
            sock.sendall(b"GET /v1/jo")
        silent = socket.create_connection(address)
        huge = socket.create_connection(address)
        huge.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 70_000)
        idle = socket.create_connection(address)
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.monotonic()
        with live.client("k") as http:
            assert http.get("/v1/jobs").status_code == 200
        time.sleep(2.5)
        answers = [_answer_if_closed(sock) for sock in half]
        closed = sum(answer is not None for answer in answers)
        print(
            f"\n{closed} of 200 half-sent connections closed {time.monotonic() - started:.1f} s in"
        )
        assert closed == 200
        assert {answer[:28] for answer in answers if answer} == {b"HTTP/1.1 408 Request Timeout"}
        assert (_answer_if_closed(silent) or b"open").startswith(b"HTTP/1.1 408")
        assert (_answer_if_closed(huge) or b"open").startswith(b"HTTP/1.1 431")
        assert (_answer_if_closed(idle) or b"open").startswith(b"HTTP/1.1 200")
        with live.client("k") as http:
            assert http.get("/v1/jobs").status_code == 200
        for sock in [*half, silent, huge, idle]:
            sock.close()


def _answer_if_closed(sock: socket.socket) -> bytes | None:
    """What the server sent before it closed `sock`, or None while it is still open."""
    sock.setblocking(False)
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except BlockingIOError:
            return None
        except ConnectionResetError:
            return received or b"reset"
        if not chunk:
            return received or b"closed"
        received += chunk


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("chattr") is None, reason="needs root and chattr"
)
def test_readyz_shows_no_server_paths(tmp_path: Path) -> None:
    """/readyz answers without a key: it says storage is failing, never where it is."""
    with live_server(tmp_path, backend="testpattern", workers=0, callbacks=False) as live:
        videos = str(live.settings.videos_dir)
        subprocess.run(["chattr", "+i", videos], check=True)
        try:
            ready = httpx.get(f"{live.url}/readyz")
        finally:
            subprocess.run(["chattr", "-i", videos], check=True)
        assert ready.status_code == 503
        [storage] = [p for p in ready.json()["problems"] if p.startswith("storage")]
        assert str(tmp_path) not in ready.text, storage
        assert "not permitted" in storage, storage  # the kind of fault, not where


def test_server_paths_are_left_out_of_error_messages() -> None:
    from clipforge.api.http.errors import without_server_paths

    here = str(Path.cwd())
    assert without_server_paths(f"cannot read '{here}/x.mp4': gone") == (
        "cannot read '<server path>': gone"
    )
    for kept in ("no model (GET /v1/models lists them)", "https://example.com/tmp/a.png"):
        assert without_server_paths(kept) == kept


def test_clipforge_serve_runs_with_the_header_deadline(tmp_path: Path) -> None:
    env = {**_env(), "CLIPFORGE_HEADER_TIMEOUT_SECONDS": "1", "CLIPFORGE_TRUSTED_PROXIES": ""}
    server = start_server_process(tmp_path, env, "--backend", "testpattern", "--workers", "0")
    try:
        port = int(server.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as half:
            half.sendall(b"GET /healthz HTT")
            half.settimeout(10)
            started = time.monotonic()
            assert half.recv(100).startswith(b"HTTP/1.1 408")
            assert time.monotonic() - started < 5
    finally:
        server.kill()


def test_urls_that_cannot_be_sent_to_are_refused_at_create(tmp_path: Path) -> None:
    # Found by the outside probe: a URL that passes the address check but that httpx cannot
    # parse (over its 65536-character cap, an octal IPv4 host) was a 500 for an image field
    # and, for a callback, accepted and then never deliverable (a traceback per attempt).
    # No worker and no dispatcher: nothing here is fetched or delivered.
    public_but_long = "https://93.184.216.34/" + "a" * 70_000
    octal_public = "http://0135.0270.0330.042/hook"  # 93.184.216.34 to the system resolver
    with (
        live_server(tmp_path, backend="testpattern", workers=0, callbacks=False) as live,
        live.client() as c,
    ):
        image = {"image_url": public_but_long}
        i2v = {"prompt": "x", "model": "bytedance/seedance-1-0-pro-i2v", "input_reference": image}
        refused = c.post("/v1/videos", json=i2v)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["param"] == "input_reference"
        refused = c.post(TASKS, json=ark_body(callback_url=octal_public))
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["param"] == "callback_url"


def test_a_request_whose_body_stalls_is_answered_408(tmp_path: Path) -> None:
    """Found by the outside probe: headers sent in time, then a body that never comes. The
    AI/ML and Ark creates read the body before the key is checked, so a caller without a key
    held such a connection for ever (still open after 90 s)."""
    limits = {"body_idle_timeout_seconds": 1.0, "api_keys": "k"}
    with live_server(tmp_path, backend="testpattern", workers=0, callbacks=False, **limits) as live:
        address = ("127.0.0.1", live.settings.port)
        stalled = []
        for path in (UNIVERSAL, TASKS, "/v1/videos"):
            sock = socket.create_connection(address)
            head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            sock.sendall(f"{head}Content-Length: 1000\r\n\r\n{{".encode())
            stalled.append(sock)
        time.sleep(3)
        answers = [_first_bytes(sock) for sock in stalled]
        assert answers[0].startswith(b"HTTP/1.1 408"), answers[0]
        assert answers[1].startswith(b"HTTP/1.1 408"), answers[1]
        assert answers[2].startswith(b"HTTP/1.1 401"), answers[2]  # the key first, body unread
        for sock in stalled:
            sock.close()
        with live.client("k") as http:  # a real body that arrives in time is untouched
            assert http.post(UNIVERSAL, json=AIML).status_code == 200


def _first_bytes(sock: socket.socket) -> bytes:
    """What the server has sent on `sock` so far (b"" if nothing yet)."""
    sock.settimeout(0.5)
    try:
        return sock.recv(200)
    except TimeoutError:
        return b""
