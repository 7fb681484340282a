"""The OpenAI-style surface over real HTTP, beyond what the SDK test covers: JSON bodies,
form values, every field honoured or refused, cursors, variants, aliases, the error body."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from clipforge.files.base import job_keys
from tests.images import data_url, encoded, halves
from tests.live import LiveServer, live_server
from tests.slow_worker import paced_worker

VIDEOS = "/v1/videos"
EXTENSIONS = "/v1/videos/extensions"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = {"backend": "testpattern", "workers": 1, "callbacks": False, "retention_days": 7}
    settings |= {"max_queued_jobs": 0, "rate_limit_per_minute": 0}
    settings |= {"model_aliases": {"house-model": "bytedance/seedance-1-0-lite-t2v"}}
    with live_server(tmp_path_factory.mktemp("openai"), **settings) as live:
        yield live


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


@pytest.fixture(autouse=True)
def own_queue(http: httpx.Client) -> Iterator[None]:
    """Jobs a test leaves queued or running are cancelled after it: the module's one worker
    then never renders clips nobody reads, and a test that waits for its video waits for its
    own only, whichever tests ran before it on this xdist worker (at load 19 the queue that
    earlier tests left made `finished` time out)."""
    yield
    for job in http.get("/v1/jobs", params={"limit": 100}).json()["data"]:
        if job["status"] in ("queued", "generating"):
            http.post(f"/v1/jobs/{job['id']}/cancel")


def finished(http: httpx.Client, video: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while video["status"] in ("queued", "in_progress"):
        assert time.monotonic() < deadline, video
        time.sleep(0.05)
        video = http.get(f"{VIDEOS}/{video['id']}").json()
    return video


def refusal(response: httpx.Response, param: str) -> str:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["param"] == param and error["type"] == "invalid_request_error", error
    return str(error["message"])


def test_json_create_with_the_peers_extension_fields(http: httpx.Client) -> None:
    body = {"prompt": "a ball", "size": "864x480", "seconds": "8", "num_inference_steps": 6}
    created = http.post(VIDEOS, json=body | {"seed": 9})
    assert created.status_code == 200 and created.headers["openai-poll-after-ms"] == "1000"
    video = finished(http, created.json())
    assert (video["size"], video["seconds"], video["model"]) == ("864x480", "8", "sora-2")
    job = http.get(f"/v1/jobs/{video['id']}").json()
    assert job["request"]["seed"] == 9 and job["progress"] == {"step": 6, "total": 6}
    assert job["request"]["model"] == "bytedance/seedance-1-0-pro-fast"  # sora-2's default
    assert video["expires_at"] == video["completed_at"] + 7 * 86_400
    # testpattern takes steps but no guidance and no negative prompt: refused, not ignored
    refusal(http.post(VIDEOS, json={"prompt": "a", "guidance_scale": 5}), "guidance_scale")
    refusal(http.post(VIDEOS, json={"prompt": "a", "negative_prompt": "blur"}), "negative_prompt")


def test_aliases_and_served_ids(http: httpx.Client) -> None:
    for model, served in (
        ("sora-2-pro", "bytedance/seedance-1-0-pro-t2v"),
        ("sora-2-2025-10-06", "bytedance/seedance-1-0-pro-fast"),
        ("house-model", "bytedance/seedance-1-0-lite-t2v"),
        ("bytedance/seedance-1-0-lite-t2v", "bytedance/seedance-1-0-lite-t2v"),
    ):
        video = http.post(VIDEOS, json={"prompt": "a", "model": model}).json()
        assert video["model"] == model
        assert http.get(f"/v1/jobs/{video['id']}").json()["request"]["model"] == served
    assert "not served" in refusal(http.post(VIDEOS, json={"prompt": "a", "model": "veo"}), "model")


def test_form_values_are_checked_like_json(http: httpx.Client) -> None:
    def form(**fields: str) -> httpx.Response:  # multipart/form-data, as the SDK sends
        parts = {name: (None, value) for name, value in {"prompt": "a ball", **fields}.items()}
        return http.post(VIDEOS, files=parts)

    refusal(form(seed="5.0"), "seed")
    refusal(form(seed="\u0663"), "seed")  # ARABIC-INDIC DIGIT THREE: ASCII digits only
    refusal(form(seconds="5"), "seconds")
    refusal(form(size="1x1"), "size")
    refusal(form(unheard_of="x"), "unheard_of")
    stray = http.post(VIDEOS, data={"prompt": "a"}, files={"x": ("x.bin", b"bytes")})
    refusal(stray, "x")  # an unexpected file part is refused too
    plain = form(seed="12", size="1280x720")
    assert plain.status_code == 200, plain.text
    assert http.get(f"/v1/jobs/{plain.json()['id']}").json()["request"]["seed"] == 12


def test_a_form_field_given_twice_is_refused(http: httpx.Client) -> None:
    # Found by the outside probe: a repeated form field silently took its last value (as
    # duplicate JSON keys once did), `video=x&video[id]=y` was a 500, and an uploaded
    # `input_reference` file silently replaced an `input_reference[image_url]` beside it.
    urlencoded = {"Content-Type": "application/x-www-form-urlencoded"}
    for body, field in [
        (b"prompt=a&prompt=b", "prompt"),
        (b"prompt=a&seconds=4&seconds=8", "seconds"),
        (b"prompt=a&video=x&video[id]=y", "video"),
        (b"prompt=a&video[id]=y&video=x", "video"),
    ]:
        path = EXTENSIONS if field == "video" else VIDEOS
        assert "more than once" in refusal(http.post(path, content=body, headers=urlencoded), field)
    image = encoded(halves())
    both = {"prompt": "a", "input_reference[image_url]": data_url(image)}
    upload = ("i.png", image, "image/png")
    answer = http.post(VIDEOS, data=both, files={"input_reference": upload})
    assert "more than once" in refusal(answer, "input_reference")
    twice = [("input_reference", upload), ("input_reference", ("j.png", b"junk", "image/png"))]
    answer = http.post(VIDEOS, data={"prompt": "a"}, files=twice)
    assert "more than once" in refusal(answer, "input_reference")


def test_an_image_reference_by_url_field(http: httpx.Client) -> None:
    image = data_url(encoded(halves()))
    created = http.post(VIDEOS, data={"prompt": "a flag", "input_reference[image_url]": image})
    assert created.status_code == 200, created.text
    job = http.get(f"/v1/jobs/{created.json()['id']}").json()
    assert job["request"]["model"] == "bytedance/seedance-1-0-pro-i2v"
    refusal(
        http.post(VIDEOS, json={"prompt": "a", "input_reference": {"image_url": "ftp://x"}}),
        "input_reference",
    )


def test_cursor_pages(http: httpx.Client) -> None:
    ids = [http.post(VIDEOS, json={"prompt": f"clip {n}"}).json()["id"] for n in range(3)]
    page = http.get(VIDEOS, params={"limit": 2}).json()
    assert page["object"] == "list" and page["has_more"] is True
    assert [v["id"] for v in page["data"]] == ids[:0:-1]
    assert page["first_id"] == ids[2] and page["last_id"] == ids[1]
    rest = http.get(VIDEOS, params={"limit": 2, "after": page["last_id"]}).json()
    assert rest["data"][0]["id"] == ids[0]
    ascending = http.get(VIDEOS, params={"order": "asc", "after": ids[0], "limit": 2}).json()
    assert [v["id"] for v in ascending["data"]] == ids[1:]
    assert http.get(VIDEOS, params={"after": "not-a-video"}).json()["error"]["param"] == "after"


def test_variants_remix_extend_delete_and_edits(http: httpx.Client) -> None:
    video = finished(http, http.post(VIDEOS, json={"prompt": "a ball", "size": "864x480"}).json())
    content = {
        v: http.get(f"{VIDEOS}/{video['id']}/content", params={"variant": v})
        for v in ("video", "thumbnail", "spritesheet")
    }
    assert [r.headers["content-type"] for r in content.values()] == [
        "video/mp4",
        "image/webp",
        "image/jpeg",
    ]
    remix = http.post(f"{VIDEOS}/{video['id']}/remix", json={"prompt": "a blue ball"}).json()
    assert remix["remixed_from_video_id"] == video["id"] and remix["size"] == "864x480"
    extension = http.post(
        f"{VIDEOS}/extensions", json={"prompt": "on", "seconds": "4", "video": {"id": video["id"]}}
    )
    assert extension.status_code == 200, extension.text
    extended = finished(http, extension.json())
    assert extended["status"] == "completed" and extended["remixed_from_video_id"] is None
    queued = http.post(VIDEOS, json={"prompt": "never mind"}).json()
    assert http.delete(f"{VIDEOS}/{queued['id']}").json()["deleted"] is True
    assert http.get(f"{VIDEOS}/{queued['id']}").status_code == 404
    refusal(http.post(f"{VIDEOS}/edits", json={"prompt": "x"}), "video")
    missing = http.post(f"{VIDEOS}/extensions", json={"prompt": "on", "seconds": "4"})
    assert missing.json()["error"]["param"] == "video"


def test_errors_have_the_openai_body(server: LiveServer) -> None:
    with server.client("wrong-key") as http:
        # The server is open (no key made), so any key is accepted; an unknown id is a 404.
        missing = http.get(f"{VIDEOS}/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "invalid_request_error"
    assert missing.json()["error"]["code"] == "not_found"


def test_delete_removes_a_finished_video_and_every_file(
    server: LiveServer, http: httpx.Client
) -> None:
    video = finished(http, http.post(VIDEOS, json={"prompt": "a ball", "size": "864x480"}).json())
    storage = server.server.storage
    assert storage.exists(f"{video['id']}.mp4")
    assert sum(storage.exists(key) for key in job_keys(video["id"])) >= 3  # video and stills
    assert http.delete(f"{VIDEOS}/{video['id']}").json() == {
        "id": video["id"],
        "object": "video.deleted",
        "deleted": True,
    }
    assert [key for key in job_keys(video["id"]) if storage.exists(key)] == []
    assert http.get(f"{VIDEOS}/{video['id']}").status_code == 404


def test_delete_of_a_running_video_cancels_it_and_leaves_no_file(tmp_path: Path) -> None:
    settings = {"backend": "testpattern", "workers": 0, "callbacks": False}
    with live_server(tmp_path, **settings) as live, live.client() as http:
        video = http.post(VIDEOS, json={"prompt": "a ball", "size": "864x480"}).json()
        with paced_worker(live, step_seconds=0.5):
            deadline = time.monotonic() + 30
            while http.get(f"{VIDEOS}/{video['id']}").json()["status"] != "in_progress":
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert http.delete(f"{VIDEOS}/{video['id']}").json()["deleted"] is True
            assert http.get(f"{VIDEOS}/{video['id']}").status_code == 404
        # the block's end joins the worker: it has stopped at its next step (or, were the
        # cancel ignored, finished the job and written its files) before the check
        storage = live.server.storage
        assert [key for key in job_keys(video["id"]) if storage.exists(key)] == []


def test_progress_from_the_steps_and_a_failure_with_its_error(tmp_path: Path) -> None:
    settings = {"backend": "testpattern", "workers": 0, "callbacks": False}
    with live_server(tmp_path, **settings) as live, live.client() as http:
        video = http.post(VIDEOS, json={"prompt": "a ball", "size": "864x480"}).json()
        assert (video["status"], video["progress"]) == ("queued", 0)
        no_content(http, video["id"])  # no worker here: it stays queued
        store = live.server.store
        claim = store.claim("test-worker", 30)
        assert claim is not None and claim.job.id == video["id"]
        assert store.record_progress(claim, 3, 8)
        running = http.get(f"{VIDEOS}/{video['id']}")
        assert running.json()["status"] == "in_progress" and running.json()["progress"] == 37
        assert running.headers["openai-poll-after-ms"] == "500"
        no_content(http, video["id"])
        assert store.fail(claim, "GenerationError", "the model ran out of memory")
        failed = http.get(f"{VIDEOS}/{video['id']}").json()
        no_content(http, video["id"])
    assert failed["status"] == "failed" and failed["completed_at"] is None
    assert failed["error"] == {"code": "GenerationError", "message": "the model ran out of memory"}
    assert failed["progress"] == 37  # where it stopped


def test_a_job_from_another_surface_reads_as_a_video(http: httpx.Client) -> None:
    """An Ark task of 57 frames (2 1/3 s) reads here with a short `seconds`."""
    content = [{"type": "text", "text": "a ball --rs 480p"}]
    body = {"model": "seedance-1-0-lite-t2v-250428", "content": content, "frames": 57}
    task = http.post("/api/v3/contents/generations/tasks", json=body).json()
    video = http.get(f"{VIDEOS}/{task['id']}").json()
    assert (video["object"], video["seconds"], video["size"]) == ("video", "2.33", "864x480")


def test_an_extension_stores_the_sources_last_frame_as_it_is(
    server: LiveServer, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A frame read back from storage at the job's size is the stored frame: no second
    resize and PNG encode (the bytes go from storage to the new job's frame once)."""
    from clipforge.api.accept.media import intake
    from clipforge.files.base import frame_key, still_key

    video = finished(http, http.post(VIDEOS, json={"prompt": "a ball", "size": "864x480"}).json())
    encodes: list[int] = []
    real = intake.encode_png
    monkeypatch.setattr(intake, "encode_png", lambda frame: encodes.append(1) or real(frame))
    made = http.post(
        f"{VIDEOS}/extensions", json={"prompt": "on", "seconds": "4", "video": {"id": video["id"]}}
    )
    assert made.status_code == 200, made.text
    storage = server.server.storage
    first = storage.get_bytes(frame_key(made.json()["id"], "first"))
    assert first == storage.get_bytes(still_key(video["id"], "lastframe"))
    assert encodes == []


def no_content(http: httpx.Client, video_id: str) -> None:
    """A video that is not completed has no content: 404 in OpenAI's shape, naming it."""
    for variant in ("video", "thumbnail"):
        answer = http.get(f"{VIDEOS}/{video_id}/content", params={"variant": variant})
        assert answer.status_code == 404, answer.text
        assert answer.json()["error"]["param"] == "video_id", answer.text
