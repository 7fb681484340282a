"""LoRA adapters a request names that the workers could not load: a 400 before a job exists.

Which names a model takes is settled by `routing/loras.py` (`ModelRouting.loras`) from the
declarations alone. Whether one loaded is known only where a worker holds the model: each
reports its adapters with its presence (`store/presence.py`), and a name any live worker of
the model failed to load is refused here, naming the field; the reason (which may name the
operator's files) is for `/readyz` and `clipforge models`, not for the client.
"""

from __future__ import annotations

import time

from clipforge.api.deps import Services
from clipforge.errors import InvalidField
from clipforge.schemas import GenerationRequest


async def refuse_failed_adapters(
    services: Services, request: GenerationRequest, field: str = "loras"
) -> None:
    """InvalidField for the first adapter of `request` a live worker failed to load."""
    if not request.loras:
        return
    weights = services.models.require(request.model).weights
    since = time.time() - services.settings.lease_seconds
    workers = await services.call(services.store.workers_seen_since, since)
    failed = {
        name for worker in workers if worker.model == weights for name in worker.failed_adapters
    }
    for index, choice in enumerate(request.loras):
        if choice.name in failed:
            raise InvalidField(
                f"{field}[{index}].name",
                f"LoRA adapter {choice.name!r} failed to load on this server's workers "
                f"(model {request.model!r}); the operator's /readyz says why",
            )
