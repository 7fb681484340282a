"""Ark's text commands: `--name value` pairs at the end of a prompt (`--rs 720p --dur 5`),
split off and typed the way the JSON fields are, with errors naming the command as written.

The split is one pass over the text's words from the end, after a length check on the whole
text, with a cap on the number of commands: a body full of commands costs microseconds, not
seconds. A dangling command (`a ball --rs`, `a ball --`) or a malformed one (`--r$ 5`) is a
400 naming it, never left silently in the prompt; a bare `--` followed by more words is a
dash, part of the prompt. Numbers are ASCII digits only.
"""

from __future__ import annotations

import re
from typing import Any

from clipforge.errors import InvalidField
from clipforge.schemas import FPS, MAX_SECONDS, SEED_MAX, AspectRatio, Resolution

ARK_DURATIONS = (-1, *range(1, MAX_SECONDS + 1))
"""Seconds any Ark id may take (`--dur`): which ones each id takes is checked with the model
(`api/surfaces/ark/newer.py`: 1.0 takes 2 to 12)."""

# Text command -> the parameter it sets (long and short spellings).
TEXT_COMMANDS = {
    "resolution": "resolution",
    "rs": "resolution",
    "ratio": "ratio",
    "rt": "ratio",
    "duration": "duration",
    "dur": "duration",
    "framespersecond": "framespersecond",
    "framepersecond": "framespersecond",
    "fps": "framespersecond",
    "watermark": "watermark",
    "wm": "watermark",
    "seed": "seed",
    "camerafixed": "camera_fixed",
    "cf": "camera_fixed",
}
MAX_COMMANDS = 16
"""More trailing commands than this is a 400 (there are seven parameters to set)."""
COMMANDS_MAX_CHARS = MAX_COMMANDS * 40
"""What the commands may add to the text beyond the prompt's own length limit."""

INTEGER_MAX_CHARS = 20
NAME_MAX_CHARS = 40
"""A command as written is echoed in `param` at most this long."""
_WORD = re.compile(r"\S+")
_NAME = re.compile(r"--[A-Za-z_]{1,30}")
_INTEGER = re.compile(r"-?[0-9]+")


def split_text_commands(
    text: str, max_prompt_chars: int, field: str = "content"
) -> tuple[str, dict[str, tuple[str, str]]]:
    """The prompt without its trailing `--name value` commands, and the commands as
    {parameter: (command as written, value)}. The command nearest the end wins a repeat."""
    if len(text) > max_prompt_chars + COMMANDS_MAX_CHARS:
        raise InvalidField(field, f"the text is longer than {max_prompt_chars} characters")
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    commands: dict[str, tuple[str, str]] = {}
    count, index = 0, len(words) - 1
    while index >= 0:
        last = text[slice(*words[index])]
        if last.startswith("--"):
            raise InvalidField(last[:NAME_MAX_CHARS], "text command without a value")
        written = text[slice(*words[index - 1])] if index else ""
        if not written.startswith("--") or written == "--":  # a bare -- mid-text is a dash
            break
        count += 1
        if count > MAX_COMMANDS:
            raise InvalidField(field, f"more than {MAX_COMMANDS} text commands")
        commands.setdefault(_parameter(written), (written, last))
        index -= 2
    prompt_end = words[index][1] if index >= 0 else 0
    return text[:prompt_end].strip(), commands


def _parameter(written: str) -> str:
    if not _NAME.fullmatch(written):
        raise InvalidField(written[:NAME_MAX_CHARS], "malformed text command (--name value)")
    parameter = TEXT_COMMANDS.get(written[2:].lower())
    if parameter is None:
        raise InvalidField(written, "unknown text command", allowed=sorted(TEXT_COMMANDS))
    return parameter


def _parse_bool(written: str, value: str) -> bool:
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidField(written, f"invalid value {value[:NAME_MAX_CHARS]!r}", allowed=[True, False])


def _parse_int(written: str, value: str, allowed: tuple[int, ...] | None = None) -> int:
    if len(value) > INTEGER_MAX_CHARS or not _INTEGER.fullmatch(value):
        shown = value[:INTEGER_MAX_CHARS]
        raise InvalidField(written, f"invalid value {shown!r}: expected an integer")
    number = int(value)
    if allowed is not None and number not in allowed:
        raise InvalidField(
            written, f"invalid value {value[:NAME_MAX_CHARS]!r}", allowed=list(allowed)
        )
    return number


def text_command_values(commands: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """Text command values, typed and checked like the JSON fields."""
    values: dict[str, Any] = {}
    for parameter, (written, value) in commands.items():
        if parameter == "resolution":
            if value not in set(Resolution):
                raise InvalidField(
                    written, f"invalid value {value[:NAME_MAX_CHARS]!r}", allowed=list(Resolution)
                )
            values[parameter] = Resolution(value)
        elif parameter == "ratio":
            if value != "adaptive" and value not in set(AspectRatio):
                allowed = [*AspectRatio, "adaptive"]
                raise InvalidField(
                    written, f"invalid value {value[:NAME_MAX_CHARS]!r}", allowed=allowed
                )
            values[parameter] = value
        elif parameter == "duration":
            values[parameter] = _parse_int(written, value, ARK_DURATIONS)
        elif parameter == "framespersecond":
            values[parameter] = _parse_int(written, value, (FPS,))
        elif parameter == "seed":
            seed = _parse_int(written, value)
            if not -1 <= seed <= SEED_MAX:
                raise InvalidField(
                    written, f"invalid value {value[:NAME_MAX_CHARS]!r}: must be -1..{SEED_MAX}"
                )
            values[parameter] = seed
        else:
            values[parameter] = _parse_bool(written, value)
    return values
