"""Image-to-video through the diffusers backend (issue 17): tiny random-weight pipelines of each
image-taking class, saved in the diffusers format and loaded as real weights are; the first
(and last) frame reach the model and change what it renders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from clipforge.backends.base import ImageInput
from clipforge.backends.diffusers.backend import DiffusersBackend
from clipforge.backends.diffusers.entries import CATALOGUE
from clipforge.backends.diffusers.sampling import image_arguments, image_pipeline
from clipforge.backends.diffusers.tiny import build_tiny_pipeline
from clipforge.errors import GenerationFailed
from clipforge.schemas import GenerationRequest
from tests.conftest import UNNAMED_ENTRY, make_tiny_settings

# LTX-2.3 and its distilled twin: tests/backends/test_diffusers_ltx2.py (same pipeline class);
# unnamed LTX 13B twins run ltx-video-0.9.7-dev's rules: once is enough
ELSEWHERE = ("ltx-2.3", "ltx-2.3-distilled")
IMAGE_KINDS = [
    name
    for name, entry in CATALOGUE.items()
    if entry.rules.first_frame
    and name not in ELSEWHERE
    and UNNAMED_ENTRY.get(name) != "ltx-video-0.9.7-dev"
]
LTX2_SIDE = {"native_short_side": 64}
"""The LTX-2 VAE pads its decoder by reflection: a side must be at least two latents."""
REQUEST = GenerationRequest(model="m", prompt="a red ball rolls", seed=7, aspect_ratio="4:3")


@pytest.fixture(scope="module")
def backends(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DiffusersBackend]:
    root = tmp_path_factory.mktemp("images")
    return {
        name: DiffusersBackend.from_settings(
            make_tiny_settings(
                build_tiny_pipeline(name, root / f"model-{i}"),
                **(LTX2_SIDE if CATALOGUE[name].rules.audio else {}),
            )
        )
        for i, name in enumerate(IMAGE_KINDS)
    }


def _picture(seed: int) -> np.ndarray:
    width, height = REQUEST.size  # the worker hands images over at the output size
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _frames(backend: DiffusersBackend, images: ImageInput) -> np.ndarray:
    plan = backend.plan(REQUEST)
    clip = backend.generate(REQUEST, lambda s, t: None, images)
    frames = np.stack(list(clip.frames))
    assert frames.shape == (plan.num_frames, plan.height, plan.width, 3)
    assert (clip.width, clip.height, clip.num_frames) == (plan.width, plan.height, plan.num_frames)
    return frames


@pytest.mark.parametrize("name", IMAGE_KINDS)
def test_the_first_frame_changes_the_video(
    name: str, backends: dict[str, DiffusersBackend]
) -> None:
    backend = backends[name]
    assert backend.capabilities.first_frame
    last = _picture(9) if backend.family.needs_last_frame else None  # FLF2V takes both
    one = _frames(backend, ImageInput(first=_picture(1), last=last))
    again = _frames(backend, ImageInput(first=_picture(1), last=last))
    other = _frames(backend, ImageInput(first=_picture(2), last=last))
    assert np.array_equal(one, again)  # same seed, same image: same frames
    assert not np.array_equal(one[0], other[0])


@pytest.mark.parametrize(
    "name",
    # VACE: the tiny Wan VAE moves the 9-frame clip's last latent by 1e-4 for another last
    # frame (under a uint8 step); test_vace_conditions_on_the_frames_it_is_given checks it
    [n for n in IMAGE_KINDS if CATALOGUE[n].rules.last_frame and "vace" not in n],
)
def test_the_last_frame_changes_the_video(name: str, backends: dict[str, DiffusersBackend]) -> None:
    backend = backends[name]
    first = _picture(1)
    one = _frames(backend, ImageInput(first=first, last=_picture(3)))
    other = _frames(backend, ImageInput(first=first, last=_picture(4)))
    assert not np.array_equal(one, other)


def test_vace_conditions_on_the_frames_it_is_given(backends: dict[str, DiffusersBackend]) -> None:
    """Wan VACE's conditioning video and mask, as diffusers' example builds them: the first and
    last frames kept (mask black), gray frames between to generate (mask white)."""
    backend = backends["wan2.1-vace-1.3b"]
    plan = backend.plan(REQUEST)
    images = ImageInput(first=_picture(1), last=_picture(3))
    args = image_arguments(backend.pipeline, images, plan.width, plan.height, plan.num_frames)
    video, mask = args["video"], args["mask"]
    assert len(video) == len(mask) == plan.num_frames and "reference_images" not in args
    for index, seed in ((0, 1), (-1, 3)):
        expected = _picture(seed)
        assert video[index].size == (plan.width, plan.height)
        assert np.asarray(mask[index]).max() == 0
        assert np.array_equal(np.asarray(video[index]), np.asarray(_resized(expected, plan)))
    assert all(np.asarray(m).min() == 255 for m in mask[1:-1])
    assert all(np.array_equal(np.asarray(v), np.asarray(video[1])) for v in video[1:-1])
    assert np.asarray(video[1])[0, 0].tolist() == [128, 128, 128]


def _resized(array: np.ndarray, plan: Any) -> Image.Image:
    picture = Image.fromarray(array)
    return picture.resize((plan.width, plan.height), Image.Resampling.LANCZOS)


def test_what_a_model_does_not_take_is_refused(backends: dict[str, DiffusersBackend]) -> None:
    i2v = backends["wan2.1-i2v-14b-720p"]
    assert not i2v.capabilities.last_frame
    with pytest.raises(GenerationFailed, match="takes no last-frame image"):
        i2v.generate(REQUEST, lambda s, t: None, ImageInput(first=_picture(1), last=_picture(2)))
    with pytest.raises(GenerationFailed, match="renders from a first frame"):
        i2v.generate(REQUEST, lambda s, t: None)
    flf = backends["wan2.1-flf2v-14b-720p"]
    with pytest.raises(GenerationFailed, match="only with a first frame"):
        flf.generate(REQUEST, lambda s, t: None, ImageInput(last=_picture(2)))
    with pytest.raises(GenerationFailed, match="between a first and a last frame"):
        flf.generate(REQUEST, lambda s, t: None, ImageInput(first=_picture(2)))


def test_text_to_video_weights_take_no_image(tiny_wan_path: Path) -> None:
    backend = DiffusersBackend.from_settings(make_tiny_settings(tiny_wan_path))
    assert not backend.capabilities.first_frame
    with pytest.raises(GenerationFailed, match="takes no first-frame image"):
        backend.generate(REQUEST, lambda s, t: None, ImageInput(first=_picture(1)))


def test_ti2v_takes_text_or_an_image_with_the_same_loaded_modules(
    backends: dict[str, DiffusersBackend],
) -> None:
    """Wan 2.2 TI2V 5B: text alone through WanPipeline, a first frame through its image twin,
    built on the same modules (not from_pipe, which would cast them all to float32) and with
    its expand_timesteps."""
    backend = backends["wan2.2-ti2v-5b"]
    text = _frames(backend, ImageInput())
    image = _frames(backend, ImageInput(first=_picture(1)))
    assert text.shape == image.shape
    twin: Any = backend._image_pipeline
    assert type(twin).__name__ == "WanImageToVideoPipeline"
    assert twin.transformer is backend.pipeline.transformer
    assert twin.config.expand_timesteps


def test_progress_and_cancel_work_with_images(backends: dict[str, DiffusersBackend]) -> None:
    from clipforge.errors import JobCancelled

    backend = backends["wan2.2-i2v-a14b"]
    steps: list[tuple[int, int]] = []
    backend.generate(REQUEST, lambda s, t: steps.append((s, t)), ImageInput(first=_picture(1)))
    assert steps == [(1, 2), (2, 2)]

    def cancel(step: int, total: int) -> None:
        raise JobCancelled("cancelled")

    with pytest.raises(JobCancelled):
        backend.generate(REQUEST, cancel, ImageInput(first=_picture(1)))


def test_a_plain_ltx_folder_takes_a_first_frame_through_the_image_pipeline(
    tiny_ltx_path: Path,
) -> None:
    """An LTXPipeline folder outside the catalogue (generic LTX rules) renders an image job
    with LTXImageToVideoPipeline built on the same loaded modules."""
    backend = DiffusersBackend.from_settings(make_tiny_settings(tiny_ltx_path))
    assert backend.capabilities.first_frame and not backend.capabilities.last_frame
    one = _frames(backend, ImageInput(first=_picture(1)))
    other = _frames(backend, ImageInput(first=_picture(2)))
    assert not np.array_equal(one[0], other[0])
    assert type(image_pipeline(backend.pipeline)).__name__ == "LTXImageToVideoPipeline"
    assert image_pipeline(backend.pipeline).transformer is backend.pipeline.transformer
