"""The recipe that produces the built-in model's weights (run from the repository root:
`python -m training.v2_train`, `python -m training.eval`; see training/README.md)."""
