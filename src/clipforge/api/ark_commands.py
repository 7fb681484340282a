"""Ark's text commands: `--name value` pairs at the end of a prompt (`--rs 720p --dur 5`),
split off and typed the way the JSON fields are, with errors naming the command as written."""

from __future__ import annotations

import re
from typing import Any

from clipforge.errors import InvalidField
from clipforge.schemas import DURATIONS, FPS, SEED_MAX, AspectRatio, Resolution

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
_TRAILING_COMMAND = re.compile(r"(?:^|\s)--([A-Za-z_]+)\s+(\S+)\s*$")


def split_text_commands(text: str) -> tuple[str, dict[str, tuple[str, str]]]:
    """The prompt without its trailing `--name value` commands, and the commands as
    {parameter: (command as written, value)}. The command nearest the end wins a repeat."""
    commands: dict[str, tuple[str, str]] = {}
    while match := _TRAILING_COMMAND.search(text):
        name, value = match.group(1), match.group(2)
        written = f"--{name}"
        parameter = TEXT_COMMANDS.get(name.lower())
        if parameter is None:
            raise InvalidField(written, "unknown text command", allowed=sorted(TEXT_COMMANDS))
        commands.setdefault(parameter, (written, value))
        text = text[: match.start()]
    return text.strip(), commands


def _parse_bool(written: str, value: str) -> bool:
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidField(written, f"invalid value {value!r}", allowed=[True, False])


def _parse_int(written: str, value: str, allowed: tuple[int, ...] | None = None) -> int:
    try:
        number = int(value)
    except ValueError:
        raise InvalidField(written, f"invalid value {value!r}: expected an integer") from None
    if allowed is not None and number not in allowed:
        raise InvalidField(written, f"invalid value {value!r}", allowed=list(allowed))
    return number


def text_command_values(commands: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """Text command values, typed and checked like the JSON fields."""
    values: dict[str, Any] = {}
    for parameter, (written, value) in commands.items():
        if parameter == "resolution":
            if value not in set(Resolution):
                raise InvalidField(written, f"invalid value {value!r}", allowed=list(Resolution))
            values[parameter] = Resolution(value)
        elif parameter == "ratio":
            if value != "adaptive" and value not in set(AspectRatio):
                allowed = [*AspectRatio, "adaptive"]
                raise InvalidField(written, f"invalid value {value!r}", allowed=allowed)
            values[parameter] = value
        elif parameter == "duration":
            values[parameter] = _parse_int(written, value, DURATIONS)
        elif parameter == "framespersecond":
            values[parameter] = _parse_int(written, value, (FPS,))
        elif parameter == "seed":
            seed = _parse_int(written, value)
            if not -1 <= seed <= SEED_MAX:
                raise InvalidField(written, f"invalid value {value!r}: must be -1..{SEED_MAX}")
            values[parameter] = seed
        else:
            values[parameter] = _parse_bool(written, value)
    return values
