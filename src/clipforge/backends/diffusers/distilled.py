"""The few-step samplers step-distilled Wan models were trained with, as a diffusers scheduler.

Wan's pipelines call `scheduler.set_timesteps(n)` and then `scheduler.step(v, t, x)` once per
step; `DistilledFlowScheduler` answers with the published timesteps (or, for an operator's
smaller step count, their nearest subset: `profiles.nearest_subset`) and steps as the
distillation's own sampler does (`profiles.DistilledSampler`):

- re-noising (DMD: FastVideo's FastWan, LightX2V's Wan 2.1 4-step LoRAs): the clean latents
  x0 = x - sigma * v, then (1 - sigma') * x0 + sigma' * fresh noise; the last step is x0;
- Euler (Wan2.2-Lightning): x + (sigma' - sigma) * v, down to sigma 0.

The fresh noise comes from the scheduler's own generator, seeded per job (`reseed`), so a
seed gives the same clip on the same machine.
"""

from __future__ import annotations

from typing import Any

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.schedulers.scheduling_utils import SchedulerMixin

from clipforge.backends.diffusers.profiles import DistilledSampler, nearest_subset


def shifted(sigma: float, shift: float) -> float:
    """The flow-matching shift: shift * s / (1 + (shift - 1) * s)."""
    return shift * sigma / (1 + (shift - 1) * sigma)


def sigma_and_timestep(
    step: float, sampler: DistilledSampler, train_steps: int
) -> tuple[float, float]:
    """(sigma, the model's timestep) of one published step.

    Warped (LightX2V, Lightning): the step indexes the shifted 1000-entry table, so sigma is
    shift(step / 1000) and the model sees sigma * 1000. Otherwise (FastVideo) the model sees
    the step itself and sigma is the nearest entry of that shifted table."""
    if sampler.warp:
        sigma = shifted(step / train_steps, sampler.shift)
        return sigma, sigma * train_steps
    table = [shifted(i / train_steps, sampler.shift) for i in range(1, train_steps + 1)]
    sigma = min(table, key=lambda s: abs(s * train_steps - step))
    return sigma, step


class DistilledFlowScheduler(SchedulerMixin, ConfigMixin):  # type: ignore[misc]
    """A flow-matching scheduler with a fixed, published schedule (module docstring)."""

    order = 1

    @register_to_config  # type: ignore[misc]
    def __init__(
        self,
        published_timesteps: tuple[float, ...] = (1000.0, 750.0, 500.0, 250.0),
        shift: float = 5.0,
        warp: bool = True,
        renoise: bool = True,
        num_train_timesteps: int = 1000,
    ) -> None:
        self.sampler = DistilledSampler(tuple(published_timesteps), shift, warp, renoise)
        self.train_steps = num_train_timesteps
        self.generator: torch.Generator | None = None
        self._step_index: int | None = None
        self.set_timesteps(len(published_timesteps))

    def set_timesteps(
        self, num_inference_steps: int | None = None, device: Any = None, **_: Any
    ) -> None:
        """The published timesteps (their nearest subset for fewer steps)."""
        sampler = self.sampler
        steps = nearest_subset(sampler.timesteps, num_inference_steps)
        pairs = [sigma_and_timestep(s, sampler, self.train_steps) for s in steps]
        self.sigmas = torch.tensor([s for s, _ in pairs] + [0.0], dtype=torch.float32)
        self.timesteps = torch.tensor([t for _, t in pairs], dtype=torch.float32, device=device)
        self.num_inference_steps = len(steps)
        self._step_index = None

    def set_begin_index(self, begin_index: int = 0) -> None:
        self._step_index = begin_index

    def reseed(self, seed: int, device: torch.device) -> None:
        """The generator of the fresh noise between steps, seeded for one job."""
        self.generator = torch.Generator(device).manual_seed(seed + 1)

    def step(
        self,
        model_output: torch.Tensor,
        timestep: Any,
        sample: torch.Tensor,
        return_dict: bool = False,
        **_: Any,
    ) -> tuple[torch.Tensor]:
        index = self._step_index or 0
        sigma, after = float(self.sigmas[index]), float(self.sigmas[index + 1])
        velocity, latents = model_output.float(), sample.float()
        if self.sampler.renoise:
            stepped = latents - sigma * velocity
            if after > 0:
                noise = torch.randn(
                    stepped.shape, generator=self.generator, device=self._noise_device(stepped)
                ).to(stepped.device)
                stepped = (1 - after) * stepped + after * noise
        else:
            stepped = latents + (after - sigma) * velocity
        self._step_index = index + 1
        return (stepped.to(sample.dtype),)

    def _noise_device(self, like: torch.Tensor) -> torch.device:
        return self.generator.device if self.generator is not None else like.device

    def __len__(self) -> int:
        return self.train_steps
