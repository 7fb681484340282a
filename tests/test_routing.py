"""Model routing: one module decides which weights serve each API id, through which backend,
and what the API refuses before a job exists because the backend cannot do it."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipforge.backends.base import Capabilities
from clipforge.backends.diffusers.entries import CATALOGUE
from clipforge.backends.registry import BackendRegistry
from clipforge.backends.testpattern import TestPatternBackend
from clipforge.errors import InvalidField
from clipforge.routing import ModelRouting
from clipforge.routing.weights import (
    DEFAULT_MODEL_MAP,
    DEFAULT_REFERENCE_MAP,
    backend_name,
    weights_for_model,
)
from clipforge.schemas import IMAGE_TO_VIDEO_MODELS, GenerationRequest
from clipforge.seedance_models import MODEL_IDS, spec_for
from clipforge.settings import Settings

PRO, LITE = "bytedance/seedance-1-0-pro-t2v", "bytedance/seedance-1-0-lite-t2v"
T2V = [m for m in MODEL_IDS if m not in IMAGE_TO_VIDEO_MODELS]


def test_weights_for_model_routing() -> None:
    assert weights_for_model("/models/x", {}, PRO) == "/models/x"
    assert weights_for_model(None, {}, PRO) is None
    assert weights_for_model("catalogue", {}, PRO) == "wan2.2-t2v-a14b"
    assert weights_for_model("catalogue", {}, LITE) == "wan2.1-t2v-1.3b"
    assert weights_for_model("/models/x", {PRO: "wan2.1-t2v-14b"}, PRO) == "wan2.1-t2v-14b"
    for model_id in T2V:
        assert DEFAULT_MODEL_MAP[model_id] in CATALOGUE


def test_a_model_map_alone_selects_the_diffusers_backend(tmp_path: Path) -> None:
    assert backend_name(Settings(data_dir=tmp_path)) == "builtin"
    assert backend_name(Settings(data_dir=tmp_path, model="/w")) == "diffusers"
    alone = Settings(data_dir=tmp_path, model_map={PRO: "wan2.1-t2v-1.3b"})
    assert backend_name(alone) == "diffusers"
    routing = ModelRouting(alone)
    assert routing.require(PRO).weights == "wan2.1-t2v-1.3b"
    assert routing.ids == (PRO,)  # the ids the map names are served, the others not
    assert ModelRouting(Settings(data_dir=tmp_path, backend="diffusers")).ids == ()
    assert backend_name(Settings(data_dir=tmp_path, backend="testpattern", model="/w")) == (
        "testpattern"
    )


def _registry(capabilities: Capabilities) -> BackendRegistry:
    registry = BackendRegistry()
    registry.register("fake", lambda settings: TestPatternBackend(), capabilities)
    return registry


def test_served_ids_and_their_order(tmp_path: Path) -> None:
    routing = ModelRouting(Settings(data_dir=tmp_path, backend="fake"), _registry(Capabilities()))
    assert list(routing.ids) == T2V  # the order GET /v1/models shows
    assert routing.for_workers().model_ids[0] == LITE  # a worker warms up the small model
    assert all(not model.image_input for model in routing)
    with pytest.raises(InvalidField, match="image-to-video") as refused:
        routing.require("bytedance/seedance-1-0-pro-i2v")
    assert refused.value.field == "model" and refused.value.allowed == list(routing.ids)


def test_image_to_video_ids_are_served_by_weights_that_take_images(tmp_path: Path) -> None:
    takes_images = Capabilities(first_frame=True, last_frame=True)
    routing = ModelRouting(Settings(data_dir=tmp_path, backend="fake"), _registry(takes_images))
    assert set(routing.ids) == set(MODEL_IDS)
    assert routing.require("bytedance/seedance-1-0-lite-i2v").image_input


def test_requests_longer_than_the_backend_renders_are_refused(tmp_path: Path) -> None:
    short = _registry(Capabilities(max_duration=5))
    routing = ModelRouting(Settings(data_dir=tmp_path, backend="fake"), short)
    routing.check(GenerationRequest(model=PRO, prompt="a", duration=5))
    with pytest.raises(InvalidField, match="at most 5 seconds") as refused:
        routing.check(GenerationRequest(model=PRO, prompt="a", duration=10))
    assert refused.value.field == "duration"


def test_a_worker_serves_the_ids_it_was_given_or_every_one(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, backend="fake", model_map={PRO: "/w/pro"})
    routing = ModelRouting(settings, _registry(Capabilities()))
    assert set(routing.for_workers().model_ids) == set(routing.ids)
    assert routing.for_workers([PRO]).model_ids == (PRO,)
    assert routing.for_workers([PRO]).weights_for(PRO) == "/w/pro"
    with pytest.raises(InvalidField):
        routing.for_workers(["bytedance/unknown"])


def test_each_builtin_backend_declares_its_capabilities(tmp_path: Path) -> None:
    from clipforge.backends.registry import default_registry

    registry = default_registry()
    settings = Settings(data_dir=tmp_path)
    assert registry.capabilities("builtin", settings).camerafixed_conditioning
    wan = settings.model_copy(update={"model": "wan2.2-ti2v-5b"})
    assert registry.capabilities("diffusers", wan).fps == 24
    assert registry.capabilities("testpattern", settings).fps == 8


def test_the_catalogue_map_serves_every_id_with_weights_that_can() -> None:
    """Under CLIPFORGE_MODEL=catalogue every Seedance id is served: image-to-video ids by
    weights that take a first frame, text-to-video ids by weights that take text alone."""
    routing = ModelRouting(Settings(backend="diffusers", model="catalogue"))
    assert set(routing.ids) == set(DEFAULT_MODEL_MAP) == set(MODEL_IDS)
    for model in routing:
        entry = CATALOGUE[DEFAULT_MODEL_MAP[model.id]]
        if model.id in IMAGE_TO_VIDEO_MODELS:
            assert model.capabilities.first_frame and entry.rules.first_frame, model.id
        else:
            assert model.capabilities.text_to_video and not entry.rules.needs_image, model.id


def test_requests_with_references_render_on_wan_vace_under_the_catalogue() -> None:
    """The 2.x ids that take `image_urls` keep their weights for text and first frames and
    render a request with references on Wan VACE (its sound and frames then VACE's); the 1.0
    and 1.5 ids have no reference weights; an operator's map replaces the default."""
    routing = ModelRouting(Settings(backend="diffusers", model="catalogue"))
    assert set(DEFAULT_REFERENCE_MAP) == {m for m in MODEL_IDS if spec_for(m).references}
    two = routing.require("bytedance/seedance-2-0")
    assert (two.weights, two.reference_weights) == ("ltx-2.3", "wan2.1-vace-14b")
    assert two.audio and two.references == 9 and not two.with_references().audio
    assert two.with_references().capabilities.last_frame  # VACE keeps first and last frames
    fast = routing.require("bytedance/seedance-2-0-fast")
    assert fast.reference_weights == "wan2.1-vace-1.3b"
    for model_id in (PRO, LITE, "bytedance/seedance-1-5-pro"):
        assert routing.require(model_id).reference_weights is None
        assert routing.require(model_id).with_references() is routing.require(model_id)
    workers = routing.for_workers()
    assert workers.reference_weights_for("bytedance/seedance-2-0") == "wan2.1-vace-14b"
    assert workers.reference_weights_for(PRO) is None
    mapped = {"bytedance/seedance-2-0": "wan2.1-vace-1.3b"}
    settings = Settings(backend="diffusers", model="catalogue", reference_model_map=mapped)
    assert ModelRouting(settings).require("bytedance/seedance-2-0").reference_weights == (
        "wan2.1-vace-1.3b"
    )
    plain = ModelRouting(Settings(backend="diffusers", model="wan2.2-ti2v-5b"))
    assert plain.require("bytedance/seedance-2-0").references == 0  # one set of weights


def test_readme_shows_the_catalogue_map() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    for model_id, weights in DEFAULT_MODEL_MAP.items():
        row = f"| `{model_id}` "
        (line,) = [line for line in readme.splitlines() if line.startswith(row)]
        assert f"`{weights}` ({CATALOGUE[weights].hub_id})" in line, line
