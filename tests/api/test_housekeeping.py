"""The server's sweep over real HTTP: execution_expires_after and file retention."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from clipforge.client import Client
from clipforge.errors import JobFailedError
from tests.live import live_server

TASKS = "/api/v3/contents/generations/tasks"
ARK_MODEL = "seedance-1-0-pro-250528"


def wait_for(http: httpx.Client, path: str, done: str, seconds: float = 60) -> dict[str, object]:
    deadline = time.monotonic() + seconds
    while (body := http.get(path).json())["status"] != done:
        assert time.monotonic() < deadline, body
        time.sleep(0.05)
    result: dict[str, object] = body
    return result


def test_a_task_still_queued_past_its_deadline_ends_expired(tmp_path: Path) -> None:
    with (
        live_server(
            tmp_path, backend="testpattern", workers=0, sweep_interval_seconds=0.05
        ) as live,
        live.client() as http,
    ):
        content = [{"type": "text", "text": "a ball"}]
        body = {"model": ARK_MODEL, "content": content, "execution_expires_after": 1}
        short = http.post(TASKS, json=body).json()["id"]
        body["execution_expires_after"] = 3600
        long = http.post(TASKS, json=body).json()["id"]
        started = time.monotonic()
        task = wait_for(http, f"{TASKS}/{short}", "expired", 10)
        assert time.monotonic() - started >= 0.5
        assert task["error"] == {"code": "Expired", "message": task["error"]["message"]}  # type: ignore[index]
        poll = http.get("/v2/video/generations", params={"generation_id": short}).json()
        assert poll["status"] == "error" and poll["error"]["name"] == "Expired"
        listed = http.get(TASKS, params={"filter.status": "expired"}).json()
        assert [t["id"] for t in listed["items"]] == [short]
        assert http.get(TASKS, params={"filter.status": "failed"}).json()["total"] == 0
        assert http.get(f"{TASKS}/{long}").json()["status"] == "queued"
        bad = http.post(TASKS, json={**body, "execution_expires_after": 0})
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "execution_expires_after"


def test_finished_jobs_files_are_removed_after_the_retention_period(tmp_path: Path) -> None:
    retention = {"retention_days": 2 / 86_400, "sweep_interval_seconds": 0.1}  # two seconds
    with (
        live_server(tmp_path, backend="testpattern", workers=1, **retention) as live,
        live.client() as http,
    ):
        body = {
            "model": "bytedance/seedance-1-0-lite-t2v",
            "prompt": "a ball",
            "resolution": "480p",
        }
        job_id = http.post("/v2/video/generations", json=body).json()["id"]
        done = wait_for(http, f"/v1/jobs/{job_id}", "completed", 120)
        url = str(done["video_url"])
        key = f"{job_id}.mp4"
        assert live.server.storage.exists(key)  # finished less than a second ago: kept
        deadline = time.monotonic() + 10
        while live.server.storage.exists(key):
            assert time.monotonic() < deadline, "the file outlived its retention"
            time.sleep(0.05)
        assert http.get(url).status_code == 410  # a link handed out before stays dead
        # Every surface now says the video expired instead of handing out dead links.
        deadline = time.monotonic() + 10
        while not (native := http.get(f"/v1/jobs/{job_id}").json())["video_expired"]:
            assert time.monotonic() < deadline, native
            time.sleep(0.05)
        assert native["status"] == "completed" and native["video_url"] is None
        poll = http.get("/v2/video/generations", params={"generation_id": job_id}).json()
        assert poll["status"] == "completed" and poll["video"] is None
        assert poll["error"]["name"] == "VideoExpired"
        task = http.get(f"{TASKS}/{job_id}").json()
        assert task["status"] == "succeeded" and task["content"]["video_url"] is None
        assert task["error"]["code"] == "VideoExpired"
        video = http.get(f"/v1/videos/{job_id}").json()
        assert video["status"] == "completed" and video["expires_at"] <= time.time()
        content = http.get(f"/v1/videos/{job_id}/content")
        assert content.status_code == 400 and "retention" in content.json()["error"]["message"]
        with Client(live.url) as client:
            job = client.get(job_id)
            assert job.status == "completed" and job.video_expired and job.video_url is None
            with pytest.raises(JobFailedError, match="expired"):
                client.download(job, tmp_path / "gone.mp4")
        assert not (tmp_path / "gone.mp4").exists()


def test_retention_removes_a_jobs_frames_with_its_video(tmp_path: Path) -> None:
    from clipforge.background.housekeeping import Housekeeper
    from clipforge.files.base import frame_key, job_keys, video_key
    from clipforge.files.local import LocalStorage
    from clipforge.schemas import GenerationRequest, JobResult
    from clipforge.settings import Settings
    from clipforge.store import SQLiteJobStore

    settings = Settings(data_dir=tmp_path, retention_days=1)
    storage = LocalStorage(
        tmp_path / "videos", secret=b"s", public_base_url="http://x", ttl_seconds=9
    )
    now = [1_000_000.0]
    with SQLiteJobStore(tmp_path / "jobs.db", clock=lambda: now[0]) as store:
        request = GenerationRequest(
            model="m", prompt="p", image_url="https://a", last_image_url="b"
        )
        job = store.create(request)
        for key in (frame_key(job.id, "first"), frame_key(job.id, "last")):
            storage.put_bytes(key, b"png")
        source = tmp_path / "clip.mp4"
        source.write_bytes(b"mp4")
        storage.put(video_key(job.id), source)
        claim = store.claim("w", 30.0)
        assert claim is not None and store.complete(claim, JobResult(video_key(job.id), "t"))
        now[0] += 2 * 86_400
        assert Housekeeper(store, storage, settings, clock=lambda: now[0]).purge_files() == 1
    assert not any(storage.exists(key) for key in job_keys(job.id))
