"""The front door fails closed: a keyed server stays keyed, open mode only where it is safe,
401s that say how to authenticate, failed keys throttled per address and key (the address
from a trusted proxy only), limits per key."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from clipforge.schemas import GenerationRequest
from clipforge.store.keys import KeyLimits, digest
from clipforge.store.schema import MIGRATIONS
from tests.live import live_server

UNIVERSAL = "/v2/video/generations"
TASKS = "/api/v3/contents/generations/tasks"
AIML = {"model": "bytedance/seedance-1-0-lite-t2v", "prompt": "a red ball"}
API_ONLY = {"backend": "testpattern", "workers": 0, "callbacks": False}


def test_revoking_the_last_key_closes_the_server_instead_of_opening_it(tmp_path: Path) -> None:
    with live_server(tmp_path, **API_ONLY) as live:
        store = live.server.store
        with live.client() as anonymous:
            assert anonymous.get("/v1/jobs").status_code == 200  # open: no key ever made
        record, secret = store.create_key("only")
        with live.client(secret) as http:
            assert http.get("/v1/jobs").status_code == 200
        assert store.revoke_key(record.id)
        for key in (None, secret, "guess"):
            with live.client(key) as http:
                refused = http.get("/v1/jobs")
                assert refused.status_code == 401, key
                assert refused.headers["WWW-Authenticate"] == 'Bearer realm="clipforge"'
    # A fresh process on the same database is keyed from its first request.
    with live_server(tmp_path, **API_ONLY) as live, live.client() as anonymous:
        assert anonymous.post(UNIVERSAL, json=AIML).status_code == 401


def test_without_a_key_only_loopback_or_explicit_open_access_is_open(tmp_path: Path) -> None:
    # The listen address decides, on every request (the test server listens on loopback
    # whatever `host` says, so the setting alone is what is tested).
    with (
        live_server(tmp_path / "a", host="0.0.0.0", **API_ONLY) as live,
        live.client() as anonymous,
    ):
        refused = anonymous.get("/v1/jobs")
        assert refused.status_code == 401
        assert "clipforge keys create" in refused.json()["message"]
        ark = anonymous.get(TASKS)
        assert ark.status_code == 401 and ark.json()["error"]["code"] == "AuthenticationError"
    with (
        live_server(tmp_path / "b", host="0.0.0.0", open_access=True, **API_ONLY) as live,
        live.client() as anonymous,
    ):
        assert anonymous.get("/v1/jobs").status_code == 200
    # An app built in production (not through `clipforge serve`, which refuses to start):
    # never open, on loopback or with open access.
    production = {"environment": "production", "signing_secret": "s" * 32, **API_ONLY}
    for name, host, open_access in (("c", "127.0.0.1", False), ("d", "0.0.0.0", True)):
        with (
            live_server(tmp_path / name, host=host, open_access=open_access, **production) as live,
            live.client() as anonymous,
        ):
            assert anonymous.get("/v1/jobs").status_code == 401, (host, open_access)


def test_401_names_the_header_and_the_cli_option(tmp_path: Path) -> None:
    with live_server(tmp_path, api_keys="k", **API_ONLY) as live, live.client() as anonymous:
        message = anonymous.get("/v1/jobs").json()["message"]
        assert "Authorization: Bearer" in message and "--api-key" in message
        assert "CLIPFORGE_API_KEY" in message


def test_failed_authentication_is_throttled_per_address_and_key(tmp_path: Path) -> None:
    settings = {"api_keys": "right,other-good", "auth_failures_per_minute": 3, **API_ONLY}
    with live_server(tmp_path, **settings) as live:
        # The throttle's clock stands still: the 31 guesses below are one burst however slowly
        # a loaded machine sends them (at load 15 they took long enough to earn one back).
        frozen = time.monotonic()
        live.server.app.state.services.door.failures._clock = lambda: frozen
        with live.client("right") as http:
            assert http.get("/v1/jobs").status_code == 200
        with live.client("wrong") as http:
            assert [http.get("/v1/jobs").status_code for _ in range(3)] == [401] * 3
            throttled = http.get("/v1/jobs")
            assert throttled.status_code == 429
            assert 1 <= int(throttled.headers["Retry-After"]) <= 60
            assert http.get(TASKS).json()["error"]["code"] == "RateLimitExceeded"
        # Good keys from the same address (one NAT) keep working, used before or not.
        for good in ("right", "other-good"):
            with live.client(good) as http:
                assert http.get("/v1/jobs").status_code == 200, good
        # Ever-new bad keys: the address closes to keys not seen to work from it.
        answers = []
        for n in range(31):
            with live.client(f"{n:03d}-guess") as http:
                answers.append(http.get("/v1/jobs").status_code)
        assert answers[:27] == [401] * 27 and answers[-1] == 429, answers
        with live.client("right") as http:
            assert http.get("/v1/jobs").status_code == 200


def test_x_forwarded_for_is_believed_only_from_trusted_proxies(tmp_path: Path) -> None:
    """Rotating X-Forwarded-For does not get around the throttle (it was believed from any
    loopback peer); from a configured proxy it names the client."""
    settings = {"api_keys": "right", "auth_failures_per_minute": 2, **API_ONLY}
    with live_server(tmp_path / "direct", **settings) as live, live.client("wrong") as http:
        answers = [
            http.get("/v1/jobs", headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
            for n in range(4)
        ]
        assert answers == [401, 401, 429, 429]
    proxied = {**settings, "trusted_proxies": "10.0.0.0/8,127.0.0.1"}
    with live_server(tmp_path / "proxied", **proxied) as live, live.client("wrong") as http:
        answers = [
            http.get("/v1/jobs", headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
            for n in range(4)
        ]
        assert answers == [401] * 4  # four clients behind the proxy, one failure each
        same = [
            http.get("/v1/jobs", headers={"X-Forwarded-For": "198.51.100.7"}).status_code
            for _ in range(3)
        ]
        assert same == [401, 401, 429]


def test_admin_keys_from_the_setting(tmp_path: Path) -> None:
    with live_server(tmp_path, api_keys="tenant,boss:admin", **API_ONLY) as live:
        with live.client("tenant") as http:
            job_id = http.post(UNIVERSAL, json=AIML).json()["id"]
        with live.client("boss") as admin:
            assert admin.get(f"/v1/jobs/{job_id}").status_code == 200
        with live.client("boss:admin") as literal:  # the suffix is not part of the key
            assert literal.get("/v1/jobs").status_code == 401


def test_limits_are_on_by_default_and_adjustable_per_key(tmp_path: Path) -> None:
    with live_server(tmp_path, max_queued_jobs=2, **API_ONLY) as live:
        store = live.server.store
        plain = store.create_key("plain")[1]
        roomy = store.create_key("roomy", KeyLimits(max_queued=4))[1]
        unlimited = store.create_key("batch", KeyLimits(max_queued=0, rate_per_minute=0))[1]
        slow = store.create_key("slow", KeyLimits(rate_per_minute=2))[1]
        assert _queued_until_refused(live.url, plain) == 2
        assert _queued_until_refused(live.url, roomy) == 4
        assert _queued_until_refused(live.url, unlimited, stop=10) == 10
        with httpx.Client(base_url=live.url, headers=_bearer(slow)) as http:
            assert [http.get("/v1/jobs").status_code for _ in range(3)] == [200, 200, 429]
    with live_server(tmp_path / "defaults", **API_ONLY) as live:
        settings = live.settings
        assert (settings.max_queued_jobs, settings.rate_limit_per_minute) == (120, 600)


def _queued_until_refused(url: str, key: str, stop: int = 20) -> int:
    with httpx.Client(base_url=url, headers=_bearer(key)) as http:
        for count in range(stop):
            answer = http.post(UNIVERSAL, json=AIML)
            if answer.status_code == 429:
                assert "queued" in answer.json()["message"]
                return count
            assert answer.status_code == 200, answer.text
    return stop


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_database_from_before_tenancy_keeps_its_keys_and_owners(tmp_path: Path) -> None:
    """Schema 6 (before admin keys, limits and listings by owner) migrates in place."""
    secret = "cf_" + "x" * 43
    with closing(sqlite3.connect(tmp_path / "clipforge.db")) as db:
        for step in MIGRATIONS[:6]:
            for statement in step:
                db.execute(statement)
        db.execute("PRAGMA user_version = 6")
        db.execute(
            "INSERT INTO api_keys (id, name, digest, created_at) VALUES ('k1', 'old', ?, 1.0)",
            (digest(secret),),
        )
        request = GenerationRequest(model=AIML["model"], prompt="old job", seed=1)
        db.execute(
            "INSERT INTO jobs (id, status, request, model, created_at, updated_at, owner)"
            " VALUES (?, 'queued', ?, ?, 1.0, 1.0, 'k1')",
            (OLD_JOB, request.model_dump_json(), request.model),
        )
        db.commit()
    with live_server(tmp_path, **API_ONLY) as live:
        with live.client(secret) as http:
            assert http.get(f"/v1/jobs/{OLD_JOB}").json()["request"]["prompt"] == "old job"
        with live.client() as anonymous:  # the old key made the server keyed
            assert anonymous.get(f"/v1/jobs/{OLD_JOB}").status_code == 401
        [key] = live.server.store.list_keys()
        assert key.limits == KeyLimits()


OLD_JOB = "0b0e4a52-4c3b-4d27-9d0e-2f4e3a1b6c7d"


@pytest.mark.parametrize("per_minute", [1, 5, 600])
def test_the_rate_rule_allows_a_burst_then_an_even_pace(per_minute: int) -> None:
    from clipforge.store.throttle import next_arrival

    tat, now, allowed = None, 1000.0, 0
    while True:
        moved, wait = next_arrival(tat, now, per_minute)
        if moved is None:
            break
        tat, allowed = moved, allowed + 1
    assert allowed == per_minute and 0 < wait <= 60 / per_minute + 1e-9
    moved, _ = next_arrival(tat, now + wait, per_minute)
    assert moved is not None  # after the wait, exactly one more
