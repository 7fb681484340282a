"""The torch device a backend runs on, from CLIPFORGE_DEVICE: one rule for every backend, and
which device each in-process worker of `clipforge serve --workers N` gets.

torch is imported inside the functions: the server shape decides its workers' devices
without loading torch until a worker loads its model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from clipforge.errors import ModelUnavailable

if TYPE_CHECKING:
    import torch


def resolve_device(name: str) -> torch.device:
    """`auto` is CUDA when available, else the CPU; anything else is a torch device string."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(name)
    except RuntimeError as exc:
        raise ModelUnavailable(f"CLIPFORGE_DEVICE={name!r} is not a torch device: {exc}") from exc


def visible_gpus() -> int:
    """CUDA devices this process sees (CUDA_VISIBLE_DEVICES applies); 0 without CUDA."""
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


@dataclass(frozen=True)
class DevicePlan:
    """One device string per worker, and what to tell the operator when workers share one."""

    devices: tuple[str, ...]
    note: str | None = None


def worker_devices(
    device: str, devices: str | None, workers: int, gpus: Callable[[], int] | None = None
) -> DevicePlan:
    """The device of each of `workers` in-process workers.

    CLIPFORGE_DEVICES (`devices`, e.g. "cuda:0,cuda:1") names them in turn. Otherwise a bare
    `cuda` (or `auto` on a CUDA machine) with several workers spreads them over the visible
    GPUs: worker i on cuda:i. Anything else (`cpu`, `cuda:1`, one worker) is every worker's.
    Workers beyond the devices share them, round robin, and the plan says so.
    """
    if workers < 1:
        return DevicePlan(())
    if devices:
        named = tuple(d.strip() for d in devices.split(",") if d.strip())
        for name in named:
            resolve_device(name)  # a typo refuses to start, naming the device
        return _spread(named, workers, "CLIPFORGE_DEVICES names")
    if workers == 1 or device not in ("cuda", "auto"):
        return DevicePlan((device,) * workers)
    count = (gpus or visible_gpus)()
    if count == 0:
        return DevicePlan((device,) * workers)  # `auto` on a CPU machine, or no GPU to spread on
    return _spread(tuple(f"cuda:{i}" for i in range(count)), workers, "there are")


def _spread(names: tuple[str, ...], workers: int, how: str) -> DevicePlan:
    chosen = tuple(names[i % len(names)] for i in range(workers))
    note = None
    if workers > len(names) and not all(n.startswith("cpu") for n in names):
        note = (
            f"{workers} workers but {how} {len(names)} device(s) ({', '.join(names)}): "
            "workers share devices, each loading its own copy of the model"
        )
    return DevicePlan(chosen, note)
