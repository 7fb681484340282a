"""The native-size rules backends render by (no torch): the request's aspect ratio at the
backend's own short side, or (Wan) at the pixel area the model was trained at; each side a
multiple of what its model needs. The video layer then scales the frames to the exact API
size."""

from __future__ import annotations

import math


def native_size(width: int, height: int, short_side: int, multiple: int) -> tuple[int, int]:
    """(width, height) with the aspect ratio of width x height and the short side `short_side`,
    each side rounded to a multiple of `multiple` (at least one); never square unless asked."""
    scale = short_side / min(width, height)
    w, h = (max(multiple, round(side * scale / multiple) * multiple) for side in (width, height))
    if w == h and width != height:  # at tiny sizes rounding can square a 4:3 frame
        return (w + multiple, h) if width > height else (w, h + multiple)
    return w, h


def area_size(width: int, height: int, area: int, multiple: int) -> tuple[int, int]:
    """(width, height) with the aspect ratio of width x height and about `area` pixels, each
    side rounded, then floored to a multiple of `multiple`: Wan's `max_area` rule (Wan 2.1
    `wan/image2video.py`, the diffusers Wan I2V example: 1:1 at 480P's 832x480 area is 624x624,
    16:9 is 832x464)."""
    aspect = height / width
    h = max(multiple, round(math.sqrt(area * aspect)) // multiple * multiple)
    w = max(multiple, round(math.sqrt(area / aspect)) // multiple * multiple)
    return w, h


def bucket_size(width: int, height: int, base: int, multiple: int) -> tuple[int, int]:
    """(width, height) of the aspect-ratio bucket nearest width x height among those of about
    `base` x `base` pixels, as HunyuanVideo 1.5 sizes its clips (`hyvideo/utils/data_utils.py`
    `generate_crop_size_list` and `get_closest_ratio`, copied into diffusers'
    `HunyuanVideo15ImageProcessor`): sides multiples of `multiple`, ratios up to 4:1, the
    nearest bucket on the side of square from the asked ratio (16:9 at base 640: 848x480)."""
    patches = round((base / multiple) ** 2)
    buckets, wp, hp = [], patches, 1
    while wp > 0:
        if max(wp, hp) / min(wp, hp) <= 4.0:
            buckets.append((wp * multiple, hp * multiple))
        if (hp + 1) * wp <= patches:
            hp += 1
        else:
            wp -= 1
    aspect = height / width
    ratios = [round(h / w, 5) - aspect for w, h in buckets]
    wide = [i for i, r in enumerate(ratios) if (r <= 0 if aspect >= 1 else r >= 0)]
    return buckets[min(wide, key=lambda i: abs(ratios[i]))]
