"""The fast-profile rows of the one-shot GPU check (issue 27): Wan2.1-T2V-1.3B 480p 5 s through
the backend with its `fast` profile (FastWan's 3 DMD steps, no guidance, decode included), and
the same with FP8 transformers.

The GPU machine reaches no hub, and the check's weights are random: `fast_model` puts the
check's random-weight folder in the local hub cache as the profile's distilled weights
(`FastVideo/FastWan2.1-T2V-1.3B-Diffusers`; for a LoRA profile, a LoRA file would go there),
so the profile loads through the same offline path a real deployment takes. The timings are
the real compute of the distilled sampler; the frames are noise.

    settings = Settings(model=fast_model(folder), **fast_options(fp8=True), device="cuda")
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from clipforge.backends.diffusers.profile_entries import PROFILES
from clipforge.backends.diffusers.profiles import FAST, PROFILE_SEPARATOR

REVISION = "0" * 40


def fast_model(folder: Path, entry: str = "wan2.1-t2v-1.3b", cache: Path | None = None) -> str:
    """`<folder>@fast`, with `folder` standing in for the profile's distilled weights in the
    hub cache (`cache`, else HF_HUB_CACHE's); sets HF_HUB_OFFLINE. A profile that needs a
    LoRA instead is refused here: the check has no LoRA file to stand in."""
    from huggingface_hub import constants

    profile = PROFILES[entry][FAST]
    if profile.adapters or not profile.weights:
        raise ValueError(f"{entry}'s fast profile loads a LoRA: stage it by hand")
    root = Path(cache or constants.HF_HUB_CACHE) / f"models--{profile.weights.replace('/', '--')}"
    snapshot = root / "snapshots" / REVISION
    if not snapshot.exists():
        shutil.copytree(folder, snapshot)
    (root / "refs").mkdir(parents=True, exist_ok=True)
    (root / "refs" / "main").write_text(REVISION)
    os.environ["HF_HUB_OFFLINE"] = "1"
    constants.HF_HUB_OFFLINE = True
    if cache is not None:
        constants.HF_HUB_CACHE = str(cache)
    return f"{folder}{PROFILE_SEPARATOR}{FAST}"


def fast_options(fp8: bool = False, compile: bool = True) -> dict[str, Any]:
    """Settings of the fast rows: the profile's own steps (no CLIPFORGE_NUM_INFERENCE_STEPS),
    compiled, cuDNN attention; `fp8`: the transformer's weights in float8 (H100/H200)."""
    options: dict[str, Any] = {"num_inference_steps": None}
    if compile:
        options |= {"compile": True, "attention_backend": "_native_cudnn"}
    if fp8:
        options["quantize"] = {"*": "fp8"}
    return options
