"""What uploaded bytes are, by their first bytes (never by a name, a content type or a guess
made by a decoder): the allow-list of formats ClipForge takes in.

Images: JPEG, PNG, WebP. Videos: ISO media (MP4, QuickTime MOV) and Matroska (WebM, MKV),
each opened with the one FFmpeg demuxer named here, so a text playlist, a concat list or
an image format can never be taken for a video."""

from __future__ import annotations

IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
"""Pillow's format names and their media types."""

_ISO_BOXES = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"}
"""The box types an MP4 or MOV file starts with (old QuickTime files have no `ftyp`)."""
_EBML = b"\x1a\x45\xdf\xa3"


class MediaRejected(ValueError):
    """The bytes are not media ClipForge takes; the message says why (shown to the client)."""


def image_format(data: bytes) -> str | None:
    """The media type of JPEG, PNG or WebP bytes by their signature, else None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def video_demuxer(data: bytes) -> str | None:
    """The FFmpeg demuxer for MP4/MOV or Matroska/WebM bytes by their signature, else None."""
    if len(data) >= 8 and data[4:8] in _ISO_BOXES:
        return "mov"
    if data.startswith(_EBML):
        return "matroska"
    return None
