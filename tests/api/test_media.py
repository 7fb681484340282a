"""Uploaded videos over real HTTP (`POST /v1/videos/extensions` with a file, as the OpenAI SDK
sends it): MP4 and WebM give their true last frame; everything else a hostile client can
upload (an FFmpeg concat list naming a server file, images posing as videos, damaged files,
giant frames, endless frame counts) is a 400 naming `video`, and decoding uploads never
holds up another tenant's image create."""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clipforge.api.accept.media import intake as media_intake
from clipforge.api.accept.media.clips import ClipLimits, last_frame
from clipforge.api.accept.media.intake import MAX_PIXELS, MIN_SIDE
from clipforge.files.base import frame_key
from clipforge.video.images import decode_png
from tests.images import data_url, encoded, halves
from tests.live import LiveServer, live_server
from tests.videos import ffconcat, image_as, long_static, shade, video

EXTENSIONS = "/v1/videos/extensions"
KEYS = ("tenant-a", "tenant-b")
MAX_FRAMES = 4000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = {"backend": "testpattern", "workers": 0, "callbacks": False}
    settings |= {"api_keys": ",".join(KEYS), "max_queued_jobs": 0, "rate_limit_per_minute": 0}
    settings |= {"max_video_frames": MAX_FRAMES}
    with live_server(tmp_path_factory.mktemp("media"), **settings) as live:
        yield live


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client(KEYS[0]) as client:
        yield client


def extend(
    http: httpx.Client, data: bytes, name: str = "clip.mp4", **headers: str
) -> httpx.Response:
    form = {"prompt": "it goes on", "seconds": "4"}
    return http.post(EXTENSIONS, data=form, files={"video": (name, data)}, headers=headers)


def refused(response: httpx.Response, field: str = "video") -> str:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == field, error
    return str(error["message"])


def first_frame(server: LiveServer, job_id: str) -> np.ndarray:
    return decode_png(server.server.storage.get_bytes(frame_key(job_id, "first")))


@pytest.mark.parametrize("kind", ["mp4", "webm"])
def test_an_uploaded_video_starts_the_extension_from_its_last_frame(
    server: LiveServer, http: httpx.Client, kind: str
) -> None:
    answer = extend(http, video(50, kind=kind, key_every=12), f"clip.{kind}")
    assert answer.status_code == 200, answer.text
    grey = first_frame(server, answer.json()["id"]).mean()
    assert abs(grey - shade(49)) < 4, (grey, shade(49))


def _cut(data: bytes) -> bytes:
    return data[: len(data) // 2]


HOSTILE = {
    "gif": (lambda: image_as("GIF"), "not an MP4"),
    "bmp": (lambda: image_as("BMP"), "not an MP4"),
    "tiff": (lambda: image_as("TIFF"), "not an MP4"),
    "png": (lambda: image_as("PNG"), "not an MP4"),
    "ffconcat": (lambda: ffconcat("/etc/hostname"), "not an MP4"),
    "text": (lambda: b"#EXTM3U\n#EXT-X-VERSION:3\nhttp://127.0.0.1:9/a.ts\n", "not an MP4"),
    "empty": (lambda: b"", "not an MP4"),
    "cut mp4": (lambda: _cut(video(40)), "damaged or cut short"),
    "cut mp4, index first": (lambda: _cut(video(240, index_first=True)), "cut short"),
    "cut webm": (lambda: _cut(video(240, kind="webm", key_every=24)), "cut short"),
    "webm header only": (lambda: video(40, kind="webm")[:300], "damaged or cut short"),
    "mp4 header only": (lambda: video(40)[:64], "damaged or cut short"),
    "huge frame": (lambda: video(1, (8192, 8192)), "more than 40000000 pixels"),
    "tiny frame": (lambda: video(3, (32, 32)), "smaller than 64"),
    "many frames": (lambda: long_static(MAX_FRAMES + 1, 1000, (64, 64)), f"than {MAX_FRAMES}"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_uploads_are_400s_naming_the_field(
    server: LiveServer, http: httpx.Client, name: str
) -> None:
    make, problem = HOSTILE[name]
    before = server.server.store.count_jobs()
    message = refused(extend(http, make()))
    assert problem in message, message
    assert server.server.store.count_jobs() == before


def test_a_concat_list_cannot_read_another_tenants_stored_frame(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FFmpeg's concat demuxer opens the files a list names (relative names, from the
    server's working folder): tenant B names tenant A's stored first frame."""
    red = halves(200, 200, (220, 0, 0), (220, 0, 0))
    body = {"model": "bytedance/seedance-1-0-lite-i2v", "prompt": "a", "resolution": "480p"}
    with server.client(KEYS[0]) as owner:
        made = owner.post(
            "/v2/video/generations", json=body | {"image_url": data_url(encoded(red))}
        )
    assert made.status_code == 200, made.text
    stored = Path(server.settings.videos_dir) / frame_key(made.json()["id"], "first")
    assert stored.is_file()
    monkeypatch.chdir(server.settings.data_dir)  # so the name is relative and "safe"
    with server.client(KEYS[1]) as other:
        answer = extend(other, ffconcat(os.path.relpath(stored)), "list.mp4")
    assert "not an MP4" in refused(answer), answer.text


def test_the_same_idempotency_key_with_another_upload_is_a_422(http: httpx.Client) -> None:
    key = {"Idempotency-Key": "upload-once"}
    first = extend(http, video(20), **key)
    assert first.status_code == 200, first.text
    again = extend(http, video(20), **key)
    assert again.json()["id"] == first.json()["id"]
    other = extend(http, video(21), **key)
    assert other.status_code == 422, other.text


def test_a_malformed_form_is_a_400(http: httpx.Client) -> None:
    cut = b'--b\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nhello'
    headers = {"content-type": "multipart/form-data; boundary=b"}
    answer = http.post(EXTENSIONS, content=cut + b"\r\n--c--", headers=headers)
    assert answer.status_code == 400, answer.text
    unbounded = {"content-type": "multipart/form-data"}
    assert refused(http.post(EXTENSIONS, content=b"x", headers=unbounded), "body")


def _timed(call: Any) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def test_uploads_do_not_starve_another_tenants_image_create(server: LiveServer) -> None:
    """Six uploads of a long 1080p video (slow to decode whole: ~130 KB, 3000 frames) from
    tenant A; tenant B's small image create meanwhile takes about as long as alone, and far
    less than the uploads (before: it waited for a thread until every upload was decoded)."""
    heavy = long_static(3000, 500)
    image = {"model": "bytedance/seedance-1-0-lite-i2v", "prompt": "a", "resolution": "480p"}
    image |= {"image_url": data_url(encoded(halves()))}

    def create_image() -> None:
        with server.client(KEYS[1]) as b:
            assert b.post("/v2/video/generations", json=image).status_code == 200

    alone = min(_timed(create_image) for _ in range(3))
    answers: list[int] = []

    def upload() -> None:
        with server.client(KEYS[0]) as a:
            answers.append(extend(a, heavy).status_code)

    uploaders = [threading.Thread(target=upload) for _ in range(6)]
    started = time.perf_counter()
    for thread in uploaders:
        thread.start()
    time.sleep(0.3)  # the uploads are received and being decoded
    during = _timed(create_image)
    for thread in uploaders:
        thread.join(120)
    uploads = time.perf_counter() - started
    assert answers == [200] * 6
    assert during < alone + 0.25 * uploads, (alone, during, uploads)


def test_the_last_frame_comes_from_the_last_key_frame_not_a_decode_of_everything() -> None:
    """1500 720p frames with a key frame every 250: finding the last frame decodes at most
    250, so it takes a fraction of decoding the whole file the same way (one thread, as the
    intake decodes), timed here in the same run."""
    data = long_static(1500, 250, (1280, 720))
    started = time.thread_time()  # CPU time of this thread: the machine's load does not count
    with av.open(io.BytesIO(data)) as container:
        container.streams.video[0].codec_context.thread_count = 1
        assert sum(1 for _ in container.decode(video=0)) == 1500
    whole = time.thread_time() - started
    limits = ClipLimits(MAX_PIXELS, MIN_SIDE, 600.0, 1500, 60.0)
    started = time.thread_time()
    frame = last_frame(data, limits)
    last = time.thread_time() - started
    assert frame.shape == (720, 1280, 3) and abs(frame.mean() - shade(0)) < 4
    assert last < 0.5 * whole, (last, whole)


MEDIA = {
    "mp4": lambda: video(8),
    "webm": lambda: video(8, kind="webm"),
    "jpeg": lambda: encoded(halves(96, 80), "JPEG"),
    "png": lambda: encoded(halves(96, 80)),
    "webp": lambda: encoded(halves(96, 80), "WEBP"),
}
SAMPLES = {name: make() for name, make in MEDIA.items()}


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    """A sample of one accepted format, cut short, with bytes changed, or with bytes put in."""
    data = bytearray(SAMPLES[draw(st.sampled_from(sorted(SAMPLES)))])
    for _ in range(draw(st.integers(1, 6))):
        where = draw(st.integers(0, len(data)))
        how = draw(st.sampled_from(["cut", "flip", "insert"]))
        if how == "cut":
            del data[where:]
        elif how == "flip" and where < len(data):
            data[where] = draw(st.integers(0, 255))
        else:
            data[where:where] = draw(st.binary(min_size=1, max_size=16))
    return bytes(data)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(data=damaged(), field=st.sampled_from(["video", "input_reference", "image_url"]))
def test_damaged_media_in_any_field_is_never_a_server_error(
    server: LiveServer, data: bytes, field: str
) -> None:
    """Fuzzing the upload and image fields with damaged files of every accepted format: a
    job or a 400 naming the field, never a 5xx."""
    with server.client(KEYS[0]) as http:
        if field == "video":
            answer = extend(http, data)
        elif field == "input_reference":
            form = {"prompt": "a", "seconds": "4", "model": "sora-2"}
            answer = http.post("/v1/videos", data=form, files={field: ("a.bin", data)})
        else:
            body = {"model": "bytedance/seedance-1-0-lite-i2v", "prompt": "a"}
            answer = http.post("/v2/video/generations", json=body | {field: data_url(data)})
    assert answer.status_code in (200, 400), answer.text
    if answer.status_code == 400:
        error = answer.json()
        assert field in str(error), error


def test_uploads_beyond_the_pool_and_its_queue_are_a_429(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(media_intake, "VIDEO_WAITING", 0)  # two decode, none may wait
    heavy = long_static(1500, 250, (1280, 720))
    answers: list[httpx.Response] = []

    def upload() -> None:
        with server.client(KEYS[0]) as a:
            answers.append(extend(a, heavy))

    uploaders = [threading.Thread(target=upload) for _ in range(5)]
    for thread in uploaders:
        thread.start()
    for thread in uploaders:
        thread.join(120)
    statuses = sorted(answer.status_code for answer in answers)
    assert 200 in statuses and 429 in statuses and set(statuses) <= {200, 429}, statuses
    busy = next(answer for answer in answers if answer.status_code == 429)
    assert busy.headers["retry-after"] == "2"
