"""Pure video functions (numpy and PyAV only): resample, resize, watermark, encode."""

from clipforge.video.encode import (
    DEFAULT_CRF,
    DEFAULT_PRESET,
    EncodeStats,
    H264Encoder,
)
from clipforge.video.render import RenderStats, container_tags, render_video
from clipforge.video.resize import cover_crop_box, resize_frame
from clipforge.video.timeline import (
    SourceSample,
    cross_fade,
    resample,
    source_sample,
    timeline_map,
)
from clipforge.video.watermark import Watermark

__all__ = [
    "DEFAULT_CRF",
    "DEFAULT_PRESET",
    "EncodeStats",
    "H264Encoder",
    "RenderStats",
    "SourceSample",
    "Watermark",
    "container_tags",
    "cover_crop_box",
    "cross_fade",
    "render_video",
    "resample",
    "resize_frame",
    "source_sample",
    "timeline_map",
]
