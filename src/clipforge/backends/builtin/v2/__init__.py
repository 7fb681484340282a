"""The built-in model (second generation, issue 30), served by `../backend.py`.

A parser (`parser.py`: frozen MiniLM, small heads, an explicit colour lookup in the shipped
949-name table) reads the prompt into attributes and colour *values*; the generator
(`generator.py`) draws one object over a background from them, frame by frame at any frame
count, along a learnt track; `frames.py` starts and ends a clip on given images. The model
card is `weights/MODEL_CARD.md`.
"""
