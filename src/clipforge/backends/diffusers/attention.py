"""CLIPFORGE_ATTENTION_BACKEND, checked against the model before any job runs.

A kernel that cannot serve the loaded model would fail every job, so `use_attention_backend`
refuses it at start with the reason: a kernel that takes no attention mask (flash-attn, FA3,
SageAttention, PyTorch's native flash) for a transformer that always passes one (LTX-Video's
cross-attention masks the prompt's padding), or any kernel that does not run here for the
model's head width, dtype and device (found by one small attention call through diffusers'
dispatcher, shaped as the model's cross-attention: `probe_inputs`). The backend is set on the
transformers' attention processors only: diffusers' process-wide default is put back, so
nothing else loaded in this process changes kernel.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import torch
from huggingface_hub import constants as hub_constants

from clipforge.errors import ModelUnavailable

MASK_REFUSING = frozenset(
    {
        "flash",
        "flash_hub",
        "flash_4_hub",
        "_flash_3",
        "_flash_3_hub",
        "aiter_fa2_hub",
        "_native_flash",
        "_native_xla",
        "sage",
        "sage_hub",
        "sage_blackwell_hub",
        "_sage_qk_int8_pv_fp8_cuda",
        "_sage_qk_int8_pv_fp8_cuda_sm90",
        "_sage_qk_int8_pv_fp16_cuda",
        "_sage_qk_int8_pv_fp16_triton",
    }
)
"""Backends whose diffusers 0.42 kernels raise on an attention mask (attention_dispatch.py)."""
MASK_TAKING = "native, _native_cudnn, _native_efficient, _native_math, flex, xformers"

MASKED_ATTENTION: Mapping[str, str] = MappingProxyType(
    {"LTXVideoTransformer3DModel": "its cross-attention always masks the prompt's padding"}
)
"""Transformer classes that pass an attention mask on every forward (checked by a test that
watches every attention call of each tiny model)."""
TEXT_TOKENS: Mapping[str, int] = MappingProxyType(
    {"LTXVideoTransformer3DModel": 256, "WanTransformer3DModel": 512}
)
"""Prompt tokens the cross-attention sees: the pipelines' `max_sequence_length` (diffusers
LTXConditionPipeline 256, WanPipeline 512)."""
PADDING_BIAS = -10000.0
"""What LTX's transformer adds at a padded prompt token (transformer_ltx.py)."""


def use_attention_backend(transformers: list[Any], backend: str, device: torch.device) -> None:
    """Set `backend` on every transformer's attention, or refuse it (ModelUnavailable)."""
    from diffusers.models.attention_dispatch import AttentionBackendName, _AttentionBackendRegistry

    known = {member.value for member in AttentionBackendName}
    setting = f"CLIPFORGE_ATTENTION_BACKEND={backend!r}"
    if backend not in known:
        raise ModelUnavailable(f"{setting} is not one of: {', '.join(sorted(known))}")
    if backend.endswith("_hub") and hub_constants.HF_HUB_OFFLINE:
        raise ModelUnavailable(
            f"{setting} downloads its kernel from the hub at run time, and HF_HUB_OFFLINE is "
            "set; pick an installed backend (flash, sage, _native_cudnn, _native_flash) or "
            "leave it unset"
        )
    for transformer in transformers:
        masked = MASKED_ATTENTION.get(type(transformer).__name__)
        if masked and backend in MASK_REFUSING:
            raise ModelUnavailable(
                f"{setting} takes no attention mask, and {type(transformer).__name__} passes "
                f"one ({masked}): every job would fail. Use one of {MASK_TAKING}, or leave it "
                "unset"
            )
    previous = _AttentionBackendRegistry._active_backend
    try:
        for transformer in transformers:
            _set(transformer, backend, setting)
            _probe(transformer, AttentionBackendName(backend), device, setting)
    finally:
        _AttentionBackendRegistry.set_active_backend(previous)


def active_backend(transformer: Any) -> str:
    """The kernel `transformer`'s attention runs ("native" when none was set)."""
    from diffusers.models.attention_dispatch import _AttentionBackendRegistry

    for module in transformer.modules():
        chosen = getattr(getattr(module, "processor", None), "_attention_backend", None)
        if chosen is not None:
            return str(getattr(chosen, "value", chosen))
    return str(_AttentionBackendRegistry._active_backend.value)


def _set(transformer: Any, backend: str, setting: str) -> None:
    try:
        transformer.set_attention_backend(backend)
    except Exception as exc:  # kernel not installed, wrong device, no context parallel
        raise ModelUnavailable(
            f"{setting} cannot be used here: {type(exc).__name__}: {exc}"
        ) from exc


def probe_inputs(transformer: Any, device: torch.device) -> tuple[torch.Tensor, ...]:
    """Query, key, value and mask of one cross-attention call shaped as `transformer` makes
    it: a batch of two (guidance), its heads, head width and dtype, fewer video tokens than
    prompt tokens; for LTX, the prompt's padding mask as its attention processor passes it
    to the kernel: (batch, heads, 1, prompt tokens), an additive bias in the model's dtype
    (0 kept, -10000 padded); None for Wan, which passes none."""
    config, dtype = transformer.config, transformer.dtype
    heads, head_dim = int(config.num_attention_heads), int(config.attention_head_dim)
    name = type(transformer).__name__
    text = TEXT_TOKENS.get(name, 128)
    q = torch.randn(2, 64, heads, head_dim, device=device, dtype=dtype)
    k, v = (torch.randn(2, text, heads, head_dim, device=device, dtype=dtype) for _ in "kv")
    if name not in MASKED_ATTENTION:
        return q, k, v
    kept = torch.arange(text, device=device) < torch.tensor([[12], [3]], device=device)
    bias = (~kept).to(dtype) * PADDING_BIAS  # the prompt and the empty negative prompt
    mask = bias[:, None, None, :].expand(2, heads, 1, text).contiguous()
    return q, k, v, mask


def _probe(transformer: Any, backend: Any, device: torch.device, setting: str) -> None:
    """One attention call as the model makes it (`probe_inputs`) through the kernel."""
    from diffusers.models.attention_dispatch import dispatch_attention_fn

    q, k, v, *mask = probe_inputs(transformer, device)
    masked = bool(mask)
    try:
        with torch.no_grad():
            dispatch_attention_fn(q, k, v, attn_mask=mask[0] if mask else None, backend=backend)
    except Exception as exc:
        transformer.reset_attention_backend()
        with_mask = " with its attention mask" if masked else ""
        raise ModelUnavailable(
            f"{setting} does not run here for {type(transformer).__name__} (head width "
            f"{q.shape[-1]}, {q.dtype}, on {device}{with_mask}): {type(exc).__name__}: {exc}"
        ) from exc
