"""The tiny pipelines: real diffusers folders, built offline, deterministic, loadable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from diffusers import (
    AutoencoderKLLTXVideo,
    AutoencoderKLWan,
    DiffusionPipeline,
    FlowMatchEulerDiscreteScheduler,
    LTXPipeline,
    LTXVideoTransformer3DModel,
    UniPCMultistepScheduler,
    WanPipeline,
    WanTransformer3DModel,
)
from transformers import T5EncoderModel, T5Tokenizer, UMT5EncoderModel

from clipforge.backends.diffusers.catalog import lookup
from clipforge.backends.diffusers.entries import CATALOGUE
from clipforge.backends.diffusers.tiny import (
    TRY_SETTINGS,
    build_tiny_pipeline,
    build_tiny_upsampler,
    tiny_tokenizer,
)
from clipforge.backends.diffusers.tiny.__main__ import main
from tests.conftest import UNNAMED_ENTRY

EXPECTED = {
    "wan": (
        WanPipeline,
        {
            "transformer": WanTransformer3DModel,
            "vae": AutoencoderKLWan,
            "text_encoder": UMT5EncoderModel,
            "tokenizer": T5Tokenizer,
            "scheduler": UniPCMultistepScheduler,
        },
    ),
    "ltx": (
        LTXPipeline,
        {
            "transformer": LTXVideoTransformer3DModel,
            "vae": AutoencoderKLLTXVideo,
            "text_encoder": T5EncoderModel,
            "tokenizer": T5Tokenizer,
            "scheduler": FlowMatchEulerDiscreteScheduler,
        },
    ),
}


@pytest.fixture(params=["wan", "ltx"])
def family_path(request: pytest.FixtureRequest) -> tuple[str, Path]:
    return request.param, request.getfixturevalue(f"tiny_{request.param}_path")


def _contents(path: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }


def test_folder_is_a_real_diffusers_pipeline(family_path: tuple[str, Path]) -> None:
    family, path = family_path
    pipeline_class, components = EXPECTED[family]
    index = json.loads((path / "model_index.json").read_text())
    assert index["_class_name"] == pipeline_class.__name__
    for name, cls in components.items():
        assert index[name][1] == cls.__name__
        assert (path / name).is_dir()

    pipeline = DiffusionPipeline.from_pretrained(path, local_files_only=True)

    assert type(pipeline) is pipeline_class
    for name, cls in components.items():
        assert type(getattr(pipeline, name)) is cls, name


def test_the_tiny_wan_denoises_at_the_sizes_a_first_job_asks_for(tiny_wan_path: Path) -> None:
    """480p and 1080p latents, as a job without CLIPFORGE_NATIVE_SHORT_SIDE asks (its rotary
    table once stopped at 64 px wide: "shape '[1, 1, 54, -1]' is invalid")."""
    pipeline = DiffusionPipeline.from_pretrained(tiny_wan_path, local_files_only=True)
    for height, width in ((480, 864), (1088, 1920)):
        latents = pipeline(
            "a ball",
            height=height,
            width=width,
            num_frames=1,
            num_inference_steps=1,
            output_type="latent",
        ).frames
        assert latents.shape[-2:] == (height // 8, width // 8), latents.shape


def test_weights_are_tiny(family_path: tuple[str, Path]) -> None:
    _, path = family_path
    weights = sum(p.stat().st_size for p in path.rglob("*.safetensors"))
    assert weights < 2_000_000


def test_vae_keeps_the_real_compression_ratios(family_path: tuple[str, Path]) -> None:
    family, path = family_path
    pipeline = DiffusionPipeline.from_pretrained(path, local_files_only=True)
    if family == "wan":
        assert (pipeline.vae_scale_factor_spatial, pipeline.vae_scale_factor_temporal) == (8, 4)
        assert list(pipeline.transformer.config.patch_size) == [1, 2, 2]
    else:
        ratios = (pipeline.vae_spatial_compression_ratio, pipeline.vae_temporal_compression_ratio)
        assert ratios == (32, 8)


@pytest.mark.parametrize("family", ["wan", "ltx"])
def test_same_seed_same_bytes_other_seed_other_weights(family: str, tmp_path: Path) -> None:
    first = _contents(build_tiny_pipeline(family, tmp_path / "a", seed=7))  # type: ignore[arg-type]
    again = _contents(build_tiny_pipeline(family, tmp_path / "b", seed=7))  # type: ignore[arg-type]
    other = _contents(build_tiny_pipeline(family, tmp_path / "c", seed=8))  # type: ignore[arg-type]

    assert first == again
    weights = [name for name in first if name.endswith(".safetensors")]
    assert len(weights) == 3
    assert all(first[name] != other[name] for name in weights)


def test_building_leaves_the_global_rng_alone(tmp_path: Path) -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    build_tiny_pipeline("ltx", tmp_path)
    assert torch.equal(torch.rand(3), expected)


def test_tokenizer_is_t5_like_and_round_trips(tmp_path: Path) -> None:
    tokenizer = tiny_tokenizer()
    assert (tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id) == (0, 1, 2)

    ids = tokenizer("a red ball rolls across the field").input_ids
    assert ids[-1] == tokenizer.eos_token_id
    assert tokenizer.unk_token_id not in ids
    assert tokenizer.unk_token_id not in tokenizer("A Quick Fox, 2 Birds!").input_ids
    padded = tokenizer("a cat", padding="max_length", max_length=16).input_ids
    assert len(padded) == 16 and padded[-1] == tokenizer.pad_token_id

    tokenizer.save_pretrained(tmp_path)
    loaded = T5Tokenizer.from_pretrained(tmp_path)
    assert loaded("a red ball rolls").input_ids == tokenizer("a red ball rolls").input_ids
    assert tiny_tokenizer().get_vocab() == tokenizer.get_vocab()


def test_unknown_family_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="wan, ltx"):
        build_tiny_pipeline("cogvideo", tmp_path)  # type: ignore[arg-type]


def test_cli_writes_a_loadable_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["wan", str(tmp_path / "tiny-wan")])

    hint = f"try it: {TRY_SETTINGS} clipforge serve --model {tmp_path / 'tiny-wan'}"
    assert hint in capsys.readouterr().out  # pasted as is, it serves (tests/test_docs_commands.py)
    pipeline = DiffusionPipeline.from_pretrained(tmp_path / "tiny-wan", local_files_only=True)
    assert isinstance(pipeline, WanPipeline)


@pytest.mark.parametrize("kind", list(CATALOGUE))
def test_every_catalogue_entry_has_a_tiny_twin_its_configs_identify(
    kind: str, tmp_path: Path
) -> None:
    path = build_tiny_pipeline(kind, tmp_path / "twin", upsampler=kind.startswith("ltx"))
    entry, config = lookup(path)
    twin = UNNAMED_ENTRY.get(kind, kind)  # same configs: the first such entry
    assert entry is CATALOGUE[twin]
    assert config is not None and config.has_latent_upsampler == kind.startswith("ltx")
    pipeline = DiffusionPipeline.from_pretrained(path, local_files_only=True)
    assert type(pipeline).__name__ in entry.signature.pipeline_classes
    # HunyuanVideo 1.5's ByT5 projection is 2048 wide whatever the config (4.2M weights, bf16)
    limit = 18_000_000 if kind.startswith("hunyuanvideo") else 16_000_000
    assert sum(p.stat().st_size for p in path.rglob("*.safetensors")) < limit


def test_the_upsampler_folder_has_the_hub_layout(tmp_path: Path) -> None:
    path = build_tiny_upsampler(tmp_path / "ltxv-spatial-upscaler-0.9.7")
    index = json.loads((path / "model_index.json").read_text())
    assert index["_class_name"] == "LTXLatentUpsamplePipeline"
    assert (path / "latent_upsampler" / "config.json").is_file()
