"""Request checks every surface shares, so that a prompt, a model id or an image field is
refused the same way (400 naming the field) wherever it comes in.

- A prompt is refused when it is longer than CLIPFORGE_MAX_PROMPT_CHARS, empty or only
  whitespace, or holds a control character other than newline (LF, or CR LF) and tab: a NUL
  would cut the MP4's metadata short, and the others are never part of a scene description.
  A prompt of invisible characters alone (zero-width spaces, joiners, blank fillers) is as
  empty as a blank one. Every text field (`text_problem`, applied to each string of a body by
  `fields.Body`) refuses control characters and the bidirectional overrides (U+202A-202E,
  U+2066-2069), which make text display in another order than it is read.
- A model id is at most MODEL_ID_MAX_CHARS long (it is stored and echoed).
- An image-to-video model needs its first frame; a text-to-video model takes no image, and a
  last frame only goes to weights that take one.
"""

from __future__ import annotations

import re
import unicodedata

from clipforge.errors import InvalidField
from clipforge.routing.served import ServedModel

MODEL_ID_MAX_CHARS = 200
_BIDI_OVERRIDE = re.compile("[\u202a-\u202e\u2066-\u2069]")
# One character class (a CR is fine before an LF): one fast pass over a long text.
_UNWANTED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
# Characters that draw nothing: format characters (zero-width space and joiners, word joiner,
# byte order mark, bidi marks), combining marks on nothing, and the blank "letters".
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Mn", "Me", "Zs", "Zl", "Zp"})
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")


def text_problem(text: str) -> str | None:
    """Why a text field cannot hold `text` (a control character other than newline and tab,
    a lone surrogate, a bidirectional override), or None. Linear in the text's length."""
    bad = _UNWANTED.search(text)
    while bad is not None and text.startswith("\r\n", bad.start()):
        bad = _UNWANTED.search(text, bad.start() + 2)
    if bad is None:
        return None
    found = f"U+{ord(bad.group(0)[0]):04X} at position {bad.start()} is not allowed"
    if _BIDI_OVERRIDE.match(bad.group(0)):
        return f"bidirectional override {found}"
    return f"control character {found} (newline and tab are)"


def has_visible(text: str) -> bool:
    """True if some character of `text` draws something (stops at the first that does)."""
    return any(
        unicodedata.category(ch) not in _INVISIBLE_CATEGORIES and ch not in _BLANK_LETTERS
        for ch in text
    )


def check_prompt(prompt: str, field: str, max_chars: int) -> str:
    """The prompt, unchanged, or InvalidField naming `field`. Linear in the prompt's length."""
    if len(prompt) > max_chars:
        raise InvalidField(field, f"must have at most {max_chars} characters")
    if not prompt.strip():
        raise InvalidField(field, "must not be empty or only whitespace")
    problem = text_problem(prompt)
    if problem:
        raise InvalidField(field, problem)
    if not has_visible(prompt):
        raise InvalidField(field, "must have a visible character (not only zero-width ones)")
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
