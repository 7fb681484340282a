"""Which weights and which backend serve an API model id: the catalogue defaults
(DEFAULT_MODEL_MAP, its sound and reference maps) and the rules that read them beside
CLIPFORGE_MODEL, CLIPFORGE_MODEL_MAP, CLIPFORGE_REFERENCE_MODEL_MAP, CLIPFORGE_FAST_PROFILE
and CLIPFORGE_BACKEND. Pure functions of the settings: nothing is loaded."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from clipforge.seedance_models import MODELS
from clipforge.settings import Settings

CATALOGUE_KEYWORD = "catalogue"
"""CLIPFORGE_MODEL value that serves every Seedance id from DEFAULT_MODEL_MAP."""

SOUND_MODEL_MAP: Mapping[str, str] = MappingProxyType(
    {
        "bytedance/seedance-1-5-pro": "ltx-2.3",
        "bytedance/seedance-2-0": "ltx-2.3",
        "bytedance/seedance-2-0-fast": "ltx-2.3-distilled",
        "bytedance/dreamina-seedance-2-0-mini": "ltx-2.3-distilled",
        "bytedance/seedance-2-5": "ltx-2.3",
        "bytedance/dreamina-seedance-2-5": "ltx-2.3",
    }
)
"""The ids that make sound by default (1.5 and 2.x) and the LTX-2 entry (joint video and
sound) behind each under CLIPFORGE_MODEL=catalogue: the guided 40-step LTX-2.3, or its 8-step
distilled checkpoint for the fast and mini ids."""

DEFAULT_MODEL_MAP: Mapping[str, str] = MappingProxyType(
    {
        "bytedance/seedance-1-0-lite-t2v": "wan2.1-t2v-1.3b",
        "bytedance/seedance-1-0-pro-fast": "wan2.2-ti2v-5b",
        "bytedance/seedance-1-0-pro-t2v": "wan2.2-t2v-a14b",
        "bytedance/seedance-1-0-lite-i2v": "wan2.2-ti2v-5b",
        "bytedance/seedance-1-0-pro-i2v": "wan2.2-i2v-a14b",
        # 1.5 and 2.x make sound by default (and take text, a first and a last frame): LTX-2.
        **SOUND_MODEL_MAP,
    }
)
"""Which catalogue entry serves each Seedance id under CLIPFORGE_MODEL=catalogue: lite -> the
small Wan 2.1 model, pro-fast -> Wan 2.2 5B, pro -> Wan 2.2 A14B; image-to-video: lite-i2v ->
Wan 2.2 TI2V 5B (the pro-fast weights: no reload), pro-i2v -> Wan 2.2 I2V A14B (a first frame;
map it to wan2.1-flf2v-14b-720p for first + last frames). (The Ark surface stores its dated
ids, such as seedance-1-0-pro-250528, as these ids.)"""

LITE = "bytedance/seedance-1-0-lite-t2v"

DEFAULT_REFERENCE_MAP: Mapping[str, str] = MappingProxyType(
    {
        spec.id: "wan2.1-vace-1.3b" if spec.id.endswith(("-fast", "-mini")) else "wan2.1-vace-14b"
        for spec in MODELS
        if spec.references
    }
)
"""Which catalogue entry serves a request with reference images (`image_urls`, Ark
`reference_image`) under CLIPFORGE_MODEL=catalogue: Wan VACE, the open model that takes them
(1.3B for the fast and mini ids, 14B for the others); the same id without references keeps
DEFAULT_MODEL_MAP's weights. CLIPFORGE_REFERENCE_MODEL_MAP overrides it per id."""


def weights_for_model(
    model: str | None, model_map: Mapping[str, str], api_model: str, fast_profile: bool = False
) -> str | None:
    """The weights (catalogue name, folder or hub id) that serve the API id `api_model`.

    An id in `model_map` wins; under CLIPFORGE_MODEL=catalogue an id falls back to
    DEFAULT_MODEL_MAP (ids it does not list use the lite entry), a `-fast` id with its entry's
    fast profile (`<entry>@fast`) where `fast_profile` (CLIPFORGE_FAST_PROFILE) asks for it
    and the entry has one; otherwise `model` serves all.
    """
    if api_model in model_map:
        return model_map[api_model]
    if model is not None and model.strip().lower() == CATALOGUE_KEYWORD:
        entry = DEFAULT_MODEL_MAP.get(api_model, DEFAULT_MODEL_MAP[LITE])
        return with_fast_profile(entry) if fast_profile and is_fast_id(api_model) else entry
    return model


def is_fast_id(api_model: str) -> bool:
    """A Seedance id of the fast tier (seedance-1-0-pro-fast, seedance-2-0-fast, ...)."""
    return api_model.endswith("-fast")


def with_fast_profile(entry: str) -> str:
    """`entry@fast` where the catalogue publishes a fast profile for it, else `entry`."""
    from clipforge.backends.diffusers.profiles import FAST, PROFILE_SEPARATOR, profiles_of

    return f"{entry}{PROFILE_SEPARATOR}{FAST}" if FAST in profiles_of(entry) else entry


def reference_weights_for_model(
    model: str | None, reference_map: Mapping[str, str], api_model: str
) -> str | None:
    """The weights serving `api_model`'s requests with reference images, where they differ
    from its own: CLIPFORGE_REFERENCE_MODEL_MAP's, else under catalogue DEFAULT_REFERENCE_MAP's;
    None otherwise."""
    if api_model in reference_map:
        return reference_map[api_model]
    if model is not None and model.strip().lower() == CATALOGUE_KEYWORD:
        return DEFAULT_REFERENCE_MAP.get(api_model)
    return None


def backend_name(settings: Settings) -> str:
    """CLIPFORGE_BACKEND, with `auto` resolved: diffusers when weights are named
    (CLIPFORGE_MODEL or CLIPFORGE_MODEL_MAP), else the built-in model."""
    if settings.backend != "auto":
        return settings.backend
    return "diffusers" if settings.model or settings.model_map else "builtin"
