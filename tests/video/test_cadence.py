"""The output timeline per native rate: hold, native or interpolate; never a cross-fade."""

from __future__ import annotations

import pytest

from clipforge.video.cadence import plan_cadence


@pytest.mark.parametrize(
    "native, seconds, asked, mode, expected",
    [
        (81, 5, 121, "native", (16, 81, "native")),  # Wan 2.1 / A14B: upstream's 16 fps
        (161, 10, 241, "native", (16, 161, "native")),
        (81, 5, 121, "interpolate", (24, 121, "interpolate")),
        (121, 5, 121, "native", (24, 121, "hold")),  # LTX, Wan 2.2 TI2V 5B: 24 fps
        (41, 5, 121, "interpolate", (24, 121, "hold")),  # test pattern: 8 fps, 3 x each
        (16, 5, 121, "native", (24, 121, "hold")),  # built-in model: 3 fps, held
        (151, 5, 121, "interpolate", (30, 151, "native")),  # a 30 fps model is never dropped
        (1, 5, 121, "native", (24, 121, "hold")),
    ],
)
def test_cadence_per_native_rate(
    native: int, seconds: float, asked: int, mode: str, expected: tuple
) -> None:
    cadence = plan_cadence(native, seconds, asked, mode)  # type: ignore[arg-type]
    assert (cadence.fps, cadence.frames, cadence.how) == expected


def test_a_native_file_lasts_the_clip() -> None:
    assert plan_cadence(81, 5, 121).seconds == 5.0


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="blend"):
        plan_cadence(81, 5, 121, "blend")  # type: ignore[arg-type]
