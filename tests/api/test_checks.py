"""The image fields a served model takes, as its weights' capabilities say: refused before a
job exists, naming the field (`api/checks.check_images`)."""

from __future__ import annotations

import pytest

from clipforge.api.accept.checks import check_images
from clipforge.errors import InvalidField
from clipforge.routing import ModelRouting
from clipforge.settings import Settings

LITE_I2V = "bytedance/seedance-1-0-lite-i2v"
PRO_I2V = "bytedance/seedance-1-0-pro-i2v"
LITE_T2V = "bytedance/seedance-1-0-lite-t2v"
URL = "data:image/png;base64,AAAA"


@pytest.fixture(scope="module")
def routing() -> ModelRouting:
    """Catalogue names (no weights on this machine: their capabilities come from the name)."""
    model_map = {
        LITE_T2V: "wan2.1-t2v-1.3b",
        LITE_I2V: "wan2.1-i2v-14b-480p",  # a first frame only
        PRO_I2V: "wan2.1-flf2v-14b-720p",  # a first and a last frame, both required
    }
    return ModelRouting(Settings(backend="diffusers", model_map=model_map))


def refused(routing: ModelRouting, model: str, first: str | None, last: str | None) -> str:
    first_field, last_field = ("image_url", first), ("last_image_url", last)
    with pytest.raises(InvalidField) as caught:
        check_images(routing.require(model), first_field, last_field)
    return f"{caught.value.field}: {caught.value.message}"


def test_each_model_takes_the_frames_its_weights_take(routing: ModelRouting) -> None:
    assert refused(routing, LITE_T2V, URL, None).startswith("image_url:")
    assert "takes no image input" in refused(routing, LITE_T2V, None, URL)
    assert "needs a first frame image" in refused(routing, LITE_I2V, None, None)
    no_last = refused(routing, LITE_I2V, URL, URL)
    assert no_last.startswith("last_image_url:") and "takes no last frame image" in no_last
    both = refused(routing, PRO_I2V, URL, None)
    assert both.startswith("last_image_url:") and "needs a last frame image too" in both
    check_images(routing.require(LITE_I2V), ("image_url", URL), ("last_image_url", None))
    check_images(routing.require(PRO_I2V), ("image_url", URL), ("last_image_url", URL))
    check_images(routing.require(LITE_T2V), ("image_url", None), ("last_image_url", None))
