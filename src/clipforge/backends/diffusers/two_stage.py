"""LTX-Video 0.9.7/0.9.8 (dev and distilled) as their authors run them: two stages with the
latent upsampler.

The recipe (Lightricks/LTX-Video configs/ltxv-13b-0.9.7-distilled.yaml, `pipeline_type:
multi-scale`; diffusers' LTX docs): render at 2/3 of the size with the distilled timesteps,
upsample the latents 2x with the spatial latent upsampler (`LTXLatentUpsamplePipeline`,
adain 1.0), then refine at twice the first size with the published refine timesteps and
`denoise_strength` 0.999, and decode. The clip comes out at twice the first stage's size (4/3 of
the native size, as in the recipe) and the video layer scales it to the API size. Without the
upsampler's weights the entry runs one pass at the native size.

LTX-2 distilled (`LTX2TwoStageRunner`; Lightricks/LTX-2 ltx-pipelines README, DistilledPipeline):
the 8 distilled sigmas at half the native size, the x2 latent upsampler
(`LTX2LatentUpsamplePipeline`), then the 3 stage-2 sigmas at the native size on the upsampled
video latents and the first stage's audio latents (each noised to the first stage-2 sigma by
the pipeline); the sound comes out of the second call.
"""

from __future__ import annotations

from typing import Any

import torch

from clipforge.backends.base import GenerationPlan, ImageInput, ProgressCallback
from clipforge.backends.diffusers.rules import ModelFamily, TwoStage
from clipforge.backends.diffusers.sampling import image_arguments, step_callback
from clipforge.backends.geometry import native_size


def stage_one_size(size: tuple[int, int], short_side: int, family: ModelFamily) -> tuple[int, int]:
    """The first stage's (width, height): `downscale` of the native size, each side floored to
    a multiple of the family's, as LTX's inference.py and diffusers' example do (nearest
    rounding rendered up to 11% more pixels)."""
    stage = family.two_stage
    scale = stage.downscale if stage is not None else 1.0
    m = family.size_multiple
    width, height = native_size(*size, short_side, m)
    return max(m, int(width * scale) // m * m), max(m, int(height * scale) // m * m)


def refine_schedule(stage: TwoStage) -> dict[str, Any]:
    """The refine pass's schedule: the published timesteps of a distilled model, else a step
    count that `denoise_strength` cuts (a dev model, as diffusers' LTX docs run it); the
    first pass's timesteps never carry over."""
    if stage.refine_timesteps:
        return {"timesteps": list(stage.refine_timesteps)}
    return {"timesteps": None, "num_inference_steps": stage.refine_inference_steps}


class TwoStageRunner:
    """The upsampler, sharing the pipeline's VAE, and the two calls around it."""

    upsample_pipeline = "LTXLatentUpsamplePipeline"
    """The diffusers pipeline class that runs the upsampler."""

    def __init__(self, pipeline: Any, upsampler: Any, stage: TwoStage, device: torch.device):
        import diffusers

        self.stage = stage
        upsample: Any = getattr(diffusers, self.upsample_pipeline)(
            vae=pipeline.vae, latent_upsampler=upsampler.to(device)
        )
        upsample.set_progress_bar_config(disable=True)
        self.upsample = upsample

    def run(
        self,
        pipeline: Any,
        arguments: dict[str, Any],
        images: ImageInput,
        small: tuple[int, int],
        plan: GenerationPlan,
        progress: ProgressCallback,
    ) -> Any:
        """Both stages; progress counts the first stage's steps, then the refine steps."""
        width, height = small
        first = arguments | {
            "width": width,
            "height": height,
            "output_type": "latent",
            "callback_on_step_end": step_callback(progress, plan.steps),
        }
        if images:
            first |= image_arguments(pipeline, images, width, height, plan.num_frames)
        latents = pipeline(**first).frames
        latents = self.upsample(
            latents=latents,
            adain_factor=self.stage.adain_factor,
            tone_map_compression_ratio=self.stage.tone_map_compression_ratio,
            output_type="latent",
        ).frames
        second = (
            arguments
            | {
                "width": 2 * width,
                "height": 2 * height,
                "latents": latents,
                "denoise_strength": self.stage.refine_strength,
                "callback_on_step_end": step_callback(progress, plan.steps, plan.first_stage_steps),
            }
            | refine_schedule(self.stage)
        )
        if images:
            second |= image_arguments(pipeline, images, 2 * width, 2 * height, plan.num_frames)
        return pipeline(**second).frames


class LTX2TwoStageRunner(TwoStageRunner):
    """LTX-2's upsampler (sharing the pipeline's video VAE) and the two calls around it."""

    upsample_pipeline = "LTX2LatentUpsamplePipeline"

    def run(
        self,
        pipeline: Any,
        arguments: dict[str, Any],
        images: ImageInput,
        small: tuple[int, int],
        plan: GenerationPlan,
        progress: ProgressCallback,
    ) -> Any:
        """Both stages; returns the second call's output (frames and waveform)."""
        width, height = small
        first = arguments | {
            "width": width,
            "height": height,
            "output_type": "latent",
            "callback_on_step_end": step_callback(progress, plan.steps),
        }
        if images:
            first |= image_arguments(pipeline, images, width, height, plan.num_frames)
        stage_one = pipeline(**first)
        latents = self.upsample(
            latents=stage_one.frames, adain_factor=self.stage.adain_factor, output_type="latent"
        ).frames
        second = arguments | {
            "width": 2 * width,
            "height": 2 * height,
            "latents": latents,
            "audio_latents": stage_one.audio,
            "sigmas": list(self.stage.refine_timesteps),
            "callback_on_step_end": step_callback(progress, plan.steps, plan.first_stage_steps),
        }
        second.pop("timesteps", None)
        if images:
            second |= image_arguments(pipeline, images, 2 * width, 2 * height, plan.num_frames)
        return pipeline(**second)
