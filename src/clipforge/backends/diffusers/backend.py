"""`diffusers`: open-weight video models (Wan 2.1/2.2, LTX-Video, ...) through diffusers.

The pipeline is loaded once from `settings.model` (a catalogue name, a folder or a hub id; see
`loading`), with the speed options applied (`options`), and kept warm.
What differs between models is data (`rules.ModelFamily`): the catalogue entry the
weights' configs identify, else the generic family of the pipeline class, else one derived from
the VAE's scale factors. Each call follows `sampling`; LTX-Video 0.9.7 distilled runs
its two-stage recipe when its latent upsampler is present (`two_stage`).
"""

from __future__ import annotations

import gc
from typing import Any

import torch

from clipforge.backends.base import (
    NO_IMAGES,
    Backend,
    Clip,
    GenerationPlan,
    ImageInput,
    ProgressCallback,
    Reading,
)
from clipforge.backends.devices import resolve_device
from clipforge.backends.diffusers.adapters import Adapters
from clipforge.backends.diffusers.catalog import capabilities_of
from clipforge.backends.diffusers.families import detect_family
from clipforge.backends.diffusers.inputs import augment_prompt, check_images, native_frame_count
from clipforge.backends.diffusers.loading import (
    load_pipeline,
    load_upsampler,
    resolve_dtype,
)
from clipforge.backends.diffusers.memory import DecodeMemory, MemoryPlan, expandable_segments
from clipforge.backends.diffusers.options import SpeedOptions, apply_options, reset_step_caches
from clipforge.backends.diffusers.profiles import Profile, nearest_subset, step_count
from clipforge.backends.diffusers.quantize import quantize_transformers
from clipforge.backends.diffusers.recipes import (
    MagCacheHooks,
    apply_profile,
    prepare_profile,
    reseed_sampler,
)
from clipforge.backends.diffusers.rules import CatalogEntry, ModelFamily
from clipforge.backends.diffusers.sampling import (
    Rendered,
    audio_rate,
    call_pipeline,
    guidance_arguments,
    image_arguments,
    image_pipeline,
    mono_waveform,
    quiet_published_timesteps,
    set_flow_shift,
    step_callback,
    uint8_frames,
)
from clipforge.backends.diffusers.two_stage import (
    LTX2TwoStageRunner,
    TwoStageRunner,
    stage_one_size,
)
from clipforge.backends.geometry import native_size
from clipforge.errors import ClipForgeError, GenerationFailed, ModelUnavailable, WorkerFailure
from clipforge.placeholders import resolve_placeholders
from clipforge.schemas import GenerationRequest
from clipforge.settings import Settings


class DiffusersBackend(Backend):
    """Any diffusers video pipeline, loaded once and kept warm on one device."""

    name = "diffusers"

    def __init__(
        self,
        pipeline: Any,
        settings: Settings,
        device: torch.device,
        entry: CatalogEntry | None = None,
        rules: ModelFamily | None = None,
        upsampler: Any = None,
        profile: Profile | None = None,
        adapters: Adapters | None = None,
    ) -> None:
        self._pipeline: Any = pipeline
        if adapters is None:
            adapters = Adapters.from_settings(pipeline, settings)
            adapters.warm()
        self.adapters = adapters
        """The LoRA adapters declared for these weights (`adapters`), loaded and warm."""
        self.settings = settings
        self.device = device
        self.entry = entry
        self.profile = profile
        """The sampling profile (`profiles`) the weights were loaded with, if one was named."""
        family = detect_family(pipeline, rules or (entry.rules if entry else None))
        self.capabilities = capabilities_of(family, entry, profile)
        """What the API's routing says these weights can do (`catalog.capabilities_of`)."""
        self.family = family = profile.applied_to(family) if profile else family
        self.schedule = (
            profile.schedule if profile and profile.schedule else family.timesteps or family.sigmas
        )
        """The published timesteps the model samples (empty: its scheduler's own)."""
        cache = profile.magcache if profile else None
        self._magcache = MagCacheHooks(pipeline, cache) if cache else None
        runner = LTX2TwoStageRunner if family.audio else TwoStageRunner
        self.two_stage = (
            runner(pipeline, upsampler, family.two_stage, device)
            if upsampler is not None and family.two_stage is not None
            else None
        )
        self._image_pipeline: Any = None
        self._schedulers: dict[float, Any] = {}
        if self.schedule:
            quiet_published_timesteps()
        self.memory = DecodeMemory(pipeline, device, settings.vae_tiling, settings.device_memory_gb)
        pipeline.set_progress_bar_config(disable=True)

    @classmethod
    def from_settings(cls, settings: Settings) -> DiffusersBackend:
        """Load settings.model (catalogue name, folder or hub id) in settings.dtype, in place
        on settings.device unless offload is asked for, then apply the speed options."""
        options = SpeedOptions.from_settings(settings)  # a bad option fails before loading
        device = resolve_device(settings.device)
        weights, profile, quantize = prepare_profile(settings, options, device)
        dtype = resolve_dtype(settings.dtype, device)
        in_place = options.offload == "none" or device.type == "cpu"
        if device.type == "cuda":
            expandable_segments()
        pipeline = load_pipeline(weights, dtype, device if in_place else None)
        rules = weights.rules
        upsampler = None
        if rules is not None and rules.two_stage is not None:
            upsampler = load_upsampler(weights, rules.two_stage, dtype)
        apply_profile(pipeline, profile)  # fused LoRA weights are what gets quantized
        quantize_transformers(pipeline, quantize)
        adapters = Adapters.from_settings(pipeline, settings)
        adapters.warm()  # before compiling: fused weights and LoRA layers are what compiles
        apply_options(pipeline, options, device)
        return cls(pipeline, settings, device, weights.entry, rules, upsampler, profile, adapters)

    @property
    def pipeline(self) -> Any:
        """The loaded diffusers pipeline; ModelUnavailable after close()."""
        if self._pipeline is None:
            raise ModelUnavailable("the diffusers backend was closed")
        return self._pipeline

    def native_tier(self, request: GenerationRequest) -> int:
        """The model's native short side for the request's resolution (480p renders at 480
        where the model has a 480p size)."""
        return self.family.short_side_for(str(request.resolution.value))

    def plan(self, request: GenerationRequest) -> GenerationPlan:
        """Native size with the request's aspect ratio, a valid frame count, the step count."""
        family, settings = self.family, self.settings
        short_side = self._short_side(request)
        if self.settings.native_short_side is None or family.bucket_bases:
            width, height = family.tier_size(request.size, short_side)
        else:  # an operator's short side is a short side
            width, height = native_size(*request.size, short_side, family.size_multiple)
        frames = native_frame_count(request.seconds, family, settings.native_max_frames)
        steps, refine = self._steps(request), 0
        if self.two_stage is not None:
            small = stage_one_size(request.size, short_side, family)
            width, height = 2 * small[0], 2 * small[1]
            refine = self.two_stage.stage.refine_steps
        return GenerationPlan(width, height, frames, family.fps, steps + refine, refine)

    def generate(
        self, request: GenerationRequest, progress: ProgressCallback, images: ImageInput = NO_IMAGES
    ) -> Clip:
        """Run the pipeline; progress(step, total) after each step; frames come out lazily."""
        check_images(self.family, self.capabilities, images)
        plan = self.plan(request)
        memory = self.memory_plan(plan)
        if memory.decode == "refuse":
            raise GenerationFailed(f"the clip does not fit {self.device}: {memory.line()}")
        self.adapters.activate(request.loras)
        progress = self.memory.apply(memory, progress)
        if self._magcache is not None:
            self._magcache.prepare(self._steps(request))
        reset_step_caches(self.pipeline)
        reseed_sampler(self.pipeline, request.seed, self.device)
        try:
            with torch.inference_mode():
                video = self._render(request, plan, progress, images)
        except ClipForgeError:
            raise  # JobCancelled from progress(): nothing is decoded after a cancel
        except torch.cuda.OutOfMemoryError as exc:
            raise WorkerFailure(f"out of device memory on {self.device}: {exc}") from exc
        except Exception as exc:
            raise GenerationFailed(f"the pipeline failed: {type(exc).__name__}: {exc}") from exc
        finally:
            self.memory.restore()
        width, height, count, frames = uint8_frames(video.frames)
        clip = Clip(width, height, plan.fps, count, frames)
        if request.generate_audio and video.audio is not None:
            clip.audio, clip.sample_rate = mono_waveform(video.audio), audio_rate(self.pipeline)
        return clip

    def _render(
        self,
        request: GenerationRequest,
        plan: GenerationPlan,
        progress: ProgressCallback,
        images: ImageInput,
    ) -> Any:
        pipeline = self._pipeline_for(images)
        arguments = self.call_arguments(request, plan, progress, pipeline)
        set_flow_shift(pipeline, self.family.shift_for(self.native_tier(request)), self._schedulers)
        if self.two_stage is not None:
            small = stage_one_size(request.size, self._short_side(request), self.family)
            output = self.two_stage.run(pipeline, arguments, images, small, plan, progress)
            return Rendered.of(output) if self.family.audio else Rendered(output)
        if images:
            arguments |= image_arguments(pipeline, images, plan.width, plan.height, plan.num_frames)
        if images.references:  # @Image1... as plain words (the job's `reading` says so too)
            arguments["prompt"] = resolve_placeholders(arguments["prompt"], len(images.references))
        if self.family.bucket_bases and hasattr(pipeline, "target_size"):
            # HunyuanVideo 1.5 image-to-video sizes the clip from the image at this base.
            pipeline.target_size = self.family.bucket_base(self._short_side(request))
        return call_pipeline(pipeline, arguments)

    def _short_side(self, request: GenerationRequest) -> int:
        return self.settings.native_short_side or self.native_tier(request)

    def _pipeline_for(self, images: ImageInput) -> Any:
        if not images:
            return self.pipeline
        if self._image_pipeline is None:
            self._image_pipeline = image_pipeline(self.pipeline)
        return self._image_pipeline

    def call_arguments(
        self,
        request: GenerationRequest,
        plan: GenerationPlan,
        progress: ProgressCallback,
        pipeline: Any = None,
    ) -> dict[str, Any]:
        """The keyword arguments `pipeline` (default: the loaded one) is called with."""
        pipeline = self.pipeline if pipeline is None else pipeline
        family = self.family
        arguments: dict[str, Any] = {
            "prompt": augment_prompt(request.prompt, request.camera_fixed),
            "width": plan.width,
            "height": plan.height,
            "num_frames": plan.num_frames,
            "num_inference_steps": self._steps(request),
            "generator": torch.Generator(self.device).manual_seed(request.seed),
            "output_type": "pt",
            "callback_on_step_end": step_callback(progress, plan.steps),
        }
        published = family.timesteps or family.sigmas
        if published:  # handed to the pipeline (LTX distilled, LTX-2 distilled); nearest subset
            key = "timesteps" if family.timesteps else "sigmas"
            arguments[key] = list(nearest_subset(published, self._steps(request)))
        negative = self._negative_prompt(request)
        if negative is not None:
            arguments["negative_prompt"] = negative
        guidance = request.guidance_scale
        if guidance is None:
            guidance = self.settings.guidance_scale
        arguments |= guidance_arguments(pipeline, family, guidance)
        if family.fps_argument is not None:
            arguments[family.fps_argument] = family.fps
        return arguments | dict(family.extra_arguments)

    def interpret(self, request: GenerationRequest) -> Reading:
        """The prompt the pipeline receives (with the camera-fixed suffix) and its negative
        prompt (the request's, else the model's published one)."""
        prompt = augment_prompt(request.prompt, request.camera_fixed)
        return Reading(
            resolve_placeholders(prompt, len(request.reference_images)),
            self._negative_prompt(request),
            memory=self.memory_plan(self.plan(request)).as_dict(),
        )

    def memory_plan(self, plan: GenerationPlan) -> MemoryPlan:
        """How the decode of `plan`'s clip fits the device (`memory`)."""
        return self.memory.plan(plan.num_frames, plan.height, plan.width)

    def _steps(self, request: GenerationRequest) -> int:
        asked = request.num_inference_steps or self.settings.num_inference_steps
        return step_count(asked, self.schedule, self.family.steps)

    def _negative_prompt(self, request: GenerationRequest) -> str | None:
        if request.negative_prompt is not None:
            return request.negative_prompt
        return self.family.negative_prompt

    def adapter_status(self) -> dict[str, str | None]:
        return self.adapters.status()

    def close(self) -> None:
        """Drop the pipeline and give its device memory back."""
        self._pipeline = self._image_pipeline = self.two_stage = None
        self._schedulers.clear()
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
