"""Context parallelism over the GPUs of one machine (diffusers' own ContextParallelConfig).

Every rank (one process per GPU, started by torchrun) holds the whole model and a slice of the
video's token sequence; attention exchanges the slices (Ulysses: all-to-all over heads, so the
head count must divide by the degree; ring: passes key/value blocks round the ring). Building
the config is plain logic, tested on a CPU; enabling it needs the process group. Not built
yet: a torchrun launcher in which rank 0 claims jobs and the other ranks follow its calls.
"""

from __future__ import annotations

from typing import Any

import torch

from clipforge.errors import ModelUnavailable


def parallel_degrees(kind: str, world_size: int, num_heads: int) -> dict[str, int]:
    """ContextParallelConfig's arguments for `kind` over `world_size` GPUs, checked."""
    if world_size < 2:
        raise ModelUnavailable(
            f"CLIPFORGE_CONTEXT_PARALLEL={kind} needs at least 2 processes (start the worker "
            f"under torchrun --nproc-per-node N); this process group has {world_size}"
        )
    if kind == "ulysses":
        if num_heads % world_size:
            raise ModelUnavailable(
                f"ulysses context parallelism splits the {num_heads} attention heads over "
                f"{world_size} GPUs, which does not divide; use a divisor of {num_heads} GPUs "
                "or CLIPFORGE_CONTEXT_PARALLEL=ring"
            )
        return {"ulysses_degree": world_size}
    if kind == "ring":
        return {"ring_degree": world_size}
    raise ModelUnavailable(f"CLIPFORGE_CONTEXT_PARALLEL={kind!r} is not one of: ulysses, ring")


def context_parallel_config(kind: str, world_size: int, num_heads: int) -> Any:
    """The diffusers ContextParallelConfig for `kind` (building it starts no processes)."""
    from diffusers import ContextParallelConfig

    return ContextParallelConfig(**parallel_degrees(kind, world_size, num_heads))


def enable_context_parallel(transformer: Any, kind: str, device: torch.device) -> None:
    """Shard `transformer`'s sequence over the torchrun process group."""
    distributed = torch.distributed
    if device.type != "cuda" or not distributed.is_available() or not distributed.is_initialized():
        raise ModelUnavailable(
            f"CLIPFORGE_CONTEXT_PARALLEL={kind} needs CUDA GPUs and an initialised process "
            "group: run the worker under torchrun (see docs/GPU.md)"
        )
    heads = int(transformer.config.num_attention_heads)
    config = context_parallel_config(kind, distributed.get_world_size(), heads)
    transformer.enable_parallelism(config=config)
