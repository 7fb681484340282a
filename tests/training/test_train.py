"""The training recipe: batches say what they show, the attribute heads shape the prompt
vector, and training resumes from its checkpoint and exports loadable weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from training.attributes import ATTRIBUTES, UNSAID, attribute_loss, attribute_targets
from training.captions import (
    PARAPHRASE_COLOURS,
    PARAPHRASE_MOTIONS,
    PARAPHRASE_SHAPES,
    random_caption,
)
from training.data import ClipPool
from training.refit_reader import main as refit_main
from training.scenes import Scene, random_scene
from training.train import main

from clipforge.backends.builtin.attention import TextCondition
from clipforge.backends.builtin.model import BuiltinConfig, ClipUNet
from clipforge.backends.builtin.text import TextEncoder
from clipforge.backends.builtin.weights import load_model, read_metadata


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder()


def test_batches_pair_each_clip_with_what_its_caption_says() -> None:
    pool = ClipPool(frames=4, per_size=12, seed=3)
    overridden = 0
    for _ in range(20):
        batch = pool.batch(16)
        for scene, described, fixed in zip(
            batch.scenes, batch.described, batch.camera_fixed, strict=True
        ):
            if not fixed:
                assert described == scene
                continue
            assert scene.camera == "fixed"  # the flag is set only over a still camera
            assert (described.colour, described.shape, described.motion) == (
                scene.colour,
                scene.shape,
                scene.motion,
            )
            overridden += described.camera != "fixed"
    # About a quarter of the clips carry the flag; half of those a camera move it overrides.
    assert 20 < overridden < 110


def test_captions_of_overridden_cameras_ask_for_the_move() -> None:
    pool = ClipPool(frames=4, per_size=12, seed=4)
    batch = pool.batch(64)
    for caption, described in zip(batch.captions, batch.described, strict=True):
        if described.camera == "zoom":
            assert "zoom" in caption
        if described.camera == "pan":
            assert "pan" in caption


def test_attribute_targets_index_each_vocabulary() -> None:
    scenes = [
        Scene("red", "circle", "left", "plain", "black", "fixed"),
        Scene("cyan", "cross", "bouncing", "dots", "grey", "pan", pan_direction="right"),
    ]
    targets = attribute_targets(scenes, torch.device("cpu"), [True, True])
    assert targets["colour"].tolist() == [0, len(ATTRIBUTES["colour"]) - 1]
    assert targets["shape"].tolist() == [0, 3]
    assert targets["motion"].tolist() == [0, 7]
    assert [ATTRIBUTES["camera"][i] for i in targets["camera"]] == ["fixed", "pan right"]
    assert [ATTRIBUTES["background"][i] for i in targets["background"]] == ["plain", "dots"]
    assert [ATTRIBUTES["tone"][i] for i in targets["tone"]] == ["black", "grey"]


def test_attribute_loss_teaches_the_reader_left_from_right(encoder: TextEncoder) -> None:
    """MiniLM's pooled embeddings of these two prompts have cosine 0.994; a fresh reader
    trained on the attribute loss alone must tell them apart, and its code (its share of the
    condition) must separate them clearly."""
    torch.manual_seed(0)
    config = BuiltinConfig(
        frames=4, channels=(16, 32), blocks_per_level=1, cond_dim=32, attributes=ATTRIBUTES
    )
    reader = ClipUNet(config).attribute_reader
    assert reader is not None
    scenes = [Scene("red", "circle", m, "plain", "black", "fixed") for m in ("left", "right")]
    text = encoder.encode(
        [f"a red circle moving to the {m} on a plain black background" for m in ("left", "right")]
    )
    targets = attribute_targets(scenes, torch.device("cpu"), [True, True])
    keep = torch.ones(2, dtype=torch.bool)
    before = reader(text).detach()
    assert float((before[0] - before[1]).norm()) < 0.5
    optimizer = torch.optim.Adam(reader.parameters(), lr=3e-3)
    for _ in range(60):
        optimizer.zero_grad()
        attribute_loss(reader, text, targets, keep).backward()
        optimizer.step()
    assert [row["motion"] for row in reader.read(text)] == ["left", "right"]
    after = reader(text).detach()
    assert float((after[0] - after[1]).norm()) > 2.0


def test_attribute_loss_is_zero_when_every_caption_was_dropped() -> None:
    config = BuiltinConfig(frames=4, channels=(16, 32), cond_dim=8, attributes=ATTRIBUTES)
    reader = ClipUNet(config).attribute_reader
    assert reader is not None
    tokens = torch.randn(3, 5, config.text_dim, requires_grad=True)
    text = TextCondition.plain(
        torch.zeros(3, config.text_dim), tokens, torch.ones(3, 5, dtype=bool)
    )
    targets = {name: torch.zeros(3, dtype=torch.long) for name in ATTRIBUTES}
    loss = attribute_loss(reader, text, targets, torch.zeros(3, dtype=torch.bool))
    assert float(loss.detach()) == 0.0
    loss.backward()  # still part of the graph


@pytest.mark.slow
def test_refit_reader_keeps_the_unet_and_the_readers_embedding(tmp_path: Path) -> None:
    """Refitting changes how the prompt is read, nothing the UNet learnt to use."""
    checkpoints = tmp_path / "checkpoints"
    common = ["--checkpoints", str(checkpoints), "--threads", "1"]
    main([*common, "--pool", "2", "--batch", "2", "--steps", "1"])
    before = torch.load(checkpoints / "latest.pt", weights_only=False)
    refit_main([*common, "--pool", "3", "--batch", "16", "--steps", "3"])
    after = torch.load(checkpoints / "latest.pt", weights_only=False)
    assert after["step"] == before["step"] == 1
    for weights in ("model", "ema"):
        for name, tensor in before[weights].items():
            if name.startswith("attribute_reader.") and ".embedding." not in name:
                continue  # what the fit may change
            assert torch.equal(tensor, after[weights][name]), name
    head = "attribute_reader.heads.colour.weight"
    assert not torch.equal(before["model"][head], after["model"][head])
    reader_keys = [k for k in after["model"] if k.startswith("attribute_reader.heads.")]
    assert all(torch.equal(after["model"][k], after["ema"][k]) for k in reader_keys)


@pytest.mark.slow
def test_training_resumes_and_exports(tmp_path: Path) -> None:
    checkpoints, exported = tmp_path / "checkpoints", tmp_path / "weights"
    common = ["--checkpoints", str(checkpoints), "--pool", "2", "--batch", "2", "--threads", "1"]
    main([*common, "--steps", "2", "--log-every", "1"])
    first = torch.load(checkpoints / "latest.pt", weights_only=False)
    assert first["step"] == 2
    assert set(first) >= {"model", "ema", "optimizer"}
    assert "attribute_reader.embedding.weight" in first["model"]
    main([*common, "--steps", "3", "--log-every", "1"])
    second = torch.load(checkpoints / "latest.pt", weights_only=False)
    assert second["step"] == 3
    assert not torch.equal(first["model"]["stem.weight"], second["model"]["stem.weight"])
    log = [line.split("\t") for line in (checkpoints / "log.tsv").read_text().splitlines()]
    assert [row[0] for row in log] == ["1", "2", "3"]
    assert all(np.isfinite([float(row[1]), float(row[2])]).all() for row in log)
    main(["--checkpoints", str(checkpoints), "--export", "--export-to", str(exported)])
    model = load_model(exported)
    assert read_metadata(exported) == {"steps": "3", "weights": "ema"}
    raw = tmp_path / "raw"
    main(["--checkpoints", str(checkpoints), "--export", "--raw", "--export-to", str(raw)])
    assert read_metadata(raw)["weights"] == "model"
    assert not torch.equal(load_model(raw).stem.weight, model.stem.weight)
    assert isinstance(model, ClipUNet)


def test_training_captions_never_use_the_held_out_paraphrase_words() -> None:
    # Words the paraphrases share with training on purpose: they carry no held-out meaning.
    shared = {"to", "the", "left", "right", "up", "and", "down", "shape", "block", "plus"}
    held_out = {
        word
        for words in (PARAPHRASE_COLOURS, PARAPHRASE_SHAPES, PARAPHRASE_MOTIONS)
        for phrase in words.values()
        for word in phrase.split()
    } - shared
    assert {"crimson", "orb", "drifting", "toward", "tinier", "mark"} <= held_out
    rng = np.random.default_rng(0)
    for index in range(3000):
        scene = random_scene(rng)
        caption = random_caption(scene, rng, names_background=index % 2 == 0)
        assert not held_out & set(caption.replace(",", " ").split()), caption


def test_captions_that_leave_the_background_out_teach_nothing_about_it() -> None:
    pool = ClipPool(frames=4, per_size=12, seed=5)
    batch = pool.batch(64)
    assert 0 < int((~batch.names_background).sum()) < 40
    targets = attribute_targets(batch.described, torch.device("cpu"), batch.names_background)
    for row, (scene, caption, named) in enumerate(
        zip(batch.described, batch.captions, batch.names_background, strict=True)
    ):
        if named:
            assert scene.tone in caption
            assert targets["tone"][row] == ATTRIBUTES["tone"].index(scene.tone)
        else:
            assert scene.tone not in caption
            assert targets["tone"][row] == targets["background"][row] == UNSAID
            assert targets["colour"][row] == ATTRIBUTES["colour"].index(scene.colour)
