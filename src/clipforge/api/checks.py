"""Request checks every surface shares, so that a prompt, a model id or an image field is
refused the same way (400 naming the field) wherever it comes in.

- A prompt is refused when it is longer than CLIPFORGE_MAX_PROMPT_CHARS, empty or only
  whitespace, or holds a control character other than newline (LF, or CR LF) and tab: a NUL
  would cut the MP4's metadata short, and the others are never part of a scene description.
- A model id is at most MODEL_ID_MAX_CHARS long (it is stored and echoed).
- An image-to-video model needs its first frame; a text-to-video model takes no image, and a
  last frame only goes to weights that take one.
"""

from __future__ import annotations

import re

from clipforge.errors import InvalidField
from clipforge.routing import ServedModel

MODEL_ID_MAX_CHARS = 200
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]|\r(?!\n)")


def check_prompt(prompt: str, field: str, max_chars: int) -> str:
    """The prompt, unchanged, or InvalidField naming `field`. Linear in the prompt's length."""
    if len(prompt) > max_chars:
        raise InvalidField(field, f"must have at most {max_chars} characters")
    if not prompt.strip():
        raise InvalidField(field, "must not be empty or only whitespace")
    bad = _CONTROL.search(prompt)
    if bad:
        code = ord(bad.group(0)[0])
        problem = f"control character U+{code:04X} at position {bad.start()} is not allowed"
        raise InvalidField(field, problem + " (newline and tab are)")
    return prompt


def check_model_id(model: str, field: str = "model") -> str:
    if len(model) > MODEL_ID_MAX_CHARS:
        raise InvalidField(field, f"must have at most {MODEL_ID_MAX_CHARS} characters")
    return model


def check_images(
    served: ServedModel, first: tuple[str, str | None], last: tuple[str, str | None]
) -> None:
    """Refuse image fields (each `(field, url or None)`) the served model does not take, and a
    missing first frame for an image-to-video model."""
    for field, url in (first, last):
        if url is not None and not served.takes_images:
            raise InvalidField(field, f"model {served.id!r} takes no image input")
    if served.image_input and first[1] is None:
        raise InvalidField(first[0], f"model {served.id!r} needs a first frame image")
    if last[1] is not None and not served.last_frame:
        raise InvalidField(last[0], f"model {served.id!r} takes no last frame image")
    if last[1] is None and served.needs_last_frame:
        raise InvalidField(last[0], f"model {served.id!r} needs a last frame image too")
