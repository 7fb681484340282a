"""diffusers."""

import logging

# With the quantize extra installed, importing diffusers imports torchao, which logs that its
# CUDA kernels did not load (on any machine without them), that its tensor types cannot be
# serialised, and torch's notes on its enums: three warnings on every start that no operator can
# act on. A failed quantization still raises (quantize.py).
for _name in ("torchao", "diffusers.quantizers.torchao.torchao_quantizer", "torch.utils._pytree"):
    logging.getLogger(_name).setLevel(logging.ERROR)
