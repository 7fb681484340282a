"""Media intake: the images and videos a request brings, taken in by one set of rules
(formats by allow-list, one pixel cap, caps on a video's frames, length and decode time,
a 400 naming the field for anything else). `intake.py` is the entry point; the rest is
what it uses: `kinds` (what the bytes are), `stills` and `clips` (decoding), `fetch`
(image URLs) and `forms` (multipart bodies, parsed off the event loop)."""

from clipforge.api.accept.media.intake import (
    Image,
    digest,
    fitted_png,
    nearest_ratio,
    take_image,
    take_video_last_frame,
)

__all__ = [
    "Image",
    "digest",
    "fitted_png",
    "nearest_ratio",
    "take_image",
    "take_video_last_frame",
]
