"""The built-in model's second generation (issue 30), built next to the shipped one.

A parser (`parser.py`: frozen MiniLM, small heads, an explicit colour lookup in the shipped
949-name table) reads the prompt into attributes and colour *values*; a layered generator
(`generator.py`) renders one object over a background from those attributes, frame by frame at
any frame count. Not wired into the backend yet: the switch-over waits for the weights to meet
the targets of issue 30 (see training/README.md).
"""
