"""Tenants kept apart, through every route, on both engines: a matrix written once.

Each route is called as the job's owner (key A), another key (B), an admin key, no key and a
revoked key. Another key's job is a 404 (ids cannot be probed), a listing shows only the
caller's jobs (an admin's: every job), and a call without an active key is a 401 that says
how to authenticate (`WWW-Authenticate: Bearer`).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from clipforge.files.base import video_key
from clipforge.schemas import JobResult
from clipforge.store.keys import KeyLimits
from tests.live import LiveServer, live_server

LITE = "bytedance/seedance-1-0-lite-t2v"
AIML = {"model": LITE, "prompt": "a red ball", "resolution": "480p"}
ARK = {"model": "seedance-1-0-lite-t2v-250428", "content": [{"type": "text", "text": "a ball"}]}
TASKS = "/api/v3/contents/generations/tasks"
LEGACY = "/v2/generate/video/bytedance/generation"
UNIVERSAL = "/v2/video/generations"
CALLERS = ("owner", "other", "admin", "none", "revoked")
EXTEND = {"prompt": "it goes on", "seconds": "4"}


@dataclass
class Tenants:
    live: LiveServer
    keys: dict[str, str | None]
    folder: Path

    def http(self, caller: str) -> httpx.Client:
        return self.live.client(self.keys[caller])

    def job(self, finished: bool = False) -> str:
        """A new job of the owner's (completed, with a video file, when `finished`)."""
        with self.http("owner") as http:
            created = http.post(UNIVERSAL, json=AIML)
            assert created.status_code == 200, created.text
            job_id: str = created.json()["id"]
        if finished:
            store, storage = self.live.server.store, self.live.server.storage
            claim = store.claim_job(job_id, "tenancy-test", 30.0)
            assert claim is not None and claim.job.id == job_id
            source = self.folder / f"{job_id}.mp4"
            shutil.copy(Path(__file__), source)  # any bytes: the link serves what is stored
            storage.put(video_key(job_id), source)
            assert store.complete(claim, JobResult(video_key(job_id), "testpattern"))
        return job_id


@pytest.fixture(params=["sqlite", "postgresql"], scope="module")
def tenants(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Tenants]:
    folder = tmp_path_factory.mktemp(f"tenancy-{request.param}")
    engine: dict[str, Any] = {}
    if request.param == "postgresql":
        engine["database_url"] = request.getfixturevalue("postgres").new_schema()
    settings = {"backend": "testpattern", "workers": 0, "callbacks": False, **engine}
    # Many jobs and many refused calls from one address: the limits are tested elsewhere.
    settings |= {"max_queued_jobs": 0, "rate_limit_per_minute": 0, "auth_failures_per_minute": 0}
    with live_server(folder, **settings) as live:
        store = live.server.store
        keys: dict[str, str | None] = {"none": None}
        keys["owner"] = store.create_key("a")[1]
        keys["other"] = store.create_key("b")[1]
        keys["admin"] = store.create_key("ops", KeyLimits(admin=True))[1]
        revoked, keys["revoked"] = store.create_key("gone")
        assert store.revoke_key(revoked.id)
        yield Tenants(live, keys, folder)


@dataclass(frozen=True)
class Route:
    """One route; `call(http, job_id)` sends it about a job of the owner's."""

    name: str
    call: Callable[[httpx.Client, str], httpx.Response]
    finished: bool = False
    """The route needs a finished job (delete, download)."""


def _events(http: httpx.Client, job_id: str) -> httpx.Response:
    with http.stream("GET", f"/v1/jobs/{job_id}/events") as response:
        if response.status_code != 200:
            response.read()
        return response


JOB_ROUTES = [
    Route("aiml legacy poll", lambda h, j: h.get(LEGACY, params={"generation_id": j})),
    Route("aiml universal poll", lambda h, j: h.get(UNIVERSAL, params={"generation_id": j})),
    Route("native get", lambda h, j: h.get(f"/v1/jobs/{j}")),
    Route("native cancel", lambda h, j: h.post(f"/v1/jobs/{j}/cancel")),
    Route("native events", _events),
    Route("ark get", lambda h, j: h.get(f"{TASKS}/{j}")),
    Route("ark cancel", lambda h, j: h.delete(f"{TASKS}/{j}")),
    Route("ark delete", lambda h, j: h.delete(f"{TASKS}/{j}"), finished=True),
    Route("openai retrieve", lambda h, j: h.get(f"/v1/videos/{j}")),
    Route("openai cancel", lambda h, j: h.delete(f"/v1/videos/{j}")),
    Route("openai content", lambda h, j: h.get(f"/v1/videos/{j}/content"), finished=True),
    Route(
        "openai remix",
        lambda h, j: h.post(f"/v1/videos/{j}/remix", json={"prompt": "again"}),
        finished=True,
    ),
    Route(
        "openai extend",
        lambda h, j: h.post("/v1/videos/extensions", json=EXTEND | {"video": {"id": j}}),
        finished=True,
    ),
]
# What each caller gets from a route about the owner's job.
JOB_EXPECTED = {"owner": 200, "other": 404, "admin": 200, "none": 401, "revoked": 401}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", JOB_ROUTES, ids=lambda r: r.name)
def test_a_job_is_reached_only_by_its_owner_and_admins(
    tenants: Tenants, route: Route, caller: str
) -> None:
    job_id = tenants.job(finished=route.finished)
    with tenants.http(caller) as http:
        response = route.call(http, job_id)
    expected = JOB_EXPECTED[caller]
    if route.name == "openai extend" and expected == 200:
        expected = 400  # the tenancy server's finished jobs have no stills: a clear 400
        assert "last frame" in response.text
    assert response.status_code == expected, response.text
    if response.status_code == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    if response.status_code == 404:
        assert job_id in response.text  # the same 404 as an unknown id: nothing to tell apart
    with tenants.http("owner") as owner:
        after = owner.get(f"/v1/jobs/{job_id}")
    changed = caller in ("owner", "admin") and route.name.endswith(("cancel", "delete"))
    if not changed:  # nobody but the owner and admins may change the job
        assert after.status_code == 200
        assert after.json()["status"] == ("completed" if route.finished else "queued")


def test_another_keys_unknown_and_owned_ids_answer_alike(tenants: Tenants) -> None:
    job_id = tenants.job()
    unknown = "00000000-0000-4000-8000-000000000000"
    with tenants.http("other") as http:
        for path in ("/v1/jobs/{}", f"{TASKS}/{{}}"):
            theirs, none = http.get(path.format(job_id)), http.get(path.format(unknown))
            assert theirs.status_code == none.status_code == 404
            assert theirs.json().keys() == none.json().keys()


CREATE_ROUTES = {
    "aiml legacy create": lambda h: h.post(LEGACY, json=AIML),
    "aiml universal create": lambda h: h.post(UNIVERSAL, json=AIML),
    "native create": lambda h: h.post("/v1/jobs", json=AIML),
    "ark create": lambda h: h.post(TASKS, json=ARK),
    "openai create": lambda h: h.post("/v1/videos", json={"prompt": "a ball", "seconds": "4"}),
}
CREATE_EXPECTED = {"owner": 2, "other": 2, "admin": 2, "none": 4, "revoked": 4}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("name", CREATE_ROUTES)
def test_creates_belong_to_their_caller(tenants: Tenants, name: str, caller: str) -> None:
    with tenants.http(caller) as http:
        response = CREATE_ROUTES[name](http)
    assert response.status_code // 100 == CREATE_EXPECTED[caller], response.text
    if response.status_code == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        return
    job_id = response.json()["id"]
    for viewer in ("owner", "other", "admin"):
        with tenants.http(viewer) as http:
            visible = http.get(f"/v1/jobs/{job_id}").status_code
        assert visible == (200 if viewer in (caller, "admin") else 404), (viewer, caller)


LIST_ROUTES = {
    "native list": lambda h: [j["id"] for j in h.get("/v1/jobs?limit=100").json()["data"]],
    "ark list": lambda h: [t["id"] for t in h.get(f"{TASKS}?page_size=500").json()["items"]],
    "openai list": lambda h: [v["id"] for v in h.get("/v1/videos?limit=100").json()["data"]],
}


@pytest.mark.parametrize("name", LIST_ROUTES)
def test_listings_and_counts_show_only_the_callers_jobs(tenants: Tenants, name: str) -> None:
    mine = tenants.job()
    with tenants.http("other") as http:
        theirs = http.post(UNIVERSAL, json=AIML).json()["id"]
        other_ids = LIST_ROUTES[name](http)
        total = http.get(TASKS, params={"filter.task_ids": [mine, theirs]}).json()["total"]
    assert theirs in other_ids and mine not in other_ids
    assert total == 1  # Ark's total counts only the caller's
    with tenants.http("owner") as http:
        owner_ids = LIST_ROUTES[name](http)
    assert mine in owner_ids and theirs not in owner_ids
    with tenants.http("admin") as http:
        admin_ids = LIST_ROUTES[name](http)
        assert http.get(TASKS, params={"filter.task_ids": [mine, theirs]}).json()["total"] == 2
    assert {mine, theirs} <= set(admin_ids)
    for caller in ("none", "revoked"):
        with tenants.http(caller) as http:
            assert http.get("/v1/jobs").status_code == http.get(TASKS).status_code == 401


def test_another_keys_job_is_no_cursor(tenants: Tenants) -> None:
    """`GET /v1/videos?after=` with another key's id answers as for an unknown id."""
    mine, unknown = tenants.job(), "00000000-0000-4000-8000-000000000000"
    with tenants.http("other") as http:
        theirs, none = (http.get("/v1/videos", params={"after": i}) for i in (mine, unknown))
    assert theirs.status_code == none.status_code == 404
    assert theirs.json()["error"]["param"] == none.json()["error"]["param"] == "after"
    with tenants.http("owner") as http:
        assert http.get("/v1/videos", params={"after": mine}).status_code == 200


def test_a_video_link_reaches_only_whoever_the_owner_hands_it(tenants: Tenants) -> None:
    job_id = tenants.job(finished=True)
    with tenants.http("owner") as http:
        url = http.get(UNIVERSAL, params={"generation_id": job_id}).json()["video"]["url"]
    with tenants.http("other") as http:
        poll = http.get(UNIVERSAL, params={"generation_id": job_id})
        assert poll.status_code == 404 and "url" not in poll.text
    assert httpx.get(url).status_code == 200  # a signed link needs no key
    assert httpx.get(url.replace("signature=", "signature=x")).status_code == 403


def test_another_keys_delete_leaves_the_job_its_video_and_its_idempotency_key(
    tenants: Tenants,
) -> None:
    with tenants.http("owner") as http:
        headers = {"Idempotency-Key": "retry-me"}
        job_id = http.post(UNIVERSAL, json=AIML, headers=headers).json()["id"]
    with tenants.http("other") as http:
        assert http.delete(f"{TASKS}/{job_id}").status_code == 404
        assert http.post(f"/v1/jobs/{job_id}/cancel").status_code == 404
        # The same Idempotency-Key under another API key makes that key's own job.
        theirs = http.post(UNIVERSAL, json=AIML, headers=headers).json()["id"]
        assert theirs != job_id
    with tenants.http("owner") as http:
        assert http.get(f"/v1/jobs/{job_id}").json()["status"] == "queued"
        again = http.post(UNIVERSAL, json=AIML, headers=headers).json()["id"]
        assert again == job_id


def test_an_admin_manages_every_job(tenants: Tenants) -> None:
    job_id = tenants.job()
    with tenants.http("admin") as http:
        assert http.post(f"/v1/jobs/{job_id}/cancel").json()["status"] == "cancelled"
        assert http.delete(f"{TASKS}/{job_id}").status_code == 200
        assert http.get(f"/v1/jobs/{job_id}").status_code == 404
    with tenants.http("owner") as http:
        assert http.get(f"/v1/jobs/{job_id}").status_code == 404
