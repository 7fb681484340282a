"""What the Ark 1.5 and 2.0 ids take beyond 1.0's rules, per their row of
`seedance_models.py`: durations (`-1`: the model picks, here the id's default), resolutions
(4k on 2.0), ratios, `generate_audio` (default true where the backend makes sound) and `draft`.
The 1.0 ids keep 2-12 s and refuse sound and drafts, as before."""

from __future__ import annotations

from typing import Any

from clipforge.api.surfaces.ark.models import CreateTaskBody
from clipforge.errors import InvalidField
from clipforge.routing.served import ServedModel
from clipforge.seedance_models import ARK_DURATION_PICKS, SPECS

LEGACY_SECONDS = (2, 12)
EXPIRES_AFTER = (3600, 259_200, 172_800)
"""1.5 and 2.0's `execution_expires_after`: 1 h to 72 h, default 48 h (the 1.0 ids keep theirs:
1 s to 72 h, no default)."""


def expires_after(body: CreateTaskBody, model_id: str) -> int | None:
    """Seconds a task may wait in the queue: the body's, checked per id, or the id's default."""
    if SPECS[model_id].legacy:
        return body.execution_expires_after
    low, high, default = EXPIRES_AFTER
    asked = body.execution_expires_after
    if asked is None:
        return default
    if not low <= asked <= high:
        raise InvalidField(
            "execution_expires_after", f"{asked} s: this model takes {low} to {high}"
        )
    return asked


def newer_values(
    served: ServedModel,
    body: CreateTaskBody,
    values: dict[str, Any],
    commands: dict[str, tuple[str, str]],
) -> dict[str, Any]:
    """Resolution, duration, ratio, sound and draft as the request records them; a 400
    naming the field (or the text command) for a value the id does not take."""
    spec, out = served.spec, {}

    def named(field: str) -> str:
        return field if getattr(body, field) is not None else commands.get(field, (field,))[0]

    if "resolution" in values:
        spec.check_resolution(values["resolution"], named("resolution"))
    elif not spec.legacy:
        out["resolution"] = spec.default_resolution
    duration = values.get("duration")
    if spec.legacy:
        low, high = LEGACY_SECONDS
        if duration is not None and not low <= duration <= high:
            raise InvalidField(named("duration"), f"{duration} s: 1.0 ids take {low} to {high}")
    elif duration in (None, ARK_DURATION_PICKS):
        out["duration"] = spec.default_duration if body.frames is None else None
    else:
        spec.check_duration(duration, named("duration"))
    if not spec.legacy and values.get("ratio") is not None:
        spec.check_ratio(values["ratio"], named("ratio"))
    out["generate_audio"] = served.audio_for(body.generate_audio)
    out["draft"] = _draft(served, body)
    return {key: value for key, value in out.items() if value is not None}


def _draft(served: ServedModel, body: CreateTaskBody) -> bool:
    """A preview; with images too (its full render takes them on: `drafts.py`)."""
    if not body.draft:
        return False
    if not served.spec.draft:
        raise InvalidField("draft", f"model {served.id!r} has no draft mode (false only)")
    return True
