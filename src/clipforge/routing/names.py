"""What a client's model name stands for: an alias of another dialect (the OpenAI dialect's
sora-2, ...), a dated name, and with an image the family's image-to-video id."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

DEFAULT_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "sora-2": "bytedance/seedance-1-0-pro-fast",
        "sora-2-pro": "bytedance/seedance-1-0-pro-t2v",
    }
)
"""Model names of other dialects and the served ids they stand for (CLIPFORGE_MODEL_ALIASES
adds or replaces entries). Dated names (`sora-2-2025-10-06`) stand for their undated one."""

IMAGE_COUNTERPARTS: Mapping[str, str] = MappingProxyType(
    {
        "bytedance/seedance-1-0-pro-t2v": "bytedance/seedance-1-0-pro-i2v",
        "bytedance/seedance-1-0-pro-fast": "bytedance/seedance-1-0-pro-i2v",
        "bytedance/seedance-1-0-lite-t2v": "bytedance/seedance-1-0-lite-i2v",
    }
)
"""The image-to-video id of each text-to-video id's family (a request with a first frame)."""
_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def model_id_for(name: str, aliases: Mapping[str, str], with_image: bool = False) -> str:
    """The id `name` stands for: `aliases` (CLIPFORGE_MODEL_ALIASES) merged over
    DEFAULT_ALIASES, a dated name as its undated one; with an image, the family's
    image-to-video id. A name that is none of these stands for itself."""
    merged = {**DEFAULT_ALIASES, **aliases}
    model_id = merged.get(name) or merged.get(_DATED.sub("", name)) or name
    if with_image:
        model_id = IMAGE_COUNTERPARTS.get(model_id, model_id)
    return model_id
