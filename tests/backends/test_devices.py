"""Which device each in-process worker gets (`serve --workers N`), on the CPU with a faked
count of visible GPUs: the mapping itself, and the server's workers loading on their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipforge.backends import devices
from clipforge.backends.devices import worker_devices
from clipforge.backends.registry import BackendRegistry
from clipforge.backends.testpattern import TestPatternBackend
from clipforge.settings import Settings
from clipforge.wiring import build_server


def gpus(count: int):  # type: ignore[no-untyped-def]
    return lambda: count


def test_a_bare_cuda_spreads_the_workers_over_the_visible_gpus() -> None:
    plan = worker_devices("cuda", None, 2, gpus(2))
    assert plan.devices == ("cuda:0", "cuda:1") and plan.note is None
    assert worker_devices("auto", None, 3, gpus(4)).devices == ("cuda:0", "cuda:1", "cuda:2")


def test_fewer_gpus_than_workers_share_round_robin_and_say_so() -> None:
    plan = worker_devices("cuda", None, 3, gpus(2))
    assert plan.devices == ("cuda:0", "cuda:1", "cuda:0")
    assert plan.note is not None and "3 workers" in plan.note and "2 device(s)" in plan.note


def test_an_explicit_list_names_each_workers_device() -> None:
    plan = worker_devices("auto", "cuda:1, cuda:0", 2, gpus(0))
    assert plan.devices == ("cuda:1", "cuda:0") and plan.note is None
    short = worker_devices("auto", "cuda:1", 2, gpus(2))
    assert short.devices == ("cuda:1", "cuda:1") and short.note is not None


def test_one_worker_a_named_device_or_no_gpu_keep_the_device_as_it_is() -> None:
    assert worker_devices("cuda", None, 1, gpus(2)).devices == ("cuda",)
    assert worker_devices("cuda:1", None, 2, gpus(2)).devices == ("cuda:1", "cuda:1")
    cpu = worker_devices("auto", None, 2, gpus(0))
    assert cpu.devices == ("auto", "auto") and cpu.note is None
    assert worker_devices("cpu", "cpu,cpu", 4, gpus(2)).note is None  # CPUs share: no news
    assert worker_devices("cuda", None, 0, gpus(2)).devices == ()


def test_a_misspelt_device_in_the_list_refuses_to_start() -> None:
    with pytest.raises(Exception, match="cuda0"):
        worker_devices("auto", "cuda:0,cuda0", 2, gpus(2))


class DeviceBackend(TestPatternBackend):
    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.device = settings.device


def test_serve_with_two_workers_loads_each_on_its_own_gpu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(devices, "visible_gpus", gpus(2))
    registry = BackendRegistry()
    registry.register("testpattern", DeviceBackend)
    settings = Settings(data_dir=tmp_path, backend="testpattern", device="cuda", workers=2)
    server = build_server(settings, registry)
    try:
        loaded = [worker.warm.warm_up() for worker in server.pool.workers]
        assert [backend.device for backend in loaded] == ["cuda:0", "cuda:1"]  # type: ignore[attr-defined]
        assert server.devices.devices == ("cuda:0", "cuda:1")
    finally:
        server.store.close()
