"""A generated clip encoded to the job's MP4 (at the request's size and frame rate, with its
sound track and stills), and the job's timings from the render's milestones."""

from __future__ import annotations

from pathlib import Path

from clipforge.backends.base import Clip
from clipforge.errors import GenerationFailed
from clipforge.schemas import GenerationRequest
from clipforge.video import render_video
from clipforge.video.cadence import Cadence
from clipforge.video.sound import Sound
from clipforge.video.stills import Stills


def encode_clip(
    clip: Clip,
    request: GenerationRequest,
    cadence: Cadence,
    scratch: Path,
    metadata: dict[str, str],
) -> tuple[float, Stills]:
    """Write the clip to `scratch`; the seconds encoding took and the stills taken on the way."""
    width, height = request.size
    stills = Stills(cadence.frames)
    stats = render_video(
        clip.frames,
        src_count=clip.num_frames,
        out_path=scratch,
        width=width,
        height=height,
        num_frames=cadence.frames,
        fps=cadence.fps,
        interpolate_from=cadence.native_fps if cadence.how == "interpolate" else None,
        watermark=request.watermark,
        metadata=metadata,
        stills=stills,
        sound=_sound(request, clip),
    )
    return stats.seconds, stills


def _sound(request: GenerationRequest, clip: Clip) -> Sound | None:
    """The clip's sound track when the request asked for one. The routing gives
    `generate_audio` only to models whose backend makes sound; a backend that then made
    none fails the job rather than hand out a silent clip that was asked to have sound."""
    if not request.generate_audio:
        return None
    if clip.audio is None:
        raise GenerationFailed("the backend made no sound track, and the request asked for one")
    return Sound(clip.audio, clip.sample_rate)
