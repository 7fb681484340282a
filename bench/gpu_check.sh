#!/usr/bin/env bash
# The one-shot GPU check (bench/gpu_check.py) on a machine with no network: installs the Python
# wheels carried in .whl/ (how to download them: bench/gpu_check.py's docstring) when an import
# fails, then runs the check. Run from the repository root; results under $OUT.
set -uo pipefail
PY=${PYTHON:-python3}
export OUT=${OUT:-/tmp/gpu-check} HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$OUT"
need='import torch, transformers, accelerate, safetensors, sentencepiece, diffusers, ftfy, pydantic, pydantic_settings'
if ! $PY -c "$need" 2>/dev/null; then
  if ls .whl/*.whl >/dev/null 2>&1; then
    $PY -m pip install -q --no-index --no-deps --no-compile --target /tmp/gpu-check-site .whl/*.whl
    export PYTHONPATH="/tmp/gpu-check-site:$PYTHONPATH"
  fi
  $PY -c "$need" || { echo "missing Python packages: bring them as wheels in .whl/" >&2; exit 3; }
fi
$PY -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda,
  torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU")' | tee "$OUT/env.txt"
exec $PY bench/gpu_check.py --out "$OUT" "$@"
