"""Time the v2 pipeline (parse + render) for a 480p 5 s request, warm, on this machine:

    python -m training.v2_speed [--short-side 240] [--frames 121]

The weights do not change the work done, so fresh modules serve when none are exported. The
generator candidates measured before choosing it are in `arch_timing.py`.
"""

from __future__ import annotations

import argparse
import time

import torch

from clipforge.backends.builtin.text import TextEncoder
from clipforge.backends.builtin.v2.generator import LayeredGenerator
from clipforge.backends.builtin.v2.heads import ParserHeads
from clipforge.backends.builtin.v2.parser import PromptParser
from clipforge.backends.builtin.v2.pipeline import V2Model

PROMPT = "a green circle falling down on a white background, the camera pans left"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--short-side", type=int, default=240)
    parser.add_argument("--frames", type=int, default=121)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = V2Model(PromptParser(TextEncoder(), ParserHeads()), LayeredGenerator().eval())
    width, height = args.short_side * 16 // 9 // 2 * 2, args.short_side
    for attempt in range(3):  # the first is the cold one
        started = time.perf_counter()
        parsed = model.parser.parse(PROMPT)
        parsed_at = time.perf_counter()
        model.render(parsed, False, attempt, width, height, args.frames)
        done = time.perf_counter()
        print(
            f"{width}x{height}x{args.frames}: parse {parsed_at - started:.2f} s, "
            f"render {done - parsed_at:.2f} s, total {done - started:.2f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
