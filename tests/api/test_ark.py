"""The BytePlus ModelArk surface over real HTTP: text commands, JSON fields, errors, listing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from clipforge.schemas import FRAME_SIZES, SEED_MAX, AspectRatio, Resolution, usage_tokens
from clipforge.seedance_models import HD
from tests.live import LiveServer, live_server

TASKS = "/api/v3/contents/generations/tasks"
ARK_MODEL = "seedance-1-0-pro-250528"


def create(
    http: httpx.Client, text: str = "a red ball", model: str = ARK_MODEL, **fields: Any
) -> httpx.Response:
    body = {"model": model, "content": [{"type": "text", "text": text}], **fields}
    return http.post(TASKS, json=body)


def created(http: httpx.Client, text: str = "a red ball", **fields: Any) -> dict[str, Any]:
    response = create(http, text, **fields)
    assert response.status_code == 200, response.text
    task_id = response.json()["id"]
    assert set(response.json()) == {"id"}
    task = http.get(f"{TASKS}/{task_id}")
    assert task.status_code == 200, task.text
    body: dict[str, Any] = task.json()
    return body


def assert_ark_error(response: httpx.Response, status: int, code: str, param: str = "") -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "param", "type"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    if param:
        assert body["error"]["param"] == param, body


def test_defaults_and_the_task_shape(http: httpx.Client) -> None:
    task = created(http)
    assert task["model"] == ARK_MODEL
    assert task["status"] == "queued"
    assert task["content"] is None and task["error"] is None
    assert (task["resolution"], task["ratio"], task["duration"]) == ("1080p", "16:9", 5)
    assert task["framespersecond"] == 24
    assert 0 <= task["seed"] <= SEED_MAX
    assert task["usage"] == {"completion_tokens": 246840, "total_tokens": 246840}
    assert isinstance(task["created_at"], int) and isinstance(task["updated_at"], int)
    assert abs(task["created_at"] - time.time()) < 60


@pytest.mark.parametrize("resolution", HD)  # the 1.0 ids; 4k is 2.0 only
@pytest.mark.parametrize("ratio", list(AspectRatio))
def test_every_resolution_and_ratio_as_text_commands(
    http: httpx.Client, resolution: Resolution, ratio: AspectRatio
) -> None:
    task = created(http, f"a red ball --rs {resolution} --rt {ratio}")
    assert (task["resolution"], task["ratio"]) == (resolution, ratio)
    width, height = FRAME_SIZES[resolution][ratio]
    assert task["usage"]["total_tokens"] == usage_tokens(width, height, 121)


@pytest.mark.parametrize("resolution", HD)  # the 1.0 ids; 4k is 2.0 only
@pytest.mark.parametrize("ratio", list(AspectRatio))
def test_every_resolution_and_ratio_as_json_fields(
    http: httpx.Client, resolution: Resolution, ratio: AspectRatio
) -> None:
    task = created(http, resolution=str(resolution), ratio=str(ratio))
    assert (task["resolution"], task["ratio"]) == (resolution, ratio)


@pytest.mark.parametrize("duration", [5, 10])
def test_durations(http: httpx.Client, duration: int) -> None:
    assert created(http, f"a ball --dur {duration}")["duration"] == duration
    assert created(http, f"a ball --duration {duration}")["duration"] == duration
    task = created(http, duration=duration)
    assert task["duration"] == duration
    assert task["usage"]["total_tokens"] == usage_tokens(1920, 1088, 24 * duration + 1)


def test_long_spellings_and_the_prompt_is_stripped_of_commands(
    http: httpx.Client, server: LiveServer
) -> None:
    text = (
        "a dragon flies --resolution 480p --ratio 1:1 --duration 10 --framespersecond 24 "
        "--watermark true --seed 11 --camerafixed true"
    )
    task = created(http, text)
    assert (task["resolution"], task["ratio"], task["duration"], task["seed"]) == (
        "480p",
        "1:1",
        10,
        11,
    )
    request = http.get(f"/v1/jobs/{task['id']}").json()["request"]
    assert request["prompt"] == "a dragon flies"
    assert request["watermark"] is True and request["camera_fixed"] is True
    assert request["model"] == "bytedance/seedance-1-0-pro-t2v"


def test_short_spellings_from_the_documentation(http: httpx.Client) -> None:
    task = created(http, "A dragon --rs 720p --rt 16:9 --dur 5 --seed 11 --cf false --wm false")
    assert (task["resolution"], task["ratio"], task["seed"]) == ("720p", "16:9", 11)
    request = http.get(f"/v1/jobs/{task['id']}").json()["request"]
    assert request["prompt"] == "A dragon"
    assert request["watermark"] is False and request["camera_fixed"] is False
    task = created(http, "a ball --fps 24 --wm true --cf true")
    request = http.get(f"/v1/jobs/{task['id']}").json()["request"]
    assert request["watermark"] is True and request["camera_fixed"] is True


def test_json_fields_win_over_text_commands(http: httpx.Client) -> None:
    task = created(http, "a ball --rs 480p --seed 3 --dur 10", resolution="720p", seed=7)
    assert (task["resolution"], task["seed"], task["duration"]) == ("720p", 7, 10)
    request = http.get(f"/v1/jobs/{task['id']}").json()["request"]
    assert request["prompt"] == "a ball"


def test_json_null_is_absent_and_ignored_fields_are_accepted(http: httpx.Client) -> None:
    task = created(
        http,
        "a ball --rs 480p",
        resolution=None,
        ratio=None,
        duration=None,
        seed=None,
        camera_fixed=None,
        watermark=None,
        callback_url="https://93.184.216.34/hook",
        return_last_frame=True,
        service_tier="default",
        execution_expires_after=3600,
        frames=121,
    )
    assert task["resolution"] == "480p" and task["ratio"] == "16:9"


def test_seeds(http: httpx.Client) -> None:
    assert created(http, seed=SEED_MAX)["seed"] == SEED_MAX
    assert 0 <= created(http, seed=-1)["seed"] <= SEED_MAX
    assert 0 <= created(http, "a ball --seed -1")["seed"] <= SEED_MAX


@pytest.mark.parametrize(
    "model, served",
    [
        ("seedance-1-0-pro-250528", "bytedance/seedance-1-0-pro-t2v"),
        ("seedance-1-0-lite-t2v-250428", "bytedance/seedance-1-0-lite-t2v"),
        ("seedance-1-0-pro-fast-251015", "bytedance/seedance-1-0-pro-fast"),
    ],
)
def test_ark_model_ids_map_to_served_models_and_echo_back(
    http: httpx.Client, model: str, served: str
) -> None:
    task = created(http, model=model)
    assert task["model"] == model
    assert http.get(f"/v1/jobs/{task['id']}").json()["request"]["model"] == served


@pytest.mark.parametrize(
    "text, fields, param",
    [
        ("a ball --rs 4k", {}, "--rs"),
        ("a ball --resolution 360p", {}, "--resolution"),
        ("a ball --rt 2:1", {}, "--rt"),
        ("a ball --dur 13", {}, "--dur"),  # Ark takes 2 to 12 seconds
        ("a ball --dur 1", {}, "--dur"),
        ("a ball --duration five", {}, "--duration"),
        ("a ball --fps 30", {}, "--fps"),
        ("a ball --wm yes", {}, "--wm"),
        ("a ball --cf 1", {}, "--cf"),
        ("a ball --seed 4294967296", {}, "--seed"),
        ("a ball --seed -2", {}, "--seed"),
        ("a ball --style anime", {}, "--style"),
        ("--rs 480p", {}, "content"),
        ("a ball", {"resolution": "4k"}, "resolution"),
        ("a ball", {"ratio": "2:1"}, "ratio"),
        ("a ball", {"duration": 13}, "duration"),
        ("a ball", {"frames": 30}, "frames"),  # not 25 + 4n
        ("a ball", {"frames": 29, "duration": 5}, "frames"),
        ("a ball", {"generate_audio": True}, "generate_audio"),
        ("a ball", {"draft": True}, "draft"),
        ("a ball", {"service_tier": "scale"}, "service_tier"),
        ("a ball", {"priority": 101}, "priority"),
        ("a ball", {"tools": [{"type": "web_search"}]}, "tools"),
        ("a ball", {"output_format": "webm"}, "output_format"),
        ("a ball", {"unheard_of": 1}, "unheard_of"),
        ("a ball", {"duration": "5"}, "duration"),
        ("a ball", {"seed": -2}, "seed"),
        ("a ball", {"seed": SEED_MAX + 1}, "seed"),
        ("a ball", {"camera_fixed": "yes"}, "camera_fixed"),
        ("a ball", {"watermark": 1}, "watermark"),
        ("a ball", {"model": "doubao-seedance-1-0-pro"}, "model"),
        ("a ball", {"model": "seedance-1-0-lite-i2v-250428"}, "content"),  # no first frame
    ],
)
def test_bad_values_get_the_ark_error_body(
    http: httpx.Client, text: str, fields: dict[str, Any], param: str
) -> None:
    assert_ark_error(create(http, text, **fields), 400, "InvalidParameter", param)


def test_bad_content(http: httpx.Client) -> None:
    assert_ark_error(
        http.post(TASKS, json={"model": ARK_MODEL}), 400, "InvalidParameter", "content"
    )
    body = {"model": ARK_MODEL, "content": []}
    assert_ark_error(http.post(TASKS, json=body), 400, "InvalidParameter", "content")
    # The built-in model takes first frames: a private address is refused before any lookup.
    image = {"type": "image_url", "image_url": {"url": "http://10.0.0.1/a.png"}}
    body = {"model": ARK_MODEL, "content": [{"type": "text", "text": "a ball"}, image]}
    refused = http.post(TASKS, json=body)
    assert_ark_error(refused, 400, "InvalidParameter", "content[1].image_url")
    assert_ark_error(http.post(TASKS, content=b"{"), 400, "InvalidParameter")


def test_unknown_task_is_a_404_with_the_ark_body(http: httpx.Client) -> None:
    assert_ark_error(http.get(f"{TASKS}/cgt-nope"), 404, "ResourceNotFound", "task_id")
    assert_ark_error(http.delete(f"{TASKS}/cgt-nope"), 404, "ResourceNotFound", "task_id")
    assert_ark_error(http.get("/api/v3/nothing/here"), 404, "ResourceNotFound")


def test_the_aimlapi_surface_keeps_its_own_error_body(http: httpx.Client) -> None:
    response = http.get("/v2/video/generations", params={"generation_id": "nope"})
    assert response.status_code == 404
    assert "statusCode" in response.json()


def test_list_filter_page_and_delete(tmp_path: Path) -> None:
    with live_server(tmp_path, backend="testpattern", workers=0) as live, live.client() as http:
        ids = [created(http, f"ball {n}")["id"] for n in range(5)]
        lite = created(http, "lite ball", model="seedance-1-0-lite-t2v-250428")["id"]
        everything = http.get(TASKS).json()
        assert everything["total"] == 6
        assert [t["id"] for t in everything["items"]] == [lite, *reversed(ids)]

        page = http.get(TASKS, params={"page_num": 2, "page_size": 4}).json()
        assert page["total"] == 6 and [t["id"] for t in page["items"]] == ids[1::-1]

        by_model = http.get(TASKS, params={"filter.model": "seedance-1-0-lite-t2v-250428"})
        assert [t["id"] for t in by_model.json()["items"]] == [lite]

        params = [
            ("filter.task_ids", ids[0]),
            ("filter.task_ids", ids[2]),
            ("filter.task_ids", "x"),
        ]
        by_ids = http.get(TASKS, params=params).json()
        assert by_ids["total"] == 2 and [t["id"] for t in by_ids["items"]] == [ids[2], ids[0]]

        deleted = http.delete(f"{TASKS}/{ids[0]}")
        assert deleted.status_code == 200 and deleted.json() == {}
        assert http.get(f"{TASKS}/{ids[0]}").json()["status"] == "cancelled"

        cancelled = http.get(TASKS, params={"filter.status": "cancelled"}).json()
        assert [t["id"] for t in cancelled["items"]] == [ids[0]]
        queued = http.get(TASKS, params={"filter.status": "queued"}).json()
        assert queued["total"] == 5
        both = {"filter.status": "queued", "filter.model": ARK_MODEL, "page_size": 2}
        page = http.get(TASKS, params=both).json()
        assert page["total"] == 4 and [t["id"] for t in page["items"]] == ids[:2:-1]

        assert http.delete(f"{TASKS}/{ids[0]}").json() == {}  # finished: deleted
        assert_ark_error(http.get(f"{TASKS}/{ids[0]}"), 404, "ResourceNotFound", "task_id")
        assert http.get(TASKS).json()["total"] == 5

        flex = created(http, "flex ball", service_tier="flex")["id"]
        by_tier = http.get(TASKS, params={"filter.service_tier": "flex"}).json()
        assert by_tier["total"] == 1 and [t["id"] for t in by_tier["items"]] == [flex]
        default = http.get(TASKS, params={"filter.service_tier": "default"}).json()
        assert default["total"] == 5 and flex not in [t["id"] for t in default["items"]]

        bad = http.get(TASKS, params={"filter.status": "sleeping"})
        assert_ark_error(bad, 400, "InvalidParameter", "filter.status")
        bad = http.get(TASKS, params={"filter.service_tier": "scale"})
        assert_ark_error(bad, 400, "InvalidParameter", "filter.service_tier")
        unknown = http.get(TASKS, params={"filter.colour": "red"})  # not dropped in silence
        assert_ark_error(unknown, 400, "InvalidParameter", "filter.colour")
        assert_ark_error(http.get(TASKS, params={"page_size": 0}), 400, "InvalidParameter")


def test_api_keys_get_the_ark_body(tmp_path: Path) -> None:
    with live_server(tmp_path, backend="testpattern", workers=0, api_keys="k1") as live:
        with live.client() as anonymous:
            assert_ark_error(create(anonymous), 401, "AuthenticationError")
            assert_ark_error(anonymous.get(TASKS), 401, "AuthenticationError")
        with live.client("wrong") as wrong:
            assert_ark_error(create(wrong), 401, "AuthenticationError")
        with live.client("k1") as keyed:
            assert create(keyed).status_code == 200


def test_a_task_runs_to_succeeded_with_a_video_url(tmp_path: Path) -> None:
    with live_server(tmp_path, backend="testpattern", workers=1) as live, live.client() as http:
        task_id = create(http, "a red ball --rs 480p --rt 1:1 --seed 5").json()["id"]
        deadline = time.monotonic() + 120
        while (task := http.get(f"{TASKS}/{task_id}").json())["status"] != "succeeded":
            assert task["status"] in ("queued", "running"), task
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert task["error"] is None
        video = http.get(task["content"]["video_url"])
        assert video.status_code == 200 and len(video.content) > 1000

        assert http.delete(f"{TASKS}/{task_id}").json() == {}
        assert http.get(f"{TASKS}/{task_id}").status_code == 404
        assert not live.server.storage.exists(f"{task_id}.mp4")
        assert http.get(task["content"]["video_url"]).status_code == 410  # gone with the task


def test_the_ratio_field_takes_every_served_ratio_and_adaptive(http: httpx.Client) -> None:
    from typing import get_args

    from clipforge.api.surfaces.ark.routes import RatioIn

    assert set(get_args(RatioIn)) == {*map(str, AspectRatio), "adaptive"}
    assert created(http, ratio="adaptive")["ratio"] == "16:9"
    assert created(http, "a ball --rt adaptive")["ratio"] == "16:9"
