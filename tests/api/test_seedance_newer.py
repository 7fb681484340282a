"""The Seedance 1.5 and 2.x ids on the AI/ML and Ark surfaces (issue 28, API.md section 4b):
each field honoured per the model's row of the table, or refused with a 400 naming it."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from clipforge.schemas import FRAME_SIZES, AspectRatio, Resolution, usage_tokens
from clipforge.seedance_models import ARK_IDS, MODEL_IDS, SPECS
from tests.live import LiveServer, live_server, wait_for_job

V2 = "/v2/video/generations"
TASKS = "/api/v3/contents/generations/tasks"
NEWER = [model_id for model_id in MODEL_IDS if not SPECS[model_id].legacy]


def _png(width: int, height: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


SQUARE = _png(96, 96)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The test pattern: sound, first frames and references (no worker: jobs stay queued)."""
    data = tmp_path_factory.mktemp("newer")
    with live_server(data, backend="testpattern", workers=0) as live:
        yield live


@pytest.fixture(scope="module")
def working(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """The test pattern with its worker: jobs complete at once."""
    data = tmp_path_factory.mktemp("drafts")
    with live_server(data, backend="testpattern") as live, live.client() as client:
        yield client


@pytest.fixture(scope="module")
def silent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A diffusers text-to-video model: no sound, no images (no worker: never loaded)."""
    data = tmp_path_factory.mktemp("silent")
    settings = {"backend": "diffusers", "model": "wan2.1-t2v-1.3b", "workers": 0}
    with live_server(data, **settings) as live, live.client() as client:
        yield client


def create(http: httpx.Client, model: str, **fields: Any) -> httpx.Response:
    return http.post(V2, json={"model": model, "prompt": "a red ball", **fields})


def stored(http: httpx.Client, job_id: str) -> dict[str, Any]:
    request: dict[str, Any] = http.get(f"/v1/jobs/{job_id}").json()["request"]
    return request


def refused(response: httpx.Response, field: str, *needles: str) -> None:
    assert response.status_code == 400, response.text
    message = response.json().get("message") or response.json()["error"]["message"]
    assert message.startswith(f"{field}:") or f"{field}" in message, message
    for needle in needles:
        assert needle in message, message


@pytest.mark.parametrize("model", NEWER)
def test_a_prompt_alone_gets_the_documented_defaults(http: httpx.Client, model: str) -> None:
    response = create(http, model)
    assert response.status_code == 200, response.text
    assert response.json()["meta"]["usage"]["usd_spent"] == 0
    request = stored(http, response.json()["id"])
    spec = SPECS[model]
    assert (request["resolution"], request["aspect_ratio"]) == ("720p", "16:9")
    assert request["duration"] == spec.default_duration == (8 if model.endswith("fast") else 5)
    assert request["generate_audio"] is True


@pytest.mark.parametrize(
    "model, longest",
    [
        ("bytedance/seedance-1-5-pro", 12),
        ("bytedance/seedance-2-0", 15),
        ("bytedance/dreamina-seedance-2-0-mini", 15),
        ("bytedance/seedance-2-5", 30),
    ],
)
def test_durations_per_model(http: httpx.Client, model: str, longest: int) -> None:
    for seconds in (4, longest):
        response = create(http, model, duration=seconds, resolution="480p")
        assert response.status_code == 200, response.text
        assert stored(http, response.json()["id"])["duration"] == seconds
    refused(create(http, model, duration=longest + 1), "duration", f"4-{longest}")
    refused(create(http, model, duration=3), "duration", f"4-{longest}")
    refused(create(http, model, duration=5.0), "duration", "4-30")


def test_the_1_0_ids_keep_5_and_10(http: httpx.Client) -> None:
    refused(create(http, "bytedance/seedance-1-0-pro-t2v", duration=12), "duration", "5, 10")
    response = create(http, "bytedance/seedance-1-0-pro-t2v", generate_audio=False)
    assert response.json()["meta"] == {"usage": {"credits_used": 246840}}  # as before


def test_4k_on_2_0_only(http: httpx.Client) -> None:
    response = create(http, "bytedance/seedance-2-0", resolution="4k", duration=4)
    assert response.status_code == 200, response.text
    assert FRAME_SIZES[Resolution.P4K][AspectRatio.WIDE] == (3840, 2160)
    tokens = usage_tokens(3840, 2160, 97)
    assert response.json()["meta"]["usage"]["credits_used"] == tokens
    for model in ("bytedance/seedance-2-0-fast", "bytedance/seedance-1-5-pro"):
        refused(create(http, model, resolution="4k"), "resolution", "480p")


def test_ratios_and_adaptive(http: httpx.Client) -> None:
    adaptive = create(http, "bytedance/seedance-2-0", aspect_ratio="adaptive")
    assert stored(http, adaptive.json()["id"])["aspect_ratio"] == "16:9"  # no image: 16:9
    with_image = create(http, "bytedance/seedance-2-0", aspect_ratio="adaptive", image_url=SQUARE)
    assert with_image.status_code == 200, with_image.text
    assert stored(http, with_image.json()["id"])["aspect_ratio"] == "1:1"  # the image's
    refused(create(http, "bytedance/seedance-2-0", aspect_ratio="9:21"), "aspect_ratio", "21:9")
    refused(create(http, "bytedance/seedance-1-0-pro-t2v", aspect_ratio="adaptive"), "aspect_ratio")


def test_provider_is_accepted_and_echoed(http: httpx.Client) -> None:
    response = create(http, "bytedance/seedance-2-0", provider="fal")
    poll = http.get(V2, params={"generation_id": response.json()["id"]}).json()
    assert poll["provider"] == "fal"
    refused(create(http, "bytedance/seedance-2-0", provider="replicate"), "provider", "auto")


@pytest.mark.parametrize(
    "field, value",
    [
        ("video_urls", ["https://example.com/a.mp4"]),
        ("audio_urls", ["https://example.com/a.mp3"]),
        ("video_url", "https://example.com/a.mp4"),
        ("audio_url", "https://example.com/a.mp3"),
    ],
)
def test_video_and_audio_input_is_refused_by_name(
    http: httpx.Client, field: str, value: object
) -> None:
    refused(create(http, "bytedance/seedance-2-0", **{field: value}), field)


def test_a_silent_backend_defaults_to_no_sound_and_refuses_true(silent: httpx.Client) -> None:
    response = create(silent, "bytedance/seedance-2-0")
    assert response.status_code == 200, response.text
    assert stored(silent, response.json()["id"])["generate_audio"] is False
    refused(create(silent, "bytedance/seedance-2-0", generate_audio=True), "generate_audio")
    refused(create(silent, "bytedance/seedance-2-0", image_urls=[SQUARE]), "image_urls")


def test_too_many_references(http: httpx.Client) -> None:
    response = create(http, "bytedance/seedance-2-0", image_urls=[SQUARE] * 10)
    refused(response, "image_urls")
    refused(create(http, "bytedance/seedance-1-5-pro", image_urls=[SQUARE]), "image_urls")


def test_models_list_shows_every_id(http: httpx.Client) -> None:
    listed = [model["id"] for model in http.get("/v1/models").json()["data"]]
    assert set(NEWER) <= set(listed)


def ark(http: httpx.Client, model: str, text: str = "a ball", **fields: Any) -> httpx.Response:
    return http.post(
        TASKS, json={"model": model, "content": [{"type": "text", "text": text}], **fields}
    )


@pytest.mark.parametrize("ark_id", sorted(ARK_IDS))
def test_every_dated_ark_id_is_served_and_echoed(http: httpx.Client, ark_id: str) -> None:
    response = ark(http, ark_id, duration=-1)
    assert response.status_code == 200, response.text
    task = http.get(f"{TASKS}/{response.json()['id']}").json()
    assert task["model"] == ark_id and task["generate_audio"] is True
    assert task["duration"] == SPECS[ARK_IDS[ark_id]].default_duration
    assert stored(http, task["id"])["model"] == ARK_IDS[ark_id]


def test_ark_fields_per_model(http: httpx.Client) -> None:
    refused(ark(http, "seedance-1-5-pro-251215", duration=13), "duration")
    assert ark(http, "dreamina-seedance-2-0-260128", duration=15).status_code == 200
    assert ark(http, "dreamina-seedance-2-0-260128", resolution="4k").status_code == 200
    refused(ark(http, "dreamina-seedance-2-0-fast-260128", resolution="4k"), "resolution")
    refused(ark(http, "seedance-1-0-pro-250528", duration=-1), "duration")
    assert ark(http, "dreamina-seedance-2-0-260128", "a ball --dur 15").status_code == 200
    refused(ark(http, "seedance-1-0-pro-250528", "a ball --dur 15"), "--dur")
    task = ark(http, "seedance-1-5-pro-251215").json()
    assert http.get(f"{TASKS}/{task['id']}").json()["execution_expires_after"] == 172_800
    refused(ark(http, "seedance-1-5-pro-251215", execution_expires_after=60), "execution_expires")
    legacy = ark(http, "seedance-1-0-pro-250528", execution_expires_after=60).json()
    assert http.get(f"{TASKS}/{legacy['id']}").json()["execution_expires_after"] == 60
    body = {
        "model": "dreamina-seedance-2-0-260128",
        "content": [
            {"type": "text", "text": "a ball"},
            {"type": "video_url", "video_url": {"url": "https://example.com/a.mp4"}},
        ],
    }
    refused(http.post(TASKS, json=body), "content[1].video_url")


def test_a_draft_then_its_full_render(working: httpx.Client) -> None:
    http = working
    draft = ark(http, "seedance-1-5-pro-251215", draft=True, resolution="1080p", seed=7)
    assert draft.status_code == 200, draft.text
    draft_id = draft.json()["id"]
    task = http.get(f"{TASKS}/{draft_id}").json()
    assert task["draft"] is True
    assert task["usage"]["total_tokens"] == usage_tokens(864, 480, 121)  # a 480p preview
    refused(ark(http, "seedance-1-0-pro-250528", draft=True), "draft")  # 1.0: as before
    drafted = wait_for_job(http, draft_id, lambda job: job["status"] == "completed")
    assert drafted["progress"] == {"step": 2, "total": 2}  # half the test pattern's 4 steps
    full_body = {"model": "seedance-1-5-pro-251215", "watermark": True}
    content = [{"type": "draft_task", "draft_task": {"id": draft_id}}]
    full = http.post(TASKS, json={**full_body, "content": content})
    assert full.status_code == 200, full.text
    request = stored(http, full.json()["id"])
    assert (request["seed"], request["resolution"], request["draft"]) == (7, "1080p", False)
    assert request["draft_of"] == draft_id and request["prompt"] == "a ball"
    refused(http.post(TASKS, json={**full_body, "content": content, "seed": 8}), "seed")
    done = wait_for_job(http, full.json()["id"], lambda job: job["status"] == "completed")
    assert done["progress"] == {"step": 4, "total": 4}  # the full render: every step
    not_a_draft = [{"type": "draft_task", "draft_task": {"id": full.json()["id"]}}]
    refused(http.post(TASKS, json={**full_body, "content": not_a_draft}), "draft_task.id")


def test_the_openai_dialect_gets_sound_from_a_model_that_makes_it(http: httpx.Client) -> None:
    made = http.post("/v1/videos", json={"model": "bytedance/seedance-2-0", "prompt": "drums"})
    assert made.status_code == 200, made.text
    assert stored(http, made.json()["id"])["generate_audio"] is True
    silent = http.post("/v1/videos", json={"model": "sora-2", "prompt": "drums"})
    assert stored(http, silent.json()["id"])["generate_audio"] is False  # a 1.0 id, as before
