"""What follows a job's denoising, as the worker expects it from its own last job: the
seconds the ETA adds at each phase (`expected_tail_s`).

Decoding (diffusers decodes the latents with its VAE after the last step; streamed frames
decode inside encoding) and encoding scale with the output's pixel-frames; uploading is taken
as long as the last one. Before its first job a worker uses a first guess for encoding."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ENCODE_SECONDS_PER_PIXEL_FRAME = 1.8e-8
"""A first guess before this worker has encoded anything (bench/encode.py: 4.36 s for 121
frames of 1920x1088 on 2 cores)."""


@dataclass
class TailEstimate:
    decode_rate: float = 0.0
    """Seconds per output pixel-frame from the last step to the first frame at the encoder."""
    encode_rate: float = ENCODE_SECONDS_PER_PIXEL_FRAME
    upload_s: float = 0.0

    def after(self, phase: str, pixel_frames: int) -> float:
        """Seconds expected from the start of `phase` (denoising, decoding, encoding,
        uploading) to the end of the job, denoising steps left aside."""
        decode, encode = self.decode_rate * pixel_frames, self.encode_rate * pixel_frames
        left = {"denoising": decode + encode, "decoding": decode + encode, "encoding": encode}
        return left.get(phase, 0.0) + self.upload_s

    def learn(self, timings: Mapping[str, float], pixel_frames: int) -> None:
        """Take the rates of a finished job (the worker's `timings`)."""
        self.decode_rate = timings.get("decode_s", 0.0) / pixel_frames
        self.encode_rate = timings["encode_s"] / pixel_frames
        self.upload_s = timings.get("upload_s", 0.0)
