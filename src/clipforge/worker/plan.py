"""What a worker checks a claimed job against before any model work, and what it writes into
the clip about the job."""

from __future__ import annotations

from clipforge.backends.base import Backend, GenerationPlan, ImageInput
from clipforge.errors import GenerationFailed
from clipforge.schemas import GenerationRequest
from clipforge.store.base import Claim


def check_plan(backend: Backend, request: GenerationRequest, images: ImageInput) -> GenerationPlan:
    """Refuse, before any model work, a request the backend cannot render as planned: its
    duration beyond the backend's longest clip, an image it takes none of, or a plan with
    nothing to render (a job-level failure naming why, instead of a crash inside the model).
    The API refuses these before a job exists; this catches a worker whose weights changed."""
    capabilities = backend.capabilities
    images.refuse_untaken(backend.name, capabilities)
    longest = capabilities.longest
    if request.seconds > longest:
        raise GenerationFailed(
            f"{backend.name} renders at most {longest} s; asked {request.seconds:g} s"
        )
    plan = backend.plan(request)
    if min(plan.width, plan.height, plan.num_frames, plan.steps) < 1 or plan.fps <= 0:
        raise GenerationFailed(f"{backend.name} planned nothing to render: {plan}")
    return plan


def draft_steps(backend: Backend, request: GenerationRequest) -> GenerationRequest:
    """A draft (Ark's preview) renders at 480p (`GenerationRequest.size`) and, where the
    backend takes a step count, with half its steps."""
    if not request.draft or not backend.capabilities.sampling_steps:
        return request
    plan = backend.plan(request)
    steps = max(1, plan.first_stage_steps // 2)  # a refining stage keeps its own
    return request.model_copy(update={"num_inference_steps": steps})


def job_metadata(claim: Claim, backend: str) -> dict[str, str]:
    """What the MP4 carries about the job that made it."""
    request = claim.job.request
    return {
        "clipforge_prompt": request.prompt,
        "clipforge_seed": str(request.seed),
        "clipforge_model": request.model,
        "clipforge_backend": backend,
        "clipforge_job_id": claim.job.id,
    }
